// Small leaf functions compiled by aarch64-linux-gnu-gcc -O2 -march=armv8.1-a -mgeneral-regs-only (scripts/oracles/
// emu-arm64.py qemu): what gcc emits for integer code, run on qemu-aarch64 and on jitbox's core.
#include <stdint.h>

uint64_t fib(uint64_t n) {
  uint64_t a = 0, b = 1;
  while (n--) { uint64_t t = a + b; a = b; b = t; }
  return a;
}

uint64_t gcd(uint64_t a, uint64_t b) {
  while (b) { uint64_t t = a % b; a = b; b = t; }
  return a;
}

uint64_t collatz(uint64_t n) {
  uint64_t steps = 0;
  while (n > 1 && steps < 100000) { n = (n & 1) ? 3 * n + 1 : n >> 1; steps++; }
  return steps;
}

uint64_t mix64(uint64_t x, uint64_t rounds) {
  for (uint64_t i = 0; i < rounds; i++) {
    x ^= x >> 33; x *= 0xff51afd7ed558ccdull; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ull; x ^= x >> 33;
  }
  return x;
}

int64_t sdiv_mix(int64_t a, int64_t b, int32_t c, int32_t d) {
  int64_t q = b ? a / b : 0;
  int32_t r = d ? c % d : 0;
  return q * 3 + r + (int64_t)((__int128)a * b >> 64);
}

static uint64_t popcount(uint64_t x) {
  uint64_t n = 0;
  while (x) { x &= x - 1; n++; }
  return n;
}

uint64_t bits(uint64_t x, uint64_t y) {
  uint64_t r = popcount(x) + __builtin_clzll(x | 1) + __builtin_ctzll(y | 0x8000000000000000ull);
  r += __builtin_bswap64(x) ^ __builtin_bswap32((uint32_t)y);
  r += ((x >> 13) & 0x3ff) + ((y >> 37) & 0xfffff);
  return r ^ (uint64_t)((int64_t)(int8_t)x) ^ (uint64_t)(int16_t)(y >> 3);
}

uint64_t minmax(uint64_t a, uint64_t b, uint64_t c) {
  uint8_t v8 = (uint8_t)a; uint16_t v16 = (uint16_t)a; uint32_t v32 = (uint32_t)a, u32 = (uint32_t)c; uint64_t v64 = a;
  uint64_t o1, o2, o3, o4, o5;
  __asm__ volatile("lduminalb %w1, %w0, %2" : "=&r"(o1) : "r"(b), "Q"(v8) : "memory");
  __asm__ volatile("ldsmaxah %w1, %w0, %2" : "=&r"(o2) : "r"(b), "Q"(v16) : "memory");
  __asm__ volatile("ldsminl %w1, %w0, %2" : "=&r"(o3) : "r"(c), "Q"(v32) : "memory");
  __asm__ volatile("ldumax %w1, %w0, %2" : "=&r"(o4) : "r"(b), "Q"(u32) : "memory");
  __asm__ volatile("ldsmax %1, %0, %2" : "=&r"(o5) : "r"(c), "Q"(v64) : "memory");
  uint64_t x = a;
  __atomic_fetch_add(&x, b, __ATOMIC_SEQ_CST);
  __atomic_compare_exchange_n(&x, &c, 7, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return v8 + ((uint64_t)v16 << 8) + ((uint64_t)v32 << 24) + v64 * 5 + x * 7 + c + (o1 ^ o2 ^ o3 ^ o4 ^ o5) + u32 * 3;
}

uint64_t sum_array(uint64_t n, uint64_t seed) {
  uint32_t arr[64];
  for (uint64_t i = 0; i < 64; i++) { seed = seed * 6364136223846793005ull + 1442695040888963407ull; arr[i] = (uint32_t)(seed >> 29); }
  uint64_t s = 0;
  for (uint64_t i = 0; i < n && i < 64; i++) s += arr[i] * (i + 1) - (arr[(i * 7) & 63] >> 3);
  return s;
}
