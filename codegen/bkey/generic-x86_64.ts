// The generic (interpreted) bkey unpack as x86_64 machine code: one function for every format,
// reading key_u64s, bits[6] and offset[6] from a 56-byte bkey_format in memory, so generic and
// compiled unpack can be compared inside the emulator on equal terms (issue 7; the streaming
// interpreter of reference/bkey.md §2, ~25 instructions per field with branches).
//
// Invariants:
// - SysV: fn(dst = rdi, src = rsi, fmt = rdx); clobbers rax, rcx, r8-r11; no stack; ret.
// - Streams the key from its top word down: r8 = left-justified 64-bit buffer, r9d = bits left in
//   it, r10 = address of the current word. Shifts by 64 - b use `neg ecx` (x86 masks shift counts
//   to 6 bits); shifts that could be by 64 are split off by a compare and branch.
// - The field loop is unrolled over the fixed field table (only bits/offsets come from memory).
// - Pure: bytes out; short forward branches are patched within each field's block.

import { InvariantError } from '../../support/errors.js';
import { BKEY_NR_FIELDS } from './layout.js';
import { fieldInfo } from './plan.js';
import type { MachineUnpacker, UnpackInstruction } from './x86_64.js';

type Cond = 'ja' | 'je' | 'jmp';
const JCC: Record<Cond, number> = { ja: 0x77, je: 0x74, jmp: 0xeb };

export function genX86GenericUnpacker(): MachineUnpacker {
  const out: UnpackInstruction[] = [];
  const labels = new Map<string, number>();
  const fixups: { insn: number; label: string }[] = [];
  let size = 0;
  const emit = (bytes: number[], text: string): void => {
    out.push({ bytes: Uint8Array.from(bytes), text });
    size += bytes.length;
  };
  const label = (name: string): void => {
    labels.set(name, size);
  };
  const jump = (cond: Cond, target: string): void => {
    fixups.push({ insn: out.length, label: target });
    emit([JCC[cond], 0], `${cond} ${target}`);
  };

  emit([0x44, 0x0f, 0xb6, 0x1a], 'movzx r11d,byte [rdx]');
  emit([0x8b, 0x06], 'mov eax,[rsi]');
  emit([0x25, 0xff, 0xff, 0xff, 0x00], 'and eax,0xffffff');
  emit([0x05, 0x05, 0x01, 0x00, 0x00], 'add eax,0x105');
  emit([0x44, 0x29, 0xd8], 'sub eax,r11d');
  emit([0x89, 0x07], 'mov [rdi],eax');
  emit([0x4e, 0x8d, 0x54, 0xde, 0xf8], 'lea r10,[rsi+r11*8-0x8]');
  emit([0x4d, 0x8b, 0x02], 'mov r8,[r10]');
  emit([0x41, 0xb9, 0x40, 0x00, 0x00, 0x00], 'mov r9d,0x40');
  for (let i = 0; i < BKEY_NR_FIELDS; i++) {
    const info = fieldInfo(i);
    const L = (n: string): string => `${n}_${i}`;
    emit([0x0f, 0xb6, 0x4a, 2 + i], `movzx ecx,byte [rdx+0x${(2 + i).toString(16)}]`);
    emit([0x31, 0xc0], 'xor eax,eax');
    emit([0x85, 0xc9], 'test ecx,ecx');
    jump('je', L('add'));
    emit([0x4c, 0x89, 0xc0], 'mov rax,r8');
    emit([0xf7, 0xd9], 'neg ecx');
    emit([0x48, 0xd3, 0xe8], 'shr rax,cl');
    emit([0xf7, 0xd9], 'neg ecx');
    emit([0x44, 0x39, 0xc9], 'cmp ecx,r9d');
    jump('ja', L('refill'));
    emit([0x41, 0x29, 0xc9], 'sub r9d,ecx');
    emit([0x83, 0xf9, 0x40], 'cmp ecx,0x40');
    jump('je', L('zero'));
    emit([0x49, 0xd3, 0xe0], 'shl r8,cl');
    jump('jmp', L('add'));
    label(L('refill'));
    emit([0x44, 0x29, 0xc9], 'sub ecx,r9d');
    emit([0x49, 0x83, 0xea, 0x08], 'sub r10,0x8');
    emit([0x4d, 0x8b, 0x02], 'mov r8,[r10]');
    emit([0x4d, 0x89, 0xc3], 'mov r11,r8');
    emit([0xf7, 0xd9], 'neg ecx');
    emit([0x49, 0xd3, 0xeb], 'shr r11,cl');
    emit([0xf7, 0xd9], 'neg ecx');
    emit([0x4c, 0x09, 0xd8], 'or rax,r11');
    emit([0x41, 0xb9, 0x40, 0x00, 0x00, 0x00], 'mov r9d,0x40');
    emit([0x41, 0x29, 0xc9], 'sub r9d,ecx');
    emit([0x83, 0xf9, 0x40], 'cmp ecx,0x40');
    jump('je', L('zero'));
    emit([0x49, 0xd3, 0xe0], 'shl r8,cl');
    jump('jmp', L('add'));
    label(L('zero'));
    emit([0x45, 0x31, 0xc0], 'xor r8d,r8d');
    label(L('add'));
    emit([0x48, 0x03, 0x42, 8 + 8 * i], `add rax,[rdx+0x${(8 + 8 * i).toString(16)}]`);
    if (info.store === 8) emit([0x48, 0x89, 0x47, info.dstOffset], `mov [rdi+0x${info.dstOffset.toString(16)}],rax`);
    else emit([0x89, 0x47, info.dstOffset], `mov [rdi+0x${info.dstOffset.toString(16)}],eax`);
  }
  emit([0xc3], 'ret');

  const starts: number[] = [];
  let at = 0;
  for (const ins of out) {
    starts.push(at);
    at += ins.bytes.length;
  }
  for (const fx of fixups) {
    const target = labels.get(fx.label);
    const ins = out[fx.insn] as UnpackInstruction;
    const end = (starts[fx.insn] as number) + ins.bytes.length;
    if (target === undefined) throw new InvariantError(`generic unpacker: undefined label ${fx.label}`);
    const rel = target - end;
    if (rel < -128 || rel > 127) throw new InvariantError(`generic unpacker: branch to ${fx.label} out of rel8 range`, { rel });
    ins.bytes[1] = rel & 0xff;
    ins.text = `${ins.text.split(' ')[0]} 0x${target.toString(16)}`;
  }
  const bytes = new Uint8Array(size);
  out.forEach((ins, k) => bytes.set(ins.bytes, starts[k] as number));
  return { bytes, size, instructions: out };
}
