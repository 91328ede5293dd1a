// Running generated x86_64/arm64 unpackers under Unicorn (scripts/oracles/bkey-unicorn.py, through
// /usr/bin/python3) until jitbox's own emulator runs them: an outside oracle for the fuzzer and a
// source of dynamic instruction counts for the unpack benchmark. Optional: callers check
// `unicornAvailable()` and say so when it is missing.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvariantError } from '../../support/errors.js';

/** scripts/oracles/bkey-unicorn.py, found from the source tree (jit/bkey) or the build (dist/jit/bkey). */
function scriptPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of [['..', '..'], ['..', '..', '..']]) {
    const p = join(here, ...up, 'scripts', 'oracles', 'bkey-unicorn.py');
    if (existsSync(p)) return p;
  }
  return join(here, '..', '..', 'scripts', 'oracles', 'bkey-unicorn.py');
}

export interface UnicornCase {
  code: string;
  /** bkey_format bytes (hex) for the generic unpackers; '' otherwise. */
  fmt?: string;
  keyU64s: number;
  keys: string[];
}

export interface UnicornResult {
  outputs: string[];
  badReads: number;
  error: string | null;
  insns: number[];
}

let available: boolean | null = null;

export function unicornAvailable(): boolean {
  available ??= spawnSync('/usr/bin/python3', ['-c', 'import unicorn'], { stdio: 'ignore' }).status === 0 && existsSync(scriptPath());
  return available;
}

export function runUnicornUnpack(arch: 'x86_64' | 'arm64', cases: readonly UnicornCase[]): UnicornResult[] {
  const input = JSON.stringify({ arch, cases: cases.map((c) => ({ code: c.code, fmt: c.fmt ?? '', key_u64s: c.keyU64s, keys: c.keys })) });
  const r = spawnSync('/usr/bin/python3', [scriptPath()], { input, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new InvariantError(`unicorn runner failed: ${r.stderr.toString()}`);
  const res = JSON.parse(r.stdout.toString()) as { results: { outputs: string[]; bad_reads: number; error: string | null; insns: number[] }[] };
  return res.results.map((x) => ({ outputs: x.outputs, badReads: x.bad_reads, error: x.error, insns: x.insns }));
}
