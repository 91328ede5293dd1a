// Benchmark: the BPF JIT pipeline (jit/bpf/jit.ts) on x86_64, with the arm64 column from bpf-jit-arm64.ts. Measured in one run:
// - compile speed: BPF instructions per second through codegen alone (both passes: sizing and the
//   final emit at the ROX address) and through the whole pipeline (verify, blind when hardened,
//   codegen, bpf_prog_pack alloc, text_poke_copy); target >= 2 M insns/s on x86_64;
// - execution: BPF instructions per second of JIT'd code in the emulator, next to the reference
//   interpreter on the same program (the baseline; ubpf's C interpreter does ~100 M/s natively);
// - memory-check overhead: a loop over input memory (accesses the verifier cannot prove) with
//   runtime checks on vs off;
// - code size: image bytes per BPF instruction, and per BPF byte next to ubpf's ~760 B of x86_64
//   for a 192-byte loop program (reference/bpf.md §4.2).

import { BpfInterpreter, loadProgram } from '../bpf/interp.js';
import { jitCompile } from '../bpf/jit.js';
import { BpfJitHost } from '../bpf/jit-host.js';
import { verifyProgram } from '../bpf/verifier.js';
import { conformanceProfile } from '../bpf/helpers-conformance.js';
import { encodeProgram } from '../bpf/isa.js';
import { generateProgram } from '../fuzz/bpf-jit.js';
import { compileBpfX86 } from '../../codegen/bpf/x86_64.js';
import { withOrigins } from '../../codegen/bpf/common.js';
import { Rng } from '../../support/rng.js';
import { LOOP_SOURCE } from './bpf-interp.js';
import { MEM_LOOP, timeIt, withIters } from './bpf-jit-shared.js';
import type { Benchmark, BenchOptions, BenchReport } from './types.js';
import { arm64Column } from './bpf-jit-arm64.js';


export const bench: Benchmark = {
  name: 'bpf-jit',
  description: 'BPF JIT: compile speed, execution in the emulator vs the interpreter, memory-check overhead, code size',
  async run(opts: BenchOptions): Promise<BenchReport> {
    const { initCapstone } = await import('../../support/capstone.js');
    await initCapstone();
    const host = new BpfJitHost({ seed: opts.seed, capstoneCheck: false });
    const minMs = opts.quick ? 50 : 400;

    // ---- compile speed ----
    const big = loadProgram(encodeProgram(generateProgram(new Rng(opts.seed), opts.quick ? 300 : 2000)), 'random');
    const verdict = verifyProgram(big.insns, { profile: conformanceProfile });
    const resolver = host.resolver(conformanceProfile);
    const cfg = host.space.config;
    const insns = withOrigins(big.insns);
    const codegenMs = timeIt(() => {
      const c = compileBpfX86(insns, { functions: verdict.functions.map((s) => big.insns.findIndex((i) => i.slot === s)), symbolAddress: resolver, imageRange: { lo: cfg.modulesVaddr, hi: cfg.modulesEnd } });
      c.at(cfg.modulesVaddr + 0x1000);
    }, minMs);
    opts.progress(1, 4, 'compile');
    const pipeMs = timeIt(() => jitCompile(big, { host }).free(), minMs);
    const hardMs = timeIt(() => jitCompile(big, { host, harden: true }).free(), minMs);
    const n = big.insns.length;
    const codegenRate = n / (codegenMs / 1000);

    // ---- execution ----
    const iters = opts.quick ? 2000 : 50_000;
    const loop = withIters(LOOP_SOURCE, iters);
    const vm = new BpfInterpreter(loop);
    const jp = jitCompile(loop, { host });
    const ir = vm.run();
    const jr = jp.run();
    if (ir.r0.lo !== jr.r0.lo || ir.r0.hi !== jr.r0.hi) throw new Error('bpf-jit bench: JIT and interpreter disagree on the loop');
    const interpMs = timeIt(() => vm.run(), minMs);
    const jitMs = timeIt(() => jp.run(), minMs);
    opts.progress(2, 4, 'execute');

    // ---- memory checks ----
    const mem = new Rng(opts.seed).bytes(256);
    const memLoop = withIters(MEM_LOOP, opts.quick ? 20 : 200);
    const on = jitCompile(memLoop, { host });
    const off = jitCompile(memLoop, { host, memoryChecks: false });
    const memInsns = new BpfInterpreter(memLoop).run({ mem }).insns;
    if (on.run({ mem }).r0.lo !== off.run({ mem }).r0.lo) throw new Error('bpf-jit bench: checks on/off disagree');
    const onMs = timeIt(() => on.run({ mem }), minMs);
    const offMs = timeIt(() => off.run({ mem }), minMs);
    const memNativeOn = on.run({ mem }).nativeInsns;
    const memNativeOff = off.run({ mem }).nativeInsns;
    opts.progress(3, 4, 'memory checks');

    // ---- code size ----
    const loopBytes = loop.insns.reduce((s, i) => s + (i.opcode === 0x18 ? 16 : 8), 0);
    const loopCode = jp.insnOffsets[loop.insns.length] as number;
    const hardLoop = jitCompile(loop, { host, harden: true });
    const sizes = {
      loopBpfBytes: loopBytes,
      loopImage: jp.size,
      loopCode,
      loopHardenedImage: hardLoop.size,
      bytesPerInsn: +(loopCode / loop.insns.length).toFixed(2),
      imagePerBpfByte: +(jp.size / loopBytes).toFixed(2),
      ubpfImagePerBpfByte: +(760 / 192).toFixed(2),
      randomProgramBytesPerInsn: 0,
    };
    const bigJp = jitCompile(big, { host });
    sizes.randomProgramBytesPerInsn = +((bigJp.insnOffsets[n] as number) / n).toFixed(2);
    bigJp.free();
    hardLoop.free();
    jp.free();
    on.free();
    off.free();
    opts.progress(4, 4, 'done');

    const loopInsns = ir.insns;
    const x86 = {
      codegenInsnsPerSec: Math.round(codegenRate),
      pipelineInsnsPerSec: Math.round(n / (pipeMs / 1000)),
      hardenedPipelineInsnsPerSec: Math.round(n / (hardMs / 1000)),
      compileTargetRatio: +(codegenRate / 2e6).toFixed(2),
      jitBpfInsnsPerSec: Math.round(loopInsns / (jitMs / 1000)),
      interpBpfInsnsPerSec: Math.round(loopInsns / (interpMs / 1000)),
      jitVsInterp: +(interpMs / jitMs).toFixed(3),
      jitVsUbpfInterp100M: +(loopInsns / (jitMs / 1000) / 1e8).toFixed(4),
      nativeInsnsPerBpfInsn: +(jr.nativeInsns / loopInsns).toFixed(2),
      memCheckSlowdown: +(onMs / offMs).toFixed(2),
      memCheckNativeInsnRatio: +(memNativeOn / memNativeOff).toFixed(2),
      memLoopBpfInsns: memInsns,
      ...sizes,
    };
    const a64 = arm64Column(opts);
    const json = { programInsns: n, loopBpfInsns: loopInsns, x86_64: x86, arm64: a64 };
    const row = (k: string, v: string | number, a: string | number = '-'): string => `${k.padEnd(44)} ${String(v).padStart(14)} ${String(a).padStart(14)}`;
    const text = [
      `BPF JIT benchmark (compile: random program of ${n} insns; execute: loop of ${loopInsns} BPF insns)`,
      row('', 'x86_64', 'arm64'),
      row('codegen BPF insns/s (2 passes; target 2 M)', x86.codegenInsnsPerSec, a64.codegenInsnsPerSec),
      row('pipeline BPF insns/s (verify..text_poke)', x86.pipelineInsnsPerSec, a64.pipelineInsnsPerSec),
      row('hardened pipeline BPF insns/s', x86.hardenedPipelineInsnsPerSec, a64.hardenedPipelineInsnsPerSec),
      row('JIT in emulator, BPF insns/s', x86.jitBpfInsnsPerSec, a64.jitBpfInsnsPerSec),
      row('interpreter (same run), BPF insns/s', x86.interpBpfInsnsPerSec, a64.interpBpfInsnsPerSec),
      row('JIT / interpreter speed', `${x86.jitVsInterp}x`, `${a64.jitVsInterp}x`),
      row('JIT / ubpf C interpreter (100 M/s)', `${x86.jitVsUbpfInterp100M}x`, `${a64.jitVsUbpfInterp100M}x`),
      row('native insns per BPF insn (loop)', x86.nativeInsnsPerBpfInsn, a64.nativeInsnsPerBpfInsn),
      row('memory checks on/off time', `${x86.memCheckSlowdown}x`, `${a64.memCheckSlowdown}x`),
      row('memory checks on/off native insns', `${x86.memCheckNativeInsnRatio}x`, `${a64.memCheckNativeInsnRatio}x`),
      row('loop: BPF bytes -> image bytes', `${loopBytes} -> ${x86.loopImage}`, `${loopBytes} -> ${a64.loopImage}`),
      row('code bytes per BPF insn (loop / random)', `${x86.bytesPerInsn} / ${x86.randomProgramBytesPerInsn}`, `${a64.bytesPerInsn} / ${a64.randomProgramBytesPerInsn}`),
      row('image bytes per BPF byte (ubpf x86 ~3.96 / arm64 ~4.02)', x86.imagePerBpfByte, a64.imagePerBpfByte),
    ].join('\n');
    return { json, text };
  },
};
