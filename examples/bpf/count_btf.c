/* Map counting with BTF-defined maps (kernel profile; built with -g): a hash map counts input
 * bytes by high nibble, an array map keeps running totals across runs of the same maps. Then the
 * program finds the most frequent nibble, deletes bucket 0, logs through bpf_trace_printk and
 * returns (distinct buckets << 48) | (most frequent nibble << 32) | its count. */
#include "bpf_shim.h"

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16);
  __type(key, u32);
  __type(value, u64);
} nibbles SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2);
  __type(key, u32);
  __type(value, u64);
} totals SEC(".maps");

SEC("socket") u64 count_nibbles(const u8 *data, u64 len) {
  u64 one = 1;
  if (len > 512) len = 512;
  for (u64 i = 0; i < len; i++) {
    u32 key = data[i] >> 4;
    u64 *v = bpf_map_lookup_elem(&nibbles, &key);
    if (v) *v += 1;
    else bpf_map_update_elem(&nibbles, &key, &one, BPF_NOEXIST);
  }
  u32 k0 = 0, k1 = 1;
  u64 *t = bpf_map_lookup_elem(&totals, &k0);
  if (t) *t += len;
  u64 best = 0, bestkey = 0, distinct = 0;
  for (u32 k = 0; k < 16; k++) {
    u64 *v = bpf_map_lookup_elem(&nibbles, &k);
    if (!v) continue;
    distinct++;
    if (*v > best) { best = *v; bestkey = k; }
  }
  u64 deleted = bpf_map_delete_elem(&nibbles, &k0) == 0;
  u64 *d = bpf_map_lookup_elem(&totals, &k1);
  if (d) *d += deleted;
  char fmt[] = "distinct %d best %x\n";
  bpf_trace_printk(fmt, sizeof(fmt), (int)distinct, (u32)bestkey);
  return (distinct << 48) | (bestkey << 32) | best;
}

#define NATIVE_PROGRAMS(X) X(count_nibbles)
#include "native_main.h"
