// An arm64 compiled bkey unpacker (reference/bkey.md §5 "Suggested arm64 mapping"; bcachefs never
// had one). Our design: AAPCS64 fn(dst = x0, src = x1), scratch x9/x10, no stack, no branches,
// ends with ret; optional `bti c` landing pad.
//
// Invariants:
// - Loads are word-granular: a field inside 64-bit word w = L>>6 is loaded with `ldr x9` (or
//   `ldr w9` from the half that holds it), then `ubfx`/`lsr` extracts it; a field crossing words w
//   and w+1 uses `ldp x9,x10` + `extr`. Byte/halfword fields at a byte boundary use ldrb/ldrh
//   (ldurh at an odd byte). Every load stays inside [src, src + 8*key_u64s).
// - Offsets < 2^24 are added with `add #imm12` and/or `add #imm12, lsl #12`; larger ones are built
//   in x10 with movz/movk and added as a register. Constants (case B) use movz/movk or movn.
// - Words come from the §5 base-word table (encoded here as data, like the x86 table), so the
//   output does not depend on an assembler's choice of forms. Pure: a format in, words out.

import type { U64 } from '../../support/u64.js';
import { type BkeyFormat, fieldLsb } from './layout.js';
import { fieldInfo, planUnpack } from './plan.js';
import type { MachineUnpacker, UnpackInstruction } from './x86_64.js';

const X0 = 0;
const X1 = 1;
const X9 = 9;
const X10 = 10;
const ZR = 31;

const hex = (v: number): string => '0x' + (v >>> 0).toString(16);

// §5 base words; Rd/Rt bits 0-4, Rn bits 5-9.
export const encArm64Unpack = {
  ldrX: (rt: number, rn: number, off: number): number => (0xf9400000 | ((off / 8) << 10) | (rn << 5) | rt) >>> 0,
  ldrW: (rt: number, rn: number, off: number): number => (0xb9400000 | ((off / 4) << 10) | (rn << 5) | rt) >>> 0,
  ldrb: (rt: number, rn: number, off: number): number => (0x39400000 | (off << 10) | (rn << 5) | rt) >>> 0,
  ldrh: (rt: number, rn: number, off: number): number => (0x79400000 | ((off / 2) << 10) | (rn << 5) | rt) >>> 0,
  ldurh: (rt: number, rn: number, off: number): number => (0x78400000 | ((off & 0x1ff) << 12) | (rn << 5) | rt) >>> 0,
  ldpX: (rt: number, rt2: number, rn: number, off: number): number => (0xa9400000 | (((off / 8) & 0x7f) << 15) | (rt2 << 10) | (rn << 5) | rt) >>> 0,
  ubfmX: (rd: number, rn: number, immr: number, imms: number): number => (0xd3400000 | (immr << 16) | (imms << 10) | (rn << 5) | rd) >>> 0,
  extrX: (rd: number, rn: number, rm: number, lsb: number): number => (0x93c00000 | (rm << 16) | (lsb << 10) | (rn << 5) | rd) >>> 0,
  addImmX: (rd: number, rn: number, imm12: number, lsl12: boolean): number => (0x91000000 | (lsl12 ? 1 << 22 : 0) | (imm12 << 10) | (rn << 5) | rd) >>> 0,
  addImmW: (rd: number, rn: number, imm12: number): number => (0x11000000 | (imm12 << 10) | (rn << 5) | rd) >>> 0,
  addRegX: (rd: number, rn: number, rm: number): number => (0x8b000000 | (rm << 16) | (rn << 5) | rd) >>> 0,
  andW9Mask24: (): number => 0x12005d29,
  movzX: (rd: number, imm16: number, hw: number): number => (0xd2800000 | (hw << 21) | (imm16 << 5) | rd) >>> 0,
  movkX: (rd: number, imm16: number, hw: number): number => (0xf2800000 | (hw << 21) | (imm16 << 5) | rd) >>> 0,
  movnW: (rd: number, imm16: number): number => (0x12800000 | (imm16 << 5) | rd) >>> 0,
  strX: (rt: number, rn: number, off: number): number => (0xf9000000 | ((off / 8) << 10) | (rn << 5) | rt) >>> 0,
  strW: (rt: number, rn: number, off: number): number => (0xb9000000 | ((off / 4) << 10) | (rn << 5) | rt) >>> 0,
  sturX: (rt: number, rn: number, off: number): number => (0xf8000000 | ((off & 0x1ff) << 12) | (rn << 5) | rt) >>> 0,
  ret: (): number => 0xd65f03c0,
  btiC: (): number => 0xd503245f,
};

export interface Arm64UnpackOptions {
  /** Prepend `bti c` (0xD503245F) for BTI-hardened targets. */
  bti?: boolean;
}

const reg = (r: number, w: boolean): string => (r === ZR ? (w ? 'wzr' : 'xzr') : `${w ? 'w' : 'x'}${r}`);
const memText = (rn: number, off: number): string => (off ? `[x${rn}, #${off}]` : `[x${rn}]`);

export function genArm64Unpacker(f: BkeyFormat, opts: Arm64UnpackOptions = {}): MachineUnpacker {
  const E = encArm64Unpack;
  const plan = planUnpack(f);
  const out: UnpackInstruction[] = [];
  const emit = (word: number, text: string): void => {
    out.push({ bytes: Uint8Array.of(word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, word >>> 24), text });
  };
  /** movz/movk (or movn for a 32-bit all-ones) building `v` in x10. */
  const materialise = (v: U64, w32: boolean): void => {
    if (w32 && v.lo === 0xffffffff) {
      emit(E.movnW(X10, 0), 'mov w10, #-1');
      return;
    }
    const halves = [v.lo & 0xffff, v.lo >>> 16, v.hi & 0xffff, v.hi >>> 16];
    let first = true;
    halves.forEach((h, hw) => {
      if (h === 0 && !(first && hw === 3)) return;
      if (first) emit(E.movzX(X10, h, hw), `mov x10, #0x${h.toString(16)}${'0000'.repeat(hw)}`);
      else emit(E.movkX(X10, h, hw), `movk x10, #${hex(h)}${hw ? `, lsl #${16 * hw}` : ''}`);
      first = false;
    });
    if (first) emit(E.movzX(X10, 0, 0), 'mov x10, #0');
  };
  const store = (rt: number, fieldIndex: number): void => {
    const info = fieldInfo(fieldIndex);
    if (info.store === 4) emit(E.strW(rt, X0, info.dstOffset), `str ${reg(rt, true)}, ${memText(X0, info.dstOffset)}`);
    else if (info.dstOffset % 8 === 0) emit(E.strX(rt, X0, info.dstOffset), `str ${reg(rt, false)}, ${memText(X0, info.dstOffset)}`);
    else emit(E.sturX(rt, X0, info.dstOffset), `stur ${reg(rt, false)}, ${memText(X0, info.dstOffset)}`);
  };
  const ubfx = (o: number, b: number, regBits: number): void => {
    if (o === 0 && b >= regBits) return;
    if (o + b === 64) emit(E.ubfmX(X9, X9, o, 63), `lsr x9, x9, #${o}`);
    else emit(E.ubfmX(X9, X9, o, o + b - 1), `ubfx x9, x9, #${o}, #${b}`);
  };

  if (opts.bti) emit(E.btiC(), 'bti c');
  emit(E.ldrW(X9, X1, 0), 'ldr w9, [x1]');
  emit(E.andW9Mask24(), 'and w9, w9, #0xffffff');
  emit(E.addImmW(X9, X9, plan.headerAdd), `add w9, w9, #${hex(plan.headerAdd)}`);
  emit(E.strW(X9, X0, 0), 'str w9, [x0]');
  for (const fp of plan.fields) {
    const info = fieldInfo(fp.field);
    if (fp.kind === 'A') {
      store(ZR, fp.field);
      continue;
    }
    if (fp.kind === 'B') {
      materialise(fp.value, info.store === 4);
      store(X10, fp.field);
      continue;
    }
    const b = fp.bits;
    const L = fieldLsb(f, fp.field);
    const B = L >> 3;
    if ((L & 7) === 0 && b === 8) {
      emit(E.ldrb(X9, X1, B), `ldrb w9, ${memText(X1, B)}`);
    } else if ((L & 7) === 0 && b === 16) {
      if (B % 2 === 0) emit(E.ldrh(X9, X1, B), `ldrh w9, ${memText(X1, B)}`);
      else emit(E.ldurh(X9, X1, B), `ldurh w9, ${memText(X1, B)}`);
    } else {
      const w = L >> 6;
      const o = L & 63;
      if (o + b <= 32) {
        emit(E.ldrW(X9, X1, 8 * w), `ldr w9, ${memText(X1, 8 * w)}`);
        ubfx(o, b, 32);
      } else if (o >= 32 && o + b <= 64) {
        emit(E.ldrW(X9, X1, 8 * w + 4), `ldr w9, ${memText(X1, 8 * w + 4)}`);
        ubfx(o - 32, b, 32);
      } else if (o + b <= 64) {
        emit(E.ldrX(X9, X1, 8 * w), `ldr x9, ${memText(X1, 8 * w)}`);
        ubfx(o, b, 64);
      } else {
        emit(E.ldpX(X9, X10, X1, 8 * w), `ldp x9, x10, ${memText(X1, 8 * w)}`);
        emit(E.extrX(X9, X10, X9, o), `extr x9, x10, x9, #${o}`);
        if (b < 64) emit(E.ubfmX(X9, X9, 0, b - 1), `ubfx x9, x9, #0, #${b}`);
      }
    }
    const off = fp.add;
    if (off.hi === 0 && off.lo < 1 << 24) {
      const lo12 = off.lo & 0xfff;
      const hi12 = off.lo >>> 12;
      if (hi12) emit(E.addImmX(X9, X9, hi12, true), `add x9, x9, #${hex(hi12)}, lsl #12`);
      if (lo12) emit(E.addImmX(X9, X9, lo12, false), `add x9, x9, #${hex(lo12)}`);
    } else {
      materialise(off, false);
      emit(E.addRegX(X9, X9, X10), 'add x9, x9, x10');
    }
    store(X9, fp.field);
  }
  emit(E.ret(), 'ret');
  const bytes = new Uint8Array(4 * out.length);
  out.forEach((ins, i) => bytes.set(ins.bytes, 4 * i));
  return { bytes, size: bytes.length, instructions: out };
}
