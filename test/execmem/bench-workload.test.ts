// The workload of `jitbox bench execmem` (issue 2): 4,000 program sizes with exactly half under
// 500 B, three quarters under 2 KiB and a tail up to 64 KiB, and a random interleaving in which
// every program is allocated once and freed once, its free after its alloc. Seeded: same seed,
// same workload.
import { describe, expect, it } from 'vitest';
import { eventOrder, programSizes } from '../../jit/bench/execmem.js';

describe('bench execmem workload', () => {
  it('sizes follow the issue distribution exactly', () => {
    for (const seed of [1, 2, 77]) {
      const sizes = programSizes(4000, seed);
      expect(sizes).toHaveLength(4000);
      expect(sizes.filter((s) => s < 500)).toHaveLength(2000);
      expect(sizes.filter((s) => s < 2048)).toHaveLength(3000);
      expect(sizes.every((s) => Number.isInteger(s) && s >= 16 && s <= 65536)).toBe(true);
      const tail = sizes.filter((s) => s >= 2048);
      expect(tail.filter((s) => s >= 8192).length).toBeGreaterThan(0);
      expect(tail.filter((s) => s < 4096).length).toBeGreaterThan(tail.length / 2);
    }
    expect(programSizes(4000, 5)).toEqual(programSizes(4000, 5));
    expect(programSizes(4000, 5)).not.toEqual(programSizes(4000, 6));
  });
  it('the event order allocates and frees each program once, free after alloc, interleaved', () => {
    const order = eventOrder(4000, 9);
    expect(order).toHaveLength(8000);
    const seen = new Uint8Array(4000);
    let live = 0;
    let peak = 0;
    let freesBeforeLastAlloc = 0;
    let allocsSeen = 0;
    for (const id of order) {
      expect(seen[id]).toBeLessThan(2);
      if (seen[id] === 0) {
        live++;
        allocsSeen++;
      } else {
        live--;
        if (allocsSeen < 4000) freesBeforeLastAlloc++;
      }
      seen[id] = (seen[id] as number) + 1;
      peak = Math.max(peak, live);
    }
    expect(seen.every((c) => c === 2)).toBe(true);
    expect(live).toBe(0);
    expect(peak).toBeLessThan(4000);
    expect(freesBeforeLastAlloc).toBeGreaterThan(1000);
    expect(eventOrder(4000, 9)).toEqual(order);
  });
});
