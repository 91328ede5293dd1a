// `jitbox wx [LESSON...] [--seed N] [--list]`: the W^X lessons of reference/execmem.md §7, each
// demonstrated live (jit/tour/lessons.ts, lessons-jit.ts; docs/wx-lessons.md explains them). With
// no lesson named, runs them all. Exit code 1 when a demonstration does not hold.

import type { Command } from 'commander';
import { initCapstone } from '../../support/capstone.js';
import { InvalidArgumentError } from '../../support/errors.js';
import { action, emit, type GlobalOptions } from '../cli-util.js';
import { type Lesson, MEMORY_LESSONS } from '../tour/lessons.js';
import { JIT_LESSONS } from '../tour/lessons-jit.js';
import { parseSeed } from './tour.js';

export const LESSONS: readonly Lesson[] = [...MEMORY_LESSONS, ...JIT_LESSONS];

interface WxCliOptions extends GlobalOptions {
  seed: string;
  list?: boolean;
}

export function register(program: Command): void {
  program
    .command('wx')
    .description('W^X lessons, each demonstrated live on the model (see docs/wx-lessons.md)')
    .argument('[lessons...]', `lesson ids: ${LESSONS.map((l) => l.id).join(', ')} (default: all)`)
    .option('--seed <n>', 'seed of every random choice', '1')
    .option('--list', 'list the lessons without running them')
    .action(
      action(async (ids: string[], _o: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<WxCliOptions>();
        const seed = parseSeed(o.seed);
        for (const id of ids) {
          if (!LESSONS.some((l) => l.id === id)) throw new InvalidArgumentError(`unknown lesson "${id}" (available: ${LESSONS.map((l) => l.id).join(', ')})`, { lesson: id });
        }
        const chosen = ids.length === 0 ? LESSONS : LESSONS.filter((l) => ids.includes(l.id));
        if (o.list) {
          emit(o, { lessons: chosen.map((l) => ({ id: l.id, title: l.title, embodiedBy: l.embodiedBy })) }, () =>
            chosen.map((l) => `${l.id.padEnd(18)} ${l.title}`).join('\n'));
          return;
        }
        await initCapstone();
        const results = chosen.map((l) => ({ lesson: l, result: l.run(seed) }));
        const failed = results.filter((r) => !r.result.holds).map((r) => r.lesson.id);
        if (failed.length > 0) process.exitCode = 1;
        emit(
          o,
          { seed, lessons: results.map((r) => ({ id: r.lesson.id, title: r.lesson.title, embodiedBy: r.lesson.embodiedBy, holds: r.result.holds, ...r.result.record })), failed },
          () =>
            results
              .map((r) => [`== ${r.lesson.id}: ${r.lesson.title}`, `   (${r.lesson.embodiedBy})`, ...r.result.lines, `lesson ${r.result.holds ? 'shown' : 'NOT SHOWN'}.`].join('\n'))
              .join('\n\n'),
        );
      }),
    );
}
