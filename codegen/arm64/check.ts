// Operand validation shared by the arm64 encoders. Each helper returns the field value or throws
// a typed error naming the instruction and operand; none has side effects, so an encoder that
// validates every operand before combining them never emits a partial word.

import { ImmediateRangeError, MisalignedOffsetError, RegisterClassError } from './errors.js';
import type { Reg, RegSize } from './regs.js';

function sizeName(size: RegSize): string {
  return size === 64 ? 'X' : 'W';
}

/** A register where 31 means the zero register, of width `size`: returns its number. */
export function rz(insn: string, operand: string, r: Reg, size: RegSize): number {
  if (r.size !== size || r.cls === 'sp') {
    throw new RegisterClassError(insn, operand, r.name, `${sizeName(size)}0-${sizeName(size)}30 or ${size === 64 ? 'xzr' : 'wzr'}`);
  }
  return r.num;
}

/** A register where 31 means the stack pointer, of width `size`: returns its number. */
export function rsp(insn: string, operand: string, r: Reg, size: RegSize): number {
  if (r.size !== size || r.cls === 'zr') {
    throw new RegisterClassError(insn, operand, r.name, `${sizeName(size)}0-${sizeName(size)}30 or ${size === 64 ? 'sp' : 'wsp'}`);
  }
  return r.num;
}

/** A general register X0..X30 / W0..W30 only (neither SP nor ZR). */
export function rgp(insn: string, operand: string, r: Reg, size: RegSize): number {
  if (r.size !== size || r.cls !== 'gp') {
    throw new RegisterClassError(insn, operand, r.name, `${sizeName(size)}0-${sizeName(size)}30`);
  }
  return r.num;
}

/** The base register of an address: X0..X30 or SP. */
export function base(insn: string, r: Reg): number {
  if (r.size !== 64 || r.cls === 'zr') throw new RegisterClassError(insn, 'base', r.name, 'X0-X30 or sp');
  return r.num;
}

/** The sf bit for an operand that sets the instruction's width (any class). */
export function sf(r: Reg): number {
  return r.size === 64 ? 1 : 0;
}

/** Unsigned immediate in [0, 2^bits), bits <= 30. */
export function uimm(insn: string, operand: string, v: number, bits: number): number {
  if (v >>> 0 !== v || v >= 1 << bits) throw new ImmediateRangeError(insn, operand, v, `0..${(1 << bits) - 1}`);
  return v;
}

/** Unsigned immediate in [lo, hi]. */
export function urange(insn: string, operand: string, v: number, lo: number, hi: number): number {
  if ((v | 0) !== v || v < lo || v > hi) throw new ImmediateRangeError(insn, operand, v, `${lo}..${hi}`);
  return v;
}

/** Signed immediate in [-2^(bits-1), 2^(bits-1)), bits <= 31; returns the two's-complement field. */
export function simm(insn: string, operand: string, v: number, bits: number): number {
  const half = 1 << (bits - 1);
  if ((v | 0) !== v || v < -half || v >= half) throw new ImmediateRangeError(insn, operand, v, `${-half}..${half - 1}`);
  return (v & ((half << 1) - 1)) >>> 0;
}

/** A byte offset that must be a multiple of `scale` and fit an unsigned `bits`-bit field once scaled. */
export function uscaled(insn: string, operand: string, v: number, scale: number, bits: number): number {
  if ((v | 0) !== v) throw new ImmediateRangeError(insn, operand, v, 'an integer in int32 range');
  if (v % scale !== 0) throw new MisalignedOffsetError(insn, operand, v, scale);
  const q = v / scale;
  if (q < 0 || q >= 1 << bits) throw new ImmediateRangeError(insn, operand, v, `0..${((1 << bits) - 1) * scale}, multiple of ${scale}`);
  return q;
}

/** A byte offset that must be a multiple of `scale` and fit a signed `bits`-bit field once scaled (bits <= 26). */
export function sscaled(insn: string, operand: string, v: number, scale: number, bits: number): number {
  if (!Number.isSafeInteger(v)) throw new ImmediateRangeError(insn, operand, v, 'an integer');
  if (v % scale !== 0) throw new MisalignedOffsetError(insn, operand, v, scale);
  const half = 1 << (bits - 1);
  const q = v / scale;
  if (q < -half || q >= half) throw new ImmediateRangeError(insn, operand, v, `${-half * scale}..${(half - 1) * scale}, multiple of ${scale}`);
  return (q & ((half << 1) - 1)) >>> 0;
}

/** Look a name up in an encoding table; unknown names are an ImmediateRangeError on that operand. */
export function pick<T>(insn: string, operand: string, table: Readonly<Record<string, T>>, key: string): T {
  const v = table[key];
  // Inherited Object.prototype members are functions (or the prototype itself for __proto__).
  if (v === undefined || typeof v === 'function' || v === Object.prototype) throw new ImmediateRangeError(insn, operand, String(key), `one of ${Object.keys(table).join(', ')}`);
  return v;
}
