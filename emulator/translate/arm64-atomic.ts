// arm64 exclusives, acquire/release accesses and LSE atomics in translated code (decode.ts Op.LDX,
// STX, ATOMIC, CAS, CLREX), mirroring emulator/arm64/exec.ts execRare: an alignment check first
// (a misaligned address exits before the instruction, so the interpreter raises its
// AlignmentFault), then for ATOMIC / CAS a write probe, the load, the operation and the store
// (the guest is single-threaded: a read-modify-write of wasm memory is atomic for it).
//
// The exclusive monitor (Arm64Machine.exclSize / exclLo / exclHi) lives in two register slots
// while translated code runs: EXCL_SIZE (log2 size of the open reservation, -1 none) and
// EXCL_ADDR; ldxr opens it, stxr succeeds only on the same size and address and always closes it,
// clrex closes it.
//
// Invariants: memory accesses precede every slot write of the instruction (types.ts); a failed
// store-exclusive writes no memory; reads of the zero register are 0 and it is never written.

import binaryen from 'binaryen';
import { AT_ADD, AT_CLR, AT_EOR, AT_SET, AT_SMAX, AT_SMIN, AT_UMAX, AT_UMIN, R_C, R_FL, R_REGS, R_ZR } from '../arm64/decode.js';
import { type AccessSize, type BlockEmitter, type Expr, i64const } from './types.js';

export const SLOT_EXCL_SIZE = 37;
export const SLOT_EXCL_ADDR = 38;

const I64 = binaryen.i64;

/** What the lowering needs from the arm64 block lowering (arm64.ts). */
export interface AtomicCtx {
  readonly m: binaryen.Module;
  readonly e: BlockEmitter;
  x(r: number): Expr;
  setX(r: number, v: Expr): Expr;
  tmp(type: binaryen.Type): number;
}

/** Sign-extend the low 8 << size bits (size < 3) of v. */
function sx(m: binaryen.Module, v: Expr, size: number): Expr {
  return size === 0 ? m.i64.extend8_s(v) : size === 1 ? m.i64.extend16_s(v) : size === 2 ? m.i64.extend32_s(v) : v;
}

/** exec.ts atomicOp: the value stored by ld<op>/swp of old value o and operand s (size-masked). */
function atomicResult(m: binaryen.Module, op: number, size: number, o: () => Expr, s: () => Expr): Expr {
  switch (op) {
    case AT_ADD: return m.i64.add(o(), s());
    case AT_CLR: return m.i64.and(o(), m.i64.xor(s(), i64const(m, -1n)));
    case AT_EOR: return m.i64.xor(o(), s());
    case AT_SET: return m.i64.or(o(), s());
    case AT_SMAX: return m.select(m.i64.ge_s(sx(m, o(), size), sx(m, s(), size)), o(), s());
    case AT_SMIN: return m.select(m.i64.le_s(sx(m, o(), size), sx(m, s(), size)), o(), s());
    case AT_UMAX: return m.select(m.i64.ge_u(o(), s()), o(), s());
    case AT_UMIN: return m.select(m.i64.le_u(o(), s()), o(), s());
    default: return s();
  }
}

/** Statements for record o (instruction k) when it is one of these ops, else null. */
export function lowerAtomic(c: AtomicCtx, recs: Int32Array, o: number, k: number): Expr[] | null {
  const m = c.m, e = c.e;
  const op = recs[o]!;
  if (op === 34 /* Op.CLREX */) return [e.set(SLOT_EXCL_SIZE, i64const(m, -1n))];
  if (op < 40 /* Op.LDX */ || op > 43 /* Op.CAS */) return null;
  const regs = recs[o + R_REGS]!;
  const rt = regs & 0xff, rn = (regs >>> 8) & 0xff, rs = (regs >>> 16) & 0xff;
  const size = recs[o + R_FL]! & 3;
  const bytes = (1 << size) as AccessSize;
  const mask = size === 3 ? -1n : (1n << BigInt(8 << size)) - 1n;
  const local = (v: Expr): (() => Expr) => {
    const l = c.tmp(I64);
    out.push(m.local.set(l, v));
    return () => m.local.get(l, I64);
  };
  const out: Expr[] = [];
  const a = local(c.x(rn));
  if (size > 0) out.push(m.if(m.i64.ne(m.i64.and(a(), i64const(m, BigInt(bytes - 1))), i64const(m, 0n)), e.exitResume(k)));
  const exclusive = recs[o + R_C]! !== 0;
  if (op === 40 /* Op.LDX */) {
    const v = local(e.load(bytes, false, a(), k));
    out.push(c.setX(rt, v()));
    if (exclusive) out.push(e.set(SLOT_EXCL_SIZE, i64const(m, BigInt(size))), e.set(SLOT_EXCL_ADDR, a()));
    return out;
  }
  if (op === 41 /* Op.STX */) {
    if (!exclusive) {
      out.push(e.store(bytes, a(), c.x(rt), k));
      return out;
    }
    const ok = c.tmp(binaryen.i32);
    out.push(m.local.set(ok, m.i32.and(m.i64.eq(e.get(SLOT_EXCL_SIZE), i64const(m, BigInt(size))), m.i64.eq(e.get(SLOT_EXCL_ADDR), a()))));
    out.push(m.if(m.local.get(ok, binaryen.i32), e.store(bytes, a(), c.x(rt), k)));
    out.push(e.set(SLOT_EXCL_SIZE, i64const(m, -1n)));
    out.push(c.setX(rs, m.select(m.local.get(ok, binaryen.i32), i64const(m, 0n), i64const(m, 1n))));
    return out;
  }
  out.push(e.probeStore(bytes, a(), k));
  const old = local(e.load(bytes, false, a(), k));
  const sv = local(size === 3 ? c.x(rs) : m.i64.and(c.x(rs), i64const(m, mask)));
  if (op === 42 /* Op.ATOMIC */) {
    let r = atomicResult(m, recs[o + R_C]!, size, old, sv);
    if (size < 3) r = m.i64.and(r, i64const(m, mask));
    out.push(e.store(bytes, a(), r, k));
    out.push(c.setX(rt, old()));
    return out;
  }
  out.push(m.if(m.i64.eq(old(), sv()), e.store(bytes, a(), c.x(rt), k)));
  if (rs !== R_ZR) out.push(c.setX(rs, old()));
  return out;
}
