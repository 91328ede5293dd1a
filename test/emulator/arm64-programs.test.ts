// Whole programs on the arm64 core: the anchor loops (../shared/bench, assembled by llvm-mc) against
// Unicorn's recorded results, and gcc -O2 leaf functions against qemu-aarch64's recorded registers.
// Vectors: test/vectors/emulator/arm64-{anchors,qemu}.json from scripts/oracles/emu-arm64.py.
import { beforeAll, describe, expect, it } from 'vitest';
import { initCapstone } from '../../support/capstone.js';
import { bigIntToPair, pairToBigInt } from '../../support/u64.js';
import { type AnchorVectors, hexWords, loadVectors, makeRig, type QemuVectors } from './arm64-harness.js';

const anchors = loadVectors<AnchorVectors>('arm64-anchors.json');
const qemu = loadVectors<QemuVectors>('arm64-qemu.json');

describe('arm64 anchor loops', () => {
  beforeAll(async () => {
    await initCapstone();
  });
  for (const loop of anchors.loops) {
    it(`${loop.name} returns Unicorn's values (n <= 1e5) with the documented instruction counts`, () => {
      const rig = makeRig(11);
      const entry = rig.place(hexWords(loop.code));
      const perIter = loop.name === 'loopA' ? 3 : 7;
      const setup = loop.name === 'loopA' ? 2 : 8;
      for (const run of loop.runs.filter((r) => r.n <= 100000)) {
        const r = rig.m.call(entry, [run.n]);
        expect('0x' + pairToBigInt(r.ret.lo, r.ret.hi).toString(16)).toBe(run.ret);
        expect(r.counters.insns).toBe(setup + perIter * run.n + 1);
        expect(r.counters.branches).toBe(run.n - 1 + 1);
        expect(r.counters.loads + r.counters.stores).toBe(0);
      }
    });
  }
  it('loopB records the documented 1e8 result', () => {
    expect(anchors.loops.find((l) => l.name === 'loopB')!.runs.find((r) => r.n === 1e8)!.ret).toBe('0xbc6af92d0');
  });
});

describe('gcc -O2 leaf functions vs qemu-aarch64 (recorded)', () => {
  beforeAll(async () => {
    await initCapstone();
  });
  for (const f of qemu.functions) {
    it(`${f.name}: ${f.pure ? 'x0-x17' : 'x0'} after the call`, () => {
      const rig = makeRig(12);
      const entry = rig.place(hexWords(f.hex));
      for (const run of f.runs) {
        for (let i = 0; i < 18; i++) rig.m.setX(i, 0, 0);
        const args = run.args.map((a) => bigIntToPair(BigInt(a)));
        rig.m.call(entry, args, { budget: 50_000_000 });
        const n = f.pure ? 18 : 1;
        for (let i = 0; i < n; i++) {
          const x = rig.m.getX(i);
          expect(`x${i}=0x${pairToBigInt(x.lo, x.hi).toString(16).padStart(16, '0')}`).toBe(`x${i}=${run.regs[i]}`);
        }
      }
    });
  }
});

describe('sp and pc-relative forms (addresses differ from the oracles, so checked here)', () => {
  beforeAll(async () => {
    await initCapstone();
  });

  it('sp as base, add/sub/cmp with sp, extended add to sp', () => {
    const rig = makeRig(13);
    // mov x3, sp; sub sp, sp, #32; stp x0, x0, [sp]; ldr x2, [sp, #8]; add x4, sp, #32; sub x0, x3, x4;
    // add x0, x0, x2; cmp sp, x3; cset x6, lo; add sp, sp, w5, uxtw; mov x7, sp; ret
    const code = rig.place([0x910003e3, 0xd10083ff, 0xa90003e0, 0xf94007e2, 0x910083e4, 0xcb040060, 0x8b020000, 0xeb2363ff, 0x9a9f27e6, 0x8b2543ff, 0x910003e7, 0xd65f03c0]);
    const r = rig.m.call(code, [0x1234, 0, 0, 0, 0, 32]);
    expect(r.ret).toEqual({ lo: 0x1234, hi: 0 });
    expect(r.regs.x6).toEqual({ lo: 1, hi: 0 });
    expect(r.regs.x7).toEqual(r.regs.x3);
    expect(r.regs.sp).toEqual(r.regs.x3);
    expect(r.counters.stores).toBe(2);
  });

  it('adr, adrp, ldr/ldrsw literal resolve against the final code address', () => {
    const rig = makeRig(14);
    const code = rig.place([0x10000040, 0x90000001, 0x58000042, 0x98000023, 0xd65f03c0, 0x89abcdef, 0x01234567]);
    const r = rig.m.call(code);
    const big = (x: { lo: number; hi: number }): bigint => pairToBigInt(x.lo, x.hi);
    const base = BigInt.asUintN(64, BigInt(code));
    expect(big(r.regs.x0!)).toBe(base + 8n);
    expect(big(r.regs.x1!)).toBe(base & ~0xfffn);
    expect(big(r.regs.x2!)).toBe(0x89abcdefd65f03c0n);
    expect(big(r.regs.x3!)).toBe(0xffffffffd65f03c0n);
  });
});
