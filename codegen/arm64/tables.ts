// A64 encoding tables, as data in the shape of the Arm Architecture Reference Manual (DDI 0487,
// chapter C4 "A64 Instruction Set Encoding"). Each table is one encoding class; each row gives
// the fixed bits of the class (`base`) or the opcode fields that select the instruction, with
// the same field names as the manual. Encoders in enc-*.ts OR the operand fields into these.

/** Condition codes, C1.2.4 (cs = hs, cc = lo). */
export const COND = {
  eq: 0b0000, ne: 0b0001, cs: 0b0010, hs: 0b0010, cc: 0b0011, lo: 0b0011, mi: 0b0100, pl: 0b0101,
  vs: 0b0110, vc: 0b0111, hi: 0b1000, ls: 0b1001, ge: 0b1010, lt: 0b1011, gt: 0b1100, le: 0b1101,
  al: 0b1110, nv: 0b1111,
} as const;
export type Cond = keyof typeof COND;
export const CONDS: readonly Cond[] = Object.keys(COND) as Cond[];

/** Shift types of shifted-register operands (`shift` field, bits 23:22). */
export const SHIFT = { lsl: 0b00, lsr: 0b01, asr: 0b10, ror: 0b11 } as const;
export type Shift = keyof typeof SHIFT;

/** Extend types of extended-register operands and register-offset addressing (`option`, 3 bits). */
export const EXTEND = {
  uxtb: 0b000, uxth: 0b001, uxtw: 0b010, uxtx: 0b011, sxtb: 0b100, sxth: 0b101, sxtw: 0b110, sxtx: 0b111,
} as const;
export type Extend = keyof typeof EXTEND;

/** Add/subtract classes: sf op S <class bits>; `op` and `S` per mnemonic. */
export const ADDSUB = {
  add: { op: 0, s: 0 }, adds: { op: 0, s: 1 }, sub: { op: 1, s: 0 }, subs: { op: 1, s: 1 },
} as const;
export type AddSubOp = keyof typeof ADDSUB;
/** sf op S 100010 sh imm12 Rn Rd (C4.1.86 Add/subtract (immediate)). */
export const ADDSUB_IMM_BASE = 0x11000000;
/** sf op S 01011 shift 0 Rm imm6 Rn Rd (C4.1.96 Add/subtract (shifted register)). */
export const ADDSUB_SHIFTED_BASE = 0x0b000000;
/** sf op S 01011 00 1 Rm option imm3 Rn Rd (C4.1.96 Add/subtract (extended register)). */
export const ADDSUB_EXT_BASE = 0x0b200000;

/** Logical classes: opc (bits 30:29), and N (bit 21) for the shifted-register inverted forms. */
export const LOGICAL = {
  and: { opc: 0b00, n: 0 }, bic: { opc: 0b00, n: 1 }, orr: { opc: 0b01, n: 0 }, orn: { opc: 0b01, n: 1 },
  eor: { opc: 0b10, n: 0 }, eon: { opc: 0b10, n: 1 }, ands: { opc: 0b11, n: 0 }, bics: { opc: 0b11, n: 1 },
} as const;
export type LogicalOp = keyof typeof LOGICAL;
export type LogicalImmOp = 'and' | 'orr' | 'eor' | 'ands';
/** sf opc 100100 N immr imms Rn Rd (Logical (immediate)). */
export const LOGICAL_IMM_BASE = 0x12000000;
/** sf opc 01010 shift N Rm imm6 Rn Rd (Logical (shifted register)). */
export const LOGICAL_SHIFTED_BASE = 0x0a000000;

/** Move wide (immediate): sf opc 100101 hw imm16 Rd. */
export const MOVE_WIDE = { movn: 0b00, movz: 0b10, movk: 0b11 } as const;
export type MoveWideOp = keyof typeof MOVE_WIDE;
export const MOVE_WIDE_BASE = 0x12800000;

/** Bitfield: sf opc 100110 N immr imms Rn Rd (N = sf). */
export const BITFIELD = { sbfm: 0b00, bfm: 0b01, ubfm: 0b10 } as const;
export type BitfieldOp = keyof typeof BITFIELD;
export const BITFIELD_BASE = 0x13000000;
/** Extract: sf 00 100111 N 0 Rm imms Rn Rd (N = sf). */
export const EXTR_BASE = 0x13800000;

/** Data-processing (2 source): sf 0 S 11010110 Rm opcode Rn Rd. */
export const DP2 = { udiv: 0b000010, sdiv: 0b000011, lslv: 0b001000, lsrv: 0b001001, asrv: 0b001010, rorv: 0b001011 } as const;
export type Dp2Op = keyof typeof DP2;
export const DP2_BASE = 0x1ac00000;

/** Data-processing (1 source): sf 1 S 11010110 00000 opcode Rn Rd; `sizes` lists the legal widths. */
export const DP1 = {
  rbit: { opcode32: 0b000000, opcode64: 0b000000 },
  rev16: { opcode32: 0b000001, opcode64: 0b000001 },
  rev32: { opcode32: -1, opcode64: 0b000010 },
  rev: { opcode32: 0b000010, opcode64: 0b000011 },
  clz: { opcode32: 0b000100, opcode64: 0b000100 },
  cls: { opcode32: 0b000101, opcode64: 0b000101 },
} as const;
export type Dp1Op = keyof typeof DP1;
export const DP1_BASE = 0x5ac00000;

/** Data-processing (3 source): sf op54 11011 op31 Rm o0 Ra Rn Rd; `only64` forms take X registers. */
export const DP3 = {
  madd: { op31: 0b000, o0: 0 }, msub: { op31: 0b000, o0: 1 },
  smaddl: { op31: 0b001, o0: 0 }, smsubl: { op31: 0b001, o0: 1 }, smulh: { op31: 0b010, o0: 0 },
  umaddl: { op31: 0b101, o0: 0 }, umsubl: { op31: 0b101, o0: 1 }, umulh: { op31: 0b110, o0: 0 },
} as const;
export type Dp3Op = keyof typeof DP3;
export const DP3_BASE = 0x1b000000;

/** Conditional select: sf op S 11010100 Rm cond op2 Rn Rd. */
export const CSEL = {
  csel: { op: 0, op2: 0b00 }, csinc: { op: 0, op2: 0b01 }, csinv: { op: 1, op2: 0b00 }, csneg: { op: 1, op2: 0b01 },
} as const;
export type CselOp = keyof typeof CSEL;
export const CSEL_BASE = 0x1a800000;

/**
 * Load/store register (C4.1.66): size 111 V 0x opc ...; `size` is log2 of the access, `opc` is
 * 00 store, 01 load (zero-extend), 10 load signed into X, 11 load signed into W. `rt` says which
 * register widths the Rt operand takes for that row.
 */
export const LDST = {
  strb: { size: 0b00, opc: 0b00, rt: 'w' }, ldrb: { size: 0b00, opc: 0b01, rt: 'w' },
  ldrsb: { size: 0b00, opc: 0b10, rt: 'wx' },
  strh: { size: 0b01, opc: 0b00, rt: 'w' }, ldrh: { size: 0b01, opc: 0b01, rt: 'w' },
  ldrsh: { size: 0b01, opc: 0b10, rt: 'wx' },
  str: { size: -1, opc: 0b00, rt: 'wx' }, ldr: { size: -1, opc: 0b01, rt: 'wx' },
  ldrsw: { size: 0b10, opc: 0b10, rt: 'x' },
} as const;
export type LdStOp = keyof typeof LDST;
/** Unscaled mnemonics of LDST rows (LDUR family). */
export const LDST_UNSCALED_NAME: Record<LdStOp, string> = {
  strb: 'sturb', ldrb: 'ldurb', ldrsb: 'ldursb', strh: 'sturh', ldrh: 'ldurh', ldrsh: 'ldursh',
  str: 'stur', ldr: 'ldur', ldrsw: 'ldursw',
};
/** size 111 0 01 opc imm12 Rn Rt (unsigned offset). */
export const LDST_UIMM_BASE = 0x39000000;
/** size 111 0 00 opc 0 imm9 00 Rn Rt (unscaled); 01 post-index; 11 pre-index. */
export const LDST_UNSCALED_BASE = 0x38000000;
export const LDST_POST_BASE = 0x38000400;
export const LDST_PRE_BASE = 0x38000c00;
/** size 111 0 00 opc 1 Rm option S 10 Rn Rt (register offset). */
export const LDST_REG_BASE = 0x38200800;
/** opc 011 0 00 imm19 Rt (load register literal): opc 00 W, 01 X, 10 LDRSW, 11 PRFM. */
export const LDR_LITERAL = { w: 0x18000000, x: 0x58000000, ldrsw: 0x98000000, prfm: 0xd8000000 } as const;

/** Load/store pair: opc 101 0 mode L imm7 Rt2 Rn Rt; opc 00 W, 10 X. */
export const LDSTP_MODE = { post: 0b001, offset: 0b010, pre: 0b011 } as const;
export type PairMode = keyof typeof LDSTP_MODE;
export const LDSTP_BASE = 0x28000000;

/** Load/store exclusive: size 001000 o2 L o1 Rs o0 Rt2 Rn Rt (Rt2 = 11111; Rs = 11111 for loads). */
export const EXCLUSIVE = {
  stxr: { o2: 0, l: 0, o1: 0, o0: 0 }, stlxr: { o2: 0, l: 0, o1: 0, o0: 1 },
  ldxr: { o2: 0, l: 1, o1: 0, o0: 0 }, ldaxr: { o2: 0, l: 1, o1: 0, o0: 1 },
  stlr: { o2: 1, l: 0, o1: 0, o0: 1 }, ldar: { o2: 1, l: 1, o1: 0, o0: 1 },
} as const;
export type ExclusiveOp = keyof typeof EXCLUSIVE;
export const EXCLUSIVE_BASE = 0x08007c00;

/** Atomic memory operations (FEAT_LSE): size 111 0 00 A R 1 Rs o3 opc 00 Rn Rt. */
export const ATOMIC = {
  ldadd: { o3: 0, opc: 0b000 }, ldclr: { o3: 0, opc: 0b001 }, ldeor: { o3: 0, opc: 0b010 },
  ldset: { o3: 0, opc: 0b011 }, swp: { o3: 1, opc: 0b000 },
} as const;
export type AtomicOp = keyof typeof ATOMIC;
export const ATOMIC_BASE = 0x38200000;
/** Compare and swap: size 001000 1 L 1 Rs o0 11111 Rn Rt. */
export const CAS_BASE = 0x08a07c00;
/** Memory-ordering suffix: A (acquire, bit 23 / L bit 22 for CAS) and R/L (release, bit 22 / o0 bit 15). */
export const ORDER = { '': { a: 0, r: 0 }, a: { a: 1, r: 0 }, l: { a: 0, r: 1 }, al: { a: 1, r: 1 } } as const;
export type Order = keyof typeof ORDER;

/** Branches. */
export const BRANCH = {
  b: 0x14000000, bl: 0x94000000, bcond: 0x54000000, cbz: 0x34000000, cbnz: 0x35000000,
  tbz: 0x36000000, tbnz: 0x37000000, br: 0xd61f0000, blr: 0xd63f0000, ret: 0xd65f0000,
} as const;
/** PC-relative addressing: op immlo 10000 immhi Rd. */
export const ADR_BASE = 0x10000000;
export const ADRP_BASE = 0x90000000;

/** Barrier options (CRm of DMB/DSB). */
export const BARRIER = {
  oshld: 0b0001, oshst: 0b0010, osh: 0b0011, nshld: 0b0101, nshst: 0b0110, nsh: 0b0111,
  ishld: 0b1001, ishst: 0b1010, ish: 0b1011, ld: 0b1101, st: 0b1110, sy: 0b1111,
} as const;
export type Barrier = keyof typeof BARRIER;

/** System instructions with fixed words (CRm/op2 baked in), Rt at bits 4:0. */
export const SYSTEM = {
  nop: 0xd503201f, hint: 0xd503201f, brk: 0xd4200000,
  dmb: 0xd50330bf, dsb: 0xd503309f, isb: 0xd50330df,
  dcCvau: 0xd50b7b20, dcCvac: 0xd50b7a20, dcCivac: 0xd50b7e20, icIvau: 0xd50b7520, icIallu: 0xd508751f,
} as const;

/** BTI targets: HINT #(32 | targets << 1). */
export const BTI = { '': 0b00, c: 0b01, j: 0b10, jc: 0b11 } as const;
export type BtiTarget = keyof typeof BTI;

/** PRFM prfop: type (PLD 00, PLI 01, PST 10) << 3 | target (L1 00, L2 01, L3 10) << 1 | policy (KEEP 0, STRM 1). */
export const PRFOP: Record<string, number> = (() => {
  const out: Record<string, number> = {};
  const types = ['pld', 'pli', 'pst'];
  for (let t = 0; t < 3; t++) for (let l = 0; l < 3; l++) for (let p = 0; p < 2; p++) {
    out[`${types[t] as string}l${l + 1}${p === 0 ? 'keep' : 'strm'}`] = (t << 3) | (l << 1) | p;
  }
  return out;
})();
