// The verifier's rules, each with a program that breaks exactly that rule, plus the whole
// conformance suite (which must verify in the default mode) and the proven-stack-access facts.
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../jit/bpf/asm.js';
import { parseConformance } from '../../jit/bpf/conformance.js';
import { conformanceProfile } from '../../jit/bpf/helpers-conformance.js';
import { kernelProfile } from '../../jit/bpf/helpers-kernel.js';
import { encodeProgram } from '../../jit/bpf/isa.js';
import { BpfMap } from '../../jit/bpf/maps.js';
import { VerifierError, type VerifierRule, verifyProgram } from '../../jit/bpf/verifier.js';

function rejects(src: string | Uint8Array, rule: VerifierRule, pc: number, opts: Parameters<typeof verifyProgram>[1] = {}): VerifierError {
  const bytes = typeof src === 'string' ? assemble(src) : src;
  let err: unknown;
  try {
    verifyProgram(bytes, opts);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(VerifierError);
  const v = err as VerifierError;
  expect(v.rule).toBe(rule);
  expect(v.pc).toBe(pc);
  expect(v.details.pc).toBe(pc);
  expect(typeof v.details.insn).toBe('string');
  return v;
}

describe('verifier: structure', () => {
  it('accepts a minimal program', () => {
    const r = verifyProgram(assemble('mov %r0, 1\nexit'));
    expect(r.insns).toBe(2);
    expect(r.functions).toEqual([0]);
  });
  it('rejects decode errors as rule decode (unknown opcode, truncated)', () => {
    rejects(Uint8Array.of(0xff, 0, 0, 0, 0, 0, 0, 0), 'decode', 0);
    rejects(Uint8Array.of(0xb7, 0, 0, 0, 0, 0, 0), 'decode', 0);
    expect(rejects(Uint8Array.of(0xb7, 0, 0, 0, 0, 0, 0, 0, 0xbf, 0x0b, 0, 0, 0, 0, 0, 0), 'decode', 1).message).toMatch(/bad destination register r11/);
    rejects(Uint8Array.of(0x18, 1, 0, 0, 0, 0, 0, 0), 'decode', 0);
  });
  it('rejects a register outside r0..r10 in hand-built instructions', () => {
    expect(() => verifyProgram([{ opcode: 0xbf, dst: 0, src: 12, off: 0, imm: 0, slot: 0 }, { opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0, slot: 1 }])).toThrow(VerifierError);
  });
  it('rejects a jump outside the program and into an lddw second slot', () => {
    rejects('mov %r0, 0\nja +5\nexit', 'jump-range', 1);
    rejects('mov %r0, 0\nja +1\nlddw %r1, 0x100000000\nexit', 'jump-into-lddw', 1);
  });
  it('rejects falling off the end', () => {
    rejects('mov %r0, 0\njeq %r0, 0, +1\nexit\nmov %r0, 1', 'fall-off-end', 3);
  });
  it('rejects a function without a reachable exit', () => {
    rejects('mov %r0, 0\nja -1\nexit', 'no-exit', 0);
  });
  it('rejects a jump from one function into another and fall-through into a callee', () => {
    rejects('mov %r0, 0\ncall local +2\nja +2\nexit\nmov %r0, 1\nexit', 'jump-across-function', 2);
    rejects('mov %r0, 0\ncall local +1\nmov %r0, 2\nmov %r0, 1\nexit', 'fall-off-end', 2);
  });
  it('rejects a local call outside the program', () => {
    rejects('call local +7\nexit', 'call-target', 0);
  });
});

describe('verifier: registers', () => {
  it('rejects reading an uninitialised register', () => {
    rejects('mov %r0, %r6\nexit', 'uninit-register', 0);
    rejects('add %r3, 1\nmov %r0, 0\nexit', 'uninit-register', 0);
  });
  it('rejects exit with r0 unset, and r0 set on only one path', () => {
    rejects('exit', 'uninit-register', 0);
    rejects('jeq %r1, 0, +1\nmov %r0, 1\nexit', 'uninit-register', 2);
  });
  it('r1-r5 are clobbered by a helper call, r0 is set, r6-r9 survive', () => {
    rejects('mov %r1, 1\ncall 2\nmov %r0, %r1\nexit', 'uninit-register', 2, { profile: conformanceProfile });
    expect(() => verifyProgram(assemble('mov %r6, 1\ncall 2\nadd %r0, %r6\nexit'), { profile: conformanceProfile })).not.toThrow();
  });
  it('r1 and r2 (memory, length) are initialised at entry by default; entryArgs changes it', () => {
    expect(() => verifyProgram(assemble('mov %r0, %r2\nexit'))).not.toThrow();
    rejects('mov %r0, %r3\nexit', 'uninit-register', 0);
    rejects('mov %r0, %r2\nexit', 'uninit-register', 0, { entryArgs: 1 });
  });
  it('a callee sees the caller\'s initialised r1-r5 but not r6-r9', () => {
    expect(() => verifyProgram(assemble('mov %r1, 3\ncall local +1\nexit\nmov %r0, %r1\nexit'))).not.toThrow();
    rejects('mov %r6, 3\ncall local +1\nexit\nmov %r0, %r6\nexit', 'uninit-register', 3);
  });
  it('rejects writes to r10', () => {
    rejects('mov %r10, 0\nmov %r0, 0\nexit', 'r10-write', 0);
    rejects('ldxdw %r10, [%r1]\nmov %r0, 0\nexit', 'r10-write', 0);
  });
});

describe('verifier: stack', () => {
  it('proves constant-offset stack accesses in the frame, direct and through a copy of r10', () => {
    const r = verifyProgram(assemble('stdw [%r10-8], 1\nmov %r2, %r10\nadd %r2, -16\nstxdw [%r2], %r1\nldxw %r0, [%r2+4]\nldxdw %r3, [%r1]\nexit'));
    expect([...r.provenStackAccesses.keys()]).toEqual([0, 3, 4]);
    expect(r.provenStackAccesses.get(4)).toEqual({ slot: 4, fpOffset: -12, bytes: 4, write: false });
    expect(r.stackDepth.get(0)).toBe(16);
  });
  it('rejects out-of-frame and misaligned stack accesses', () => {
    rejects('stdw [%r10-520], 1\nmov %r0, 0\nexit', 'stack-bounds', 0);
    rejects('stdw [%r10], 1\nmov %r0, 0\nexit', 'stack-bounds', 0);
    rejects('mov %r2, %r10\nadd %r2, -600\nstb [%r2], 1\nmov %r0, 0\nexit', 'stack-bounds', 2);
    rejects('stw [%r10-6], 1\nmov %r0, 0\nexit', 'stack-alignment', 0);
  });
  it('an fp offset that differs between paths is not proven (left to the runtime check)', () => {
    const r = verifyProgram(assemble('mov %r2, %r10\nadd %r2, -8\njeq %r1, 0, +1\nadd %r2, -8\nstdw [%r2], 1\nmov %r0, 0\nexit'));
    expect(r.provenStackAccesses.has(4)).toBe(false);
  });
});

describe('verifier: calls, maps, strict mode', () => {
  it('checks helper ids against the profile', () => {
    rejects('call 99\nexit', 'helper-id', 0, { profile: kernelProfile });
    expect(() => verifyProgram(assemble('call 5\nexit'), { profile: kernelProfile })).not.toThrow();
  });
  it('reports kfunc calls and lddw src 4 as unsupported', () => {
    rejects('call runtime 7\nexit', 'unsupported', 0);
    rejects(encodeProgram([{ opcode: 0x18, dst: 1, src: 4, off: 0, imm: 0, imm2: 0 }, { opcode: 0xb7, dst: 0, src: 0, off: 0, imm: 0 }, { opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 }]), 'unsupported', 0);
  });
  it('checks lddw map references against the map table', () => {
    const m = new BpfMap({ name: 'm', type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 }, 3);
    const prog = (src: number, imm: number) => encodeProgram([{ opcode: 0x18, dst: 1, src, off: 0, imm, imm2: 0 }, { opcode: 0xb7, dst: 0, src: 0, off: 0, imm: 0 }, { opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 }]);
    expect(() => verifyProgram(prog(5, 0), { maps: [m] })).not.toThrow();
    expect(() => verifyProgram(prog(1, 3), { maps: [m] })).not.toThrow();
    rejects(prog(5, 1), 'map-reference', 0, { maps: [m] });
    rejects(prog(2, 4), 'map-reference', 0, { maps: [m] });
  });
  it('allows loops by default (reporting back-edges) and rejects them in strict mode', () => {
    const loop = 'mov %r0, 0\nmov %r1, 10\nadd %r0, %r1\nsub %r1, 1\njne %r1, 0, -3\nexit';
    expect(verifyProgram(assemble(loop)).backEdges).toEqual([[4, 2]]);
    rejects(loop, 'back-edge', 4, { strict: true });
  });
  it('strict mode also rejects unreachable code, recursion and constant zero divisors', () => {
    rejects('mov %r0, 0\nexit\nmov %r0, 1\nexit', 'unreachable', 2, { strict: true });
    rejects('mov %r0, 0\ncall local -2\nexit', 'recursion', 0, { strict: true });
    rejects('mov %r0, 1\ndiv %r0, 0\nexit', 'div-by-zero', 1, { strict: true });
    expect(() => verifyProgram(assemble('mov %r0, 1\ndiv %r0, 0\nexit'))).not.toThrow();
  });
});

describe('verifier: conformance suite', () => {
  const dir = '../shared/conformance/';
  const files = readdirSync(dir).filter((f) => f.endsWith('.data'));
  it('verifies all 313 conformance programs in the default mode', () => {
    expect(files.length).toBe(313);
    const failures: string[] = [];
    for (const f of files) {
      const t = parseConformance(readFileSync(dir + f, 'utf8'), f);
      try {
        verifyProgram(t.program, { profile: conformanceProfile });
      } catch (e) {
        failures.push(`${f}: ${(e as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
