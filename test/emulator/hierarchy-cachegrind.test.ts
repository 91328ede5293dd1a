// Agreement with Cachegrind: the recorded per-function counts of cg_kernel under
// `valgrind --tool=cachegrind --cache-sim=yes` (test/vectors/emulator/cachegrind.json, regenerated
// by scripts/oracles/cachegrind.mjs) against the model driven by the x86_64 emulator running the
// same bytes at congruent addresses: instructions, I1/D1/LL read and write misses, all exact.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCapstone } from '../../support/capstone.js';
import { type CgVectors, runCase } from './cachegrind-harness.js';

const FILE = join(dirname(fileURLToPath(import.meta.url)), '..', 'vectors', 'emulator', 'cachegrind.json');
const vectors = JSON.parse(readFileSync(FILE, 'utf8')) as CgVectors;

beforeAll(async () => {
  await initCapstone();
});

describe(`model vs ${vectors.tool}`, () => {
  it('has cases that miss at every level', () => {
    const any = (k: 'I1mr' | 'ILmr' | 'D1mr' | 'DLmr' | 'D1mw') => vectors.cases.some((c) => (c.counts?.[k] ?? 0) > 10);
    expect([any('I1mr'), any('ILmr'), any('D1mr'), any('DLmr'), any('D1mw')]).toEqual([true, true, true, true, true]);
  });

  for (const c of vectors.cases) {
    it(`${c.name}: I1 ${c.I1.join(',')} D1 ${c.D1.join(',')} LL ${c.LL.join(',')}`, () => {
      expect(runCase(vectors, c)).toEqual(c.counts);
    });
  }
});
