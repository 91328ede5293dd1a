// Array and hash maps against a plain reference model (random operation sequences), their memory
// regions (programs load/store through lookup's pointer; delete unmaps; .rodata is read-only), and
// the kernel helper profile driven by real programs on the interpreter.
import { describe, expect, it } from 'vitest';
import { assemble } from '../../jit/bpf/asm.js';
import { kernelProfile, makeKernelProfile } from '../../jit/bpf/helpers-kernel.js';
import { BpfInterpreter, loadProgram } from '../../jit/bpf/interp.js';
import { BPF_ANY, BPF_EXIST, BPF_NOEXIST, BpfMap, E2BIG, EEXIST, EINVAL, ENOENT, createMaps } from '../../jit/bpf/maps.js';
import { BpfAddressSpace, DefaultRegionAllocator } from '../../jit/bpf/runtime.js';
import { isJitboxError } from '../../support/errors.js';
import { Rng } from '../../support/rng.js';
import { hex64, vaddrToPair } from '../../support/u64.js';

const key32 = (k: number): Uint8Array => Uint8Array.of(k & 0xff, (k >>> 8) & 0xff, (k >>> 16) & 0xff, k >>> 24);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('BpfMap vs a reference model', () => {
  for (const type of ['hash', 'array'] as const) {
    it(`${type}: 3000 random lookup/update/delete operations agree with the model`, () => {
      const rng = new Rng(type === 'hash' ? 11 : 12);
      const max = 8;
      const vs = 12;
      const m = new BpfMap({ name: 't', type, keySize: 4, valueSize: vs, maxEntries: max }, 3);
      const model = new Map<string, string>();
      if (type === 'array') for (let i = 0; i < max; i++) model.set(hex(key32(i)), '00'.repeat(vs));
      for (let n = 0; n < 3000; n++) {
        const k = key32(rng.below(12));
        const ks = hex(k);
        const op = rng.below(3);
        if (op === 0) {
          const got = m.lookup(k);
          expect(got === null ? null : hex(got)).toBe(model.get(ks) ?? null);
        } else if (op === 1) {
          const v = rng.bytes(vs);
          const flags = rng.pick([BPF_ANY, BPF_NOEXIST, BPF_EXIST, 3]);
          let want = 0;
          const has = model.has(ks);
          if (flags > BPF_EXIST) want = -EINVAL;
          else if (type === 'array') want = !has ? -E2BIG : flags === BPF_NOEXIST ? -EEXIST : 0;
          else if (has && flags === BPF_NOEXIST) want = -EEXIST;
          else if (!has && flags === BPF_EXIST) want = -ENOENT;
          else if (!has && model.size >= max) want = -E2BIG;
          expect(m.update(k, v, flags)).toBe(want);
          if (want === 0) model.set(ks, hex(v));
        } else {
          const want = type === 'array' ? -EINVAL : model.has(ks) ? 0 : -ENOENT;
          expect(m.delete(k)).toBe(want);
          if (want === 0) model.delete(ks);
        }
        expect(m.size).toBe(model.size);
      }
    });
  }
  it('rejects bad shapes and wrong key/value lengths with typed errors', () => {
    expect(() => new BpfMap({ name: 'a', type: 'array', keySize: 8, valueSize: 4, maxEntries: 1 }, 3)).toThrow(/array map keys are 4 bytes/);
    expect(() => new BpfMap({ name: 'h', type: 'hash', keySize: 0, valueSize: 4, maxEntries: 1 }, 3)).toThrow(/bad key size/);
    const m = new BpfMap({ name: 'h', type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1 }, 3);
    expect(() => m.update(key32(1), new Uint8Array(3), 0)).toThrow(/value of 3 bytes, need 4/);
    expect(() => m.lookup(new Uint8Array(2))).toThrow(/key of 2 bytes/);
  });
});

describe('map memory', () => {
  it('values live in regions: writes through the address space are seen by lookup; delete unmaps', () => {
    const space = new BpfAddressSpace();
    const alloc = new DefaultRegionAllocator();
    const m = new BpfMap({ name: 'h', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4 }, 3);
    m.attach(space, alloc);
    expect(m.update(key32(5), new Uint8Array(8), BPF_ANY)).toBe(0);
    const a = vaddrToPair(m.lookupAddr(key32(5))!);
    space.write(a.lo, a.hi, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    expect([...m.lookup(key32(5))!]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(space.find(a.lo, a.hi, 8)).not.toBeNull();
    expect(m.delete(key32(5))).toBe(0);
    expect(space.find(a.lo, a.hi, 8)).toBeNull();
  });
  it('array values are contiguous with an 8-byte stride; the object has its own address', () => {
    const space = new BpfAddressSpace();
    const m = new BpfMap({ name: 'a', type: 'array', keySize: 4, valueSize: 12, maxEntries: 3 }, 3);
    m.attach(space, new DefaultRegionAllocator());
    expect(m.lookupAddr(key32(2))! - m.lookupAddr(key32(0))!).toBe(32);
    expect(m.lookupAddr(key32(3))).toBeNull();
    expect(m.valueAddr(4)).toBe(m.lookupAddr(key32(0))! + 4);
    expect(space.regions().some((r) => r.base === m.objectAddr && r.kind === 'map-object')).toBe(true);
  });
  it('contents survive re-attaching with a new allocator (a new run)', () => {
    const m = new BpfMap({ name: 'h', type: 'hash', keySize: 4, valueSize: 4, maxEntries: 4 }, 3);
    m.attach(new BpfAddressSpace(), new DefaultRegionAllocator());
    m.update(key32(1), Uint8Array.of(9, 9, 9, 9), BPF_ANY);
    const space2 = new BpfAddressSpace();
    m.attach(space2, new DefaultRegionAllocator());
    const a = vaddrToPair(m.lookupAddr(key32(1))!);
    expect([...space2.read(a.lo, a.hi, 4)]).toEqual([9, 9, 9, 9]);
  });
  it('a store into read-only global data (.rodata) faults; .data is writable', () => {
    const [ro, rw] = createMaps([
      { name: '.rodata', type: 'array', keySize: 4, valueSize: 8, maxEntries: 1, flags: 0, source: 'global-data', initial: Uint8Array.of(7), readonly: true },
      { name: '.data', type: 'array', keySize: 4, valueSize: 8, maxEntries: 1, flags: 0, source: 'global-data', initial: Uint8Array.of(5), readonly: false },
    ]);
    const maps = [ro!, rw!];
    const store = (idx: number) => loadProgram(assemble(`lddw %r1, map_idx_value ${idx}+0\nldxb %r0, [%r1]\nstb [%r1], 1\nexit`), 'p', maps);
    const r = new BpfInterpreter(store(1), kernelProfile).run();
    expect(r.r0.lo).toBe(5);
    expect([...rw!.lookup(key32(0))!]).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    let err: unknown;
    try {
      new BpfInterpreter(store(0), kernelProfile).run();
    } catch (e) {
      err = e;
    }
    expect(isJitboxError(err) && err.kind).toBe('bpf-memory-fault');
    expect(String((err as Error).message)).toMatch(/pc 3 .*read-only/);
  });
});

describe('kernel helper profile', () => {
  const hashMap = () => new BpfMap({ name: 'h', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 2 }, 3);
  // r6 = key on the stack; update(key, value=42, flags) then lookup and return *value (or -1).
  const counting = (flags: number) => `
    stw [%r10-4], 7
    stdw [%r10-16], 42
    lddw %r1, map_idx 0
    mov %r2, %r10
    add %r2, -4
    mov %r3, %r10
    add %r3, -16
    mov %r4, ${flags}
    call 2
    mov %r6, %r0
    lddw %r1, map_idx 0
    mov %r2, %r10
    add %r2, -4
    call 1
    jeq %r0, 0, +3
    ldxdw %r1, [%r0]
    add %r1, 1
    stxdw [%r0], %r1
    mov %r0, %r6
    exit`;
  it('map_update_elem / map_lookup_elem: the program increments the value through the pointer', () => {
    const m = hashMap();
    const r = new BpfInterpreter(loadProgram(assemble(counting(BPF_ANY)), 'p', [m]), kernelProfile).run();
    expect(r.r0.lo).toBe(0);
    expect(new DataView(m.lookup(key32(7))!.buffer).getUint32(0, true)).toBe(43);
    const again = new BpfInterpreter(loadProgram(assemble(counting(BPF_NOEXIST)), 'p', [m]), kernelProfile).run();
    expect(hex64(again.r0.lo, again.r0.hi)).toBe('0xffffffffffffffef'); // -EEXIST
    expect(new DataView(m.lookup(key32(7))!.buffer).getUint32(0, true)).toBe(44);
  });
  it('map_delete_elem returns 0 then -ENOENT', () => {
    const m = hashMap();
    m.update(key32(7), new Uint8Array(8), BPF_ANY);
    const del = 'stw [%r10-4], 7\nlddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -4\ncall 3\nexit';
    expect(new BpfInterpreter(loadProgram(assemble(del), 'p', [m]), kernelProfile).run().r0.lo).toBe(0);
    expect(new BpfInterpreter(loadProgram(assemble(del), 'p', [m]), kernelProfile).run().r0.lo | 0).toBe(-ENOENT);
  });
  it('a non-map r1 is a typed runtime error', () => {
    const bad = 'mov %r1, 1234\nmov %r2, %r10\ncall 1\nexit';
    expect(() => new BpfInterpreter(assemble(bad), kernelProfile).run()).toThrow(/map_lookup_elem: r1 = 0x4d2 is not a map object/);
  });
  it('ktime_get_ns is deterministic: start, then + step per call', () => {
    const prog = assemble('call 5\nmov %r6, %r0\ncall 5\nsub %r0, %r6\nexit');
    expect(new BpfInterpreter(prog, kernelProfile).run().r0.lo).toBe(1000);
    expect(new BpfInterpreter(assemble('call 5\nexit'), makeKernelProfile({ clockStart: 2 ** 40 })).run().r0).toEqual({ lo: 0, hi: 256 });
  });
  it('get_prandom_u32 draws from a seeded Rng (same seed, same numbers); smp id is 0', () => {
    const prog = assemble('call 7\nmov %r6, %r0\ncall 7\nlsh %r0, 32\nor %r0, %r6\nexit');
    const rng = new Rng(99);
    const a = rng.u32();
    const b = rng.u32();
    expect(new BpfInterpreter(prog, makeKernelProfile({ seed: 99 })).run().r0).toEqual({ lo: a, hi: b });
    expect(new BpfInterpreter(assemble('call 8\nexit'), kernelProfile).run().r0.lo).toBe(0);
  });
  it('trace_printk formats %d %u %x %llx %s %c %% and widths into the run trace', () => {
    const fmt = 'd=%d u=%u x=%04x\0';
    const mem = new TextEncoder().encode(fmt);
    const prog = assemble(`mov %r2, ${mem.length}\nmov %r3, -5\nmov %r4, -5\nmov %r5, 255\ncall 6\nexit`);
    const r = new BpfInterpreter(prog, kernelProfile).run({ mem });
    expect(r.trace).toEqual(['d=-5 u=4294967291 x=00ff']);
    expect(r.r0.lo).toBe('d=-5 u=4294967291 x=00ff'.length);
    const fmt2 = new TextEncoder().encode('%llx|%s|%c%%\0str\0');
    const p2 = assemble(`mov %r2, 13\nlddw %r3, 0x123456789\nmov %r4, %r1\nadd %r4, 13\nmov %r5, 65\ncall 6\nexit`);
    expect(new BpfInterpreter(p2, kernelProfile).run({ mem: fmt2 }).trace).toEqual(['123456789|str|A%']);
  });
  it('trace_printk rejects an unterminated format and more than three conversions', () => {
    const mem = new TextEncoder().encode('%d %d %d %d\0');
    expect(() => new BpfInterpreter(assemble(`mov %r2, ${mem.length}\ncall 6\nexit`), kernelProfile).run({ mem })).toThrow(/more than 3 conversions/);
    expect(() => new BpfInterpreter(assemble('mov %r2, 3\ncall 6\nexit'), kernelProfile).run({ mem: Uint8Array.of(65, 66, 67) })).toThrow(/not NUL-terminated/);
  });
  it('bpf_tail_call is declared and reported as unsupported', () => {
    let err: unknown;
    try {
      new BpfInterpreter(assemble('call 12\nexit'), kernelProfile);
    } catch (e) {
      err = e;
    }
    expect(isJitboxError(err) && err.kind).toBe('unsupported');
    expect(String((err as Error).message)).toMatch(/tail/);
  });
});
