// The assembler against the reference assembler's bytes (../shared/conformance/vectors.json) for every
// conformance file, the disassembler round trip over the same programs, and assembler errors.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assemble, BpfAsmError } from '../../jit/bpf/asm.js';
import { parseConformance } from '../../jit/bpf/conformance.js';
import { disasmProgram } from '../../jit/bpf/disasm.js';
import { decodeProgram } from '../../jit/bpf/isa.js';
import { bytesToHex } from '../../support/u64.js';

const DIR = new URL('../../../shared/conformance/', import.meta.url).pathname;
interface Vector { name: string; program: string; memory: string }
const vectors = JSON.parse(readFileSync(DIR + 'vectors.json', 'utf8')) as Vector[];

describe('bpf_conformance assembler dialect', () => {
  it('has all 313 vectors', () => {
    expect(vectors.length).toBe(313);
  });
  for (const v of vectors) {
    it(`${v.name}: assembles to the reference bytes and round-trips through disasm`, () => {
      const t = parseConformance(readFileSync(`${DIR}${v.name}.data`, 'utf8'), `${v.name}.data`);
      if (t.asm === null) throw new Error('no asm');
      expect(bytesToHex(assemble(t.asm))).toBe(v.program);
      expect(bytesToHex(t.program)).toBe(v.program);
      expect(bytesToHex(t.mem)).toBe(v.memory);
      const text = disasmProgram(decodeProgram(t.program));
      expect(bytesToHex(assemble(text))).toBe(v.program);
    });
  }
});

describe('assembler errors name the line', () => {
  const cases: [string, RegExp][] = [
    ['mov %r0, 1\nfoo %r1, 2', /line 2: unknown mnemonic "foo"/],
    ['mov %r11, 1', /bad register "%r11"/],
    ['mov %r0, 0x100000000', /does not fit in 32 bits/],
    ['mov %r0, 2147483648', /does not fit in 32 bits/],
    ['ldxw %r0, [%r1+0x10000]', /does not fit in 16 bits/],
    ['ja nowhere\nexit', /undefined label "nowhere"/],
    ['a:\na:\nexit', /duplicate label "a"/],
    ['lddw %r0, 0x10000000000000000', /does not fit in 64 bits/],
    ['add %r0', /takes 2 operand/],
    ['lock nand [%r1], %r2', /unknown atomic operation/],
    ['call weird 3', /bad call mode/],
    ['ldxw %r0, %r1', /bad memory operand/],
  ];
  for (const [src, re] of cases) {
    it(src.split('\n')[0] as string, () => {
      expect(() => assemble(src)).toThrow(BpfAsmError);
      expect(() => assemble(src)).toThrow(re);
    });
  }
  it('implicit exit label and explicit labels resolve to slots (lddw counts 2)', () => {
    const b = assemble('jeq %r1, 0, exit\nlddw %r0, 1\nja done\nexit\ndone:\nexit');
    const insns = decodeProgram(b);
    expect(insns[0]?.off).toBe(3);
    expect(insns[2]?.off).toBe(1);
  });
});
