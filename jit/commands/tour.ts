// `jitbox tour [--arch x86_64|arm64|both] [--seed N] [--quick]`: the guided end-to-end run
// (jit/tour/run.ts). With --json, one object recording every step. The tour's pointers name only
// commands the running program has (programFeatures walks the commander tree). A section that
// fails is reported in place and the tour goes on; the exit code is then 1.

import type { Command } from 'commander';
import { InvalidArgumentError } from '../../support/errors.js';
import { action, emit, type GlobalOptions } from '../cli-util.js';
import { runTour } from '../tour/run.js';
import type { TourArch, TourFeatures } from '../tour/types.js';
import { listBenchmarks } from './bench.js';

interface TourCliOptions extends GlobalOptions {
  arch: string;
  seed: string;
  quick?: boolean;
}

export function parseTourArch(a: string): TourArch[] {
  if (a === 'both') return ['x86_64', 'arm64'];
  if (a === 'x86_64' || a === 'arm64') return [a];
  throw new InvalidArgumentError(`--arch must be x86_64, arm64 or both, got "${a}"`, { arch: a });
}

export function parseSeed(s: string): number {
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff) throw new InvalidArgumentError(`--seed must be an integer in [0, 2^32), got "${s}"`, { seed: s });
  return n;
}

/** Every command path and "<path> --option" of the program rooted at `root`. */
export function programFeatures(root: Command): TourFeatures {
  const commands = new Set<string>();
  const options = new Set<string>();
  const walk = (c: Command, path: string): void => {
    for (const sub of c.commands) {
      const p = path ? `${path} ${sub.name()}` : sub.name();
      commands.add(p);
      for (const o of sub.options) if (o.long) options.add(`${p} ${o.long}`);
      walk(sub, p);
    }
  };
  walk(root, '');
  return { commands, options, benchmarks: commands.has('bench') ? listBenchmarks() : [] };
}

function rootOf(cmd: Command): Command {
  let c = cmd;
  while (c.parent) c = c.parent;
  return c;
}

export function register(program: Command): void {
  program
    .command('tour')
    .description('a guided end-to-end run: BPF JIT, W^X, bcachefs unpackers (every figure computed live)')
    .option('--arch <arch>', 'x86_64, arm64 or both', 'both')
    .option('--seed <n>', 'seed of every random choice', '1')
    .option('--quick', 'smaller counts and shorter timing loops (about a second)')
    .action(
      action(async (_o: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<TourCliOptions>();
        const { record, text } = await runTour({ arches: parseTourArch(o.arch), seed: parseSeed(o.seed), quick: o.quick === true }, programFeatures(rootOf(cmd)));
        emit(o, record, () => text);
        if (record.errors.length > 0) process.exitCode = 1;
      }),
    );
}
