// `jitbox report [--out DIR] [--seed N] [--quick] [--set KEY=VALUE...]`: runs the unpack, colocate
// and pack experiments at a moderate size and writes report.md, report.html and their SVG charts
// (jit/experiments/report.ts; issue 8). Settings go to one experiment with a prefix
// (`pack.programs=256`, `colocate.nodes=1,100`, `unpack.ms=50`); `model.*` settings go to all.
//
// Invariants: with --json, stdout holds exactly one JSON object (paths, parameters, conclusions,
// runtimes); the progress bars go to stderr only on a TTY and never with --json.

import type { Command } from 'commander';
import { resolve } from 'node:path';
import { InvalidArgumentError } from '../../support/errors.js';
import { action, emit, parseSettings, type GlobalOptions } from '../cli-util.js';
import { colocateParams } from '../bench/colocate.js';
import { packParams } from '../bench/pack.js';
import { runUnpack } from '../bench/unpack.js';
import { runtimeLine } from '../experiments/bench-util.js';
import { colocateCharts, colocateConclusions, colocateSteps, colocateTables, runColocate } from '../experiments/colocate.js';
import { configFor, describeConfig } from '../experiments/model.js';
import { packChart, packConclusions, packCyclesChart, packSteps, packTables, runPack } from '../experiments/pack.js';
import { writeReport, type ReportDoc, type ReportSection } from '../experiments/report.js';
import { makeContext, progressBar, round, type ExperimentContext, type ProgressFn } from '../experiments/runner.js';
import { barChartSvg, lineChartSvg } from '../experiments/svg.js';

export const DEFAULT_REPORT_DIR = 'jitbox-out/report';

export interface ReportOptions {
  seed: number;
  quick: boolean;
  /** `pack.*`, `colocate.*`, `unpack.*` and shared `model.*` settings. */
  settings: Record<string, string>;
  progress: ProgressFn;
}

/** The settings one experiment sees: its prefixed keys (prefix removed) plus the shared model.* keys. */
export function settingsFor(all: Record<string, string>, prefix: 'pack' | 'colocate' | 'unpack'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(all)) {
    if (k.startsWith('model.')) out[k] = v;
    else if (k.startsWith(`${prefix}.`)) out[k.slice(prefix.length + 1)] = v;
    else if (!/^(pack|colocate|unpack)\./.test(k)) throw new InvalidArgumentError(`report --set ${k}: prefix it with pack., colocate., unpack. or model.`, { key: k });
  }
  return out;
}

function secondsSince(t: number): number {
  return round((performance.now() - t) / 1000, 2);
}

/** A section for an experiment run through `ctx` (colocate, pack): its notes are the phase runtimes. */
function contextSection(t: number, ctx: ExperimentContext, s: Omit<ReportSection, 'notes' | 'runtimeS'>): ReportSection {
  return {
    id: s.id,
    title: s.title,
    summary: s.summary,
    params: s.params,
    tables: s.tables,
    conclusions: s.conclusions,
    notes: [runtimeLine(ctx.runtime)],
    charts: s.charts,
    runtimeS: secondsSince(t),
  };
}

/** Run the three experiments and assemble the report document (nothing is written). */
export function buildReport(o: ReportOptions): ReportDoc {
  const t0 = performance.now();
  const sections: ReportSection[] = [];

  let t = performance.now();
  const u = runUnpack({ seed: o.seed, quick: o.quick, settings: settingsFor(o.settings, 'unpack'), progress: o.progress }, true);
  sections.push({
    id: 'unpack',
    title: 'Unpack: cost per unpacked key',
    summary: 'Host-native ns per unpack (generic TypeScript, byte-aligned, wasm) and, in the emulator under the cache/TLB/cycle model, instructions, cycles and misses per unpacked key of the compiled and generic machine-code unpackers on x86_64 and arm64, hot and cold.',
    params: u.json['params'] as Record<string, unknown>,
    tables: u.tables,
    conclusions: u.conclusions,
    notes: u.notes,
    charts: u.charts,
    runtimeS: secondsSince(t),
  });

  t = performance.now();
  const cp = colocateParams({ quick: o.quick, settings: settingsFor(o.settings, 'colocate') }, true);
  const cctx = makeContext(o.seed, o.quick, colocateSteps(cp), o.progress);
  const c = runColocate(cctx, cp);
  sections.push(contextSection(t, cctx, {
    id: 'colocate',
    title: 'Co-location: per-node unpackers next to their lookup tables',
    summary: `${cp.nodes.join(', ')} nodes of ${cp.keysPerNode} extent keys; ${cp.lookups} random lookups per point, each unpacking ${cp.unpacksPerLookup} returned key(s); placements colocated, shared-pack, own-page and generic, with and without a code-line prefetch at node fetch.`,
    params: c.params as unknown as Record<string, unknown>,
    tables: colocateTables(c),
    conclusions: colocateConclusions(c),
    charts: cp.arches.flatMap((a) => colocateCharts(c, a).map(lineChartSvg)),
  }));

  t = performance.now();
  const pp = packParams({ quick: o.quick, settings: settingsFor(o.settings, 'pack') }, true);
  const pctx = makeContext(o.seed, o.quick, packSteps(pp), o.progress);
  const p = runPack(pctx, pp);
  sections.push(contextSection(t, pctx, {
    id: 'pack',
    title: 'Pack: BPF programs on 4 KiB pages, bpf_prog_pack and the ROX cache',
    summary: `${pp.programs} BPF programs with the fleet's size distribution, run round-robin (${pp.rounds} measured rounds after a warm-up) with one program per 4 KiB page, bpf_prog_pack on 4 KiB pages, on one 2 MiB page, and served from the ROX cache.`,
    params: p.params as unknown as Record<string, unknown>,
    tables: packTables(p),
    conclusions: packConclusions(p),
    charts: [barChartSvg(packChart(p)), barChartSvg(packCyclesChart(p))],
  }));

  return {
    title: 'jitbox measurement report: unpack, co-location, pack',
    seed: o.seed,
    quick: o.quick,
    generatedBy: `jitbox report --seed ${o.seed}${o.quick ? ' --quick' : ''}${Object.entries(o.settings).map(([k, v]) => ` --set ${k}=${v}`).join('')}`,
    sections,
    models: { x86_64: describeConfig(configFor('x86_64', pp.model)), arm64: describeConfig(configFor('arm64', pp.model)) },
    totalRuntimeS: secondsSince(t0),
  };
}

interface ReportCliOptions extends GlobalOptions {
  out: string;
  seed: string;
  quick?: boolean;
  set: string[];
}

export function register(program: Command): void {
  program
    .command('report')
    .description('run the unpack, colocate and pack experiments and write report.md / report.html with tables and SVG charts')
    .option('--out <dir>', 'output directory', DEFAULT_REPORT_DIR)
    .option('--seed <n>', 'random seed', '1')
    .option('--quick', 'small sizes')
    .option('--set <key=value...>', 'settings: pack.*, colocate.*, unpack.*, model.*', [])
    .action(
      action(async (_o: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<ReportCliOptions>();
        const seed = Number(o.seed);
        if (!Number.isSafeInteger(seed)) throw new InvalidArgumentError(`--seed must be an integer, got "${o.seed}"`);
        const settings = parseSettings(o.set);
        const json = o.json === true;
        const doc = buildReport({ seed, quick: o.quick === true, settings, progress: progressBar(json) });
        const files = writeReport(o.out, doc);
        emit(
          o,
          {
            report: { markdown: resolve(files.markdown), html: resolve(files.html), svgs: files.svgs.map((f) => resolve(f)) },
            seed,
            quick: doc.quick,
            runtime_s: doc.totalRuntimeS,
            sections: doc.sections.map((s) => ({ id: s.id, params: s.params, conclusions: s.conclusions, runtime_s: s.runtimeS })),
          },
          () =>
            [
              ...doc.sections.flatMap((s) => [`${s.title} (${s.runtimeS} s):`, ...s.conclusions.map((c) => `  - ${c}`)]),
              '',
              `wrote ${files.markdown}, ${files.html}${files.svgs.length ? `, ${files.svgs.join(', ')}` : ''}`,
              `(report: ${doc.totalRuntimeS} s, seed ${seed})`,
            ].join('\n'),
        );
      }),
    );
}
