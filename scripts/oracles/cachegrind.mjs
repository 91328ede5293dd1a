#!/usr/bin/env node
// Regenerates test/vectors/emulator/cachegrind.json: Cachegrind's per-function counts for
// cg_kernel (scripts/oracles/cachegrind-kernel.S), run natively under
//   valgrind --tool=cachegrind --cache-sim=yes --I1=... --D1=... --LL=...
// for each case of cachegrind.cases.mjs, with the kernel's raw bytes (objcopy of its section) and
// the native addresses of the kernel, the data area and the stack top, so the emulator can run the
// same bytes at congruent addresses (test/emulator/cachegrind-harness.ts).
//   node scripts/oracles/cachegrind.mjs [--check]
// With --check nothing is written; exits non-zero when valgrind disagrees with the file.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CASES } from './cachegrind.cases.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const OUT = join(ROOT, 'test', 'vectors', 'emulator', 'cachegrind.json');
const DATA = 0x10000000;
const STACK_TOP = 0x11000000 + 32768;

export function buildNative() {
  const dir = mkdtempSync(join(tmpdir(), 'jitbox-cg-'));
  const exe = join(dir, 'cgm');
  execFileSync('cc', ['-O1', '-no-pie', '-o', exe, join(HERE, 'cachegrind-main.c'), join(HERE, 'cachegrind-kernel.S')]);
  const obj = join(dir, 'k.o');
  execFileSync('cc', ['-c', '-o', obj, join(HERE, 'cachegrind-kernel.S')]);
  const bin = join(dir, 'k.bin');
  execFileSync('objcopy', ['-O', 'binary', '--only-section=.text.cgk', obj, bin]);
  const nm = execFileSync('nm', [exe], { encoding: 'utf8' });
  const m = /^([0-9a-f]+) T cg_kernel$/m.exec(nm);
  if (!m) throw new Error('cg_kernel not found in nm output');
  let bytes = readFileSync(bin);
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0xcc) end--;
  bytes = bytes.subarray(0, end);
  return { dir, exe, kernelAddr: Number.parseInt(m[1], 16), kernelHex: Buffer.from(bytes).toString('hex').replace(/(..)(?!$)/g, '$1 ') };
}

const EVENTS = ['Ir', 'I1mr', 'ILmr', 'Dr', 'D1mr', 'DLmr', 'Dw', 'D1mw', 'DLmw'];

/** Cachegrind's counts for cg_kernel in one case. */
export function runValgrind(native, c) {
  const out = join(native.dir, `${c.name}.out`);
  execFileSync('valgrind', [
    '--tool=cachegrind', '--cache-sim=yes', `--I1=${c.I1.join(',')}`, `--D1=${c.D1.join(',')}`, `--LL=${c.LL.join(',')}`,
    `--cachegrind-out-file=${out}`, native.exe, String(c.n), String(c.stride), String(c.reps), String(c.mode), String(c.dataOffset),
  ], { stdio: ['ignore', 'ignore', 'ignore'] });
  const text = readFileSync(out, 'utf8');
  const events = /^events: (.*)$/m.exec(text)[1].trim().split(/\s+/);
  const sums = Object.fromEntries(EVENTS.map((e) => [e, 0]));
  let inKernel = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('fn=')) inKernel = line === 'fn=cg_kernel';
    else if (inKernel && /^\d/.test(line)) {
      const nums = line.trim().split(/\s+/).slice(1).map(Number);
      events.forEach((e, i) => {
        if (e in sums) sums[e] += nums[i] ?? 0;
      });
    }
  }
  if (sums.Ir === 0) throw new Error(`${c.name}: no counts for cg_kernel in ${out}`);
  return sums;
}

export function valgrindVersion() {
  return execFileSync('valgrind', ['--version'], { encoding: 'utf8' }).trim();
}

function main() {
  const check = process.argv.includes('--check');
  const native = buildNative();
  const vectors = {
    tool: `${valgrindVersion()} --tool=cachegrind --cache-sim=yes`,
    kernelHex: native.kernelHex,
    kernelAddr: '0x' + native.kernelAddr.toString(16),
    dataAddr: '0x' + DATA.toString(16),
    stackTop: '0x' + STACK_TOP.toString(16),
    cases: CASES.map((c) => ({ ...c, counts: runValgrind(native, c) })),
  };
  const text = JSON.stringify(vectors, null, 1) + '\n';
  if (check) {
    const old = readFileSync(OUT, 'utf8');
    if (old !== text) {
      console.error('cachegrind.json differs from valgrind');
      process.exit(1);
    }
    console.log(`cachegrind.json matches (${CASES.length} cases)`);
  } else {
    writeFileSync(OUT, text);
    console.log(`wrote ${OUT} (${CASES.length} cases)`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
