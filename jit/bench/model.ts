// `jitbox bench model`: the anchor loops (test/vectors/emulator/*-anchors.json) on both cores with
// the memory-hierarchy model off and on (skylake preset, an AccessObserver per call), MIPS for
// each and the on/off ratio, plus an x86_64 load/store loop over 8 KiB ("memory": mov rdx,rcx;
// and rdx,0x3ff; mov [rdi+rdx*8],rcx; add rax,[rdi+rdx*8]; dec rcx; jnz; bytes from llvm-mc) for
// the data side. "off" runs the machine's default tier (the translation tier where it applies),
// "interp" the interpreter alone; with an observer every call is interpreted, so on/interp is the
// model's own cost.
// The goal: at least 30 MIPS on loopA with the model on.
// Settings: --set iters=N (default 5e6, quick 5e5), --set preset=skylake|neoverse-n1.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AddressSpace } from '../../execmem/index.js';
import type { Arch } from '../../execmem/types.js';
import { createCpu } from '../../emulator/index.js';
import { isPresetName, MemoryHierarchy, PRESETS } from '../../emulator/hierarchy/index.js';
import { initCapstone } from '../../support/capstone.js';
import { InvalidArgumentError } from '../../support/errors.js';
import { hexToBytes } from '../../support/u64.js';
import type { Benchmark, BenchOptions, BenchReport } from './types.js';

const MEMORY_LOOP = '48 89 ca 48 81 e2 ff 03 00 00 48 89 0c d7 48 03 04 d7 48 ff c9 75 e9 c3';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function anchor(arch: Arch, name: string): Uint8Array | null {
  if (name === 'memory') return arch === 'x86_64' ? hexToBytes(MEMORY_LOOP) : null;
  try {
    const file = join(ROOT, 'test', 'vectors', 'emulator', `${arch}-anchors.json`);
    const j = JSON.parse(readFileSync(file, 'utf8')) as { loops: { name: string; code: string }[] };
    const l = j.loops.find((x) => x.name === name);
    return l ? hexToBytes(l.code) : null;
  } catch {
    return null;
  }
}

interface Row {
  arch: Arch;
  loop: string;
  offMips: number;
  interpMips: number;
  onMips: number;
  ratio: number;
  l1iMisses: number;
  cycles: number;
}

function timeIt(fn: () => number): { seconds: number; insns: number } {
  fn();
  const t0 = performance.now();
  const insns = fn();
  return { seconds: (performance.now() - t0) / 1000, insns };
}

async function run(opts: BenchOptions): Promise<BenchReport> {
  await initCapstone();
  const iters = Number(opts.settings.iters ?? (opts.quick ? 500_000 : 5_000_000));
  if (!Number.isSafeInteger(iters) || iters <= 0) throw new InvalidArgumentError(`iters must be a positive integer, got ${opts.settings.iters}`);
  const presetName = opts.settings.preset ?? 'skylake';
  if (!isPresetName(presetName)) throw new InvalidArgumentError(`unknown preset "${presetName}" (skylake, neoverse-n1)`);
  const t00 = performance.now();
  const rows: Row[] = [];
  const jobs: [Arch, string][] = [['x86_64', 'loopA'], ['x86_64', 'loopB'], ['x86_64', 'memory'], ['arm64', 'loopA'], ['arm64', 'loopB']];
  let done = 0;
  for (const [arch, loop] of jobs) {
    opts.progress(done++, jobs.length, `${arch} ${loop}`);
    const code = anchor(arch, loop);
    if (!code) continue;
    const space = new AddressSpace({ arch, seed: opts.seed });
    const entry = space.execmemAlloc('BPF', code.length);
    space.textPokeCopy(entry, code);
    if (arch === 'arm64') space.flushIcacheRange(entry, code.length);
    const cpu = createCpu(arch, space, { capstoneCheck: false });
    const interp = createCpu(arch, space, { capstoneCheck: false, tier: 'interp' });
    const h = new MemoryHierarchy(space, PRESETS[presetName]);
    const budget = iters * 16 + 100;
    const args = loop === 'memory' ? [space.vmalloc(8192, 'bench model data'), 0, 0, iters] : [iters];
    const off = timeIt(() => cpu.call(entry, args, { budget }).counters.insns);
    const plain = timeIt(() => interp.call(entry, args, { budget }).counters.insns);
    const on = timeIt(() => {
      h.resetStats();
      return cpu.call(entry, args, { budget, observer: h }).counters.insns;
    });
    const s = h.stats();
    const offMips = off.insns / off.seconds / 1e6;
    const onMips = on.insns / on.seconds / 1e6;
    const interpMips = plain.insns / plain.seconds / 1e6;
    rows.push({ arch, loop, offMips, interpMips, onMips, ratio: onMips / interpMips, l1iMisses: s.l1i.misses, cycles: s.cycles });
    h.dispose();
    cpu.dispose();
    interp.dispose();
  }
  opts.progress(1, 1, 'done');
  const seconds = (performance.now() - t00) / 1000;
  const text = [
    `anchor loops, ${iters} iterations, model preset ${presetName}, Capstone check off; runtime ${seconds.toFixed(1)} s`,
    `${'arch'.padEnd(7)} ${'loop'.padEnd(6)} ${'off MIPS'.padStart(9)} ${'interp'.padStart(9)} ${'on MIPS'.padStart(9)} ${'on/interp'.padStart(10)} ${'cycles'.padStart(12)}`,
    ...rows.map(
      (r) =>
        `${r.arch.padEnd(7)} ${r.loop.padEnd(6)} ${r.offMips.toFixed(1).padStart(9)} ${r.interpMips.toFixed(1).padStart(9)} ${r.onMips.toFixed(1).padStart(9)} ` +
        `${r.ratio.toFixed(2).padStart(10)} ${String(r.cycles).padStart(12)}`,
    ),
    'goal (issue 8): >= 30 MIPS on loopA with the model on',
  ].join('\n');
  return {
    json: {
      iters,
      preset: presetName,
      seconds: Number(seconds.toFixed(3)),
      rows: rows.map((r) => ({ ...r, offMips: Number(r.offMips.toFixed(1)), interpMips: Number(r.interpMips.toFixed(1)), onMips: Number(r.onMips.toFixed(1)), ratio: Number(r.ratio.toFixed(3)) })),
    },
    text,
  };
}

export const bench: Benchmark = {
  name: 'model',
  description: 'anchor loops with the cache/TLB model off vs on (MIPS, ratio)',
  run,
};
