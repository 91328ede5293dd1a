// Small multi-instruction helpers the generators need (bkey.md §5 "offset add", "byte-granular
// variant"): add a constant of any size, and a load/store that picks the scaled or unscaled form.
// Each validates everything before appending, so a throw leaves the buffer unchanged.

import type { CodeBuffer } from '../buffer.js';
import { encAddSubExt, encAddSubImm, encAddSubReg } from './enc-dp.js';
import { encLdSt, encLdStUnscaled } from './enc-mem.js';
import { movImmPlan, movImmScratch } from './imm64.js';
import { ImmediateRangeError, MisalignedOffsetError, RegisterClassError } from './errors.js';
import type { LdStOp } from './tables.js';
import type { Reg, RegSize, RSp, RZr, XSp } from './regs.js';

/**
 * rd = rn + value (value a safe integer; negative subtracts). Uses ADD/SUB #imm12, #imm12 lsl 12,
 * both (|value| < 2^24), or, when `scratch` is given, the constant synthesised in `scratch` plus a
 * register ADD (extended form when rd or rn is SP). value = 0 with rd = rn emits nothing.
 * Returns the number of instructions appended.
 */
export function emitAddConst<S extends RegSize>(buf: CodeBuffer, rd: RSp<S>, rn: RSp<NoInfer<S>>, value: number, scratch?: RZr<NoInfer<S>>): number {
  if (!Number.isSafeInteger(value)) throw new ImmediateRangeError('add', 'value', value, 'a safe integer');
  const op = value < 0 ? 'sub' : 'add';
  const mag = Math.abs(value);
  if (mag < 4096) {
    const w = encAddSubImm(op, rd, rn, mag);
    if (mag === 0 && rd.num === rn.num && rd.cls === rn.cls) return 0;
    buf.put32(w);
    return 1;
  }
  if (mag < 2 ** 24) {
    const hi = encAddSubImm(op, rd, rn, mag >>> 12, 12);
    const lo = mag & 0xfff;
    const second = lo === 0 ? -1 : encAddSubImm(op, rd, rd, lo);
    buf.put32(hi);
    if (second >= 0) buf.put32(second);
    return second >= 0 ? 2 : 1;
  }
  if (scratch === undefined) throw new ImmediateRangeError('add', 'value', value, '|value| < 2^24 without a scratch register');
  const sc = scratch as Reg;
  if (sc.cls !== 'gp' || sc.size !== rd.size || (sc.num === rn.num && rn.cls === 'gp')) {
    throw new RegisterClassError('add', 'scratch', sc.name, 'a general register of the same width, other than rn');
  }
  const usesSp = (rd as Reg).cls === 'sp' || (rn as Reg).cls === 'sp';
  const add = usesSp
    ? encAddSubExt('add', rd, rn, scratch, rd.size === 64 ? 'uxtx' : 'uxtw')
    : encAddSubReg('add', rd as unknown as RZr<S>, rn as unknown as RZr<S>, scratch);
  const lo = value >>> 0;
  const hi = Math.floor(value / 2 ** 32) >>> 0;
  const n = movImmPlan(scratch, lo, rd.size === 64 ? hi : 0);
  const words = movImmScratch();
  for (let i = 0; i < n; i++) buf.put32(words[i] as number);
  buf.put32(add);
  return n + 1;
}

/**
 * LDR/STR-family access at any byte offset the ISA can reach in one instruction: the scaled
 * unsigned form when the offset is a non-negative multiple of the access size in range, else the
 * unscaled LDUR form for -256..255 (bkey.md: `stur xzr,[x0,#4]`, `ldurh` for odd offsets).
 */
export function emitLdStOffset(buf: CodeBuffer, op: LdStOp, rt: RZr, rn: XSp, offset: number): void {
  let word: number;
  try {
    word = encLdSt(op, rt, rn, offset);
  } catch (e) {
    if (!(e instanceof ImmediateRangeError) && !(e instanceof MisalignedOffsetError)) throw e;
    if (offset < -256 || offset > 255) throw e;
    word = encLdStUnscaled(op, rt, rn, offset);
  }
  buf.put32(word);
}
