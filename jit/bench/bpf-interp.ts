// Benchmark: BPF instructions per second of the reference interpreter (jit/bpf/interp.ts) on a loop
// program, next to two baselines measured in the same run:
// - naive: a straightforward object-per-instruction interpreter (decoded BpfInsn objects, BigInt
//   registers, a switch on the opcode), what a first TypeScript interpreter usually looks like;
// - native: the same loop written directly in JavaScript (the ceiling a JIT aims at).
// All three must compute the same r0 (checked). Reference point (reference/bpf.md §7): ubpf's C
// interpreter does ~100-145 M insns/s on this machine kind; its x86-64 JIT ~8.2 G.

import { assemble } from '../bpf/asm.js';
import { BpfInterpreter } from '../bpf/interp.js';
import { decodeProgram, type BpfInsn } from '../bpf/isa.js';
import { pairToBigInt } from '../../support/u64.js';
import type { Benchmark, BenchOptions, BenchReport } from './types.js';

/** 12 instructions per iteration: ALU, a stack store/load pair, a compare-and-branch. */
export const LOOP_SOURCE = `
mov %r0, 0
mov %r1, 0
lddw %r2, ITERS
loop:
mov %r3, %r1
and %r3, 0xff
add %r0, %r1
xor %r0, %r3
lsh %r3, 2
stxdw [%r10-8], %r0
ldxdw %r4, [%r10-8]
add %r0, %r4
rsh %r0, 1
and %r0, 0xffffff
add %r1, 1
jlt %r1, %r2, loop
exit
`;
const PER_ITER = 12;
const SETUP = 4; // mov, mov, lddw, exit

const M64 = (1n << 64n) - 1n;

/** The naive baseline: objects and BigInt, only the opcodes the loop uses. */
function runNaive(insns: readonly BpfInsn[]): { r0: bigint; count: number } {
  const regs: bigint[] = new Array<bigint>(11).fill(0n);
  const stack = new Map<bigint, bigint>();
  regs[10] = 0x10000n;
  const bySlot = new Map<number, BpfInsn>();
  for (const i of insns) bySlot.set(i.slot, i);
  let pc = 0;
  let count = 0;
  for (;;) {
    const i = bySlot.get(pc) as BpfInsn;
    count++;
    const imm = BigInt.asUintN(64, BigInt(i.imm));
    const d = i.dst;
    switch (i.opcode) {
      case 0xb7: regs[d] = imm; break;
      case 0xbf: regs[d] = regs[i.src] as bigint; break;
      case 0x18: regs[d] = (BigInt((i.imm2 ?? 0) >>> 0) << 32n) | BigInt(i.imm >>> 0); pc++; break;
      case 0x57: regs[d] = (regs[d] as bigint) & imm; break;
      case 0xa7: regs[d] = (regs[d] as bigint) ^ imm; break;
      case 0x0f: regs[d] = ((regs[d] as bigint) + (regs[i.src] as bigint)) & M64; break;
      case 0xaf: regs[d] = (regs[d] as bigint) ^ (regs[i.src] as bigint); break;
      case 0x1f: regs[d] = ((regs[d] as bigint) - (regs[i.src] as bigint)) & M64; break;
      case 0x67: regs[d] = ((regs[d] as bigint) << (imm & 63n)) & M64; break;
      case 0x77: regs[d] = (regs[d] as bigint) >> (imm & 63n); break;
      case 0x07: regs[d] = ((regs[d] as bigint) + imm) & M64; break;
      case 0x7b: stack.set((regs[d] as bigint) + BigInt(i.off), regs[i.src] as bigint); break;
      case 0x79: regs[d] = stack.get((regs[i.src] as bigint) + BigInt(i.off)) ?? 0n; break;
      case 0xad: if ((regs[d] as bigint) < (regs[i.src] as bigint)) pc += i.off; break;
      case 0x95: return { r0: regs[0] as bigint, count };
      default: throw new Error(`naive baseline: opcode 0x${i.opcode.toString(16)} not modelled`);
    }
    pc++;
  }
}

/** The native baseline: the same loop in plain JavaScript (r0 stays below 2^25 + 2^31, so
 * doubles are exact; the result is checked against the interpreter). */
function runNative(iters: number): bigint {
  let r0 = 0;
  const slot = new Float64Array(1);
  for (let i = 0; i < iters; i++) {
    let r3 = i & 0xff;
    r0 += i;
    r0 = (r0 ^ r3) >>> 0;
    r3 <<= 2;
    slot[0] = r0;
    r0 += slot[0] as number;
    r0 = Math.floor(r0 / 2);
    r0 &= 0xffffff;
  }
  return BigInt(r0);
}

function time<T>(fn: () => T): { value: T; seconds: number } {
  const t0 = performance.now();
  const value = fn();
  return { value, seconds: (performance.now() - t0) / 1000 };
}

export const bench: Benchmark = {
  name: 'bpf-interp',
  description: 'BPF interpreter instructions per second on a loop, vs a naive interpreter and native JS',
  async run(opts: BenchOptions): Promise<BenchReport> {
    const iters = Number(opts.settings.iters ?? (opts.quick ? 200_000 : 5_000_000));
    const naiveIters = Math.max(1000, Math.floor(iters / 20));
    const prog = assemble(LOOP_SOURCE.replace('ITERS', String(iters)));
    const insns = decodeProgram(prog);
    const vm = new BpfInterpreter(prog);
    opts.progress(0, 3, 'bpf-interp');
    const warm = new BpfInterpreter(assemble(LOOP_SOURCE.replace('ITERS', '20000')));
    warm.run();
    const ours = time(() => vm.run({ budget: Number.MAX_SAFE_INTEGER }));
    opts.progress(1, 3, 'bpf-interp');
    const naiveProg = decodeProgram(assemble(LOOP_SOURCE.replace('ITERS', String(naiveIters))));
    const naive = time(() => runNaive(naiveProg));
    opts.progress(2, 3, 'bpf-interp');
    const native = time(() => runNative(iters));
    opts.progress(3, 3, 'bpf-interp');
    const oursR0 = pairToBigInt(ours.value.r0.lo, ours.value.r0.hi);
    const checkNaive = new BpfInterpreter(assemble(LOOP_SOURCE.replace('ITERS', String(naiveIters)))).run();
    const agree = oursR0 === native.value && pairToBigInt(checkNaive.r0.lo, checkNaive.r0.hi) === naive.value.r0 && checkNaive.insns === naive.value.count;
    if (!agree) throw new Error('bpf-interp bench: interpreters disagree on r0');
    const expectedInsns = SETUP + PER_ITER * iters;
    const oursRate = ours.value.insns / ours.seconds;
    const naiveRate = naive.value.count / naive.seconds;
    const nativeRate = expectedInsns / native.seconds;
    const m = (x: number): number => Number((x / 1e6).toFixed(1));
    const json = {
      program: { insns_per_iter: PER_ITER, iters, insns: ours.value.insns, insns_check: ours.value.insns === expectedInsns, r0: '0x' + oursR0.toString(16) },
      interp: { seconds: Number(ours.seconds.toFixed(3)), minsns_per_s: m(oursRate) },
      naive: { iters: naiveIters, seconds: Number(naive.seconds.toFixed(3)), minsns_per_s: m(naiveRate) },
      native_js: { seconds: Number(native.seconds.toFixed(3)), equiv_minsns_per_s: m(nativeRate) },
      ratio_interp_vs_naive: Number((oursRate / naiveRate).toFixed(1)),
      ratio_native_vs_interp: Number((nativeRate / oursRate).toFixed(1)),
      ubpf_c_interp_minsns_per_s: '100-145',
    };
    const text = [
      `BPF loop: ${PER_ITER} insns/iter, ${iters} iterations (r0 = 0x${oursR0.toString(16)}, all engines agree)`,
      `  interp (typed arrays, one switch)   ${m(oursRate).toString().padStart(8)} M insns/s  (${ours.seconds.toFixed(3)} s)`,
      `  naive (objects + BigInt)            ${m(naiveRate).toString().padStart(8)} M insns/s  (${naive.seconds.toFixed(3)} s, ${naiveIters} iters)`,
      `  native JS loop (equivalent rate)    ${m(nativeRate).toString().padStart(8)} M insns/s  (${native.seconds.toFixed(3)} s)`,
      `  interp / naive = ${json.ratio_interp_vs_naive}x; native / interp = ${json.ratio_native_vs_interp}x; ubpf C interpreter: 100-145 M insns/s`,
    ].join('\n');
    return { json, text };
  },
};
