// `jitbox bench pack`: BPF programs round-robin with one program per 4 KiB page, bpf_prog_pack on
// 4 KiB pages, on one 2 MiB page, and from the ROX cache, under the cache/TLB/cycle model
// (jit/experiments/pack.ts; issue 8 experiment 3). Settings: --set programs=N rounds=R
// arch=x86_64|arm64 model.preset=NAME model.<key>=<value>; --svg PATH.

import { archesSetting, benchText, svgPathFor, writeCharts } from '../experiments/bench-util.js';
import { modelParamsFromSettings } from '../experiments/model.js';
import { packChart, packConclusions, packCyclesChart, packSteps, packTables, runPack, type PackParams } from '../experiments/pack.js';
import { intSetting, makeContext } from '../experiments/runner.js';
import { barChartSvg } from '../experiments/svg.js';
import type { Benchmark, BenchOptions, BenchReport } from './types.js';

export function packParams(opts: Pick<BenchOptions, 'quick' | 'settings'>, moderate = false): PackParams {
  const s = opts.settings;
  return {
    programs: intSetting(s, 'programs', opts.quick ? 48 : moderate ? 384 : 512, 1, 20000),
    rounds: intSetting(s, 'rounds', opts.quick ? 1 : 2, 1, 1000),
    arches: archesSetting(s),
    model: modelParamsFromSettings(s),
  };
}

export const bench: Benchmark = {
  name: 'pack',
  description: 'BPF programs round-robin: one per 4 KiB page vs bpf_prog_pack on 4 KiB / 2 MiB pages vs the ROX cache (iTLB misses, cycles)',
  async run(opts: BenchOptions): Promise<BenchReport> {
    const p = packParams(opts);
    const ctx = makeContext(opts.seed, opts.quick, packSteps(p), opts.progress);
    const r = runPack(ctx, p);
    const conclusions = packConclusions(r);
    const svg = writeCharts(svgPathFor(opts.settings, opts.outDir, 'pack'), [barChartSvg(packChart(r)), barChartSvg(packCyclesChart(r))]);
    return {
      json: { ...r, conclusions, svg, phase_runtime_s: ctx.runtime },
      text: benchText(packTables(r), conclusions, svg, ctx.runtime),
    };
  },
};
