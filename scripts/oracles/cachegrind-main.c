// Driver of the Cachegrind agreement check (scripts/oracles/cachegrind.mjs):
//   cachegrind-main N STRIDE REPS MODE DATA_OFFSET
// calls cg_kernel once through cg_run on data = CG_DATA + DATA_OFFSET with the stack top at
// CG_STACK_TOP. Both areas are fresh anonymous mappings at fixed addresses, untouched before the
// call, so every line the kernel touches is cold when it starts (as after MemoryHierarchy.flush()).
// (Not BSS: Valgrind 3.19 drops the symbol table of an executable whose BSS segment is 64 KiB
// aligned, and the per-function counts need cg_kernel's name.)
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define CG_DATA 0x10000000UL
#define CG_DATA_SIZE (4UL << 20)
#define CG_STACK 0x11000000UL
#define CG_STACK_TOP (CG_STACK + 32768)

extern long cg_run(char *data, long n, long stride, long reps, long mode, char *stack_top);

static void *map_at(unsigned long addr, unsigned long size) {
  void *p = mmap((void *)addr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p != (void *)addr) {
    perror("mmap");
    exit(3);
  }
  return p;
}

int main(int argc, char **argv) {
  if (argc != 6) return 2;
  long n = atol(argv[1]), stride = atol(argv[2]), reps = atol(argv[3]), mode = atol(argv[4]), off = atol(argv[5]);
  char *data = map_at(CG_DATA, CG_DATA_SIZE);
  map_at(CG_STACK, 65536);
  long r = cg_run(data + off, n, stride, reps, mode, (char *)CG_STACK_TOP);
  printf("%lx\n", r);
  return 0;
}
