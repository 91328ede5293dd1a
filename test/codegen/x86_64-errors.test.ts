// Bad input to the x86_64 assembler: typed errors naming the instruction and the operand, and the
// buffer unchanged after a failed emit. Plus the byte-exact fixed-length forms bcachefs's compiled
// unpacker needs (reference/bkey.md §4), checked against the bytes the reference records.
import { describe, expect, it } from 'vitest';
import { CodeBuffer } from '../../codegen/buffer.js';
import * as X from '../../codegen/x86_64/index.js';
import { JitboxError } from '../../support/errors.js';
import { bytesToHex } from '../../support/u64.js';

function thrown(f: () => void): JitboxError {
  try {
    f();
  } catch (e) {
    if (e instanceof JitboxError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

/** Emit into a buffer that already holds one byte; the failed emit must leave exactly that byte. */
function failsCleanly(f: (b: CodeBuffer) => void): JitboxError {
  const b = new CodeBuffer('x86_64');
  b.put8(0x90);
  const e = thrown(() => f(b));
  expect(bytesToHex(b.linearBytes())).toBe('90');
  return e;
}

describe('immediates out of range', () => {
  it.each([
    ['mov r64, imm beyond simm32', (b: CodeBuffer) => X.emitMov(b, X.rax, 2 ** 31), 'MOV r/m64, imm32', 'immediate'],
    ['mov r32, imm beyond u32', (b: CodeBuffer) => X.emitMov(b, X.eax, 2 ** 32), 'MOV r32, imm32', 'immediate'],
    ['mov r8, 256', (b: CodeBuffer) => X.emitMov(b, X.al, 256), 'MOV r8, imm8', 'immediate'],
    ['mov m16, 65536', (b: CodeBuffer) => X.emitMov(b, X.word(X.mem(X.rdi)), 65536), 'MOV r/m16, imm16', 'immediate'],
    ['add r64 imm beyond simm32', (b: CodeBuffer) => X.emitAdd(b, X.rax, -(2 ** 31) - 1), 'ADD r/m64, imm32', 'immediate'],
    ['forced imm8 that does not fit', (b: CodeBuffer) => X.emitSub(b, X.rcx, 128, { imm: 'imm8' }), 'SUB r/m64, imm8', 'immediate'],
    ['shift count 64', (b: CodeBuffer) => X.emitShl(b, X.rax, 64), 'SHL r/m64, imm8', 'count'],
    ['shift count 32 on a 32-bit register', (b: CodeBuffer) => X.emitShr(b, X.eax, 32), 'SHR r/m32, imm8', 'count'],
    ['jmp rel8 of 128', (b: CodeBuffer) => X.emitJmpRel(b, 128, 8), 'JMP rel8', 'displacement'],
    ['ret 65536', (b: CodeBuffer) => X.emitRet(b, 65536), 'RET imm16', 'immediate'],
    ['imul3 imm8 forced', (b: CodeBuffer) => X.emitImul3(b, X.eax, X.ebx, 300, { imm: 'imm8' }), 'IMUL r32, r/m32, imm8', 'immediate'],
    ['push beyond simm32', (b: CodeBuffer) => X.emitPush(b, 2 ** 31), 'PUSH imm32', 'immediate'],
    ['non-integer immediate', (b: CodeBuffer) => X.emitMov(b, X.ecx, 1.5), 'MOV r32, imm32', 'immediate'],
  ])('%s', (_name, f, insn, operand) => {
    const e = failsCleanly(f);
    expect(e).toBeInstanceOf(X.X86ImmediateError);
    expect(e.details.instruction).toBe(insn);
    expect(e.details.operand).toBe(operand);
    expect(e.message.startsWith(`${insn}: `)).toBe(true);
  });

  it('displacements beyond 32 bits are rejected when the operand is built', () => {
    const e = thrown(() => X.mem(X.rdi, 2 ** 31));
    expect(e).toBeInstanceOf(X.X86ImmediateError);
    expect(e.details.operand).toBe('displacement');
    expect(e.details.value).toBe('0x80000000');
  });
});

describe('invalid registers and operands', () => {
  it('a 32-bit base or index register is rejected', () => {
    const e = thrown(() => X.mem(X.eax as unknown as X.Reg64, 8));
    expect(e).toBeInstanceOf(X.X86OperandError);
    expect(e.details.operand).toBe('base');
    expect(e.message).toMatch(/eax is a 32-bit register/);
    expect(thrown(() => X.memIndex(X.rax, X.ecx as unknown as X.Reg64, 4)).details.operand).toBe('index');
  });

  it('rsp cannot be an index; a scale needs an index', () => {
    expect(thrown(() => X.memIndex(X.rax, X.rsp, 2)).message).toMatch(/rsp cannot be an index/);
    expect(thrown(() => X.mem(X.rax, 0, { scale: 4 })).message).toMatch(/scale needs an index/);
  });

  it.each([
    ['ah with a REX register operand', (b: CodeBuffer) => X.emitMov(b, X.ah, X.sil), 'r/m operand'],
    ['ah with r8b', (b: CodeBuffer) => X.emitMov(b, X.r8b, X.ah), 'reg operand'],
    ['ah as movzx source into r8d', (b: CodeBuffer) => X.emitMovzx(b, X.r8d, X.ah), 'r/m operand'],
    ['ah in a 64-bit-operand instruction', (b: CodeBuffer) => X.emitMovzx(b, X.rax, X.bh), 'r/m operand'],
    ['ah with an extended base register', (b: CodeBuffer) => X.emitMov(b, X.mem(X.r9), X.ch), 'reg operand'],
  ])('%s', (_n, f, operand) => {
    const e = failsCleanly(f);
    expect(e).toBeInstanceOf(X.X86OperandError);
    expect(e.details.operand).toBe(operand);
    expect(e.message).toMatch(/cannot be encoded in an instruction with a REX prefix/);
  });

  it.each([
    ['size mismatch', (b: CodeBuffer) => X.emitMov(b, X.rax, X.ebx), /rax is 64-bit but the other operand is 32-bit/],
    ['memory size mismatch', (b: CodeBuffer) => X.emitMov(b, X.rax, X.dword(X.mem(X.rdi))), /memory operand is 32-bit but the register is 64-bit/],
    ['unsized memory with an immediate', (b: CodeBuffer) => X.emitMov(b, X.mem(X.rdi, 8), 1), /operand size unknown/],
    ['movzx to a narrower register', (b: CodeBuffer) => X.emitMovzx(b, X.ax, X.cx), /not wider/],
    ['movzx from a 32-bit register', (b: CodeBuffer) => X.emitMovzx(b, X.rax, X.ecx as unknown as X.Reg16), /not an 8- or 16-bit register/],
    ['push of a 32-bit register', (b: CodeBuffer) => X.emitPush(b, X.eax as unknown as X.Reg64), /eax is not a 64-bit register/],
    ['shift count in a register other than cl', (b: CodeBuffer) => X.emitShl(b, X.rax, X.dl), /must be cl, not dl/],
    ['lock with a register destination', (b: CodeBuffer) => X.emitAdd(b, X.rax, X.rbx, { lock: true }), /LOCK needs a memory destination/],
    ['lea of a register', (b: CodeBuffer) => X.emitLea(b, X.rax, X.rbx as unknown as X.Mem), /must be a memory operand/],
    ['8-bit imul', (b: CodeBuffer) => X.emitImul(b, X.al as unknown as X.Reg32, X.bl), /8-bit operand size is not encodable/],
    ['unknown condition', (b: CodeBuffer) => X.emitSetcc(b, 'zz' as X.Cond, X.al), /unknown condition code "zz"/],
    ['movabs into a 32-bit register', (b: CodeBuffer) => X.emitMovabs(b, X.eax as unknown as X.Reg64, 1, 0), /eax is not a 64-bit register/],
    ['nop of 16 bytes', (b: CodeBuffer) => X.emitNop(b, 16), /1\.\.15 bytes/],
  ])('%s', (_n, f, msg) => {
    const e = failsCleanly(f);
    expect(e).toBeInstanceOf(X.X86OperandError);
    expect(e.message).toMatch(msg);
    expect(typeof e.details.instruction).toBe('string');
    expect(typeof e.details.operand).toBe('string');
  });

  it('a failed locked emit removes its LOCK prefix', () => {
    const e = failsCleanly((b) => X.emitAlu(b, 'add', X.qword(X.mem(X.rdi)), 2 ** 31, { lock: true }));
    expect(e).toBeInstanceOf(X.X86ImmediateError);
  });

  it('spl/bpl/sil/dil force a REX prefix; al..bl do not', () => {
    expect(bytesToHex(X.enc(X.emitMov, X.sil, X.al))).toBe('40 88 c6');
    expect(bytesToHex(X.enc(X.emitMov, X.bl, X.al))).toBe('88 c3');
    expect(bytesToHex(X.enc(X.emitSetcc, 'e', X.dil))).toBe('40 0f 94 c7');
  });
});

describe('bcachefs unpacker forms (reference/bkey.md §4), byte-exact', () => {
  it.each([
    ['shl rax,1 as c1 ib', (b: CodeBuffer) => X.emitShl(b, X.rax, 1, { form: 'ib' }), '48 c1 e0 01'],
    ['shr eax,1 as c1 ib', (b: CodeBuffer) => X.emitShr(b, X.eax, 1, { form: 'ib' }), 'c1 e8 01'],
    ['shl rdx,ib', (b: CodeBuffer) => X.emitShl(b, X.rdx, 9), '48 c1 e2 09'],
    ['and eax,imm32 short form even for a small mask', (b: CodeBuffer) => X.emitAnd(b, X.eax, 7, { imm: 'imm32' }), '25 07 00 00 00'],
    ['add eax,imm32 short form', (b: CodeBuffer) => X.emitAdd(b, X.eax, 5, { imm: 'imm32' }), '05 05 00 00 00'],
    ['add rax,simm32 short form (also add rax,0)', (b: CodeBuffer) => X.emitAdd(b, X.rax, 0, { imm: 'imm32' }), '48 05 00 00 00 00'],
    ['add eax,imm32 via 81 when asked', (b: CodeBuffer) => X.emitAdd(b, X.eax, 5, { imm: 'imm32', acc: false }), '81 c0 05 00 00 00'],
    ['mov rdx,imm64', (b: CodeBuffer) => X.emitMovabs(b, X.rdx, 0x89abcdef, 0x01234567), '48 ba ef cd ab 89 67 45 23 01'],
    ['mov qword [rdi+d],simm32', (b: CodeBuffer) => X.emitMov(b, X.qword(X.mem(X.rdi, 0x20)), 4242), '48 c7 47 20 92 10 00 00'],
    ['movzx eax,word [rsi+d]', (b: CodeBuffer) => X.emitMovzx(b, X.eax, X.word(X.mem(X.rsi, 6))), '0f b7 46 06'],
    ['mov edx,[rsi+d]', (b: CodeBuffer) => X.emitMov(b, X.edx, X.mem(X.rsi, 8)), '8b 56 08'],
    ['or rax,rdx', (b: CodeBuffer) => X.emitOr(b, X.rax, X.rdx), '48 09 d0'],
    ['add rax,rdx', (b: CodeBuffer) => X.emitAdd(b, X.rax, X.rdx), '48 01 d0'],
  ])('%s', (_n, f, want) => {
    const b = new CodeBuffer('x86_64');
    f(b);
    expect(bytesToHex(b.linearBytes())).toBe(want);
  });

  it('reproduces the recorded extents unpacker byte for byte', () => {
    const b = new CodeBuffer('x86_64');
    // prologue
    X.emitMov(b, X.eax, X.mem(X.rsi));
    X.emitAdd(b, X.eax, 0x104, { imm: 'imm32' });
    X.emitAnd(b, X.eax, 0xffffff, { imm: 'imm32' });
    X.emitMov(b, X.mem(X.rdi), X.eax);
    // fields
    X.emitMov(b, X.qword(X.mem(X.rdi, 0x20)), 4242);
    X.emitMov(b, X.eax, X.mem(X.rsi, 4));
    X.emitShr(b, X.eax, 8, { form: 'ib' });
    X.emitMov(b, X.mem(X.rdi, 0x18), X.rax);
    X.emitMov(b, X.dword(X.mem(X.rdi, 0x14)), 0xffffffff);
    X.emitMovzx(b, X.eax, X.byte(X.mem(X.rsi, 4)));
    X.emitMov(b, X.mem(X.rdi, 0x10), X.eax);
    X.emitXor(b, X.eax, X.eax);
    X.emitMov(b, X.mem(X.rdi, 0x0c), X.eax);
    X.emitMov(b, X.mem(X.rdi, 0x04), X.rax);
    X.emitRet(b);
    const want =
      '8b 06|05 04 01 00 00|25 ff ff ff 00|89 07|48 c7 47 20 92 10 00 00|8b 46 04|c1 e8 08|48 89 47 18|c7 47 14 ff ff ff ff|0f b6 46 04|89 47 10|31 c0|89 47 0c|48 89 47 04|c3';
    expect(bytesToHex(b.finish({ base: 0 }).bytes)).toBe(want.replace(/\|/g, ' '));
    expect(b.length).toBe(56);
  });
});

describe('emitLoadImm64 picks the shortest sequence (Linux emit_mov_imm64)', () => {
  it.each([
    [0, 0, '31 c0'],
    [5, 0, 'b8 05 00 00 00'],
    [0xffffffff, 0, 'b8 ff ff ff ff'],
    [0xffffffff, 0xffffffff, '48 c7 c0 ff ff ff ff'],
    [0x80000000, 0xffffffff, '48 c7 c0 00 00 00 80'],
    [0x7fffffff, 0xffffffff, '48 b8 ff ff ff 7f ff ff ff ff'],
    [0x89abcdef, 0x1, '48 b8 ef cd ab 89 01 00 00 00'],
  ])('lo=%i hi=%i -> %s', (lo, hi, want) => {
    expect(bytesToHex(X.enc(X.emitLoadImm64, X.rax, lo, hi))).toBe(want);
  });
  it('uses the 32-bit view of extended registers', () => {
    expect(bytesToHex(X.enc(X.emitLoadImm64, X.r9, 0, 0))).toBe('45 31 c9');
  });
});
