// qemu-aarch64 oracle harness for the arm64 emulator (built by scripts/oracles/emu-arm64.py qemu):
// maps the code given as hex, zeroes x8-x17, loads x0-x7 from the arguments, calls the code as an
// AAPCS64 function and prints x0-x17 after it returns, one "0x%016lx" per line.
// Usage: emu-arm64-harness <hex code> [arg0 .. arg7]
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  size_t n = strlen(argv[1]) / 2;
  uint8_t *code = mmap(0, 65536, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) return 3;
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    sscanf(argv[1] + 2 * i, "%2x", &v);
    code[i] = (uint8_t)v;
  }
  __builtin___clear_cache((char *)code, (char *)code + n);
  uint64_t regs[18] = {0};
  for (int i = 2; i < argc && i < 10; i++) regs[i - 2] = strtoull(argv[i], 0, 0);
  __asm__ volatile(
      "mov x19, %0\n"
      "mov x20, %1\n"
      "ldp x0, x1, [x19]\n ldp x2, x3, [x19, #16]\n ldp x4, x5, [x19, #32]\n ldp x6, x7, [x19, #48]\n"
      "mov x8, #0\n mov x9, #0\n mov x10, #0\n mov x11, #0\n mov x12, #0\n"
      "mov x13, #0\n mov x14, #0\n mov x15, #0\n mov x16, #0\n mov x17, #0\n"
      "blr x20\n"
      "stp x0, x1, [x19]\n stp x2, x3, [x19, #16]\n stp x4, x5, [x19, #32]\n stp x6, x7, [x19, #48]\n"
      "stp x8, x9, [x19, #64]\n stp x10, x11, [x19, #80]\n stp x12, x13, [x19, #96]\n stp x14, x15, [x19, #112]\n"
      "stp x16, x17, [x19, #128]\n"
      :
      : "r"(regs), "r"(code)
      : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16",
        "x17", "x18", "x19", "x20", "x30", "memory", "cc");
  for (int i = 0; i < 18; i++) printf("0x%016lx\n", (unsigned long)regs[i]);
  return 0;
}
