// `jitbox bench colocate`: per-node unpackers co-located with their lookup tables vs a shared pack
// vs one page per node vs one generic unpacker, with and without a code-line prefetch, over a sweep
// of node counts (jit/experiments/colocate.ts; issue 8 experiment 2). Options: --nodes 1,100,...;
// --set lookups=L unpacks=K keys=KEYS_PER_NODE pool=P prefetch=code|data arch=x86_64|arm64
// model.<key>=<value>;
// --svg PATH.

import { archesSetting, benchText, svgPathFor, writeCharts } from '../experiments/bench-util.js';
import { colocateCharts, colocateConclusions, colocateSteps, colocateTables, runColocate, type ColocateParams } from '../experiments/colocate.js';
import { modelParamsFromSettings } from '../experiments/model.js';
import { intList, intSetting, makeContext } from '../experiments/runner.js';
import { lineChartSvg } from '../experiments/svg.js';
import type { Benchmark, BenchOptions, BenchReport } from './types.js';
import { InvalidArgumentError } from '../../support/errors.js';

function prefetchKindSetting(raw: string | undefined): 'code' | 'data' {
  if (raw === undefined || raw === 'code') return 'code';
  if (raw === 'data') return 'data';
  throw new InvalidArgumentError(`--set prefetch must be code or data, got "${raw}"`, { value: raw });
}

export const DEFAULT_NODES = [1, 10, 100, 1000, 10000];

export function colocateParams(opts: Pick<BenchOptions, 'quick' | 'settings'>, moderate = false): ColocateParams {
  const s = opts.settings;
  const nodes = s['nodes'] !== undefined ? intList(s['nodes'], '--nodes', 1, 100000) : opts.quick ? [1, 16, 256] : moderate ? [1, 10, 100, 1000, 4000] : DEFAULT_NODES;
  return {
    nodes: [...new Set(nodes)].sort((a, b) => a - b),
    lookups: intSetting(s, 'lookups', opts.quick ? 200 : moderate ? 800 : 2000, 1, 10_000_000),
    unpacksPerLookup: intSetting(s, 'unpacks', 1, 1, 64),
    keysPerNode: intSetting(s, 'keys', 256, 8, 4096),
    pool: intSetting(s, 'pool', opts.quick ? 8 : 64, 1, 100000),
    prefetchKind: prefetchKindSetting(s['prefetch']),
    arches: archesSetting(s),
    model: modelParamsFromSettings(s),
  };
}

export const bench: Benchmark = {
  name: 'colocate',
  description: 'bkey unpackers co-located with lookup tables vs shared pack vs own page vs generic, with/without code prefetch, over N nodes',
  async run(opts: BenchOptions): Promise<BenchReport> {
    const p = colocateParams(opts);
    const ctx = makeContext(opts.seed, opts.quick, colocateSteps(p), opts.progress);
    const r = runColocate(ctx, p);
    const conclusions = colocateConclusions(r);
    const svg = writeCharts(svgPathFor(opts.settings, opts.outDir, 'colocate'), p.arches.flatMap((a) => colocateCharts(r, a).map(lineChartSvg)));
    return {
      json: { ...r, conclusions, svg, phase_runtime_s: ctx.runtime },
      text: benchText(colocateTables(r), conclusions, svg, ctx.runtime),
    };
  },
};
