// Decoder and encoder: the opcode table against the RFC's listing, round trips, and every kind of
// bad input named in the issue (truncated, unknown opcode, bad register, non-zero unused fields,
// lddw without its second slot, bad endian imm, bad atomic op), plus load-time rejections.
import { describe, expect, it } from 'vitest';
import { assemble } from '../../jit/bpf/asm.js';
import { BpfDecodeError, BpfUnsupportedError, OPCODE_INFO, checkTargets, decodeProgram, encodeProgram } from '../../jit/bpf/isa.js';
import { BpfInterpreter, loadProgram } from '../../jit/bpf/interp.js';
import { BpfLoadError } from '../../jit/bpf/runtime.js';
import { randomInsn } from '../../jit/bpf/gen.js';
import { Rng } from '../../support/rng.js';
import { hexToBytes } from '../../support/u64.js';

const hex = (s: string): Uint8Array => hexToBytes(s) as Uint8Array;
const EXIT = '95 00 00 00 00 00 00 00';

function decodeErr(s: string): BpfDecodeError {
  try {
    decodeProgram(hex(s));
  } catch (e) {
    if (e instanceof BpfDecodeError) return e;
    throw e;
  }
  throw new Error('decoded without error');
}

describe('opcode table', () => {
  it('lists exactly the RFC 9669 opcodes plus callx (0x8d)', () => {
    const valid = OPCODE_INFO.map((x, b) => (x ? b : -1)).filter((b) => b >= 0);
    // RFC 9669 Appendix A (incl. the legacy packet loads) plus callx.
    const expected = [
      0x04, 0x05, 0x06, 0x07, 0x0c, 0x0f, 0x14, 0x15, 0x16, 0x17, 0x18, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x24, 0x25, 0x26, 0x27,
      0x28, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x34, 0x35, 0x36, 0x37, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x44, 0x45, 0x46, 0x47, 0x48,
      0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x54, 0x55, 0x56, 0x57, 0x5c, 0x5d, 0x5e, 0x5f, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67,
      0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e,
      0x7f, 0x81, 0x84, 0x85, 0x87, 0x89, 0x8d, 0x91, 0x94, 0x95, 0x97, 0x9c, 0x9f, 0xa4, 0xa5, 0xa6, 0xa7, 0xac, 0xad, 0xae,
      0xaf, 0xb4, 0xb5, 0xb6, 0xb7, 0xbc, 0xbd, 0xbe, 0xbf, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xcc, 0xcd, 0xce, 0xcf, 0xd4, 0xd5,
      0xd6, 0xd7, 0xdb, 0xdc, 0xdd, 0xde,
    ];
    expect(valid).toEqual(expected);
  });
  it('decode(encode(x)) = x for random valid instructions of every opcode', () => {
    const rng = new Rng(5);
    for (let k = 0; k < 5000; k++) {
      const i = randomInsn(rng);
      const [d] = decodeProgram(encodeProgram([i]));
      expect(d).toEqual({ ...i, slot: 0, ...(i.opcode === 0x18 ? { imm2: i.imm2 ?? 0 } : {}) });
    }
  });
  it('one entry per instruction; lddw takes two slots and carries imm2', () => {
    const insns = decodeProgram(assemble('lddw %r1, 0x123456789\nmov %r0, 1\nexit'));
    expect(insns.map((i) => i.slot)).toEqual([0, 2, 3]);
    expect(insns[0]).toMatchObject({ opcode: 0x18, dst: 1, imm: 0x23456789, imm2: 1 });
  });
});

describe('decoder rejects bad input with a typed error naming the slot', () => {
  const cases: [string, string, RegExp, number][] = [
    ['truncated', 'b7 00 00 00 01 00 00 00 95 00', /truncated program: 10 bytes/, 1],
    ['empty', '', /empty program/, 0],
    ['unknown opcode', `b7 00 00 00 00 00 00 00 ff 00 00 00 00 00 00 00 ${EXIT}`, /slot 1 \(opcode 0xff\): unknown opcode/, 1],
    ['unknown opcode 0x8c (neg X)', `8c 00 00 00 00 00 00 00 ${EXIT}`, /unknown opcode/, 0],
    ['bad dst register', `b7 0b 00 00 00 00 00 00 ${EXIT}`, /bad destination register r11/, 0],
    ['bad src register', `bf f0 00 00 00 00 00 00 ${EXIT}`, /bad source register r15/, 0],
    ['non-zero off on add', `07 00 01 00 01 00 00 00 ${EXIT}`, /non-zero unused field off/, 0],
    ['non-zero imm on add X', `0f 10 00 00 01 00 00 00 ${EXIT}`, /non-zero unused field imm/, 0],
    ['non-zero src on add K', `07 10 00 00 01 00 00 00 ${EXIT}`, /non-zero unused field src/, 0],
    ['non-zero imm on exit', '95 00 00 00 01 00 00 00', /non-zero unused field imm/, 0],
    ['lddw without second slot', '18 00 00 00 01 00 00 00', /lddw without its second slot/, 0],
    ['lddw second slot dirty', `18 00 00 00 01 00 00 00 00 01 00 00 00 00 00 00 ${EXIT}`, /second slot of lddw must be zero/, 1],
    ['lddw bad src', `18 70 00 00 01 00 00 00 00 00 00 00 00 00 00 00 ${EXIT}`, /bad lddw source 7/, 0],
    ['bad endian imm', `d4 00 00 00 08 00 00 00 ${EXIT}`, /bad endian width 8/, 0],
    ['bad atomic op', `db 21 00 00 02 00 00 00 ${EXIT}`, /bad atomic operation 0x2/, 0],
    ['bad div offset', `37 00 02 00 01 00 00 00 ${EXIT}`, /bad offset 2 for div\/mod/, 0],
    ['bad movsx width', `bc 21 20 00 00 00 00 00 ${EXIT}`, /bad movsx width 32/, 0],
    ['bad call src', `85 30 00 00 01 00 00 00 ${EXIT}`, /bad call source 3/, 0],
  ];
  for (const [name, bytes, re, slot] of cases) {
    it(name, () => {
      const e = decodeErr(bytes);
      expect(e.message).toMatch(re);
      expect(e.slot).toBe(slot);
      expect(e.kind).toBe('bpf-decode');
      expect(e.details.slot).toBe(slot);
    });
  }
  it('jump targets outside the program or into lddw are rejected by checkTargets', () => {
    expect(() => checkTargets(decodeProgram(assemble('ja +5\nexit')))).toThrow(/outside the program/);
    expect(() => checkTargets(decodeProgram(assemble('ja +1\nlddw %r0, 1\nexit')))).toThrow(/second slot of an lddw/);
    expect(() => checkTargets(decodeProgram(assemble('ja -2\nexit')))).toThrow(/slot -1 outside/);
    expect(() => loadProgram(assemble('call local +7\nexit'))).toThrow(BpfDecodeError);
  });
});

describe('load-time rejections', () => {
  it('kfunc calls are a clear UnsupportedError', () => {
    expect(() => new BpfInterpreter(assemble('call runtime 7\nexit'))).toThrow(BpfUnsupportedError);
    expect(() => new BpfInterpreter(assemble('call runtime 7\nexit'))).toThrow(/kfunc call by BTF id 7/);
  });
  it('legacy packet loads and lddw of a function or BTF variable are unsupported', () => {
    expect(() => new BpfInterpreter(assemble('ldabsw 4\nexit'))).toThrow(/LD ABS\/IND/);
    expect(() => new BpfInterpreter(assemble('lddw %r1, func 3\nexit'))).toThrow(/PSEUDO_FUNC/);
    expect(() => new BpfInterpreter(assemble('lddw %r1, btf_id 3\nexit'))).toThrow(/PSEUDO_BTF_ID/);
  });
  it('unknown helpers, missing maps and r10 writes are BpfLoadErrors', () => {
    expect(() => new BpfInterpreter(assemble('call 99\nexit'))).toThrow(BpfLoadError);
    expect(() => new BpfInterpreter(assemble('call 99\nexit'))).toThrow(/unknown helper 99 in profile "conformance"/);
    expect(() => new BpfInterpreter(assemble('lddw %r1, map_idx 0\nexit'))).toThrow(/no map with index 0/);
    expect(() => new BpfInterpreter(assemble('lddw %r1, map_fd 3\nexit'))).toThrow(/no map with fd 3/);
    expect(() => new BpfInterpreter(assemble('mov %r10, 1\nexit'))).toThrow(/r10 \(frame pointer\) is read-only/);
  });
});
