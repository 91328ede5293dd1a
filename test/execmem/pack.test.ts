import { describe, expect, it } from 'vitest';
import {
  ARCHES,
  BPF_PROG_CHUNK_COUNT,
  BPF_PROG_PACK_SIZE,
  BpfJitBudgetError,
  DoubleFreeError,
  ForeignFreeError,
  PAGE_SIZE,
  PERM_ROX,
  PERM_RW,
} from '../../execmem/index.js';
import { InvalidArgumentError } from '../../support/errors.js';
import { expectThrow, space, trapBytes, words } from './helpers.js';

for (const arch of ARCHES) {
  describe(`bpf_prog_pack (${arch})`, () => {
    it('pack alloc: header, size rounding, random start in the hole, RW staging buffer', () => {
      const s = space(arch);
      const starts = new Set<number>();
      for (let i = 0; i < 60; i++) {
        const len = 100 + i;
        const b = s.packs.binaryPackAlloc(len, 4);
        expect(b.size).toBe(Math.ceil((len + 8 + 16) / 64) * 64);
        expect(Math.abs(b.header % 64)).toBe(0);
        const start = b.image - b.header - 8;
        expect(start % 4).toBe(0);
        expect(start).toBeLessThan(Math.min(b.size - len - 8, 56));
        expect(b.image - b.header).toBe(b.rwImageOffset);
        expect(b.image + len).toBeLessThanOrEqual(b.header + b.size);
        expect(b.rw.length).toBe(b.size);
        expect(new DataView(b.rw.buffer, b.rw.byteOffset).getUint32(0, true)).toBe(b.size);
        expect(b.rw.subarray(4)).toEqual(trapBytes(arch, b.size).subarray(4));
        expect(s.read(b.header, b.size)).toEqual(trapBytes(arch, b.size)); // RO chunk: traps until finalize
        starts.add(start);
      }
      expect(starts.size).toBeGreaterThan(3);
    });

    it('finalize copies the whole image with text_poke_copy; free invalidates with traps', () => {
      const s = space(arch);
      const b = s.packs.binaryPackAlloc(200);
      const body = words(arch, 200);
      b.rw.set(body, b.rwImageOffset);
      const staged = b.rw.slice();
      s.packs.binaryPackFinalize(b);
      expect(b.finalized).toBe(true);
      expect(b.rw.length).toBe(0);
      expect(s.read(b.header, b.size)).toEqual(staged);
      expect(s.pageInfo(b.image)?.perm).toBe(PERM_ROX);
      expectThrow(() => s.packs.binaryPackFinalize(b), InvalidArgumentError);
      const keep = s.packs.binaryPackAlloc(64);
      s.packs.binaryPackFinalize(keep);
      s.packs.binaryPackFree(b.image);
      expect(s.read(b.header, b.size)).toEqual(trapBytes(arch, b.size));
      expectThrow(() => s.packs.binaryPackFree(b.image), DoubleFreeError);
      expectThrow(() => s.packs.binaryPackFree(keep.header + 64 * 100), ForeignFreeError);
      expect(s.audit().ok).toBe(true);
    });

    it('first fit across packs, a new pack when full, released as soon as it is empty', () => {
      const s = space(arch);
      const big = s.packs.binaryPackAlloc(BPF_PROG_PACK_SIZE / 2 - 100);
      const big2 = s.packs.binaryPackAlloc(BPF_PROG_PACK_SIZE / 2 - 100);
      expect(s.packs.packList().length).toBe(1);
      const third = s.packs.binaryPackAlloc(BPF_PROG_PACK_SIZE / 4);
      expect(s.packs.packList().length).toBe(2);
      const small = s.packs.binaryPackAlloc(10);
      expect(small.header).toBe(big2.header + big2.size); // the gap left in pack 1 comes first
      for (const b of [big, big2, small]) s.packs.binaryPackFinalize(b);
      s.packs.binaryPackFinalize(third);
      const pack1 = s.packs.packList()[0]!.base;
      s.packs.binaryPackFree(big.image);
      s.packs.binaryPackFree(big2.image);
      expect(s.packs.packList().length).toBe(2);
      s.packs.binaryPackFree(small.image);
      expect(s.packs.packList().length).toBe(1);
      expect(s.pageInfo(pack1)).toBeNull();
      expect(s.packs.packsReleased).toBe(1);
      expectThrow(() => s.packs.binaryPackFree(small.image), DoubleFreeError);
      expect(s.packs.report()[0]).toMatchObject({ programs: 1, usedChunks: third.size / 64 });
      expect(s.packs.report()[0]!.utilisation).toBeCloseTo(third.size / 64 / BPF_PROG_CHUNK_COUNT, 6);
    });

    it('a pack is one 2 MiB leaf with hugePacks, 512 pages without', () => {
      const huge = space(arch);
      const b = huge.packs.binaryPackAlloc(64);
      expect(huge.pageInfo(b.header)?.huge).toBe(true);
      const small = space(arch, { hugePacks: false });
      const c = small.packs.binaryPackAlloc(64);
      expect(small.pageInfo(c.header)?.huge).toBe(false);
    });

    it('a program larger than a pack gets its own page-rounded ROX allocation', () => {
      const s = space(arch);
      const b = s.packs.binaryPackAlloc(BPF_PROG_PACK_SIZE + 10);
      expect(s.packs.packList().length).toBe(0);
      expect(s.execmem.allocationAt(b.header)?.size).toBe(BPF_PROG_PACK_SIZE + PAGE_SIZE);
      b.rw.set(words(arch, 64), b.rwImageOffset);
      s.packs.binaryPackFinalize(b);
      s.packs.binaryPackFree(b.header);
      expect(s.pageInfo(b.header)).toBeNull();
      expect(s.packs.budgetUsed).toBe(0);
    });

    it('freeing an unfinalized image first poke-copies the header size (JIT error path)', () => {
      const s = space(arch);
      const b = s.packs.binaryPackAlloc(300);
      expectThrow(() => s.packs.binaryPackFree(b.image), InvalidArgumentError);
      s.packs.binaryPackFree(b);
      expect(s.packs.livePrograms()).toBe(0);
      expect(s.packs.packList().length).toBe(0);
    });

    it('page path: RW fill, write in place, seal ROX, free', () => {
      const s = space(arch);
      const b = s.packs.binaryAlloc(1000);
      expect(b.size).toBe(PAGE_SIZE);
      expect(s.pageInfo(b.header)?.perm).toBe(PERM_RW);
      expect(b.image - b.header - 8).toBeLessThan(Math.min(b.size - 1000 - 8, 4088));
      const body = words(arch, 1000);
      s.write(b.image, body);
      s.packs.binaryLockRo(b.header);
      expect(s.pageInfo(b.image)?.perm).toBe(PERM_ROX);
      expect(s.read(b.image, 1000)).toEqual(body);
      expect(s.read(b.image + 1000, 4).length).toBe(4);
      s.packs.binaryFree(b.image);
      expect(s.pageInfo(b.header)).toBeNull();
      expectThrow(() => s.packs.binaryFree(b.image), DoubleFreeError);
      expect(s.audit().ok).toBe(true);
    });

    it('the JIT budget is half the exec range; unprivileged loaders over it are refused', () => {
      const s = space(arch);
      const c = s.config;
      expect(s.packs.budgetLimit).toBe(arch === 'x86_64' ? (c.modulesEnd - c.modulesVaddr) / 2 : (c.vmallocEnd - c.vmallocStart) / 2);
      if (arch === 'x86_64') expect(s.packs.budgetLimit).toBe(504 * 1024 * 1024);
      s.packs.budgetUsed = s.packs.budgetLimit - 64;
      const before = s.stateDigest();
      expectThrow(() => s.packs.binaryPackAlloc(100, 4, false), BpfJitBudgetError);
      expect(s.stateDigest()).toBe(before);
      s.packs.binaryPackAlloc(100, 4, true);
    });
  });
}
