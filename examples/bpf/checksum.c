/* RFC 1071 Internet checksum over the whole input (odd trailing byte padded with zero), and a
 * second program in its own section folding the same sum over only the first 20 bytes (an IPv4
 * header's worth, or fewer when the input is shorter), and a plain byte sum sharing the first
 * program's section. */
#include "bpf_shim.h"

static inline u64 fold(u64 sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (u16)~sum;
}

SEC("socket") u64 checksum(const u8 *data, u64 len) {
  u64 sum = 0, i;
  for (i = 0; i + 1 < len; i += 2) sum += ((u64)data[i] << 8) | data[i + 1];
  if (i < len) sum += (u64)data[i] << 8;
  return fold(sum);
}

SEC("socket/header") u64 header_checksum(const u8 *data, u64 len) {
  u64 sum = 0, n = len < 20 ? len : 20;
  for (u64 i = 0; i < n; i++) sum += (i & 1) ? data[i] : (u64)data[i] << 8;
  return fold(sum);
}

/* A second program in the same section: the loader splits sections by function symbol. */
SEC("socket") u64 byte_sum(const u8 *data, u64 len) {
  u64 sum = 0;
  for (u64 i = 0; i < len && i < 4096; i++) sum += data[i];
  return sum;
}

#define NATIVE_PROGRAMS(X) X(checksum) X(header_checksum) X(byte_sum)
#include "native_main.h"
