// arm64 (A64) decoder: one 32-bit little-endian word -> one pre-decoded record.
//
// Record format: the shared 8-word record of emulator/decode-cache.ts (REC_WORDS Int32 per insn):
//   word 0 R_OP   operation (Op below)
//   word 1 R_INFO bits 0-7 length (4); bits 16-31 offset in the block (set by the cache)
//   word 2 R_REGS packed register indexes: Rd bits 0-7, Rn 8-15, Rm 16-23, Ra 24-31
//          (Rd = destination / transfer register, Ra = third source or ldp/stp second register)
//   word 3 R_FL   flag bits (FL_* below)
//   words 4-7 R_A R_B R_C R_D immediates (64-bit values as lo, hi pairs in A:B or C:D)
// Register indexes are resolved at decode time so the executor never tests for 31:
//   0..30 = X0..X30, 31 = SP, 32 = the zero register as a source (always 0),
//   33 = the zero register as a destination (a write sink nobody reads).
// Every PC-relative value (branch targets, adr/adrp results, literal addresses) is made absolute
// at decode time, so a record is only valid at the address it was decoded for.
// Undefined or unimplemented encodings decode to Op.UNDEF (decodeA64 returns false); decoding never
// throws. Field meanings per op are listed in the Op table (in scratch names: rd, rn, rm, ra, A-D).
// Encodings follow the Arm ARM (DDI 0487) C4 "A64 instruction set encoding".

/** Scratch layout used while decoding (unpacked registers); see the packed layout below. */
const REC = 10;
const F_OP = 0, F_RD = 1, F_RN = 2, F_RM = 3, F_RA = 4, F_FL = 5, F_A = 6, F_B = 7, F_C = 8, F_D = 9;

/** Packed record layout (word indexes within one REC_WORDS record). */
export const R_REGS = 2, R_FL = 3, R_A = 4, R_B = 5, R_C = 6, R_D = 7;

export const R_SP = 31;
export const R_ZR = 32;
export const R_SINK = 33;
export const NREGS = 34;

/** Flag bits in F_FL. SF: 64-bit operation. S: sets NZCV. SUB: subtract / negate variant. */
export const FL_SF = 1, FL_S = 2, FL_SUB = 4;
/** Memory ops: bits 0-1 log2(size); bits 2-3 kind (MK_*); bits 4-5 writeback (WB_*). */
export const MK_STORE = 0, MK_LOAD = 1, MK_LOADS64 = 2, MK_LOADS32 = 3;
export const WB_NONE = 0, WB_PRE = 1, WB_POST = 2;

export const enum Op {
  UNDEF = 0, // A = the raw word
  NOP, // hints (nop, yield, pac hints), barriers (dmb, dsb, isb), prfm, dc cvau/cvac/civac
  MOVI, // rd = A:B (movz, movn, adr, adrp, results folded at decode)
  MOVK, // rd<C+15:C> = A (C = 0/16/32/48); FL sf
  ADD_IMM, // rd = rn +/- A; FL sf/S/SUB
  ADD_SREG, // rd = rn +/- shift(rm, C, A); FL sf/S/SUB
  ADD_EREG, // rd = rn +/- (extend(rm, C) << A); FL sf/S/SUB
  ADC, // rd = rn + rm + C / rn + ~rm + C; FL sf/S/SUB
  LOG_IMM, // rd = rn op A:B; C = 0 and, 1 orr, 2 eor, 3 ands
  LOG_SREG, // rd = rn op (~?)shift(rm, C, A); D = op as LOG_IMM; B = 1 invert
  UBFM, // rd = ror(rn, RM) & A:B (wmask & tmask)
  SBFM, // RM = R, RA = S; A:B wmask, C:D tmask
  BFM, // RM = R; A:B wmask, C:D tmask
  EXTR, // rd = (rn:rm) >> A
  SHIFTV, // rd = rn shift(C) (rm mod datasize)
  UDIV,
  SDIV,
  MADD, // rd = ra +/- rn*rm; FL SUB
  MADDL, // 64 = ra +/- ext32(rn)*ext32(rm); C = 1 signed
  UMULH,
  SMULH,
  CSEL, // rd = cond(A) ? rn : f(rm); C = 0 csel, 1 csinc, 2 csinv, 3 csneg
  CCMP, // if cond(A) flags = rn -/+ (B=1 ? C : rm) else flags = D; FL SUB
  UNARY, // C = 0 rbit, 1 rev16, 2 rev32, 3 rev, 4 clz, 5 cls
  B, // pc = A:B
  BL,
  BCOND, // cond C
  CBZ, // C = 1 cbnz; FL sf
  TBZ, // bit C, D = 1 tbnz
  BR,
  BLR,
  RET,
  BRK, // A = imm16
  BTI, // A = 0 bti, 1 c, 2 j, 3 jc (a nop unless an indirect branch lands on it)
  CLREX,
  IC_IVAU, // rn = address register
  LDST, // [rn + A] (pre/post writeback per FL); rd = transfer register
  LDST_REG, // [rn + (extend(rm, C) << A)]
  LDR_LIT, // [A:B]
  LDP, // [rn + A], rd and ra
  LDX, // exclusive / acquire load; C = 1 sets the exclusive monitor
  STX, // exclusive / release store; C = 1 exclusive (status into rm)
  ATOMIC, // LSE ld<op>/swp: C = op (AT_*), rm = Rs, rd = Rt (old value)
  CAS, // rm = Rs (compare, receives old), rd = Rt (new)
}

export const AT_ADD = 0, AT_CLR = 1, AT_EOR = 2, AT_SET = 3, AT_SMAX = 4, AT_SMIN = 5, AT_UMAX = 6, AT_UMIN = 7, AT_SWP = 8;

/** True when a record ends a block (control flow leaves sequential order or may fault by design). */
export function endsBlock(op: number): boolean {
  return (
    op === Op.B || op === Op.BL || op === Op.BCOND || op === Op.CBZ || op === Op.TBZ || op === Op.BR ||
    op === Op.BLR || op === Op.RET || op === Op.BRK || op === Op.UNDEF || op === Op.IC_IVAU
  );
}

// ---- bit helpers --------------------------------------------------------------------------------

const bits = (w: number, hi: number, lo: number): number => (w >>> lo) & ((1 << (hi - lo + 1)) - 1);
const sext = (v: number, width: number): number => (v << (32 - width)) >> (32 - width);
const zr = (r: number): number => (r === 31 ? R_ZR : r);
const zw = (r: number): number => (r === 31 ? R_SINK : r);

function setImm64(rec: Int32Array, o: number, fa: number, v: bigint): void {
  const m = BigInt.asUintN(64, v);
  rec[o + fa] = Number(m & 0xffffffffn) | 0;
  rec[o + fa + 1] = Number(m >> 32n) | 0;
}

function target(pc: number, off: number): bigint {
  return BigInt.asUintN(64, BigInt(pc) + BigInt(off));
}

/**
 * DecodeBitMasks (Arm ARM J1, shared pseudocode): (wmask, tmask) for a logical immediate or a
 * bitfield move, or null for a reserved encoding. Values are datasize-wide.
 */
export function decodeBitMasks(n: number, imms: number, immr: number, immediate: boolean, datasize: number): [bigint, bigint] | null {
  const combined = (n << 6) | (~imms & 0x3f);
  if (combined === 0) return null;
  const len = 31 - Math.clz32(combined);
  if (len < 1) return null;
  const esize = 1 << len;
  if (esize > datasize) return null;
  const levels = esize - 1;
  if (immediate && (imms & levels) === levels) return null;
  const s = imms & levels;
  const r = immr & levels;
  const d = (s - r) & levels;
  const emask = (1n << BigInt(esize)) - 1n;
  const welem = (1n << BigInt(s + 1)) - 1n;
  const telem = (1n << BigInt(d + 1)) - 1n;
  const rot = r === 0 ? welem : ((welem >> BigInt(r)) | (welem << BigInt(esize - r))) & emask;
  let w = 0n;
  let t = 0n;
  for (let i = 0; i < datasize; i += esize) {
    w |= rot << BigInt(i);
    t |= telem << BigInt(i);
  }
  return [w, t];
}

// ---- the decoder --------------------------------------------------------------------------------

/**
 * Decode `word` fetched at `pc` into rec[o .. o+REC). `pc` is the guest address as a VAddr number.
 */
const scratch = new Int32Array(REC);

/**
 * Decode `word` fetched at `pc` into the packed record recs[at .. at + 8). Returns false (record op
 * UNDEF) when the encoding is undefined or not implemented.
 */
export function decodeA64(word: number, pc: number, recs: Int32Array, at: number): boolean {
  decodeInto(word, pc, scratch, 0);
  const s = scratch;
  recs[at] = s[F_OP] as number;
  recs[at + 1] = 4;
  recs[at + R_REGS] = (s[F_RD] as number) | ((s[F_RN] as number) << 8) | ((s[F_RM] as number) << 16) | ((s[F_RA] as number) << 24);
  recs[at + R_FL] = s[F_FL] as number;
  recs[at + R_A] = s[F_A] as number;
  recs[at + R_B] = s[F_B] as number;
  recs[at + R_C] = s[F_C] as number;
  recs[at + R_D] = s[F_D] as number;
  return s[F_OP] !== Op.UNDEF;
}

function decodeInto(word: number, pc: number, rec: Int32Array, o: number): void {
  rec.fill(0, o, o + REC);
  rec[o + F_A] = word;
  const w = word >>> 0;
  const op0 = bits(w, 28, 25);
  if ((op0 & 0b1110) === 0b1000) decodeDpImm(w, pc, rec, o);
  else if ((op0 & 0b1110) === 0b1010) decodeBranchSys(w, pc, rec, o);
  else if ((op0 & 0b0101) === 0b0100) decodeLoadStore(w, pc, rec, o);
  else if ((op0 & 0b0111) === 0b0101) decodeDpReg(w, rec, o);
  if (rec[o + F_OP] === Op.UNDEF) rec[o + F_A] = word;
}

function undef(rec: Int32Array, o: number): void {
  rec[o + F_OP] = Op.UNDEF;
}

function decodeDpImm(w: number, pc: number, rec: Int32Array, o: number): void {
  const sf = w >>> 31;
  const rd = bits(w, 4, 0);
  const rn = bits(w, 9, 5);
  const fl = sf ? FL_SF : 0;
  switch (bits(w, 25, 23)) {
    case 0b000:
    case 0b001: {
      const imm = sext((bits(w, 23, 5) << 2) | bits(w, 30, 29), 21);
      rec[o + F_OP] = Op.MOVI;
      rec[o + F_RD] = zw(rd);
      if (sf) setImm64(rec, o, F_A, target(Math.floor(pc / 4096) * 4096, imm * 4096));
      else setImm64(rec, o, F_A, target(pc, imm));
      return;
    }
    case 0b010: {
      const s = (w >>> 29) & 1;
      rec[o + F_OP] = Op.ADD_IMM;
      rec[o + F_RD] = s ? zw(rd) : rd;
      rec[o + F_RN] = rn;
      rec[o + F_FL] = fl | (s ? FL_S : 0) | ((w >>> 30) & 1 ? FL_SUB : 0);
      rec[o + F_A] = bits(w, 21, 10) << (bits(w, 22, 22) ? 12 : 0);
      return;
    }
    case 0b100: {
      const opc = bits(w, 30, 29);
      const n = bits(w, 22, 22);
      if (!sf && n) return undef(rec, o);
      const m = decodeBitMasks(n, bits(w, 15, 10), bits(w, 21, 16), true, sf ? 64 : 32);
      if (!m) return undef(rec, o);
      rec[o + F_OP] = Op.LOG_IMM;
      rec[o + F_RD] = opc === 3 ? zw(rd) : rd;
      rec[o + F_RN] = zr(rn);
      rec[o + F_FL] = fl | (opc === 3 ? FL_S : 0);
      setImm64(rec, o, F_A, m[0]);
      rec[o + F_C] = opc;
      return;
    }
    case 0b101: {
      const opc = bits(w, 30, 29);
      const hw = bits(w, 22, 21);
      const imm16 = bits(w, 20, 5);
      if (opc === 1 || (!sf && hw >= 2)) return undef(rec, o);
      rec[o + F_RD] = zw(rd);
      rec[o + F_FL] = fl;
      const v = BigInt(imm16) << BigInt(hw * 16);
      if (opc === 3) {
        rec[o + F_OP] = Op.MOVK;
        rec[o + F_A] = imm16;
        rec[o + F_C] = hw * 16;
      } else {
        rec[o + F_OP] = Op.MOVI;
        const r = opc === 0 ? ~v : v;
        setImm64(rec, o, F_A, sf ? r : BigInt.asUintN(32, r));
      }
      return;
    }
    case 0b110: {
      const opc = bits(w, 30, 29);
      const n = bits(w, 22, 22);
      const immr = bits(w, 21, 16);
      const imms = bits(w, 15, 10);
      if (opc === 3 || n !== sf || (!sf && ((immr | imms) & 0x20) !== 0)) return undef(rec, o);
      const m = decodeBitMasks(n, imms, immr, false, sf ? 64 : 32);
      if (!m) return undef(rec, o);
      rec[o + F_RD] = zw(rd);
      rec[o + F_RN] = zr(rn);
      rec[o + F_RM] = immr;
      rec[o + F_RA] = imms;
      rec[o + F_FL] = fl;
      if (opc === 2) {
        rec[o + F_OP] = Op.UBFM;
        setImm64(rec, o, F_A, m[0] & m[1]);
      } else {
        rec[o + F_OP] = opc === 0 ? Op.SBFM : Op.BFM;
        setImm64(rec, o, F_A, m[0]);
        setImm64(rec, o, F_C, m[1]);
      }
      return;
    }
    case 0b111: {
      const imms = bits(w, 15, 10);
      if (bits(w, 30, 29) !== 0 || bits(w, 22, 22) !== sf || bits(w, 21, 21) !== 0 || (!sf && imms >= 32)) {
        return undef(rec, o);
      }
      rec[o + F_OP] = Op.EXTR;
      rec[o + F_RD] = zw(rd);
      rec[o + F_RN] = zr(rn);
      rec[o + F_RM] = zr(bits(w, 20, 16));
      rec[o + F_FL] = fl;
      rec[o + F_A] = imms;
      return;
    }
    default:
      return undef(rec, o);
  }
}

function decodeBranchSys(w: number, pc: number, rec: Int32Array, o: number): void {
  if (((w & 0x7c000000) >>> 0) === 0x14000000) {
    rec[o + F_OP] = w >>> 31 ? Op.BL : Op.B;
    setImm64(rec, o, F_A, target(pc, sext(bits(w, 25, 0), 26) * 4));
    return;
  }
  if (((w & 0x7e000000) >>> 0) === 0x34000000) {
    rec[o + F_OP] = Op.CBZ;
    rec[o + F_RN] = zr(bits(w, 4, 0));
    rec[o + F_FL] = w >>> 31 ? FL_SF : 0;
    rec[o + F_C] = (w >>> 24) & 1;
    setImm64(rec, o, F_A, target(pc, sext(bits(w, 23, 5), 19) * 4));
    return;
  }
  if (((w & 0x7e000000) >>> 0) === 0x36000000) {
    rec[o + F_OP] = Op.TBZ;
    rec[o + F_RN] = zr(bits(w, 4, 0));
    rec[o + F_C] = ((w >>> 31) << 5) | bits(w, 23, 19);
    rec[o + F_D] = (w >>> 24) & 1;
    setImm64(rec, o, F_A, target(pc, sext(bits(w, 18, 5), 14) * 4));
    return;
  }
  if (((w & 0xff000010) >>> 0) === 0x54000000) {
    rec[o + F_OP] = Op.BCOND;
    rec[o + F_C] = w & 0xf;
    setImm64(rec, o, F_A, target(pc, sext(bits(w, 23, 5), 19) * 4));
    return;
  }
  if (((w & 0xffe0001f) >>> 0) === 0xd4200000) {
    rec[o + F_OP] = Op.BRK;
    rec[o + F_A] = bits(w, 20, 5);
    return;
  }
  if (((w & 0xfffff01f) >>> 0) === 0xd503201f) {
    const hint = bits(w, 11, 5);
    if ((hint & 0b1111001) === 0b0100000) {
      rec[o + F_OP] = Op.BTI;
      rec[o + F_A] = (hint >>> 1) & 3;
    } else rec[o + F_OP] = Op.NOP;
    return;
  }
  if (((w & 0xfffff01f) >>> 0) === 0xd503301f) {
    const op2 = bits(w, 7, 5);
    if (op2 === 2) rec[o + F_OP] = Op.CLREX;
    else if (op2 === 4 || op2 === 5 || op2 === 6) rec[o + F_OP] = Op.NOP;
    return;
  }
  if (((w & 0xfff80000) >>> 0) === 0xd5080000) {
    const sys = w & 0x7ffe0; // op1:CRn:CRm:op2
    const rt = bits(w, 4, 0);
    if (sys === 0x37520) {
      rec[o + F_OP] = Op.IC_IVAU;
      rec[o + F_RN] = zr(rt);
    } else if (sys === 0x37b20 || sys === 0x37a20 || sys === 0x37e20) rec[o + F_OP] = Op.NOP; // dc cvau/cvac/civac
    return;
  }
  const br = (w & 0xfffffc1f) >>> 0;
  const rn = bits(w, 9, 5);
  if (br === 0xd61f0000 || br === 0xd63f0000 || br === 0xd65f0000) {
    rec[o + F_OP] = br === 0xd61f0000 ? Op.BR : br === 0xd63f0000 ? Op.BLR : Op.RET;
    rec[o + F_RN] = zr(rn);
    return;
  }
  undef(rec, o);
}

function decodeLoadStore(w: number, pc: number, rec: Int32Array, o: number): void {
  const size = w >>> 30;
  const rt = bits(w, 4, 0);
  const rn = bits(w, 9, 5);
  if (bits(w, 26, 26)) return undef(rec, o); // SIMD&FP
  if (((w & 0x3f000000) >>> 0) === 0x08000000) return decodeExclusive(w, rec, o);
  if (((w & 0x3b000000) >>> 0) === 0x18000000) {
    const opc = size;
    const addr = target(pc, sext(bits(w, 23, 5), 19) * 4);
    if (opc === 3) {
      if (!prfopAllocated(rt)) return undef(rec, o);
      rec[o + F_OP] = Op.NOP;
      return;
    }
    rec[o + F_OP] = Op.LDR_LIT;
    rec[o + F_RD] = zw(rt);
    rec[o + F_FL] = opc === 0 ? 2 | (MK_LOAD << 2) : opc === 1 ? 3 | (MK_LOAD << 2) : 2 | (MK_LOADS64 << 2);
    setImm64(rec, o, F_A, addr);
    return;
  }
  if (((w & 0x3a000000) >>> 0) === 0x28000000) {
    const opc = size;
    const mode = bits(w, 24, 23);
    const l = bits(w, 22, 22);
    if (opc === 3 || (opc === 1 && (!l || mode === 0))) return undef(rec, o);
    const rt2 = bits(w, 14, 10);
    // CONSTRAINED UNPREDICTABLE forms (Capstone rejects them too): ldp with rt == rt2, writeback
    // with the base among the transfer registers.
    if ((l && rt === rt2) || ((mode === 1 || mode === 3) && rn !== 31 && (rn === rt || rn === rt2))) return undef(rec, o);
    const lsz = opc === 2 ? 3 : 2;
    const kind = l ? (opc === 1 ? MK_LOADS64 : MK_LOAD) : MK_STORE;
    const wb = mode === 1 ? WB_POST : mode === 3 ? WB_PRE : WB_NONE;
    rec[o + F_OP] = Op.LDP;
    rec[o + F_RD] = l ? zw(rt) : zr(rt);
    rec[o + F_RA] = l ? zw(bits(w, 14, 10)) : zr(bits(w, 14, 10));
    rec[o + F_RN] = rn;
    rec[o + F_FL] = lsz | (kind << 2) | (wb << 4);
    rec[o + F_A] = sext(bits(w, 21, 15), 7) << lsz;
    return;
  }
  if (((w & 0x3a000000) >>> 0) !== 0x38000000) return undef(rec, o);
  const opc = bits(w, 23, 22);
  let kind: number;
  if (opc === 0) kind = MK_STORE;
  else if (opc === 1) kind = MK_LOAD;
  else if (size === 3) kind = opc === 2 && prfopAllocated(rt) ? -1 : -2; // prfm / undefined
  else if (opc === 2) kind = MK_LOADS64;
  else kind = size === 2 ? -2 : MK_LOADS32;
  const xfer = kind === MK_STORE ? zr(rt) : zw(rt);
  const fl = (k: number, wb: number): number => size | (k << 2) | (wb << 4);
  if (bits(w, 24, 24)) {
    if (kind === -2) return undef(rec, o);
    if (kind === -1) {
      rec[o + F_OP] = Op.NOP;
      return;
    }
    rec[o + F_OP] = Op.LDST;
    rec[o + F_RD] = xfer;
    rec[o + F_RN] = rn;
    rec[o + F_FL] = fl(kind, WB_NONE);
    rec[o + F_A] = bits(w, 21, 10) << size;
    return;
  }
  const form = bits(w, 11, 10);
  if (bits(w, 21, 21) === 0) {
    if (form === 2 || kind === -2) return undef(rec, o);
    if (kind === -1) {
      if (form !== 0) return undef(rec, o);
      rec[o + F_OP] = Op.NOP;
      return;
    }
    const wb = form === 0 ? WB_NONE : form === 1 ? WB_POST : WB_PRE;
    rec[o + F_OP] = Op.LDST;
    rec[o + F_RD] = xfer;
    rec[o + F_RN] = rn;
    rec[o + F_FL] = fl(kind, wb);
    rec[o + F_A] = sext(bits(w, 20, 12), 9);
    return;
  }
  if (form === 2) {
    const option = bits(w, 15, 13);
    if ((option & 2) === 0 || kind === -2) return undef(rec, o);
    if (kind === -1) {
      rec[o + F_OP] = Op.NOP;
      return;
    }
    rec[o + F_OP] = Op.LDST_REG;
    rec[o + F_RD] = xfer;
    rec[o + F_RN] = rn;
    rec[o + F_RM] = zr(bits(w, 20, 16));
    rec[o + F_FL] = fl(kind, WB_NONE);
    rec[o + F_A] = bits(w, 12, 12) ? size : 0;
    rec[o + F_C] = option;
    return;
  }
  if (form === 0) {
    const o3 = bits(w, 15, 15);
    const aop = bits(w, 14, 12);
    if (o3 && aop !== 0) return undef(rec, o);
    rec[o + F_OP] = Op.ATOMIC;
    rec[o + F_RD] = zw(rt);
    rec[o + F_RN] = rn;
    rec[o + F_RM] = zr(bits(w, 20, 16));
    rec[o + F_FL] = size;
    rec[o + F_C] = o3 ? AT_SWP : aop;
    return;
  }
  undef(rec, o);
}

/** prfm operations with a name (PLD/PLI/PST x L1-L3 x KEEP/STRM); others are left undefined. */
function prfopAllocated(rt: number): boolean {
  return rt < 22 && (rt & 7) < 6;
}

function decodeExclusive(w: number, rec: Int32Array, o: number): void {
  const size = w >>> 30;
  const o2 = bits(w, 23, 23);
  const l = bits(w, 22, 22);
  const o1 = bits(w, 21, 21);
  const o0 = bits(w, 15, 15);
  const rs = bits(w, 20, 16);
  const rt2 = bits(w, 14, 10);
  const rt = bits(w, 4, 0);
  const rn = bits(w, 9, 5);
  if (rt2 !== 31 && !(o1 === 0 && o2 === 0 && l === 0)) return undef(rec, o); // should-be-one (Capstone: stxr excepted)
  rec[o + F_RN] = rn;
  rec[o + F_FL] = size;
  if (o1 === 1) {
    if (o2 === 0) return undef(rec, o); // CASP / LDXP / STXP
    rec[o + F_OP] = Op.CAS;
    rec[o + F_RM] = zr(rs);
    rec[o + F_RD] = zr(rt);
    return;
  }
  if (o2 === 1) {
    if (o0 === 0 || rs !== 31) return undef(rec, o); // LDLAR / STLLR (LOR) not modelled
    rec[o + F_OP] = l ? Op.LDX : Op.STX;
    rec[o + F_RD] = l ? zw(rt) : zr(rt);
    return;
  }
  if (l) {
    if (rs !== 31) return undef(rec, o);
    rec[o + F_OP] = Op.LDX;
    rec[o + F_RD] = zw(rt);
    rec[o + F_C] = 1;
    return;
  }
  rec[o + F_OP] = Op.STX;
  rec[o + F_RD] = zr(rt);
  rec[o + F_RM] = zw(rs);
  rec[o + F_C] = 1;
}

function decodeDpReg(w: number, rec: Int32Array, o: number): void {
  const sf = w >>> 31;
  const fl = sf ? FL_SF : 0;
  const rd = bits(w, 4, 0);
  const rn = bits(w, 9, 5);
  const rm = bits(w, 20, 16);
  const imm6 = bits(w, 15, 10);
  if (bits(w, 28, 28) === 0) {
    if (bits(w, 24, 24) === 0) {
      if (!sf && imm6 >= 32) return undef(rec, o);
      const opc = bits(w, 30, 29);
      rec[o + F_OP] = Op.LOG_SREG;
      rec[o + F_RD] = zw(rd);
      rec[o + F_RN] = zr(rn);
      rec[o + F_RM] = zr(rm);
      rec[o + F_FL] = fl | (opc === 3 ? FL_S : 0);
      rec[o + F_A] = imm6;
      rec[o + F_B] = bits(w, 21, 21);
      rec[o + F_C] = bits(w, 23, 22);
      rec[o + F_D] = opc;
      return;
    }
    const s = bits(w, 29, 29);
    const base = fl | (s ? FL_S : 0) | (bits(w, 30, 30) ? FL_SUB : 0);
    if (bits(w, 21, 21) === 0) {
      const shift = bits(w, 23, 22);
      if (shift === 3 || (!sf && imm6 >= 32)) return undef(rec, o);
      rec[o + F_OP] = Op.ADD_SREG;
      rec[o + F_RD] = zw(rd);
      rec[o + F_RN] = zr(rn);
      rec[o + F_RM] = zr(rm);
      rec[o + F_FL] = base;
      rec[o + F_A] = imm6;
      rec[o + F_C] = shift;
      return;
    }
    const imm3 = bits(w, 12, 10);
    if (bits(w, 23, 22) !== 0 || imm3 > 4) return undef(rec, o);
    rec[o + F_OP] = Op.ADD_EREG;
    rec[o + F_RD] = s ? zw(rd) : rd;
    rec[o + F_RN] = rn;
    rec[o + F_RM] = zr(rm);
    rec[o + F_FL] = base;
    rec[o + F_A] = imm3;
    rec[o + F_C] = bits(w, 15, 13);
    return;
  }
  const op2 = bits(w, 24, 21);
  if (op2 === 0) {
    if (imm6 !== 0) return undef(rec, o);
    rec[o + F_OP] = Op.ADC;
    rec[o + F_RD] = zw(rd);
    rec[o + F_RN] = zr(rn);
    rec[o + F_RM] = zr(rm);
    rec[o + F_FL] = fl | (bits(w, 29, 29) ? FL_S : 0) | (bits(w, 30, 30) ? FL_SUB : 0);
    return;
  }
  if (op2 === 2) {
    if (!bits(w, 29, 29) || bits(w, 10, 10) || bits(w, 4, 4)) return undef(rec, o);
    rec[o + F_OP] = Op.CCMP;
    rec[o + F_RN] = zr(rn);
    rec[o + F_RM] = zr(rm);
    rec[o + F_FL] = fl | (bits(w, 30, 30) ? FL_SUB : 0);
    rec[o + F_A] = bits(w, 15, 12);
    rec[o + F_B] = bits(w, 11, 11);
    rec[o + F_C] = rm;
    rec[o + F_D] = w & 0xf;
    return;
  }
  if (op2 === 4) {
    const o2 = bits(w, 11, 10);
    if (bits(w, 29, 29) || o2 > 1) return undef(rec, o);
    rec[o + F_OP] = Op.CSEL;
    rec[o + F_RD] = zw(rd);
    rec[o + F_RN] = zr(rn);
    rec[o + F_RM] = zr(rm);
    rec[o + F_FL] = fl;
    rec[o + F_A] = bits(w, 15, 12);
    rec[o + F_C] = (bits(w, 30, 30) << 1) | o2;
    return;
  }
  if (op2 === 6) {
    if (bits(w, 29, 29)) return undef(rec, o);
    rec[o + F_RD] = zw(rd);
    rec[o + F_RN] = zr(rn);
    rec[o + F_RM] = zr(rm);
    rec[o + F_FL] = fl;
    if (bits(w, 30, 30) === 0) {
      if (imm6 === 2) rec[o + F_OP] = Op.UDIV;
      else if (imm6 === 3) rec[o + F_OP] = Op.SDIV;
      else if (imm6 >= 8 && imm6 <= 11) {
        rec[o + F_OP] = Op.SHIFTV;
        rec[o + F_C] = imm6 - 8;
      } else undef(rec, o);
      return;
    }
    if (rm !== 0 || imm6 > 5 || (imm6 === 3 && !sf)) return undef(rec, o);
    rec[o + F_OP] = Op.UNARY;
    // opcode 2 is rev32 for X and rev for W; record rev (3) for the W form.
    rec[o + F_C] = imm6 === 2 && !sf ? 3 : imm6;
    return;
  }
  if ((op2 & 8) !== 0) {
    if (bits(w, 30, 29) !== 0) return undef(rec, o);
    const op31 = bits(w, 23, 21);
    const o0 = bits(w, 15, 15);
    const ra = bits(w, 14, 10);
    rec[o + F_RD] = zw(rd);
    rec[o + F_RN] = zr(rn);
    rec[o + F_RM] = zr(rm);
    rec[o + F_RA] = zr(ra);
    rec[o + F_FL] = fl | (o0 ? FL_SUB : 0);
    if (op31 === 0) rec[o + F_OP] = Op.MADD;
    else if (!sf) undef(rec, o);
    else if (op31 === 1 || op31 === 5) {
      rec[o + F_OP] = Op.MADDL;
      rec[o + F_C] = op31 === 1 ? 1 : 0;
    } else if ((op31 === 2 || op31 === 6) && o0 === 0) {
      rec[o + F_OP] = op31 === 2 ? Op.SMULH : Op.UMULH;
    } else undef(rec, o);
    return;
  }
  undef(rec, o);
}
