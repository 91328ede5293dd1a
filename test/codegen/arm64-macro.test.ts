// emitAddConst / emitLdStOffset: the chosen forms (compared with the pure encoders, themselves
// checked against llvm-mc) and their bad-input behaviour. Executed results are checked under
// Unicorn in test/oracles/asm-arm64.test.ts.
import { describe, expect, it } from 'vitest';
import { CodeBuffer } from '../../codegen/buffer.js';
import * as a64 from '../../codegen/arm64/index.js';

const { X0, X1, X9, X10, SP, W2, W3, W10 } = a64;

function words(f: (buf: CodeBuffer) => void): number[] {
  const buf = new CodeBuffer('arm64');
  f(buf);
  const out: number[] = [];
  for (let i = 0; i < buf.length; i += 4) out.push(buf.read32(i));
  return out;
}

describe('emitAddConst', () => {
  it('picks imm12, lsl 12, both, or a synthesised constant', () => {
    expect(words((b) => a64.emitAddConst(b, X9, X9, 0))).toEqual([]);
    expect(words((b) => a64.emitAddConst(b, X9, X1, 0))).toEqual([a64.encAddImm(X9, X1, 0)]);
    expect(words((b) => a64.emitAddConst(b, X9, X9, 4095))).toEqual([a64.encAddImm(X9, X9, 4095)]);
    expect(words((b) => a64.emitAddConst(b, SP, SP, -16))).toEqual([a64.encSubImm(SP, SP, 16)]);
    expect(words((b) => a64.emitAddConst(b, X9, X9, 0x5000))).toEqual([a64.encAddImm(X9, X9, 5, 12)]);
    expect(words((b) => a64.emitAddConst(b, X9, X1, 0xfff123))).toEqual([a64.encAddImm(X9, X1, 0xfff, 12), a64.encAddImm(X9, X9, 0x123)]);
    expect(words((b) => a64.emitAddConst(b, W2, W3, -0x10001))).toEqual([a64.encSubImm(W2, W3, 0x10, 12), a64.encSubImm(W2, W2, 1)]);
    expect(words((b) => a64.emitAddConst(b, X9, X1, 0x12345678, X10))).toEqual([...a64.movImmWords(X10, 0x12345678, 0), a64.encAddReg(X9, X1, X10)]);
    expect(words((b) => a64.emitAddConst(b, SP, SP, -(2 ** 40), X10))).toEqual([
      ...a64.movImmWords(X10, 0, 0xffffff00), a64.encAddSubExt('add', SP, SP, X10, 'uxtx'),
    ]);
    expect(words((b) => a64.emitAddConst(b, W2, W3, 0x7fffffff, W10))).toEqual([...a64.movImmWords(W10, 0x7fffffff, 0), a64.encAddReg(W2, W3, W10)]);
  });

  it('rejects large constants without a scratch register, or a scratch equal to rn; buffer unchanged', () => {
    const buf = new CodeBuffer('arm64');
    expect(() => a64.emitAddConst(buf, X9, X1, 2 ** 24)).toThrow(a64.ImmediateRangeError);
    expect(() => a64.emitAddConst(buf, X9, X1, 2 ** 24, X1)).toThrow(a64.RegisterClassError);
    expect(() => a64.emitAddConst(buf, X9, X1, 0.5)).toThrow(a64.ImmediateRangeError);
    expect(buf.length).toBe(0);
  });
});

describe('emitLdStOffset', () => {
  it('uses the scaled form when it can, else LDUR/STUR', () => {
    expect(words((b) => a64.emitLdStOffset(b, 'ldr', X0, X1, 32760))).toEqual([a64.encLdSt('ldr', X0, X1, 32760)]);
    expect(words((b) => a64.emitLdStOffset(b, 'str', X0, X1, 4))).toEqual([a64.encLdStUnscaled('str', X0, X1, 4)]);
    expect(words((b) => a64.emitLdStOffset(b, 'ldrh', W2, X1, 7))).toEqual([a64.encLdStUnscaled('ldrh', W2, X1, 7)]);
    expect(words((b) => a64.emitLdStOffset(b, 'ldr', X0, SP, -8))).toEqual([a64.encLdStUnscaled('ldr', X0, SP, -8)]);
  });

  it('offsets neither form reaches are an error; register errors pass through', () => {
    const buf = new CodeBuffer('arm64');
    expect(() => a64.emitLdStOffset(buf, 'ldr', X0, X1, 32768)).toThrow(a64.ImmediateRangeError);
    expect(() => a64.emitLdStOffset(buf, 'ldr', X0, X1, 257)).toThrow(a64.MisalignedOffsetError);
    expect(() => a64.emitLdStOffset(buf, 'ldrb', X0, X1, 1)).toThrow(a64.RegisterClassError);
    expect(buf.length).toBe(0);
  });
});
