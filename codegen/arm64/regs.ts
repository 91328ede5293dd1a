// arm64 general-purpose registers, typed by width and by what encoding 31 means.
//
// In the A64 encoding, register number 31 is either the stack pointer (SP/WSP) or the zero register
// (XZR/WZR) depending on the operand position (Arm ARM C1.2.5, "Register names"). jitbox makes that
// distinction part of the register's type: `Reg<64, 'sp'>` is SP, `Reg<64, 'zr'>` is XZR and
// `Reg<64, 'gp'>` is X0..X30. An operand position declares the classes it accepts
// (`XSp` = X0..X30 or SP; `XZr` = X0..X30 or XZR), so passing SP where XZR is meant is a type error
// in TypeScript and a RegisterClassError at run time for untyped callers.
//
// Invariants: registers are frozen singletons; `num` is the 5-bit field value (SP and XZR both 31).

export type RegSize = 32 | 64;
export type RegClass = 'gp' | 'zr' | 'sp';

export interface Reg<S extends RegSize = RegSize, C extends RegClass = RegClass> {
  readonly size: S;
  readonly cls: C;
  readonly num: number;
  readonly name: string;
}

/** X0..X30 or XZR: register positions where 31 is the zero register. */
export type XZr = Reg<64, 'gp' | 'zr'>;
/** W0..W30 or WZR. */
export type WZr = Reg<32, 'gp' | 'zr'>;
/** X0..X30 or SP: register positions where 31 is the stack pointer. */
export type XSp = Reg<64, 'gp' | 'sp'>;
/** W0..W30 or WSP. */
export type WSp = Reg<32, 'gp' | 'sp'>;
/** Any 64-bit or 32-bit register with the zero-register meaning of 31, at a size S. */
export type RZr<S extends RegSize = RegSize> = Reg<S, 'gp' | 'zr'>;
/** Any register with the stack-pointer meaning of 31, at a size S. */
export type RSp<S extends RegSize = RegSize> = Reg<S, 'gp' | 'sp'>;
/** X0..X30 only (e.g. targets of BR/BLR, RET). */
export type XGp = Reg<64, 'gp'>;

function mk<S extends RegSize, C extends RegClass>(size: S, cls: C, num: number, name: string): Reg<S, C> {
  return Object.freeze({ size, cls, num, name });
}

const xs: Reg<64, 'gp'>[] = [];
const ws: Reg<32, 'gp'>[] = [];
for (let i = 0; i < 31; i++) {
  xs.push(mk(64, 'gp', i, `x${i}`));
  ws.push(mk(32, 'gp', i, `w${i}`));
}

/** X0..X30 indexed by number. */
export const XREGS: readonly Reg<64, 'gp'>[] = Object.freeze(xs);
/** W0..W30 indexed by number. */
export const WREGS: readonly Reg<32, 'gp'>[] = Object.freeze(ws);

export const SP: Reg<64, 'sp'> = mk(64, 'sp', 31, 'sp');
export const WSP: Reg<32, 'sp'> = mk(32, 'sp', 31, 'wsp');
export const XZR: Reg<64, 'zr'> = mk(64, 'zr', 31, 'xzr');
export const WZR: Reg<32, 'zr'> = mk(32, 'zr', 31, 'wzr');

const x = (i: number): Reg<64, 'gp'> => xs[i] as Reg<64, 'gp'>;
const w = (i: number): Reg<32, 'gp'> => ws[i] as Reg<32, 'gp'>;

export const X0 = x(0), X1 = x(1), X2 = x(2), X3 = x(3), X4 = x(4), X5 = x(5), X6 = x(6), X7 = x(7);
export const X8 = x(8), X9 = x(9), X10 = x(10), X11 = x(11), X12 = x(12), X13 = x(13), X14 = x(14);
export const X15 = x(15), X16 = x(16), X17 = x(17), X18 = x(18), X19 = x(19), X20 = x(20), X21 = x(21);
export const X22 = x(22), X23 = x(23), X24 = x(24), X25 = x(25), X26 = x(26), X27 = x(27), X28 = x(28);
export const X29 = x(29), X30 = x(30);
export const FP = X29, LR = X30;

export const W0 = w(0), W1 = w(1), W2 = w(2), W3 = w(3), W4 = w(4), W5 = w(5), W6 = w(6), W7 = w(7);
export const W8 = w(8), W9 = w(9), W10 = w(10), W11 = w(11), W12 = w(12), W13 = w(13), W14 = w(14);
export const W15 = w(15), W16 = w(16), W17 = w(17), W18 = w(18), W19 = w(19), W20 = w(20), W21 = w(21);
export const W22 = w(22), W23 = w(23), W24 = w(24), W25 = w(25), W26 = w(26), W27 = w(27), W28 = w(28);
export const W29 = w(29), W30 = w(30);

/** Every named register (for parsers and listings). */
export const ALL_REGS: readonly Reg[] = Object.freeze([...xs, ...ws, SP, WSP, XZR, WZR]);

/** The register of the same number and class at the other width (x3 <-> w3, sp <-> wsp). */
export function otherWidth<C extends RegClass>(r: Reg<RegSize, C>): Reg<RegSize, C> {
  if (r.cls === 'sp') return (r.size === 64 ? WSP : SP) as Reg<RegSize, C>;
  if (r.cls === 'zr') return (r.size === 64 ? WZR : XZR) as Reg<RegSize, C>;
  return (r.size === 64 ? w(r.num) : x(r.num)) as Reg<RegSize, C>;
}

/** Look a register up by its assembly name ("x3", "wzr", "sp", "lr", "fp"); null if unknown. */
export function regByName(name: string): Reg | null {
  const n = name.toLowerCase();
  if (n === 'lr') return X30;
  if (n === 'fp') return X29;
  for (const r of ALL_REGS) if (r.name === n) return r;
  return null;
}
