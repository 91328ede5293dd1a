// Constant synthesis: the shortest MOVZ/MOVN/MOVK/ORR sequence that puts a 64-bit (or 32-bit)
// constant into a register, after LLVM's AArch64_IMM::expandMOVImm. Candidates, cheapest first:
// one MOVZ (at most one non-zero halfword), one MOVN (at most one non-0xffff halfword; the 32-bit
// MOVN/ORR when the top half is zero, since writing W zero-extends), one ORR
// from ZR with a bitmask immediate; then MOVZ/MOVN + MOVK per remaining halfword, ORR + one MOVK,
// ORR + two MOVKs, and finally MOVZ + three MOVKs. No BigInt: the value is a (lo, hi) pair.
//
// Invariant: the sequence only writes `rd` and its result equals the constant (zero-extended from
// 32 bits for W registers); tests check every plan with a BigInt interpreter.

import { encodeLogicalImmediate } from './bitmask.js';
import { LOGICAL_IMM_BASE, MOVE_WIDE, MOVE_WIDE_BASE } from './tables.js';
import { rz } from './check.js';
import type { RZr } from './regs.js';

/** Words of the last plan (at most 4); read `count` entries after movImmPlan. */
const plan = new Uint32Array(4);
const halves = [0, 0, 0, 0];
const orig = [0, 0, 0, 0];

/** h is 0, 0xffff, or h or its complement is one contiguous run (a run boundary of a bitmask). */
function runLike(h: number): boolean {
  const inv = ~h & 0xffff;
  return h === 0 || inv === 0 || contiguous(h) || contiguous(inv);
}
function contiguous(x: number): boolean {
  const t = x >>> (31 - Math.clz32(x & -x));
  return (t & (t + 1)) === 0;
}

function mw(sfb: number, opc: number, hw: number, imm16: number, d: number): number {
  return ((sfb << 31) | (opc << 29) | MOVE_WIDE_BASE | (hw << 21) | (imm16 << 5) | d) >>> 0;
}
function orrImm(sfb: number, field: number, d: number): number {
  return ((sfb << 31) | (0b01 << 29) | LOGICAL_IMM_BASE | (field << 10) | (31 << 5) | d) >>> 0;
}

function plan32(d: number, v: number): number {
  const h0 = v & 0xffff, h1 = v >>> 16;
  if (h1 === 0) { plan[0] = mw(0, MOVE_WIDE.movz, 0, h0, d); return 1; }
  if (h0 === 0) { plan[0] = mw(0, MOVE_WIDE.movz, 1, h1, d); return 1; }
  if (h1 === 0xffff) { plan[0] = mw(0, MOVE_WIDE.movn, 0, ~h0 & 0xffff, d); return 1; }
  if (h0 === 0xffff) { plan[0] = mw(0, MOVE_WIDE.movn, 1, ~h1 & 0xffff, d); return 1; }
  const f = encodeLogicalImmediate(v, 0, false);
  if (f >= 0) { plan[0] = orrImm(0, f, d); return 1; }
  plan[0] = mw(0, MOVE_WIDE.movz, 0, h0, d);
  plan[1] = mw(0, MOVE_WIDE.movk, 1, h1, d);
  return 2;
}

function packLo(): number {
  return ((halves[0] as number) | ((halves[1] as number) << 16)) >>> 0;
}
function packHi(): number {
  return ((halves[2] as number) | ((halves[3] as number) << 16)) >>> 0;
}

/**
 * ORR + one MOVK: halfword i replaced by another halfword of the value (making a replicated
 * pattern) or by 0 / 0xffff. Returns the count (2) or 0.
 */
function planOrrMovk1(d: number, h: readonly number[]): number {
  for (let i = 0; i < 4; i++) {
    for (let c = 0; c < 5; c++) {
      const cand = c < 3 ? (h[(i + 1 + c) & 3] as number) : c === 3 ? 0 : 0xffff;
      if (cand === h[i]) continue;
      if (c >= 3 && !(runLike(h[(i + 1) & 3] as number) && runLike(h[(i + 2) & 3] as number) && runLike(h[(i + 3) & 3] as number))) continue;
      for (let k = 0; k < 4; k++) halves[k] = h[k] as number;
      halves[i] = cand;
      const f = encodeLogicalImmediate(packLo(), packHi(), true);
      if (f < 0) continue;
      plan[0] = orrImm(1, f, d);
      plan[1] = mw(1, MOVE_WIDE.movk, i, h[i] as number, d);
      return 2;
    }
  }
  return 0;
}

/** Candidate replacements for halfwords (i, j) given the other two (k, l): 32-bit replication, 0s, 1s. */
const PAIRS: readonly (readonly [number, number, number, number])[] = [[0, 1, 2, 3], [0, 2, 1, 3], [0, 3, 1, 2], [1, 2, 0, 3], [1, 3, 0, 2], [2, 3, 0, 1]];

/** ORR + two MOVKs (only tried when MOVZ/MOVN would need four instructions). Returns 3 or 0. */
function planOrrMovk2(d: number, h: readonly number[]): number {
  for (let p = 0; p < PAIRS.length; p++) {
    const pr = PAIRS[p] as readonly [number, number, number, number];
    const i = pr[0], j = pr[1], k = pr[2], l = pr[3];
    const hk = h[k] as number, hl = h[l] as number;
    const boundaries = runLike(hk) && runLike(hl);
    for (let c = 0; c < 6; c++) {
      if (c >= 2 && !boundaries) break;
      const ci = c === 0 ? hk : c === 1 ? hl : c === 2 ? 0 : c === 3 ? 0xffff : c === 4 ? 0 : 0xffff;
      const cj = c === 0 ? hl : c === 1 ? hk : c === 2 ? 0 : c === 3 ? 0xffff : c === 4 ? 0xffff : 0;
      for (let m = 0; m < 4; m++) halves[m] = h[m] as number;
      halves[i] = ci;
      halves[j] = cj;
      const f = encodeLogicalImmediate(packLo(), packHi(), true);
      if (f < 0) continue;
      let n = 0;
      plan[n++] = orrImm(1, f, d);
      if (ci !== h[i]) plan[n++] = mw(1, MOVE_WIDE.movk, i, h[i] as number, d);
      if (cj !== h[j]) plan[n++] = mw(1, MOVE_WIDE.movk, j, h[j] as number, d);
      return n;
    }
  }
  return 0;
}

function planWide(d: number, h: readonly number[], inverted: boolean): number {
  const skip = inverted ? 0xffff : 0;
  let k = 0;
  for (let i = 0; i < 4; i++) {
    const v = h[i] as number;
    if (v === skip) continue;
    if (k === 0) plan[k++] = inverted ? mw(1, MOVE_WIDE.movn, i, ~v & 0xffff, d) : mw(1, MOVE_WIDE.movz, i, v, d);
    else plan[k++] = mw(1, MOVE_WIDE.movk, i, v, d);
  }
  if (k === 0) plan[k++] = inverted ? mw(1, MOVE_WIDE.movn, 0, 0, d) : mw(1, MOVE_WIDE.movz, 0, 0, d);
  return k;
}

function plan64(d: number, lo: number, hi: number): number {
  const h = orig;
  h[0] = lo & 0xffff;
  h[1] = lo >>> 16;
  h[2] = hi & 0xffff;
  h[3] = hi >>> 16;
  let zeros = 0, ones = 0;
  for (const v of h) {
    if (v === 0) zeros++;
    else if (v === 0xffff) ones++;
  }
  // A W-register write zero-extends: 32-bit MOVN/ORR forms serve constants with a zero top half.
  if (hi === 0) return plan32(d, lo);
  if (zeros >= 3) return planWide(d, h, false);
  if (ones >= 3) return planWide(d, h, true);
  const f = encodeLogicalImmediate(lo, hi, true);
  if (f >= 0) { plan[0] = orrImm(1, f, d); return 1; }
  const wideCost = 4 - Math.max(zeros, ones);
  if (wideCost <= 2) return planWide(d, h, ones > zeros);
  const k1 = planOrrMovk1(d, h);
  if (k1 > 0) return k1;
  if (wideCost === 3) return planWide(d, h, ones > zeros);
  const k2 = planOrrMovk2(d, h);
  if (k2 > 0) return k2;
  return planWide(d, h, false);
}

/**
 * Plan the synthesis of (lo, hi) into rd; the words are left in an internal scratch array read by
 * `movImmWords`/`emitMovImm`. Returns the instruction count (1..4). For W registers hi is ignored.
 */
export function movImmPlan(rd: RZr, lo: number, hi: number): number {
  const d = rz('mov', 'rd', rd, rd.size);
  return rd.size === 64 ? plan64(d, lo >>> 0, hi >>> 0) : plan32(d, lo >>> 0);
}

/** The scratch words of the last plan (valid until the next call). */
export function movImmScratch(): Uint32Array {
  return plan;
}

/** The synthesis sequence for (lo, hi) into rd as an array of instruction words. */
export function movImmWords(rd: RZr, lo: number, hi = 0): number[] {
  const n = movImmPlan(rd, lo, hi);
  const words = new Array<number>(n);
  for (let k = 0; k < n; k++) words[k] = plan[k] as number;
  return words;
}
