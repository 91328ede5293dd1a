// `jitbox bench NAME`: runs jit/bench/NAME.ts. Also reached as `npm run bench -- NAME`.

import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '../../support/errors.js';
import { action, emit, parseSettings, type GlobalOptions } from '../cli-util.js';
import type { Benchmark, BenchOptions } from '../bench/types.js';

const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench');

export async function loadBenchmark(name: string): Promise<Benchmark> {
  if (!/^[a-z0-9-]+$/.test(name) || name === 'types' || !existsSync(join(BENCH_DIR, `${name}.js`)) && !existsSync(join(BENCH_DIR, `${name}.ts`))) {
    throw new InvalidArgumentError(`unknown benchmark "${name}" (available: ${listBenchmarks().join(', ')})`, { name });
  }
  const mod = (await import(`../bench/${name}.js`)) as { bench?: Benchmark };
  if (!mod.bench) throw new InvalidArgumentError(`benchmark module "${name}" exports no bench`, { name });
  return mod.bench;
}

export function listBenchmarks(): string[] {
  return BENCHMARK_NAMES.filter((n) => existsSync(join(BENCH_DIR, `${n}.js`)) || existsSync(join(BENCH_DIR, `${n}.ts`)));
}

/** Every benchmark the project defines, in pipeline order. */
export const BENCHMARK_NAMES = ['execmem', 'assemble', 'emulator', 'bpf-interp', 'bpf-jit', 'unpack', 'colocate', 'pack'];

interface BenchCliOptions extends GlobalOptions {
  seed: string;
  quick?: boolean;
  out: string;
  set: string[];
  svg?: string;
  nodes?: string;
}

export function register(program: Command): void {
  program
    .command('bench')
    .description(`run a benchmark: ${BENCHMARK_NAMES.join(', ')}`)
    .argument('<name>', 'benchmark name')
    .option('--seed <n>', 'random seed', '1')
    .option('--quick', 'small sizes')
    .option('--out <dir>', 'directory for charts', 'jitbox-out')
    .option('--set <key=value...>', 'benchmark-specific settings', [])
    .option('--svg <path>', 'chart file for benchmarks that draw one (default <out>/<name>.svg)')
    .option('--nodes <list>', 'colocate: node counts, comma-separated (default 1,10,100,1000,10000)')
    .action(
      action(async (name: string, _o: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<BenchCliOptions>();
        const seed = Number(o.seed);
        if (!Number.isInteger(seed)) throw new InvalidArgumentError(`--seed must be an integer, got "${o.seed}"`);
        const settings = parseSettings(o.set);
        if (o.svg !== undefined) settings['svg'] = o.svg;
        if (o.nodes !== undefined) settings['nodes'] = o.nodes;
        const bench = await loadBenchmark(name);
        const json = o.json === true;
        let lastPct = -1;
        const opts: BenchOptions = {
          seed,
          quick: o.quick === true,
          json,
          outDir: o.out,
          settings,
          progress(done, total, label) {
            if (json || !process.stderr.isTTY) return;
            const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
            if (pct === lastPct) return;
            lastPct = pct;
            const width = 30;
            const fill = Math.round((width * pct) / 100);
            process.stderr.write(`\r${label.padEnd(24)} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${pct}%`);
            if (done >= total) process.stderr.write('\n');
          },
        };
        const t0 = performance.now();
        const report = await bench.run(opts);
        const seconds = (performance.now() - t0) / 1000;
        emit(o, { bench: name, seed, quick: opts.quick, runtime_s: Number(seconds.toFixed(3)), ...report.json }, () =>
          `${report.text}\n(${name}: ${seconds.toFixed(2)} s, seed ${seed})`,
        );
      }),
    );
}
