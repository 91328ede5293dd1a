#!/usr/bin/env node
// Records test/vectors/jit/x86_64-native.json: x86_64 JIT images of helper-free, call-free BPF
// programs (the bpf_conformance tests of that kind plus seeded random programs) run natively on the
// host CPU through scripts/oracles/bpf-jit-native.c (built with cc). Each vector holds the program,
// input memory, the image (compiled without runtime checks: position independent) and the native
// r0 and memory afterwards. Needs `npm run build` first (imports dist/).
// Usage: node scripts/oracles/bpf-jit-native.mjs [--check]   (--check compares, writes nothing)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dist = new URL('../../dist/', import.meta.url).pathname;
const { parseConformance } = await import(dist + 'jit/bpf/conformance.js');
const { loadProgram } = await import(dist + 'jit/bpf/interp.js');
const { encodeProgram } = await import(dist + 'jit/bpf/isa.js');
const { generateProgram } = await import(dist + 'jit/fuzz/bpf-jit.js');
const { Rng } = await import(dist + 'support/rng.js');
const { nativeCases } = await import(dist + 'jit/bpf/jit-native.js');


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
const cases = nativeCases(programs.map((p) => ({ ...p, program: loadProgram(p.program, p.name) })));

const dir = mkdtempSync(join(tmpdir(), 'jitbox-bpf-native-'));
try {
  const exe = join(dir, 'harness');
  const cc = spawnSync('cc', ['-O1', '-o', exe, new URL('bpf-jit-native.c', import.meta.url).pathname], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`cc failed: ${cc.stderr}`);
  const input = cases.map((c) => `${c.image} ${c.mem === '' ? '-' : c.mem}`).join('\n') + '\n';
  const run = spawnSync(exe, [], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (run.status !== 0) throw new Error(`harness failed (${run.status} ${run.signal}): ${run.stderr}`);
  const lines = run.stdout.trim().split('\n');
  const vectors = cases.map((c, k) => {
    const [r0, memAfter] = (lines[k] ?? '').split(' ');
    return { name: c.name, program: c.program, mem: c.mem, image: c.image, r0: '0x' + r0, memAfter: memAfter === '-' ? '' : memAfter };
  });
  const out = new URL('../../test/vectors/jit/x86_64-native.json', import.meta.url).pathname;
  const text = JSON.stringify({ tool: 'cc harness scripts/oracles/bpf-jit-native.c on the host CPU', vectors }, null, 1) + '\n';
  if (process.argv.includes('--check')) {
    const old = readFileSync(out, 'utf8');
    if (old !== text) {
      console.error('x86_64-native.json differs from a fresh native run');
      process.exit(1);
    }
    console.log(`${vectors.length} native vectors match`);
  } else {
    writeFileSync(out, text);
    console.log(`wrote ${vectors.length} vectors to ${out}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

