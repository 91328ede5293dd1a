/* Native (gcc) models of the BPF helpers and maps used by the examples, so expected results come
 * from running the same C on the host. Semantics follow the kernel: array maps are preallocated and
 * zeroed (delete fails), hash maps hold at most max_entries keys; flags BPF_ANY/NOEXIST/EXIST.
 * MAP_DESC(m) gives type, key size, value size, max entries of a map object. */
#ifndef NATIVE_MAPS_H
#define NATIVE_MAPS_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>

#define SEC(name)
#define NOINLINE static __attribute__((noinline))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) __typeof__(val) *name
struct bpf_map_def {
  unsigned int type;
  unsigned int key_size;
  unsigned int value_size;
  unsigned int max_entries;
  unsigned int map_flags;
};
#ifndef MAP_DESC
#define MAP_DESC(m) (u32)(sizeof(*(m)->type) / sizeof(int)), (u32)sizeof(*(m)->key), \
  (u32)sizeof(*(m)->value), (u32)(sizeof(*(m)->max_entries) / sizeof(int))
#endif

#define NATIVE_SLOTS 1024
struct native_entry { const void *map; int used; u8 key[64]; u8 value[64]; };
static struct native_entry native_entries[NATIVE_SLOTS];

static struct native_entry *native_find(const void *map, u32 ks, const void *key) {
  for (int i = 0; i < NATIVE_SLOTS; i++)
    if (native_entries[i].used && native_entries[i].map == map && memcmp(native_entries[i].key, key, ks) == 0)
      return &native_entries[i];
  return 0;
}
static u32 native_count(const void *map) {
  u32 n = 0;
  for (int i = 0; i < NATIVE_SLOTS; i++) n += native_entries[i].used && native_entries[i].map == map;
  return n;
}
static struct native_entry *native_insert(const void *map, u32 ks, u32 vs, const void *key, const void *value) {
  for (int i = 0; i < NATIVE_SLOTS; i++)
    if (!native_entries[i].used) {
      native_entries[i].used = 1;
      native_entries[i].map = map;
      memcpy(native_entries[i].key, key, ks);
      if (value) memcpy(native_entries[i].value, value, vs);
      else memset(native_entries[i].value, 0, vs);
      return &native_entries[i];
    }
  abort();
}
static void *native_lookup(const void *map, u32 type, u32 ks, u32 vs, u32 max, const void *key) {
  if (type == BPF_MAP_TYPE_ARRAY) {
    u32 idx; memcpy(&idx, key, 4);
    if (idx >= max) return 0;
    struct native_entry *e = native_find(map, 4, &idx);
    if (!e) e = native_insert(map, 4, vs, &idx, 0);
    return e->value;
  }
  struct native_entry *e = native_find(map, ks, key);
  return e ? e->value : 0;
}
static long native_update(const void *map, u32 type, u32 ks, u32 vs, u32 max, const void *key, const void *value, u64 flags) {
  if (flags > BPF_EXIST) return -22;
  if (type == BPF_MAP_TYPE_ARRAY) {
    u32 idx; memcpy(&idx, key, 4);
    if (idx >= max) return -7;
    if (flags == BPF_NOEXIST) return -17;
    memcpy(native_lookup(map, type, ks, vs, max, key), value, vs);
    return 0;
  }
  struct native_entry *e = native_find(map, ks, key);
  if (e && flags == BPF_NOEXIST) return -17;
  if (!e && flags == BPF_EXIST) return -2;
  if (e) { memcpy(e->value, value, vs); return 0; }
  if (native_count(map) >= max) return -7;
  native_insert(map, ks, vs, key, value);
  return 0;
}
static long native_delete(const void *map, u32 type, u32 ks, const void *key) {
  if (type == BPF_MAP_TYPE_ARRAY) return -22;
  struct native_entry *e = native_find(map, ks, key);
  if (!e) return -2;
  e->used = 0;
  return 0;
}
#define bpf_map_lookup_elem(m, k) native_lookup((m), MAP_DESC(m), (k))
#define bpf_map_update_elem(m, k, v, f) native_update((m), MAP_DESC(m), (k), (v), (f))
#define bpf_map_delete_elem(m, k) ({ u32 t_, ks_, vs_, mx_; (void)vs_; (void)mx_; \
  native_unpack(&t_, &ks_, &vs_, &mx_, MAP_DESC(m)); native_delete((m), t_, ks_, (k)); })
static inline void native_unpack(u32 *t, u32 *ks, u32 *vs, u32 *mx, u32 a, u32 b, u32 c, u32 d) {
  *t = a; *ks = b; *vs = c; *mx = d;
}
static long bpf_trace_printk(const char *fmt, u32 size, ...) {
  (void)size;
  va_list ap; va_start(ap, size);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  return 0;
}
#endif
