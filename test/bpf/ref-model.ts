// A deliberately simple BigInt reference model of RFC 9669 for differential tests of the
// interpreter: objects per instruction, BigInt registers, a Map-free memory through the same region
// layout (so pointers compare equal). Written from the RFC's prose, independently of interp.ts.
import { type BpfInsn, OPCODE_INFO } from '../../jit/bpf/isa.js';
import { BpfAddressSpace, DefaultRegionAllocator } from '../../jit/bpf/runtime.js';
import { vaddrToPair } from '../../support/u64.js';

export type RefOutcome = { ok: true; r0: bigint; count: number; mem: Uint8Array } | { ok: false; error: 'memory' | 'budget' | 'runtime' };

const U64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const U32 = (v: bigint): bigint => BigInt.asUintN(32, v);
const S64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const S32 = (v: bigint): bigint => BigInt.asIntN(32, v);

class Stop extends Error {
  constructor(readonly why: 'memory' | 'budget' | 'runtime') {
    super(why);
  }
}

export function refRun(insns: readonly BpfInsn[], memIn: Uint8Array | undefined, budget: number): RefOutcome {
  const alloc = new DefaultRegionAllocator();
  const space = new BpfAddressSpace();
  const stack = space.add(alloc.allocate(4096, 'stack', true, 'stack'));
  const mem = memIn ?? new Uint8Array(0);
  const input = space.add(alloc.allocate(mem.length, 'input', true, 'input'));
  input.bytes.set(mem);
  const at = new Map<number, BpfInsn>();
  for (const i of insns) at.set(i.slot, i);
  const r: bigint[] = new Array<bigint>(11).fill(0n);
  if (mem.length > 0) {
    r[1] = BigInt(input.base) & ((1n << 64n) - 1n);
    r[2] = BigInt(mem.length);
  }
  r[10] = U64(BigInt(stack.base + 4096));
  const frames: { ret: number; saved: bigint[] }[] = [];
  const pair = (a: bigint): [number, number] => [Number(a & 0xffffffffn), Number(a >> 32n)];
  const load = (a: bigint, n: number): bigint => {
    const [lo, hi] = pair(U64(a));
    const reg = space.find(lo, hi, n);
    if (!reg) throw new Stop('memory');
    const off = (lo - vaddrToPair(reg.base).lo) >>> 0;
    let v = 0n;
    for (let k = n - 1; k >= 0; k--) v = (v << 8n) | BigInt(reg.bytes[off + k] as number);
    return v;
  };
  const store = (a: bigint, n: number, v: bigint): void => {
    const [lo, hi] = pair(U64(a));
    const reg = space.find(lo, hi, n);
    if (!reg || !reg.writable) throw new Stop('memory');
    const off = (lo - vaddrToPair(reg.base).lo) >>> 0;
    for (let k = 0; k < n; k++) reg.bytes[off + k] = Number((v >> BigInt(8 * k)) & 0xffn);
  };
  const swap = (v: bigint, bits: number): bigint => {
    let out = 0n;
    for (let k = 0; k < bits / 8; k++) out = (out << 8n) | ((v >> BigInt(8 * k)) & 0xffn);
    return out;
  };
  let pc = 0;
  let count = 0;
  try {
    for (;;) {
      if (++count > budget) throw new Stop('budget');
      const i = at.get(pc);
      if (!i) throw new Stop('runtime');
      const info = OPCODE_INFO[i.opcode];
      if (!info) throw new Stop('runtime');
      const w = info.is32 ? 32 : 64;
      const trunc = (v: bigint): bigint => (info.is32 ? U32(v) : U64(v));
      const sx = (v: bigint): bigint => (info.is32 ? S32(v) : S64(v));
      const dv = r[i.dst] as bigint;
      const srcv = info.srcX ? (r[i.src] as bigint) : info.is32 ? U32(BigInt(i.imm)) : U64(BigInt(i.imm));
      let next = pc + 1;
      switch (info.kind) {
        case 'alu': {
          const a = trunc(dv);
          const b = trunc(srcv);
          const sh = b & BigInt(w - 1);
          const signed = i.off === 1;
          let v: bigint;
          switch (info.op) {
            case 0x0: v = a + b; break;
            case 0x1: v = a - b; break;
            case 0x2: v = a * b; break;
            case 0x3: v = b === 0n ? 0n : signed ? sx(a) / sx(b) : a / b; break;
            case 0x9: v = b === 0n ? a : signed ? sx(a) % sx(b) : a % b; break;
            case 0x4: v = a | b; break;
            case 0x5: v = a & b; break;
            case 0xa: v = a ^ b; break;
            case 0x6: v = a << sh; break;
            case 0x7: v = a >> sh; break;
            case 0xc: v = sx(a) >> sh; break;
            case 0xb:
              v = i.off === 0 ? b : BigInt.asIntN(i.off, b);
              break;
            default: throw new Stop('runtime');
          }
          r[i.dst] = trunc(v);
          break;
        }
        case 'neg': r[i.dst] = trunc(-dv); break;
        case 'end':
          if (i.opcode === 0xd4) r[i.dst] = BigInt.asUintN(i.imm, dv);
          else r[i.dst] = swap(BigInt.asUintN(i.imm, dv), i.imm);
          break;
        case 'ja': next = pc + 1 + i.off; break;
        case 'ja32': next = pc + 1 + i.imm; break;
        case 'jcond': {
          const a = trunc(dv);
          const b = info.srcX ? trunc(srcv) : info.is32 ? U32(BigInt(i.imm)) : U64(BigInt(i.imm));
          const t = [false, a === b, a > b, a >= b, (a & b) !== 0n, a !== b, sx(a) > sx(b), sx(a) >= sx(b), false, false, a < b, a <= b, sx(a) < sx(b), sx(a) <= sx(b)][info.op];
          if (t) next = pc + 1 + i.off;
          break;
        }
        case 'call':
        case 'callx': {
          if (info.kind === 'call' && i.src === 1) {
            if (frames.length + 1 >= 8) throw new Stop('runtime');
            frames.push({ ret: pc + 1, saved: r.slice(6, 10) });
            r[10] = U64((r[10] as bigint) - 512n);
            next = pc + 1 + i.imm;
            break;
          }
          const id = info.kind === 'callx' ? dv : BigInt(i.imm);
          const a1 = r[1] as bigint;
          if (id === 0n) r[0] = ((a1 & 0xffn) << 32n) | (((r[2] as bigint) & 0xffn) << 24n) | (((r[3] as bigint) & 0xffn) << 16n) | (((r[4] as bigint) & 0xffn) << 8n) | ((r[5] as bigint) & 0xffn);
          else if (id === 1n) {
            const n = Number(r[2] as bigint);
            if ((r[2] as bigint) > 0x1000000n) throw new Stop('runtime');
            for (let k = 0; k < n; k++) store(a1 + BigInt(k), 1, load(a1 + BigInt(k), 1) ^ 42n);
            r[0] = a1;
          } else if (id === 2n) r[0] = 0n;
          else if (id === 3n) r[0] = BigInt(Math.floor(Math.sqrt(Number(U32(a1)))));
          else if (id === 4n) {
            let k = 0n;
            for (;;) {
              const x = load(a1 + k, 1);
              const y = load((r[2] as bigint) + k, 1);
              if (x !== y || x === 0n) {
                r[0] = U64(x - y);
                break;
              }
              k++;
              if (k > 4096n) throw new Stop('runtime');
            }
          } else if (id === 5n) {
            r[0] = a1;
            if (a1 === 0n) return { ok: true, r0: 0n, count, mem: input.bytes };
          } else throw new Stop('runtime');
          break;
        }
        case 'exit': {
          const f = frames.pop();
          if (!f) return { ok: true, r0: r[0] as bigint, count, mem: input.bytes };
          f.saved.forEach((v, k) => (r[6 + k] = v));
          r[10] = U64((r[10] as bigint) + 512n);
          next = f.ret;
          break;
        }
        case 'ldx':
        case 'ldsx': {
          const v = load((r[i.src] as bigint) + BigInt(i.off), info.bytes);
          r[i.dst] = info.kind === 'ldsx' ? U64(BigInt.asIntN(8 * info.bytes, v)) : v;
          break;
        }
        case 'st': store(dv + BigInt(i.off), info.bytes, U64(BigInt(i.imm))); break;
        case 'stx': store(dv + BigInt(i.off), info.bytes, r[i.src] as bigint); break;
        case 'atomic': {
          const a = dv + BigInt(i.off);
          const n = info.bytes;
          const old = load(a, n);
          const sv = n === 4 ? U32(r[i.src] as bigint) : (r[i.src] as bigint);
          const base = i.imm & ~1;
          let nv = old;
          if (i.imm === 0xf1) {
            const cmp = n === 4 ? U32(r[0] as bigint) : (r[0] as bigint);
            if (cmp === old) nv = sv;
            store(a, n, nv);
            r[0] = old;
            break;
          }
          if (base === 0x00) nv = old + sv;
          else if (base === 0x40) nv = old | sv;
          else if (base === 0x50) nv = old & sv;
          else if (base === 0xa0) nv = old ^ sv;
          else if (i.imm === 0xe1) nv = sv;
          store(a, n, BigInt.asUintN(8 * n, nv));
          if (i.imm & 1) r[i.src] = old;
          break;
        }
        case 'lddw':
          r[i.dst] = (BigInt((i.imm2 ?? 0) >>> 0) << 32n) | BigInt(i.imm >>> 0);
          next = pc + 2;
          break;
        default:
          throw new Stop('runtime');
      }
      pc = next;
    }
  } catch (e) {
    if (e instanceof Stop) return { ok: false, error: e.why };
    if (e instanceof Error && e.message.includes('helper')) return { ok: false, error: 'runtime' };
    throw e;
  }
}
