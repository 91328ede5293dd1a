// x86_64 control transfer, stack and miscellaneous instructions: push/pop, call/jmp/jcc (to labels,
// to raw displacements, to external symbols, indirect), ret/leave, cdq/cqo, int3/ud2, fences,
// endbr64, prefetch and the recommended multi-byte NOPs.
//
// Invariants:
// - jmp/jcc to a label are relaxable items of the CodeBuffer (rel8 first, rel32 when out of reach,
//   see buffer.ts); `force: 'rel32'` keeps the 5/6-byte form (patch sites), `'rel8'` fails if far.
// - call/jmp to a symbol are `E8/E9 cd` with an x86.rel32 relocation resolved at finish against the
//   final ROX address (Linux's BPF JIT calls helpers in kernel text this way; ±2 GiB or error).
// - Raw displacements (`emitJmpRel`) are relative to the end of the instruction, as in the SDM.
// - NOPs: SDM Vol. 2B "NOP" Table 4-12 for 1-9 bytes; 10 bytes = 66 2E 0F 1F 84 00 00000000 (cs nopw)
//   and 11-15 add 66 prefixes, as LLVM's X86AsmBackend::writeNopData; `emitNops` fills a gap with
//   at most 10-byte NOPs like llvm-mc's `.nops`.

import type { CodeBuffer, Label, RelaxableBranch, RelaxForce, VeneerEmitter } from '../buffer.js';
import { type Form, type Mem, X86_REL32, X86OperandError, checkImm, emitForm, emitFormRR, isMem } from './encode.js';
import { condCode } from './emit.js';
import type { Reg, Reg64 } from './regs.js';
import {
  CALL_REL32, CALL_RM, CDQ, CDQE, CONDITIONS, CQO, CWD, CWDE, type Cond, ENDBR64, INT3, JCC_REL32, JCC_REL8, JMP_REL32, JMP_REL8,
  JMP_RM, LEAVE, LFENCE, MFENCE, PAUSE, POP_M, POP_O, PREFETCH, PUSH_I32, PUSH_I8, PUSH_M, PUSH_O, type PrefetchHint, RET, RET_IW,
  SFENCE, UD2,
} from './table.js';

// ----- stack ---------------------------------------------------------------------------------------

/** push r64 | m64 | imm (6A ib when the immediate fits imm8, else 68 id sign-extended). */
export function emitPush(buf: CodeBuffer, src: Reg64 | Mem | number): void {
  if (typeof src === 'number') {
    checkImm(PUSH_I32, 'immediate', src, -(2 ** 31), 2 ** 31 - 1, 'a sign-extended 32-bit immediate');
    if (src >= -128 && src <= 127) emitForm(buf, PUSH_I8, null, null, src);
    else emitForm(buf, PUSH_I32, null, null, src);
    return;
  }
  if (isMem(src)) {
    if (src.size !== 0 && src.size !== 64) throw new X86OperandError(PUSH_M.insn, 'operand', 'push takes a 64-bit memory operand');
    emitForm(buf, PUSH_M, null, src);
    return;
  }
  if (src.size !== 64) throw new X86OperandError(PUSH_O.insn, 'operand', `${(src as Reg).name} is not a 64-bit register`);
  emitFormRR(buf, PUSH_O, -1, src.num, 0);
}

/** pop r64 | m64. */
export function emitPop(buf: CodeBuffer, dst: Reg64 | Mem): void {
  if (isMem(dst)) {
    if (dst.size !== 0 && dst.size !== 64) throw new X86OperandError(POP_M.insn, 'operand', 'pop takes a 64-bit memory operand');
    emitForm(buf, POP_M, null, dst);
    return;
  }
  if (dst.size !== 64) throw new X86OperandError(POP_O.insn, 'operand', `${(dst as Reg).name} is not a 64-bit register`);
  emitFormRR(buf, POP_O, -1, dst.num, 0);
}

// ----- branches ------------------------------------------------------------------------------------

export const JMP_BRANCH: RelaxableBranch = Object.freeze({ name: 'jmp', short: [0xeb], long: [0xe9] });
/** The relaxable jcc of each condition code (tttn order, as CONDITIONS). */
const JCC_BY_CODE: readonly RelaxableBranch[] = CONDITIONS.map((c, i) => Object.freeze({ name: `j${c}`, short: [0x70 + i], long: [0x0f, 0x80 + i] }));
export const JCC_BRANCH: Readonly<Record<Cond, RelaxableBranch>> = Object.fromEntries(CONDITIONS.map((c, i) => [c, JCC_BY_CODE[i]])) as unknown as Record<Cond, RelaxableBranch>;

/** jmp label: rel8 or rel32, chosen at finish (relaxation). */
export function emitJmp(buf: CodeBuffer, target: Label, force: RelaxForce = 'auto'): void {
  buf.emitRelaxable(JMP_BRANCH, target, force);
}

/** jcc label: rel8 or rel32, chosen at finish (relaxation). */
export function emitJcc(buf: CodeBuffer, cond: Cond, target: Label, force: RelaxForce = 'auto'): void {
  buf.emitRelaxable(JCC_BY_CODE[condCode(cond)] as RelaxableBranch, target, force);
}

function relCheck(f: Form, rel: number, size: 8 | 32): void {
  if (size === 8) checkImm(f, 'displacement', rel, -128, 127, 'a signed 8-bit displacement');
  else checkImm(f, 'displacement', rel, -(2 ** 31), 2 ** 31 - 1, 'a signed 32-bit displacement');
}

/** jmp with a raw displacement from the end of the instruction. */
export function emitJmpRel(buf: CodeBuffer, rel: number, size: 8 | 32): void {
  const f = size === 8 ? JMP_REL8 : JMP_REL32;
  relCheck(f, rel, size);
  emitForm(buf, f, null, null, rel);
}

/** jcc with a raw displacement from the end of the instruction. */
export function emitJccRel(buf: CodeBuffer, cond: Cond, rel: number, size: 8 | 32): void {
  const cc = condCode(cond);
  const f = size === 8 ? JCC_REL8 : JCC_REL32;
  relCheck(f, rel, size);
  emitForm(buf, f, null, null, rel, 0, cc);
}

/** call label (E8 rel32; a call is never relaxed). */
export function emitCall(buf: CodeBuffer, target: Label): void {
  buf.useLabel(target, X86_REL32, { field: buf.linearLength + 1, insn: 'call' });
  buf.put8(0xe8);
  buf.put32(0);
}

/** call with a raw rel32 from the end of the instruction. */
export function emitCallRel(buf: CodeBuffer, rel: number): void {
  relCheck(CALL_REL32, rel, 32);
  emitForm(buf, CALL_REL32, null, null, rel);
}

/** call symbol+addend (E8 rel32 with a relocation resolved at finish). */
export function emitCallSymbol(buf: CodeBuffer, symbol: string, addend = 0, veneer?: VeneerEmitter): void {
  buf.put8(0xe8);
  buf.addReloc(veneer ? { kind: X86_REL32, symbol, addend, veneer } : { kind: X86_REL32, symbol, addend });
  buf.put32(0);
}

/** jmp symbol+addend (E9 rel32 with a relocation; tail calls into other images). */
export function emitJmpSymbol(buf: CodeBuffer, symbol: string, addend = 0): void {
  buf.put8(0xe9);
  buf.addReloc({ kind: X86_REL32, symbol, addend });
  buf.put32(0);
}

function indirect(f: Form, rm: Reg64 | Mem): void {
  if (isMem(rm)) {
    if (rm.size !== 0 && rm.size !== 64) throw new X86OperandError(f.insn, 'target', 'indirect targets are 64-bit');
  } else if (rm.size !== 64) throw new X86OperandError(f.insn, 'target', `${(rm as Reg).name} is not a 64-bit register`);
}

/** call r64 | [m64] (FF /2). */
export function emitCallIndirect(buf: CodeBuffer, target: Reg64 | Mem): void {
  indirect(CALL_RM, target);
  emitForm(buf, CALL_RM, null, target);
}

/** jmp r64 | [m64] (FF /4). */
export function emitJmpIndirect(buf: CodeBuffer, target: Reg64 | Mem): void {
  indirect(JMP_RM, target);
  emitForm(buf, JMP_RM, null, target);
}

/** ret, or ret imm16 (pops imm16 extra bytes). */
export function emitRet(buf: CodeBuffer, pop?: number): void {
  if (pop === undefined) emitForm(buf, RET, null, null);
  else {
    checkImm(RET_IW, 'immediate', pop, 0, 65535, 'an unsigned 16-bit immediate');
    emitForm(buf, RET_IW, null, null, pop);
  }
}

export const emitLeave = (buf: CodeBuffer): void => emitForm(buf, LEAVE, null, null);

// ----- accumulator sign extension ------------------------------------------------------------------

export const emitCwd = (buf: CodeBuffer): void => emitForm(buf, CWD, null, null);
export const emitCdq = (buf: CodeBuffer): void => emitForm(buf, CDQ, null, null);
export const emitCqo = (buf: CodeBuffer): void => emitForm(buf, CQO, null, null);
export const emitCwde = (buf: CodeBuffer): void => emitForm(buf, CWDE, null, null);
export const emitCdqe = (buf: CodeBuffer): void => emitForm(buf, CDQE, null, null);

// ----- miscellaneous ------------------------------------------------------------------------------

export const emitInt3 = (buf: CodeBuffer): void => emitForm(buf, INT3, null, null);
export const emitUd2 = (buf: CodeBuffer): void => emitForm(buf, UD2, null, null);
export const emitEndbr64 = (buf: CodeBuffer): void => emitForm(buf, ENDBR64, null, null);
export const emitPause = (buf: CodeBuffer): void => emitForm(buf, PAUSE, null, null);
export const emitLfence = (buf: CodeBuffer): void => emitForm(buf, LFENCE, null, null);
export const emitMfence = (buf: CodeBuffer): void => emitForm(buf, MFENCE, null, null);
export const emitSfence = (buf: CodeBuffer): void => emitForm(buf, SFENCE, null, null);

/** prefetch{t0,t1,t2,nta} [m]. */
export function emitPrefetch(buf: CodeBuffer, m: Mem, hint: PrefetchHint = 't0'): void {
  const f = PREFETCH[hint];
  if (!f) throw new X86OperandError('prefetch', 'hint', `unknown prefetch hint "${String(hint)}"`);
  if (!isMem(m)) throw new X86OperandError(f.insn, 'operand', 'must be a memory operand');
  emitForm(buf, f, null, m);
}

/** SDM Table 4-12 (1-9 bytes) and LLVM's 10-byte `cs nopw`. */
export const NOP_SEQUENCES: readonly (readonly number[])[] = [
  [0x90],
  [0x66, 0x90],
  [0x0f, 0x1f, 0x00],
  [0x0f, 0x1f, 0x40, 0x00],
  [0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00],
  [0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  [0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
];

/** One NOP instruction of `len` bytes (1..15). */
export function emitNop(buf: CodeBuffer, len = 1): void {
  if (!Number.isInteger(len) || len < 1 || len > 15) throw new X86OperandError('nop', 'length', `a single NOP is 1..15 bytes, not ${len}`);
  for (let i = 10; i < len; i++) buf.put8(0x66);
  buf.putBytes(NOP_SEQUENCES[Math.min(len, 10) - 1] as readonly number[]);
}

/** Fill `n` bytes with NOPs of at most `maxLen` (default 10) bytes each, like llvm-mc's `.nops n`. */
export function emitNops(buf: CodeBuffer, n: number, maxLen = 10): void {
  if (!Number.isInteger(n) || n < 0) throw new X86OperandError('nops', 'length', `${n} is not a byte count`);
  if (!Number.isInteger(maxLen) || maxLen < 1 || maxLen > 15) throw new X86OperandError('nops', 'maxLen', `${maxLen} is not in 1..15`);
  while (n > 0) {
    const k = Math.min(n, maxLen);
    emitNop(buf, k);
    n -= k;
  }
}
