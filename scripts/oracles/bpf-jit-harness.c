/* Native harness for the BPF JITs (scripts/oracles/bpf-jit-harness.mjs), one source for both arches:
 * x86_64 built with the host cc and run on the host CPU; arm64 built with aarch64-linux-gnu-gcc
 * -static and run under qemu-aarch64. Each stdin line is "<image hex> <mem hex or ->"; the image is
 * copied into an mmap'd page (rest filled with int3 on x86_64, zero on arm64), on arm64 the I-cache
 * is cleaned (__builtin___clear_cache: DC CVAU / IC IVAU, as flush_icache_range), the page is made
 * RX (never RWX) and called as fn(mem, len, bpf_stack_top): the JITs' entry convention (x86_64
 * rdi = r1, rsi = r2, rdx = r10; arm64 x0 = r1, x1 = r2, x2 = the BPF stack top, taken by r10 = x25).
 * One line "<r0 hex> <mem hex after or ->" is printed per image. Only helper-free, call-free images
 * built without runtime memory checks are position independent and run here. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__aarch64__)
#define FILL 0x00
#elif defined(__x86_64__)
#define FILL 0xcc
#else
#error "bpf-jit-harness.c runs x86_64 or arm64 JIT images"
#endif

static unsigned char stack_area[8 * 512] __attribute__((aligned(16)));

static size_t unhex(const char *s, unsigned char *out) {
  size_t n = 0;
  if (s[0] == '-') return 0;
  while (s[0] && s[1] && s[0] != ' ' && s[0] != '\n') {
    unsigned v;
    sscanf(s, "%2x", &v);
    out[n++] = (unsigned char)v;
    s += 2;
  }
  return n;
}

int main(void) {
  static char line[1 << 20];
  static unsigned char image[1 << 18], mem[1 << 16];
  size_t page = 1 << 18;
  while (fgets(line, sizeof line, stdin)) {
    char *sp = strchr(line, ' ');
    if (!sp) return 2;
    *sp = 0;
    size_t n = unhex(line, image);
    size_t len = unhex(sp + 1, mem);
    void *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 3;
    memset(p, FILL, page);
    memcpy(p, image, n);
#if defined(__aarch64__)
    __builtin___clear_cache((char *)p, (char *)p + n);
#endif
    if (mprotect(p, page, PROT_READ | PROT_EXEC) != 0) return 4;
    memset(stack_area, 0, sizeof stack_area);
    uint64_t (*fn)(void *, uint64_t, void *) = (uint64_t (*)(void *, uint64_t, void *))p;
    uint64_t r0 = fn(len ? mem : NULL, len, stack_area + sizeof stack_area);
    printf("%016llx ", (unsigned long long)r0);
    if (len == 0) printf("-");
    for (size_t i = 0; i < len; i++) printf("%02x", mem[i]);
    printf("\n");
    fflush(stdout);
    munmap(p, page);
  }
  return 0;
}
