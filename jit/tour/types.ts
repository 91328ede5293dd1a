// Shared shapes of the `jitbox tour` sections (jit/tour/*.ts): each section is a function that does
// real operations on the model and returns a structured record (JSON-ready: 64-bit values and
// addresses as "0x..." hex strings) plus the lines it prints, so text and --json show the same run.

import { isJitboxError } from '../../support/errors.js';

export type TourArch = 'x86_64' | 'arm64';

export interface TourOptions {
  arches: readonly TourArch[];
  seed: number;
  quick: boolean;
}

/** What the running CLI provides, so the tour points only at commands that exist. */
export interface TourFeatures {
  /** Command paths: "tour", "execmem map", "bench", ... */
  commands: ReadonlySet<string>;
  /** "<command path> <long option>" pairs: "emu --model", "run --tier", ... */
  options: ReadonlySet<string>;
  /** Benchmarks `jitbox bench` can run. */
  benchmarks: readonly string[];
}

export interface TourSection<R> {
  title: string;
  record: R;
  lines: string[];
  /** One line for the summary table. */
  summary: string;
  /** Things this section could not show because they did not exist when it was written; the tour
   * drops the ones the running program now provides (run.ts `stillMissing`). */
  stillToCome?: string[];
}

/** An error as a record: its kind, message and details (already hex strings for JitboxErrors). */
export interface ErrorRecord {
  kind: string;
  name: string;
  message: string;
  details?: Record<string, unknown>;
}

export function errorRecord(e: unknown): ErrorRecord {
  if (isJitboxError(e)) return { kind: e.kind, name: e.name, message: e.message, details: e.details as Record<string, unknown> };
  const err = e instanceof Error ? e : new Error(String(e));
  return { kind: 'internal', name: err.name, message: err.message };
}

/** Run `fn`, expecting it to throw; returns the error (or null when it did not throw). */
export function expectThrow(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return null;
}
