import { describe, expect, it } from 'vitest';
import { buildConfig, EXECMEM_KASAN_SHADOW, EXECMEM_ROX_CACHE, kaddr, PERM_ROX, PERM_RW } from '../../execmem/index.js';
import { InvalidArgumentError } from '../../support/errors.js';
import { hexAddr } from '../../support/u64.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe('x86_64 configuration (reference §1.1)', () => {
  it('KASLR build: module base = MODULES_VADDR + k*4 KiB with k in [1, 1024], same seed same k', () => {
    const seen = new Set<number>();
    for (let seed = 0; seed < 200; seed++) {
      const c = buildConfig({ arch: 'x86_64', seed });
      expect(c.kaslrPages).toBeGreaterThanOrEqual(1);
      expect(c.kaslrPages).toBeLessThanOrEqual(1024);
      expect(c.ranges.MODULE_TEXT.start).toBe(kaddr('0xffffffffc0000000') + c.kaslrPages * 4096);
      expect(buildConfig({ arch: 'x86_64', seed }).kaslrPages).toBe(c.kaslrPages);
      seen.add(c.kaslrPages);
    }
    expect(seen.size).toBeGreaterThan(100);
  });

  it('ranges, protections, flags and alignment follow the table', () => {
    const c = buildConfig({ arch: 'x86_64', seed: 3 });
    expect(hexAddr(c.modulesEnd)).toBe('0xffffffffff000000');
    expect(c.modulesEnd - c.modulesVaddr).toBe(1008 * MiB);
    expect(c.kernelTextMapSize).toBe(GiB);
    for (const t of ['MODULE_TEXT', 'FTRACE', 'KPROBES'] as const) {
      expect(c.ranges[t].pgprot).toBe(PERM_ROX);
      expect(c.ranges[t].flags).toBe(EXECMEM_KASAN_SHADOW | EXECMEM_ROX_CACHE);
    }
    expect(c.ranges.BPF.flags).toBe(EXECMEM_KASAN_SHADOW);
    expect(c.ranges.MODULE_DATA.pgprot).toBe(PERM_RW);
    for (const r of Object.values(c.ranges)) {
      expect(r.alignment).toBe(4096);
      expect(r.end).toBe(c.modulesEnd);
      expect(r.fallbackStart).toBeNull();
    }
    expect(c.modulesEnd - c.kernelTextMap).toBeLessThan(2 * GiB);
  });

  it('non-KASLR build and ROX cache switched off', () => {
    const c = buildConfig({ arch: 'x86_64', seed: 3, kaslr: false, roxCache: false });
    expect(hexAddr(c.ranges.MODULE_TEXT.start)).toBe('0xffffffffa0000000');
    expect(c.modulesEnd - c.modulesVaddr).toBe(1520 * MiB);
    expect(c.kernelTextMapSize).toBe(512 * MiB);
    expect(c.ranges.MODULE_TEXT.pgprot).toBe(PERM_RW);
    expect(c.ranges.MODULE_TEXT.flags).toBe(EXECMEM_KASAN_SHADOW);
    expect(c.ranges.KPROBES.pgprot).toBe(PERM_ROX);
    expect(buildConfig({ arch: 'x86_64', seed: 3, bpfFromRoxCache: true }).ranges.BPF.flags & EXECMEM_ROX_CACHE).toBe(EXECMEM_ROX_CACHE);
  });

  it('the poking address is a user-half page whose next page does not start a PMD', () => {
    for (let seed = 0; seed < 50; seed++) {
      const c = buildConfig({ arch: 'x86_64', seed });
      expect(c.pokingAddr % 4096).toBe(0);
      expect(c.pokingAddr).toBeGreaterThan(0);
      expect(c.pokingAddr + 3 * 4096).toBeLessThanOrEqual(0x7ffffffff000);
      expect((c.pokingAddr + 4096) % (2 * MiB)).not.toBe(0);
    }
  });
});

describe('arm64 configuration (reference §1.2)', () => {
  it('without KASLR: direct [end-128M, end), PLT fallback [end-2G, end) around a 32 MiB image', () => {
    const c = buildConfig({ arch: 'arm64', seed: 1, kaslr: false });
    const end = kaddr('0xffff800080000000') + c.kernelImageSize;
    expect(c.ranges.MODULE_TEXT.start).toBe(end - 128 * MiB);
    expect(c.ranges.MODULE_TEXT.end).toBe(end);
    expect(c.ranges.MODULE_TEXT.fallbackStart).toBe(end - 2 * GiB);
    expect(c.ranges.MODULE_TEXT.fallbackEnd).toBe(end);
    expect(c.ranges.MODULE_DATA.pgprot).toBe(PERM_RW);
    expect(c.ranges.MODULE_TEXT.pgprot).toBe(PERM_RW);
    expect(c.ranges.KPROBES.pgprot).toBe(PERM_ROX);
    expect(hexAddr(c.ranges.BPF.start)).toBe('0xffff800080000000');
    expect(hexAddr(c.ranges.BPF.end)).toBe('0xfffffbfff0000000');
    expect(c.ranges.BPF.pgprot).toBe(PERM_RW);
    expect(c.ranges.FTRACE).toEqual({ ...c.ranges.MODULE_TEXT, type: 'FTRACE' });
  });

  it('with KASLR: seeded random boxes that contain the image (direct) and the direct window (PLT)', () => {
    const starts = new Set<number>();
    for (let seed = 0; seed < 100; seed++) {
      const c = buildConfig({ arch: 'arm64', seed });
      const r = c.ranges.MODULE_TEXT;
      expect(r.end - r.start).toBe(128 * MiB);
      expect(r.start).toBeLessThanOrEqual(c.kernelTextBase);
      expect(r.end).toBeGreaterThanOrEqual(c.kernelTextBase + c.kernelImageSize);
      expect(Math.abs((r.start - c.kernelTextBase) % 4096)).toBe(0);
      expect((r.fallbackEnd as number) - (r.fallbackStart as number)).toBe(2 * GiB);
      expect(r.fallbackStart as number).toBeLessThanOrEqual(r.start);
      expect(r.fallbackEnd as number).toBeGreaterThanOrEqual(r.end);
      expect(buildConfig({ arch: 'arm64', seed }).ranges.MODULE_TEXT).toEqual(r);
      starts.add(r.start);
    }
    expect(starts.size).toBeGreaterThan(50);
  });

  it('RANDOMIZE_MODULE_REGION_FULL: only the 2 GiB window, no fallback', () => {
    const c = buildConfig({ arch: 'arm64', seed: 5, randomizeModuleRegionFull: true });
    const r = c.ranges.MODULE_TEXT;
    expect(r.end - r.start).toBe(2 * GiB);
    expect(r.fallbackStart).toBeNull();
  });

  it('refuses the ROX cache and unknown arches', () => {
    expect(() => buildConfig({ arch: 'arm64', roxCache: true })).toThrow(InvalidArgumentError);
    expect(() => buildConfig({ arch: 'mips' as 'arm64' })).toThrow(InvalidArgumentError);
  });
});
