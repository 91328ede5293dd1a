// Benchmark: the arm64 column of bpf-jit (jit/bench/bpf-jit.ts calls `arm64Column`), also runnable
// alone as `npm run bench -- bpf-jit-arm64`. Measured in one run, on the same programs as x86_64:
// compile speed (codegen: sizing pass + emit pass at the ROX address; whole pipeline, plain and
// hardened), execution of JIT'd code in the emulator next to the interpreter (the baseline),
// memory-check overhead, and code size (ubpf: a 192-byte BPF loop -> ~772 bytes of arm64,
// reference/bpf.md §4.2).

import { BpfInterpreter, loadProgram } from '../bpf/interp.js';
import { jitCompile } from '../bpf/jit.js';
import { BpfJitHost } from '../bpf/jit-host.js';
import { verifyProgram } from '../bpf/verifier.js';
import { conformanceProfile } from '../bpf/helpers-conformance.js';
import { encodeProgram } from '../bpf/isa.js';
import { generateProgram } from '../fuzz/bpf-jit.js';
import { compileBpfArm64 } from '../../codegen/bpf/arm64.js';
import { withOrigins } from '../../codegen/bpf/common.js';
import { Rng } from '../../support/rng.js';
import { LOOP_SOURCE } from './bpf-interp.js';
import { MEM_LOOP, timeIt, withIters } from './bpf-jit-shared.js';
import type { Benchmark, BenchOptions, BenchReport } from './types.js';


export interface Arm64Column {
  codegenInsnsPerSec: number;
  pipelineInsnsPerSec: number;
  hardenedPipelineInsnsPerSec: number;
  jitBpfInsnsPerSec: number;
  interpBpfInsnsPerSec: number;
  jitVsInterp: number;
  jitVsUbpfInterp100M: number;
  nativeInsnsPerBpfInsn: number;
  memCheckSlowdown: number;
  memCheckNativeInsnRatio: number;
  loopBpfBytes: number;
  loopImage: number;
  loopCode: number;
  loopHardenedImage: number;
  bytesPerInsn: number;
  imagePerBpfByte: number;
  ubpfImagePerBpfByte: number;
  randomProgramBytesPerInsn: number;
}

/** The arm64 figures for the bpf-jit table (same program choices as the x86_64 column). */
export function arm64Column(opts: Pick<BenchOptions, 'seed' | 'quick'>): Arm64Column {
  const host = new BpfJitHost({ seed: opts.seed, capstoneCheck: false, arch: 'arm64' });
  const minMs = opts.quick ? 50 : 400;
  const big = loadProgram(encodeProgram(generateProgram(new Rng(opts.seed), opts.quick ? 300 : 2000)), 'random');
  const verdict = verifyProgram(big.insns, { profile: conformanceProfile });
  const resolver = host.resolver(conformanceProfile);
  const cfg = host.space.config;
  const insns = withOrigins(big.insns);
  const functions = verdict.functions.map((s) => big.insns.findIndex((i) => i.slot === s));
  const codegenMs = timeIt(() => {
    compileBpfArm64(insns, { functions, symbolAddress: resolver, imageRange: { lo: cfg.modulesVaddr, hi: cfg.modulesEnd } }).at(cfg.modulesVaddr + 0x1000);
  }, minMs);
  const pipeMs = timeIt(() => jitCompile(big, { host }).free(), minMs);
  const hardMs = timeIt(() => jitCompile(big, { host, harden: true }).free(), minMs);
  const n = big.insns.length;

  const loop = withIters(LOOP_SOURCE, opts.quick ? 2000 : 50_000);
  const vm = new BpfInterpreter(loop);
  const jp = jitCompile(loop, { host });
  const ir = vm.run();
  const jr = jp.run();
  if (ir.r0.lo !== jr.r0.lo || ir.r0.hi !== jr.r0.hi) throw new Error('bpf-jit-arm64 bench: JIT and interpreter disagree on the loop');
  const interpMs = timeIt(() => vm.run(), minMs);
  const jitMs = timeIt(() => jp.run(), minMs);

  const mem = new Rng(opts.seed).bytes(256);
  const memLoop = withIters(MEM_LOOP, opts.quick ? 20 : 200);
  const on = jitCompile(memLoop, { host });
  const off = jitCompile(memLoop, { host, memoryChecks: false });
  if (on.run({ mem }).r0.lo !== off.run({ mem }).r0.lo) throw new Error('bpf-jit-arm64 bench: checks on/off disagree');
  const onMs = timeIt(() => on.run({ mem }), minMs);
  const offMs = timeIt(() => off.run({ mem }), minMs);
  const memNativeOn = on.run({ mem }).nativeInsns;
  const memNativeOff = off.run({ mem }).nativeInsns;

  const loopBytes = loop.insns.reduce((s, i) => s + (i.opcode === 0x18 ? 16 : 8), 0);
  const loopCode = jp.insnOffsets[loop.insns.length] as number;
  const hardLoop = jitCompile(loop, { host, harden: true });
  const bigJp = jitCompile(big, { host });
  const col: Arm64Column = {
    codegenInsnsPerSec: Math.round(n / (codegenMs / 1000)),
    pipelineInsnsPerSec: Math.round(n / (pipeMs / 1000)),
    hardenedPipelineInsnsPerSec: Math.round(n / (hardMs / 1000)),
    jitBpfInsnsPerSec: Math.round(ir.insns / (jitMs / 1000)),
    interpBpfInsnsPerSec: Math.round(ir.insns / (interpMs / 1000)),
    jitVsInterp: +(interpMs / jitMs).toFixed(3),
    jitVsUbpfInterp100M: +(ir.insns / (jitMs / 1000) / 1e8).toFixed(4),
    nativeInsnsPerBpfInsn: +(jr.nativeInsns / ir.insns).toFixed(2),
    memCheckSlowdown: +(onMs / offMs).toFixed(2),
    memCheckNativeInsnRatio: +(memNativeOn / memNativeOff).toFixed(2),
    loopBpfBytes: loopBytes,
    loopImage: jp.size,
    loopCode,
    loopHardenedImage: hardLoop.size,
    bytesPerInsn: +(loopCode / loop.insns.length).toFixed(2),
    imagePerBpfByte: +(jp.size / loopBytes).toFixed(2),
    ubpfImagePerBpfByte: +(772 / 192).toFixed(2),
    randomProgramBytesPerInsn: +((bigJp.insnOffsets[n] as number) / n).toFixed(2),
  };
  for (const p of [bigJp, hardLoop, jp, on, off]) p.free();
  return col;
}

export const bench: Benchmark = {
  name: 'bpf-jit-arm64',
  description: 'arm64 BPF JIT: compile speed, execution in the emulator vs the interpreter, memory-check overhead, code size',
  async run(opts: BenchOptions): Promise<BenchReport> {
    const { initCapstone } = await import('../../support/capstone.js');
    await initCapstone();
    const a = arm64Column(opts);
    const row = (k: string, v: string | number): string => `${k.padEnd(44)} ${String(v).padStart(14)}`;
    const text = [
      'arm64 BPF JIT benchmark',
      row('codegen BPF insns/s (sizing + emit pass)', a.codegenInsnsPerSec),
      row('pipeline BPF insns/s (verify..flush)', a.pipelineInsnsPerSec),
      row('hardened pipeline BPF insns/s', a.hardenedPipelineInsnsPerSec),
      row('JIT in emulator, BPF insns/s', a.jitBpfInsnsPerSec),
      row('interpreter (same run), BPF insns/s', a.interpBpfInsnsPerSec),
      row('JIT / interpreter speed', `${a.jitVsInterp}x`),
      row('JIT / ubpf C interpreter (100 M/s)', `${a.jitVsUbpfInterp100M}x`),
      row('native insns per BPF insn (loop)', a.nativeInsnsPerBpfInsn),
      row('memory checks on/off time', `${a.memCheckSlowdown}x`),
      row('memory checks on/off native insns', `${a.memCheckNativeInsnRatio}x`),
      row('loop: BPF bytes -> image bytes', `${a.loopBpfBytes} -> ${a.loopImage}`),
      row('code bytes per BPF insn (loop / random)', `${a.bytesPerInsn} / ${a.randomProgramBytesPerInsn}`),
      row('image bytes per BPF byte (ubpf ~4.02)', a.imagePerBpfByte),
    ].join('\n');
    return { json: { arm64: a }, text };
  },
};
