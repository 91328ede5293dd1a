// Programs, timing and the per-arch column of the bpf-jit benchmarks (bpf-jit.ts prints x86_64 and
// arm64 side by side, bpf-jit-arm64.ts the arm64 column alone). One column, measured in one run:
// - compile speed: BPF instructions per second through codegen alone (sizing pass + final pass at
//   the ROX address) and through the whole pipeline (verify, blind when hardened, codegen,
//   bpf_prog_pack alloc, text_poke_copy, arm64 I-cache flush);
// - execution: BPF instructions per second of JIT'd code in the emulator (the CPU `createCpu` gives
//   with its defaults, so a faster emulator tier shows up here unchanged) next to the reference
//   interpreter on the same loop (the baseline; ubpf's C interpreter does ~100 M/s natively);
// - memory checks: a loop over input memory (accesses the verifier cannot prove) with checks off,
//   with every check calling the out-of-line checker (the previous design), and with the inline
//   fast-window test in front of it (the default);
// - code size: image bytes per BPF instruction, and per BPF byte next to ubpf's 192-byte loop
//   program -> ~760 B x86_64 / ~772 B arm64 (reference/bpf.md §4.2).

import { assemble } from '../bpf/asm.js';
import { BpfInterpreter, loadProgram } from '../bpf/interp.js';
import { jitCompile, type JitArch } from '../bpf/jit.js';
import { BpfJitHost } from '../bpf/jit-host.js';
import { verifyProgram } from '../bpf/verifier.js';
import { conformanceProfile } from '../bpf/helpers-conformance.js';
import { encodeProgram } from '../bpf/isa.js';
import type { BpfProgram } from '../bpf/runtime.js';
import { generateProgram } from '../fuzz/bpf-jit.js';
import { compileBpfX86 } from '../../codegen/bpf/x86_64.js';
import { compileBpfArm64 } from '../../codegen/bpf/arm64.js';
import { withOrigins } from '../../codegen/bpf/common.js';
import { Rng } from '../../support/rng.js';
import { LOOP_SOURCE } from './bpf-interp.js';
import type { BenchOptions } from './types.js';

/** Sums the input bytes `ITERS` times: every ldxb goes through r1 (unproven: runtime-checked). */
export const MEM_LOOP = `
mov %r0, 0
mov %r6, %r1
mov %r7, %r2
lddw %r8, ITERS
outer:
mov %r1, %r6
mov %r2, 0
inner:
ldxb %r3, [%r1+0]
add %r0, %r3
add %r1, 1
add %r2, 1
jlt %r2, %r7, inner
sub %r8, 1
jne %r8, 0, outer
exit
`;

/** Mean ms per call after a warm-up of minMs / 2 (V8 tiers up first). */
export function timeIt(f: () => void, minMs: number): number {
  const w0 = performance.now();
  while (performance.now() - w0 < minMs / 2) f();
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  do {
    f();
    n++;
    t = performance.now();
  } while (t - t0 < minMs);
  return (t - t0) / n;
}

/** A loop program with its iteration count filled in. */
export function withIters(src: string, iters: number): BpfProgram {
  return loadProgram(assemble(src.replace('ITERS', String(iters))), 'loop');
}

export interface JitColumn {
  /** Instructions of the random program compiled, and BPF instructions the loop executes. */
  programInsns: number;
  loopBpfInsns: number;
  codegenInsnsPerSec: number;
  pipelineInsnsPerSec: number;
  hardenedPipelineInsnsPerSec: number;
  /** codegen rate / 2 M (the target for x86_64). */
  compileTargetRatio: number;
  jitBpfInsnsPerSec: number;
  interpBpfInsnsPerSec: number;
  jitVsInterp: number;
  jitVsUbpfInterp100M: number;
  nativeInsnsPerBpfInsn: number;
  /** Memory loop time and native instructions, relative to checks off. */
  memCheckSlowdown: number;
  memCheckNativeInsnRatio: number;
  memCheckOutOfLineSlowdown: number;
  memCheckOutOfLineNativeInsnRatio: number;
  memLoopBpfInsns: number;
  loopBpfBytes: number;
  loopImage: number;
  loopCode: number;
  loopHardenedImage: number;
  bytesPerInsn: number;
  imagePerBpfByte: number;
  ubpfImagePerBpfByte: number;
  randomProgramBytesPerInsn: number;
}

/** The figures of one architecture (same programs for both). */
export function jitColumn(arch: JitArch, opts: Pick<BenchOptions, 'seed' | 'quick'>): JitColumn {
  const host = new BpfJitHost({ seed: opts.seed, capstoneCheck: false, arch });
  const minMs = opts.quick ? 50 : 400;

  const big = loadProgram(encodeProgram(generateProgram(new Rng(opts.seed), opts.quick ? 300 : 2000)), 'random');
  const verdict = verifyProgram(big.insns, { profile: conformanceProfile });
  const resolver = host.resolver(conformanceProfile);
  const cfg = host.space.config;
  const insns = withOrigins(big.insns);
  const functions = verdict.functions.map((s) => big.insns.findIndex((i) => i.slot === s));
  const compile = arch === 'arm64' ? compileBpfArm64 : compileBpfX86;
  const codegenMs = timeIt(() => {
    compile(insns, { functions, symbolAddress: resolver, imageRange: { lo: cfg.modulesVaddr, hi: cfg.modulesEnd } }).at(cfg.modulesVaddr + 0x1000);
  }, minMs);
  const pipeMs = timeIt(() => jitCompile(big, { host }).free(), minMs);
  const hardMs = timeIt(() => jitCompile(big, { host, harden: true }).free(), minMs);
  const n = big.insns.length;

  const loop = withIters(LOOP_SOURCE, opts.quick ? 2000 : 50_000);
  const vm = new BpfInterpreter(loop);
  const jp = jitCompile(loop, { host });
  const ir = vm.run();
  const jr = jp.run();
  if (ir.r0.lo !== jr.r0.lo || ir.r0.hi !== jr.r0.hi) throw new Error(`bpf-jit bench (${arch}): JIT and interpreter disagree on the loop`);
  const interpMs = timeIt(() => vm.run(), minMs);
  const jitMs = timeIt(() => jp.run(), minMs);

  const mem = new Rng(opts.seed).bytes(256);
  const memLoop = withIters(MEM_LOOP, opts.quick ? 20 : 200);
  const memInsns = new BpfInterpreter(memLoop).run({ mem }).insns;
  const variants = [
    jitCompile(memLoop, { host, memoryChecks: false }),
    jitCompile(memLoop, { host, inlineChecks: false }),
    jitCompile(memLoop, { host }),
  ];
  const want = variants[0]!.run({ mem }).r0.lo;
  for (const v of variants) if (v.run({ mem }).r0.lo !== want) throw new Error(`bpf-jit bench (${arch}): memory-check variants disagree`);
  const [offMs, outMs, onMs] = variants.map((v) => timeIt(() => v.run({ mem }), minMs)) as [number, number, number];
  const [offN, outN, onN] = variants.map((v) => v.run({ mem }).nativeInsns) as [number, number, number];

  const loopBytes = loop.insns.reduce((s, i) => s + (i.opcode === 0x18 ? 16 : 8), 0);
  const loopCode = jp.insnOffsets[loop.insns.length] as number;
  const hardLoop = jitCompile(loop, { host, harden: true });
  const bigJp = jitCompile(big, { host });
  const codegenRate = n / (codegenMs / 1000);
  const col: JitColumn = {
    programInsns: n,
    loopBpfInsns: ir.insns,
    codegenInsnsPerSec: Math.round(codegenRate),
    pipelineInsnsPerSec: Math.round(n / (pipeMs / 1000)),
    hardenedPipelineInsnsPerSec: Math.round(n / (hardMs / 1000)),
    compileTargetRatio: +(codegenRate / 2e6).toFixed(2),
    jitBpfInsnsPerSec: Math.round(ir.insns / (jitMs / 1000)),
    interpBpfInsnsPerSec: Math.round(ir.insns / (interpMs / 1000)),
    jitVsInterp: +(interpMs / jitMs).toFixed(3),
    jitVsUbpfInterp100M: +(ir.insns / (jitMs / 1000) / 1e8).toFixed(4),
    nativeInsnsPerBpfInsn: +(jr.nativeInsns / ir.insns).toFixed(2),
    memCheckSlowdown: +(onMs / offMs).toFixed(2),
    memCheckNativeInsnRatio: +(onN / offN).toFixed(2),
    memCheckOutOfLineSlowdown: +(outMs / offMs).toFixed(2),
    memCheckOutOfLineNativeInsnRatio: +(outN / offN).toFixed(2),
    memLoopBpfInsns: memInsns,
    loopBpfBytes: loopBytes,
    loopImage: jp.size,
    loopCode,
    loopHardenedImage: hardLoop.size,
    bytesPerInsn: +(loopCode / loop.insns.length).toFixed(2),
    imagePerBpfByte: +(jp.size / loopBytes).toFixed(2),
    ubpfImagePerBpfByte: +((arch === 'arm64' ? 772 : 760) / 192).toFixed(2),
    randomProgramBytesPerInsn: +((bigJp.insnOffsets[n] as number) / n).toFixed(2),
  };
  for (const p of [bigJp, hardLoop, jp, ...variants]) p.free();
  return col;
}

/** The table rows of one or more columns (label, then one value per column). */
export function jitRows(cols: readonly JitColumn[]): string[] {
  const row = (k: string, f: (c: JitColumn) => string | number): string => `${k.padEnd(52)}${cols.map((c) => String(f(c)).padStart(16)).join('')}`;
  return [
    row('codegen BPF insns/s (2 passes; target 2 M)', (c) => c.codegenInsnsPerSec),
    row('  / 2 M target', (c) => `${c.compileTargetRatio}x`),
    row('pipeline BPF insns/s (verify..text_poke)', (c) => c.pipelineInsnsPerSec),
    row('hardened pipeline BPF insns/s', (c) => c.hardenedPipelineInsnsPerSec),
    row('EXECUTION: JIT\'d code in the emulator, BPF insns/s', (c) => c.jitBpfInsnsPerSec),
    row('  interpreter (same run, baseline), BPF insns/s', (c) => c.interpBpfInsnsPerSec),
    row('  JIT in emulator / interpreter', (c) => `${c.jitVsInterp}x`),
    row('  JIT in emulator / ubpf C interpreter (100 M/s)', (c) => `${c.jitVsUbpfInterp100M}x`),
    row('  native insns per BPF insn (loop)', (c) => c.nativeInsnsPerBpfInsn),
    row('memory checks, inline fast path: time / off', (c) => `${c.memCheckSlowdown}x`),
    row('  native insns / off', (c) => `${c.memCheckNativeInsnRatio}x`),
    row('memory checks, out-of-line only: time / off', (c) => `${c.memCheckOutOfLineSlowdown}x`),
    row('  native insns / off', (c) => `${c.memCheckOutOfLineNativeInsnRatio}x`),
    row('loop: BPF bytes -> image bytes', (c) => `${c.loopBpfBytes} -> ${c.loopImage}`),
    row('code bytes per BPF insn (loop / random)', (c) => `${c.bytesPerInsn} / ${c.randomProgramBytesPerInsn}`),
    row('image bytes per BPF byte (ubpf loop)', (c) => `${c.imagePerBpfByte} (${c.ubpfImagePerBpfByte})`),
  ];
}
