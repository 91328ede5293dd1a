// `npm run bench -- emulator`: the anchor loops (../shared/bench, raw bytes assembled by llvm-mc and
// committed in test/vectors/emulator/x86_64-anchors.json) on the emulator cores with every page
// permission enforced, next to a plain switch interpreter measured in the same process (the
// "node: switch interpreter, 64-bit regs as lo/hi u32 pairs" row of reference/machine.md §1:
// 4 Int32 words per pre-decoded instruction, one for(;;) switch, a tiny ISA, real insn counter).
// Reports Miter/s and MIPS (iterations x instructions per iteration / time) and the ratio to the
// baseline. Settings: --set iters=N (default 3e7, quick 2e6), --set check=off measures with the
// Capstone decode check disabled (it runs once per block fill either way).

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AddressSpace } from '../../execmem/index.js';
import type { Arch } from '../../execmem/types.js';
import { createCpu } from '../../emulator/index.js';
import { initCapstone } from '../../support/capstone.js';
import { hex64, hexToBytes } from '../../support/u64.js';
import type { Benchmark, BenchOptions, BenchReport } from './types.js';
import { BpfInterpreter } from '../bpf/interp.js';
import { jitCompile } from '../bpf/jit.js';
import { BpfJitHost } from '../bpf/jit-host.js';
import { LOOP_SOURCE } from './bpf-interp.js';
import { withIters } from './bpf-jit-shared.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

interface LoopDef {
  name: 'loopA' | 'loopB';
  arch: Arch;
  code: Uint8Array;
  insnsPerIter: number;
}

function anchorCode(arch: Arch, name: string): Uint8Array | null {
  const file = join(ROOT, 'test', 'vectors', 'emulator', `${arch === 'x86_64' ? 'x86_64' : 'arm64'}-anchors.json`);
  try {
    const j = JSON.parse(readFileSync(file, 'utf8')) as { loops: { name: string; code: string }[] };
    const l = j.loops.find((x) => x.name === name);
    return l ? hexToBytes(l.code) : null;
  } catch {
    return null;
  }
}

// ---- baseline: plain switch interpreter over 4-word records, lo/hi pairs --------------------

const TIERS = ['interp', 'translate'] as const;

/**
 * The bpf-jit benchmark's loop program (jit/bench/bpf-interp.ts LOOP_SOURCE, 12 BPF insns per
 * iteration) JIT-compiled by jit/bpf/jit.ts and run on each arch's emulator per tier, next to the
 * BPF interpreter. Rows report BPF instructions per second (in the Miter/s column, as millions).
 */
function bpfLoopRows(opts: BenchOptions, iters: number, skipped: string[]): Row[] {
  const rows: Row[] = [];
  const n = opts.quick ? 20_000 : Math.max(1000, Math.floor(iters / 12));
  const loop = withIters(LOOP_SOURCE, n);
  const ir = new BpfInterpreter(loop);
  const want = ir.run();
  const bpfInsns = want.insns;
  const t0 = performance.now();
  ir.run();
  const interpS = (performance.now() - t0) / 1000;
  rows.push({ engine: 'baseline BPF interpreter (jit/bpf/interp.ts)', loop: 'bpf-loop', iters: bpfInsns, seconds: interpS, miterPerS: bpfInsns / interpS / 1e6, mips: bpfInsns / interpS / 1e6, result: hex64(want.r0.lo, want.r0.hi) });
  for (const arch of ['x86_64', 'arm64'] as const) {
    let jp;
    try {
      jp = jitCompile(loop, { host: new BpfJitHost({ arch, seed: opts.seed, capstoneCheck: opts.settings.check !== 'off' }) });
    } catch (e) {
      skipped.push(`bpf-loop ${arch}: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    const j = jp;
    const budget = bpfInsns * 8 + 1000;
    for (const tier of TIERS) {
      j.host.machine.tier = tier;
      if (tier !== 'interp') for (let k = 0; k < 3; k++) j.run({ budget });
      rows.push(
        measure(`JIT'd BPF on emulator ${arch} ${tier}`, 'bpf-loop', bpfInsns, 1, () => {
          const r = j.run({ budget });
          return hex64(r.r0.lo, r.r0.hi);
        }),
      );
    }
    j.free();
  }
  const expect = hex64(want.r0.lo, want.r0.hi);
  for (const r of rows) if (r.result !== expect) throw new Error(`emulator bench: ${r.engine} computed ${r.result}, the BPF interpreter ${expect}`);
  return rows;
}

const MOVI = 0, MOVI64 = 1, MOV = 2, ADD = 3, SUBI = 4, SHRI = 5, ANDI = 6, XOR = 7, JNZ = 8, HALT = 9;

export function baselineProgram(name: 'loopA' | 'loopB'): Int32Array {
  // Registers: 0 = rax, 1 = rcx, 2 = rdx, 3 = rsi, 4 = r8 (rdi is passed in rcx by the harness).
  const p =
    name === 'loopA'
      ? [MOVI, 0, 0, 0, ADD, 0, 1, 0, SUBI, 1, 1, 0, JNZ, 1, 1, 0, HALT, 0, 0, 0]
      : [
          MOVI, 0, 0, 0, MOVI, 3, 0x12345678, 0, MOVI64, 4, 0x7f4a7c15, 0x9e3779b9 | 0,
          MOV, 2, 3, 0, SHRI, 2, 13, 0, ANDI, 2, 0x3ff, 0, ADD, 0, 2, 0, MOV, 2, 3, 0, SHRI, 2, 37, 0, ANDI, 2, 0xfffff, 0,
          XOR, 0, 2, 0, ADD, 3, 4, 0, SUBI, 1, 1, 0, JNZ, 1, 3, 0, HALT, 0, 0, 0,
        ];
  return Int32Array.from(p);
}

export function baselineRun(prog: Int32Array, n: number): { lo: number; hi: number; insns: number } {
  const r = new Int32Array(16);
  r[2] = n;
  let pc = 0;
  let insns = 0;
  for (;;) {
    const o = pc * 4;
    insns++;
    switch (prog[o]) {
      case MOVI: r[prog[o + 1]! * 2] = prog[o + 2]!; r[prog[o + 1]! * 2 + 1] = 0; pc++; break;
      case MOVI64: r[prog[o + 1]! * 2] = prog[o + 2]!; r[prog[o + 1]! * 2 + 1] = prog[o + 3]!; pc++; break;
      case MOV: { const d = prog[o + 1]! * 2, s = prog[o + 2]! * 2; r[d] = r[s]!; r[d + 1] = r[s + 1]!; pc++; break; }
      case ADD: {
        const d = prog[o + 1]! * 2, s = prog[o + 2]! * 2;
        const lo = (r[d]! >>> 0) + (r[s]! >>> 0);
        r[d] = lo | 0;
        r[d + 1] = (r[d + 1]! + r[s + 1]! + (lo > 0xffffffff ? 1 : 0)) | 0;
        pc++;
        break;
      }
      case SUBI: {
        const d = prog[o + 1]! * 2;
        const lo = (r[d]! >>> 0) - prog[o + 2]!;
        r[d] = lo | 0;
        r[d + 1] = (r[d + 1]! - (lo < 0 ? 1 : 0)) | 0;
        pc++;
        break;
      }
      case SHRI: {
        const d = prog[o + 1]! * 2, c = prog[o + 2]!;
        if (c < 32) { r[d] = (r[d]! >>> c) | (r[d + 1]! << (32 - c)); r[d + 1] = r[d + 1]! >>> c; }
        else { r[d] = r[d + 1]! >>> (c - 32); r[d + 1] = 0; }
        pc++;
        break;
      }
      case ANDI: { const d = prog[o + 1]! * 2; r[d] = r[d]! & prog[o + 2]!; r[d + 1] = 0; pc++; break; }
      case XOR: { const d = prog[o + 1]! * 2, s = prog[o + 2]! * 2; r[d] = r[d]! ^ r[s]!; r[d + 1] = r[d + 1]! ^ r[s + 1]!; pc++; break; }
      case JNZ: { const d = prog[o + 1]! * 2; pc = r[d] !== 0 || r[d + 1] !== 0 ? prog[o + 2]! : pc + 1; break; }
      default: return { lo: r[0]! >>> 0, hi: r[1]! >>> 0, insns };
    }
  }
}

// ---- measurement ------------------------------------------------------------------------------

interface Row {
  engine: string;
  loop: string;
  iters: number;
  seconds: number;
  miterPerS: number;
  mips: number;
  result: string;
}

function measure(engine: string, loop: string, iters: number, perIter: number, fn: () => string): Row {
  fn();
  const t0 = performance.now();
  const result = fn();
  const seconds = (performance.now() - t0) / 1000;
  return { engine, loop, iters, seconds, miterPerS: iters / seconds / 1e6, mips: (iters * perIter) / seconds / 1e6, result };
}

async function run(opts: BenchOptions): Promise<BenchReport> {
  await initCapstone();
  const iters = Number(opts.settings.iters ?? (opts.quick ? 2_000_000 : 30_000_000));
  const check = opts.settings.check !== 'off';
  const loops: LoopDef[] = [];
  for (const arch of ['x86_64', 'arm64'] as const) {
    for (const name of ['loopA', 'loopB'] as const) {
      const code = anchorCode(arch, name);
      if (code) loops.push({ name, arch, code, insnsPerIter: name === 'loopA' ? 3 : arch === 'x86_64' ? 11 : 7 });
    }
  }
  // One throwaway translation first: binaryen's own wasm warms up on its first module (~0.1 s),
  // which would otherwise be charged to the first loop's translation cost.
  if (loops[0]) {
    const space = new AddressSpace({ arch: loops[0].arch, seed: opts.seed });
    const addr = space.execmemAlloc('BPF', loops[0].code.length);
    space.textPokeCopy(addr, loops[0].code);
    createCpu(loops[0].arch, space, { capstoneCheck: false }).call(addr, [10], { tier: 'translate' });
  }
  const rows: Row[] = [];
  const costs: { arch: string; loop: string; microsPerBlock: number; blocks: number }[] = [];
  const skipped: string[] = [];
  let done = 0;
  for (const l of loops) {
    opts.progress(done++, loops.length + 2, `${l.arch} ${l.name}`);
    const space = new AddressSpace({ arch: l.arch, seed: opts.seed });
    let cpu;
    try {
      cpu = createCpu(l.arch, space, { capstoneCheck: check });
    } catch (e) {
      skipped.push(`${l.arch}: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    const addr = space.execmemAlloc('BPF', l.code.length);
    space.textPokeCopy(addr, l.code);
    const c = cpu;
    for (const tier of TIERS) {
      // Short warm-up calls first: V8 compiles translated code with its baseline tier and swaps in
      // the optimised code on a later call (wasm has no on-stack replacement).
      if (tier !== 'interp') for (let k = 0; k < 4; k++) c.call(addr, [Math.max(1, iters >> 4)], { budget: iters * l.insnsPerIter + 100, tier });
      rows.push(
        measure(`emulator ${l.arch} ${tier}`, l.name, iters, l.insnsPerIter, () => {
          const r = c.call(addr, [iters], { budget: iters * l.insnsPerIter + 100, tier });
          return hex64(r.ret.lo, r.ret.hi);
        }),
      );
    }
    const st = c.translationStats();
    if (st && st.blocksTranslated > 0) costs.push({ arch: l.arch, loop: l.name, microsPerBlock: st.translateMicros / st.blocksTranslated, blocks: st.blocksTranslated });
    if (l.name === 'loopA') {
      // The cache/TLB model's observer: the call falls back to the interpreter (per block fetches).
      const observer = { fetch(): void {}, load(): void {}, store(): void {} };
      const n = Math.max(1, Math.floor(iters / 10));
      rows.push(
        measure(`emulator ${l.arch} observer (interp)`, l.name, n, l.insnsPerIter, () => {
          const r = c.call(addr, [n], { budget: n * l.insnsPerIter + 100, observer, tier: 'translate' });
          return hex64(r.ret.lo, r.ret.hi);
        }),
      );
    }
  }
  const bpfRows = bpfLoopRows(opts, iters, skipped);
  for (const name of ['loopA', 'loopB'] as const) {
    opts.progress(done++, loops.length + 2, `baseline ${name}`);
    const prog = baselineProgram(name);
    rows.push(
      measure('baseline switch interpreter (lo/hi pairs)', name, iters, name === 'loopA' ? 3 : 11, () => {
        const r = baselineRun(prog, iters);
        return hex64(r.lo, r.hi);
      }),
    );
  }
  rows.push(...bpfRows);
  opts.progress(1, 1, 'done');
  const base = (loop: string): Row | undefined => rows.find((r) => r.engine.startsWith('baseline') && r.loop === loop);
  const text = [
    `anchor loops, ${iters} iterations, permissions enforced, Capstone check ${check ? 'on (once per block fill)' : 'off'}`,
    `${'engine'.padEnd(44)} ${'loop'.padEnd(6)} ${'Miter/s'.padStart(9)} ${'MIPS'.padStart(8)} ${'vs baseline'.padStart(12)}  result`,
    ...rows.map((r) => {
      const b = base(r.loop);
      const ratio = b ? (r.miterPerS / b.miterPerS).toFixed(2) + 'x' : '-';
      return `${r.engine.padEnd(44)} ${r.loop.padEnd(6)} ${r.miterPerS.toFixed(1).padStart(9)} ${r.mips.toFixed(0).padStart(8)} ${ratio.padStart(12)}  ${r.result}`;
    }),
    'bpf-loop rows: Miter/s = millions of BPF instructions per second (the BPF interpreter row is jit/bpf/interp.ts); target > 100-145 M BPF insns/s (ubpf C interpreter)',
    ...costs.map((k) => `translation cost ${k.arch} ${k.loop}: ${k.microsPerBlock.toFixed(0)} µs per block (${k.blocks} blocks, binaryen + V8 compile)`),
    'reference (machine.md §1, this machine kind): plain node interpreter ~125 MIPS loopA; Unicorn no-hook loopA ~635 Miter/s; target: translated >= 315 Miter/s loopA (0.5x Unicorn)',
    ...skipped.map((s) => `skipped ${s}`),
  ].join('\n');
  return {
    json: {
      iters,
      capstoneCheck: check,
      rows: rows.map((r) => ({ ...r, seconds: Number(r.seconds.toFixed(4)), miterPerS: Number(r.miterPerS.toFixed(2)), mips: Number(r.mips.toFixed(1)) })),
      translationCost: costs.map((k) => ({ ...k, microsPerBlock: Number(k.microsPerBlock.toFixed(1)) })),
      skipped,
    },
    text,
  };
}

export const bench: Benchmark = {
  name: 'emulator',
  description: 'anchor loops on the emulator cores vs a plain switch interpreter (Miter/s, MIPS)',
  run,
};
