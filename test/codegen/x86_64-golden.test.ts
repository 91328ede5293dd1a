// Golden vectors: every builder call recorded in test/vectors/asm/x86_64.json must produce exactly
// the bytes llvm-mc produced for the same Intel-syntax line (scripts/oracles/asm-x86_64.mjs).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../support/u64.js';
import { type GoldenCase, assembleCall } from './x86_64-dsl.js';

const FILE = join(import.meta.dirname, '..', 'vectors', 'asm', 'x86_64.json');
const data = JSON.parse(readFileSync(FILE, 'utf8')) as { oracle: string; cases: GoldenCase[] };

describe('x86_64 golden vectors (llvm-mc)', () => {
  it('has a substantial, oracle-produced list', () => {
    expect(data.oracle).toMatch(/^llvm-mc /);
    expect(data.cases.length).toBeGreaterThan(2000);
  });

  it('reproduces every recorded encoding byte for byte', () => {
    const failures: string[] = [];
    for (const c of data.cases) {
      let got: string;
      try {
        got = bytesToHex(assembleCall(c.call).bytes);
      } catch (e) {
        got = `threw ${(e as Error).message}`;
      }
      if (got !== c.bytes) failures.push(`${c.call}\n    asm:  ${c.asm.replace(/\n/g, '; ')}\n    want: ${c.bytes}\n    got:  ${got}`);
    }
    expect(failures.slice(0, 40).join('\n')).toBe('');
    expect(failures.length).toBe(0);
  });
});
