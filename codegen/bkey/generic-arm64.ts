// The generic (interpreted) bkey unpack as arm64 machine code: one function for every format,
// reading key_u64s, bits[6] and offset[6] from a 56-byte bkey_format in memory (issue 7; the
// streaming interpreter of reference/bkey.md §2), the arm64 twin of generic-x86_64.ts.
//
// Invariants:
// - AAPCS64: fn(dst = x0, src = x1, fmt = x2); scratch x9-x15; no stack; ret.
// - x10 = left-justified 64-bit buffer, w11 = bits left, x12 = address of the current word.
//   lsrv/lslv take the shift modulo 64, so `neg` gives 64 - b for b in [1, 64]; a shift by 64 is
//   split off by compare and branch.
// - Field loop unrolled over the fixed field table; words from the A64 encodings (data below);
//   branches are patched within each field's block. Pure: words out.

import { InvariantError } from '../../support/errors.js';
import { BKEY_NR_FIELDS } from './layout.js';
import { fieldInfo } from './plan.js';
import type { MachineUnpacker, UnpackInstruction } from './x86_64.js';

const ZR = 31;
const enc = {
  ldrbImm: (rt: number, rn: number, off: number): number => (0x39400000 | (off << 10) | (rn << 5) | rt) >>> 0,
  ldrWImm: (rt: number, rn: number, off: number): number => (0xb9400000 | ((off / 4) << 10) | (rn << 5) | rt) >>> 0,
  ldrXImm: (rt: number, rn: number, off: number): number => (0xf9400000 | ((off / 8) << 10) | (rn << 5) | rt) >>> 0,
  andW9Mask24: (): number => 0x12005d29,
  addImmW: (rd: number, rn: number, imm: number): number => (0x11000000 | (imm << 10) | (rn << 5) | rd) >>> 0,
  subImmX: (rd: number, rn: number, imm: number): number => (0xd1000000 | (imm << 10) | (rn << 5) | rd) >>> 0,
  subRegW: (rd: number, rn: number, rm: number): number => (0x4b000000 | (rm << 16) | (rn << 5) | rd) >>> 0,
  addRegX: (rd: number, rn: number, rm: number, lsl: number): number => (0x8b000000 | (rm << 16) | (lsl << 10) | (rn << 5) | rd) >>> 0,
  orrRegX: (rd: number, rn: number, rm: number): number => (0xaa000000 | (rm << 16) | (rn << 5) | rd) >>> 0,
  movzW: (rd: number, imm: number): number => (0x52800000 | (imm << 5) | rd) >>> 0,
  movzX: (rd: number, imm: number): number => (0xd2800000 | (imm << 5) | rd) >>> 0,
  lsrvX: (rd: number, rn: number, rm: number): number => (0x9ac02400 | (rm << 16) | (rn << 5) | rd) >>> 0,
  lslvX: (rd: number, rn: number, rm: number): number => (0x9ac02000 | (rm << 16) | (rn << 5) | rd) >>> 0,
  cmpRegW: (rn: number, rm: number): number => (0x6b000000 | (rm << 16) | (rn << 5) | ZR) >>> 0,
  cmpImmW: (rn: number, imm: number): number => (0x71000000 | (imm << 10) | (rn << 5) | ZR) >>> 0,
  strX: (rt: number, rn: number, off: number): number => (0xf9000000 | ((off / 8) << 10) | (rn << 5) | rt) >>> 0,
  strW: (rt: number, rn: number, off: number): number => (0xb9000000 | ((off / 4) << 10) | (rn << 5) | rt) >>> 0,
  sturX: (rt: number, rn: number, off: number): number => (0xf8000000 | ((off & 0x1ff) << 12) | (rn << 5) | rt) >>> 0,
  ret: (): number => 0xd65f03c0,
};

type Branch = { kind: 'cbz'; rt: number } | { kind: 'b.hi' } | { kind: 'b.eq' } | { kind: 'b' };

function encBranch(br: Branch, words: number): number {
  const imm19 = (words & 0x7ffff) << 5;
  switch (br.kind) {
    case 'cbz':
      return (0x34000000 | imm19 | br.rt) >>> 0;
    case 'b.hi':
      return (0x54000000 | imm19 | 8) >>> 0;
    case 'b.eq':
      return (0x54000000 | imm19 | 0) >>> 0;
    case 'b':
      return (0x14000000 | (words & 0x3ffffff)) >>> 0;
  }
}

export function genArm64GenericUnpacker(): MachineUnpacker {
  const words: number[] = [];
  const texts: string[] = [];
  const labels = new Map<string, number>();
  const fixups: { at: number; br: Branch; label: string }[] = [];
  const emit = (w: number, text: string): void => {
    words.push(w);
    texts.push(text);
  };
  const label = (name: string): void => {
    labels.set(name, words.length);
  };
  const branch = (br: Branch, target: string): void => {
    fixups.push({ at: words.length, br, label: target });
    emit(0, `${br.kind === 'cbz' ? `cbz w${br.rt},` : br.kind} ${target}`);
  };

  emit(enc.ldrbImm(13, 2, 0), 'ldrb w13, [x2]');
  emit(enc.ldrWImm(9, 1, 0), 'ldr w9, [x1]');
  emit(enc.andW9Mask24(), 'and w9, w9, #0xffffff');
  emit(enc.addImmW(9, 9, 0x105), 'add w9, w9, #0x105');
  emit(enc.subRegW(9, 9, 13), 'sub w9, w9, w13');
  emit(enc.strW(9, 0, 0), 'str w9, [x0]');
  emit(enc.addRegX(12, 1, 13, 3), 'add x12, x1, x13, lsl #3');
  emit(enc.subImmX(12, 12, 8), 'sub x12, x12, #8');
  emit(enc.ldrXImm(10, 12, 0), 'ldr x10, [x12]');
  emit(enc.movzW(11, 64), 'mov w11, #0x40');
  for (let i = 0; i < BKEY_NR_FIELDS; i++) {
    const info = fieldInfo(i);
    const L = (n: string): string => `${n}_${i}`;
    emit(enc.ldrbImm(13, 2, 2 + i), `ldrb w13, [x2, #${2 + i}]`);
    emit(enc.movzX(9, 0), 'mov x9, #0');
    branch({ kind: 'cbz', rt: 13 }, L('add'));
    emit(enc.subRegW(14, ZR, 13), 'neg w14, w13');
    emit(enc.lsrvX(9, 10, 14), 'lsr x9, x10, x14');
    emit(enc.cmpRegW(13, 11), 'cmp w13, w11');
    branch({ kind: 'b.hi' }, L('refill'));
    emit(enc.subRegW(11, 11, 13), 'sub w11, w11, w13');
    emit(enc.cmpImmW(13, 64), 'cmp w13, #0x40');
    branch({ kind: 'b.eq' }, L('zero'));
    emit(enc.lslvX(10, 10, 13), 'lsl x10, x10, x13');
    branch({ kind: 'b' }, L('add'));
    label(L('refill'));
    emit(enc.subRegW(13, 13, 11), 'sub w13, w13, w11');
    emit(enc.subImmX(12, 12, 8), 'sub x12, x12, #8');
    emit(enc.ldrXImm(10, 12, 0), 'ldr x10, [x12]');
    emit(enc.subRegW(14, ZR, 13), 'neg w14, w13');
    emit(enc.lsrvX(15, 10, 14), 'lsr x15, x10, x14');
    emit(enc.orrRegX(9, 9, 15), 'orr x9, x9, x15');
    emit(enc.movzW(11, 64), 'mov w11, #0x40');
    emit(enc.subRegW(11, 11, 13), 'sub w11, w11, w13');
    emit(enc.cmpImmW(13, 64), 'cmp w13, #0x40');
    branch({ kind: 'b.eq' }, L('zero'));
    emit(enc.lslvX(10, 10, 13), 'lsl x10, x10, x13');
    branch({ kind: 'b' }, L('add'));
    label(L('zero'));
    emit(enc.movzX(10, 0), 'mov x10, #0');
    label(L('add'));
    emit(enc.ldrXImm(14, 2, 8 + 8 * i), `ldr x14, [x2, #${8 + 8 * i}]`);
    emit(enc.addRegX(9, 9, 14, 0), 'add x9, x9, x14');
    if (info.store === 4) emit(enc.strW(9, 0, info.dstOffset), `str w9, [x0, #${info.dstOffset}]`);
    else if (info.dstOffset % 8 === 0) emit(enc.strX(9, 0, info.dstOffset), `str x9, [x0, #${info.dstOffset}]`);
    else emit(enc.sturX(9, 0, info.dstOffset), `stur x9, [x0, #${info.dstOffset}]`);
  }
  emit(enc.ret(), 'ret');
  for (const fx of fixups) {
    const target = labels.get(fx.label);
    if (target === undefined) throw new InvariantError(`arm64 generic unpacker: undefined label ${fx.label}`);
    words[fx.at] = encBranch(fx.br, target - fx.at);
    texts[fx.at] = `${(texts[fx.at] as string).replace(/ \S+$/, '')} #0x${(4 * target).toString(16)}`;
  }
  const bytes = new Uint8Array(4 * words.length);
  const instructions: UnpackInstruction[] = words.map((w, k) => {
    const b = Uint8Array.of(w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, w >>> 24);
    bytes.set(b, 4 * k);
    return { bytes: b, text: texts[k] as string };
  });
  return { bytes, size: bytes.length, instructions };
}
