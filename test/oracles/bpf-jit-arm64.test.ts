// Live native oracle for the arm64 BPF JIT: builds scripts/oracles/bpf-jit-arm64-qemu.c with
// aarch64-linux-gnu-gcc -static, runs the JIT's images of helper-free programs (conformance + seeded
// random, fresh seeds) under qemu-aarch64 and compares r0 and memory with the same images run in
// the emulator, and the recorded vectors (test/vectors/jit/arm64-qemu.json) with a fresh qemu run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConformance } from '../../jit/bpf/conformance.js';
import { BpfInterpreter, loadProgram } from '../../jit/bpf/interp.js';
import { encodeProgram } from '../../jit/bpf/isa.js';
import { jitCompile } from '../../jit/bpf/jit.js';
import { BpfJitHost } from '../../jit/bpf/jit-host.js';
import { isNativeRunnable } from '../../jit/bpf/jit-native.js';
import { generateProgram } from '../../jit/fuzz/bpf-jit.js';
import { initCapstone } from '../../support/capstone.js';
import { Rng } from '../../support/rng.js';
import { hex64, hexToBytes } from '../../support/u64.js';
import { requireTool } from './tools.js';

const haveGcc = requireTool('aarch64-linux-gnu-gcc', ['--version'], 'gcc-aarch64-linux-gnu');
const haveQemu = requireTool('qemu-aarch64', ['--version'], 'qemu-user');
const bytes = (h: string): Uint8Array => (h === '' ? new Uint8Array(0) : (hexToBytes(h) as Uint8Array));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('arm64 JIT images under qemu-aarch64 (live)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jitbox-jit-arm64-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeAll(async () => initCapstone());

  function runQemu(exe: string, cases: { image: string; mem: string }[]): string[] {
    const run = spawnSync('qemu-aarch64', [exe], { input: cases.map((c) => `${c.image} ${c.mem === '' ? '-' : c.mem}`).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(run.status, run.stderr).toBe(0);
    return run.stdout.trim().split('\n');
  }

  it.skipIf(!haveGcc || !haveQemu)("qemu's r0 and memory equal the emulator's, and the recorded vectors still hold", () => {
    const exe = join(dir, 'harness');
    const gcc = spawnSync('aarch64-linux-gnu-gcc', ['-static', '-O1', '-o', exe, 'scripts/oracles/bpf-jit-arm64-qemu.c'], { encoding: 'utf8' });
    expect(gcc.status, gcc.stderr).toBe(0);
    const host = new BpfJitHost({ seed: 5, arch: 'arm64' });
    const programs: { name: string; program: ReturnType<typeof loadProgram>; mem: Uint8Array }[] = [];
    const confDir = new URL('../../../shared/conformance/', import.meta.url).pathname;
    for (const f of readdirSync(confDir).filter((f) => f.endsWith('.data')).sort()) {
      const t = parseConformance(readFileSync(confDir + f, 'utf8'), f);
      if (t.program.length > 0 && t.expect?.kind === 'result') programs.push({ name: f, program: loadProgram(t.program, f), mem: t.mem });
    }
    for (let s = 20_000; s < 20_150; s++) {
      const rng = new Rng(s);
      programs.push({ name: `random-${s}`, program: loadProgram(encodeProgram(generateProgram(rng, 30, false))), mem: rng.bytes(64) });
    }
    const cases: { name: string; program: string; mem: string; image: string }[] = [];
    for (const p of programs) {
      if (!isNativeRunnable(p.program)) continue;
      try { new BpfInterpreter(p.program).run({ mem: p.mem.slice(), budget: 1_000_000 }); } catch { continue; }
      const jp = jitCompile(p.program, { host, memoryChecks: false });
      expect(jp.relocations).toEqual([]);
      cases.push({ name: p.name, program: hex(encodeProgram(p.program.insns)), mem: hex(p.mem), image: hex(jp.image) });
      jp.free();
    }
    expect(cases.length).toBeGreaterThan(150);
    const lines = runQemu(exe, cases);
    cases.forEach((c, k) => {
      const [r0, memAfter] = (lines[k] as string).split(' ');
      const jp = jitCompile(loadProgram(bytes(c.program), c.name), { host, memoryChecks: false });
      const r = jp.run({ mem: bytes(c.mem) });
      jp.free();
      expect(hex64(r.r0.lo, r.r0.hi), c.name).toBe('0x' + r0);
      expect(hex(r.mem) || '-', c.name).toBe(memAfter);
    });
    const recorded = JSON.parse(readFileSync('test/vectors/jit/arm64-qemu.json', 'utf8')) as { vectors: { name: string; image: string; mem: string; r0: string; memAfter: string }[] };
    const again = runQemu(exe, recorded.vectors);
    recorded.vectors.forEach((v, k) => {
      const [r0, memAfter] = (again[k] as string).split(' ');
      expect({ r0: '0x' + r0, memAfter: memAfter === '-' ? '' : memAfter }, v.name).toEqual({ r0: v.r0, memAfter: v.memAfter });
    });
  });
});
