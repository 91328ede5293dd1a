// The memory-hierarchy model driven by the real cores: fetches per executed instruction, loads and
// stores per access, and the software-prefetch hooks (x86 prefetcht0/nta, arm64 prfm PLD/PLI/PST
// in its literal, unsigned-offset, unscaled and register-offset forms).

import { beforeAll, describe, expect, it } from 'vitest';
import { AddressSpace } from '../../execmem/index.js';
import type { Arch } from '../../execmem/types.js';
import { createCpu } from '../../emulator/index.js';
import { MemoryHierarchy, PRESETS } from '../../emulator/hierarchy/index.js';
import { initCapstone } from '../../support/capstone.js';
import { hexToBytes, vaddrToPair } from '../../support/u64.js';

beforeAll(async () => {
  await initCapstone();
});

function setup(arch: Arch, hex: string): { run: (args: number[]) => MemoryHierarchy; data: number; code: number; h: MemoryHierarchy; space: AddressSpace } {
  const space = new AddressSpace({ arch, seed: 3 });
  const code = hexToBytes(hex)!;
  const entry = space.execmemAlloc('BPF', code.length);
  space.textPokeCopy(entry, code);
  if (arch === 'arm64') space.flushIcacheRange(entry, code.length);
  const data = space.vmalloc(8192, 'hierarchy test data');
  const cpu = createCpu(arch, space);
  const h = new MemoryHierarchy(space, PRESETS.skylake);
  return {
    h,
    space,
    data,
    code: entry,
    run: (args) => {
      cpu.call(entry, args.map((a) => vaddrToPair(a)), { observer: h });
      return h;
    },
  };
}

describe('software prefetch reaches the model', () => {
  it('x86 prefetcht0 [rdi] makes the following load hit', () => {
    // prefetcht0 [rdi]; prefetchnta [rdi+64]; mov rax,[rdi]; mov rax,[rdi+64]; ret
    const t = setup('x86_64', '0f 18 0f 0f 18 47 40 48 8b 07 48 8b 47 40 c3');
    const s = t.run([t.data]).stats();
    expect(s.insns).toBe(5);
    expect(s.prefetches).toBe(2);
    // Both loads hit the prefetched lines; the ret's load of the return address (pushed by the call
    // setup, which is the caller's store and not observed) is the only L1d miss.
    expect(s.l1d).toEqual({ accesses: 3, misses: 1 });
    expect(s.storeL1d).toEqual({ accesses: 0, misses: 0 });
    expect(t.h.l1d.contains(t.data + 64)).toBe(true);
  });

  it('without the prefetch the same loads miss', () => {
    // nop dword [rax]; nop dword [rax]: same length as the prefetches, then the loads
    const t = setup('x86_64', '0f 1f 00 0f 1f 40 00 48 8b 07 48 8b 47 40 c3');
    const s = t.run([t.data]).stats();
    expect(s.prefetches).toBe(0);
    expect(s.l1d).toEqual({ accesses: 3, misses: 3 });
  });

  it('arm64 prfm forms: PLD and PST prefetch data, PLI prefetches code', () => {
    // prfm pldl1keep,[x0]; prfum pldl1keep,[x0,#-8]; prfm pstl1keep,[x0,x1,lsl #3];
    // prfm plil1keep,[x1,#64]; ldr x0,[x0]; ret
    const t = setup('arm64', '00 00 80 f9 00 80 9f f8 10 78 a1 f8 28 20 80 f9 00 00 40 f9 c0 03 5f d6');
    const x1 = 64; // x0 + x1*8 = data + 512; plil1keep [x1, #64] -> code prefetch at 128 (unmapped: ignored)
    const s = t.run([t.data + 0x1000, x1]).stats();
    expect(s.prefetches).toBe(4);
    expect(t.h.l1d.contains(t.data + 0x1000 - 8)).toBe(true);
    expect(t.h.l1d.contains(t.data + 0x1000 + 512)).toBe(true);
    expect(s.l1d).toEqual({ accesses: 1, misses: 0 });
  });

  it('arm64 prfm plil1keep fills the L1i', () => {
    // prfm plil1keep,[x1,#64]; ret  (x1 = code address: prefetches the line 64 bytes on)
    const t = setup('arm64', '28 20 80 f9 c0 03 5f d6');
    t.run([0, t.code]);
    expect(t.h.l1i.contains(t.code + 64)).toBe(true);
    expect(t.h.l1d.contains(t.code + 64)).toBe(false);
  });

  it('arm64 prfm literal prefetches pc-relative', () => {
    // prfm pldl1keep, #+0x100 ; ret  (0xd8000800: imm19 = 0x40 words)
    const t = setup('arm64', '00 08 00 d8 c0 03 5f d6');
    t.run([]);
    expect(t.h.l1d.contains(t.code + 0x100)).toBe(true);
    expect(t.h.stats().prefetches).toBe(1);
  });
});

describe('fetch accounting on the cores', () => {
  it('counts one fetch per executed instruction and loads/stores per access', () => {
    // loop: mov [rdi+rcx*8], rcx ; add rax,[rdi+rcx*8] ; dec rcx ; jnz loop ; ret  (rcx = 16)
    const t = setup('x86_64', '48 89 0c cf 48 03 04 cf 48 ff c9 75 f4 c3');
    const s = t.run([t.data, 0, 0, 16]).stats();
    expect(s.insns).toBe(16 * 4 + 1);
    expect(s.l1i.accesses).toBe(65);
    expect(s.l1d.accesses).toBe(16 * 2 + 1);
    expect(s.storeL1d.accesses).toBe(16);
    // rcx = 16..1 -> bytes 8..135 of data: lines 0, 1, 2, plus the ret's load of the return address
    expect(s.l1d.misses).toBe(3 + 1);
    // The store comes first at each index, so every data-line miss is a write miss.
    expect(s.storeL1d.misses).toBe(3);
  });

  it('repeated calls with one observer count the same accesses (the return-address push is never observed)', () => {
    const t = setup('x86_64', '48 89 0c cf 48 03 04 cf 48 ff c9 75 f4 c3');
    const first = t.run([t.data, 0, 0, 16]).stats();
    t.h.resetStats();
    const second = t.run([t.data, 0, 0, 16]).stats();
    expect(second.l1d.accesses).toBe(first.l1d.accesses);
    expect(second.storeL1d.accesses).toBe(first.storeL1d.accesses);
    expect(second.l1d.misses).toBe(0);
  });
});

describe('TLB shootdowns from execmem', () => {
  it('set_memory on a code page drops its translations; other pages keep theirs', () => {
    // mov rax,[rdi]; ret
    const t = setup('x86_64', '48 8b 07 c3');
    t.run([t.data, 0, 0, 0]);
    t.h.resetStats();
    t.run([t.data, 0, 0, 0]);
    expect(t.h.stats().itlb.misses + t.h.stats().dtlb.misses).toBe(0);
    // A permission change on the data's second page (one page: below both presets' ceilings).
    const space = t.space;
    space.setMemory(t.data + 4096, 1, 'ro');
    t.h.resetStats();
    t.run([t.data, 0, 0, 0]);
    expect(t.h.stats().dtlb.misses).toBe(0);
    expect(t.h.stats().itlb.misses).toBe(0);
    expect(t.h.stats().shootdowns.full).toBe(0);
    space.setMemory(t.data, 1, 'ro');
    t.h.resetStats();
    t.run([t.data, 0, 0, 0]);
    expect(t.h.stats().dtlb.misses).toBe(1);
    expect(t.h.stats().itlb.misses).toBe(0);
    expect(t.h.stats().walks).toBe(1);
  });
});
