#!/usr/bin/env node
// Regenerates test/vectors/bpf/objdump.json: how llvm-objdump-19 -d --mcpu=v4 prints BPF
// instructions, the oracle for jit/bpf/disasm.ts `disasmLlvm`.
// Inputs: every distinct instruction of the bpf_conformance programs (../shared/conformance/
// vectors.json) plus EXTRA encodings the suite lacks (callx, local calls, legacy packet loads, all
// atomics, movsx/ldsx widths, lddw forms). The bytes are wrapped in an object with llvm-mc-19
// (`.byte` lines in .text) and disassembled; ` <.text+0x..>` target annotations are dropped.
// Usage: node scripts/oracles/bpf-objdump.mjs [--stdout] [--inputs FILE]
//   --stdout prints instead of writing; --inputs takes the instruction list (JSON array of hex
//   strings) from FILE instead (used by the live test with random instructions).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;
const CONF = join(ROOT, '..', 'shared', 'conformance', 'vectors.json');
const OUT = join(ROOT, 'test', 'vectors', 'bpf', 'objdump.json');

const EXTRA = [
  '8d 02 00 00 00 00 00 00', '85 10 00 00 02 00 00 00', '85 10 00 00 fd ff ff ff',
  '30 00 00 00 04 00 00 00', '28 00 00 00 04 00 00 00', '20 00 00 00 04 00 00 00', '50 10 00 00 04 00 00 00',
  'db 21 08 00 f1 00 00 00', 'c3 21 08 00 f1 00 00 00', 'db 21 08 00 e1 00 00 00', 'c3 21 08 00 e1 00 00 00',
  'db 21 f8 ff 01 00 00 00', 'c3 21 08 00 41 00 00 00', 'db 21 08 00 51 00 00 00', 'c3 21 08 00 a1 00 00 00',
  'db 21 08 00 40 00 00 00', 'c3 21 08 00 a0 00 00 00',
  'bf 21 10 00 00 00 00 00', 'bf 21 20 00 00 00 00 00', 'bc 21 08 00 00 00 00 00', 'bc 21 10 00 00 00 00 00',
  '81 21 04 00 00 00 00 00', '89 21 fe ff 00 00 00 00', '91 21 00 00 00 00 00 00',
  '3c 21 01 00 00 00 00 00', '9c 21 01 00 00 00 00 00', '34 01 01 00 07 00 00 00', '94 01 01 00 f9 ff ff ff',
  'd7 01 00 00 20 00 00 00', 'd7 01 00 00 40 00 00 00', 'd4 01 00 00 10 00 00 00', 'dc 01 00 00 40 00 00 00',
  '06 00 00 00 fe ff ff ff', '05 00 00 00 00 00 00 00',
  '18 01 00 00 ff ff ff ff 00 00 00 00 ff ff ff ff', '18 01 00 00 00 00 00 00 00 00 00 00 00 00 00 80',
  '62 0a f8 ff fe ff ff ff', '6a 0a fe ff 34 12 00 00', '72 01 00 00 ff 00 00 00',
  '1d 12 05 00 00 00 00 00', 'a6 01 ff ff 10 00 00 00', 'be 12 00 00 00 00 00 00', '4e 12 01 00 00 00 00 00',
];

function instructionsOf(hex) {
  const b = hex.split(' ').filter(Boolean);
  const out = [];
  for (let i = 0; i + 8 <= b.length; ) {
    const n = b[i] === '18' ? 16 : 8;
    out.push(b.slice(i, i + n).join(' '));
    i += n;
  }
  return out;
}

export function collectInputs() {
  const seen = new Set();
  const list = [];
  const vectors = JSON.parse(readFileSync(CONF, 'utf8'));
  for (const v of vectors) for (const i of instructionsOf(v.program)) if (!seen.has(i)) (seen.add(i), list.push(i));
  for (const i of EXTRA) if (!seen.has(i)) (seen.add(i), list.push(i));
  return list;
}

export function runObjdump(list) {
  const dir = mkdtempSync(join(tmpdir(), 'bpf-objdump-'));
  try {
    const src = '.text\n' + list.map((i) => '.byte ' + i.split(' ').map((x) => '0x' + x).join(',')).join('\n') + '\n';
    writeFileSync(join(dir, 'p.s'), src);
    execFileSync('llvm-mc-19', ['-triple', 'bpfel', '-filetype=obj', join(dir, 'p.s'), '-o', join(dir, 'p.o')]);
    const text = execFileSync('llvm-objdump-19', ['-d', '--mcpu=v4', '--no-show-raw-insn', join(dir, 'p.o')], { encoding: 'utf8' });
    const lines = text.split('\n').map((l) => /^\s*\d+:\t(.*)$/.exec(l)).filter(Boolean).map((m) => m[1].replace(/ <[^<>]*>$/, '').trim());
    if (lines.length !== list.length) throw new Error(`objdump printed ${lines.length} instructions for ${list.length} inputs`);
    return list.map((bytes, k) => ({ bytes, text: lines[k] }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const version = () => execFileSync('llvm-objdump-19', ['--version'], { encoding: 'utf8' }).split('\n').find((l) => /version/i.test(l))?.trim() ?? '';

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const k = process.argv.indexOf('--inputs');
  const inputs = k > 0 ? JSON.parse(readFileSync(process.argv[k + 1], 'utf8')) : collectInputs();
  const vectors = runObjdump(inputs);
  const json = JSON.stringify({ tool: 'llvm-objdump-19 -d --mcpu=v4 --no-show-raw-insn', version: version(), vectors }, null, 1) + '\n';
  if (process.argv.includes('--stdout')) process.stdout.write(json);
  else {
    writeFileSync(OUT, json);
    console.log(`wrote ${vectors.length} vectors to ${OUT}`);
  }
}
