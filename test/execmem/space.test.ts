import { describe, expect, it } from 'vitest';
import {
  ARCHES,
  PAGE_SIZE,
  PageFault,
  PERM_RO,
  PERM_ROX,
  PERM_RW,
  WxViolationError,
  DoubleFreeError,
  ForeignFreeError,
  StaleIcacheFault,
} from '../../execmem/index.js';
import { InvalidArgumentError } from '../../support/errors.js';
import { expectThrow, space, trapBytes } from './helpers.js';

for (const arch of ARCHES) {
  describe(`address space (${arch})`, () => {
    it('vmalloc gives zeroed RW+NX memory that reads, writes and faults as the page tables say', () => {
      const s = space(arch);
      const a = s.vmalloc(5000, 'buffer');
      // arm64's kernel image sits at the start of vmalloc: the first area follows it and its guard page.
      expect(a).toBe(arch === 'x86_64' ? s.config.vmallocStart : s.kernelTextBase + s.config.kernelImageSize + PAGE_SIZE);
      expect(s.pageInfo(a)).toMatchObject({ perm: PERM_RW, huge: false });
      expect(s.pageInfo(a + 4096)).toMatchObject({ perm: PERM_RW });
      expect(s.pageInfo(a + 8192)).toBeNull(); // guard page
      expect(Array.from(s.read(a, 16))).toEqual(new Array(16).fill(0));
      s.write(a + 4090, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
      expect(Array.from(s.read(a + 4090, 8))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      const host = s.translate(a + 4093, 'read');
      expect(new Uint8Array(s.memory.buffer)[host]).toBe(4);
      const f = expectThrow(() => s.translate(a, 'fetch'), PageFault);
      expect(f.access).toBe('fetch');
      expect(f.perm).toBe(PERM_RW);
      expect(f.address).toBe(a);
      const g = expectThrow(() => s.read(a + 8190, 4), PageFault);
      expect(g.address).toBe(a + 8192);
      expect(g.perm).toBeNull();
    });

    it('vfree unmaps, refuses double and foreign frees', () => {
      const s = space(arch);
      const a = s.vmalloc(100);
      const b = s.vmalloc(100);
      expect(b).toBe(a + 2 * PAGE_SIZE);
      s.vfree(a);
      expect(s.pageInfo(a)).toBeNull();
      expectThrow(() => s.vfree(a), DoubleFreeError);
      expectThrow(() => s.vfree(b + 4), ForeignFreeError);
      expect(s.vmalloc(10)).toBe(a);
    });

    it('kernel text is mapped ROX and trap-filled; symbols get distinct 16-byte aligned addresses', () => {
      const s = space(arch);
      const h = s.defineKernelSymbol('bpf_map_lookup_elem', 40);
      const k = s.defineKernelSymbol('bpf_ktime_get_ns', 24, Uint8Array.from([0xc3, 0, 0, 0]));
      expect(h).toBe(s.kernelTextBase);
      expect(k).toBe(s.kernelTextBase + 48);
      expect(s.pageInfo(h)).toMatchObject({ perm: PERM_ROX });
      expect(s.read(h, 40)).toEqual(trapBytes(arch, 40));
      expect(Array.from(s.read(k, 4))).toEqual([0xc3, 0, 0, 0]);
      expect(s.kernelSymbolAt(k + 3)?.name).toBe('bpf_ktime_get_ns');
      expect(s.kernelSymbol('bpf_map_lookup_elem')?.address).toBe(h);
      expectThrow(() => s.defineKernelSymbol('bpf_map_lookup_elem', 8), InvalidArgumentError);
      const far = s.defineKernelSymbol('big', 200_000);
      expect(s.pageInfo(far + 199_999)).toMatchObject({ perm: PERM_ROX });
      expect(s.audit().ok).toBe(true);
    });

    it('the direct-map alias is never executable and turns read-only with the code it aliases', () => {
      const s = space(arch);
      const code = s.execmemAlloc('KPROBES', 4096);
      const frameOff = (s.pageInfo(code) as { hostOffset: number }).hostOffset;
      const alias = s.config.directMapBase + frameOff;
      expect(s.pageInfo(alias)).toMatchObject({ perm: PERM_RO, hostOffset: frameOff });
      expectThrow(() => s.write(alias, Uint8Array.of(0x90)), PageFault);
      expectThrow(() => s.translate(alias, 'fetch'), PageFault);
      s.execmemFree(code);
      if (s.roxCache === null) expect(s.pageInfo(alias)).toMatchObject({ perm: PERM_RW });
      const data = s.vmalloc(4096);
      const dOff = (s.pageInfo(data) as { hostOffset: number }).hostOffset;
      expect(s.pageInfo(s.config.directMapBase + dOff)).toMatchObject({ perm: PERM_RW });
    });

    it('set_memory refuses W+X in either order and leaves the page as it was', () => {
      const s = space(arch);
      const rw = s.execmemAllocRw('MODULE_TEXT', 4096);
      const before = s.stateDigest();
      const e = expectThrow(() => s.setMemory(rw, 1, 'x'), WxViolationError);
      expect(e.page).toBe(rw);
      expect(s.stateDigest()).toBe(before);
      s.execmemRestoreRox(rw, 4096);
      expect(s.pageInfo(rw)?.perm).toBe(PERM_ROX);
      expectThrow(() => s.setMemory(rw, 1, 'rw'), WxViolationError);
      s.setMemory(rw, 1, 'nx');
      s.setMemory(rw, 1, 'rw');
      expect(s.pageInfo(rw)?.perm).toBe(PERM_RW);
      expect(s.audit().ok).toBe(true);
    });

    it('listeners hear mapping changes, code writes and growth; unsubscribe stops them', () => {
      const s = space(arch);
      const events: string[] = [];
      const off = s.subscribe({
        mappingChanged: (a, n) => events.push(`map ${a} ${n}`),
        codeWritten: (a, n) => events.push(`code ${a} ${n}`),
        memoryGrown: () => events.push('grown'),
      });
      const a = s.execmemAlloc('KPROBES', 4096);
      expect(events.some((e) => e.startsWith(`map ${a} `))).toBe(true);
      events.length = 0;
      s.textPokeCopy(a + 8, Uint8Array.of(1, 2, 3, 4));
      expect(events).toContain(`code ${a + 8} 4`);
      const oldBuffer = s.memory.buffer;
      s.vmalloc(32 * 1024 * 1024);
      expect(events).toContain('grown');
      expect(s.memory.buffer).not.toBe(oldBuffer);
      expect(Array.from(s.read(a + 8, 4))).toEqual([1, 2, 3, 4]);
      off();
      events.length = 0;
      s.vmalloc(10);
      expect(events).toEqual([]);
    });

    it('permission runs and stats describe the mapping', () => {
      const s = space(arch);
      const a = s.vmalloc(3 * 4096, 'three');
      const runs = s.permissionRuns().filter((r) => r.label === 'three');
      expect(runs).toEqual([{ start: a, end: a + 3 * 4096, perm: PERM_RW, huge: false, kind: 'vmalloc', label: 'three' }]);
      const st = s.stats();
      expect(st.mappedPages).toBe(16 + 3);
      expect(st.executablePages).toBe(16);
    });
  });
}

describe('arm64 instruction cache', () => {
  it('a raw instruction write leaves its line stale until flushIcacheRange; copies flush themselves', () => {
    const s = space('arm64');
    const a = s.execmemAlloc('KPROBES', 4096);
    expect(s.staleIcacheLine(a, 4096)).toBeNull();
    s.insnWriteRaw(a + 68, 0xd503201f);
    expect(s.staleIcacheLine(a, 4096)).toBe(a + 64);
    expect(s.staleIcacheLine(a, 64)).toBeNull();
    const fault = new StaleIcacheFault(a + 68, a + 64);
    expect(fault.kind).toBe('stale-icache');
    s.flushIcacheRange(a + 64, 4);
    expect(s.staleIcacheLine(a, 4096)).toBeNull();
    s.patchTextNosync(a + 128, 0xd503201f);
    expect(s.staleIcacheLine(a, 4096)).toBeNull();
    s.textPokeCopy(a + 256, new Uint8Array(8), { flush: false });
    expect(s.staleIcacheLine(a, 4096)).toBe(a + 256);
    s.textPokeCopy(a + 512, new Uint8Array(8));
    expect(s.staleIcacheLine(a + 512, 8)).toBeNull();
    expect(s.audit().rawInsnWrites).toBe(2);
  });

  it('x86 fetch is coherent: never a stale line', () => {
    const s = space('x86_64');
    const a = s.execmemAlloc('KPROBES', 4096);
    s.textPokeCopy(a, Uint8Array.of(0x90), { flush: false });
    expect(s.staleIcacheLine(a, 4096)).toBeNull();
  });
});

describe('direct-map splitting (x86_64 2 MiB direct map)', () => {
  it('sealing one page splits its 2 MiB direct-map page once; a whole 2 MiB pack does not split', () => {
    const s = space('x86_64', { roxCache: false });
    const before = s.stats().directMapSplits;
    const a = s.execmemAlloc('BPF', 4096);
    const after = s.stats().directMapSplits;
    expect(after - before).toBeLessThanOrEqual(1);
    s.execmemAlloc('BPF', 4096);
    expect(s.stats().directMapSplits).toBe(after);
    const pack = s.execmem.alloc('BPF', 2 * 1024 * 1024, { huge: true });
    expect(s.stats().directMapSplits).toBe(after);
    expect(s.pageInfo(pack)?.huge).toBe(true);
    expect(s.pageInfo(a)?.huge).toBe(false);
  });
});
