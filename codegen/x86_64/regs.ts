// x86_64 general-purpose registers as typed values (Intel SDM Vol. 1 §3.4.1, Vol. 2 §2.2.1).
//
// Invariants:
// - `num` is the 4-bit hardware number (rax=0 ... r15=15); bit 3 goes into REX.R/X/B, bits 2..0 into
//   ModRM/SIB/opcode. One object per register: compare registers with ===.
// - Byte registers: al/cl/dl/bl (0-3) encode without REX; spl/bpl/sil/dil (4-7) need a REX prefix
//   (`needsRex`); ah/ch/dh/bh (`high`, numbers 4-7) exist only without REX, so an instruction that
//   needs REX cannot name them (X86OperandError).

export type RegSize = 8 | 16 | 32 | 64;

export interface Reg<S extends RegSize = RegSize> {
  readonly size: S;
  readonly num: number;
  readonly name: string;
  /** ah, ch, dh, bh. */
  readonly high: boolean;
  /** spl, bpl, sil, dil: encodable only with a REX prefix. */
  readonly needsRex: boolean;
}

export type Reg64 = Reg<64>;
export type Reg32 = Reg<32>;
export type Reg16 = Reg<16>;
export type Reg8 = Reg<8>;
export type AnyReg = Reg64 | Reg32 | Reg16 | Reg8;

function mk<S extends RegSize>(size: S, names: readonly string[]): Reg<S>[] {
  return names.map((name, num) => Object.freeze({ size, num, name, high: false, needsRex: size === 8 && num >= 4 && num < 8 }));
}

export const GPR64: readonly Reg64[] = mk(64, ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15']);
export const GPR32: readonly Reg32[] = mk(32, ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d']);
export const GPR16: readonly Reg16[] = mk(16, ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di', 'r8w', 'r9w', 'r10w', 'r11w', 'r12w', 'r13w', 'r14w', 'r15w']);
export const GPR8: readonly Reg8[] = mk(8, ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil', 'r8b', 'r9b', 'r10b', 'r11b', 'r12b', 'r13b', 'r14b', 'r15b']);
export const GPR8_HIGH: readonly Reg8[] = ['ah', 'ch', 'dh', 'bh'].map((name, i) => Object.freeze({ size: 8 as const, num: 4 + i, name, high: true, needsRex: false }));

const r64 = (n: number): Reg64 => GPR64[n] as Reg64;
const r32 = (n: number): Reg32 => GPR32[n] as Reg32;
const r16 = (n: number): Reg16 => GPR16[n] as Reg16;
const byteReg = (n: number): Reg8 => GPR8[n] as Reg8;

export const rax = r64(0), rcx = r64(1), rdx = r64(2), rbx = r64(3), rsp = r64(4), rbp = r64(5), rsi = r64(6), rdi = r64(7);
export const r8 = r64(8), r9 = r64(9), r10 = r64(10), r11 = r64(11), r12 = r64(12), r13 = r64(13), r14 = r64(14), r15 = r64(15);
export const eax = r32(0), ecx = r32(1), edx = r32(2), ebx = r32(3), esp = r32(4), ebp = r32(5), esi = r32(6), edi = r32(7);
export const r8d = r32(8), r9d = r32(9), r10d = r32(10), r11d = r32(11), r12d = r32(12), r13d = r32(13), r14d = r32(14), r15d = r32(15);
export const ax = r16(0), cx = r16(1), dx = r16(2), bx = r16(3), sp = r16(4), bp = r16(5), si = r16(6), di = r16(7);
export const r8w = r16(8), r9w = r16(9), r10w = r16(10), r11w = r16(11), r12w = r16(12), r13w = r16(13), r14w = r16(14), r15w = r16(15);
export const al = byteReg(0), cl = byteReg(1), dl = byteReg(2), bl = byteReg(3), spl = byteReg(4), bpl = byteReg(5), sil = byteReg(6), dil = byteReg(7);
export const r8b = byteReg(8), r9b = byteReg(9), r10b = byteReg(10), r11b = byteReg(11), r12b = byteReg(12), r13b = byteReg(13), r14b = byteReg(14), r15b = byteReg(15);
export const ah = GPR8_HIGH[0] as Reg8, ch = GPR8_HIGH[1] as Reg8, dh = GPR8_HIGH[2] as Reg8, bh = GPR8_HIGH[3] as Reg8;

/** Every register by name (lower case), for parsers, the CLI and the golden-vector tests. */
export const REGS_BY_NAME: ReadonlyMap<string, AnyReg> = new Map(
  [...GPR64, ...GPR32, ...GPR16, ...GPR8, ...GPR8_HIGH].map((r) => [r.name, r as AnyReg]),
);

/** The same register number at another width (rax -> eax). Not defined for ah..bh. */
export function regOfSize<S extends RegSize>(r: Reg, size: S): Reg<S> {
  const table = size === 64 ? GPR64 : size === 32 ? GPR32 : size === 16 ? GPR16 : GPR8;
  return table[r.num] as Reg as Reg<S>;
}
