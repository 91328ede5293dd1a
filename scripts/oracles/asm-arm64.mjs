#!/usr/bin/env node
// Regenerates test/vectors/asm/arm64.json: for every case of test/vectors/asm/arm64-cases.mjs,
// the bytes llvm-mc (LLVM 14, `llvm-mc -triple=aarch64 -mattr=+lse,+bti -show-encoding`) gives
// for the assembly line, plus resolved-branch programs assembled with `-filetype=obj` and
// extracted with `llvm-objcopy -O binary --only-section=.text` (reference/machine.md §6).
// Usage: node scripts/oracles/asm-arm64.mjs [--check]   (--check: compare, do not write)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arm64Cases } from '../../test/vectors/asm/arm64-cases.mjs';
import { arm64Programs } from '../../test/vectors/asm/arm64-programs.mjs';

const ROOT = join(import.meta.dirname, '..', '..');
const OUT = join(ROOT, 'test/vectors/asm/arm64.json');
const MC = process.env.LLVM_MC ?? 'llvm-mc';
const OBJCOPY = process.env.LLVM_OBJCOPY ?? 'llvm-objcopy';

function run(cmd, args, input) {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

/** Encode each line separately (one llvm-mc run); returns hex byte strings in order. */
export function encodeLines(lines) {
  const out = run(MC, ['-triple=aarch64', '-mattr=+lse,+bti', '-show-encoding'], lines.join('\n') + '\n');
  const enc = [];
  for (const m of out.matchAll(/encoding: \[([^\]]*)\]/g)) {
    enc.push(m[1].split(',').map((b) => b.trim().replace(/^0x/, '')).join(' '));
  }
  if (enc.length !== lines.length) throw new Error(`llvm-mc returned ${enc.length} encodings for ${lines.length} lines`);
  return enc;
}

/** Assemble a program to an object and return the .text bytes. */
export function assembleProgram(text) {
  const dir = mkdtempSync(join(tmpdir(), 'jitbox-a64-'));
  const s = join(dir, 'p.s'), o = join(dir, 'p.o'), bin = join(dir, 'p.bin');
  writeFileSync(s, text);
  run(MC, ['-triple=aarch64', '-mattr=+lse,+bti', '-filetype=obj', s, '-o', o]);
  run(OBJCOPY, ['-O', 'binary', '--only-section=.text', o, bin]);
  return new Uint8Array(readFileSync(bin));
}

/** Sparse form of a (mostly zero-filled) image: non-zero 32-bit words by offset. */
export function sparseWords(bytes) {
  const words = {};
  for (let i = 0; i + 4 <= bytes.length; i += 4) {
    const w = (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) >>> 0;
    if (w !== 0) words[i] = w.toString(16).padStart(8, '0');
  }
  return { length: bytes.length, words };
}

function main() {
  const version = run(MC, ['--version'], '').split('\n').find((l) => /LLVM version/.test(l))?.trim() ?? 'unknown';
  const cases = arm64Cases();
  const bytes = encodeLines(cases.map((c) => c.asm));
  const programs = arm64Programs().map((p) => ({ name: p.name, asm: p.asm, image: sparseWords(assembleProgram(p.asm)) }));
  const doc = {
    tool: `${MC} -triple=aarch64 -mattr=+lse,+bti -show-encoding (${version})`,
    generator: 'scripts/oracles/asm-arm64.mjs',
    cases: cases.map((c, i) => ({ call: c.call, asm: c.asm, bytes: bytes[i] })),
    programs,
  };
  const text = JSON.stringify(doc, null, 0).replace(/\},\{/g, '},\n{') + '\n';
  if (process.argv.includes('--check')) {
    const old = readFileSync(OUT, 'utf8');
    if (old !== text) { console.error('arm64.json differs from a fresh llvm-mc run'); process.exit(1); }
    console.log(`arm64.json matches (${cases.length} cases, ${programs.length} programs)`);
    return;
  }
  writeFileSync(OUT, text);
  console.log(`wrote ${OUT}: ${cases.length} cases, ${programs.length} programs`);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) main();
