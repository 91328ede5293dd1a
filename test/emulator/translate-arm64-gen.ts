// Seeded random arm64 programs for the translation-tier differential tests: raw A64 words built
// from the encoding classes of the Arm ARM (C4) with random fields, kept only when the core's
// decoder accepts them, over every class the translator lowers (add/sub imm/shifted/extended,
// adc/sbc, logical imm/shifted, movz/movn/movk, bitfield, extr, variable shifts, div, madd/msub/
// smaddl/umaddl/umulh/smulh, csel family, ccmp/ccmn, rbit/rev*/clz/cls, loads/stores of every size
// and form incl. pairs with writeback) plus forward branches (b.cond, cbz/cbnz, tbz/tbnz, b) and
// counted loops, calls to subroutines (bl, adr + blr, ret) and literal loads.
//
// Register discipline: x0-x15 are written freely; x16 = loop counter; x17 = a small index for
// register-offset addressing; x19 = data + 2048 (never written); x21 = data + 4096 walks with
// pre/post-index writeback, so accesses cross the page boundary at data + 4096 now and then;
// x22 keeps the caller's x30 across bl/blr; x23 = call target; subroutines and loops nest no
// calls, and a loop body contains no call.
import { Rng } from '../../support/rng.js';
import { decodeA64 } from '../../emulator/arm64/decode.js';

const scratch = new Int32Array(8);

function ok(word: number): boolean {
  return decodeA64(word >>> 0, 0x10000, scratch, 0);
}

const DST = 16; // x0..x15
function dst(r: Rng): number {
  return r.below(DST);
}
/** Sources: x0..x17, sometimes the zero register (31). */
function src(r: Rng): number {
  return r.below(10) === 0 ? 31 : r.below(18);
}

/** One random straight-line instruction (never a branch). */
export function randomInsn(r: Rng): number {
  for (;;) {
    const w = candidate(r) >>> 0;
    if (ok(w)) return w;
  }
}

function candidate(r: Rng): number {
  const sf = r.bool(0.7) ? 1 : 0;
  const rd = dst(r), rn = src(r), rm = src(r);
  const S = sf << 31;
  switch (r.below(22)) {
    case 0: // add/sub immediate (rn may be sp when 31: only as a source)
      return S | (r.below(2) << 30) | (r.below(2) << 29) | 0x11000000 | (r.below(2) << 22) | (r.below(4096) << 10) | (rn << 5) | rd;
    case 1: { // logical immediate
      const n = sf ? r.below(2) : 0;
      return S | (r.below(4) << 29) | 0x12000000 | (n << 22) | (r.below(64) << 16) | (r.below(64) << 10) | (rn << 5) | rd;
    }
    case 2: // movz / movn / movk
      return S | ([0, 2, 3][r.below(3)]! << 29) | 0x12800000 | (r.below(sf ? 4 : 2) << 21) | (r.below(65536) << 5) | rd;
    case 3: { // bitfield: sbfm / bfm / ubfm
      const lim = sf ? 64 : 32;
      return S | (r.below(3) << 29) | 0x13000000 | (sf << 22) | (r.below(lim) << 16) | (r.below(lim) << 10) | (rn << 5) | rd;
    }
    case 4: // extr
      return S | 0x13800000 | (sf << 22) | (rm << 16) | (r.below(sf ? 64 : 32) << 10) | (rn << 5) | rd;
    case 5:
    case 6: // add/sub shifted register
      return S | (r.below(2) << 30) | (r.below(2) << 29) | 0x0b000000 | (r.below(3) << 22) | (rm << 16) | (r.below(sf ? 64 : 32) << 10) | (rn << 5) | rd;
    case 7: // add/sub extended register (rn = sp when 31)
      return S | (r.below(2) << 30) | (r.below(2) << 29) | 0x0b200000 | (rm << 16) | (r.below(8) << 13) | (r.below(5) << 10) | (rn << 5) | rd;
    case 8: // logical shifted register (and, bic, orr, orn, eor, eon, ands, bics)
      return S | (r.below(4) << 29) | 0x0a000000 | (r.below(4) << 22) | (r.below(2) << 21) | (rm << 16) | (r.below(sf ? 64 : 32) << 10) | (rn << 5) | rd;
    case 9: // adc / adcs / sbc / sbcs
      return S | (r.below(2) << 30) | (r.below(2) << 29) | 0x1a000000 | (rm << 16) | (rn << 5) | rd;
    case 10: // ccmp / ccmn, register or immediate
      return S | (r.below(2) << 30) | 0x3a400000 | (r.below(2) ? rm << 16 : r.below(32) << 16) | (r.below(16) << 12) | (r.below(2) << 11) | (rn << 5) | r.below(16);
    case 11:
    case 12: // csel / csinc / csinv / csneg
      return S | (r.below(2) << 30) | 0x1a800000 | (rm << 16) | (r.below(16) << 12) | (r.below(2) << 10) | (rn << 5) | rd;
    case 13: // udiv sdiv lslv lsrv asrv rorv
      return S | 0x1ac00000 | (rm << 16) | ([2, 3, 8, 9, 10, 11][r.below(6)]! << 10) | (rn << 5) | rd;
    case 14: // rbit rev16 rev32/rev clz cls
      return S | 0x5ac00000 | (r.below(6) << 10) | (rn << 5) | rd;
    case 15: { // madd msub smaddl smsubl umaddl umsubl umulh smulh
      const op31 = sf ? [0, 1, 5, 2, 6][r.below(5)]! : 0;
      const o0 = op31 === 2 || op31 === 6 ? 0 : r.below(2);
      const ra = op31 === 2 || op31 === 6 ? 31 : src(r);
      return S | 0x1b000000 | (op31 << 21) | (rm << 16) | (o0 << 15) | (ra << 10) | (rn << 5) | rd;
    }
    default:
      return memInsn(r);
  }
}

/** Loads and stores over x19 (fixed) and x21 (walking); transfer registers x0..x15 / zr. */
function memInsn(r: Rng): number {
  const rt = r.below(12) === 0 ? 31 : r.below(DST);
  const size = r.below(4);
  const opc = r.below(size === 3 ? 2 : size === 2 ? 3 : 4); // str, ldr, ldrs(x), ldrs(w)
  const imm9 = (v: number): number => (v & 0x1ff) << 12;
  switch (r.below(6)) {
    case 0: // unsigned scaled offset from x19 or x21
      return (size << 30) | 0x39000000 | (opc << 22) | (r.below(64) << 10) | ((r.bool() ? 19 : 21) << 5) | rt;
    case 1: // unscaled, -256..255
      return (size << 30) | 0x38000000 | (opc << 22) | imm9(r.int(-256, 255)) | ((r.bool() ? 19 : 21) << 5) | rt;
    case 2: // pre / post index on x21
      return (size << 30) | 0x38000000 | (opc << 22) | imm9(r.int(-64, 64)) | ((r.bool() ? 1 : 3) << 10) | (21 << 5) | rt;
    case 3: // register offset [x19, x17 {, extend {#size}}]
      return (size << 30) | 0x38200800 | (opc << 22) | (17 << 16) | ([2, 3, 6, 7][r.below(4)]! << 13) | (r.below(2) << 12) | (19 << 5) | rt;
    default: { // ldp / stp / ldpsw, offset / pre / post
      const popc = [0, 2, 1][r.below(3)]!; // w, x, ldpsw
      const l = popc === 1 ? 1 : r.below(2);
      const mode = [1, 2, 3][r.below(3)]!;
      const rn = mode === 2 && r.bool() ? 19 : 21;
      let rt2 = r.below(DST);
      if (l && rt2 === rt) rt2 = (rt + 1) % DST;
      return (popc << 30) | 0x28000000 | (mode << 23) | (l << 22) | ((r.int(-8, 8) & 0x7f) << 15) | (rt2 << 10) | (rn << 5) | rt;
    }
  }
}

const BCOND = (cond: number, words: number): number => (0x54000000 | ((words & 0x7ffff) << 5) | cond) >>> 0;
const B = (words: number): number => (0x14000000 | (words & 0x3ffffff)) >>> 0;
export const RET = 0xd65f03c0;

/** A forward branch over `skip` instructions (target = this + skip + 1). */
function forwardBranch(r: Rng, skip: number): number {
  const off = skip + 1;
  const rt = src(r) & 31;
  switch (r.below(5)) {
    case 0:
    case 1:
      return BCOND(r.below(16), off);
    case 2: // cbz / cbnz
      return ((r.bool() ? 1 << 31 : 0) | 0x34000000 | (r.below(2) << 24) | ((off & 0x7ffff) << 5) | rt) >>> 0;
    case 3: { // tbz / tbnz
      const bit = r.below(64);
      return (((bit >> 5) << 31) | 0x36000000 | (r.below(2) << 24) | ((bit & 31) << 19) | ((off & 0x3fff) << 5) | rt) >>> 0;
    }
    default:
      return B(off);
  }
}

export interface GenOptions {
  /** Instructions in the body (before the final ret). */
  length: number;
  /** Probability of a forward branch at each position. */
  branches: number;
  /** Probability of wrapping a segment in a counted loop (x16). */
  loops: number;
  /** Probability of a call (bl, or adr + blr) to a subroutine, or a pc-relative literal load. */
  calls?: number;
}

const SUBS = 3;
const LITS = 4;

/**
 * A random program: `mov x22, x30; body; mov x30, x22; ret`, then SUBS subroutines (random
 * straight-line code ending in ret) and a literal pool of LITS doublewords. The body may call the
 * subroutines (bl, or adr x23 + blr x23) and load literals (ldr / ldrsw literal).
 */
export function randomProgram(r: Rng, o: GenOptions): number[] {
  const out: number[] = [0xaa1e03f6]; // mov x22, x30
  const fix: Array<{ at: number; kind: 'bl' | 'adr' | 'lit'; k: number }> = [];
  const pCalls = o.calls ?? 0;
  while (out.length < o.length) {
    if (r.float() < pCalls) {
      const k = r.below(SUBS);
      switch (r.below(3)) {
        case 0:
          fix.push({ at: out.length, kind: 'bl', k });
          out.push(0x94000000);
          break;
        case 1:
          fix.push({ at: out.length, kind: 'adr', k });
          out.push(0x10000017, 0xd63f02e0); // adr x23, sub; blr x23
          break;
        default:
          fix.push({ at: out.length, kind: 'lit', k: r.below(LITS) });
          out.push([0x58000000, 0x18000000, 0x98000000][r.below(3)]! | r.below(DST)); // ldr x / ldr w / ldrsw
      }
      continue;
    }
    if (r.float() < o.loops) {
      const body = Array.from({ length: 1 + r.below(8) }, () => randomInsn(r));
      // movz x16, #n; body; subs x16, x16, #1 | sub + cbnz; b.ne / cbnz back to the body
      out.push((0xd2800000 | ((1 + r.below(40)) << 5) | 16) >>> 0);
      out.push(...body);
      if (r.bool()) {
        out.push(0xf1000610); // subs x16, x16, #1
        out.push(BCOND(1, -(body.length + 1)));
      } else {
        out.push(0xd1000610); // sub x16, x16, #1
        out.push((0xb5000000 | ((-(body.length + 1) & 0x7ffff) << 5) | 16) >>> 0); // cbnz x16
      }
      continue;
    }
    if (r.float() < o.branches) {
      const skip = 1 + r.below(4);
      out.push(forwardBranch(r, skip));
      for (let k = 0; k < skip; k++) out.push(randomInsn(r));
      continue;
    }
    out.push(randomInsn(r));
  }
  out.push(0xaa1603fe, RET); // mov x30, x22; ret
  const subAt: number[] = [];
  for (let k = 0; k < SUBS; k++) {
    subAt.push(out.length);
    for (let i = 1 + r.below(6); i > 0; i--) out.push(randomInsn(r));
    out.push(RET);
  }
  if (out.length % 2) out.push(0xd503201f); // nop: 8-byte aligned pool
  const litAt = out.length;
  for (let k = 0; k < 2 * LITS; k++) out.push(r.int(0, 0x7fffffff) ^ (r.bool() ? 0x80000000 : 0));
  for (const f of fix) {
    const target = f.kind === 'lit' ? litAt + 2 * f.k : subAt[f.k]!;
    const off = target - f.at;
    if (f.kind === 'bl') out[f.at] = (0x94000000 | (off & 0x3ffffff)) >>> 0;
    else if (f.kind === 'lit') out[f.at] = (out[f.at]! | ((off & 0x7ffff) << 5)) >>> 0;
    else {
      const bytes = off * 4;
      out[f.at] = (0x10000017 | ((bytes & 3) << 29) | (((bytes >> 2) & 0x7ffff) << 5)) >>> 0;
    }
  }
  return out;
}

/** Interesting 64-bit register values (as bigint) for initial states. */
export function randomValue(r: Rng): bigint {
  switch (r.below(8)) {
    case 0: return 0n;
    case 1: return 0xffffffffffffffffn;
    case 2: return 0x8000000000000000n;
    case 3: return 0x7fffffffffffffffn;
    case 4: return BigInt(r.below(256));
    case 5: return 0x80000000n + BigInt(r.below(3)) - 1n;
    default: return (BigInt(r.int(0, 0x7fffffff) >>> 0) << 33n) ^ (BigInt(r.int(0, 0x7fffffff) >>> 0) << 1n) ^ BigInt(r.below(2));
  }
}
