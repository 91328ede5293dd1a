// The experiment runner shared by `bench pack|colocate|unpack` and `jitbox report` (issue 8).
//
// Invariants:
// - Determinism: every random choice of an experiment draws from `ctx.rng(label)`, an Rng whose
//   seed is a pure function of (run seed, label), so adding a phase never shifts another phase's
//   draws, and the same seed reproduces every number (wall-clock times are reported apart, under
//   `runtime`, and never enter results or conclusions).
// - Progress goes to stderr only when it is a TTY and the run is not --json; steps are counted so
//   the bar reaches 100% exactly once.
// - Parameters are validated before any work: a bad value throws InvalidArgumentError naming it.

import { InvalidArgumentError } from '../../support/errors.js';
import { Rng } from '../../support/rng.js';

/** FNV-1a over the label, mixed with the seed: the seed of one phase's Rng. */
export function deriveSeed(seed: number, label: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  h = Math.imul(h ^ Math.floor(seed / 0x100000000), 0x01000193) >>> 0;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

export type ProgressFn = (done: number, total: number, label: string) => void;

export interface ProgressSink {
  isTTY: boolean;
  write(s: string): void;
}

/** A text progress bar on `sink` (default stderr); a no-op unless the sink is a TTY and not --json. */
export function progressBar(json: boolean, sink: ProgressSink = process.stderr): ProgressFn {
  let lastPct = -1;
  let lastLabel = '';
  return (done, total, label) => {
    if (json || !sink.isTTY) return;
    const pct = total > 0 ? Math.min(100, Math.floor((100 * done) / total)) : 100;
    if (pct === lastPct && label === lastLabel) return;
    lastPct = pct;
    lastLabel = label;
    const width = 30;
    const fill = Math.round((width * pct) / 100);
    sink.write(`\r${label.slice(0, 28).padEnd(28)} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${String(pct).padStart(3)}%`);
    if (done >= total) sink.write('\n');
  };
}

export interface ExperimentContext {
  seed: number;
  quick: boolean;
  /** A fresh Rng for one labelled phase (same label, same seed: same draws). */
  rng(label: string): Rng;
  /** Report `done` of `total` steps of the whole experiment. */
  step(label: string): void;
  /** Wall-clock seconds per phase (reported apart from the results). */
  timed<T>(phase: string, fn: () => T): T;
  readonly runtime: Record<string, number>;
}

export function makeContext(seed: number, quick: boolean, totalSteps: number, progress: ProgressFn): ExperimentContext {
  if (!Number.isSafeInteger(seed)) throw new InvalidArgumentError(`seed must be an integer, got ${seed}`, { seed });
  let done = 0;
  const runtime: Record<string, number> = {};
  return {
    seed,
    quick,
    runtime,
    rng: (label) => new Rng(deriveSeed(seed, label)),
    step(label) {
      done = Math.min(totalSteps, done + 1);
      progress(done, totalSteps, label);
    },
    timed(phase, fn) {
      const t0 = performance.now();
      try {
        return fn();
      } finally {
        runtime[phase] = Number((((runtime[phase] ?? 0) * 1000 + performance.now() - t0) / 1000).toFixed(3));
      }
    },
  };
}

// ---- parameter parsing (bench --set key=value, --nodes) ------------------------------------------

export function intSetting(settings: Record<string, string>, key: string, dflt: number, min: number, max: number): number {
  const raw = settings[key];
  if (raw === undefined) return dflt;
  const v = Number(raw);
  if (!Number.isSafeInteger(v) || v < min || v > max) throw new InvalidArgumentError(`--set ${key} must be an integer in [${min}, ${max}], got "${raw}"`, { key, value: raw });
  return v;
}

/** A comma-separated list of integers in [min, max] (e.g. `--nodes 1,100,10000`). */
export function intList(raw: string, what: string, min: number, max: number): number[] {
  const parts = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (parts.length === 0) throw new InvalidArgumentError(`${what}: empty list`, { value: raw });
  return parts.map((p) => {
    const v = Number(p);
    if (!Number.isSafeInteger(v) || v < min || v > max) throw new InvalidArgumentError(`${what}: "${p}" is not an integer in [${min}, ${max}]`, { value: raw });
    return v;
  });
}

/** Round for reports: fixed decimals, as a number (JSON stays numeric). */
export function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
