// Buffer appenders for every arm64 encoder: `emitX(buf, ...operands)` = `buf.put32(encX(...))`.
// The encoder validates before anything is written, so a throwing emit leaves the buffer unchanged.
// Label- and symbol-relative forms (B, BL, B.cond, CBZ, TBZ, ADR, ADRP, LDR literal) live in
// labels.ts; constant synthesis (emitMovImm) is here because it appends several words.

import type { CodeBuffer } from '../buffer.js';
import { InvariantError } from '../../support/errors.js';
import * as dp from './enc-dp.js';
import * as mem from './enc-mem.js';
import * as ctl from './enc-ctl.js';
import { movImmPlan, movImmScratch } from './imm64.js';
import type { RZr } from './regs.js';

/**
 * Turn a pure encoder into an appender with the same (generic) operand list. The body passes up to
 * seven operands positionally (no rest array per call); missing ones arrive as undefined and take
 * the encoder's defaults.
 */
function appender<A extends unknown[]>(enc: (...args: A) => number): (buf: CodeBuffer, ...args: A) => void {
  const f = enc as unknown as (a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown, g?: unknown, h?: unknown) => number;
  if (enc.length > 7) throw new InvariantError('appender: encoder takes more than 7 operands');
  return ((buf: CodeBuffer, a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown, g?: unknown, h?: unknown): void =>
    buf.put32(f(a, b, c, d, e, g, h))) as unknown as (buf: CodeBuffer, ...args: A) => void;
}

export const emitWord = (buf: CodeBuffer, word: number): void => buf.put32(word);

export const emitAddSubImm = appender(dp.encAddSubImm);
export const emitAddImm = appender(dp.encAddImm);
export const emitSubImm = appender(dp.encSubImm);
export const emitAddsImm = appender(dp.encAddsImm);
export const emitSubsImm = appender(dp.encSubsImm);
export const emitAddSubReg = appender(dp.encAddSubReg);
export const emitAddReg = appender(dp.encAddReg);
export const emitSubReg = appender(dp.encSubReg);
export const emitAddsReg = appender(dp.encAddsReg);
export const emitSubsReg = appender(dp.encSubsReg);
export const emitAddSubExt = appender(dp.encAddSubExt);
export const emitCmpImm = appender(dp.encCmpImm);
export const emitCmnImm = appender(dp.encCmnImm);
export const emitCmpReg = appender(dp.encCmpReg);
export const emitCmnReg = appender(dp.encCmnReg);
export const emitNeg = appender(dp.encNeg);
export const emitLogicalImm = appender(dp.encLogicalImm);
export const emitAndImm = appender(dp.encAndImm);
export const emitOrrImm = appender(dp.encOrrImm);
export const emitEorImm = appender(dp.encEorImm);
export const emitAndsImm = appender(dp.encAndsImm);
export const emitTstImm = appender(dp.encTstImm);
export const emitLogicalReg = appender(dp.encLogicalReg);
export const emitAndReg = appender(dp.encAndReg);
export const emitOrrReg = appender(dp.encOrrReg);
export const emitEorReg = appender(dp.encEorReg);
export const emitAndsReg = appender(dp.encAndsReg);
export const emitBicReg = appender(dp.encBicReg);
export const emitTstReg = appender(dp.encTstReg);
export const emitMovReg = appender(dp.encMovReg);
export const emitMovSp = appender(dp.encMovSp);
export const emitMvn = appender(dp.encMvn);
export const emitMoveWide = appender(dp.encMoveWide);
export const emitMovz = appender(dp.encMovz);
export const emitMovn = appender(dp.encMovn);
export const emitMovk = appender(dp.encMovk);
export const emitBitfield = appender(dp.encBitfield);
export const emitUbfm = appender(dp.encUbfm);
export const emitSbfm = appender(dp.encSbfm);
export const emitBfm = appender(dp.encBfm);
export const emitLslImm = appender(dp.encLslImm);
export const emitLsrImm = appender(dp.encLsrImm);
export const emitAsrImm = appender(dp.encAsrImm);
export const emitRorImm = appender(dp.encRorImm);
export const emitUbfx = appender(dp.encUbfx);
export const emitSbfx = appender(dp.encSbfx);
export const emitUbfiz = appender(dp.encUbfiz);
export const emitSbfiz = appender(dp.encSbfiz);
export const emitBfi = appender(dp.encBfi);
export const emitBfxil = appender(dp.encBfxil);
export const emitUxtb = appender(dp.encUxtb);
export const emitUxth = appender(dp.encUxth);
export const emitSxtb = appender(dp.encSxtb);
export const emitSxth = appender(dp.encSxth);
export const emitSxtw = appender(dp.encSxtw);
export const emitExtr = appender(dp.encExtr);
export const emitDp2 = appender(dp.encDp2);
export const emitUdiv = appender(dp.encUdiv);
export const emitSdiv = appender(dp.encSdiv);
export const emitLslv = appender(dp.encLslv);
export const emitLsrv = appender(dp.encLsrv);
export const emitAsrv = appender(dp.encAsrv);
export const emitRorv = appender(dp.encRorv);
export const emitDp1 = appender(dp.encDp1);
export const emitRev = appender(dp.encRev);
export const emitRev16 = appender(dp.encRev16);
export const emitRev32 = appender(dp.encRev32);
export const emitRbit = appender(dp.encRbit);
export const emitClz = appender(dp.encClz);
export const emitDp3 = appender(dp.encDp3);
export const emitMadd = appender(dp.encMadd);
export const emitMsub = appender(dp.encMsub);
export const emitMul = appender(dp.encMul);
export const emitMneg = appender(dp.encMneg);
export const emitUmulh = appender(dp.encUmulh);
export const emitSmulh = appender(dp.encSmulh);
export const emitUmull = appender(dp.encUmull);
export const emitSmull = appender(dp.encSmull);
export const emitCondSel = appender(dp.encCondSel);
export const emitCsel = appender(dp.encCsel);
export const emitCsinc = appender(dp.encCsinc);
export const emitCsinv = appender(dp.encCsinv);
export const emitCsneg = appender(dp.encCsneg);
export const emitCset = appender(dp.encCset);
export const emitCsetm = appender(dp.encCsetm);
export const emitCinc = appender(dp.encCinc);
export const emitCneg = appender(dp.encCneg);

export const emitLdSt = appender(mem.encLdSt);
export const emitLdStUnscaled = appender(mem.encLdStUnscaled);
export const emitLdStIndexed = appender(mem.encLdStIndexed);
export const emitLdStReg = appender(mem.encLdStReg);
export const emitPrfm = appender(mem.encPrfm);
export const emitPrfmReg = appender(mem.encPrfmReg);
export const emitLdStPair = appender(mem.encLdStPair);
export const emitLdp = appender(mem.encLdp);
export const emitStp = appender(mem.encStp);
export const emitExclusive = appender(mem.encExclusive);
export const emitLdxr = appender(mem.encLdxr);
export const emitLdaxr = appender(mem.encLdaxr);
export const emitStxr = appender(mem.encStxr);
export const emitStlxr = appender(mem.encStlxr);
export const emitLdar = appender(mem.encLdar);
export const emitStlr = appender(mem.encStlr);
export const emitAtomic = appender(mem.encAtomic);
export const emitCas = appender(mem.encCas);

export const emitBr = appender(ctl.encBr);
export const emitBlr = appender(ctl.encBlr);
export const emitRet = appender(ctl.encRet);
export const emitNop = appender(ctl.encNop);
export const emitHint = appender(ctl.encHint);
export const emitBti = appender(ctl.encBti);
export const emitBrk = appender(ctl.encBrk);
export const emitDmb = appender(ctl.encDmb);
export const emitDsb = appender(ctl.encDsb);
export const emitIsb = appender(ctl.encIsb);
export const emitDcCvau = appender(ctl.encDcCvau);
export const emitDcCvac = appender(ctl.encDcCvac);
export const emitDcCivac = appender(ctl.encDcCivac);
export const emitIcIvau = appender(ctl.encIcIvau);
export const emitIcIallu = appender(ctl.encIcIallu);

/** LDR Rt, [Xn|SP, #offset] (scaled unsigned offset). */
export const emitLdr = (buf: CodeBuffer, rt: RZr, rn: Parameters<typeof mem.encLdSt>[2], offset = 0): void => buf.put32(mem.encLdSt('ldr', rt, rn, offset));
/** STR Rt, [Xn|SP, #offset] (scaled unsigned offset). */
export const emitStr = (buf: CodeBuffer, rt: RZr, rn: Parameters<typeof mem.encLdSt>[2], offset = 0): void => buf.put32(mem.encLdSt('str', rt, rn, offset));

/** Put the constant (lo, hi) into rd with the shortest MOVZ/MOVN/MOVK/ORR sequence (imm64.ts). */
export function emitMovImm(buf: CodeBuffer, rd: RZr, lo: number, hi = 0): void {
  const n = movImmPlan(rd, lo, hi);
  const words = movImmScratch();
  for (let i = 0; i < n; i++) buf.put32(words[i] as number);
}
