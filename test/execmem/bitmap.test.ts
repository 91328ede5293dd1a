// RunIndex (the first-fit summary tree behind bpf_prog_pack) against the linear scan it replaces:
// for seeded random claim/release sequences the two answer every query identically.

import { describe, expect, it } from 'vitest';
import { clearBits, findZeroRun, RunIndex, setBits } from '../../execmem/bitmap.js';
import { Rng } from '../../support/rng.js';

function check(words: number, seed: number, steps: number): void {
  const nbits = words * 32;
  const bits = new Uint32Array(words);
  const index = new RunIndex(bits);
  const rng = new Rng(seed);
  const live: [number, number][] = [];
  for (let step = 0; step < steps; step++) {
    const n = 1 + (rng.below(4) === 0 ? rng.below(nbits / 4) : rng.below(40));
    expect(index.findFirst(n)).toBe(findZeroRun(bits, nbits, n));
    if (live.length > 0 && rng.below(3) === 0) {
      const [pos, len] = live.splice(rng.below(live.length), 1)[0] as [number, number];
      clearBits(bits, pos, len);
      index.update(pos >>> 5, (pos + len - 1) >>> 5);
    } else {
      const pos = index.findFirst(n);
      if (pos < 0) continue;
      setBits(bits, pos, n);
      index.update(pos >>> 5, (pos + n - 1) >>> 5);
      live.push([pos, n]);
    }
  }
}

describe('RunIndex', () => {
  it('answers like the linear first-fit scan on a pack-sized bitmap', () => {
    for (const seed of [1, 2, 3]) check(1024, seed, 3000);
  });

  it('answers like the linear scan on small bitmaps, including runs across words and the full map', () => {
    for (const seed of [4, 5, 6, 7]) check(4, seed, 2000);
    const bits = new Uint32Array(2);
    const index = new RunIndex(bits);
    expect(index.findFirst(64)).toBe(0);
    expect(index.findFirst(65)).toBe(-1);
    setBits(bits, 30, 4);
    index.update(0, 1);
    expect(index.findFirst(30)).toBe(0);
    expect(index.findFirst(31)).toBe(-1);
    setBits(bits, 0, 1);
    index.update(0, 0);
    expect(index.findFirst(30)).toBe(34);
    expect(index.findFirst(29)).toBe(1);
    expect(index.findFirst(1)).toBe(1);
  });

  it('refuses a word count that is not a power of two', () => {
    expect(() => new RunIndex(new Uint32Array(3))).toThrow(/power-of-two/);
  });
});
