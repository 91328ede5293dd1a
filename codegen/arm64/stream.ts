// A deterministic mixed arm64 instruction stream for the `assemble` benchmark: the shapes the BPF
// JIT and the bkey unpackers emit (prologue/epilogue pairs, ALU register/immediate, bitfield
// extracts, loads/stores, compares and conditional branches to labels, constant synthesis).
// Every instruction goes through the public emit layer with full operand checking.

import type { CodeBuffer } from '../buffer.js';
import {
  emitAddImm, emitAddReg, emitAndImm, emitCmpImm, emitCsel, emitEorReg, emitExtr, emitLdp, emitLdSt, emitLdStUnscaled,
  emitLslv, emitMovImm, emitMovReg, emitMul, emitRet, emitRev, emitStp, emitSubReg, emitUbfx, emitUdiv,
} from './emit.js';
import { emitBCond, emitCbz } from './labels.js';
import { FP, LR, SP, X0, X1, X10, X19, X7, X9, W9, W10 } from './regs.js';

/** Append `n` instructions (rounded up to a whole 32-instruction block); returns the count emitted. */
export function armMixedStream(buf: CodeBuffer, n: number): number {
  let count = 0;
  while (count < n) {
    const top = buf.newLabel();
    const out = buf.newLabel();
    emitStp(buf, FP, LR, SP, -16, 'pre');
    emitMovReg(buf, FP, X0);
    buf.bind(top);
    emitLdSt(buf, 'ldr', X9, X1, 8);
    emitLdStUnscaled(buf, 'ldr', X10, X1, 4);
    emitUbfx(buf, X9, X9, 13, 10);
    emitExtr(buf, X9, X10, X9, 7);
    emitAndImm(buf, W9, W9, 0xffffff);
    emitAddImm(buf, X9, X9, 0x105);
    emitAddImm(buf, X9, X9, 1, 12);
    emitAddReg(buf, X7, X7, X9);
    emitSubReg(buf, X7, X7, X10, 'lsl', 3);
    emitEorReg(buf, X19, X19, X7);
    emitLslv(buf, X10, X10, X9);
    emitMul(buf, X9, X9, X10);
    emitUdiv(buf, W10, W10, W9);
    emitCmpImm(buf, X9, 64);
    emitCsel(buf, X7, X7, X9, 'lo');
    emitBCond(buf, 'ne', top);
    emitCbz(buf, X10, out);
    emitMovImm(buf, X10, 0x9abcdef0, 0x12345678);
    emitMovImm(buf, X9, 0xffffff00, 0xffffffff);
    emitLdp(buf, X9, X10, X1, 16);
    emitStp(buf, X9, X10, X0, 32);
    emitLdSt(buf, 'str', W9, X0, 20);
    emitLdSt(buf, 'ldrh', W10, X1, 6);
    emitLdSt(buf, 'strb', W10, X0, 3);
    emitRev(buf, X9, X9);
    buf.bind(out);
    emitLdp(buf, FP, LR, SP, 16, 'post');
    emitRet(buf);
    count += 32;
  }
  return count;
}
