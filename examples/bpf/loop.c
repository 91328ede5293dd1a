/* Bounded loops and bpf-to-bpf calls: the input as little-endian u32 words; returns
 * (sum of the words << 32) | total popcount, where popcount (static) and word_at (global) are
 * noinline subprograms in .text; popcount reads a nibble table from .rodata. */
#include "bpf_shim.h"

static const u8 nibble_bits[16] = {0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4};

NOINLINE u32 popcount(u32 x) {
  u32 n = 0;
  for (int i = 0; i < 8; i++) {
    n += nibble_bits[x & 0xf];
    x >>= 4;
  }
  return n;
}

/* Global (not static): clang relocates calls to it against its own symbol, not against .text. */
__attribute__((noinline)) u32 word_at(const u8 *p) {
  return (u32)p[0] | ((u32)p[1] << 8) | ((u32)p[2] << 16) | ((u32)p[3] << 24);
}

SEC("socket") u64 sum_popcount(const u8 *data, u64 len) {
  u32 sum = 0, bits = 0;
  for (u64 i = 0; i + 4 <= len && i < 4096; i += 4) {
    u32 w = word_at(data + i);
    sum += w;
    bits += popcount(w);
  }
  return ((u64)sum << 32) | bits;
}

#define NATIVE_PROGRAMS(X) X(sum_popcount)
#include "native_main.h"
