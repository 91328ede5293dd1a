// x86_64 instruction forms, written as the Intel SDM Vol. 2 opcode and instruction columns.
// `form()` (encode.ts) parses each opcode column once at load; emit.ts picks a form by operand
// kind and size. Sized groups list the 8/16/32/64-bit rows of one manual table side by side.
//
// Invariant: every row here is checked byte-for-byte against llvm-mc by the golden vectors
// (test/vectors/asm/x86_64.json) and decoded by Capstone in the round-trip property tests.

import { type Form, form } from './encode.js';

export type OpSize = 8 | 16 | 32 | 64;

export interface Sized {
  readonly 8?: Form;
  readonly 16?: Form;
  readonly 32?: Form;
  readonly 64?: Form;
}

const ACC_NAME: Record<OpSize, string> = { 8: 'AL', 16: 'AX', 32: 'EAX', 64: 'RAX' };

/**
 * Rows of one manual table. In the instruction column `{n}` becomes the operand size, `{i}` the
 * immediate size (min(n, 32)) and `{a}` the accumulator (AL/AX/EAX/RAX).
 */
function rows(insn: string, opcodes: Partial<Record<OpSize, string>>): Sized {
  const out: Partial<Record<OpSize, Form>> = {};
  for (const k of [8, 16, 32, 64] as const) {
    const oc = opcodes[k];
    const text = insn.replace(/\{n\}/g, String(k)).replace(/\{i\}/g, String(Math.min(k, 32))).replace(/\{a\}/g, ACC_NAME[k]);
    if (oc !== undefined) out[k] = form(oc, text);
  }
  return out;
}

// ----- MOV (SDM "MOV—Move") ---------------------------------------------------------------------
export const MOV_MR = rows('MOV r/m{n}, r{n}', { 8: '88 /r', 16: '66 89 /r', 32: '89 /r', 64: 'REX.W + 89 /r' });
export const MOV_RM = rows('MOV r{n}, r/m{n}', { 8: '8A /r', 16: '66 8B /r', 32: '8B /r', 64: 'REX.W + 8B /r' });
export const MOV_OI = rows('MOV r{n}, imm{n}', { 8: 'B0+rb ib', 16: '66 B8+rw iw', 32: 'B8+rd id', 64: 'REX.W + B8+rd io' });
export const MOV_MI = rows('MOV r/m{n}, imm{i}', { 8: 'C6 /0 ib', 16: '66 C7 /0 iw', 32: 'C7 /0 id', 64: 'REX.W + C7 /0 id' });

// ----- MOVZX / MOVSX / MOVSXD -------------------------------------------------------------------
export const MOVZX_B = rows('MOVZX r{n}, r/m8', { 16: '66 0F B6 /r', 32: '0F B6 /r', 64: 'REX.W + 0F B6 /r' });
export const MOVZX_W = rows('MOVZX r{n}, r/m16', { 32: '0F B7 /r', 64: 'REX.W + 0F B7 /r' });
export const MOVSX_B = rows('MOVSX r{n}, r/m8', { 16: '66 0F BE /r', 32: '0F BE /r', 64: 'REX.W + 0F BE /r' });
export const MOVSX_W = rows('MOVSX r{n}, r/m16', { 32: '0F BF /r', 64: 'REX.W + 0F BF /r' });
export const MOVSXD = form('REX.W + 63 /r', 'MOVSXD r64, r/m32');

// ----- ADD OR ADC SBB AND SUB XOR CMP: one opcode-map row each (SDM Table A-2, rows 0-3) ---------
export type AluOp = 'add' | 'or' | 'adc' | 'sbb' | 'and' | 'sub' | 'xor' | 'cmp';

/** Opcode of `op r/m8, r8`; +1 r/m,r; +2 r8,r/m8; +3 r,r/m; +4 AL,imm8; +5 eAX,imm32; /digit in 80/81/83. */
export const ALU_ROW: Readonly<Record<AluOp, { base: number; digit: number }>> = {
  add: { base: 0x00, digit: 0 },
  or: { base: 0x08, digit: 1 },
  adc: { base: 0x10, digit: 2 },
  sbb: { base: 0x18, digit: 3 },
  and: { base: 0x20, digit: 4 },
  sub: { base: 0x28, digit: 5 },
  xor: { base: 0x30, digit: 6 },
  cmp: { base: 0x38, digit: 7 },
};

export interface AluForms {
  mr: Sized;
  rm: Sized;
  /** AL, imm8 / AX, imm16 / EAX, imm32 / RAX, simm32 */
  acc: Sized;
  /** 80 /d ib, 81 /d iz */
  mi: Sized;
  /** 83 /d ib (sign-extended) */
  mi8: Sized;
}

const h = (b: number): string => b.toString(16).toUpperCase().padStart(2, '0');

function aluForms(op: AluOp): AluForms {
  const { base, digit } = ALU_ROW[op];
  const u = op.toUpperCase();
  return {
    mr: rows(`${u} r/m{n}, r{n}`, { 8: `${h(base)} /r`, 16: `66 ${h(base + 1)} /r`, 32: `${h(base + 1)} /r`, 64: `REX.W + ${h(base + 1)} /r` }),
    rm: rows(`${u} r{n}, r/m{n}`, { 8: `${h(base + 2)} /r`, 16: `66 ${h(base + 3)} /r`, 32: `${h(base + 3)} /r`, 64: `REX.W + ${h(base + 3)} /r` }),
    acc: rows(`${u} {a}, imm{i}`, { 8: `${h(base + 4)} ib`, 16: `66 ${h(base + 5)} iw`, 32: `${h(base + 5)} id`, 64: `REX.W + ${h(base + 5)} id` }),
    mi: rows(`${u} r/m{n}, imm{i}`, { 8: `80 /${digit} ib`, 16: `66 81 /${digit} iw`, 32: `81 /${digit} id`, 64: `REX.W + 81 /${digit} id` }),
    mi8: rows(`${u} r/m{n}, imm8`, { 16: `66 83 /${digit} ib`, 32: `83 /${digit} ib`, 64: `REX.W + 83 /${digit} ib` }),
  };
}

export const ALU: Readonly<Record<AluOp, AluForms>> = {
  add: aluForms('add'),
  or: aluForms('or'),
  adc: aluForms('adc'),
  sbb: aluForms('sbb'),
  and: aluForms('and'),
  sub: aluForms('sub'),
  xor: aluForms('xor'),
  cmp: aluForms('cmp'),
};

// ----- TEST ---------------------------------------------------------------------------------------
export const TEST_MR = rows('TEST r/m{n}, r{n}', { 8: '84 /r', 16: '66 85 /r', 32: '85 /r', 64: 'REX.W + 85 /r' });
export const TEST_ACC = rows('TEST {a}, imm{i}', { 8: 'A8 ib', 16: '66 A9 iw', 32: 'A9 id', 64: 'REX.W + A9 id' });
export const TEST_MI = rows('TEST r/m{n}, imm{i}', { 8: 'F6 /0 ib', 16: '66 F7 /0 iw', 32: 'F7 /0 id', 64: 'REX.W + F7 /0 id' });

// ----- Group 3 (F6/F7) and group 4/5 (FE/FF) unary operations -----------------------------------
export type UnaryOp = 'not' | 'neg' | 'mul' | 'imul' | 'div' | 'idiv' | 'inc' | 'dec';

function unary(u: string, grp8: string, grp: string, digit: number): Sized {
  return rows(`${u} r/m{n}`, { 8: `${grp8} /${digit}`, 16: `66 ${grp} /${digit}`, 32: `${grp} /${digit}`, 64: `REX.W + ${grp} /${digit}` });
}

export const UNARY: Readonly<Record<UnaryOp, Sized>> = {
  not: unary('NOT', 'F6', 'F7', 2),
  neg: unary('NEG', 'F6', 'F7', 3),
  mul: unary('MUL', 'F6', 'F7', 4),
  imul: unary('IMUL', 'F6', 'F7', 5),
  div: unary('DIV', 'F6', 'F7', 6),
  idiv: unary('IDIV', 'F6', 'F7', 7),
  inc: unary('INC', 'FE', 'FF', 0),
  dec: unary('DEC', 'FE', 'FF', 1),
};

// ----- IMUL two and three operands -------------------------------------------------------------
export const IMUL_RM = rows('IMUL r{n}, r/m{n}', { 16: '66 0F AF /r', 32: '0F AF /r', 64: 'REX.W + 0F AF /r' });
export const IMUL_RMI8 = rows('IMUL r{n}, r/m{n}, imm8', { 16: '66 6B /r ib', 32: '6B /r ib', 64: 'REX.W + 6B /r ib' });
export const IMUL_RMI = rows('IMUL r{n}, r/m{n}, imm{i}', { 16: '66 69 /r iw', 32: '69 /r id', 64: 'REX.W + 69 /r id' });

// ----- Group 2 shifts and rotates (SDM "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR") ----------------------
export type ShiftOp = 'rol' | 'ror' | 'rcl' | 'rcr' | 'shl' | 'shr' | 'sar';
export const SHIFT_DIGIT: Readonly<Record<ShiftOp, number>> = { rol: 0, ror: 1, rcl: 2, rcr: 3, shl: 4, shr: 5, sar: 7 };

export interface ShiftForms {
  /** by imm8: C0/C1 /d ib */
  ib: Sized;
  /** by 1: D0/D1 /d */
  one: Sized;
  /** by CL: D2/D3 /d */
  cl: Sized;
}

function shiftForms(op: ShiftOp): ShiftForms {
  const d = SHIFT_DIGIT[op];
  const u = op.toUpperCase();
  return {
    ib: rows(`${u} r/m{n}, imm8`, { 8: `C0 /${d} ib`, 16: `66 C1 /${d} ib`, 32: `C1 /${d} ib`, 64: `REX.W + C1 /${d} ib` }),
    one: rows(`${u} r/m{n}, 1`, { 8: `D0 /${d}`, 16: `66 D1 /${d}`, 32: `D1 /${d}`, 64: `REX.W + D1 /${d}` }),
    cl: rows(`${u} r/m{n}, CL`, { 8: `D2 /${d}`, 16: `66 D3 /${d}`, 32: `D3 /${d}`, 64: `REX.W + D3 /${d}` }),
  };
}

export const SHIFT: Readonly<Record<ShiftOp, ShiftForms>> = {
  rol: shiftForms('rol'),
  ror: shiftForms('ror'),
  rcl: shiftForms('rcl'),
  rcr: shiftForms('rcr'),
  shl: shiftForms('shl'),
  shr: shiftForms('shr'),
  sar: shiftForms('sar'),
};

export const SHLD_IB = rows('SHLD r/m{n}, r{n}, imm8', { 16: '66 0F A4 /r ib', 32: '0F A4 /r ib', 64: 'REX.W + 0F A4 /r ib' });
export const SHLD_CL = rows('SHLD r/m{n}, r{n}, CL', { 16: '66 0F A5 /r', 32: '0F A5 /r', 64: 'REX.W + 0F A5 /r' });
export const SHRD_IB = rows('SHRD r/m{n}, r{n}, imm8', { 16: '66 0F AC /r ib', 32: '0F AC /r ib', 64: 'REX.W + 0F AC /r ib' });
export const SHRD_CL = rows('SHRD r/m{n}, r{n}, CL', { 16: '66 0F AD /r', 32: '0F AD /r', 64: 'REX.W + 0F AD /r' });

// ----- Byte swap, exchange, atomics ---------------------------------------------------------------
export const BSWAP = rows('BSWAP r{n}', { 32: '0F C8+rd', 64: 'REX.W + 0F C8+rd' });
export const XCHG_MR = rows('XCHG r/m{n}, r{n}', { 8: '86 /r', 16: '66 87 /r', 32: '87 /r', 64: 'REX.W + 87 /r' });
export const XCHG_ACC = rows('XCHG {a}, r{n}', { 16: '66 90+rw', 32: '90+rd', 64: 'REX.W + 90+rd' });
export const XADD = rows('XADD r/m{n}, r{n}', { 8: '0F C0 /r', 16: '66 0F C1 /r', 32: '0F C1 /r', 64: 'REX.W + 0F C1 /r' });
export const CMPXCHG = rows('CMPXCHG r/m{n}, r{n}', { 8: '0F B0 /r', 16: '66 0F B1 /r', 32: '0F B1 /r', 64: 'REX.W + 0F B1 /r' });

// ----- Addresses and the stack --------------------------------------------------------------------
export const LEA = rows('LEA r{n}, m', { 16: '66 8D /r', 32: '8D /r', 64: 'REX.W + 8D /r' });
export const PUSH_O = form('50+rd', 'PUSH r64');
export const PUSH_M = form('FF /6', 'PUSH r/m64');
export const PUSH_I8 = form('6A ib', 'PUSH imm8');
export const PUSH_I32 = form('68 id', 'PUSH imm32');
export const POP_O = form('58+rd', 'POP r64');
export const POP_M = form('8F /0', 'POP r/m64');

// ----- Control transfer ---------------------------------------------------------------------------
export const CALL_REL32 = form('E8 cd', 'CALL rel32');
export const CALL_RM = form('FF /2', 'CALL r/m64');
export const JMP_REL8 = form('EB cb', 'JMP rel8');
export const JMP_REL32 = form('E9 cd', 'JMP rel32');
export const JMP_RM = form('FF /4', 'JMP r/m64');
export const JCC_REL8 = form('70+cc cb', 'Jcc rel8');
export const JCC_REL32 = form('0F 80+cc cd', 'Jcc rel32');
export const SETCC = form('0F 90+cc /0', 'SETcc r/m8');
export const CMOVCC = rows('CMOVcc r{n}, r/m{n}', { 16: '66 0F 40+cc /r', 32: '0F 40+cc /r', 64: 'REX.W + 0F 40+cc /r' });
export const RET = form('C3', 'RET');
export const RET_IW = form('C2 iw', 'RET imm16');
export const LEAVE = form('C9', 'LEAVE');

// ----- Sign extension of the accumulator ----------------------------------------------------------
export const CWD = form('66 99', 'CWD');
export const CDQ = form('99', 'CDQ');
export const CQO = form('REX.W + 99', 'CQO');
export const CWDE = form('98', 'CWDE');
export const CDQE = form('REX.W + 98', 'CDQE');

// ----- Miscellaneous ------------------------------------------------------------------------------
export const INT3 = form('CC', 'INT3');
export const UD2 = form('0F 0B', 'UD2');
export const NOP = form('90', 'NOP');
export const NOP_RM = rows('NOP r/m{n}', { 16: '66 0F 1F /0', 32: '0F 1F /0' });
export const ENDBR64 = form('F3 0F 1E FA', 'ENDBR64');
export const PAUSE = form('F3 90', 'PAUSE');
export const LFENCE = form('0F AE E8', 'LFENCE');
export const MFENCE = form('0F AE F0', 'MFENCE');
export const SFENCE = form('0F AE F8', 'SFENCE');
export type PrefetchHint = 'nta' | 't0' | 't1' | 't2';
export const PREFETCH: Readonly<Record<PrefetchHint, Form>> = {
  nta: form('0F 18 /0', 'PREFETCHNTA m8'),
  t0: form('0F 18 /1', 'PREFETCHT0 m8'),
  t1: form('0F 18 /2', 'PREFETCHT1 m8'),
  t2: form('0F 18 /3', 'PREFETCHT2 m8'),
};

// ----- Condition codes (SDM Appendix B.1.4.7, tttn) -----------------------------------------------
/** Canonical names, as Capstone and llvm-mc print them. */
export const CONDITIONS = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'] as const;
export type Cond = (typeof CONDITIONS)[number];
export const CC: Readonly<Record<Cond, number>> = Object.fromEntries(CONDITIONS.map((c, i) => [c, i])) as Record<Cond, number>;
/** Synonyms accepted by parsers: jz = je, jc = jb, ... */
export const CC_ALIASES: Readonly<Record<string, Cond>> = {
  c: 'b', nae: 'b', nc: 'ae', nb: 'ae', z: 'e', nz: 'ne', na: 'be', nbe: 'a', pe: 'p', po: 'np', nge: 'l', nl: 'ge', ng: 'le', nle: 'g',
};
/** The condition with the opposite outcome (tttn xor 1). */
export function invertCond(c: Cond): Cond {
  return CONDITIONS[CC[c] ^ 1] as Cond;
}
