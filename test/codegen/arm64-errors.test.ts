// Bad input to the arm64 encoders: typed errors naming instruction and operand, nothing appended
// to the buffer; and the register-class rules as TypeScript types (@ts-expect-error lines are
// checked by `tsc`, their runtime checks by the assertions).
import { describe, expect, it } from 'vitest';
import { CodeBuffer } from '../../codegen/buffer.js';
import * as a64 from '../../codegen/arm64/index.js';
import { ImmediateRangeError, MisalignedOffsetError, RegisterClassError, type Reg } from '../../codegen/arm64/index.js';

const { X0, X1, X2, X30, W0, W1, W2, SP, WSP, XZR, WZR } = a64;
const anyReg = (r: Reg): never => r as never;

function expectError(fn: () => unknown, cls: new (...args: never[]) => Error, instruction: string, operand: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `${instruction} ${operand}`).toBeInstanceOf(cls);
  const d = (err as { details: Record<string, unknown> }).details;
  expect(d.instruction).toBe(instruction);
  expect(d.operand).toBe(operand);
}

describe('arm64 typed errors', () => {
  it('immediates out of range', () => {
    expectError(() => a64.encAddImm(X0, X1, 4096), ImmediateRangeError, 'add', 'imm');
    expectError(() => a64.encSubImm(X0, X1, -1), ImmediateRangeError, 'sub', 'imm');
    expectError(() => a64.encAddImm(X0, X1, 1, 16 as 12), ImmediateRangeError, 'add', 'shift');
    expectError(() => a64.encMovz(W0, 1, 32), ImmediateRangeError, 'movz', 'shift');
    expectError(() => a64.encMovk(X0, 0x10000), ImmediateRangeError, 'movk', 'imm');
    expectError(() => a64.encLslImm(W0, W1, 32), ImmediateRangeError, 'lsl', 'shift');
    expectError(() => a64.encUbfx(X0, X1, 60, 5), ImmediateRangeError, 'ubfx', 'width');
    expectError(() => a64.encAddSubExt('add', X0, X1, W2, 'uxtw', 5), ImmediateRangeError, 'add', 'amount');
    expectError(() => a64.encLdStUnscaled('ldr', X0, X1, 256), ImmediateRangeError, 'ldr', 'offset');
    expectError(() => a64.encLdSt('ldr', X0, X1, 8 * 4096), ImmediateRangeError, 'ldr', 'offset');
    expectError(() => a64.encLdSt('ldr', X0, X1, -8), ImmediateRangeError, 'ldr', 'offset');
    expectError(() => a64.encLdp(X0, X1, SP, 512), ImmediateRangeError, 'ldp', 'offset');
    expectError(() => a64.encB(128 * 1024 * 1024), ImmediateRangeError, 'b', 'offset');
    expectError(() => a64.encTbz(W0, 32, 0), ImmediateRangeError, 'tbz', 'bit');
    expectError(() => a64.encBrk(0x10000), ImmediateRangeError, 'brk', 'imm');
    expectError(() => a64.encCset(X0, 'al'), ImmediateRangeError, 'cset', 'cond');
    expectError(() => a64.encBCond('xx' as 'eq', 0), ImmediateRangeError, 'b.cond', 'cond');
    expectError(() => a64.encDmb('foo' as 'ish'), ImmediateRangeError, 'dmb', 'option');
    expectError(() => a64.encAdrp(X0, 2 ** 20), ImmediateRangeError, 'adrp', 'pageDelta');
  });

  it('bitmask immediates that are not encodable name the value', () => {
    expectError(() => a64.encAndImm(X0, X1, 0, 0), ImmediateRangeError, 'and', 'imm');
    expectError(() => a64.encOrrImm(W0, W1, 0xffffffff), ImmediateRangeError, 'orr', 'imm');
    expect(() => a64.encEorImm(X0, X1, 0x12345678, 0)).toThrow(/eor: imm = 0x0000000012345678 is not encodable/);
    expectError(() => a64.encAndImm(W0, W1, 0xff, 1), ImmediateRangeError, 'and', 'imm');
  });

  it('misaligned scaled offsets', () => {
    expectError(() => a64.encLdSt('ldr', X0, X1, 4), MisalignedOffsetError, 'ldr', 'offset');
    expectError(() => a64.encLdSt('ldrh', W0, X1, 3), MisalignedOffsetError, 'ldrh', 'offset');
    expectError(() => a64.encStp(X0, X1, SP, 12), MisalignedOffsetError, 'stp', 'offset');
    expectError(() => a64.encB(6), MisalignedOffsetError, 'b', 'offset');
    expectError(() => a64.encCbz(X0, 2), MisalignedOffsetError, 'cbz', 'offset');
    expectError(() => a64.encPrfm('pldl1keep', X0, 4), MisalignedOffsetError, 'prfm', 'offset');
  });

  it('wrong register class or width: sp where xzr is meant, W where X is required...', () => {
    // @ts-expect-error SP is not a shifted-register operand (31 means XZR there)
    expectError(() => a64.encAddReg(X0, SP, X1), RegisterClassError, 'add', 'rn');
    // @ts-expect-error XZR is not an add-immediate source (31 means SP there)
    expectError(() => a64.encAddImm(X0, XZR, 1), RegisterClassError, 'add', 'rn');
    // @ts-expect-error mixed widths
    expectError(() => a64.encAddReg(X0, W1, X2), RegisterClassError, 'add', 'rn');
    // @ts-expect-error SP cannot be a load destination
    expectError(() => a64.encLdSt('ldr', SP, X1, 0), RegisterClassError, 'ldr', 'rt');
    // @ts-expect-error XZR cannot be a base register
    expectError(() => a64.encLdSt('ldr', X0, XZR, 0), RegisterClassError, 'ldr', 'base');
    // @ts-expect-error a W base register
    expectError(() => a64.encLdSt('ldr', X0, W1, 0), RegisterClassError, 'ldr', 'base');
    expectError(() => a64.encLdSt('ldrb', X0, X1, 0), RegisterClassError, 'ldrb', 'rt');
    expectError(() => a64.encLdSt('ldrsw', W0, X1, 0), RegisterClassError, 'ldrsw', 'rt');
    // @ts-expect-error MOV (register) is ORR: neither side may be SP
    expectError(() => a64.encMovReg(SP, X1), RegisterClassError, 'orr', 'rd');
    // @ts-expect-error ANDS writes flags, its Rd is ZR not SP
    expectError(() => a64.encAndsImm(SP, X1, 0xff), RegisterClassError, 'ands', 'rd');
    expectError(() => a64.encAndImm(anyReg(WSP), X1, 0xff), RegisterClassError, 'and', 'rn');
    // @ts-expect-error REV32 has no 32-bit form
    expectError(() => a64.encRev32(W0, W1), RegisterClassError, 'rev32', 'rd');
    // @ts-expect-error BR takes an X register
    expectError(() => a64.encBr(W1), RegisterClassError, 'br', 'rn');
    // @ts-expect-error ADR cannot target XZR
    expectError(() => a64.encAdr(XZR, 0), RegisterClassError, 'adr', 'rd');
    expectError(() => a64.encAddSubExt('add', X0, X1, X2, 'uxtw'), RegisterClassError, 'add', 'rm');
    expectError(() => a64.encStxr(W0, X0, X1), RegisterClassError, 'stxr', 'ws');
    expectError(() => a64.encStxr(W1, X2, X1), RegisterClassError, 'stxr', 'ws');
    expectError(() => a64.encLdp(X0, X0, X1), RegisterClassError, 'ldp', 'rt2');
    expectError(() => a64.encLdStIndexed('ldr', X1, X1, 8, 'pre'), RegisterClassError, 'ldr', 'rt');
    // llvm-mc: "unpredictable STR instruction, writeback base is also a source"
    expectError(() => a64.encLdStIndexed('str', X1, X1, 8, 'post'), RegisterClassError, 'str', 'rt');
    expectError(() => a64.encStp(X0, X1, X1, 16, 'pre'), RegisterClassError, 'stp', 'rt2');
    expect(a64.encStp(X0, X0, X1, 0)).toBe(0xa9000020);
    expect(a64.encLdStIndexed('ldr', XZR, SP, 8, 'pre')).toBe(0xf8408fff);
    expectError(() => a64.encUmulh(anyReg(W0), X1, X2), RegisterClassError, 'umulh', 'rd');
    expectError(() => a64.encAtomic('ldadd', '', X0, W1, X2), RegisterClassError, 'ldadd', 'rt');
    expect(a64.encAddImm(SP, SP, 16)).toBe(0x910043ff);
    expect(a64.encAddReg(X0, XZR, X30)).toBe(0x8b1e03e0);
    expect(a64.encOrrReg(WZR, W1, W2)).toBe(0x2a02003f);
  });

  it('a throwing emit leaves the buffer unchanged', () => {
    const buf = new CodeBuffer('arm64');
    a64.emitNop(buf);
    expect(() => a64.emitAddImm(buf, X0, X1, 5000)).toThrow(ImmediateRangeError);
    expect(() => a64.emitLdr(buf, X0, X1, 3)).toThrow(MisalignedOffsetError);
    // @ts-expect-error SP where XZR is meant
    expect(() => a64.emitCbz(buf, SP, buf.newLabel('l'))).toThrow(RegisterClassError);
    expect(() => a64.emitTbz(buf, W0, 40, buf.newLabel('m'))).toThrow(ImmediateRangeError);
    expect(() => a64.emitMovImm(buf, anyReg(SP), 1, 0)).toThrow(RegisterClassError);
    // @ts-expect-error the appenders keep the encoders' generic width checks
    expect(() => a64.emitAddReg(buf, X0, W1, X2)).toThrow(RegisterClassError);
    // @ts-expect-error and their register classes
    expect(() => a64.emitAddImm(buf, X0, XZR, 1)).toThrow(RegisterClassError);
    expect(buf.length).toBe(4);
    expect(buf.linearBytes()).toEqual(Uint8Array.of(0x1f, 0x20, 0x03, 0xd5));
  });

  it('errors serialise as plain JSON with kind and details', () => {
    try {
      a64.encAndImm(X0, X1, 5, 0);
    } catch (e) {
      const j = (e as a64.ImmediateRangeError).toJSON();
      expect(j.kind).toBe('arm64-immediate');
      expect(j.details).toMatchObject({ instruction: 'and', operand: 'imm', value: '0x0000000000000005' });
      expect(JSON.parse(JSON.stringify(j))).toEqual(j);
    }
    expect.assertions(3);
  });
});

void X30;
void W2;
