// The experiments are deterministic for a seed (issue 8 acceptance): tiny runs twice with the same
// seed give identical results; the runner's seeds depend only on (seed, label); the progress bar is
// silent off a TTY and with --json.
import { describe, expect, it } from 'vitest';
import { defaultModelParams } from '../../jit/experiments/model.js';
import { runColocate } from '../../jit/experiments/colocate.js';
import { runPack } from '../../jit/experiments/pack.js';
import { emulatorRows } from '../../jit/experiments/unpack-emu.js';
import { deriveSeed, intList, makeContext, progressBar } from '../../jit/experiments/runner.js';
import { formatForKeySet, genFamily } from '../../jit/bkey/keys.js';
import { packInto, unpackGeneric } from '../../jit/bkey/pack.js';
import { drawImageSize } from '../../jit/experiments/bpf-progs.js';
import { Rng } from '../../support/rng.js';

const quiet = (): void => {};

describe('runner', () => {
  it('derived seeds depend on seed and label only', () => {
    expect(deriveSeed(1, 'pack/sizes')).toBe(deriveSeed(1, 'pack/sizes'));
    expect(deriveSeed(1, 'pack/sizes')).not.toBe(deriveSeed(2, 'pack/sizes'));
    expect(deriveSeed(1, 'pack/sizes')).not.toBe(deriveSeed(1, 'pack/programs'));
    const a = makeContext(7, true, 1, quiet).rng('x');
    const b = makeContext(7, true, 1, quiet).rng('x');
    expect([a.u32(), a.u32()]).toEqual([b.u32(), b.u32()]);
  });

  it('progress: nothing off a TTY or with --json; a bar ending in a newline on a TTY', () => {
    const out: string[] = [];
    progressBar(false, { isTTY: false, write: (s) => out.push(s) })(1, 2, 'x');
    progressBar(true, { isTTY: true, write: (s) => out.push(s) })(1, 2, 'x');
    expect(out).toEqual([]);
    const bar = progressBar(false, { isTTY: true, write: (s) => out.push(s) });
    bar(1, 2, 'step');
    bar(2, 2, 'step');
    expect(out.join('')).toMatch(/step\s+\[#{15}\.{15}\]\s+50%/);
    expect(out.join('')).toMatch(/\[#{30}\] 100%\n$/);
  });

  it('node lists are validated', () => {
    expect(intList('1, 10,100', '--nodes', 1, 1000)).toEqual([1, 10, 100]);
    expect(() => intList('1,x', '--nodes', 1, 1000)).toThrow(/"x" is not an integer/);
    expect(() => intList('0', '--nodes', 1, 1000)).toThrow(/\[1, 1000\]/);
  });

  it('program sizes follow the fleet distribution (about half < 500 B, three quarters < 2 KiB)', () => {
    const rng = new Rng(3);
    const s = Array.from({ length: 4000 }, () => drawImageSize(rng));
    const under = (b: number): number => s.filter((x) => x < b).length / s.length;
    expect(under(500)).toBeGreaterThan(0.45);
    expect(under(500)).toBeLessThan(0.6);
    expect(under(2048)).toBeGreaterThan(0.7);
    expect(under(2048)).toBeLessThan(0.82);
  });
});

describe('experiments repeat their numbers for a seed', () => {
  it('pack', () => {
    const p = { programs: 5, rounds: 1, arches: ['x86_64' as const, 'arm64' as const], model: defaultModelParams() };
    const a = runPack(makeContext(11, true, 8, quiet), p);
    const b = runPack(makeContext(11, true, 8, quiet), p);
    expect(a.rows.length).toBe(7);
    expect(a.rows.every((r) => r.insns > 0 && r.cycles >= r.insns)).toBe(true);
    for (const arch of ['x86_64', 'arm64']) {
      const page = a.rows.find((r) => r.arch === arch && r.mode === 'page');
      const packed = a.rows.find((r) => r.arch === arch && r.mode === 'pack-4k');
      expect(page && packed && page.codePages4k >= 5 && packed.codePages4k < page.codePages4k).toBe(true);
    }
    expect(a.skipped).toEqual([{ arch: 'arm64', mode: 'rox-cache', reason: expect.stringMatching(/only on x86_64/) as unknown as string }]);
    expect(b).toEqual(a);
    const c = runPack(makeContext(12, true, 8, quiet), p);
    expect(c.sizes).not.toEqual(a.sizes);
  }, 60_000);

  it('colocate', () => {
    const p = { nodes: [1, 3], lookups: 12, unpacksPerLookup: 2, keysPerNode: 32, pool: 2, prefetchKind: 'data' as const, arches: ['x86_64' as const], model: defaultModelParams() };
    const a = runColocate(makeContext(5, true, 16, quiet), p);
    const b = runColocate(makeContext(5, true, 16, quiet), p);
    expect(a.rows.length).toBe(16);
    expect(a.rows.every((r) => r.insns > 0)).toBe(true);
    expect(b).toEqual(a);
  }, 60_000);

  it('unpack (emulator rows)', () => {
    const ks = genFamily('dirents', new Rng(2), 24);
    const f = formatForKeySet(ks);
    const packed = ks.keys.map((k) => {
      const b = new Uint8Array(8 * f.keyU64s + 8);
      expect(packInto(f, k, b, 0)).toBeLessThan(0);
      return b.slice(0, 8 * f.keyU64s);
    });
    const want = packed.map((p) => {
      const o = new Uint8Array(40);
      unpackGeneric(f, p, 0, o, 0);
      return o;
    });
    const params = { arches: ['x86_64' as const, 'arm64' as const], hotKeys: 8, passes: 2, coldKeys: 4, model: defaultModelParams(), seed: 9 };
    const a = emulatorRows('dirents', f, packed, want, params);
    expect(a.length).toBe(8);
    expect(emulatorRows('dirents', f, packed, want, params)).toEqual(a);
    const hot = a.find((r) => r.arch === 'x86_64' && r.variant === 'compiled' && r.temperature === 'hot');
    const cold = a.find((r) => r.arch === 'x86_64' && r.variant === 'compiled' && r.temperature === 'cold');
    expect(hot && cold && cold.cycles > hot.cycles).toBe(true);
    const bad = want.map((w) => w.map((x) => x ^ 1));
    expect(() => emulatorRows('dirents', f, packed, bad, params)).toThrow(/disagrees with the TypeScript unpack/);
  }, 60_000);
});
