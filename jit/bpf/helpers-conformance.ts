// The `conformance` helper profile: the environment the bpf_conformance tests assume, which is
// de facto ubpf's test plugin (ubpf vm/test.c, ubpf_plugin): helpers 0 gather_bytes, 1 memfrob,
// 2 no_op (ubpf's trash_registers), 3 sqrti, 4 strcmp_ext and 5 unwind, the unwind helper (returns
// its argument; a 0 result ends the program, ubpf_set_unwind_function_index). Memory arguments go
// through the run's address space, so a bad pointer is a typed error, never a host exception.

import { type U64, u64 } from '../../support/u64.js';
import { BpfRuntimeError, type HelperContext, type HelperDef, type HelperProfile } from './runtime.js';

function lo8(args: Int32Array, k: number): number {
  return (args[2 * k] as number) & 0xff;
}

/** Bytes of a NUL-terminated string at (lo, hi), read one checked byte at a time. */
export function readCString(ctx: HelperContext, lo: number, hi: number, max = 4096): Uint8Array {
  const out: number[] = [];
  let l = lo >>> 0;
  let h = hi;
  for (let n = 0; n < max; n++) {
    const b = ctx.memory.read(l, h, 1)[0] as number;
    if (b === 0) return Uint8Array.from(out);
    out.push(b);
    l = (l + 1) >>> 0;
    if (l === 0) h = (h + 1) | 0;
  }
  throw new BpfRuntimeError(`string at 0x${(hi >>> 0).toString(16)}${(lo >>> 0).toString(16).padStart(8, '0')} is longer than ${max} bytes`);
}

const helpers: [number, HelperDef][] = [
  [0, {
    name: 'gather_bytes',
    fn: (_ctx, a): U64 => u64(((lo8(a, 1) << 24) | (lo8(a, 2) << 16) | (lo8(a, 3) << 8) | lo8(a, 4)) >>> 0, lo8(a, 0)),
  }],
  [1, {
    name: 'memfrob',
    fn: (ctx, a): U64 => {
      const len = (a[3] as number) !== 0 ? -1 : (a[2] as number) >>> 0;
      if (len < 0 || len > 0x1000000) throw new BpfRuntimeError(`memfrob length too large`);
      const view = ctx.memory.read(a[0] as number, a[1] as number, len);
      const copy = view.map((b) => b ^ 42);
      ctx.memory.write(a[0] as number, a[1] as number, copy);
      return u64(a[0] as number, a[1] as number);
    },
  }],
  [2, { name: 'no_op', fn: (): U64 => u64(0, 0) }],
  [3, { name: 'sqrti', fn: (_ctx, a): U64 => u64(Math.floor(Math.sqrt((a[0] as number) >>> 0)), 0) }],
  [4, {
    name: 'strcmp_ext',
    fn: (ctx, a): U64 => {
      const x = readCString(ctx, a[0] as number, a[1] as number);
      const y = readCString(ctx, a[2] as number, a[3] as number);
      let r = 0;
      for (let i = 0; ; i++) {
        const cx = i < x.length ? (x[i] as number) : 0;
        const cy = i < y.length ? (y[i] as number) : 0;
        if (cx !== cy || cx === 0) {
          r = cx - cy;
          break;
        }
      }
      return u64(r, r < 0 ? -1 : 0);
    },
  }],
  [5, { name: 'unwind', unwind: true, fn: (_ctx, a): U64 => u64(a[0] as number, a[1] as number) }],
];

export const conformanceProfile: HelperProfile = { name: 'conformance', helpers: new Map(helpers) };
