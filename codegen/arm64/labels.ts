// arm64 label-use kinds, label/symbol-relative emitters and long-branch veneers over CodeBuffer.
//
// Each kind declares its reach as data (Linux arch/arm64/kernel/module-plts.c, reloc_insn_imm):
//   arm64.imm26  B/BL              [-128 MiB, +128 MiB - 4], multiple of 4
//   arm64.imm19  B.cond/CBZ/CBNZ/LDR literal   [-1 MiB, +1 MiB - 4], multiple of 4
//   arm64.imm14  TBZ/TBNZ          [-32 KiB, +32 KiB - 4], multiple of 4
//   arm64.adr21  ADR               [-1 MiB, +1 MiB - 1]
//   arm64.adrp21 ADRP              page(target) - page(use) in [-4 GiB, +4 GiB - 4 KiB]
//   arm64.lo12   ADD #:lo12:       target & 0xfff (absolute; pairs with ADRP)
// The placeholder word is emitted with a zero immediate; `patch` ORs the field in at finish, using
// final (ROX) addresses. Out of reach is a BranchRangeError from the buffer unless the use asked for
// a veneer; only B/BL accept one. A veneer is `ldr x16, #8; br x16; .quad target` (as the BPF
// trampolines' per-program PLT) appended at the end of the code by the buffer, or placed by the
// caller with emitVeneer / emitAdrpVeneer (the module PLT's `adrp x16; add x16, x16, :lo12:; br x16`).
// x16 (IP0) is the AAPCS64 intra-procedure-call scratch register that veneers may clobber.

import { ABS64, type CodeBuffer, type Label, type LabelUseKind, type VeneerEmitter } from '../buffer.js';
import { vaddrToPair, type VAddr } from '../../support/u64.js';
import { BRANCH, COND, LDR_LITERAL, type Cond } from './tables.js';
import { pick, rgp, rz, uimm } from './check.js';
import { ImmediateRangeError, RegisterClassError } from './errors.js';
import { encAddImm, } from './enc-dp.js';
import { encBr, encNop } from './enc-ctl.js';
import { X16, type RZr, type XGp } from './regs.js';

function orWord(bytes: Uint8Array, at: number, bits: number): void {
  const w = ((bytes[at] as number) | ((bytes[at + 1] as number) << 8) | ((bytes[at + 2] as number) << 16) | ((bytes[at + 3] as number) << 24)) | bits;
  bytes[at] = w & 0xff;
  bytes[at + 1] = (w >>> 8) & 0xff;
  bytes[at + 2] = (w >>> 16) & 0xff;
  bytes[at + 3] = (w >>> 24) & 0xff;
}

function mod4096(a: number): number {
  return ((a % 4096) + 4096) % 4096;
}

const MIB = 1024 * 1024;

export const ARM64_IMM26: LabelUseKind = {
  name: 'arm64.imm26', fieldSize: 4, originFromField: 0, minDelta: -128 * MIB, maxDelta: 128 * MIB - 4, align: 4,
  patch(bytes, at, use, target) {
    orWord(bytes, at, ((target - use) / 4) & 0x3ffffff);
  },
};

export const ARM64_IMM19: LabelUseKind = {
  name: 'arm64.imm19', fieldSize: 4, originFromField: 0, minDelta: -MIB, maxDelta: MIB - 4, align: 4,
  patch(bytes, at, use, target) {
    orWord(bytes, at, (((target - use) / 4) & 0x7ffff) << 5);
  },
};

export const ARM64_IMM14: LabelUseKind = {
  name: 'arm64.imm14', fieldSize: 4, originFromField: 0, minDelta: -32 * 1024, maxDelta: 32 * 1024 - 4, align: 4,
  patch(bytes, at, use, target) {
    orWord(bytes, at, (((target - use) / 4) & 0x3fff) << 5);
  },
};

function adrBits(imm21: number): number {
  return ((imm21 & 3) << 29) | (((imm21 >> 2) & 0x7ffff) << 5);
}

export const ARM64_ADR21: LabelUseKind = {
  name: 'arm64.adr21', fieldSize: 4, originFromField: 0, minDelta: -MIB, maxDelta: MIB - 1, align: 1,
  patch(bytes, at, use, target) {
    orWord(bytes, at, adrBits(target - use));
  },
};

function pageDistance(use: VAddr, target: VAddr): number {
  return (target - mod4096(target)) - (use - mod4096(use));
}

export const ARM64_ADRP21: LabelUseKind = {
  name: 'arm64.adrp21', fieldSize: 4, originFromField: 0, minDelta: -(2 ** 32), maxDelta: 2 ** 32 - 4096, align: 4096,
  distance: pageDistance,
  patch(bytes, at, use, target) {
    orWord(bytes, at, adrBits(pageDistance(use, target) / 4096));
  },
};

export const ARM64_LO12: LabelUseKind = {
  name: 'arm64.lo12', fieldSize: 4, originFromField: 0, minDelta: 0, maxDelta: 4095, align: 1,
  distance: (_use, target) => mod4096(target),
  patch(bytes, at, _use, target) {
    orWord(bytes, at, mod4096(target) << 10);
  },
};

/** Every arm64 kind, for tests and listings. */
export const ARM64_KINDS: readonly LabelUseKind[] = [ARM64_IMM26, ARM64_IMM19, ARM64_IMM14, ARM64_ADR21, ARM64_ADRP21, ARM64_LO12];

/** An external symbol (helper in kernel text, data address) resolved at finish. */
export interface SymbolRef {
  symbol: string;
  addend?: number;
}
export type Target = Label | SymbolRef;

export interface BranchOptions {
  /** Redirect through a literal veneer at the end of the code when the target is out of reach. */
  veneer?: boolean;
}

function isSymbol(t: Target): t is SymbolRef {
  return (t as SymbolRef).symbol !== undefined;
}

function use(buf: CodeBuffer, t: Target, kind: LabelUseKind, veneer: VeneerEmitter | undefined): void {
  if (isSymbol(t)) buf.addReloc({ kind, symbol: t.symbol, addend: t.addend ?? 0, veneer });
  else buf.useLabel(t, kind, veneer ? { veneer } : {});
}

/**
 * The buffer's end-of-code veneer: [nop] ldr x16, #8; br x16; .quad target. The nop keeps the
 * literal 8-byte aligned relative to the start of the code.
 */
export const literalVeneer: VeneerEmitter = (buf, target) => {
  if (buf.length % 8 !== 0) buf.put32(encNop());
  buf.put32((LDR_LITERAL.x | ((8 / 4) << 5) | 16) >>> 0);
  buf.put32(encBr(X16));
  const { lo, hi } = vaddrToPair(target);
  buf.put64pair(lo, hi);
};

/** B target (imm26). */
export function emitB(buf: CodeBuffer, target: Target, opts: BranchOptions = {}): void {
  use(buf, target, ARM64_IMM26, opts.veneer ? literalVeneer : undefined);
  buf.put32(BRANCH.b);
}
/** BL target (imm26). */
export function emitBl(buf: CodeBuffer, target: Target, opts: BranchOptions = {}): void {
  use(buf, target, ARM64_IMM26, opts.veneer ? literalVeneer : undefined);
  buf.put32(BRANCH.bl);
}
/** B.cond target (imm19). */
export function emitBCond(buf: CodeBuffer, cond: Cond, target: Target): void {
  const c = pick('b.cond', 'cond', COND, cond);
  use(buf, target, ARM64_IMM19, undefined);
  buf.put32((BRANCH.bcond | c) >>> 0);
}
/** CBZ/CBNZ Rt, target (imm19). */
export function emitCbz(buf: CodeBuffer, rt: RZr, target: Target, nonzero = false): void {
  const insn = nonzero ? 'cbnz' : 'cbz';
  const t = rz(insn, 'rt', rt, rt.size);
  use(buf, target, ARM64_IMM19, undefined);
  buf.put32((((rt.size === 64 ? 1 : 0) << 31) | (nonzero ? BRANCH.cbnz : BRANCH.cbz) | t) >>> 0);
}
export const emitCbnz = (buf: CodeBuffer, rt: RZr, target: Target): void => emitCbz(buf, rt, target, true);
/** TBZ/TBNZ Rt, #bit, target (imm14). */
export function emitTbz(buf: CodeBuffer, rt: RZr, bit: number, target: Target, nonzero = false): void {
  const insn = nonzero ? 'tbnz' : 'tbz';
  const t = rz(insn, 'rt', rt, rt.size);
  const b = uimm(insn, 'bit', bit, rt.size === 64 ? 6 : 5);
  use(buf, target, ARM64_IMM14, undefined);
  buf.put32((((b >>> 5) << 31) | (nonzero ? BRANCH.tbnz : BRANCH.tbz) | ((b & 31) << 19) | t) >>> 0);
}
export const emitTbnz = (buf: CodeBuffer, rt: RZr, bit: number, target: Target): void => emitTbz(buf, rt, bit, target, true);
/** LDR Wt/Xt, target (PC-relative literal, imm19); `signed` gives LDRSW Xt. */
export function emitLdrLiteral(buf: CodeBuffer, rt: RZr, target: Target, signed = false): void {
  const insn = signed ? 'ldrsw' : 'ldr';
  const t = rz(insn, 'rt', rt, rt.size);
  if (signed && rt.size !== 64) throw new RegisterClassError(insn, 'rt', rt.name, 'X0-X30 or xzr');
  use(buf, target, ARM64_IMM19, undefined);
  buf.put32(((signed ? LDR_LITERAL.ldrsw : rt.size === 64 ? LDR_LITERAL.x : LDR_LITERAL.w) | t) >>> 0);
}
/** ADR Xd, target (+-1 MiB, byte granular). */
export function emitAdr(buf: CodeBuffer, rd: XGp, target: Target): void {
  const d = rgp('adr', 'rd', rd, 64);
  use(buf, target, ARM64_ADR21, undefined);
  buf.put32(0x10000000 | d);
}
/** ADRP Xd, target: the 4 KiB page of the target (+-4 GiB). */
export function emitAdrp(buf: CodeBuffer, rd: XGp, target: Target): void {
  const d = rgp('adrp', 'rd', rd, 64);
  use(buf, target, ARM64_ADRP21, undefined);
  buf.put32((0x90000000 | d) >>> 0);
}
/** ADD Xd, Xn, #:lo12:target (the second half of an ADRP pair). */
export function emitAddLo12(buf: CodeBuffer, rd: XGp, rn: XGp, target: Target): void {
  const word = encAddImm(rd, rn, 0);
  use(buf, target, ARM64_LO12, undefined);
  buf.put32(word);
}
/** ADRP + ADD: the address of target in Xd (+-4 GiB). */
export function emitAdrpAdd(buf: CodeBuffer, rd: XGp, target: Target): void {
  emitAdrp(buf, rd, target);
  emitAddLo12(buf, rd, rd, target);
}

/**
 * A veneer placed here by the caller: returns a label bound to `ldr x16, #8; br x16; .quad target`
 * (8-byte aligned literal). Branch to it with emitB/emitBl; it reaches any 64-bit address.
 */
export function emitVeneer(buf: CodeBuffer, target: Target): Label {
  if (buf.length % 8 === 4) buf.put32(encNop());
  else if (buf.length % 4 !== 0) throw new ImmediateRangeError('veneer', 'position', buf.length, 'a multiple of 4');
  const label = buf.newLabel();
  buf.bind(label);
  buf.put32((LDR_LITERAL.x | ((8 / 4) << 5) | 16) >>> 0);
  buf.put32(encBr(X16));
  use(buf, target, ABS64, undefined);
  buf.put64pair(0, 0);
  return label;
}

/** A veneer placed here by the caller: `adrp x16, target; add x16, x16, :lo12:target; br x16` (+-4 GiB). */
export function emitAdrpVeneer(buf: CodeBuffer, target: Target): Label {
  if (buf.length % 4 !== 0) throw new ImmediateRangeError('veneer', 'position', buf.length, 'a multiple of 4');
  const label = buf.newLabel();
  buf.bind(label);
  emitAdrpAdd(buf, X16, target);
  buf.put32(encBr(X16));
  return label;
}
