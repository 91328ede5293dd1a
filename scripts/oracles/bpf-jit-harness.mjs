#!/usr/bin/env node
// Records the native-run vectors of the BPF JITs, one script for both arches:
//   --arch x86_64 -> test/vectors/jit/x86_64-native.json: images run on the host CPU (harness built with cc)
//   --arch arm64  -> test/vectors/jit/arm64-qemu.json: images run under qemu-aarch64 (aarch64-linux-gnu-gcc -static)
// Programs: the bpf_conformance tests that are helper- and call-free plus seeded random programs
// (jit/fuzz/bpf-jit.ts generateProgram with calls off). Each vector holds the program, input memory,
// the image (compiled without runtime checks: position independent, jit/bpf/jit-native.ts) and the
// native r0 and memory afterwards. The harness is scripts/oracles/bpf-jit-harness.c for both.
// Needs `npm run build` first (imports dist/; BPF_JIT_DIST overrides the directory).
// Usage: node scripts/oracles/bpf-jit-harness.mjs --arch x86_64|arm64 [--check]   (--check compares, writes nothing)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Per arch: how to build and run the harness, where the vectors go. */
export const HARNESS = {
  x86_64: {
    build: (exe, src) => ['cc', ['-O1', '-o', exe, src]],
    run: (exe) => [exe, []],
    vectors: 'test/vectors/jit/x86_64-native.json',
    tool: 'cc harness scripts/oracles/bpf-jit-harness.c on the host CPU',
  },
  arm64: {
    build: (exe, src) => ['aarch64-linux-gnu-gcc', ['-static', '-O1', '-o', exe, src]],
    run: (exe) => ['qemu-aarch64', [exe]],
    vectors: 'test/vectors/jit/arm64-qemu.json',
    tool: 'qemu-aarch64 running scripts/oracles/bpf-jit-harness.c (aarch64-linux-gnu-gcc -static)',
  },
};

const root = new URL('../../', import.meta.url).pathname;
const argv = process.argv.slice(2);
const arch = argv[argv.indexOf('--arch') + 1];
if (!argv.includes('--arch') || !(arch in HARNESS)) {
  console.error('usage: node scripts/oracles/bpf-jit-harness.mjs --arch x86_64|arm64 [--check]');
  process.exit(2);
}
const h = HARNESS[arch];
const dist = process.env.BPF_JIT_DIST ? process.env.BPF_JIT_DIST.replace(/\/?$/, '/') : root + 'dist/';
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
const cases = nativeCases(programs.map((p) => ({ ...p, program: loadProgram(p.program, p.name) })), arch);

const dir = mkdtempSync(join(tmpdir(), `jitbox-bpf-harness-${arch}-`));
try {
  const exe = join(dir, 'harness');
  const [cc, ccArgs] = h.build(exe, new URL('bpf-jit-harness.c', import.meta.url).pathname);
  const built = spawnSync(cc, ccArgs, { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`${cc} failed: ${built.stderr}`);
  const input = cases.map((c) => `${c.image} ${c.mem === '' ? '-' : c.mem}`).join('\n') + '\n';
  const [cmd, args] = h.run(exe);
  const run = spawnSync(cmd, args, { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (run.status !== 0) throw new Error(`harness failed (${run.status} ${run.signal}): ${run.stderr}`);
  const lines = run.stdout.trim().split('\n');
  const vectors = cases.map((c, k) => {
    const [r0, memAfter] = (lines[k] ?? '').split(' ');
    return { name: c.name, program: c.program, mem: c.mem, image: c.image, r0: '0x' + r0, memAfter: memAfter === '-' ? '' : memAfter };
  });
  const out = root + h.vectors;
  const text = JSON.stringify({ tool: h.tool, vectors }, null, 1) + '\n';
  if (argv.includes('--check')) {
    const old = readFileSync(out, 'utf8');
    if (old !== text) {
      console.error(`${h.vectors} differs from a fresh ${arch} native run`);
      process.exit(1);
    }
    console.log(`${vectors.length} ${arch} native vectors match`);
  } else {
    writeFileSync(out, text);
    console.log(`wrote ${vectors.length} vectors to ${out}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
