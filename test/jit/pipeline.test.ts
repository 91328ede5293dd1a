// The JIT pipeline on both architectures (one suite, parameterised by arch): examples/bpf objects
// give expected.json's results (and the interpreter's, on the very same regions); hardening
// (blinding leaves none of the program's immediates in the image, two hardened builds differ in
// bytes but not results, ENDBR64 / BTI landing pads); the arm64 I-cache flush after text_poke_copy
// (without it the first fetch is a StaleIcacheFault); bpf_prog_pack placement and free (the freed
// entry traps); memory faults equal the interpreter's on both paths of the check (inline fast
// window and out-of-line checker); the listing.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { assemble } from '../../jit/bpf/asm.js';
import { loadElf } from '../../jit/bpf/elf.js';
import { kernelProfile } from '../../jit/bpf/helpers-kernel.js';
import { BpfInterpreter, loadProgram } from '../../jit/bpf/interp.js';
import { jitCompile, type JitArch } from '../../jit/bpf/jit.js';
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

function contains(hay: Uint8Array, v: number): boolean {
  const b = [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  outer: for (let i = 0; i + 4 <= hay.length; i++) {
    for (let k = 0; k < 4; k++) if (hay[i + k] !== b[k]) continue outer;
    return true;
  }
  return false;
}

/** imm16 fields of every arm64 move-wide instruction (movn/movz/movk, 32 and 64 bit) in the image. */
function moveWideImms(image: Uint8Array): Set<number> {
  const out = new Set<number>();
  for (const wd of words(image)) if ((wd & 0x1f800000) === 0x12800000) out.add((wd >>> 5) & 0xffff);
  return out;
}

/** What differs between the arches: how an immediate shows in an image, landing pads, registers. */
interface ArchFacts {
  /** The pieces of immediate `v` an image would carry verbatim, and whether `image` carries `piece`. */
  pieces(v: number): number[];
  carries(image: Uint8Array, piece: number): boolean;
  /** Landing pad bytes at the entry / tail-call landing of a hardened image. */
  entryPad: number[];
  landingPad: number[];
  entryPadText: RegExp;
  /** Listing of `mov %r0, %r1 · add %r0, %r10 · exit` (first native instruction of each). */
  regMapListing: string[];
}

const LE = (w: number): number[] => [w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, w >>> 24];

const FACTS: Record<JitArch, ArchFacts> = {
  x86_64: {
    pieces: (v) => [v],
    carries: contains,
    entryPad: [0xf3, 0x0f, 0x1e, 0xfa],
    landingPad: [0xf3, 0x0f, 0x1e, 0xfa],
    entryPadText: /^endbr64$/,
    regMapListing: ['mov rax, rdi', 'add rax, rbp', 'pop r11'],
  },
  arm64: {
    pieces: (v) => [v & 0xffff, (v >>> 16) & 0xffff].filter((h) => h !== 0 && h !== 0xffff),
    carries: (image, h) => moveWideImms(image).has(h),
    entryPad: LE(0xd503245f),
    landingPad: LE(0xd503249f),
    entryPadText: /^(bti c|hint #0x22)$/,
    regMapListing: ['mov x7, x0', 'add x7, x7, x25', 'mov x0, x7'],
  },
};

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

/** JIT and interpreter runs of `src` over `mem` on the same regions: r0/memory or the fault. */
function bothRuns(host: BpfJitHost, src: string, mem: Uint8Array): { jit: string; interp: string } {
  const prog = loadProgram(assemble(src));
  const jp = jitCompile(prog, { host });
  const show = (f: () => { r0: { lo: number; hi: number }; mem: Uint8Array }): string => {
    try {
      const r = f();
      return `r0=${hex64(r.r0.lo, r.r0.hi)} mem=${Buffer.from(r.mem).toString('hex')}`;
    } catch (e) {
      if (!(e instanceof BpfMemoryFault)) throw e;
      return `${e.message} ${JSON.stringify(e.details)}`;
    }
  };
  try {
    return { jit: show(() => jp.run({ mem: mem.slice() })), interp: show(() => new BpfInterpreter(prog).run({ mem: mem.slice(), allocator: jp.newAllocator() })) };
  } finally {
    jp.free();
  }
}

for (const arch of ['x86_64', 'arm64'] as const) {
  const facts = FACTS[arch];
  let host: BpfJitHost;
  beforeAll(async () => {
    await initCapstone();
    host = new BpfJitHost({ seed: 11, arch });
  });

  describe(`examples/bpf on the ${arch} JIT`, () => {
    for (const [objName, ex] of Object.entries(expected)) {
      for (const [name, p] of Object.entries(ex.programs)) {
        for (const harden of [false, true]) {
          it(`${objName}/${name}${harden ? ' (hardened)' : ''}: expected.json and the interpreter agree`, () => {
            const obj = loadElf(new Uint8Array(readFileSync(dir + ex.object)));
            const k = obj.programs.findIndex((x) => x.name === name);
            for (const run of p.runs) {
              // expected.json records each run on fresh maps (examples.test.ts does the same).
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

  describe(`${arch} hardening`, () => {
    it("blinded images carry none of the program's immediates, and compute the same r0", () => {
      const prog = loadProgram(assemble(IMM_PROG));
      const imms = immediatePatterns(withOrigins(prog.insns)).filter((v) => Math.abs(v) > 0xffff);
      expect(imms.length).toBeGreaterThanOrEqual(8);
      const pieces = imms.flatMap((v) => facts.pieces(v));
      const plain = jitCompile(prog, { host });
      const hard = jitCompile(prog, { host, harden: true, seed: 1 });
      expect(pieces.some((v) => facts.carries(plain.image, v))).toBe(true);
      for (const v of pieces) expect(facts.carries(hard.image, v), `immediate piece 0x${(v >>> 0).toString(16)}`).toBe(false);
      const want = new BpfInterpreter(prog).run().r0;
      expect(plain.run().r0).toEqual(want);
      expect(hard.run().r0).toEqual(want);
      plain.free();
      hard.free();
    });

    it('two hardened compilations differ in bytes but not in results; landing pads at the entry and the tail-call landing', () => {
      const prog = loadProgram(assemble(IMM_PROG));
      const a = jitCompile(prog, { host, harden: true, seed: 1 });
      const b = jitCompile(prog, { host, harden: true, seed: 2 });
      expect(Array.from(a.image)).not.toEqual(Array.from(b.image));
      expect(a.run().r0).toEqual(b.run().r0);
      expect(Array.from(host.space.read(a.entry, 4))).toEqual(facts.entryPad);
      expect(Array.from(host.space.read(a.tailCallEntry, 4))).toEqual(facts.landingPad);
      expect(disasmAll(arch, a.image.subarray(0, 4), a.entry)[0]!.text).toMatch(facts.entryPadText);
      const plain = jitCompile(prog, { host });
      expect(contains(plain.image, words(Uint8Array.from(facts.entryPad))[0]! | 0)).toBe(false);
      a.free();
      b.free();
      plain.free();
    });
  });

  if (arch === 'arm64') {
    describe('arm64 I-cache maintenance', () => {
      it('without flush_icache_range after text_poke_copy the first fetch faults on a stale line; with it the program runs', () => {
        const h = new BpfJitHost({ seed: 12, arch });
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
  }

  describe(`${arch} placement, free and faults`, () => {
    it('lives in a bpf_prog_pack chunk; the staged bytes are what the ROX page holds', () => {
      const jp = jitCompile(loadProgram(assemble('mov %r0, 7\nexit')), { host });
      expect(jp.arch).toBe(arch);
      expect(Math.abs(jp.chunk % 64)).toBe(0);
      expect(jp.entry - jp.chunk).toBeGreaterThanOrEqual(8);
      expect(jp.offset).toBe(jp.entry - jp.pack);
      expect(Array.from(host.space.read(jp.entry, jp.size))).toEqual(Array.from(jp.image));
      expect(host.space.pageInfo(jp.entry)!.perm & 2).toBe(0);
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
      ['load below the input', 'mov %r0, 0\nldxb %r0, [%r1-1]\nexit'],
      ['load far below the input (fast-window wrap)', 'lddw %r3, 0x100000000\nsub %r1, %r3\nldxb %r0, [%r1+0]\nexit'],
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

    // The inline check accepts [base, base + size - 7) of the first writable region; everything
    // else must reach the out-of-line checker and still be accepted when in bounds.
    const mem64 = Uint8Array.from({ length: 64 }, (_, k) => k * 7 + 1);
    for (const [what, src, mem] of [
      ['the last bytes of the input (outside the window, in the region)', 'ldxb %r0, [%r1+63]\nldxh %r2, [%r1+62]\nadd %r0, %r2\nldxdw %r2, [%r1+56]\nadd %r0, %r2\nstw [%r1+60], 9\nexit', mem64],
      ['an input shorter than 8 bytes (empty window)', 'ldxb %r0, [%r1+4]\nldxw %r2, [%r1+0]\nadd %r0, %r2\nstb [%r1+4], 3\nexit', Uint8Array.of(1, 2, 3, 4, 5)],
      ['the stack through a copy of r10 (another region)', 'mov %r2, %r10\nstdw [%r2-8], 77\nldxdw %r0, [%r2-8]\nldxb %r3, [%r1+0]\nadd %r0, %r3\nexit', mem64],
      ['accesses after a helper call (window reloaded)', 'ldxb %r6, [%r1+2]\nmov %r7, %r1\nmov %r1, 5\ncall 5\nldxb %r0, [%r7+3]\nadd %r0, %r6\nexit', mem64],
    ] as const) {
      it(`in-bounds accesses the inline window does not cover are accepted: ${what}`, () => {
        const r = bothRuns(host, src, mem);
        expect(r.interp).toMatch(/^r0=/);
        expect(r.jit).toBe(r.interp);
      });
    }

    it('memoryChecks: false omits the checks (smaller image, same in-bounds result)', () => {
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

    it('the listing covers the image at ROX addresses and shows the kernel register map', () => {
      const jp = jitCompile(loadProgram(assemble('mov %r0, %r1\nadd %r0, %r10\nexit')), { host, memoryChecks: false });
      const l = jitListing(jp);
      const bpf = l.filter((e) => e.index >= 0);
      expect(bpf.map((e) => e.bpf)).toEqual(['mov %r0, %r1', 'add %r0, %r10', 'exit']);
      expect(bpf.map((e) => e.native[0]!.text)).toEqual(facts.regMapListing);
      expect(bpf[0]!.native[0]!.address).toBe(jp.entry + jp.insnOffsets[0]!);
      const total = l.reduce((s, e) => s + e.native.reduce((t, n) => t + n.bytes.length, 0), 0);
      expect(total).toBe(jp.size);
      jp.free();
    });
  });
}
