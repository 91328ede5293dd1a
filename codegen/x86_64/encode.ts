// x86_64 encoding engine: instruction forms written in the Intel SDM's opcode-column notation are
// parsed once into `Form` descriptors, and `emitForm` writes prefix, REX, opcode, ModRM, SIB,
// displacement and immediate straight into a CodeBuffer (no per-instruction allocation).
// Style of iced-x86 / asmjit: the encoder is driven by tables (table.ts) that read like the manual.
//
// Invariants (Intel SDM Vol. 2 §2.1-2.2):
// - Byte order: legacy prefixes (66/F0/F2/F3), then REX (0x40 | W<<3 | R<<2 | X<<1 | B), then 1-3
//   opcode bytes, ModRM, SIB, disp8/disp32, immediate. REX is omitted when all its bits are 0 unless a
//   byte register spl/bpl/sil/dil needs it; ah/ch/dh/bh with a REX prefix is an X86OperandError.
// - Memory [base + index*scale + disp]: rsp/r12 as base need a SIB; rbp/r13 as base with no
//   displacement use mod=01 disp8 0; rsp cannot be an index; no base -> SIB base=101 + disp32;
//   RIP-relative -> mod=00 rm=101 disp32 measured from the end of the instruction. The shortest
//   displacement is chosen unless the operand forces disp32 (patchable code).
// - Immediates are range-checked against the field before anything is written, so a failed emit
//   leaves the buffer unchanged. `emitFormRR` is the register-number path for 16/32/64-bit
//   register operands whose immediates the caller (emit.ts's fast paths) has already checked.

import { JitboxError } from '../../support/errors.js';
import { type CodeBuffer, type Label, type LabelUseKind } from '../buffer.js';
import type { AnyReg, Reg64 } from './regs.js';

// ---------------------------------------------------------------------------------------------
// Errors

export class X86EncodeError extends JitboxError {
  constructor(kind: string, message: string, instruction: string, operand: string, extra: Record<string, string | number> = {}) {
    super(kind, `${instruction}: ${message}`, { instruction, operand, ...extra });
  }
}

/** An immediate or displacement does not fit its field. */
export class X86ImmediateError extends X86EncodeError {
  constructor(instruction: string, operand: string, value: number, range: string) {
    super('x86-immediate', `${operand} ${fmt(value)} does not fit ${range}`, instruction, operand, { value: fmt(value), range });
  }
}

/** A register or memory operand that the form cannot encode. */
export class X86OperandError extends X86EncodeError {
  constructor(instruction: string, operand: string, message: string) {
    super('x86-operand', `${operand}: ${message}`, instruction, operand);
  }
}

function fmt(v: number): string {
  if (!Number.isFinite(v) || !Number.isInteger(v)) return String(v);
  return v < 0 ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

// ---------------------------------------------------------------------------------------------
// Label-use kinds: x86 displacements are measured from the end of the instruction.

function writeLE32(bytes: Uint8Array, at: number, v: number): void {
  bytes[at] = v & 0xff;
  bytes[at + 1] = (v >>> 8) & 0xff;
  bytes[at + 2] = (v >>> 16) & 0xff;
  bytes[at + 3] = (v >>> 24) & 0xff;
}

export const X86_REL8: LabelUseKind = {
  name: 'x86.rel8',
  fieldSize: 1,
  originFromField: 1,
  minDelta: -128,
  maxDelta: 127,
  align: 1,
  patch(bytes, at, use, target) {
    bytes[at] = (target - use) & 0xff;
  },
};

export const X86_REL32: LabelUseKind = {
  name: 'x86.rel32',
  fieldSize: 4,
  originFromField: 4,
  minDelta: -(2 ** 31),
  maxDelta: 2 ** 31 - 1,
  align: 1,
  patch(bytes, at, use, target) {
    writeLE32(bytes, at, target - use);
  },
};

// ---------------------------------------------------------------------------------------------
// Memory operands

export type Scale = 1 | 2 | 4 | 8;

export interface Mem {
  readonly kind: 'mem';
  readonly base: Reg64 | null;
  readonly index: Reg64 | null;
  readonly scale: Scale;
  readonly disp: number;
  /** RIP-relative: disp is relative to the next instruction (or a label/symbol below). */
  readonly rip: boolean;
  readonly ripLabel: Label | null;
  readonly ripSymbol: string | null;
  /** Force a 32-bit displacement even when 0 or disp8 would do. */
  readonly disp32: boolean;
  /** Operand size in bits (byte/word/dword/qword ptr); 0 = taken from the register operand. */
  readonly size: MemSize;
}

export type MemSize = 0 | 8 | 16 | 32 | 64;

export interface MemOptions {
  index?: Reg64;
  scale?: Scale;
  /** Always encode a 32-bit displacement (fixed-length, patchable forms). */
  disp32?: boolean;
  size?: MemSize;
}

function checkDisp(disp: number, what: string): void {
  if (!Number.isInteger(disp) || disp < -(2 ** 31) || disp > 2 ** 31 - 1) throw new X86ImmediateError('memory operand', what, disp, 'a signed 32-bit displacement');
}

function checkAddrReg(r: Reg64, what: string): void {
  if (r.size !== 64) throw new X86OperandError('memory operand', what, `${r.name} is a ${r.size}-bit register; addresses use 64-bit registers`);
}

/** [base + index*scale + disp]; base null gives an absolute [disp32] (or [index*scale + disp32]). */
export function mem(base: Reg64 | null, disp = 0, opts?: MemOptions): Mem {
  if (opts === undefined) return makeMem(base, null, 1, disp, false, 0);
  return makeMem(base, opts.index ?? null, opts.scale ?? 1, disp, opts.disp32 === true, opts.size ?? 0);
}

/** [base + index*scale + disp]. */
export function memIndex(base: Reg64 | null, index: Reg64, scale: Scale = 1, disp = 0, disp32 = false): Mem {
  return makeMem(base, index, scale, disp, disp32, 0);
}

/** [base + disp] of a given operand size: `qword(mem(base, disp))` without the intermediate operand. */
export function memOfSize(base: Reg64 | null, disp: number, size: MemSize): Mem {
  return makeMem(base, null, 1, disp, false, size);
}

function makeMem(base: Reg64 | null, index: Reg64 | null, scale: Scale, disp: number, disp32: boolean, size: MemSize): Mem {
  if (base) checkAddrReg(base, 'base');
  if (index) {
    checkAddrReg(index, 'index');
    if (index.num === 4) throw new X86OperandError('memory operand', 'index', 'rsp cannot be an index register');
  }
  if (scale !== 1 && scale !== 2 && scale !== 4 && scale !== 8) throw new X86OperandError('memory operand', 'scale', `scale ${String(scale)} is not 1, 2, 4 or 8`);
  if (scale !== 1 && !index) throw new X86OperandError('memory operand', 'scale', 'a scale needs an index register');
  checkDisp(disp, 'displacement');
  return { kind: 'mem', base, index, scale, disp, rip: false, ripLabel: null, ripSymbol: null, disp32, size };
}

/** [rip + disp]: disp relative to the end of the instruction. */
export function memRip(disp: number): Mem {
  checkDisp(disp, 'displacement');
  return { kind: 'mem', base: null, index: null, scale: 1, disp, rip: true, ripLabel: null, ripSymbol: null, disp32: true, size: 0 };
}

/** [rip + label]: resolved by the CodeBuffer at finish. */
export function memRipLabel(label: Label): Mem {
  return { kind: 'mem', base: null, index: null, scale: 1, disp: 0, rip: true, ripLabel: label, ripSymbol: null, disp32: true, size: 0 };
}

/** [rip + symbol + addend]: an external data address, resolved by relocation. */
export function memRipSymbol(symbol: string, addend = 0): Mem {
  return { kind: 'mem', base: null, index: null, scale: 1, disp: addend, rip: true, ripLabel: null, ripSymbol: symbol, disp32: true, size: 0 };
}

/** The same operand with an explicit size: `qword(mem(rdi, 8))` is `qword ptr [rdi+8]`. */
export function sized(m: Mem, size: MemSize): Mem {
  return { kind: 'mem', base: m.base, index: m.index, scale: m.scale, disp: m.disp, rip: m.rip, ripLabel: m.ripLabel, ripSymbol: m.ripSymbol, disp32: m.disp32, size };
}
export const byte = (m: Mem): Mem => sized(m, 8);
export const word = (m: Mem): Mem => sized(m, 16);
export const dword = (m: Mem): Mem => sized(m, 32);
export const qword = (m: Mem): Mem => sized(m, 64);

export function isMem(x: AnyReg | Mem): x is Mem {
  return (x as Mem).kind === 'mem';
}

// ---------------------------------------------------------------------------------------------
// Forms (opcode-column notation)

export type ImmSize = 0 | 1 | 2 | 4 | 8;

const IMM_RANGES: Record<number, [number, number, string]> = {
  1: [-128, 255, 'an 8-bit immediate'],
  2: [-32768, 65535, 'a 16-bit immediate'],
  4: [-(2 ** 31), 2 ** 32 - 1, 'a 32-bit immediate'],
};

export interface Form {
  /** The SDM opcode column, e.g. "REX.W + 0F AF /r". */
  readonly opcode: string;
  /** The SDM instruction column, e.g. "IMUL r64, r/m64". */
  readonly insn: string;
  readonly prefixes: readonly number[];
  readonly w: boolean;
  readonly op: readonly number[];
  /** /digit 0-7; -1 = /r; -2 = no ModRM. */
  readonly digit: number;
  /** +rb/+rw/+rd/+ro (register in the low opcode bits) or +cc (condition code). */
  readonly plus: 'none' | 'r' | 'cc';
  readonly imm: ImmSize;
  /** Flat copies for the hot path: prefix bytes (-1 = none), opcode bytes and count. */
  readonly p0: number;
  readonly p1: number;
  readonly o0: number;
  readonly o1: number;
  readonly o2: number;
  readonly o3: number;
  readonly opLen: number;
  /** REX.W as its bit (8) or 0; `plus` as 0 (none), 1 (+r) or 2 (+cc). */
  readonly rexW: number;
  readonly plusKind: number;
  /** Accepted immediate values for ib/iw/id (both 0 for no immediate and io), and their description. */
  readonly immMin: number;
  readonly immMax: number;
  readonly immRange: string;
}

/** Parse one opcode column: "F0 REX.W + 0F C1 /r", "REX.W + B8+rd io", "0F 80+cc cd", "C1 /4 ib". */
export function form(opcode: string, insn: string): Form {
  const prefixes: number[] = [];
  const op: number[] = [];
  let w = false;
  let digit = -2;
  let plus: Form['plus'] = 'none';
  let imm: ImmSize = 0;
  const toks = opcode.replace(/\+\s+/g, '+ ').split(/\s+/).filter((t) => t !== '+' && t !== '');
  for (const t of toks) {
    if (t === 'REX.W' || t === 'REX.W+') w = true;
    else if (t === 'REX' || t === 'REX+') continue;
    else if (t === '/r') digit = -1;
    else if (/^\/[0-7]$/.test(t)) digit = Number(t[1]);
    else if (t === 'ib' || t === 'cb') imm = 1;
    else if (t === 'iw' || t === 'cw') imm = 2;
    else if (t === 'id' || t === 'cd') imm = 4;
    else if (t === 'io') imm = 8;
    else if (/^[0-9A-F]{2}\+(rb|rw|rd|ro)$/.test(t)) {
      op.push(parseInt(t.slice(0, 2), 16));
      plus = 'r';
    } else if (/^[0-9A-F]{2}\+cc$/.test(t)) {
      op.push(parseInt(t.slice(0, 2), 16));
      plus = 'cc';
    } else if (/^[0-9A-F]{2}$/.test(t)) {
      const b = parseInt(t, 16);
      if (op.length === 0 && !w && (b === 0x66 || b === 0xf0 || b === 0xf2 || b === 0xf3)) prefixes.push(b);
      else op.push(b);
    } else throw new Error(`bad opcode token "${t}" in "${opcode}"`);
  }
  if (op.length === 0 || op.length > 4) throw new Error(`bad opcode "${opcode}"`);
  if (prefixes.length > 2) throw new Error(`too many prefixes in "${opcode}"`);
  const range = imm > 0 && imm < 8 ? (IMM_RANGES[imm] as [number, number, string]) : ([0, 0, ''] as const);
  return {
    opcode, insn, prefixes, w, op, digit, plus, imm,
    p0: prefixes[0] ?? -1, p1: prefixes[1] ?? -1,
    o0: op[0] as number, o1: op[1] ?? 0, o2: op[2] ?? 0, o3: op[3] ?? 0, opLen: op.length,
    rexW: w ? 8 : 0, plusKind: plus === 'r' ? 1 : plus === 'cc' ? 2 : 0,
    immMin: range[0], immMax: range[1], immRange: range[2],
  };
}

/** The mnemonic of a form ("IMUL r64, r/m64" -> "imul"), for error messages. */
export function mnemonicOf(f: Form): string {
  return mnemonicOfInsn(f.insn);
}

function mnemonicOfInsn(insn: string): string {
  return (insn.split(' ')[0] as string).toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// The engine

/** Check `v` against [lo, hi] and throw naming the instruction and operand. */
export function checkImm(f: Form, operand: string, v: number, lo: number, hi: number, range: string): void {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new X86ImmediateError(f.insn, operand, v, range);
}

function byteRegCheck(f: Form, r: AnyReg, operand: string, rexPresent: boolean): void {
  if (r.high && rexPresent) throw new X86OperandError(f.insn, operand, `${r.name} cannot be encoded in an instruction with a REX prefix`);
}

/**
 * Emit one instruction of form `f`.
 * - `reg`: the register in ModRM.reg (forms with /r), else null.
 * - `rm`: the ModRM.rm operand, or for +r forms the register added to the opcode; null for none.
 * - `imm` (and `immHi` for io): the immediate; `cc`: the condition for +cc forms.
 */
export function emitForm(buf: CodeBuffer, f: Form, reg: AnyReg | null, rm: AnyReg | Mem | null, imm = 0, immHi = 0, cc = 0): void {
  let rex = f.rexW;
  let forceRex = false;
  let hasHigh = false;
  if (reg) {
    rex |= (reg.num & 8) >> 1;
    if (reg.needsRex) forceRex = true;
    if (reg.high) hasHigh = true;
  }
  let m: Mem | null = null;
  let rmNum = 0;
  if (rm) {
    if ((rm as Mem).kind === 'mem') {
      m = rm as Mem;
      if (m.base) rex |= (m.base.num & 8) >> 3;
      if (m.index) rex |= (m.index.num & 8) >> 2;
    } else {
      const r = rm as AnyReg;
      rmNum = r.num;
      rex |= (rmNum & 8) >> 3;
      if (r.needsRex) forceRex = true;
      if (r.high) hasHigh = true;
    }
  }
  const rexPresent = rex !== 0 || forceRex;
  if (hasHigh && rexPresent) {
    if (reg) byteRegCheck(f, reg, 'reg operand', true);
    if (rm && m === null) byteRegCheck(f, rm as AnyReg, 'r/m operand', true);
  }
  if (f.immMax !== 0 && (!(imm >= f.immMin && imm <= f.immMax) || !Number.isInteger(imm))) throw new X86ImmediateError(f.insn, 'immediate', imm, f.immRange);

  const d = buf.writable(24);
  let p = buf.linearLength;
  if (f.p0 >= 0) {
    d[p++] = f.p0;
    if (f.p1 >= 0) d[p++] = f.p1;
  }
  if (rexPresent) d[p++] = 0x40 | rex;
  p = writeOpcode(d, p, f, f.plusKind === 0 ? 0 : f.plusKind === 1 ? rmNum & 7 : cc);

  if (f.digit !== -2) {
    const regField = f.digit >= 0 ? f.digit : (reg as AnyReg).num & 7;
    if (m !== null) p = writeMemOperand(buf, d, p, regField, m, f.imm, f.insn);
    else d[p++] = 0xc0 | (regField << 3) | (rmNum & 7);
  }
  p = writeImm(d, p, f.imm, imm);
  if (f.imm === 8) {
    d[p++] = immHi;
    d[p++] = immHi >> 8;
    d[p++] = immHi >> 16;
    d[p++] = immHi >> 24;
  }
  buf.commit(p);
}

/** The form's opcode bytes at d[p], `add` added to the last (+r / +cc); returns the new end. */
function writeOpcode(d: Uint8Array, p: number, f: Form, add: number): number {
  const n = f.opLen;
  if (n === 1) d[p++] = f.o0 + add;
  else {
    d[p++] = f.o0;
    if (n === 2) d[p++] = f.o1 + add;
    else {
      d[p++] = f.o1;
      if (n === 3) d[p++] = f.o2 + add;
      else {
        d[p++] = f.o2;
        d[p++] = f.o3 + add;
      }
    }
  }
  return p;
}

/** The low `kind` bytes (0, 1, 2, 4; 8 writes the low 4) of `imm` at d[p]; returns the new end. */
function writeImm(d: Uint8Array, p: number, kind: number, imm: number): number {
  if (kind === 0) return p;
  d[p++] = imm;
  if (kind === 1) return p;
  d[p++] = imm >> 8;
  if (kind === 2) return p;
  d[p++] = imm >> 16;
  d[p++] = imm >> 24;
  return p;
}

/**
 * The register-operand path of emitForm for the emitters' hot cases: `reg` (ModRM.reg; -1 = the
 * form's /digit) and `rm` (ModRM.rm, or the register of a +r opcode) are hardware numbers of 16-,
 * 32- or 64-bit registers (byte registers have their own REX rules and take emitForm), and `imm`
 * has been checked against the form's field by the caller. Writes exactly what emitForm writes for
 * the same registers; no io (imm64) or +cc forms.
 */
export function emitFormRR(buf: CodeBuffer, f: Form, reg: number, rm: number, imm: number): void {
  const d = buf.writable(16);
  let p = buf.linearLength;
  if (f.p0 >= 0) {
    d[p++] = f.p0;
    if (f.p1 >= 0) d[p++] = f.p1;
  }
  const rex = f.rexW | (reg >= 0 ? (reg & 8) >> 1 : 0) | ((rm & 8) >> 3);
  if (rex !== 0) d[p++] = 0x40 | rex;
  p = writeOpcode(d, p, f, f.plusKind === 1 ? rm & 7 : 0);
  if (f.digit !== -2) d[p++] = 0xc0 | ((f.digit >= 0 ? f.digit : reg & 7) << 3) | (rm & 7);
  p = writeImm(d, p, f.imm, imm);
  buf.commit(p);
}

/** ModRM [SIB] [disp] for a memory operand at d[p]; returns the new end. */
function writeMemOperand(buf: CodeBuffer, d: Uint8Array, p: number, regField: number, m: Mem, immBytes: number, insn: string): number {
  const r3 = regField << 3;
  if (m.rip) {
    d[p++] = 0x05 | r3;
    if (m.ripLabel) buf.useLabel(m.ripLabel, X86_REL32, { field: p, origin: p + 4 + immBytes, insn: mnemonicOfInsn(insn) });
    else if (m.ripSymbol !== null) buf.addReloc({ kind: X86_REL32, symbol: m.ripSymbol, addend: m.disp, at: p, origin: p + 4 + immBytes });
    const v = m.ripLabel || m.ripSymbol !== null ? 0 : m.disp;
    d[p++] = v;
    d[p++] = v >> 8;
    d[p++] = v >> 16;
    d[p++] = v >> 24;
    return p;
  }
  const base = m.base;
  const index = m.index;
  const disp = m.disp;
  if (!base) {
    // [index*scale + disp32] or [disp32]: SIB with base=101, mod=00.
    d[p++] = 0x04 | r3;
    const idx = index ? index.num & 7 : 4;
    d[p++] = SCALE_BITS[m.scale] | (idx << 3) | 5;
    d[p++] = disp;
    d[p++] = disp >> 8;
    d[p++] = disp >> 16;
    d[p++] = disp >> 24;
    return p;
  }
  const b3 = base.num & 7;
  let mod: number;
  if (m.disp32) mod = 0x80;
  else if (disp === 0 && b3 !== 5) mod = 0;
  else if (disp >= -128 && disp <= 127) mod = 0x40;
  else mod = 0x80;
  if (index || b3 === 4) {
    d[p++] = mod | r3 | 4;
    const idx = index ? index.num & 7 : 4;
    d[p++] = SCALE_BITS[m.scale] | (idx << 3) | b3;
  } else {
    d[p++] = mod | r3 | b3;
  }
  if (mod === 0x40) d[p++] = disp;
  else if (mod === 0x80) {
    d[p++] = disp;
    d[p++] = disp >> 8;
    d[p++] = disp >> 16;
    d[p++] = disp >> 24;
  }
  return p;
}

/** SIB scale bits by scale factor (index 1, 2, 4, 8). */
const SCALE_BITS: readonly number[] = [0, 0x00, 0x40, 0, 0x80, 0, 0, 0, 0xc0];
