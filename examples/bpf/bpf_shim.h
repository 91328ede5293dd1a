/* Shared shim for the jitbox BPF examples: the same C builds for BPF (clang -target bpf) and
 * natively (gcc, with -DNATIVE), in which case the helpers and maps below are plain C models and
 * native_main.h supplies main(). Helper ids follow the Linux UAPI (include/uapi/linux/bpf.h), and
 * the map macros mirror libbpf's bpf_helpers.h (__uint/__type encode through BTF). Every program
 * is called as prog(data, len): r1 = input bytes, r2 = their length (the bpf_conformance ABI). */
#ifndef BPF_SHIM_H
#define BPF_SHIM_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef short s16;
typedef int s32;
typedef long long s64;

#define BPF_MAP_TYPE_HASH 1
#define BPF_MAP_TYPE_ARRAY 2
#define BPF_ANY 0
#define BPF_NOEXIST 1
#define BPF_EXIST 2

#ifndef NATIVE
#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define NOINLINE static __attribute__((noinline))
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, u64 flags) = (void *)2;
static long (*bpf_map_delete_elem)(void *map, const void *key) = (void *)3;
static u64 (*bpf_ktime_get_ns)(void) = (void *)5;
static long (*bpf_trace_printk)(const char *fmt, u32 fmt_size, ...) = (void *)6;
static u32 (*bpf_get_prandom_u32)(void) = (void *)7;
/* Legacy map definition (struct bpf_map_def in the "maps" section, as iproute2/old libbpf). */
struct bpf_map_def {
  unsigned int type;
  unsigned int key_size;
  unsigned int value_size;
  unsigned int max_entries;
  unsigned int map_flags;
};
#else
#include "native_maps.h"
#endif

#endif
