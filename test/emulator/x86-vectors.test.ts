// The x86_64 core against recorded oracle answers (scripts/oracles/emu-x86_64.mjs): random programs
// built with codegen/x86_64, run natively on the host CPU and on Unicorn 2.0.1.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCapstone } from '../../support/capstone.js';
import { hex64, hexToBytes } from '../../support/u64.js';
import { rig } from './helpers.js';
import { compareOutcome, type DiffCase, type Outcome, X86DiffRunner } from './x86-diff.js';

interface Vectors {
  cases: (DiffCase & { native: Outcome; unicorn: Outcome | 'same-as-native' })[];
}
const V = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'vectors', 'emulator', 'x86_64-diff.json'), 'utf8')) as Vectors;

beforeAll(async () => {
  await initCapstone();
});

describe('x86_64 emulator vs recorded native CPU and Unicorn runs', () => {
  it(`matches the host CPU and Unicorn on ${V.cases.length} random programs (registers, defined flags, memory)`, () => {
    const runner = new X86DiffRunner();
    const failures: string[] = [];
    for (const c of V.cases) {
      const got = runner.run(c);
      const bad = [...compareOutcome(c, got, c.native).map((m) => `native ${m}`), ...compareOutcome(c, got, c.unicorn === 'same-as-native' ? c.native : c.unicorn).map((m) => `unicorn ${m}`)];
      if (bad.length) failures.push(`${c.name} (${c.code}): ${bad.join('; ')}`);
    }
    expect(failures.slice(0, 10)).toEqual([]);
  });
});

interface Anchors {
  loops: { name: string; code: string; results: { n: number; native: string; unicorn: string | null }[] }[];
}
const A = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'vectors', 'emulator', 'x86_64-anchors.json'), 'utf8')) as Anchors;

describe('anchor loops (../shared/bench/*.x86.s, assembled by llvm-mc)', () => {
  for (const loop of A.loops) {
    for (const r of loop.results.filter((x) => x.n <= 100000)) {
      it(`${loop.name}(${r.n}) = ${r.native} as on the host CPU`, () => {
        const { cpu, code } = rig('x86_64', hexToBytes(loop.code)!);
        const res = cpu.call(code, [r.n]);
        expect(hex64(res.ret.lo, res.ret.hi)).toBe(r.native);
        expect(r.unicorn ?? r.native).toBe(r.native);
        const perIter = loop.name === 'loopA' ? 3 : 11;
        const setup = loop.name === 'loopA' ? 2 : 4;
        expect(res.counters.insns).toBe(setup + perIter * r.n + 1);
        expect(res.counters.branches).toBe(r.n - 1 + 1);
      });
    }
  }
});
