// The `kernel` helper profile: helpers under their Linux ids (include/uapi/linux/bpf.h
// __BPF_FUNC_MAPPER) with deterministic stand-ins for the non-deterministic ones, so runs are
// reproducible: ktime_get_ns advances by a fixed step per call, get_prandom_u32 draws from a seeded
// Rng, trace_printk appends its formatted line to the run's trace instead of the trace pipe.
//
// Invariants:
// - Every pointer argument is read/written through ctx.memory, so a bad pointer is a typed
//   BpfRuntimeError, never a host exception; map helpers return negative errnos like the kernel.
// - Per-run state (clock, Rng) lives in ctx.state: each run starts from the same clock and seed.
// - bpf_tail_call (12) is declared so programs using it fail with a clear UnsupportedError.

import { UnsupportedError } from '../../support/errors.js';
import { Rng } from '../../support/rng.js';
import { type U64, hex64Short, u64, vaddrToPair } from '../../support/u64.js';
import { BpfMap } from './maps.js';
import { BpfRuntimeError, type HelperContext, type HelperDef, type HelperProfile } from './runtime.js';

export const KERNEL_HELPER_IDS = {
  map_lookup_elem: 1,
  map_update_elem: 2,
  map_delete_elem: 3,
  ktime_get_ns: 5,
  trace_printk: 6,
  get_prandom_u32: 7,
  get_smp_processor_id: 8,
  tail_call: 12,
  ktime_get_boot_ns: 125,
} as const;

export interface KernelProfileOptions {
  /** seed of get_prandom_u32 (default 1) */
  seed?: number;
  /** first ktime_get_ns value (default 1e9 ns) */
  clockStart?: number;
  /** ns added per ktime_get_ns call (default 1000) */
  clockStep?: number;
}

const TRACE_MAX = 512;

function mapArg(ctx: HelperContext, args: Int32Array, helper: string): BpfMap {
  const m = ctx.mapAt(args[0] as number, args[1] as number);
  if (!m) throw new BpfRuntimeError(`${helper}: r1 = ${hex64Short(args[0] as number, args[1] as number)} is not a map object`, { helper });
  if (!(m instanceof BpfMap)) throw new BpfRuntimeError(`${helper}: map "${m.name}" is not a jitbox BpfMap`, { helper, map: m.name });
  return m;
}

function errno(e: number): U64 {
  return u64(e, e < 0 ? -1 : 0);
}

/** Kernel-style %-formatting of trace_printk (bpf_bprintf_prepare's subset). */
export function formatTrace(ctx: HelperContext, fmt: string, args: Int32Array): string {
  let out = '';
  let argIdx = 0;
  const nextArg = (): { lo: number; hi: number } => {
    if (argIdx >= 3) throw new BpfRuntimeError(`trace_printk: more than 3 conversions in "${fmt}"`, { format: fmt });
    const k = 2 + argIdx++;
    return { lo: args[2 * k] as number, hi: args[2 * k + 1] as number };
  };
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i] as string;
    if (c !== '%') {
      out += c;
      continue;
    }
    const m = /^([-0]*)(\d*)(ll|l|h|hh)?([diuxXscp%])/.exec(fmt.slice(i + 1));
    if (!m) throw new BpfRuntimeError(`trace_printk: unsupported conversion at "${fmt.slice(i, i + 6)}"`, { format: fmt });
    i += m[0].length;
    const flags = m[1] ?? '';
    const width = m[2] ? Number(m[2]) : 0;
    const len = m[3] ?? '';
    const conv = m[4] as string;
    if (conv === '%') {
      out += '%';
      continue;
    }
    const a = nextArg();
    const wide = len === 'l' || len === 'll';
    let text: string;
    switch (conv) {
      case 'd':
      case 'i':
        text = wide ? BigInt.asIntN(64, (BigInt(a.hi >>> 0) << 32n) | BigInt(a.lo >>> 0)).toString() : String(a.lo | 0);
        break;
      case 'u':
        text = wide ? ((BigInt(a.hi >>> 0) << 32n) | BigInt(a.lo >>> 0)).toString() : String(a.lo >>> 0);
        break;
      case 'x':
      case 'X':
      case 'p': {
        const h = wide || conv === 'p' ? hex64Short(a.lo, a.hi).slice(2) : (a.lo >>> 0).toString(16);
        text = (conv === 'p' ? '0x' : '') + (conv === 'X' ? h.toUpperCase() : h);
        break;
      }
      case 'c':
        text = String.fromCharCode(a.lo & 0xff);
        break;
      default: {
        const bytes: number[] = [];
        let lo = a.lo >>> 0;
        let hi = a.hi;
        for (let n = 0; n < TRACE_MAX; n++) {
          const b = ctx.memory.read(lo, hi, 1)[0] as number;
          if (b === 0) break;
          bytes.push(b);
          lo = (lo + 1) >>> 0;
          if (lo === 0) hi = (hi + 1) | 0;
        }
        text = new TextDecoder().decode(Uint8Array.from(bytes));
      }
    }
    if (text.length < width) text = flags.includes('-') ? text.padEnd(width) : text.padStart(width, flags.includes('0') && conv !== 's' ? '0' : ' ');
    out += text;
  }
  return out;
}

/** A kernel profile with its own clock/seed settings. */
export function makeKernelProfile(opts: KernelProfileOptions = {}): HelperProfile {
  const seed = opts.seed ?? 1;
  const clockStart = opts.clockStart ?? 1_000_000_000;
  const clockStep = opts.clockStep ?? 1000;
  const ids = KERNEL_HELPER_IDS;
  const helpers = new Map<number, HelperDef>([
    [ids.map_lookup_elem, {
      name: 'map_lookup_elem',
      fn: (ctx, a) => {
        const m = mapArg(ctx, a, 'map_lookup_elem');
        const key = ctx.memory.read(a[2] as number, a[3] as number, m.keySize).slice();
        const addr = m.lookupAddr(key);
        if (addr === null) return u64(0, 0);
        const p = vaddrToPair(addr);
        return u64(p.lo, p.hi);
      },
    }],
    [ids.map_update_elem, {
      name: 'map_update_elem',
      fn: (ctx, a) => {
        const m = mapArg(ctx, a, 'map_update_elem');
        const key = ctx.memory.read(a[2] as number, a[3] as number, m.keySize).slice();
        const value = ctx.memory.read(a[4] as number, a[5] as number, m.valueSize).slice();
        const flags = (a[7] as number) !== 0 ? -1 : (a[6] as number) >>> 0;
        return errno(m.update(key, value, flags));
      },
    }],
    [ids.map_delete_elem, {
      name: 'map_delete_elem',
      fn: (ctx, a) => {
        const m = mapArg(ctx, a, 'map_delete_elem');
        const key = ctx.memory.read(a[2] as number, a[3] as number, m.keySize).slice();
        return errno(m.delete(key));
      },
    }],
    [ids.ktime_get_ns, { name: 'ktime_get_ns', fn: (ctx) => clock(ctx) }],
    [ids.ktime_get_boot_ns, { name: 'ktime_get_boot_ns', fn: (ctx) => clock(ctx) }],
    [ids.trace_printk, {
      name: 'trace_printk',
      fn: (ctx, a) => {
        const size = (a[3] as number) !== 0 ? -1 : (a[2] as number) >>> 0;
        if (size <= 0 || size > TRACE_MAX) throw new BpfRuntimeError(`trace_printk: format size ${size} (1..${TRACE_MAX})`, { size });
        const raw = ctx.memory.read(a[0] as number, a[1] as number, size);
        const nul = raw.indexOf(0);
        if (nul < 0) throw new BpfRuntimeError('trace_printk: format is not NUL-terminated within its size', { size });
        const line = formatTrace(ctx, new TextDecoder().decode(raw.subarray(0, nul)), a);
        ctx.trace.push(line);
        return u64(new TextEncoder().encode(line).length, 0);
      },
    }],
    [ids.get_prandom_u32, {
      name: 'get_prandom_u32',
      fn: (ctx) => {
        let rng = ctx.state.get('kernel.prandom');
        if (!(rng instanceof Rng)) {
          rng = new Rng(seed);
          ctx.state.set('kernel.prandom', rng);
        }
        return u64((rng as Rng).u32(), 0);
      },
    }],
    [ids.get_smp_processor_id, { name: 'get_smp_processor_id', fn: () => u64(0, 0) }],
    [ids.tail_call, {
      name: 'tail_call',
      fn: () => {
        throw new UnsupportedError('bpf_tail_call is not supported by the interpreter (tail calls come with the JITs)', { helper: 12 });
      },
    }],
  ]);

  function clock(ctx: HelperContext): U64 {
    const prev = ctx.state.get('kernel.clock');
    const now = typeof prev === 'number' ? prev + clockStep : clockStart;
    ctx.state.set('kernel.clock', now);
    return u64(now % 0x100000000, Math.floor(now / 0x100000000));
  }

  return { name: 'kernel', helpers };
}

export const kernelProfile: HelperProfile = makeKernelProfile();
