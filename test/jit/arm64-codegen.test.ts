// The arm64 backend's code-level decisions: helper calls are BL when the helper lies within ±128 MiB
// of every address the image may get and `movz/movk x10 · blr x10` otherwise; conditional jumps
// beyond b.cond's ±1 MiB become `b.!cond · b` (a > 1 MiB program runs and matches the interpreter);
// AAPCS64 callee-saved registers survive a call; div/mod/shift edge cases equal the interpreter's.
import { beforeAll, describe, expect, it } from 'vitest';
import { assemble } from '../../jit/bpf/asm.js';
import { BpfInterpreter, loadProgram } from '../../jit/bpf/interp.js';
import { jitCompile } from '../../jit/bpf/jit.js';
import { BpfJitHost } from '../../jit/bpf/jit-host.js';
import { encodeProgram, type BpfInsnFields } from '../../jit/bpf/isa.js';
import { compileBpfArm64 } from '../../codegen/bpf/arm64.js';
import { SYM, withOrigins } from '../../codegen/bpf/common.js';
import { disasmAll, initCapstone } from '../../support/capstone.js';

const words = (b: Uint8Array): number[] => Array.from({ length: b.length >>> 2 }, (_, k) => (b[4 * k]! | (b[4 * k + 1]! << 8) | (b[4 * k + 2]! << 16) | (b[4 * k + 3]! << 24)) >>> 0);

let host: BpfJitHost;
beforeAll(async () => {
  await initCapstone();
  host = new BpfJitHost({ seed: 31, arch: 'arm64' });
});

describe('helper call reach', () => {
  const prog = loadProgram(assemble('mov %r1, 1\ncall 5\nexit'));
  const HELPER = 0xffff800010000000;
  const compile = (lo: number, hi: number) =>
    compileBpfArm64(withOrigins(prog.insns), {
      functions: [0],
      symbolAddress: (s) => (s === SYM.helper(5) ? HELPER : undefined),
      imageRange: { lo, hi },
    });

  it('BL when the whole image range is within ±128 MiB of the helper; the field reaches it from the final address', () => {
    const base = HELPER + 64 * 1024 * 1024;
    const c = compile(base - 4096, base + 4096);
    const fin = c.at(base);
    const text = disasmAll('arm64', fin.bytes, base).map((d) => d.text);
    expect(text).toContain(`bl #0x${HELPER.toString(16)}`);
    expect(text.some((t) => t.startsWith('blr'))).toBe(false);
  });

  it('movz/movk x10 + blr x10 when part of the range is out of reach', () => {
    const base = HELPER + 64 * 1024 * 1024;
    const c = compile(base, base + 128 * 1024 * 1024);
    const fin = c.at(base);
    const text = disasmAll('arm64', fin.bytes, base).map((d) => d.text);
    expect(text).toContain('blr x10');
    expect(text).toContain('movk x10, #0x1000, lsl #16');
    expect(text).toContain('movk x10, #0xffff, lsl #48');
    expect(c.sized.bytes.length).toBe(fin.bytes.length);
  });

  it('the default host (modules range wider than 128 MiB) runs helpers through blr', () => {
    const jp = jitCompile(loadProgram(assemble('mov %r1, 7\nmov %r2, 5\ncall 0\nexit')), { host });
    expect(disasmAll('arm64', jp.image, jp.entry).some((d) => d.text === 'blr x10')).toBe(true);
    jp.free();
  });
});

describe('long programs', () => {
  it('conditional jumps over more than 1 MiB of code use b.!cond + b and still compute the interpreter result', () => {
    // 0: r0 = 3 · 1: if r1 == 0 goto N+3 (forward, > 1 MiB) · 2..N+1: r0 += 0x12345 · N+2: exit ·
    // N+3: r1 = 1 · N+4: if r1 != 0 goto 2 (backward, > 1 MiB).
    const N = 90_000;
    const body: BpfInsnFields[] = [
      { opcode: 0xb7, dst: 0, src: 0, off: 0, imm: 3 },
      { opcode: 0x15, dst: 1, src: 0, off: N + 1, imm: 0 },
      ...Array.from({ length: N }, (): BpfInsnFields => ({ opcode: 0x07, dst: 0, src: 0, off: 0, imm: 0x12345 })),
      { opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
      { opcode: 0xb7, dst: 1, src: 0, off: 0, imm: 1 },
      { opcode: 0x55, dst: 1, src: 0, off: -(N + 3), imm: 0 },
    ];
    const prog = loadProgram(encodeProgram(body), 'long');
    const fast = new BpfJitHost({ seed: 32, arch: 'arm64', capstoneCheck: false });
    for (const r1 of [0]) {
      const args = [{ lo: r1, hi: 0 }];
      const jp = jitCompile(prog, { host: fast });
      expect(jp.size).toBeGreaterThan(1024 * 1024);
      const r = jp.run({ args });
      const want = new BpfInterpreter(prog).run({ args, budget: 10_000_000 });
      expect(r.r0).toEqual(want.r0);
      const at = jp.insnOffsets[1] as number;
      const pair = disasmAll('arm64', jp.image.subarray(at + 4, at + 12), jp.entry + at + 4).map((d) => d.mnemonic);
      expect(pair).toEqual(['b.ne', 'b']);
      jp.free();
    }
  });

  it('short programs use a single b.cond', () => {
    const jp = jitCompile(loadProgram(assemble('mov %r0, 1\njeq %r1, 0, +1\nmov %r0, 2\nexit')), { host });
    const text = disasmAll('arm64', jp.image, jp.entry).map((d) => d.mnemonic);
    expect(text).toContain('b.eq');
    jp.free();
  });
});

describe('ABI and edge semantics', () => {
  it('x19-x28 are preserved across a call (AAPCS64 callee-saved)', () => {
    const jp = jitCompile(loadProgram(assemble('mov %r6, 1\nmov %r7, 2\nmov %r8, 3\nmov %r9, 4\nmov %r0, %r10\nexit')), { host });
    const before = host.machine.registers();
    const res = host.machine.call(jp.entry, [0, 0, 0x10000]);
    expect(res.ret).toEqual({ lo: 0x10000, hi: 0 });
    const after = host.machine.registers();
    for (let k = 19; k <= 28; k++) expect(after[`x${k}`], `x${k}`).toEqual(before[`x${k}`]);
    jp.free();
  });

  const cases = [
    'lddw %r0, 0x8000000000000000\nsdiv %r0, -1\nexit',
    'lddw %r0, 0x8000000000000000\nsmod %r0, -1\nexit',
    'mov32 %r0, 0x80000000\nsdiv32 %r0, -1\nexit',
    'mov32 %r0, 0x80000000\nsmod32 %r0, -1\nexit',
    'mov %r0, -7\nmov %r1, 0\nsdiv %r0, %r1\nexit',
    'mov %r0, -7\nmov %r1, 0\nsmod %r0, %r1\nexit',
    'mov %r0, -7\nmov %r1, 0\nmod32 %r0, %r1\nexit',
    'mov %r0, -7\nmov %r1, 0\ndiv %r0, %r1\nexit',
    'mov %r0, -1\nmov %r1, 65\nlsh %r0, %r1\nexit',
    'mov %r0, -1\nmov %r1, 33\nrsh32 %r0, %r1\nexit',
    'mov %r0, -1\narsh32 %r0, 0\nexit',
    'lddw %r0, 0x0102030405060708\nbe16 %r0\nexit',
    'lddw %r0, 0x0102030405060708\nbe32 %r0\nexit',
    'lddw %r0, 0x0102030405060708\nle16 %r0\nexit',
    'mov %r0, -1\nadd32 %r0, -4096\nexit',
    'mov %r0, -1\nand32 %r0, 0xff00ff00\nexit',
    'mov %r0, 5\nxor %r0, -1\nexit',
  ];
  for (const src of cases) {
    it(`${src.replace(/\n/g, '; ')}`, () => {
      const prog = loadProgram(assemble(src));
      for (const harden of [false, true]) {
        const jp = jitCompile(prog, { host, harden, seed: 9 });
        expect(jp.run().r0).toEqual(new BpfInterpreter(prog).run().r0);
        jp.free();
      }
    });
  }
});
