/* Map counting with a legacy `maps` section (struct bpf_map_def, as iproute2 and old libbpf) and
 * global data: an array map of input bytes modulo 8, each adding its weight from a .rodata table, and a .data
 * counter of runs. Returns the weighted sum plus the run counter. */
#define MAP_DESC(m) (m)->type, (m)->key_size, (m)->value_size, (m)->max_entries
#include "bpf_shim.h"

struct bpf_map_def SEC("maps") histogram = {
  .type = BPF_MAP_TYPE_ARRAY,
  .key_size = sizeof(u32),
  .value_size = sizeof(u64),
  .max_entries = 8,
};

static volatile u64 runs = 100;
static const u64 weights[8] = {1, 3, 7, 15, 31, 63, 127, 255};

SEC("socket") u64 histogram_sum(const u8 *data, u64 len) {
  if (len > 256) len = 256;
  for (u64 i = 0; i < len; i++) {
    u32 key = data[i] & 7;
    u64 *v = bpf_map_lookup_elem(&histogram, &key);
    if (v) __sync_fetch_and_add(v, weights[key]);
  }
  u64 sum = 0;
  for (u32 k = 0; k < 8; k++) {
    u64 *v = bpf_map_lookup_elem(&histogram, &k);
    if (v) sum += *v;
  }
  runs += 1;
  return sum + runs;
}

#define NATIVE_PROGRAMS(X) X(histogram_sum)
#include "native_main.h"
