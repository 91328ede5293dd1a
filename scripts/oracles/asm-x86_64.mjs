#!/usr/bin/env node
// Regenerate test/vectors/asm/x86_64.json: golden triples (builder call, bytes, assembly) for the
// x86_64 assembler, with bytes from LLVM's assembler (reference/machine.md §6):
// - single instructions: `llvm-mc -triple=x86_64 -x86-asm-syntax=intel -output-asm-variant=1
//   -show-encoding` (one run for the whole list; `llvm` records how llvm-mc printed the line);
// - blocks with labels/branches/nops: `llvm-mc -filetype=obj` + `llvm-objcopy -O binary
//   --only-section=.text`, so llvm-mc's own relaxation resolves the branches.
// Usage: node scripts/oracles/asm-x86_64.mjs [--check]   (--check: compare with the committed file,
// write nothing, exit 1 on a difference; the live oracle test does the same through vitest).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { blocks, cases } from './asm-x86_64.cases.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = join(ROOT, 'test', 'vectors', 'asm', 'x86_64.json');
const MC = process.env.LLVM_MC ?? 'llvm-mc';
const OBJCOPY = process.env.LLVM_OBJCOPY ?? 'llvm-objcopy';

function run(cmd, args, input) {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

export function mcVersion() {
  const m = /LLVM version ([0-9.]+)/.exec(run(MC, ['--version']));
  return m ? m[1] : 'unknown';
}

/** Encode single-instruction lines with -show-encoding; returns [{bytes, llvm}] in input order. */
export function encodeLines(lines) {
  const out = run(MC, ['-triple=x86_64', '-x86-asm-syntax=intel', '-output-asm-variant=1', '-show-encoding'], lines.join('\n') + '\n');
  const rows = [];
  for (const line of out.split('\n')) {
    const i = line.indexOf('# encoding: [');
    if (i < 0) continue;
    const enc = line.slice(i + '# encoding: ['.length, line.lastIndexOf(']'));
    if (/[A-Z]/.test(enc.replace(/0x/g, ''))) throw new Error(`unresolved fixup in "${line.trim()}"`);
    const bytes = enc.split(',').map((t) => parseInt(t, 16));
    rows.push({ bytes: hex(bytes), llvm: line.slice(0, i).trim().replace(/\s+/g, ' ') });
  }
  if (rows.length !== lines.length) throw new Error(`llvm-mc returned ${rows.length} encodings for ${lines.length} lines`);
  return rows;
}

/** Assemble a block to an object file and return its .text bytes. */
export function encodeBlock(asm, dir) {
  const s = join(dir, 'block.s');
  const o = join(dir, 'block.o');
  const bin = join(dir, 'block.bin');
  writeFileSync(s, asm + '\n');
  run(MC, ['-triple=x86_64', '-x86-asm-syntax=intel', '-filetype=obj', s, '-o', o]);
  const relocs = run(process.env.LLVM_OBJDUMP ?? 'llvm-objdump', ['-r', o]);
  if (/R_X86_64/.test(relocs)) throw new Error(`block left relocations:\n${asm}\n${relocs}`);
  run(OBJCOPY, ['-O', 'binary', '--only-section=.text', o, bin]);
  return hex(readFileSync(bin));
}

export function generate() {
  const single = cases();
  const enc = encodeLines(single.map((c) => c.asm));
  const dir = mkdtempSync(join(tmpdir(), 'jitbox-asm-'));
  try {
    const blk = blocks().map((c) => ({ ...c, bytes: encodeBlock(c.asm, dir), llvm: null }));
    return {
      generator: 'scripts/oracles/asm-x86_64.mjs',
      oracle: `llvm-mc ${mcVersion()} (-triple=x86_64 -x86-asm-syntax=intel)`,
      cases: [...single.map((c, i) => ({ call: c.call, asm: c.asm, bytes: enc[i].bytes, llvm: enc[i].llvm })), ...blk],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const data = generate();
  const text = JSON.stringify(data, null, 1) + '\n';
  if (process.argv.includes('--check')) {
    const old = readFileSync(OUT, 'utf8');
    if (old !== text) {
      console.error('test/vectors/asm/x86_64.json differs from llvm-mc output');
      process.exit(1);
    }
    console.log(`${data.cases.length} cases match`);
  } else {
    writeFileSync(OUT, text);
    console.log(`wrote ${data.cases.length} cases to ${OUT}`);
  }
}
