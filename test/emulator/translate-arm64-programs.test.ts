// Whole programs with the arm64 translation tier forced: the anchor loops (Unicorn's recorded
// results and the documented instruction counts), the gcc -O2 leaf functions (qemu-aarch64's
// recorded registers), and a self-loop that must run inside one translated region.
// Vectors: test/vectors/emulator/arm64-{anchors,qemu}.json (scripts/oracles/emu-arm64.py).
import { describe, expect, it } from 'vitest';
import { bigIntToPair, pairToBigInt } from '../../support/u64.js';
import { type AnchorVectors, hexWords, loadVectors, type QemuVectors } from './arm64-harness.js';
import { makeTxRig as makeRig } from './translate-arm64-harness.js';

const anchors = loadVectors<AnchorVectors>('arm64-anchors.json');
const qemu = loadVectors<QemuVectors>('arm64-qemu.json');

describe('arm64 anchor loops, translated', () => {
  for (const loop of anchors.loops) {
    it(`${loop.name}: Unicorn's values and the interpreter's counters (n <= 1e6)`, () => {
      const rig = makeRig(41);
      const entry = rig.place(hexWords(loop.code));
      const perIter = loop.name === 'loopA' ? 3 : 7;
      const setup = loop.name === 'loopA' ? 2 : 8;
      for (const run of loop.runs.filter((r) => r.n <= 1e6)) {
        const r = rig.m.call(entry, [run.n], { tier: 'translate' });
        expect('0x' + pairToBigInt(r.ret.lo, r.ret.hi).toString(16)).toBe(run.ret);
        expect(r.counters).toEqual({ insns: setup + perIter * run.n + 1, branches: run.n, loads: 0, stores: 0 });
      }
      const st = rig.m.translationStats();
      expect(st).not.toBeNull();
      expect(st!.regions).toBeGreaterThan(0);
      expect(st!.translatedInsns).toBeGreaterThan(perIter * 1e5);
    });

    it(`${loop.name}: the auto tier translates the hot loop within one call and agrees with the interpreter`, () => {
      const rig = makeRig(43);
      const entry = rig.place(hexWords(loop.code));
      const a = rig.m.call(entry, [100000], { tier: 'interp' });
      const b = rig.m.call(entry, [100000], { tier: 'auto' });
      expect(b.ret).toEqual(a.ret);
      expect(b.counters).toEqual(a.counters);
      expect(rig.m.translationStats()!.translatedInsns).toBeGreaterThan(a.counters.insns / 2);
    });
  }
});

describe('gcc -O2 leaf functions vs qemu-aarch64 (recorded), translated', () => {
  for (const f of qemu.functions) {
    it(`${f.name}: ${f.pure ? 'x0-x17' : 'x0'} and counters equal to the interpreter`, () => {
      const rig = makeRig(42);
      const entry = rig.place(hexWords(f.hex));
      for (const run of f.runs) {
        const args = run.args.map((a) => bigIntToPair(BigInt(a)));
        const counters = [];
        for (const tier of ['interp', 'translate'] as const) {
          for (let i = 0; i < 18; i++) rig.m.setX(i, 0, 0);
          counters.push(rig.m.call(entry, args, { budget: 50_000_000, tier }).counters);
          const n = f.pure ? 18 : 1;
          for (let i = 0; i < n; i++) {
            const x = rig.m.getX(i);
            expect(`${tier} x${i}=0x${pairToBigInt(x.lo, x.hi).toString(16).padStart(16, '0')}`).toBe(`${tier} x${i}=${run.regs[i]}`);
          }
        }
        expect(counters[1]).toEqual(counters[0]);
      }
    });
  }
});
