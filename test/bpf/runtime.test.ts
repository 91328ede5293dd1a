// runtime.ts: region placement (kernel-like addresses, never across 4 GiB), lookups by (lo, hi, len),
// overlap rejection, helper-side checked reads/writes, and the tail-call rejection with the kernel
// profile's helper 12.
import { describe, expect, it } from 'vitest';
import { assemble } from '../../jit/bpf/asm.js';
import { kernelProfile } from '../../jit/bpf/helpers-kernel.js';
import { BpfInterpreter } from '../../jit/bpf/interp.js';
import { BpfUnsupportedError } from '../../jit/bpf/isa.js';
import { BpfAddressSpace, BpfRuntimeError, DefaultRegionAllocator, DIRECT_MAP_BASE, VMALLOC_BASE } from '../../jit/bpf/runtime.js';
import { vaddrToPair } from '../../support/u64.js';

describe('regions', () => {
  it('the default allocator places data in the direct map and stacks in vmalloc space', () => {
    const a = new DefaultRegionAllocator();
    const d = a.allocate(100, 'in', true, 'input');
    const s = a.allocate(4096, 'stack', true, 'stack');
    expect(d.base).toBeGreaterThanOrEqual(DIRECT_MAP_BASE);
    expect(d.base).toBeLessThan(VMALLOC_BASE);
    expect(s.base).toBeGreaterThanOrEqual(VMALLOC_BASE);
    expect(d.bytes.length).toBe(100);
    expect(() => a.allocate(-1, 'x', true)).toThrow(BpfRuntimeError);
  });
  it('regions never cross a 4 GiB boundary', () => {
    const a = new DefaultRegionAllocator();
    for (let k = 0; k < 40; k++) {
      const r = a.allocate(0x8000000, `big${k}`, true);
      const { lo } = vaddrToPair(r.base);
      expect(lo + r.bytes.length).toBeLessThanOrEqual(0x100000000);
    }
  });
  it('lookups by (lo, hi, len) find exactly the covering region; overlaps are rejected', () => {
    const a = new DefaultRegionAllocator();
    const sp = new BpfAddressSpace();
    const r = sp.add(a.allocate(16, 'r', false));
    const { lo, hi } = vaddrToPair(r.base);
    expect(sp.find(lo, hi, 16)).toBe(r);
    expect(sp.find(lo + 8, hi | 0, 8)).toBe(r);
    expect(sp.find(lo + 9, hi, 8)).toBeNull();
    expect(sp.find(lo - 1, hi, 1)).toBeNull();
    expect(sp.find(lo, hi + 1, 1)).toBeNull();
    expect(() => sp.add({ name: 'o', base: r.base + 8, bytes: new Uint8Array(8), writable: true })).toThrow(/overlaps region "r"/);
    expect(() => sp.write(lo, hi, Uint8Array.of(1))).toThrow(/outside writable program memory/);
    expect(() => sp.read(lo + 12, hi, 8)).toThrow(/outside program memory/);
    expect(sp.read(0, 0, 0).length).toBe(0);
  });
});

describe('tail calls', () => {
  it('bpf_tail_call (kernel helper 12) is a clear UnsupportedError at load time', () => {
    expect(() => new BpfInterpreter(assemble('call 12\nexit'), kernelProfile)).toThrow(BpfUnsupportedError);
    expect(() => new BpfInterpreter(assemble('call 12\nexit'), kernelProfile)).toThrow(/bpf_tail_call/);
  });
});
