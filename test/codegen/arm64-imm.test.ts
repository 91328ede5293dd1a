// Bitmask immediates and constant synthesis, checked against BigInt reference models written
// here from the Arm ARM pseudocode (DecodeBitMasks) and against a MOVZ/MOVN/MOVK/ORR interpreter.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../support/rng.js';
import {
  decodeLogicalImmediate, encodeLogicalImmediate, isLogicalImmediate, movImmWords, X0, X17, W3, XZR, WZR,
} from '../../codegen/arm64/index.js';
import { CodeBuffer } from '../../codegen/buffer.js';
import { emitMovImm } from '../../codegen/arm64/emit.js';

/** DecodeBitMasks(N, imms, immr, immediate=TRUE, M) from the Arm ARM, in BigInt. */
function refDecode(field: number, regBits: number): bigint | null {
  const n = (field >> 12) & 1, immr = (field >> 6) & 63, imms = field & 63;
  if (regBits === 32 && n === 1) return null;
  const combined = (n << 6) | (~imms & 63);
  let len = -1;
  for (let i = 6; i >= 0; i--) if ((combined >> i) & 1) { len = i; break; }
  if (len < 1) return null;
  const esize = 1 << len;
  const levels = esize - 1;
  const s = imms & levels, r = immr & levels;
  if (s === levels) return null;
  const welem = (1n << BigInt(s + 1)) - 1n;
  const emask = (1n << BigInt(esize)) - 1n;
  const rot = r === 0 ? welem : ((welem >> BigInt(r)) | (welem << BigInt(esize - r))) & emask;
  let v = 0n;
  for (let i = 0; i < regBits; i += esize) v |= rot << BigInt(i);
  return v;
}

const pair = (v: bigint): [number, number] => [Number(v & 0xffffffffn), Number((v >> 32n) & 0xffffffffn)];
const big = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

function refSets(): Map<number, Set<bigint>> {
  const out = new Map<number, Set<bigint>>();
  for (const bits of [32, 64]) {
    const set = new Set<bigint>();
    for (let f = 0; f < 8192; f++) {
      const v = refDecode(f, bits);
      if (v !== null) set.add(v);
    }
    out.set(bits, set);
  }
  return out;
}
const REF = refSets();

describe('bitmask immediates', () => {
  it('the reference model yields the known counts (5334 for X, 2667 for W)', () => {
    expect(REF.get(64)?.size).toBe(5334);
    expect(REF.get(32)?.size).toBe(1302);
  });

  it('decodeLogicalImmediate agrees with DecodeBitMasks on all 8192 fields, both widths', () => {
    for (const bits of [32, 64]) for (let f = 0; f < 8192; f++) {
      const ref = refDecode(f, bits);
      const got = decodeLogicalImmediate(f, bits === 64);
      expect(got === null ? null : big(got.lo, got.hi), `field ${f} @${bits}`).toBe(ref);
    }
  });

  it('every encodable value encodes to a field that decodes back to it', () => {
    for (const bits of [32, 64]) for (const v of REF.get(bits) as Set<bigint>) {
      const [lo, hi] = pair(v);
      const f = encodeLogicalImmediate(lo, hi, bits === 64);
      expect(f, `0x${v.toString(16)}`).toBeGreaterThanOrEqual(0);
      expect(refDecode(f, bits)).toBe(v);
    }
  });

  it('isLogicalImmediate is exactly membership of the reference set (random and near-miss values)', () => {
    const rng = new Rng(20261122);
    const ref64 = REF.get(64) as Set<bigint>, ref32 = REF.get(32) as Set<bigint>;
    const members = [...ref64];
    for (let i = 0; i < 20000; i++) {
      let v: bigint;
      const k = rng.below(3);
      if (k === 0) v = big(rng.u32(), rng.u32());
      else v = (members[rng.below(members.length)] as bigint) ^ (1n << BigInt(rng.below(64)));
      const [lo, hi] = pair(v);
      expect(isLogicalImmediate(lo, hi, true), `0x${v.toString(16)}`).toBe(ref64.has(v));
      const v32 = v & 0xffffffffn;
      expect(isLogicalImmediate(Number(v32), 0, false)).toBe(ref32.has(v32));
    }
    expect(isLogicalImmediate(0, 0, true)).toBe(false);
    expect(isLogicalImmediate(0xffffffff, 0xffffffff, true)).toBe(false);
    expect(isLogicalImmediate(0xffffffff, 0, false)).toBe(false);
    expect(isLogicalImmediate(1, 1, false)).toBe(false);
  });
});

// ------------------------------------------------------------------------------------------------
// Constant synthesis

/**
 * Run a MOVZ/MOVN/MOVK/ORR-immediate sequence on one register (reference interpreter). A W-form
 * word (sf = 0) computes at 32 bits and zero-extends into the X register.
 */
function interpret(words: readonly number[]): bigint {
  let reg = 0n;
  for (const w of words) {
    const bits = w >>> 31 ? 64 : 32;
    const mask = (1n << BigInt(bits)) - 1n;
    if ((w & 0x1f800000) === 0x12800000) {
      const opc = (w >>> 29) & 3, hw = (w >>> 21) & 3, imm = BigInt((w >>> 5) & 0xffff) << BigInt(16 * hw);
      if (opc === 0) reg = ~imm & mask;
      else if (opc === 2) reg = imm;
      else if (opc === 3) reg = ((reg & mask) & ~(0xffffn << BigInt(16 * hw))) | imm;
      else throw new Error('bad move wide');
    } else if ((w & 0x7f8003e0) === 0x320003e0) {
      const v = refDecode((w >>> 10) & 0x1fff, bits);
      if (v === null) throw new Error('bad bitmask');
      reg = v;
    } else throw new Error(`unexpected word ${w.toString(16)}`);
  }
  return reg;
}

/** Lower bound from the candidates every planner considers (MOVZ/MOVN chains, single ORR). */
function naiveCost(v: bigint, regBits: number): number {
  const hs = regBits / 16;
  let z = 0, o = 0;
  for (let i = 0; i < hs; i++) {
    const h = (v >> BigInt(16 * i)) & 0xffffn;
    if (h === 0n) z++;
    if (h === 0xffffn) o++;
  }
  return Math.max(1, hs - Math.max(z, o));
}

describe('constant synthesis (movImmWords / emitMovImm)', () => {
  const interesting: bigint[] = [
    0n, 1n, 0xffffn, 0x10000n, 0xffffffffn, 0x100000000n, 0xffffffffffffffffn, 0xfffffffffffffffen, 0x8000000000000000n,
    0x123456789abcdef0n, 0x5555555555555555n, 0x00ff00ff00ff00ffn, 0xffff0000ffff0000n, 0x1234ffffffffffffn,
    0xffffffff12345678n, 0x0000123400005678n, 0x5555555555551234n, 0x1234555555555555n, 0xaaaa1234aaaa5678n,
    0xffffffffc0000000n, 0xffff800000000000n, 0x00000000deadbeefn,
  ];

  it('every plan computes its constant, within naive cost, for structured and random values', () => {
    const rng = new Rng(7);
    const values = [...interesting];
    for (let i = 0; i < 3000; i++) {
      const halves = [0, 1, 2, 3].map(() => [0, 0xffff, rng.u32() & 0xffff][rng.below(3)] as number);
      values.push(BigInt(halves[0] as number) | (BigInt(halves[1] as number) << 16n) | (BigInt(halves[2] as number) << 32n) | (BigInt(halves[3] as number) << 48n));
      values.push(big(rng.u32(), rng.u32()));
    }
    for (const v of values) {
      const [lo, hi] = pair(v);
      const words = movImmWords(X17, lo, hi);
      expect(interpret(words), `0x${v.toString(16)}`).toBe(v);
      expect(words.length).toBeLessThanOrEqual(naiveCost(v, 64));
      for (const w of words) expect(w & 31).toBe(17);
      const v32 = v & 0xffffffffn;
      const w32 = movImmWords(W3, Number(v32), 0);
      expect(interpret(w32), `w 0x${v32.toString(16)}`).toBe(v32);
      expect(w32.length).toBeLessThanOrEqual(naiveCost(v32, 32));
    }
  });

  it('uses one ORR for bitmask constants and ORR + MOVK where that beats MOVZ/MOVK', () => {
    expect(movImmWords(X0, 0x55555555, 0x55555555)).toHaveLength(1);
    expect(movImmWords(X0, 0x55551234, 0x55555555)).toHaveLength(2);
    expect(movImmWords(X0, 0x9abcdef0, 0x12345678)).toHaveLength(4);
    expect(movImmWords(X0, 0xfffffffe, 0xffffffff)).toEqual([0x92800020]);
    expect(movImmWords(X0, 0, 0)).toEqual([0x52800000]);
    // clang-19 -O2 returns 0xffff5555 with `mov w0, #-43691` (writing W zero-extends).
    expect(movImmWords(X0, 0xffff5555, 0)).toEqual([0x12955540]);
    // llvm-mc: `movn w3, #0xedcb` = 63 b9 9d 12; `mov x0, #0x5555555555555555` = e0 f3 00 b2; `movk x0, #0x1234` = 80 46 82 f2.
    expect(movImmWords(W3, 0xffff1234, 0)).toEqual([0x129db963]);
    expect(movImmWords(X0, 0x55551234, 0x55555555)).toEqual([0xb200f3e0, 0xf2824680]);
  });

  it('emitMovImm appends the same words to a buffer', () => {
    const buf = new CodeBuffer('arm64');
    emitMovImm(buf, X0, 0x9abcdef0, 0x12345678);
    expect(buf.length).toBe(16);
    const words = movImmWords(X0, 0x9abcdef0, 0x12345678);
    for (let i = 0; i < 4; i++) expect(buf.read32(i * 4)).toBe(words[i]);
  });

  it('rejects SP as the destination (typed error, nothing emitted)', () => {
    const buf = new CodeBuffer('arm64');
    expect(() => emitMovImm(buf, { size: 64, cls: 'sp', num: 31, name: 'sp' } as unknown as typeof XZR, 1, 0)).toThrow(/rd = sp/);
    expect(buf.length).toBe(0);
    expect(movImmWords(XZR, 5, 0)).toHaveLength(1);
    expect(movImmWords(WZR, 5, 0)).toHaveLength(1);
  });
});
