// The JIT pipeline on arm64: examples/bpf objects give expected.json's results (and the
// interpreter's, on the very same regions); hardening (blinding leaves none of the program's
// immediates in any movz/movk/movn/cmp field, two hardened builds differ in bytes but not results,
// BTI c at the entry and BTI j at the tail-call landing); the I-cache flush after text_poke_copy
// (without it the first fetch is a StaleIcacheFault); placement, free, faults and the listing.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { assemble } from '../../jit/bpf/asm.js';
import { loadElf } from '../../jit/bpf/elf.js';
import { kernelProfile } from '../../jit/bpf/helpers-kernel.js';
import { BpfInterpreter, loadProgram } from '../../jit/bpf/interp.js';
import { jitCompile } from '../../jit/bpf/jit.js';
import { BpfJitHost } from '../../jit/bpf/jit-host.js';
import { jitListing } from '../../jit/bpf/jit-listing.js';
import { instantiate } from '../../jit/bpf/maps.js';
import { BpfMemoryFault } from '../../jit/bpf/runtime.js';
import { GuestTrap } from '../../emulator/index.js';
import { StaleIcacheFault } from '../../execmem/types.js';
import { immediatePatterns, withOrigins } from '../../codegen/bpf/common.js';
import { disasmAll, initCapstone } from '../../support/capstone.js';
import { hex64 } from '../../support/u64.js';

interface Run { input: string; r0: string; trace?: string }
interface Example { object: string; programs: Record<string, { section: string; runs: Run[] }> }
const dir = 'examples/bpf/';
const expected = JSON.parse(readFileSync(dir + 'expected.json', 'utf8')) as Record<string, Example>;

const words = (b: Uint8Array): number[] => Array.from({ length: b.length >>> 2 }, (_, k) => (b[4 * k]! | (b[4 * k + 1]! << 8) | (b[4 * k + 2]! << 16) | (b[4 * k + 3]! << 24)) >>> 0);

/** imm16 fields of every move-wide instruction (movn/movz/movk, 32 and 64 bit) in the image. */
function moveWideImms(image: Uint8Array): Set<number> {
  const out = new Set<number>();
  for (const wd of words(image)) if ((wd & 0x1f800000) === 0x12800000) out.add((wd >>> 5) & 0xffff);
  return out;
}

let host: BpfJitHost;
beforeAll(async () => {
  await initCapstone();
  host = new BpfJitHost({ seed: 11, arch: 'arm64' });
});

describe('examples/bpf on the arm64 JIT', () => {
  for (const [objName, ex] of Object.entries(expected)) {
    for (const [name, p] of Object.entries(ex.programs)) {
      for (const harden of [false, true]) {
        it(`${objName}/${name}${harden ? ' (hardened)' : ''}: expected.json and the interpreter agree`, () => {
          const obj = loadElf(new Uint8Array(readFileSync(dir + ex.object)));
          const k = obj.programs.findIndex((x) => x.name === name);
          for (const run of p.runs) {
            const jp = jitCompile(instantiate(obj).programs[k]!, { host, profile: kernelProfile, harden, seed: 5 });
            const vm = new BpfInterpreter(instantiate(obj).programs[k]!, kernelProfile);
            try {
              const mem = new Uint8Array(readFileSync(dir + run.input));
              const r = jp.run({ mem });
              expect(hex64(r.r0.lo, r.r0.hi)).toBe(run.r0);
              expect(r.trace.join('')).toBe(run.trace ?? '');
              const ri = vm.run({ mem, allocator: jp.newAllocator() });
              expect(r.r0).toEqual(ri.r0);
              expect(Array.from(r.mem)).toEqual(Array.from(ri.mem));
            } finally {
              jp.free();
            }
          }
        });
      }
    }
  }
});

const IMM_PROG = `
  mov %r0, 0x1234567
  lddw %r2, 0x7a6b5c4d3e2f1a0b
  add %r0, 0x2468ace
  xor %r0, %r2
  mov32 %r3, 0x13579bd
  mul %r3, 0x3456789
  add %r0, %r3
  stdw [%r10-8], 0x55aa33cc
  ldxdw %r4, [%r10-8]
  add %r0, %r4
  jgt %r0, 0x1b2c3d4e, +1
  or %r0, 0x76543210
  exit
`;

describe('hardening', () => {
  it("blinded images materialise none of the program's immediates (no 16-bit half in a move-wide field)", () => {
    const prog = loadProgram(assemble(IMM_PROG));
    const imms = immediatePatterns(withOrigins(prog.insns)).filter((v) => Math.abs(v) > 0xffff);
    expect(imms.length).toBeGreaterThanOrEqual(8);
    const halves = imms.flatMap((v) => [v & 0xffff, (v >>> 16) & 0xffff]).filter((h) => h !== 0 && h !== 0xffff);
    const plain = jitCompile(prog, { host });
    const hard = jitCompile(prog, { host, harden: true, seed: 1 });
    const plainImms = moveWideImms(plain.image);
    expect(halves.every((h) => plainImms.has(h))).toBe(true);
    const hardImms = moveWideImms(hard.image);
    for (const h of halves) expect(hardImms.has(h), `imm16 0x${h.toString(16)}`).toBe(false);
    const want = new BpfInterpreter(prog).run().r0;
    expect(plain.run().r0).toEqual(want);
    expect(hard.run().r0).toEqual(want);
    plain.free();
    hard.free();
  });

  it('two hardened compilations differ in bytes but not in results; BTI c at the entry, BTI j at the tail-call landing', () => {
    const prog = loadProgram(assemble(IMM_PROG));
    const a = jitCompile(prog, { host, harden: true, seed: 1 });
    const b = jitCompile(prog, { host, harden: true, seed: 2 });
    expect(Array.from(a.image)).not.toEqual(Array.from(b.image));
    expect(a.run().r0).toEqual(b.run().r0);
    const BTI_C = 0xd503245f, BTI_J = 0xd503249f;
    expect(words(host.space.read(a.entry, 4))[0]).toBe(BTI_C);
    expect(words(host.space.read(a.tailCallEntry, 4))[0]).toBe(BTI_J);
    expect(disasmAll('arm64', a.image.subarray(0, 4), a.entry)[0]!.text).toMatch(/^(bti c|hint #0x22)$/);
    const plain = jitCompile(prog, { host });
    expect(words(plain.image).includes(BTI_C)).toBe(false);
    a.free();
    b.free();
    plain.free();
  });
});

describe('I-cache maintenance', () => {
  it('without flush_icache_range after text_poke_copy the first fetch faults on a stale line; with it the program runs', () => {
    const h = new BpfJitHost({ seed: 12, arch: 'arm64' });
    const prog = loadProgram(assemble('mov %r0, 42\nexit'));
    const stale = jitCompile(prog, { host: h, skipIcacheFlush: true });
    expect(h.space.staleIcacheLine(stale.entry, stale.size)).not.toBeNull();
    expect(() => stale.run()).toThrow(StaleIcacheFault);
    stale.free();
    const good = jitCompile(prog, { host: h });
    expect(h.space.staleIcacheLine(good.entry, good.size)).toBeNull();
    expect(good.run().r0).toEqual({ lo: 42, hi: 0 });
    good.free();
  });
});

describe('placement, free and faults', () => {
  it('lives in a bpf_prog_pack chunk; the staged bytes are what the ROX page holds', () => {
    const jp = jitCompile(loadProgram(assemble('mov %r0, 7\nexit')), { host });
    expect(jp.arch).toBe('arm64');
    expect(jp.offset).toBe(jp.entry - jp.pack);
    expect(Array.from(host.space.read(jp.entry, jp.size))).toEqual(Array.from(jp.image));
    expect(jp.run().r0).toEqual({ lo: 7, hi: 0 });
    jp.free();
  });

  it('calling a freed entry hits a trap', () => {
    const keeper = jitCompile(loadProgram(assemble('mov %r0, 1\nexit')), { host });
    const jp = jitCompile(loadProgram(assemble('mov %r0, 7\nexit')), { host });
    const entry = jp.entry;
    jp.free();
    expect(() => host.machine.call(entry, [0, 0, 0])).toThrow(GuestTrap);
    expect(keeper.run().r0).toEqual({ lo: 1, hi: 0 });
    keeper.free();
  });

  for (const [what, src] of [
    ['load', 'mov %r0, 0\nldxw %r0, [%r1+6]\nexit'],
    ['store', 'stdw [%r1+4], 1\nmov %r0, 0\nexit'],
    ['atomic', 'mov %r2, 1\nlock add32 [%r1+8], %r2\nmov %r0, 0\nexit'],
  ] as const) {
    it(`an out-of-bounds ${what} faults exactly like the interpreter (pc, text, address)`, () => {
      const prog = loadProgram(assemble(src));
      const mem = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
      const jp = jitCompile(prog, { host });
      let a: unknown, b: unknown;
      try { jp.run({ mem }); } catch (e) { a = e; }
      try { new BpfInterpreter(prog).run({ mem, allocator: jp.newAllocator() }); } catch (e) { b = e; }
      expect(b).toBeInstanceOf(BpfMemoryFault);
      expect(a).toBeInstanceOf(BpfMemoryFault);
      expect((a as Error).message).toBe((b as Error).message);
      expect((a as BpfMemoryFault).details).toEqual((b as BpfMemoryFault).details);
      jp.free();
    });
  }

  it('memoryChecks: false omits the checkers (smaller image, same in-bounds result)', () => {
    const prog = loadProgram(assemble('ldxw %r0, [%r1+4]\nexit'));
    const mem = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    const on = jitCompile(prog, { host });
    const off = jitCompile(prog, { host, memoryChecks: false });
    expect(off.size).toBeLessThan(on.size);
    expect(on.run({ mem }).r0).toEqual({ lo: 0x08070605, hi: 0 });
    expect(off.run({ mem }).r0).toEqual({ lo: 0x08070605, hi: 0 });
    on.free();
    off.free();
  });

  it('the listing shows the kernel register map: r0 = x7, r1 = x0, r10 = x25', () => {
    const jp = jitCompile(loadProgram(assemble('mov %r0, %r1\nadd %r0, %r10\nexit')), { host, memoryChecks: false });
    const l = jitListing(jp);
    const bpf = l.filter((e) => e.index >= 0);
    expect(bpf[0]!.native.map((n) => n.text)).toEqual(['mov x7, x0']);
    expect(bpf[1]!.native.map((n) => n.text)).toEqual(['add x7, x7, x25']);
    expect(bpf[2]!.native.map((n) => n.text)[0]).toBe('mov x0, x7');
    const total = l.reduce((s, e) => s + e.native.reduce((t, n) => t + n.bytes.length, 0), 0);
    expect(total).toBe(jp.size);
    jp.free();
  });
});
