// Experiment `colocate` (issue 8, experiment 2; reference/bkey.md §9 "Co-location experiment",
// machine.md §5): N btree nodes, random seeded point lookups that unpack the key(s) they return,
// for the four placements of jit/bkey/placement.ts (co-located code+tables in one ROX aux_data,
// unpacker in a shared bpf_prog_pack chunk, unpacker on its own 4 KiB page, one shared generic
// unpacker), with and without a code-line prefetch when the node is fetched (bcachefs prefetched
// aux_data "so one prefetch covers both"; David Laight: a data prefetch does not fill the I-cache).
//
// Method per (arch, mode, N, prefetch): one fresh model; warm-up lookups, reset, measured lookups.
// A lookup = [prefetch(unpackAddr, 'code')] -> the tree walk and key compares done host-side by
// NodePlacer.lookupTouches, fed to the model as loads at the mode's real addresses -> the unpack of
// the returned key(s) run as machine code in the emulator with the model as observer.
//
// Invariants:
// - Nodes come from a pool of distinct key sets (own format, own compiled code); node i uses pool
//   entry i mod P but is placed on its own, so every node has its own code and data addresses.
// - The same seeded node picks and search keys are used for every mode and both prefetch settings.
// - Each unpack's output is checked against the node's TypeScript unpack of the same key.
// - The walk's own instructions are not emulated (the model sees its loads only), identical in every
//   mode; cycles therefore compare placements, not absolute lookup cost.
// - Conclusions are computed from the rows by `colocateConclusions`.

import { AddressSpace } from '../../execmem/space.js';
import { InvariantError } from '../../support/errors.js';
import { EmuUnpackRunner } from '../bkey/emu-run.js';
import { formatForKeySet, genExtents } from '../bkey/keys.js';
import { BtreeNode } from '../bkey/node.js';
import { bkeyPos, type Bpos } from '../bkey/pack.js';
import { NodePlacer, PLACEMENT_MODES, type PlacedNode, type PlacementMode } from '../bkey/placement.js';
import { genArm64Unpacker } from '../../codegen/bkey/arm64.js';
import { genX86Unpacker } from '../../codegen/bkey/x86_64.js';
import { counts, diffCounts, makeHierarchy, type ModelArch, type ModelCounts, type ModelParams } from './model.js';
import { type ExperimentContext, round } from './runner.js';
import type { Table } from './table.js';
import type { LineChart } from './svg.js';

export interface ColocateParams {
  nodes: number[];
  lookups: number;
  /** Keys unpacked per lookup: the one found and the next k-1. */
  unpacksPerLookup: number;
  keysPerNode: number;
  /** Distinct node contents (formats); node i uses pool entry i mod pool. */
  pool: number;
  /** What the prefetch at node fetch is: 'code' fills iTLB/L1i (the issue's setting), 'data' fills dTLB/L1d/L2 (bcachefs's prefetch of aux_data). */
  prefetchKind: 'code' | 'data';
  arches: ModelArch[];
  model: ModelParams;
}

export interface ColocateRow extends Pick<ModelCounts, 'cycles' | 'insns' | 'l1iMisses' | 'l1dMisses' | 'itlbMisses' | 'dtlbMisses' | 'walks'> {
  arch: ModelArch;
  mode: PlacementMode;
  prefetch: boolean;
  nodes: number;
  lookups: number;
}

export interface ColocateResult {
  params: Omit<ColocateParams, 'model'> & { presets: Record<string, string>; overrides: Record<string, string> };
  rows: ColocateRow[];
}

interface PoolEntry {
  node: BtreeNode;
  searches: Bpos[];
  packed: boolean[];
}

const NODE_BYTES = 8192;

function buildPool(ctx: ExperimentContext, p: ColocateParams): PoolEntry[] {
  const rng = ctx.rng('colocate/pool');
  const out: PoolEntry[] = [];
  for (let i = 0; i < p.pool; i++) {
    const ks = genExtents(rng, p.keysPerNode, 1 + rng.below(64));
    const format = formatForKeySet(ks);
    const codeLen = Math.max(genX86Unpacker(format).size, genArm64Unpacker(format).size);
    const node = BtreeNode.build({ format, minKey: ks.minKey, maxKey: ks.maxKey, nodeBytes: NODE_BYTES, codeLen }, [ks.keys.map((key, k) => ({ key, value: ks.values[k] as Uint8Array }))]);
    out.push({ node, searches: ks.keys.map(bkeyPos), packed: [] });
  }
  return out;
}

/** The seeded (node, search) picks: warm-up then measured, shared by every mode. */
function picks(ctx: ExperimentContext, n: number, count: number, pool: PoolEntry[]): { node: number; search: Bpos }[] {
  const rng = ctx.rng(`colocate/picks/${n}`);
  const out: { node: number; search: Bpos }[] = [];
  for (let i = 0; i < count; i++) {
    const node = rng.below(n);
    const e = pool[node % pool.length] as PoolEntry;
    out.push({ node, search: e.searches[rng.below(e.searches.length)] as Bpos });
  }
  return out;
}

function runMode(ctx: ExperimentContext, arch: ModelArch, mode: PlacementMode, pool: PoolEntry[], p: ColocateParams, seed: number, rows: ColocateRow[]): void {
  const maxN = Math.max(...p.nodes);
  const space = new AddressSpace({ arch, seed });
  const placer = new NodePlacer(space, arch, { seed });
  const runner = new EmuUnpackRunner(space, arch, { capstoneCheck: false });
  const placed: PlacedNode[] = [];
  ctx.timed(`colocate ${arch} ${mode} place`, () => {
    for (let i = 0; i < maxN; i++) placed.push(placer.place((pool[i % pool.length] as PoolEntry).node, mode));
  });
  const want = new Uint8Array(40);
  for (const n of p.nodes) {
    const all = picks(ctx, n, p.lookups + Math.ceil(p.lookups / 2), pool);
    for (const prefetch of [false, true]) {
      const model = makeHierarchy(space, arch, p.model);
      let before: ModelCounts | null = null;
      ctx.timed(`colocate ${arch} ${mode} run`, () => {
        all.forEach((pk, li) => {
          if (li === all.length - p.lookups) {
            model.resetStats();
            before = counts(model.stats());
          }
          const pl = placed[pk.node] as PlacedNode;
          const entry = pool[pk.node % pool.length] as PoolEntry;
          if (prefetch) model.prefetch(pl.unpackAddr, p.prefetchKind);
          const t = placer.lookupTouches(pl, entry.node, pk.search);
          for (const off of t.aux) model.load(pl.auxAddr + off, 4);
          const kb = 8 * pl.format.keyU64s;
          for (const off of t.keys) model.load(pl.keysAddr + off, kb);
          if (t.keyIndex < 0) return;
          for (let k = t.keyIndex; k < Math.min(pl.keyCount, t.keyIndex + p.unpacksPerLookup); k++) {
            if (!pl.isPacked(k)) continue;
            const res = runner.unpack(pl, k, { observer: model });
            if (li === 0 || li === all.length - 1) {
              const at = pl.keyAddr(k) - pl.keysAddr;
              entry.node.unpackAt(at, want, 0);
              if (!res.bytes.every((b, j) => b === want[j])) throw new InvariantError(`colocate: ${arch} ${mode} unpack of node ${pk.node} key ${k} disagrees with the TypeScript unpack`);
            }
          }
        });
      });
      const c = diffCounts(counts(model.stats()), before ?? counts(model.stats()));
      model.dispose();
      rows.push({ arch, mode, prefetch, nodes: n, lookups: p.lookups, cycles: c.cycles, insns: c.insns, l1iMisses: c.l1iMisses, l1dMisses: c.l1dMisses, itlbMisses: c.itlbMisses, dtlbMisses: c.dtlbMisses, walks: c.walks });
      ctx.step(`colocate ${arch} ${mode} N=${n}`);
    }
  }
  runner.dispose();
}

export function colocateSteps(p: ColocateParams): number {
  return p.arches.length * PLACEMENT_MODES.length * p.nodes.length * 2;
}

export function runColocate(ctx: ExperimentContext, p: ColocateParams): ColocateResult {
  const pool = ctx.timed('colocate build nodes', () => buildPool(ctx, p));
  const seed = ctx.rng('colocate/space').u32();
  const rows: ColocateRow[] = [];
  for (const arch of p.arches) for (const mode of PLACEMENT_MODES) runMode(ctx, arch, mode, pool, p, seed, rows);
  const { model, ...rest } = p;
  return {
    params: { ...rest, presets: Object.fromEntries(p.arches.map((a) => [a, model.preset[a]])), overrides: model.overrides },
    rows,
  };
}

// ---- per-lookup views, conclusions, tables, charts ---------------------------------------------

export interface PerLookup {
  cycles: number;
  l1i: number;
  l1d: number;
  itlb: number;
  dtlb: number;
}

export function perLookup(r: ColocateRow): PerLookup {
  const n = Math.max(1, r.lookups);
  return { cycles: r.cycles / n, l1i: r.l1iMisses / n, l1d: r.l1dMisses / n, itlb: r.itlbMisses / n, dtlb: r.dtlbMisses / n };
}

/** reference/bkey.md §9 co-location experiment (measured natively, ns per lookup). */
export const PUBLISHED_COLOCATE = { nodes: 1024, lossNs: '30-45 ns', source: 'bkey.md §9' };

/** Cycle counts within this fraction of the best are reported as a tie. */
const TIE = 0.01;

const METRIC_NAMES: Record<Exclude<keyof PerLookup, 'cycles'>, string> = { l1i: 'L1i', l1d: 'L1d', itlb: 'iTLB', dtlb: 'dTLB' };

/** Why a beats b: the miss kind with the largest per-lookup difference in b's disfavour. */
function reason(a: PerLookup, b: PerLookup): string {
  const diffs = (Object.keys(METRIC_NAMES) as (keyof typeof METRIC_NAMES)[]).map((k) => ({ k, d: b[k] - a[k] })).sort((x, y) => y.d - x.d);
  const top = diffs.filter((x) => x.d > 0.005).slice(0, 2);
  if (top.length === 0) return 'no more misses of any kind: the difference is instructions executed';
  return top.map((x) => `${round(x.d, 2)} more ${METRIC_NAMES[x.k]} misses/lookup`).join(', ');
}

function ranges(ns: number[]): string {
  if (ns.length === 0) return '';
  return ns.length === 1 ? `N=${ns[0]}` : `N=${ns[0]}..${ns[ns.length - 1]}`;
}

/** Sentences derived from the rows: winners per node count, why, and what prefetch did. */
export function colocateConclusions(r: ColocateResult): string[] {
  const lines: string[] = [];
  const arches = [...new Set(r.rows.map((x) => x.arch))];
  const nodes = [...new Set(r.rows.map((x) => x.nodes))].sort((a, b) => a - b);
  for (const arch of arches) {
    for (const prefetch of [false, true]) {
      const winners: { n: number; mode: string }[] = [];
      for (const n of nodes) {
        const rs = r.rows.filter((x) => x.arch === arch && x.nodes === n && x.prefetch === prefetch);
        if (rs.length === 0) continue;
        const bestCycles = Math.min(...rs.map((x) => perLookup(x).cycles));
        const tied = rs.filter((x) => perLookup(x).cycles <= bestCycles * (1 + TIE));
        winners.push({ n, mode: tied.length === 1 ? (tied[0] as ColocateRow).mode : `${tied.map((x) => x.mode).join('/')} (tied within ${TIE * 100}%)` });
      }
      const groups: { mode: string; ns: number[] }[] = [];
      for (const w of winners) {
        const last = groups[groups.length - 1];
        if (last && last.mode === w.mode) last.ns.push(w.n);
        else groups.push({ mode: w.mode, ns: [w.n] });
      }
      if (groups.length > 0) lines.push(`${arch}${prefetch ? ` with ${r.params.prefetchKind} prefetch` : ''}: fewest cycles per lookup: ${groups.map((g) => `${g.mode} at ${ranges(g.ns)}`).join('; ')}.`);
    }
    const big = nodes[nodes.length - 1];
    const rs = r.rows.filter((x) => x.arch === arch && x.nodes === big && !x.prefetch);
    const col = rs.find((x) => x.mode === 'colocated');
    const best = rs.length ? rs.reduce((a, b) => (perLookup(b).cycles < perLookup(a).cycles ? b : a)) : undefined;
    if (col && best) {
      if (best !== col && perLookup(col).cycles <= perLookup(best).cycles * (1 + TIE)) {
        lines.push(`${arch} at N=${big}: colocated and ${best.mode} are within ${TIE * 100}% (${round(perLookup(col).cycles, 1)} vs ${round(perLookup(best).cycles, 1)} cycles/lookup).`);
      } else if (best.mode === 'colocated') {
        const second = rs.filter((x) => x !== col).reduce((a, b) => (perLookup(b).cycles < perLookup(a).cycles ? b : a));
        lines.push(`${arch} at N=${big}: colocated wins by ${round(perLookup(second).cycles - perLookup(col).cycles, 1)} cycles/lookup over ${second.mode} (${second.mode} has ${reason(perLookup(col), perLookup(second))}).`);
      } else {
        lines.push(`${arch} at N=${big}: ${best.mode} beats colocated by ${round(perLookup(col).cycles - perLookup(best).cycles, 1)} cycles/lookup (colocated has ${reason(perLookup(best), perLookup(col))}).`);
      }
    }
    const near = nodes.reduce((a, b) => (Math.abs(Math.log(b / PUBLISHED_COLOCATE.nodes)) < Math.abs(Math.log(a / PUBLISHED_COLOCATE.nodes)) ? b : a), nodes[0] as number);
    const colN = r.rows.find((x) => x.arch === arch && x.nodes === near && x.mode === 'colocated' && !x.prefetch);
    const packN = r.rows.find((x) => x.arch === arch && x.nodes === near && x.mode === 'shared-pack' && !x.prefetch);
    if (colN && packN) {
      const d = perLookup(colN).cycles - perLookup(packN).cycles;
      lines.push(
        `${arch} at N=${near} vs ${PUBLISHED_COLOCATE.source} (co-located lost to a dense code area by ${PUBLISHED_COLOCATE.lossNs} at ${PUBLISHED_COLOCATE.nodes} nodes): ` +
          (d > 0 ? `agrees in direction, colocated costs ${round(d, 1)} more cycles/lookup than shared-pack.` : `disagrees, colocated costs ${round(-d, 1)} fewer cycles/lookup than shared-pack.`),
      );
    }
    for (const mode of PLACEMENT_MODES) {
      const effects = nodes
        .map((n) => {
          const off = r.rows.find((x) => x.arch === arch && x.mode === mode && x.nodes === n && !x.prefetch);
          const on = r.rows.find((x) => x.arch === arch && x.mode === mode && x.nodes === n && x.prefetch);
          return off && on && off.cycles > 0 ? { n, pct: (100 * (on.cycles - off.cycles)) / off.cycles, l1i: perLookup(off).l1i - perLookup(on).l1i } : null;
        })
        .filter((e): e is { n: number; pct: number; l1i: number } => e !== null);
      if (effects.length === 0 || mode === 'generic') continue;
      const kind = r.params.prefetchKind;
      const bestE = effects.reduce((a, b) => (b.pct < a.pct ? b : a));
      const helped = effects.filter((e) => e.pct < -1).map((e) => e.n);
      lines.push(
        helped.length === 0
          ? `${arch} ${mode}: the ${kind} prefetch of the unpacker's line never cut cycles by more than 1% (best ${round(bestE.pct, 1)}% at N=${bestE.n}).`
          : `${arch} ${mode}: the ${kind} prefetch of the unpacker's line cut cycles at N=${helped.join(', ')} (best ${round(bestE.pct, 1)}% at N=${bestE.n}, ${round(bestE.l1i, 2)} fewer L1i misses/lookup).`,
      );
    }
  }
  return lines;
}

export function colocateTables(r: ColocateResult): Table[] {
  const arches = [...new Set(r.rows.map((x) => x.arch))];
  return arches.map((arch) => ({
    title: `colocate (${arch}, ${r.params.presets[arch] ?? ''}): per lookup, ${r.params.lookups} lookups per point, ${r.params.unpacksPerLookup} unpack(s) each`,
    columns: ['nodes', 'mode', 'prefetch', 'cycles', 'insns', 'L1i miss', 'L1d miss', 'iTLB miss', 'dTLB miss'],
    rows: r.rows
      .filter((x) => x.arch === arch)
      .sort((a, b) => a.nodes - b.nodes || PLACEMENT_MODES.indexOf(a.mode) - PLACEMENT_MODES.indexOf(b.mode) || Number(a.prefetch) - Number(b.prefetch))
      .map((x) => {
        const q = perLookup(x);
        return [x.nodes, x.mode, x.prefetch ? r.params.prefetchKind : 'none', round(q.cycles, 1), round(x.insns / Math.max(1, x.lookups), 1), round(q.l1i, 3), round(q.l1d, 3), round(q.itlb, 3), round(q.dtlb, 3)];
      }),
    notes: ['cycles = emulated unpack instructions + the model\'s miss penalties for the walk\'s table/key loads and the unpack (the walk\'s own instructions are not emulated)'],
  }));
}

export function colocateChart(r: ColocateResult, arch: ModelArch): LineChart {
  const series = PLACEMENT_MODES.flatMap((mode) =>
    [false, true].map((prefetch) => ({
      name: `${mode}${prefetch ? ' +prefetch' : ''}`,
      points: r.rows.filter((x) => x.arch === arch && x.mode === mode && x.prefetch === prefetch).sort((a, b) => a.nodes - b.nodes).map((x) => ({ x: x.nodes, y: round(perLookup(x).cycles, 2) })),
    })),
  );
  return { title: `colocate (${arch}): cycles per lookup vs nodes`, xLabel: 'nodes', yLabel: 'cycles / lookup', logX: true, series };
}

/** Misses of one kind per lookup vs nodes, one series per placement (no prefetch). */
export function colocateMissChart(r: ColocateResult, arch: ModelArch, kind: 'l1i' | 'itlb' | 'dtlb'): LineChart {
  const name = METRIC_NAMES[kind];
  const series = PLACEMENT_MODES.map((mode) => ({
    name: mode,
    points: r.rows.filter((x) => x.arch === arch && x.mode === mode && !x.prefetch).sort((a, b) => a.nodes - b.nodes).map((x) => ({ x: x.nodes, y: round(perLookup(x)[kind], 3) })),
  }));
  return { title: `colocate (${arch}): ${name} misses per lookup vs nodes (no prefetch)`, xLabel: 'nodes', yLabel: `${name} misses / lookup`, logX: true, series };
}

/** Every colocate chart for one arch: cycles, then L1i, iTLB and dTLB misses per lookup. */
export function colocateCharts(r: ColocateResult, arch: ModelArch): LineChart[] {
  return [colocateChart(r, arch), colocateMissChart(r, arch, 'l1i'), colocateMissChart(r, arch, 'itlb'), colocateMissChart(r, arch, 'dtlb')];
}
