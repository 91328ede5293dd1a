// The x86_64 compiled unpacker bcachefs generated per btree node format (reference/bkey.md §4;
// bcachefs fs/btree/bkey.c, bch2_compile_bkey_format, identical May 2023 and 2026).
//
// Invariants:
// - SysV: dst = rdi (struct bkey *), src = rsi (packed key); no stack, no branches; clobbers rax
//   and rdx; ends with ret. Optional endbr64 landing pad in front (IBT).
// - Byte-exact with bcachefs: the fixed-length encodings of the §4 table are always used (`c1 /5
//   ib` even for a shift of 1, imm32 forms, disp8 for every memory operand), including the
//   `add rax,0` quirk; an assembler must not shorten them, so they are encoded here from the table.
// - Pure: a format in, {bytes, size, instructions} out. Length <= 255 (bcachefs stores it in a u8).

import { InvariantError } from '../../support/errors.js';
import type { U64 } from '../../support/u64.js';
import type { BkeyFormat } from './layout.js';
import { type FieldPlan, fieldInfo, planUnpack } from './plan.js';

export interface UnpackInstruction {
  bytes: Uint8Array;
  /** Intel syntax, as bcachefs's comments and Capstone print it. */
  text: string;
}

export interface MachineUnpacker {
  bytes: Uint8Array;
  size: number;
  instructions: UnpackInstruction[];
}

const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const hex = (v: number): string => '0x' + (v >>> 0).toString(16);
const disp = (d: number): number => {
  if (!Number.isInteger(d) || d < 0 || d > 127) throw new InvariantError(`bkey unpacker displacement ${d} does not fit disp8`, { displacement: d });
  return d;
};
const ib = (v: number): number => {
  if (!Number.isInteger(v) || v < 1 || v > 63) throw new InvariantError(`bkey unpacker shift ${v} out of range`, { shift: v });
  return v;
};
const mem = (base: string, d: number): string => (d ? `[${base}+${hex(d)}]` : `[${base}]`);

// §4 encodings table, one pure encoder per row.
export const encX86Unpack = {
  endbr64: (): number[] => [0xf3, 0x0f, 0x1e, 0xfa],
  movEaxSrc0: (): number[] => [0x8b, 0x06],
  addEaxImm32: (v: number): number[] => [0x05, ...le32(v)],
  andEaxImm32: (v: number): number[] => [0x25, ...le32(v)],
  movDstEax0: (): number[] => [0x89, 0x07],
  xorEaxEax: (): number[] => [0x31, 0xc0],
  movQwordDstImm32: (d: number, v: number): number[] => [0x48, 0xc7, 0x47, disp(d), ...le32(v)],
  movDwordDstImm32: (d: number, v: number): number[] => [0xc7, 0x47, disp(d), ...le32(v)],
  movzxEaxByte: (d: number): number[] => [0x0f, 0xb6, 0x46, disp(d)],
  movzxEaxWord: (d: number): number[] => [0x0f, 0xb7, 0x46, disp(d)],
  movEaxSrc: (d: number): number[] => [0x8b, 0x46, disp(d)],
  movRaxSrc: (d: number): number[] => [0x48, 0x8b, 0x46, disp(d)],
  movEdxSrc: (d: number): number[] => [0x8b, 0x56, disp(d)],
  shrEax: (n: number): number[] => [0xc1, 0xe8, ib(n)],
  shlRax: (n: number): number[] => [0x48, 0xc1, 0xe0, ib(n)],
  shrRax: (n: number): number[] => [0x48, 0xc1, 0xe8, ib(n)],
  shlRdx: (n: number): number[] => [0x48, 0xc1, 0xe2, ib(n)],
  orRaxRdx: (): number[] => [0x48, 0x09, 0xd0],
  movRdxImm64: (v: U64): number[] => [0x48, 0xba, ...le32(v.lo), ...le32(v.hi)],
  addRaxRdx: (): number[] => [0x48, 0x01, 0xd0],
  addRaxSimm32: (v: number): number[] => [0x48, 0x05, ...le32(v)],
  movDstEax: (d: number): number[] => [0x89, 0x47, disp(d)],
  movDstRax: (d: number): number[] => [0x48, 0x89, 0x47, disp(d)],
  ret: (): number[] => [0xc3],
};

export interface X86UnpackOptions {
  /** Prepend endbr64 (f3 0f 1e fa) for IBT-hardened targets. */
  endbr64?: boolean;
}

export function genX86Unpacker(f: BkeyFormat, opts: X86UnpackOptions = {}): MachineUnpacker {
  const E = encX86Unpack;
  const plan = planUnpack(f);
  const out: UnpackInstruction[] = [];
  const emit = (bytes: number[], text: string): void => {
    out.push({ bytes: Uint8Array.from(bytes), text });
  };
  if (opts.endbr64) emit(E.endbr64(), 'endbr64');
  emit(E.movEaxSrc0(), 'mov eax,[rsi]');
  emit(E.addEaxImm32(plan.headerAdd), `add eax,${hex(plan.headerAdd)}`);
  emit(E.andEaxImm32(0xffffff), 'and eax,0xffffff');
  emit(E.movDstEax0(), 'mov [rdi],eax');
  let eaxZero = false;
  const store = (fp: FieldPlan): void => {
    const info = fieldInfo(fp.field);
    if (info.store === 8) emit(E.movDstRax(info.dstOffset), `mov ${mem('rdi', info.dstOffset)},rax`);
    else emit(E.movDstEax(info.dstOffset), `mov ${mem('rdi', info.dstOffset)},eax`);
  };
  for (const fp of plan.fields) {
    const info = fieldInfo(fp.field);
    const d = info.dstOffset;
    switch (fp.kind) {
      case 'A':
        if (!eaxZero) emit(E.xorEaxEax(), 'xor eax,eax');
        eaxZero = true;
        store(fp);
        continue;
      case 'B':
        if (info.store === 8 && fp.value.hi === 0 && fp.value.lo <= 0x7fffffff) {
          emit(E.movQwordDstImm32(d, fp.value.lo), `mov qword ${mem('rdi', d)},${hex(fp.value.lo)}`);
        } else if (info.store === 8) {
          emit(E.movDwordDstImm32(d, fp.value.lo), `mov dword ${mem('rdi', d)},${hex(fp.value.lo)}`);
          emit(E.movDwordDstImm32(d + 4, fp.value.hi), `mov dword ${mem('rdi', d + 4)},${hex(fp.value.hi)}`);
        } else {
          emit(E.movDwordDstImm32(d, fp.value.lo), `mov dword ${mem('rdi', d)},${hex(fp.value.lo)}`);
        }
        continue;
      case 'C1':
        emit(E.movzxEaxByte(fp.byte), `movzx eax,byte ${mem('rsi', fp.byte)}`);
        break;
      case 'C2':
        emit(E.movzxEaxWord(fp.byte), `movzx eax,word ${mem('rsi', fp.byte)}`);
        break;
      case 'C3':
        emit(E.movEaxSrc(fp.byte), `mov eax,${mem('rsi', fp.byte)}`);
        if (fp.shift) emit(E.shrEax(fp.shift), `shr eax,${fp.shift}`);
        if (fp.mask) {
          const m = (2 ** fp.bits - 1) >>> 0;
          emit(E.andEaxImm32(m), `and eax,${hex(m)}`);
        }
        break;
      case 'C4':
        emit(E.movRaxSrc(fp.byte), `mov rax,${mem('rsi', fp.byte)}`);
        if (fp.shl) emit(E.shlRax(fp.shl), `shl rax,${fp.shl}`);
        if (fp.shr) emit(E.shrRax(fp.shr), `shr rax,${fp.shr}`);
        break;
      case 'C5':
        emit(E.movRaxSrc(fp.byte), `mov rax,${mem('rsi', fp.byte)}`);
        emit(E.movEdxSrc(fp.byte + 8), `mov edx,${mem('rsi', fp.byte + 8)}`);
        emit(E.shrRax(fp.shift), `shr rax,${fp.shift}`);
        emit(E.shlRdx(64 - fp.shift), `shl rdx,${64 - fp.shift}`);
        emit(E.orRaxRdx(), 'or rax,rdx');
        if (fp.shr) emit(E.shrRax(fp.shr), `shr rax,${fp.shr}`);
        break;
    }
    eaxZero = false;
    switch (fp.addKind) {
      case 'movabs':
        emit(E.movRdxImm64(fp.add), `movabs rdx,0x${fp.add.hi.toString(16)}${fp.add.lo.toString(16).padStart(8, '0')}`);
        emit(E.addRaxRdx(), 'add rax,rdx');
        break;
      case 'add64imm32':
        emit(E.addRaxSimm32(fp.add.lo), `add rax,${hex(fp.add.lo)}`);
        break;
      case 'add32':
        emit(E.addEaxImm32(fp.add.lo), `add eax,${hex(fp.add.lo)}`);
        break;
      case 'none':
        break;
    }
    store(fp);
  }
  emit(E.ret(), 'ret');
  let size = 0;
  for (const i of out) size += i.bytes.length;
  if (size > 255) throw new InvariantError(`bkey unpacker is ${size} bytes, over bcachefs's u8 length`, { size });
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const i of out) {
    bytes.set(i.bytes, at);
    at += i.bytes.length;
  }
  return { bytes, size, instructions: out };
}
