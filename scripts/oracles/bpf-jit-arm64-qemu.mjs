#!/usr/bin/env node
// Records test/vectors/jit/arm64-qemu.json: arm64 JIT images of helper-free, call-free BPF programs
// (the bpf_conformance tests of that kind plus seeded random programs) run under qemu-aarch64 through
// scripts/oracles/bpf-jit-arm64-qemu.c (built with aarch64-linux-gnu-gcc -static). Each vector holds
// the program, input memory, the image (compiled without runtime checks: position independent) and
// qemu's r0 and memory afterwards. Needs `npm run build` first (imports dist/).
// Usage: node scripts/oracles/bpf-jit-arm64-qemu.mjs [--check]   (--check compares, writes nothing)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dist = new URL('../../dist/', import.meta.url).pathname;
const { parseConformance } = await import(dist + 'jit/bpf/conformance.js');
const { loadProgram, BpfInterpreter } = await import(dist + 'jit/bpf/interp.js');
const { encodeProgram } = await import(dist + 'jit/bpf/isa.js');
const { generateProgram } = await import(dist + 'jit/fuzz/bpf-jit.js');
const { Rng } = await import(dist + 'support/rng.js');
const { jitCompile } = await import(dist + 'jit/bpf/jit.js');
const { BpfJitHost } = await import(dist + 'jit/bpf/jit-host.js');
const { isNativeRunnable } = await import(dist + 'jit/bpf/jit-native.js');

const hex = (b) => Buffer.from(b).toString('hex');

const programs = [];
const confDir = new URL('../../../shared/conformance/', import.meta.url).pathname;
for (const f of readdirSync(confDir).filter((f) => f.endsWith('.data')).sort()) {
  const t = parseConformance(readFileSync(confDir + f, 'utf8'), f);
  if (t.program.length === 0 || t.expect?.kind !== 'result') continue;
  programs.push({ name: f, program: t.program, mem: t.mem });
}
for (let s = 0; programs.length < 400 && s < 4000; s++) {
  const rng = new Rng(s);
  const insns = generateProgram(rng, 30, false);
  programs.push({ name: `random-${s}`, program: encodeProgram(insns), mem: rng.bytes(64) });
}

const host = new BpfJitHost({ arch: 'arm64', capstoneCheck: false });
const cases = [];
for (const p of programs) {
  const prog = loadProgram(p.program, p.name);
  if (!isNativeRunnable(prog)) continue;
  try {
    new BpfInterpreter(prog).run({ mem: p.mem.slice(), budget: 1_000_000 });
  } catch {
    continue;
  }
  const jp = jitCompile(prog, { host, arch: 'arm64', memoryChecks: false });
  if (jp.relocations.length > 0) throw new Error(`${p.name}: arm64 image has relocations`);
  cases.push({ name: p.name, program: hex(encodeProgram(prog.insns)), mem: hex(p.mem), image: hex(jp.image) });
  jp.free();
}

const dir = mkdtempSync(join(tmpdir(), 'jitbox-bpf-arm64-qemu-'));
try {
  const exe = join(dir, 'harness');
  const gcc = spawnSync('aarch64-linux-gnu-gcc', ['-static', '-O1', '-o', exe, new URL('bpf-jit-arm64-qemu.c', import.meta.url).pathname], { encoding: 'utf8' });
  if (gcc.status !== 0) throw new Error(`aarch64-linux-gnu-gcc failed: ${gcc.stderr}`);
  const input = cases.map((c) => `${c.image} ${c.mem === '' ? '-' : c.mem}`).join('\n') + '\n';
  const run = spawnSync('qemu-aarch64', [exe], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (run.status !== 0) throw new Error(`harness failed under qemu-aarch64 (${run.status} ${run.signal}): ${run.stderr}`);
  const lines = run.stdout.trim().split('\n');
  const vectors = cases.map((c, k) => {
    const [r0, memAfter] = (lines[k] ?? '').split(' ');
    return { name: c.name, program: c.program, mem: c.mem, image: c.image, r0: '0x' + r0, memAfter: memAfter === '-' ? '' : memAfter };
  });
  const out = new URL('../../test/vectors/jit/arm64-qemu.json', import.meta.url).pathname;
  const text = JSON.stringify({ tool: 'qemu-aarch64 running scripts/oracles/bpf-jit-arm64-qemu.c (aarch64-linux-gnu-gcc -static)', vectors }, null, 1) + '\n';
  if (process.argv.includes('--check')) {
    const old = readFileSync(out, 'utf8');
    if (old !== text) {
      console.error('arm64-qemu.json differs from a fresh qemu run');
      process.exit(1);
    }
    console.log(`${vectors.length} qemu vectors match`);
  } else {
    writeFileSync(out, text);
    console.log(`wrote ${vectors.length} vectors to ${out}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
