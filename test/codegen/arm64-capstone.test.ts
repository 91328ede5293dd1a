// Round trip through Capstone (capstone-wasm, Capstone 5): encode, decode, compare length and the
// normalised text (support/capstone.ts normaliseAsm, the one place alias rules live). Golden cases
// are checked against their assembly lines; property tests draw random operands per form.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { disasmOne, initCapstone, normaliseAsm } from '../../support/capstone.js';
import { type BuilderCall, runCall, wordBytes } from './arm64-support.js';
import { families } from './arm64-forms.js';

interface Vectors {
  cases: { call: BuilderCall; asm: string; bytes: string }[];
}
const vectors = JSON.parse(readFileSync(join(import.meta.dirname, '../vectors/asm/arm64.json'), 'utf8')) as Vectors;

beforeAll(async () => {
  await initCapstone();
});

function capstoneText(word: number, address = 0): string {
  const d = disasmOne('arm64', wordBytes(word), address);
  if (!d) return '<undecodable>';
  expect(d.size).toBe(4);
  return d.text;
}

describe('arm64 x Capstone', () => {
  it('golden cases decode to their assembly text', () => {
    const bad: string[] = [];
    for (const c of vectors.cases) {
      const w = runCall(c.call);
      const cs = capstoneText(w);
      if (normaliseAsm('arm64', cs) !== normaliseAsm('arm64', c.asm)) bad.push(`${c.asm} | ${cs} | ${normaliseAsm('arm64', c.asm)} vs ${normaliseAsm('arm64', cs)}`);
    }
    expect(bad).toEqual([]);
  });
});

const RUNS = { seed: Number(process.env.A64_SEED ?? 0x5eed), numRuns: Number(process.env.A64_RUNS ?? 120) };

describe('arm64 round trip through Capstone (fast-check)', () => {
  for (const [name, arb] of Object.entries(families)) {
    it(`${name}: encode -> Capstone -> same length and normalised text`, () => {
      fc.assert(
        fc.property(arb, (c) => {
          const w = runCall(c.call);
          const cs = capstoneText(w);
          expect(normaliseAsm('arm64', cs), `${c.asm} -> ${cs}`).toBe(normaliseAsm('arm64', c.asm));
        }),
        RUNS,
      );
    });
  }
});
