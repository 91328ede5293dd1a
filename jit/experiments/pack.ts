// Experiment `pack` (issue 8, experiment 3): N BPF programs with the fleet's size distribution,
// JIT-compiled for x86_64 and arm64, placed four ways and run round-robin in the emulator with the
// cache/TLB/cycle model on. Compared with LKML (Song Liu, Jul 2022; reference/execmem.md §6): BPF
// iTLB misses ~300/s with the pack on one 2 MiB page vs ~1600/s with the pack on 512 x 4 KiB.
//
// Placement modes (how the kernel chooses: jit/bpf/jit.ts always takes bpf_jit_binary_pack_alloc;
// execmem/pack.ts maps each 2 MiB pack with one 2 MiB leaf when `hugePacks`, and `bpfFromRoxCache`
// serves the BPF execmem range from the x86 ROX cache):
// - page:      one program per 4 KiB page, the footprint of the page path (bpf_jit_binary_alloc,
//              arches without packs). jitCompile has no page path, so each program's pack chunk is
//              followed by filler chunks up to the next page boundary (pack mapped with 4 KiB pages):
//              the same pages-per-program as the page path, with the real pack allocator.
// - pack-4k:   bpf_prog_pack mapped with 512 x 4 KiB pages (the published "~1600/s" case).
// - pack-2m:   bpf_prog_pack on one 2 MiB leaf (the published "~300/s" case).
// - rox-cache: x86_64 only: BPF execmem served from the ROX cache (2 MiB-leaf cache areas).
//
// Invariants:
// - The same BPF programs (per arch) run in every mode, in the same round-robin order; each
//   program's r0 is checked equal across modes (the placement must not change behaviour).
// - One warm-up round runs with the model attached before the counters are reset, so the figures
//   are steady-state round-robin costs, not cold-start compulsory misses.
// - Conclusions are computed from the rows by `packConclusions` (no fixed prose).

import { AddressSpace } from '../../execmem/space.js';
import { InvariantError } from '../../support/errors.js';
import type { Rng } from '../../support/rng.js';
import { BpfJitHost } from '../bpf/jit-host.js';
import { jitCompile, type JitProgram } from '../bpf/jit.js';
import { BPF_MAX_CALL_DEPTH, BPF_STACK_SIZE } from '../bpf/isa.js';
import type { BpfProgram } from '../bpf/runtime.js';
import { drawImageSize, makeProgram } from './bpf-progs.js';
import { configFor, counts, defaultModelParams, makeHierarchy, type ModelArch, type ModelParams } from './model.js';
import { type ExperimentContext, round } from './runner.js';
import type { Table } from './table.js';
import type { BarChart } from './svg.js';

export type PackMode = 'page' | 'pack-4k' | 'pack-2m' | 'rox-cache';
export const PACK_MODES: readonly PackMode[] = ['page', 'pack-4k', 'pack-2m', 'rox-cache'];

/** Published BPF iTLB misses per second (pack on 512 x 4 KiB, pack on one 2 MiB page). */
export const PUBLISHED = { itlbPerSec4k: 1600, itlbPerSec2m: 300, source: 'LKML, Song Liu, Jul 2022 (reference/execmem.md §6)' };
export const PUBLISHED_RATIO = PUBLISHED.itlbPerSec4k / PUBLISHED.itlbPerSec2m;

export interface PackParams {
  programs: number;
  rounds: number;
  arches: ModelArch[];
  model: ModelParams;
}

export interface PackSizeStats {
  programs: number;
  medianBytes: number;
  p75Bytes: number;
  meanBytes: number;
  totalBytes: number;
  under500: number;
  under2k: number;
}

export interface PackRow {
  arch: ModelArch;
  mode: PackMode;
  preset: string;
  /** Distinct 4 KiB pages and 2 MiB regions holding program code. */
  codePages4k: number;
  codeRegions2m: number;
  runs: number;
  insns: number;
  cycles: number;
  itlbMisses: number;
  stlbMisses: number;
  walks: number;
  l1iMisses: number;
  l2Misses: number;
  llcMisses: number;
  itlbMpki: number;
  l1iMpki: number;
  l2Mpki: number;
  walksPki: number;
  cyclesPerRun: number;
  cpi: number;
}

export interface PackResult {
  params: { programs: number; rounds: number; arches: ModelArch[]; presets: Record<string, string>; overrides: Record<string, string> };
  sizes: Partial<Record<ModelArch, PackSizeStats>>;
  rows: PackRow[];
  skipped: { arch: ModelArch; mode: PackMode; reason: string }[];
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

function sizeStats(sizes: number[]): PackSizeStats {
  const s = [...sizes].sort((a, b) => a - b);
  const total = s.reduce((a, b) => a + b, 0);
  return {
    programs: s.length,
    medianBytes: percentile(s, 0.5),
    p75Bytes: percentile(s, 0.75),
    meanBytes: round(total / Math.max(1, s.length), 1),
    totalBytes: total,
    under500: round(s.filter((x) => x < 500).length / Math.max(1, s.length), 3),
    under2k: round(s.filter((x) => x < 2048).length / Math.max(1, s.length), 3),
  };
}

function spaceFor(arch: ModelArch, mode: PackMode, seed: number): AddressSpace | null {
  switch (mode) {
    case 'page':
    case 'pack-4k':
      return new AddressSpace({ arch, seed, hugePacks: false });
    case 'pack-2m':
      return new AddressSpace({ arch, seed, hugePacks: true });
    case 'rox-cache':
      return arch === 'x86_64' ? new AddressSpace({ arch, seed, roxCache: true, bpfFromRoxCache: true }) : null;
  }
}

/** Image size as a + b * n from two calibration programs (prologue/epilogue + bytes per insn). */
function calibrate(arch: ModelArch, rng: Rng, seed: number): { a: number; b: number } {
  const host = new BpfJitHost({ arch, space: new AddressSpace({ arch, seed }), capstoneCheck: false });
  const n1 = 8;
  const n2 = 256;
  const s1 = jitCompile(makeProgram(rng, n1, 'calibrate-small'), { arch, host }).size;
  const s2 = jitCompile(makeProgram(rng, n2, 'calibrate-large'), { arch, host }).size;
  const b = (s2 - s1) / (n2 - n1);
  return { a: s1 - b * n1, b };
}

function makePrograms(arch: ModelArch, ctx: ExperimentContext, count: number, seed: number): BpfProgram[] {
  const cal = calibrate(arch, ctx.rng(`pack/calibrate/${arch}`), seed);
  const sizeRng = ctx.rng(`pack/sizes/${arch}`);
  const progRng = ctx.rng(`pack/programs/${arch}`);
  const out: BpfProgram[] = [];
  for (let i = 0; i < count; i++) {
    const target = drawImageSize(sizeRng);
    const n = Math.max(1, Math.round((target - cal.a) / cal.b));
    out.push(makeProgram(progRng, n, `prog${i}`));
  }
  return out;
}

const pageOffset = (a: number): number => ((a % 4096) + 4096) % 4096;

/**
 * Fill the rest of the page after `jp`'s chunk with pack chunks (page-path footprint). When `jp`
 * opened a new pack, the older packs' free tails are filled first, so first fit (packs in creation
 * order) can only ever hand out page-aligned runs.
 */
function padToPage(host: BpfJitHost, jp: JitProgram): void {
  const packs = host.space.packs;
  for (const old of packs.packList()) {
    if (old.base !== jp.pack && old.freeChunks > 0) packs.packAlloc(old.freeChunks * 64);
  }
  const allocEnd = jp.chunk + Math.ceil((jp.size + 8 + 16) / 64) * 64;
  const pad = (4096 - pageOffset(allocEnd)) % 4096;
  if (pad > 0) packs.packAlloc(pad);
}

interface ModeRun {
  row: PackRow;
  r0: string[];
  sizes: number[];
}

function runMode(arch: ModelArch, mode: PackMode, programs: BpfProgram[], p: PackParams, seed: number): ModeRun | null {
  const space = spaceFor(arch, mode, seed);
  if (space === null) return null;
  const host = new BpfJitHost({ arch, space, capstoneCheck: false });
  const jps: JitProgram[] = [];
  for (const prog of programs) {
    const jp = jitCompile(prog, { arch, host });
    jps.push(jp);
    if (mode === 'page') {
      if (pageOffset(jp.chunk) !== 0) throw new InvariantError(`pack: page mode placed ${prog.name} at offset ${pageOffset(jp.chunk)} of its page`);
      padToPage(host, jp);
    }
  }
  const stack = (jps[0] as JitProgram).newAllocator().allocate(BPF_STACK_SIZE * BPF_MAX_CALL_DEPTH, 'stack', true, 'stack');
  const top = stack.base + stack.bytes.length;
  const pages = new Set<number>();
  const regions = new Set<number>();
  for (const jp of jps) {
    for (let a = Math.floor(jp.entry / 4096); a <= Math.floor((jp.entry + jp.size - 1) / 4096); a++) pages.add(a);
    for (let a = Math.floor(jp.entry / 0x200000); a <= Math.floor((jp.entry + jp.size - 1) / 0x200000); a++) regions.add(a);
  }
  const model = makeHierarchy(space, arch, p.model);
  const machine = host.machine;
  const r0: string[] = [];
  const runRound = (record: boolean): void => {
    for (const jp of jps) {
      const res = machine.call(jp.entry, [0, 0, top], { observer: model, budget: 10_000_000 });
      if (record) r0.push(`${res.ret.hi.toString(16)}:${res.ret.lo.toString(16)}`);
    }
  };
  runRound(true);
  model.resetStats();
  for (let r = 0; r < p.rounds; r++) runRound(false);
  const c = counts(model.stats());
  model.dispose();
  host.machine.dispose();
  const runs = p.rounds * jps.length;
  const k = c.insns / 1000;
  return {
    r0,
    sizes: jps.map((j) => j.size),
    row: {
      arch,
      mode,
      preset: configFor(arch, p.model).name,
      codePages4k: pages.size,
      codeRegions2m: regions.size,
      runs,
      insns: c.insns,
      cycles: c.cycles,
      itlbMisses: c.itlbMisses,
      stlbMisses: c.stlbMisses,
      walks: c.walks,
      l1iMisses: c.l1iMisses,
      l2Misses: c.l2Misses,
      llcMisses: c.llcMisses,
      itlbMpki: round(c.itlbMisses / k, 3),
      l1iMpki: round(c.l1iMisses / k, 3),
      l2Mpki: round(c.l2Misses / k, 3),
      walksPki: round(c.walks / k, 3),
      cyclesPerRun: round(c.cycles / runs, 1),
      cpi: round(c.cycles / Math.max(1, c.insns), 3),
    },
  };
}

/** Steps the progress bar counts for `runPack`. */
export function packSteps(p: PackParams): number {
  return p.arches.length * PACK_MODES.length;
}

export function runPack(ctx: ExperimentContext, p: PackParams): PackResult {
  const result: PackResult = {
    params: {
      programs: p.programs,
      rounds: p.rounds,
      arches: p.arches,
      presets: Object.fromEntries(p.arches.map((a) => [a, p.model.preset[a]])),
      overrides: p.model.overrides,
    },
    sizes: {},
    rows: [],
    skipped: [],
  };
  const spaceSeed = ctx.rng('pack/space').u32();
  for (const arch of p.arches) {
    const programs = ctx.timed(`pack ${arch} generate`, () => makePrograms(arch, ctx, p.programs, spaceSeed));
    let ref: ModeRun | null = null;
    for (const mode of PACK_MODES) {
      const run = ctx.timed(`pack ${arch} ${mode}`, () => runMode(arch, mode, programs, p, spaceSeed));
      ctx.step(`pack ${arch} ${mode}`);
      if (run === null) {
        result.skipped.push({ arch, mode, reason: 'the ROX cache exists only on x86_64 (arm64 never uses it)' });
        continue;
      }
      if (ref === null) {
        ref = run;
        result.sizes[arch] = sizeStats(run.sizes);
      } else {
        const bad = run.r0.findIndex((v, i) => v !== ref?.r0[i]);
        if (bad >= 0) throw new InvariantError(`pack: program ${bad} returned ${run.r0[bad]} in mode ${mode} but ${ref.r0[bad]} in ${ref.row.mode} (${arch})`);
      }
      result.rows.push(run.row);
    }
  }
  return result;
}

// ---- conclusions, tables, charts ---------------------------------------------------------------

export interface PackComparison {
  arch: ModelArch;
  itlb4k: number;
  itlb2m: number;
  /** pack-4k / pack-2m iTLB misses; null when pack-2m had none (ratio unbounded). */
  ratio: number | null;
  verdict: 'matches' | 'larger' | 'smaller' | 'unbounded' | 'no-misses';
}

export function comparePublished(rows: readonly PackRow[]): PackComparison[] {
  const out: PackComparison[] = [];
  const arches = [...new Set(rows.map((r) => r.arch))];
  for (const arch of arches) {
    const a = rows.find((r) => r.arch === arch && r.mode === 'pack-4k');
    const b = rows.find((r) => r.arch === arch && r.mode === 'pack-2m');
    if (!a || !b) continue;
    let ratio: number | null = null;
    let verdict: PackComparison['verdict'];
    if (a.itlbMisses === 0 && b.itlbMisses === 0) verdict = 'no-misses';
    else if (b.itlbMisses === 0) verdict = 'unbounded';
    else {
      ratio = a.itlbMisses / b.itlbMisses;
      verdict = ratio > PUBLISHED_RATIO * 2 ? 'larger' : ratio < PUBLISHED_RATIO / 2 ? 'smaller' : 'matches';
    }
    out.push({ arch, itlb4k: a.itlbMisses, itlb2m: b.itlbMisses, ratio: ratio === null ? null : round(ratio, 2), verdict });
  }
  return out;
}

/** Extra cycles of `a` over `b` split by cause, with the model's penalties (largest first). */
function costBreakdown(r: PackResult, arch: ModelArch, a: PackRow, b: PackRow): string {
  const cfg = configFor(arch, { preset: { ...defaultModelParams().preset, ...(r.params.presets as Partial<ModelParams['preset']>) }, overrides: r.params.overrides });
  const c = cfg.cycles;
  const stlbHits = (x: PackRow): number => x.itlbMisses - x.walks;
  const parts = [
    { what: 'iTLB misses', cycles: (stlbHits(a) - stlbHits(b)) * c.stlbHit + (a.walks - b.walks) * c.walk, n: a.itlbMisses - b.itlbMisses },
    { what: 'L1i misses', cycles: (a.l1iMisses - b.l1iMisses) * c.l1Miss, n: a.l1iMisses - b.l1iMisses },
    { what: 'L2 misses', cycles: (a.l2Misses - b.l2Misses) * c.l2Miss, n: a.l2Misses - b.l2Misses },
    { what: 'LLC misses', cycles: (a.llcMisses - b.llcMisses) * c.llcMiss, n: a.llcMisses - b.llcMisses },
  ]
    .filter((x) => x.what !== 'LLC misses' || cfg.llc !== undefined)
    .sort((x, y) => y.cycles - x.cycles);
  const total = a.cycles - b.cycles;
  return `${total} more cycles in total; ` + parts.map((x) => `${x.n >= 0 ? '+' : ''}${x.n} ${x.what} (${x.cycles >= 0 ? '+' : ''}${x.cycles} cycles)`).join(', ');
}

/** Sentences derived from the rows: which placement is cheapest, and the published comparison. */
export function packConclusions(r: PackResult): string[] {
  const lines: string[] = [];
  for (const arch of [...new Set(r.rows.map((x) => x.arch))]) {
    const rows = r.rows.filter((x) => x.arch === arch);
    const byItlb = [...rows].sort((a, b) => a.itlbMpki - b.itlbMpki);
    const byCycles = [...rows].sort((a, b) => a.cyclesPerRun - b.cyclesPerRun);
    const best = byCycles[0] as PackRow;
    const worst = byCycles[byCycles.length - 1] as PackRow;
    const gain = worst.cyclesPerRun > 0 ? (100 * (worst.cyclesPerRun - best.cyclesPerRun)) / worst.cyclesPerRun : 0;
    const lo = byItlb[0] as PackRow;
    const hi = byItlb[byItlb.length - 1] as PackRow;
    const fewest = rows.filter((x) => x.itlbMisses === lo.itlbMisses).map((x) => x.mode).join('/');
    const cheapest = rows.filter((x) => x.cyclesPerRun <= best.cyclesPerRun * 1.01).map((x) => x.mode).join('/');
    lines.push(
      (lo.itlbMisses === hi.itlbMisses
        ? `${arch}: every placement had the same iTLB misses (${lo.itlbMpki} per 1k insns); `
        : `${arch}: fewest iTLB misses with ${fewest} (${lo.itlbMpki} per 1k insns), most with ${hi.mode} (${hi.itlbMpki}); `) +
        (gain < 1 ? `cycles per run within 1% across placements (${best.cyclesPerRun}..${worst.cyclesPerRun}).` : `cheapest per run: ${cheapest} (${best.cyclesPerRun} cycles), ${round(gain, 1)}% below ${worst.mode} (${worst.cyclesPerRun}).`),
    );
    if (best !== worst && gain >= 1) lines.push(`${arch}: ${worst.mode} vs ${best.mode}: ${costBreakdown(r, arch, worst, best)}.`);
    const page = rows.find((x) => x.mode === 'page');
    const p4 = rows.find((x) => x.mode === 'pack-4k');
    if (page && p4 && page.codePages4k > 0) {
      lines.push(`${arch}: the code spans ${page.codePages4k} 4 KiB pages one-program-per-page vs ${p4.codePages4k} packed (${round(page.codePages4k / Math.max(1, p4.codePages4k), 2)}x).`);
    }
  }
  for (const c of comparePublished(r.rows)) {
    const pub = `published ${PUBLISHED.itlbPerSec4k}/${PUBLISHED.itlbPerSec2m} = ${round(PUBLISHED_RATIO, 2)}x`;
    switch (c.verdict) {
      case 'matches':
        lines.push(`${c.arch}: pack-4k/pack-2m iTLB misses = ${c.itlb4k}/${c.itlb2m} = ${c.ratio}x, within 2x of the ${pub}: matches.`);
        break;
      case 'larger':
        lines.push(`${c.arch}: pack-4k/pack-2m iTLB misses = ${c.itlb4k}/${c.itlb2m} = ${c.ratio}x, more than 2x the ${pub}: does not match (the model runs only BPF code, so nothing else competes for the 2 MiB entries that the fleet's host code shares).`);
        break;
      case 'smaller':
        lines.push(`${c.arch}: pack-4k/pack-2m iTLB misses = ${c.itlb4k}/${c.itlb2m} = ${c.ratio}x, less than half the ${pub}: does not match (the code footprint here fits the 4 KiB iTLB reach better than the fleet's did).`);
        break;
      case 'unbounded':
        lines.push(`${c.arch}: pack-2m had no iTLB misses at all vs ${c.itlb4k} with pack-4k: the ratio is unbounded, unlike the ${pub}; does not match (one 2 MiB entry covers every program and no other code evicts it here).`);
        break;
      case 'no-misses':
        lines.push(`${c.arch}: neither pack-4k nor pack-2m missed the iTLB: the programs' code fits the iTLB reach, so the ${pub} cannot be compared (raise the program count).`);
        break;
    }
  }
  return lines;
}

export function packTables(r: PackResult): Table[] {
  const sizes: Table = {
    title: 'pack: JIT image sizes (fleet target: 50% < 500 B, 75% < 2 KiB)',
    columns: ['arch', 'programs', 'median B', 'p75 B', 'mean B', 'total KiB', '< 500 B', '< 2 KiB'],
    rows: Object.entries(r.sizes).map(([a, s]) => [a, s.programs, s.medianBytes, s.p75Bytes, s.meanBytes, round(s.totalBytes / 1024, 1), s.under500, s.under2k]),
  };
  const main: Table = {
    title: `pack: ${r.params.programs} programs round-robin, ${r.params.rounds} measured rounds after one warm-up`,
    columns: ['arch', 'mode', 'model', '4K pages', '2M regions', 'insns', 'cycles/run', 'CPI', 'iTLB miss', 'iTLB MPKI', 'walks/1k', 'L1i MPKI', 'L2 MPKI', 'LLC miss'],
    rows: r.rows.map((x) => [x.arch, x.mode, x.preset, x.codePages4k, x.codeRegions2m, x.insns, x.cyclesPerRun, x.cpi, x.itlbMisses, x.itlbMpki, x.walksPki, x.l1iMpki, x.l2Mpki, x.llcMisses]),
    notes: [
      'page = one program per 4 KiB page (the page path\'s footprint: jitCompile only has the pack path, so each program\'s chunk is padded to a page boundary in a 4 KiB-mapped pack); pack-4k / pack-2m = bpf_prog_pack on 4 KiB / one 2 MiB leaf; rox-cache = BPF served from the x86 ROX cache',
      'only BPF code runs: no other kernel or user code competes for TLB entries or cache lines between programs',
      'caches are indexed by virtual address; page offsets, hence the low set-index bits, are the same as with physical indexing',
      ...r.skipped.map((s) => `${s.arch} ${s.mode}: skipped, ${s.reason}`),
      `published (${PUBLISHED.source}): ~${PUBLISHED.itlbPerSec2m} BPF iTLB misses/s with the pack on one 2 MiB page vs ~${PUBLISHED.itlbPerSec4k}/s on 512 x 4 KiB (${round(PUBLISHED_RATIO, 2)}x), out of ~1.5 M/s for the host`,
    ],
  };
  return [sizes, main];
}

export function packChart(r: PackResult): BarChart {
  const groups = [...new Set(r.rows.map((x) => x.arch))];
  return {
    title: 'pack: iTLB misses per 1,000 instructions, by placement',
    yLabel: 'iTLB misses / 1k insns',
    groups,
    series: PACK_MODES.map((m) => ({ name: m, values: groups.map((a) => r.rows.find((x) => x.arch === a && x.mode === m)?.itlbMpki ?? null) })),
  };
}

export function packCyclesChart(r: PackResult): BarChart {
  const groups = [...new Set(r.rows.map((x) => x.arch))];
  return {
    title: 'pack: cycles per program run, by placement',
    yLabel: 'cycles / run',
    groups,
    series: PACK_MODES.map((m) => ({ name: m, values: groups.map((a) => r.rows.find((x) => x.arch === a && x.mode === m)?.cyclesPerRun ?? null) })),
  };
}
