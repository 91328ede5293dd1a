// The arm64 interpreter loop: runs decoded blocks (decode.ts records in the shared decode cache)
// on an Arm64Machine, following chained successors without returning to the caller.
//
// Invariants: one `switch` per record over the typed-array record, no allocation per instruction;
// 64-bit values stay int32 pairs. A control-flow record is always the last one of its block, so the
// block's exit kind (EXIT_*) says where control goes; linked successors (blkLink) are entered
// directly. Guest addresses are doubles, so they are not passed between non-inlined functions on the
// hot path (a boxed HeapNumber per call): block ids are, and a pc is computed only when needed.
// Hot operations are inline in execChain; the rest live in execRare to keep execChain small enough
// for V8 to optimise well. On a fault cpu.curB / cpu.faultIndex name the faulting record (the
// machine attaches pc and instruction text); the faulting instruction has changed nothing.
// Semantics: Arm ARM (DDI 0487) shared pseudocode: AddWithCarry, ShiftReg, ExtendReg,
// DecodeBitMasks-based BFM, ConditionHolds; loads/stores little-endian, unaligned allowed (Normal
// memory) except for exclusives, acquire/release and LSE atomics.

import * as alu from './alu.js';
import type { Arm64Machine as Arm64Cpu } from './machine.js';
import { type DecodeCache } from '../decode-cache.js';
import * as dc from '../decode-cache.js';
import * as dec from './decode.js';
import { PcAlignmentFault } from './faults.js';
import { isCanonical, isCanonicalPair, vaddrFromPair } from '../../support/u64.js';

// Imported bindings copied into module-local constants once: under vitest's module runner every
// access to an imported binding is a getter call, which would dominate the interpreter loop.
// Op values appear as literals with their names in comments (a const enum is not inlined across
// files there); test/emulator/arm64-faults.test.ts checks them against decode.ts.
const { condHolds, extend64, mul64, res, shift32, shift64, rbit32, bswap32, rev16in32, cls32, cls64, smulh64, umulh64, udiv64, sdiv64, umul32 } = alu;
const { REC_WORDS } = dc;
const { AT_ADD, AT_CLR, AT_EOR, AT_SET, AT_SMAX, AT_SMIN, AT_UMAX, AT_UMIN, FL_S, FL_SF, FL_SUB, MK_LOADS32, MK_LOADS64 } = dec;
const { MK_STORE, R_A, R_B, R_C, R_D, R_FL, R_REGS, R_SINK, R_ZR, WB_POST, WB_PRE } = dec;

const TWO32 = 4294967296;

/** AddWithCarry on 64-bit pairs: rd = a + b + cin, flags if s. */
function add64(cpu: Arm64Cpu, rd: number, alo: number, ahi: number, blo: number, bhi: number, cin: number, s: boolean): void {
  const l = (alo >>> 0) + (blo >>> 0) + cin;
  const h = (ahi >>> 0) + (bhi >>> 0) + (l > 0xffffffff ? 1 : 0);
  const rlo = l | 0, rhi = h | 0;
  cpu.lo[rd] = rlo;
  cpu.hi[rd] = rhi;
  if (s) {
    cpu.nf = rhi >>> 31;
    cpu.zf = (rlo | rhi) === 0 ? 1 : 0;
    cpu.cf = h > 0xffffffff ? 1 : 0;
    cpu.vf = ((ahi ^ rhi) & (bhi ^ rhi)) >>> 31;
  }
}

function add32(cpu: Arm64Cpu, rd: number, a: number, b: number, cin: number, s: boolean): void {
  const l = (a >>> 0) + (b >>> 0) + cin;
  const r = l | 0;
  cpu.lo[rd] = r;
  cpu.hi[rd] = 0;
  if (s) {
    cpu.nf = r >>> 31;
    cpu.zf = r === 0 ? 1 : 0;
    cpu.cf = l > 0xffffffff ? 1 : 0;
    cpu.vf = ((a ^ r) & (b ^ r)) >>> 31;
  }
}

function addsub(cpu: Arm64Cpu, rd: number, rn: number, blo: number, bhi: number, fl: number): void {
  const sub = (fl & FL_SUB) !== 0;
  if (fl & FL_SF) {
    if (sub) add64(cpu, rd, cpu.lo[rn], cpu.hi[rn], ~blo, ~bhi, 1, (fl & FL_S) !== 0);
    else add64(cpu, rd, cpu.lo[rn], cpu.hi[rn], blo, bhi, 0, (fl & FL_S) !== 0);
  } else add32(cpu, rd, cpu.lo[rn], sub ? ~blo : blo, sub ? 1 : 0, (fl & FL_S) !== 0);
}

function logicFlags(cpu: Arm64Cpu, rlo: number, rhi: number, sf: boolean): void {
  cpu.nf = (sf ? rhi : rlo) >>> 31;
  cpu.zf = (sf ? rlo | rhi : rlo) === 0 ? 1 : 0;
  cpu.cf = 0;
  cpu.vf = 0;
}

function logic(cpu: Arm64Cpu, rd: number, alo: number, ahi: number, blo: number, bhi: number, op: number, fl: number): void {
  let rlo: number, rhi: number;
  switch (op) {
    case 0: case 3: rlo = alo & blo; rhi = ahi & bhi; break;
    case 1: rlo = alo | blo; rhi = ahi | bhi; break;
    default: rlo = alo ^ blo; rhi = ahi ^ bhi; break;
  }
  const sf = (fl & FL_SF) !== 0;
  if (!sf) rhi = 0;
  cpu.lo[rd] = rlo;
  cpu.hi[rd] = rhi;
  if (op === 3) logicFlags(cpu, rlo, rhi, sf);
}

function vaddr(lo: number, hi: number): number {
  return hi * TWO32 + (lo >>> 0);
}

/** Value of a register truncated to `1 << size` bytes (lo only for size < 3). */
function maskSize(v: number, size: number): number {
  return size === 0 ? v & 0xff : size === 1 ? v & 0xffff : v;
}

function atomicOp(op: number, size: number, olo: number, ohi: number, slo: number, shi: number): void {
  if (size === 3) {
    let lt: boolean; // old < s
    switch (op) {
      case AT_ADD: {
        const l = (olo >>> 0) + (slo >>> 0);
        res[0] = l | 0;
        res[1] = (ohi + shi + (l > 0xffffffff ? 1 : 0)) | 0;
        return;
      }
      case AT_CLR: res[0] = olo & ~slo; res[1] = ohi & ~shi; return;
      case AT_EOR: res[0] = olo ^ slo; res[1] = ohi ^ shi; return;
      case AT_SET: res[0] = olo | slo; res[1] = ohi | shi; return;
      case AT_SMAX: case AT_SMIN:
        lt = ohi !== shi ? (ohi | 0) < (shi | 0) : olo >>> 0 < slo >>> 0;
        break;
      case AT_UMAX: case AT_UMIN:
        lt = ohi !== shi ? ohi >>> 0 < shi >>> 0 : olo >>> 0 < slo >>> 0;
        break;
      default: res[0] = slo; res[1] = shi; return;
    }
    const takeS = op === AT_SMAX || op === AT_UMAX ? lt : !lt && !(olo === slo && ohi === shi);
    res[0] = takeS ? slo : olo;
    res[1] = takeS ? shi : ohi;
    return;
  }
  const o = olo, s = maskSize(slo, size);
  const bitsz = 8 << size;
  const sx = (v: number): number => (v << (32 - bitsz)) >> (32 - bitsz);
  let r: number;
  switch (op) {
    case AT_ADD: r = o + s; break;
    case AT_CLR: r = o & ~s; break;
    case AT_EOR: r = o ^ s; break;
    case AT_SET: r = o | s; break;
    case AT_SMAX: r = sx(o) >= sx(s) ? o : s; break;
    case AT_SMIN: r = sx(o) <= sx(s) ? o : s; break;
    case AT_UMAX: r = o >>> 0 >= s >>> 0 ? o : s; break;
    case AT_UMIN: r = o >>> 0 <= s >>> 0 ? o : s; break;
    default: r = s; break;
  }
  res[0] = maskSize(r | 0, size);
  res[1] = 0;
}

/** How a block was left: fell off its end, took its static branch, or an indirect one (jlo/jhi). */
export const EXIT_FALL = 0, EXIT_TAKEN = 1, EXIT_INDIRECT = 2, EXIT_BUDGET = 3;
/** execChain ended its slice: continue with the valid linked block cpu.curB (none of it ran). */
export const EXIT_NEXT = 4;
/**
 * Linked block entries one execChain call follows. A guest loop must not keep execChain inside
 * one invocation: returning now and then lets V8 optimise it as a whole (regular TurboFan code,
 * faster here than on-stack-replacement code) and gives the return path type feedback before the
 * first optimisation, so the optimised code survives the end of a long loop.
 */
const CHAIN_SLICE = 256;

/** Records executed outside the hot switch (kept small so V8 optimises the hot loop well). */
function execRare(cpu: Arm64Cpu, rec: Int32Array, o: number, first: number, i: number, b: number): void {
  const lo = cpu.lo;
  const hi = cpu.hi;
  switch (rec[o]) {
    case 6 /* Op.ADD_EREG */: {
      const rm = (rec[o + R_REGS]! >>> 16) & 0xff;
      extend64(lo[rm], hi[rm], rec[o + R_C], rec[o + R_A]);
      addsub(cpu, rec[o + R_REGS]! & 0xff, (rec[o + R_REGS]! >>> 8) & 0xff, res[0], res[1], rec[o + R_FL]);
      break;
    }
    case 7 /* Op.ADC */: {
      const fl = rec[o + R_FL], rn = (rec[o + R_REGS]! >>> 8) & 0xff, rm = (rec[o + R_REGS]! >>> 16) & 0xff;
      const inv = (fl & FL_SUB) !== 0 ? -1 : 0;
      if (fl & FL_SF) add64(cpu, rec[o + R_REGS]! & 0xff, lo[rn], hi[rn], (lo[rm]) ^ inv, (hi[rm]) ^ inv, cpu.cf, (fl & FL_S) !== 0);
      else add32(cpu, rec[o + R_REGS]! & 0xff, lo[rn], (lo[rm]) ^ inv, cpu.cf, (fl & FL_S) !== 0);
      break;
    }
    case 11 /* Op.SBFM */:
    case 12 /* Op.BFM */: {
      const rd = rec[o + R_REGS]! & 0xff, rn = (rec[o + R_REGS]! >>> 8) & 0xff, r = (rec[o + R_REGS]! >>> 16) & 0xff, s = rec[o + R_REGS]! >>> 24;
      const wlo = rec[o + R_A], whi = rec[o + R_B], tlo = rec[o + R_C], thi = rec[o + R_D];
      const sf = ((rec[o + R_FL]) & FL_SF) !== 0;
      let rlo: number, rhi: number;
      if (sf) {
        shift64(lo[rn], hi[rn], 3, r);
        rlo = res[0];
        rhi = res[1];
      } else {
        rlo = shift32(lo[rn], 3, r);
        rhi = 0;
      }
      if (rec[o] === 11 /* Op.SBFM */) {
        const bit = s < 32 ? ((lo[rn]) >>> s) & 1 : ((hi[rn]) >>> (s - 32)) & 1;
        const top = -bit;
        lo[rd] = (top & ~tlo) | (rlo & wlo & tlo);
        hi[rd] = sf ? (top & ~thi) | (rhi & whi & thi) : 0;
      } else {
        const dlo = lo[rd], dhi = hi[rd];
        const blo = (dlo & ~wlo) | (rlo & wlo), bhi = (dhi & ~whi) | (rhi & whi);
        lo[rd] = (dlo & ~tlo) | (blo & tlo);
        hi[rd] = sf ? (dhi & ~thi) | (bhi & thi) : 0;
      }
      break;
    }
    case 13 /* Op.EXTR */: {
      const rd = rec[o + R_REGS]! & 0xff, rn = (rec[o + R_REGS]! >>> 8) & 0xff, rm = (rec[o + R_REGS]! >>> 16) & 0xff, lsb = rec[o + R_A];
      if ((rec[o + R_FL]) & FL_SF) {
        const nlo = lo[rn], nhi = hi[rn], mlo = lo[rm], mhi = hi[rm];
        if (lsb === 0) { lo[rd] = mlo; hi[rd] = mhi; }
        else if (lsb < 32) { lo[rd] = (mlo >>> lsb) | (mhi << (32 - lsb)); hi[rd] = (mhi >>> lsb) | (nlo << (32 - lsb)); }
        else if (lsb === 32) { lo[rd] = mhi; hi[rd] = nlo; }
        else { const k = lsb - 32; lo[rd] = (mhi >>> k) | (nlo << (32 - k)); hi[rd] = (nlo >>> k) | (nhi << (32 - k)); }
      } else {
        const m = lo[rm], nn = lo[rn];
        lo[rd] = lsb === 0 ? m : (m >>> lsb) | (nn << (32 - lsb));
        hi[rd] = 0;
      }
      break;
    }
    case 14 /* Op.SHIFTV */: {
      const rd = rec[o + R_REGS]! & 0xff, rn = (rec[o + R_REGS]! >>> 8) & 0xff, amt = lo[(rec[o + R_REGS]! >>> 16) & 0xff];
      if ((rec[o + R_FL]) & FL_SF) {
        shift64(lo[rn], hi[rn], rec[o + R_C], amt & 63);
        lo[rd] = res[0];
        hi[rd] = res[1];
      } else {
        lo[rd] = shift32(lo[rn], rec[o + R_C], amt & 31);
        hi[rd] = 0;
      }
      break;
    }
    case 15 /* Op.UDIV */:
    case 16 /* Op.SDIV */: {
      const rd = rec[o + R_REGS]! & 0xff, rn = (rec[o + R_REGS]! >>> 8) & 0xff, rm = (rec[o + R_REGS]! >>> 16) & 0xff;
      if ((rec[o + R_FL]) & FL_SF) {
        if (rec[o] === 15 /* Op.UDIV */) udiv64(lo[rn], hi[rn], lo[rm], hi[rm]);
        else sdiv64(lo[rn], hi[rn], lo[rm], hi[rm]);
        lo[rd] = res[0];
        hi[rd] = res[1];
      } else {
        const a = lo[rn], d = lo[rm];
        lo[rd] = d === 0 ? 0 : rec[o] === 15 /* Op.UDIV */ ? Math.floor((a >>> 0) / (d >>> 0)) | 0 : Math.trunc(a / d) | 0;
        hi[rd] = 0;
      }
      break;
    }
    case 17 /* Op.MADD */:
    case 18 /* Op.MADDL */: {
      const rd = rec[o + R_REGS]! & 0xff, rn = (rec[o + R_REGS]! >>> 8) & 0xff, rm = (rec[o + R_REGS]! >>> 16) & 0xff, ra = rec[o + R_REGS]! >>> 24;
      const fl = rec[o + R_FL];
      if (rec[o] === 18 /* Op.MADDL */) {
        const a = lo[rn], c = lo[rm];
        if (rec[o + R_C]) mul64(a, a >> 31, c, c >> 31);
        else umul32(a, c);
      } else if (fl & FL_SF) mul64(lo[rn], hi[rn], lo[rm], hi[rm]);
      else {
        const p = Math.imul(lo[rn], lo[rm]);
        lo[rd] = (fl & FL_SUB ? (lo[ra]) - p : (lo[ra]) + p) | 0;
        hi[rd] = 0;
        break;
      }
      const plo = res[0], phi = res[1];
      if (fl & FL_SUB) add64(cpu, rd, lo[ra], hi[ra], ~plo, ~phi, 1, false);
      else add64(cpu, rd, lo[ra], hi[ra], plo, phi, 0, false);
      break;
    }
    case 19 /* Op.UMULH */:
    case 20 /* Op.SMULH */: {
      const rd = rec[o + R_REGS]! & 0xff, rn = (rec[o + R_REGS]! >>> 8) & 0xff, rm = (rec[o + R_REGS]! >>> 16) & 0xff;
      if (rec[o] === 19 /* Op.UMULH */) umulh64(lo[rn], hi[rn], lo[rm], hi[rm]);
      else smulh64(lo[rn], hi[rn], lo[rm], hi[rm]);
      lo[rd] = res[0];
      hi[rd] = res[1];
      break;
    }
    case 22 /* Op.CCMP */: {
      if (condHolds(rec[o + R_A], cpu.nf, cpu.zf, cpu.cf, cpu.vf)) {
        const rm = (rec[o + R_REGS]! >>> 16) & 0xff;
        const blo = rec[o + R_B] ? (rec[o + R_C]) : (lo[rm]);
        const bhi = rec[o + R_B] ? 0 : (hi[rm]);
        addsub(cpu, R_SINK, (rec[o + R_REGS]! >>> 8) & 0xff, blo, bhi, (rec[o + R_FL]) | FL_S);
      } else cpu.nzcv = rec[o + R_D];
      break;
    }
    case 23 /* Op.UNARY */: {
      const rd = rec[o + R_REGS]! & 0xff, rn = (rec[o + R_REGS]! >>> 8) & 0xff;
      const a = lo[rn], h = hi[rn];
      if ((rec[o + R_FL]) & FL_SF) {
        let rlo: number, rhi: number;
        switch (rec[o + R_C]) {
          case 0: rlo = rbit32(h); rhi = rbit32(a); break;
          case 1: rlo = rev16in32(a); rhi = rev16in32(h); break;
          case 2: rlo = bswap32(a); rhi = bswap32(h); break;
          case 3: rlo = bswap32(h); rhi = bswap32(a); break;
          case 4: rlo = h !== 0 ? Math.clz32(h) : 32 + Math.clz32(a); rhi = 0; break;
          default: rlo = cls64(a, h); rhi = 0; break;
        }
        lo[rd] = rlo;
        hi[rd] = rhi;
      } else {
        let r: number;
        switch (rec[o + R_C]) {
          case 0: r = rbit32(a); break;
          case 1: r = rev16in32(a); break;
          case 3: r = bswap32(a); break;
          case 4: r = Math.clz32(a); break;
          default: r = cls32(a); break;
        }
        lo[rd] = r;
        hi[rd] = 0;
      }
      break;
    }
    case 34 /* Op.CLREX */:
      cpu.exclSize = -1;
      break;
    case 35 /* Op.IC_IVAU */: {
      const rn = (rec[o + R_REGS]! >>> 8) & 0xff;
      cpu.icInvalidate(lo[rn]!, hi[rn]!);
      break;
    }
    case 40 /* Op.LDX */:
    case 41 /* Op.STX */:
    case 42 /* Op.ATOMIC */:
    case 43 /* Op.CAS */: {
      const op = rec[o], regs = rec[o + R_REGS]!;
      const size = rec[o + R_FL]! & 3, rt = regs & 0xff, rn = (regs >>> 8) & 0xff, rs = (regs >>> 16) & 0xff;
      const alo = lo[rn]!, ahi = hi[rn]!;
      if ((alo & ((1 << size) - 1)) !== 0) throw cpu.alignmentFault(alo, ahi, size, first + i, cpu.cache.blkPc[b]! + 4 * i);
      if (op === 40 /* Op.LDX */) {
        cpu.load(alo, ahi, size, 0);
        lo[rt] = cpu.vlo;
        hi[rt] = cpu.vhi;
        if (rec[o + R_C]) {
          cpu.exclLo = alo;
          cpu.exclHi = ahi;
          cpu.exclSize = size;
        }
      } else if (op === 41 /* Op.STX */) {
        if (rec[o + R_C]) {
          const ok = cpu.exclSize === size && cpu.exclLo === alo && cpu.exclHi === ahi;
          if (ok) cpu.store(alo, ahi, size, lo[rt]!, hi[rt]!);
          cpu.exclSize = -1;
          lo[rs] = ok ? 0 : 1;
          hi[rs] = 0;
        } else cpu.store(alo, ahi, size, lo[rt]!, hi[rt]!);
      } else {
        cpu.port.probeWrite(alo, ahi, 1 << size);
        cpu.load(alo, ahi, size, 0);
        const olo = cpu.vlo, ohi = cpu.vhi;
        if (op === 42 /* Op.ATOMIC */) {
          atomicOp(rec[o + R_C]!, size, olo, ohi, lo[rs]!, hi[rs]!);
          cpu.store(alo, ahi, size, res[0]!, res[1]!);
          lo[rt] = olo;
          hi[rt] = ohi;
        } else {
          const eq = size === 3 ? olo === lo[rs] && ohi === hi[rs] : olo === maskSize(lo[rs]!, size);
          if (eq) cpu.store(alo, ahi, size, lo[rt]!, hi[rt]!);
          if (rs !== R_ZR) {
            lo[rs] = olo;
            hi[rs] = ohi;
          }
        }
      }
      break;
    }
    default:
      throw cpu.trapFor(first + i, cpu.cache.blkPc[b]! + 4 * i);
  }
}

/**
 * Run decode-cache block `b` and then its linked successors (blkLink) for at most `left` retired
 * instructions, until a block exits through an unlinked edge, an indirect branch or the budget.
 * Returns the exit kind (EXIT_*); cpu.curB / cpu.curN name the last block and how many of its
 * records ran, cpu.retired counts every retired instruction. The static target of EXIT_TAKEN is
 * the A:B pair of the last record run; EXIT_INDIRECT leaves its target in cpu.jlo/jhi. With
 * `single` only one block runs (tracing and the access observer need every block reported).
 * EXIT_NEXT: CHAIN_SLICE linked entries were followed, or the next one has translated code
 * (`txAt`, TranslationTier.regionMap); cpu.curB is the next block (not started).
 * On a fault: cpu.curB is the block, cpu.faultIndex the record index in it, cpu.retired the count.
 */
export function execChain(cpu: Arm64Cpu, c: DecodeCache, b: number, left: number, single: boolean, from = 0, txAt: Int32Array | null = null): number {
  const lo = cpu.lo;
  const hi = cpu.hi;
  const rec = c.recs;
  let retired = 0;
  let i = 0;
  let slice = CHAIN_SLICE;
  try {
    for (;;) {
      const first = c.blkFirst[b]!, cnt = c.blkCount[b]!;
      // `from`: the first block starts at that record (the translation tier resumed it there).
      const room = left - retired + from;
      const n = cnt <= room ? cnt : room;
      if (n <= from) {
        cpu.curB = b;
        cpu.curN = 0;
        cpu.retired = retired;
        return EXIT_BUDGET;
      }
      let exit = EXIT_FALL;
      records: for (i = from; i < n; i++) {
      const o = (first + i) * REC_WORDS;
      switch (rec[o]) {
        case 4 /* Op.ADD_IMM */:
        case 5 /* Op.ADD_SREG */: {
          const regs = rec[o + R_REGS]!, fl = rec[o + R_FL]!;
          const rd = regs & 0xff, rn = (regs >>> 8) & 0xff;
          let blo: number, bhi: number;
          if (rec[o] === 4 /* Op.ADD_IMM */) {
            blo = rec[o + R_A]!;
            bhi = 0;
          } else {
            const rm = (regs >>> 16) & 0xff, amt = rec[o + R_A]!;
            if (amt === 0) {
              blo = lo[rm]!;
              bhi = hi[rm]!;
            } else if (fl & FL_SF) {
              shift64(lo[rm]!, hi[rm]!, rec[o + R_C]!, amt);
              blo = res[0]!;
              bhi = res[1]!;
            } else {
              blo = shift32(lo[rm]!, rec[o + R_C]!, amt);
              bhi = 0;
            }
          }
          let cin = 0;
          if (fl & FL_SUB) {
            blo = ~blo;
            bhi = ~bhi;
            cin = 1;
          }
          const alo = lo[rn]!;
          if (fl & FL_SF) {
            const ahi = hi[rn]!;
            const l = (alo >>> 0) + (blo >>> 0) + cin;
            const h = (ahi >>> 0) + (bhi >>> 0) + (l > 0xffffffff ? 1 : 0);
            const rlo = l | 0, rhi = h | 0;
            lo[rd] = rlo;
            hi[rd] = rhi;
            if (fl & FL_S) {
              cpu.nf = rhi >>> 31;
              cpu.zf = (rlo | rhi) === 0 ? 1 : 0;
              cpu.cf = h > 0xffffffff ? 1 : 0;
              cpu.vf = ((ahi ^ rhi) & (bhi ^ rhi)) >>> 31;
            }
          } else add32(cpu, rd, alo, blo, cin, (fl & FL_S) !== 0);
          break;
        }
        case 2 /* Op.MOVI */: {
          const rd = rec[o + R_REGS]! & 0xff;
          lo[rd] = rec[o + R_A];
          hi[rd] = rec[o + R_B];
          break;
        }
        case 3 /* Op.MOVK */: {
          const rd = rec[o + R_REGS]! & 0xff, sh = rec[o + R_C], v = rec[o + R_A];
          if (sh < 32) lo[rd] = ((lo[rd]) & ~(0xffff << sh)) | (v << sh);
          else hi[rd] = ((hi[rd]) & ~(0xffff << (sh - 32))) | (v << (sh - 32));
          if (!((rec[o + R_FL]) & FL_SF)) hi[rd] = 0;
          break;
        }
        case 8 /* Op.LOG_IMM */: {
          const rn = (rec[o + R_REGS]! >>> 8) & 0xff;
          logic(cpu, rec[o + R_REGS]! & 0xff, lo[rn], hi[rn], rec[o + R_A], rec[o + R_B], rec[o + R_C], rec[o + R_FL]);
          break;
        }
        case 9 /* Op.LOG_SREG */: {
          const regs = rec[o + R_REGS]!, fl = rec[o + R_FL]!, rm = (regs >>> 16) & 0xff, amt = rec[o + R_A]!;
          let blo: number, bhi: number;
          if (amt === 0) {
            blo = lo[rm]!;
            bhi = hi[rm]!;
          } else if (fl & FL_SF) {
            shift64(lo[rm]!, hi[rm]!, rec[o + R_C]!, amt);
            blo = res[0]!;
            bhi = res[1]!;
          } else {
            blo = shift32(lo[rm]!, rec[o + R_C]!, amt);
            bhi = 0;
          }
          if (rec[o + R_B]) {
            blo = ~blo;
            bhi = ~bhi;
          }
          const rn = (regs >>> 8) & 0xff, rd = regs & 0xff, op = rec[o + R_D]!;
          let rlo: number, rhi: number;
          if (op === 1) {
            rlo = lo[rn]! | blo;
            rhi = hi[rn]! | bhi;
          } else if (op === 2) {
            rlo = lo[rn]! ^ blo;
            rhi = hi[rn]! ^ bhi;
          } else {
            rlo = lo[rn]! & blo;
            rhi = hi[rn]! & bhi;
          }
          const sf = (fl & FL_SF) !== 0;
          if (!sf) rhi = 0;
          lo[rd] = rlo;
          hi[rd] = rhi;
          if (op === 3) logicFlags(cpu, rlo, rhi, sf);
          break;
        }
        case 10 /* Op.UBFM */: {
          const regs = rec[o + R_REGS]!, rd = regs & 0xff, rn = (regs >>> 8) & 0xff, r = (regs >>> 16) & 0xff;
          const alo = lo[rn]!;
          if (rec[o + R_FL]! & FL_SF) {
            const ahi = hi[rn]!;
            let rlo: number, rhi: number;
            if (r === 0) {
              rlo = alo;
              rhi = ahi;
            } else if (r < 32) {
              rlo = (alo >>> r) | (ahi << (32 - r));
              rhi = (ahi >>> r) | (alo << (32 - r));
            } else if (r === 32) {
              rlo = ahi;
              rhi = alo;
            } else {
              const k = r - 32;
              rlo = (ahi >>> k) | (alo << (32 - k));
              rhi = (alo >>> k) | (ahi << (32 - k));
            }
            lo[rd] = rlo & rec[o + R_A]!;
            hi[rd] = rhi & rec[o + R_B]!;
          } else {
            lo[rd] = (r === 0 ? alo : (alo >>> r) | (alo << (32 - r))) & rec[o + R_A]!;
            hi[rd] = 0;
          }
          break;
        }
        case 21 /* Op.CSEL */: {
          const rd = rec[o + R_REGS]! & 0xff, sf = ((rec[o + R_FL]) & FL_SF) !== 0;
          let rlo: number, rhi: number;
          if (condHolds(rec[o + R_A], cpu.nf, cpu.zf, cpu.cf, cpu.vf)) {
            const rn = (rec[o + R_REGS]! >>> 8) & 0xff;
            rlo = lo[rn];
            rhi = hi[rn];
          } else {
            const rm = (rec[o + R_REGS]! >>> 16) & 0xff;
            rlo = lo[rm];
            rhi = hi[rm];
            switch (rec[o + R_C]) {
              case 1: { const l = (rlo >>> 0) + 1; rhi = (rhi + (l > 0xffffffff ? 1 : 0)) | 0; rlo = l | 0; break; }
              case 2: rlo = ~rlo; rhi = ~rhi; break;
              case 3: { rhi = (~rhi + (rlo === 0 ? 1 : 0)) | 0; rlo = -rlo | 0; break; }
              default: break;
            }
          }
          lo[rd] = rlo;
          hi[rd] = sf ? rhi : 0;
          break;
        }
        case 24 /* Op.B */:
          cpu.branches++;
          { exit = EXIT_TAKEN; break records; }
        case 25 /* Op.BL */: {
          const ret = cpu.cache.blkPc[b]! + 4 * i + 4;
          lo[30] = ret >>> 0;
          hi[30] = Math.floor(ret / TWO32);
          cpu.branches++;
          { exit = EXIT_TAKEN; break records; }
        }
        case 26 /* Op.BCOND */: {
          const c = rec[o + R_C]!;
          let t: boolean;
          switch (c >> 1) {
            case 0: t = cpu.zf === 1; break;
            case 1: t = cpu.cf === 1; break;
            case 2: t = cpu.nf === 1; break;
            case 3: t = cpu.vf === 1; break;
            case 4: t = cpu.cf === 1 && cpu.zf === 0; break;
            case 5: t = cpu.nf === cpu.vf; break;
            case 6: t = cpu.nf === cpu.vf && cpu.zf === 0; break;
            default: t = true;
          }
          if ((c & 1) === 1 && c !== 15) t = !t;
          if (t) {
            cpu.branches++;
            { exit = EXIT_TAKEN; break records; }
          }
          break;
        }
        case 27 /* Op.CBZ */: {
          const rn = (rec[o + R_REGS]! >>> 8) & 0xff;
          const v = (rec[o + R_FL]) & FL_SF ? (lo[rn]) | (hi[rn]) : (lo[rn]);
          if ((v === 0) !== (rec[o + R_C] === 1)) {
            cpu.branches++;
            { exit = EXIT_TAKEN; break records; }
          }
          break;
        }
        case 28 /* Op.TBZ */: {
          const rn = (rec[o + R_REGS]! >>> 8) & 0xff, bit = rec[o + R_C];
          const v = bit < 32 ? ((lo[rn]) >>> bit) & 1 : ((hi[rn]) >>> (bit - 32)) & 1;
          if ((v === 0) !== (rec[o + R_D] === 1)) {
            cpu.branches++;
            { exit = EXIT_TAKEN; break records; }
          }
          break;
        }
        case 29 /* Op.BR */:
        case 30 /* Op.BLR */:
        case 31 /* Op.RET */: {
          const rn = (rec[o + R_REGS]! >>> 8) & 0xff;
                    const pc = cpu.cache.blkPc[b]! + 4 * i;
          if ((lo[rn]! & 3) !== 0) throw new PcAlignmentFault(vaddr(lo[rn]!, hi[rn]!), pc);
          if (rec[o] === 30 /* Op.BLR */) {
            const ret = pc + 4;
            lo[30] = ret >>> 0;
            hi[30] = Math.floor(ret / TWO32);
          }
          if (cpu.btiEnforce && rec[o] !== 31 /* Op.RET */) {
            cpu.btype = rec[o] === 30 /* Op.BLR */ ? 2 : rn === 16 || rn === 17 ? 1 : 3;
            cpu.btypePc = pc;
          }
          cpu.branches++;
          cpu.jlo = lo[rn]!;
          cpu.jhi = hi[rn]!;
          { exit = EXIT_INDIRECT; break records; }
        }
        case 1 /* Op.NOP */:
          if (cpu.port.observer !== null) prefetchA64(cpu, rec[o + R_A]!, c.blkPc[b]! + 4 * i);
          break;
        case 33 /* Op.BTI */:
          break;
        case 36 /* Op.LDST */:
        case 37 /* Op.LDST_REG */:
        case 38 /* Op.LDR_LIT */:
        case 39 /* Op.LDP */: {
          const op = rec[o], regs = rec[o + R_REGS]!;
          const fl = rec[o + R_FL]!, size = fl & 3, kind = (fl >> 2) & 3, wb = (fl >> 4) & 3;
          const rn = (regs >>> 8) & 0xff, rt = regs & 0xff;
          let alo: number, ahi: number;
          if (op === 38 /* Op.LDR_LIT */) {
            alo = rec[o + R_A]!;
            ahi = rec[o + R_B]!;
          } else {
            let olo: number, ohi: number;
            if (op === 37 /* Op.LDST_REG */) {
              const rm = (regs >>> 16) & 0xff;
              extend64(lo[rm]!, hi[rm]!, rec[o + R_C]!, rec[o + R_A]!);
              olo = res[0]!;
              ohi = res[1]!;
            } else if (wb === WB_POST) {
              olo = 0;
              ohi = 0;
            } else {
              olo = rec[o + R_A]!;
              ohi = olo >> 31;
            }
            const l = (lo[rn]! >>> 0) + (olo >>> 0);
            alo = l | 0;
            ahi = (hi[rn]! + ohi + (l > 0xffffffff ? 1 : 0)) | 0;
          }
          if (op === 39 /* Op.LDP */) {
            const rt2 = regs >>> 24, step = 1 << size;
            const l2 = (alo >>> 0) + step;
            const blo = l2 | 0, bhi = (ahi + (l2 > 0xffffffff ? 1 : 0)) | 0;
            if (kind === MK_STORE) {
              cpu.port.probeWrite(alo, ahi, 2 * step);
              cpu.store(alo, ahi, size, lo[rt]!, hi[rt]!);
              cpu.store(blo, bhi, size, lo[rt2]!, hi[rt2]!);
            } else {
              cpu.load(alo, ahi, size, kind);
              const vlo = cpu.vlo, vhi = cpu.vhi;
              cpu.load(blo, bhi, size, kind);
              lo[rt] = vlo;
              hi[rt] = vhi;
              lo[rt2] = cpu.vlo;
              hi[rt2] = cpu.vhi;
            }
          } else if (kind === MK_STORE) cpu.store(alo, ahi, size, lo[rt]!, hi[rt]!);
          else {
            cpu.load(alo, ahi, size, kind);
            lo[rt] = cpu.vlo;
            hi[rt] = cpu.vhi;
          }
          if (wb !== 0) {
            if (wb === WB_PRE) {
              lo[rn] = alo;
              hi[rn] = ahi;
            } else {
              const off = rec[o + R_A]!;
              const l = (alo >>> 0) + (off >>> 0);
              lo[rn] = l | 0;
              hi[rn] = (ahi + (off >> 31) + (l > 0xffffffff ? 1 : 0)) | 0;
            }
          }
          break;
        }
        default:
          execRare(cpu, rec, o, first, i, b);
      }
      }
      retired += n - from;
      from = 0;
      if (!single) {
        const l = exit === EXIT_TAKEN ? c.blkLink[2 * b]! : exit === EXIT_FALL && n === cnt ? c.blkLink[2 * b + 1]! : -1;
        if (l >= 0 && c.blkValid[l] === 1) {
          b = l;
          // A block with translated code: back to the dispatcher, which enters it (tier.ts).
          if (--slice !== 0 && (txAt === null || !(txAt[l]! > 0))) continue;
          cpu.curB = b;
          cpu.curN = 0;
          cpu.retired = retired;
          return EXIT_NEXT;
        }
      }
      cpu.curB = b;
      cpu.curN = n;
      cpu.retired = retired;
      return exit;
    }
  } catch (e) {
    cpu.curB = b;
    cpu.faultIndex = i;
    cpu.retired = retired + i - from;
    throw e;
  }
}

/**
 * A NOP-class record (its R_A holds the raw word) run with an access observer: report prfm (literal,
 * unsigned offset, prfum, register offset) as a prefetch, PLI as code and PLD/PST as data. Other
 * hints and barriers, and prefetches of non-canonical addresses, report nothing.
 */
function prefetchA64(cpu: Arm64Cpu, word: number, pc: number): void {
  const obs = cpu.port.observer;
  if (obs === null || obs.prefetch === undefined) return;
  const w = word >>> 0;
  const kind = ((w & 31) >>> 3) === 1 ? 'code' : 'data';
  if ((w & 0xff000000) >>> 0 === 0xd8000000) {
    const t = pc + ((w << 8) >> 13) * 4;
    if (isCanonical(t)) obs.prefetch(t, kind);
    return;
  }
  let olo: number, ohi: number;
  if ((w & 0xffc00000) >>> 0 === 0xf9800000) {
    olo = ((w >>> 10) & 0xfff) * 8;
    ohi = 0;
  } else if ((w & 0xffe00c00) >>> 0 === 0xf8800000) {
    olo = (w << 11) >> 23;
    ohi = olo >> 31;
  } else if ((w & 0xffe00c00) >>> 0 === 0xf8a00800) {
    const rm = (w >>> 16) & 31, ri = rm === 31 ? R_ZR : rm;
    extend64(cpu.lo[ri]!, cpu.hi[ri]!, (w >>> 13) & 7, (w >>> 12) & 1 ? 3 : 0);
    olo = res[0]!;
    ohi = res[1]!;
  } else return;
  const rn = (w >>> 5) & 31;
  const l = (cpu.lo[rn]! >>> 0) + (olo >>> 0);
  const alo = l | 0, ahi = (cpu.hi[rn]! + ohi + (l > 0xffffffff ? 1 : 0)) | 0;
  if (isCanonicalPair(alo, ahi)) obs.prefetch(vaddrFromPair(alo, ahi), kind);
}
