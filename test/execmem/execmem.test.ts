import { describe, expect, it } from 'vitest';
import {
  ARCHES,
  DoubleFreeError,
  ExecmemExhaustedError,
  ForeignFreeError,
  HUGE_PAGE_SIZE,
  PAGE_SIZE,
  PERM_ROX,
  PERM_RW,
  PERM_RO,
} from '../../execmem/index.js';
import { InvalidArgumentError } from '../../support/errors.js';
import { expectThrow, space, trapBytes } from './helpers.js';

const CODE_TYPES = ['MODULE_TEXT', 'KPROBES', 'FTRACE', 'BPF'] as const;

for (const arch of ARCHES) {
  describe(`execmem (${arch})`, () => {
    it('execmemAlloc: code types are ROX and trap-filled from birth, inside their range', () => {
      const s = space(arch);
      for (const t of CODE_TYPES) {
        const a = s.execmemAlloc(t, 5000);
        const r = s.execmem.range(t);
        expect(a).toBeGreaterThanOrEqual(r.start);
        expect(a + 8192).toBeLessThanOrEqual(r.end);
        expect(s.pageInfo(a)?.perm).toBe(PERM_ROX);
        expect(s.pageInfo(a + 4096)?.perm).toBe(PERM_ROX);
        expect(s.read(a, 8192)).toEqual(trapBytes(arch, 8192));
      }
      const d = s.execmemAlloc('MODULE_DATA', 100);
      expect(s.pageInfo(d)?.perm).toBe(PERM_RW);
      expect(s.execmem.allocations().every((x) => x.size % PAGE_SIZE === 0)).toBe(true);
      expect(s.audit().ok).toBe(true);
    });

    it('numeric execmem_type values are accepted (0 = DEFAULT = MODULE_TEXT)', () => {
      const s = space(arch);
      const a = s.execmemAlloc(3, 64);
      expect(s.execmem.allocationAt(a)?.type).toBe('BPF');
      expectThrow(() => s.execmemAlloc(5, 64), InvalidArgumentError);
    });

    it('allocRw stays RW+NX until restoreRox; the transitions never pass through W+X', () => {
      const s = space(arch);
      const a = s.execmemAllocRw('MODULE_TEXT', 3 * PAGE_SIZE);
      expect(s.pageInfo(a)?.perm).toBe(PERM_RW);
      s.write(a, Uint8Array.of(1, 2, 3));
      s.execmemRestoreRox(a, 2 * PAGE_SIZE);
      expect(s.pageInfo(a)?.perm).toBe(PERM_ROX);
      expect(s.pageInfo(a + PAGE_SIZE)?.perm).toBe(PERM_ROX);
      expect(s.pageInfo(a + 2 * PAGE_SIZE)?.perm).toBe(PERM_RW);
      expect(Array.from(s.read(a, 3))).toEqual([1, 2, 3]);
      const trail = s.audit().recentTransitions.filter((t) => t.page === `0x${BigInt.asUintN(64, BigInt(a)).toString(16)}`);
      for (const t of trail) expect(t.to).not.toBe('rwx');
      if (arch === 'arm64') expect(trail.slice(-2).map((t) => t.to)).toEqual(['r--', 'r-x']);
      else expect(trail.slice(-1).map((t) => [t.from, t.to])).toEqual([['rw-', 'r-x']]);
      expectThrow(() => s.execmemRestoreRox(s.execmemAllocRw('MODULE_DATA', 10), 10), InvalidArgumentError);
    });

    it('free unmaps (vmalloc path) and resets the alias; double and foreign frees are typed errors', () => {
      const s = space(arch, { roxCache: arch === 'x86_64' ? false : undefined });
      const a = s.execmemAlloc('BPF', 4096);
      const host = (s.pageInfo(a) as { hostOffset: number }).hostOffset;
      const alias = s.config.directMapBase + host;
      expect(s.pageInfo(alias)?.perm).toBe(PERM_RO);
      s.execmemFree(a);
      expect(s.pageInfo(a)).toBeNull();
      expect(s.pageInfo(alias)?.perm).toBe(PERM_RW);
      expectThrow(() => s.execmemFree(a), DoubleFreeError);
      expectThrow(() => s.execmemFree(a + 4096 * 1000), ForeignFreeError);
      const b = s.execmemAlloc('BPF', 8192);
      expectThrow(() => s.execmemFree(b + 4096), ForeignFreeError);
    });

    it('placement is lowest first fit with a guard page; freed holes are reused', () => {
      const s = space(arch, { roxCache: arch === 'x86_64' ? false : undefined });
      const a = s.execmemAlloc('BPF', 4096);
      const b = s.execmemAlloc('BPF', 4096);
      const c = s.execmemAlloc('BPF', 4096);
      expect(b - a).toBe(2 * PAGE_SIZE);
      expect(c - b).toBe(2 * PAGE_SIZE);
      s.execmemFree(b);
      expect(s.execmemAlloc('BPF', 100)).toBe(b);
      expect(s.execmemAlloc('BPF', 8192)).toBe(c + 2 * PAGE_SIZE);
    });

    it('sizes: zero, negative, fractional, NaN and larger than the range are refused', () => {
      const s = space(arch);
      for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) expectThrow(() => s.execmemAlloc('BPF', bad), InvalidArgumentError);
      expectThrow(() => s.execmemAlloc('MODULE_TEXT', 4 * 1024 * 1024 * 1024), InvalidArgumentError);
      expectThrow(() => s.execmemAlloc('NOPE' as 'BPF', 10), InvalidArgumentError);
    });
  });
}

describe('arm64 module windows', () => {
  it('MODULE_TEXT falls back to the PLT window when the 128 MiB direct window is full', () => {
    const s = space('arm64', { kaslr: false });
    const r = s.execmem.range('MODULE_TEXT');
    const direct: number[] = [];
    for (;;) {
      const a = s.execmemAlloc('MODULE_DATA', 16 * 1024 * 1024);
      if (a < r.start || a >= r.end) {
        expect(a).toBeGreaterThanOrEqual(r.fallbackStart as number);
        expect(a).toBeLessThan(r.fallbackEnd as number);
        break;
      }
      direct.push(a);
    }
    // 128 MiB window minus the 32 MiB image: five 16 MiB areas (each with its guard page) fit.
    expect(direct.length).toBe(5);
    const t = s.execmemAlloc('MODULE_TEXT', 4096);
    expect(t).toBeGreaterThanOrEqual(r.start);
  });

  it('without a fallback window a full range is ExecmemExhaustedError and nothing changes', () => {
    const s = space('arm64', { randomizeModuleRegionFull: true, seed: 9 });
    const r = s.execmem.range('MODULE_TEXT');
    expect(r.fallbackStart).toBeNull();
    const reserved: number[] = [];
    for (let size = 1024 * 1024 * 1024; size >= PAGE_SIZE; size /= 2) {
      for (;;) {
        try {
          reserved.push(s.execmem.reserveVa('MODULE_DATA', size));
        } catch (e) {
          expect(e).toBeInstanceOf(ExecmemExhaustedError);
          break;
        }
      }
    }
    expect(reserved.every((a) => a >= r.start && a < r.end)).toBe(true);
    const before = s.stateDigest();
    expectThrow(() => s.execmemAlloc('MODULE_TEXT', PAGE_SIZE), ExecmemExhaustedError);
    expect(s.stateDigest()).toBe(before);
    const last = reserved[reserved.length - 1] as number;
    s.execmem.releaseVa(last);
    expect(s.execmemAlloc('MODULE_TEXT', PAGE_SIZE)).toBe(last);
  });
});

describe('x86_64 ROX cache', () => {
  it('serves MODULE_TEXT, KPROBES and FTRACE from 2 MiB ROX blocks, first fit from the low end', () => {
    const s = space('x86_64');
    expect(s.execmemIsRox('MODULE_TEXT')).toBe(true);
    expect(s.execmemIsRox('BPF')).toBe(false);
    const a = s.execmemAlloc('MODULE_TEXT', 3 * 4096);
    const b = s.execmemAlloc('KPROBES', 4096);
    const c = s.execmemAlloc('FTRACE', 2 * 4096);
    expect(Math.abs(a % HUGE_PAGE_SIZE)).toBe(0);
    expect(b).toBe(a + 3 * 4096);
    expect(c).toBe(b + 4096);
    expect(s.pageInfo(a)).toMatchObject({ perm: PERM_ROX, huge: true });
    const cache = s.roxCache!;
    expect(cache.busyBlocks()).toEqual([
      { start: a, size: 12288 },
      { start: b, size: 4096 },
      { start: c, size: 8192 },
    ]);
    expect(cache.freeIntervals()).toEqual([{ start: c + 8192, size: HUGE_PAGE_SIZE - 6 * 4096 }]);
    expect(s.audit().ok).toBe(true);
  });

  it('free: NX, RW, trap fill, reseal ROX, merge neighbours; a fully free 2 MiB block is released', () => {
    const s = space('x86_64');
    const a = s.execmemAllocRw('MODULE_TEXT', 4096);
    s.write(a, Uint8Array.of(0x55, 0x48, 0x89, 0xe5));
    s.execmemRestoreRox(a, 4096);
    const b = s.execmemAlloc('KPROBES', 4096);
    const c = s.execmemAlloc('KPROBES', 4096);
    s.textPokeCopy(b, Uint8Array.of(0x90, 0xc3));
    s.execmemFree(b);
    expect(s.read(b, 4096)).toEqual(trapBytes('x86_64', 4096));
    expect(s.pageInfo(b)).toMatchObject({ perm: PERM_ROX });
    const st = s.stats();
    expect(st.vmapSplits).toBeGreaterThan(0);
    expect(st.vmapCollapses).toBe(st.vmapSplits); // set_memory_rox re-merges the 2 MiB leaf
    expect(s.pageInfo(b)?.huge).toBe(true);
    s.execmemFree(a);
    const cache = s.roxCache!;
    expect(cache.freeIntervals()[0]).toEqual({ start: a, size: 2 * 4096 });
    expect(s.execmemAlloc('FTRACE', 8192)).toBe(a);
    s.execmemFree(a);
    s.execmemFree(c);
    expect(cache.cacheAreas().length).toBe(0);
    expect(cache.released).toBe(1);
    expect(s.pageInfo(a)).toBeNull();
    expect(s.audit().ok).toBe(true);
  });

  it('a block larger than 2 MiB populates a rounded-up area; BPF joins the cache behind the flag', () => {
    const s = space('x86_64', { bpfFromRoxCache: true });
    const a = s.execmemAlloc('MODULE_TEXT', 3 * 1024 * 1024);
    expect(s.roxCache!.cacheAreas()[0]?.size).toBe(4 * 1024 * 1024);
    const p = s.execmemAlloc('BPF', 4096);
    expect(s.execmem.allocationAt(p)?.source).toBe('rox-cache');
    expect(p).toBe(a + 3 * 1024 * 1024);
  });
});
