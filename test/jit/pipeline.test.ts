// The JIT pipeline on x86_64: examples/bpf objects give expected.json's results (and the
// interpreter's, on the very same regions); hardening (blinding leaves no immediate in the image,
// two hardened builds differ in bytes but not results, ENDBR64 at the entry); bpf_prog_pack
// placement and free (the freed entry traps); memory faults equal the interpreter's; the listing.
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
import { immediatePatterns, withOrigins } from '../../codegen/bpf/common.js';
import { initCapstone } from '../../support/capstone.js';
import { hex64 } from '../../support/u64.js';

interface Run { input: string; r0: string; trace?: string }
interface Example { object: string; programs: Record<string, { section: string; runs: Run[] }> }
const dir = 'examples/bpf/';
const expected = JSON.parse(readFileSync(dir + 'expected.json', 'utf8')) as Record<string, Example>;

function contains(hay: Uint8Array, v: number): boolean {
  const b = [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  outer: for (let i = 0; i + 4 <= hay.length; i++) {
    for (let k = 0; k < 4; k++) if (hay[i + k] !== b[k]) continue outer;
    return true;
  }
  return false;
}

let host: BpfJitHost;
beforeAll(async () => {
  await initCapstone();
  host = new BpfJitHost({ seed: 11 });
});

describe('examples/bpf on the x86_64 JIT', () => {
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
  it("blinded images contain none of the program's 32-bit immediates, and compute the same r0", () => {
    const prog = loadProgram(assemble(IMM_PROG));
    const imms = immediatePatterns(withOrigins(prog.insns)).filter((v) => Math.abs(v) > 0xffff);
    expect(imms.length).toBeGreaterThanOrEqual(8);
    const plain = jitCompile(prog, { host });
    const hard = jitCompile(prog, { host, harden: true, seed: 1 });
    expect(imms.some((v) => contains(plain.image, v))).toBe(true);
    for (const v of imms) expect(contains(hard.image, v), `immediate 0x${(v >>> 0).toString(16)}`).toBe(false);
    const want = new BpfInterpreter(prog).run().r0;
    expect(plain.run().r0).toEqual(want);
    expect(hard.run().r0).toEqual(want);
    plain.free();
    hard.free();
  });

  it('two hardened compilations differ in bytes but not in results; ENDBR64 at the entry', () => {
    const prog = loadProgram(assemble(IMM_PROG));
    const a = jitCompile(prog, { host, harden: true, seed: 1 });
    const b = jitCompile(prog, { host, harden: true, seed: 2 });
    expect(Array.from(a.image)).not.toEqual(Array.from(b.image));
    expect(a.run().r0).toEqual(b.run().r0);
    expect(Array.from(a.image.subarray(0, 4))).toEqual([0xf3, 0x0f, 0x1e, 0xfa]);
    expect(Array.from(host.space.read(a.entry, 4))).toEqual([0xf3, 0x0f, 0x1e, 0xfa]);
    a.free();
    b.free();
  });
});

describe('placement, free and faults', () => {
  it('lives in a bpf_prog_pack chunk; the staged bytes are what the ROX page holds', () => {
    const jp = jitCompile(loadProgram(assemble('mov %r0, 7\nexit')), { host });
    expect(Math.abs(jp.chunk % 64)).toBe(0);
    expect(jp.entry - jp.chunk).toBeGreaterThanOrEqual(8);
    expect(jp.offset).toBe(jp.entry - jp.pack);
    expect(Array.from(host.space.read(jp.entry, jp.size))).toEqual(Array.from(jp.image));
    expect(host.space.pageInfo(jp.entry)!.perm & 2).toBe(0 & 2);
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

  it('an out-of-bounds load faults exactly like the interpreter (pc, text, address)', () => {
    const prog = loadProgram(assemble('mov %r0, 0\nldxw %r0, [%r1+6]\nexit'));
    const mem = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    const jp = jitCompile(prog, { host });
    let a: unknown, b: unknown;
    try { jp.run({ mem }); } catch (e) { a = e; }
    try { new BpfInterpreter(prog).run({ mem, allocator: jp.newAllocator() }); } catch (e) { b = e; }
    expect(a).toBeInstanceOf(BpfMemoryFault);
    expect((a as Error).message).toBe((b as Error).message);
    expect((a as BpfMemoryFault).details).toEqual((b as BpfMemoryFault).details);
    jp.free();
  });

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

  it('the listing covers the image: each BPF instruction with its native code at ROX addresses', () => {
    const jp = jitCompile(loadProgram(assemble('mov %r0, 1\nadd %r0, 2\nexit')), { host });
    const l = jitListing(jp);
    const bpf = l.filter((e) => e.index >= 0);
    expect(bpf.map((e) => e.bpf)).toEqual(['mov %r0, 1', 'add %r0, 2', 'exit']);
    expect(bpf[1]!.native.map((n) => n.text)).toEqual(['add rax, 2']);
    expect(bpf[0]!.native[0]!.address).toBe(jp.entry + jp.insnOffsets[0]!);
    const total = l.reduce((s, e) => s + e.native.reduce((t, n) => t + n.bytes.length, 0), 0);
    expect(total).toBe(jp.size);
    jp.free();
  });
});
