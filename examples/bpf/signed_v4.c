/* cpu v4 only: signed division and modulo (sdiv/smod), sign-extending loads (ldsx) and moves
 * (movsx), and byte swaps (bswap). Reads the input as pairs (s16 dividend, s8 divisor), skipping
 * zero divisors and the INT16_MIN / -1 pair, and returns a mix of quotients, remainders and a
 * byte-swapped accumulator. */
#include "bpf_shim.h"

SEC("socket") u64 signed_mix(const u8 *data, u64 len) {
  s64 q = 0, r = 0;
  u32 acc = 0x12345678;
  if (len > 300) len = 300;
  for (u64 i = 0; i + 3 <= len; i += 3) {
    s16 a = *(const s16 *)(data + i);
    s8 b = *(const s8 *)(data + i + 2);
    if (b == 0 || (a == -32768 && b == -1)) continue;
    s32 wa = a, wb = b;
    q += wa / wb;
    r += ((s64)a * 1000003) % (s64)b;
    acc = __builtin_bswap32(acc ^ (u32)(s32)(s8)(q & 0xff));
  }
  u16 h = __builtin_bswap16((u16)r);
  return ((u64)(u32)(s32)q << 32) ^ ((u64)h << 16) ^ (u64)__builtin_bswap64((u64)acc);
}

#define NATIVE_PROGRAMS(X) X(signed_mix)
#include "native_main.h"
