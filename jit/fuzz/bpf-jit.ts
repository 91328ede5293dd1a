// Differential fuzzing of the x86_64 BPF JIT against the reference interpreter (ubpf's
// test_fuzzer / bpf_conformance idea): a seeded generator of random programs the verifier accepts
// (ALU/ALU32 with every operation incl. div/mod/sdiv, shifts, byte swaps, movsx; forward JMP/JMP32;
// stack and input-memory loads/stores incl. ldsx and all atomics; helper calls; one bpf-to-bpf
// callee; rarely an out-of-bounds access), run on both engines over the same regions. They must
// agree on r0 (or the exact error text) and on the input memory afterwards; plain and hardened
// compilations alike. `fuzz(count, seed)` throws on the first disagreement naming its seed.

import { Rng } from '../../support/rng.js';
import { encodeProgram, type BpfInsnFields } from '../bpf/isa.js';
import { BpfInterpreter, loadProgram } from '../bpf/interp.js';
import { jitCompile, type JitArch } from '../bpf/jit.js';
import { BpfJitHost } from '../bpf/jit-host.js';
import { disasmProgram } from '../bpf/disasm.js';

const MEM_LEN = 64;
const DATA_REGS = [0, 2, 3, 4, 5, 7, 8, 9];
const ALU_OPS = [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0];
const JMP_OPS = [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0];
const ATOMICS = [0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1];

/** An instruction whose jump target is an instruction index (resolved to slots at the end). */
interface Gen extends BpfInsnFields {
  target?: number;
}

function imm32(rng: Rng): number {
  switch (rng.below(5)) {
    case 0: return rng.int(-4, 4);
    case 1: return rng.pick([0x7fffffff, -0x80000000, -1, 1, 0, 31, 32, 63, 64]);
    case 2: return rng.int(-1000, 1000);
    default: return rng.u32() | 0;
  }
}

function emitInit(out: Gen[], rng: Rng, regs: readonly number[]): void {
  for (const r of regs) {
    if (rng.bool(0.5)) out.push({ opcode: 0x18, dst: r, src: 0, off: 0, imm: rng.u32() | 0, imm2: rng.pick([0, -1, rng.u32() | 0]) });
    else out.push({ opcode: 0xb7, dst: r, src: 0, off: 0, imm: imm32(rng) });
  }
}

function aluInsn(rng: Rng, dst: number, src: number): Gen {
  const is64 = rng.bool(0.6);
  const cls = is64 ? 0x07 : 0x04;
  const op = rng.pick(ALU_OPS);
  const x = rng.bool(0.5);
  let off = 0;
  if ((op === 0x30 || op === 0x90) && rng.bool(0.5)) off = 1;
  if (op === 0xb0 && x && rng.bool(0.3)) off = is64 ? rng.pick([8, 16, 32]) : rng.pick([8, 16]);
  if (op === 0x80) return { opcode: cls | op, dst, src: 0, off: 0, imm: 0 };
  if (rng.bool(0.08)) {
    const k = rng.below(3);
    if (k === 0) return { opcode: 0xd7, dst, src: 0, off: 0, imm: rng.pick([16, 32, 64]) };
    return { opcode: k === 1 ? 0xd4 : 0xdc, dst, src: 0, off: 0, imm: rng.pick([16, 32, 64]) };
  }
  return { opcode: cls | op | (x ? 0x08 : 0), dst, src: x ? src : 0, off, imm: x ? 0 : imm32(rng) };
}

const SIZES: [number, number][] = [[0x00, 4], [0x08, 2], [0x10, 1], [0x18, 8]];

/** A memory access: base r10 (stack) or r6 (input), in bounds unless `wild`. */
function memInsn(rng: Rng, dst: number, src: number, wild: boolean, stackOnly: boolean): Gen[] {
  const [sz, len] = rng.pick(SIZES);
  const stack = stackOnly || rng.bool(0.5);
  const base = stack ? 10 : 6;
  let off = stack ? -len * (1 + rng.below(512 / len)) : len * rng.below(MEM_LEN / len);
  if (wild && !stack) off = rng.pick([MEM_LEN, MEM_LEN - 1, -8, 4096]);
  switch (rng.below(5)) {
    case 0: return [{ opcode: 0x61 | sz, dst, src: base, off, imm: 0 }];
    case 1: return sz === 0x18 ? [{ opcode: 0x79, dst, src: base, off, imm: 0 }] : [{ opcode: 0x81 | sz, dst, src: base, off, imm: 0 }];
    case 2: return [{ opcode: 0x62 | sz, dst: base, src: 0, off, imm: imm32(rng) }];
    case 3: return [{ opcode: 0x63 | sz, dst: base, src, off, imm: 0 }];
    default: {
      if (len < 4) return [{ opcode: 0x63 | sz, dst: base, src, off, imm: 0 }];
      const op = rng.pick(ATOMICS);
      return [{ opcode: 0xc3 | sz, dst: base, src, off, imm: op }];
    }
  }
}

/**
 * A random program the verifier accepts. `calls: false` leaves out helper and local calls and never
 * stores or computes with the input pointer (r6), so results do not depend on where memory is:
 * those programs also run natively (scripts/oracles/bpf-jit-harness.*).
 */
export function generateProgram(rng: Rng, size = 40, calls = true): BpfInsnFields[] {
  const main: Gen[] = [{ opcode: 0xbf, dst: 6, src: 1, off: 0, imm: 0 }];
  emitInit(main, rng, DATA_REGS);
  const withCallee = calls && rng.bool(0.3);
  const calleeFixups: number[] = [];
  const body = (out: Gen[], n: number, inCallee: boolean): void => {
    const pendingJumps: number[] = [];
    for (let k = 0; k < n; k++) {
      const dst = rng.pick(DATA_REGS);
      const src = inCallee || !calls ? rng.pick(DATA_REGS) : rng.pick([...DATA_REGS, 6]);
      const r = rng.below(100);
      if (r < 45) out.push(aluInsn(rng, dst, src === 6 ? 7 : src));
      else if (r < 65) out.push(...memInsn(rng, dst, src, rng.bool(0.02), inCallee));
      else if (r < 80) {
        const is32 = rng.bool(0.4);
        const x = rng.bool(0.5);
        const op = rng.pick(JMP_OPS);
        out.push({ opcode: (is32 ? 0x06 : 0x05) | op | (x ? 0x08 : 0), dst, src: x ? (src === 6 ? 7 : src) : 0, off: 0, imm: x ? 0 : imm32(rng) });
        pendingJumps.push(out.length - 1);
      } else if (r < 84) {
        out.push({ opcode: rng.bool(0.5) ? 0x05 : 0x06, dst: 0, src: 0, off: 0, imm: 0 });
        pendingJumps.push(out.length - 1);
      } else if (r < 92 && !inCallee && calls) {
        const h = rng.below(10);
        if (h < 4) {
          emitInit(out, rng, [1, 2, 3, 4, 5]);
          out.push({ opcode: 0x85, dst: 0, src: 0, off: 0, imm: rng.pick([0, 2, 3]) });
        } else if (h < 6) {
          out.push({ opcode: 0xbf, dst: 1, src: 6, off: 0, imm: 0 });
          out.push({ opcode: 0xb7, dst: 2, src: 0, off: 0, imm: rng.below(MEM_LEN + 1) });
          out.push({ opcode: 0x85, dst: 0, src: 0, off: 0, imm: 1 });
        } else if (h < 7) {
          out.push({ opcode: 0xb7, dst: 1, src: 0, off: 0, imm: rng.bool(0.9) ? 1 + rng.below(100) : 0 });
          out.push({ opcode: 0x85, dst: 0, src: 0, off: 0, imm: 5 });
        } else if (withCallee) {
          out.push({ opcode: 0x85, dst: 0, src: 1, off: 0, imm: 0 });
          calleeFixups.push(out.length - 1);
        } else continue;
        emitInit(out, rng, [1, 2, 3, 4, 5]);
      } else out.push(aluInsn(rng, dst, src === 6 ? 7 : src));
    }
    // Forward targets: anywhere after the jump up to the end of the body (the exit sequence).
    for (const j of pendingJumps) (out[j] as Gen).target = j + 1 + rng.below(out.length - j);
  };
  body(main, size, false);
  for (const r of [2, 3, 4, 5, 7, 8, 9]) main.push({ opcode: 0xaf, dst: 0, src: r, off: 0, imm: 0 });
  main.push({ opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 });
  const all: Gen[] = [...main];
  if (withCallee) {
    const calleeStart = all.length;
    const callee: Gen[] = [];
    emitInit(callee, rng, [0, 7, 8, 9]);
    body(callee, Math.max(4, size >> 2), true);
    callee.push({ opcode: 0xaf, dst: 0, src: 1, off: 0, imm: 0 });
    callee.push({ opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 });
    for (const g of callee) if (g.target !== undefined) g.target += calleeStart;
    all.push(...callee);
    for (const f of calleeFixups) (all[f] as Gen).target = calleeStart;
  }
  // Instruction indices -> slot distances.
  const slotOf: number[] = [];
  let slot = 0;
  for (const g of all) {
    slotOf.push(slot);
    slot += g.opcode === 0x18 ? 2 : 1;
  }
  slotOf.push(slot);
  return all.map((g, k) => {
    const { target, ...i } = g;
    if (target === undefined) return i;
    const d = (slotOf[target] as number) - (slotOf[k] as number) - 1;
    if (i.opcode === 0x06 || i.opcode === 0x85) return { ...i, imm: d };
    return { ...i, off: d };
  });
}

function outcome(f: () => { r0: { lo: number; hi: number }; mem: Uint8Array }): string {
  try {
    const r = f();
    return `r0=${(r.r0.hi >>> 0).toString(16)}:${(r.r0.lo >>> 0).toString(16)} mem=${Buffer.from(r.mem).toString('hex')}`;
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}

/** One differential case; returns null on agreement, else a description. */
export function diffCase(host: BpfJitHost, seed: number, size = 40): string | null {
  const rng = new Rng(seed);
  const bytes = encodeProgram(generateProgram(rng, size));
  const prog = loadProgram(bytes, `fuzz-${seed}`);
  const mem = rng.bytes(MEM_LEN);
  const budget = 100_000;
  const want = outcome(() => new BpfInterpreter(prog).run({ mem: mem.slice(), budget, allocator: host.newAllocator() }));
  for (const harden of [false, true]) {
    const got = outcome(() => {
      const jp = jitCompile(prog, { host, harden, seed });
      try {
        return jp.run({ mem: mem.slice(), budget: budget * 64 });
      } finally {
        jp.free();
      }
    });
    if (got !== want) return `seed ${seed}${harden ? ' (hardened)' : ''}: interpreter ${want}\n  jit ${got}\n${disasmProgram(prog.insns)}`;
  }
  return null;
}

/**
 * The differential campaign both JIT fuzzers run: `count` cases with seeds derived from `seed`, a
 * fresh host every 2000 cases; throws on the first disagreement. `progress(done)` is called every
 * 5000 cases (long campaigns report where they are).
 */
export async function fuzzJit(arch: JitArch, count: number, seed: number, progress?: (done: number) => void): Promise<void> {
  const { initCapstone } = await import('../../support/capstone.js');
  await initCapstone();
  const name = arch === 'arm64' ? 'bpf-jit-arm64' : 'bpf-jit';
  let host = new BpfJitHost({ seed, capstoneCheck: false, arch });
  for (let k = 0; k < count; k++) {
    if (k > 0 && k % 2000 === 0) host = new BpfJitHost({ seed: seed + k, capstoneCheck: false, arch });
    if (k > 0 && k % 5000 === 0) progress?.(k);
    const s = (seed * 1_000_003 + k) >>> 0;
    const d = diffCase(host, s);
    if (d !== null) throw new Error(`${name} fuzz: disagreement\n${d}`);
  }
}

export async function fuzz(count = 100_000, seed = 1): Promise<string> {
  await fuzzJit('x86_64', count, seed);
  return `bpf-jit: ${count} random programs, interpreter and x86_64 JIT (plain and hardened) agree`;
}
