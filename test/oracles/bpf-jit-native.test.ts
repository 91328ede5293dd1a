// Live native oracle for both BPF JITs, one suite parameterised by arch: builds
// scripts/oracles/bpf-jit-harness.c (x86_64 with cc, run on the host CPU; arm64 with
// aarch64-linux-gnu-gcc -static, run under qemu-aarch64), runs the JIT's images of helper-free
// programs (conformance + seeded random, seeds not in the recorded set) natively and compares r0
// and memory with the same images run in the emulator; then re-runs the recorded vectors
// (scripts/oracles/bpf-jit-harness.mjs) natively and compares with what was recorded.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConformance } from '../../jit/bpf/conformance.js';
import { loadProgram } from '../../jit/bpf/interp.js';
import { encodeProgram } from '../../jit/bpf/isa.js';
import { jitCompile, type JitArch } from '../../jit/bpf/jit.js';
import { BpfJitHost } from '../../jit/bpf/jit-host.js';
import { nativeCases } from '../../jit/bpf/jit-native.js';
import { generateProgram } from '../../jit/fuzz/bpf-jit.js';
import { initCapstone } from '../../support/capstone.js';
import { Rng } from '../../support/rng.js';
import { hex64, hexToBytes } from '../../support/u64.js';
import { requireTool } from './tools.js';

const bytes = (h: string): Uint8Array => (h === '' ? new Uint8Array(0) : (hexToBytes(h) as Uint8Array));
const HARNESS = 'scripts/oracles/bpf-jit-harness.c';

interface Setup {
  available(): boolean;
  build(exe: string): [string, string[]];
  run(exe: string): [string, string[]];
  vectors: string;
  seeds: number;
}

const SETUP: Record<JitArch, Setup> = {
  x86_64: {
    available: () => requireTool('cc', ['--version'], 'gcc') && process.arch === 'x64',
    build: (exe) => ['cc', ['-O1', '-o', exe, HARNESS]],
    run: (exe) => [exe, []],
    vectors: 'test/vectors/jit/x86_64-native.json',
    seeds: 10_000,
  },
  arm64: {
    available: () => requireTool('aarch64-linux-gnu-gcc', ['--version'], 'gcc-aarch64-linux-gnu') && requireTool('qemu-aarch64', ['--version'], 'qemu-user'),
    build: (exe) => ['aarch64-linux-gnu-gcc', ['-static', '-O1', '-o', exe, HARNESS]],
    run: (exe) => ['qemu-aarch64', [exe]],
    vectors: 'test/vectors/jit/arm64-qemu.json',
    seeds: 20_000,
  },
};

beforeAll(async () => initCapstone());

for (const arch of ['x86_64', 'arm64'] as const) {
  const s = SETUP[arch];
  describe(`${arch} JIT images run natively (live)`, () => {
    const dir = mkdtempSync(join(tmpdir(), `jitbox-jit-native-${arch}-`));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    function runNative(exe: string, cases: { image: string; mem: string }[]): string[] {
      const [cmd, args] = s.run(exe);
      const run = spawnSync(cmd, args, { input: cases.map((c) => `${c.image} ${c.mem === '' ? '-' : c.mem}`).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 28 });
      expect(run.status, run.stderr).toBe(0);
      return run.stdout.trim().split('\n');
    }

    it.skipIf(!s.available())("native r0 and memory equal the emulator's, and the recorded vectors still hold", () => {
      const exe = join(dir, 'harness');
      const [cc, ccArgs] = s.build(exe);
      const built = spawnSync(cc, ccArgs, { encoding: 'utf8' });
      expect(built.status, built.stderr).toBe(0);
      const confDir = new URL('../../../shared/conformance/', import.meta.url).pathname;
      const programs: { name: string; program: ReturnType<typeof loadProgram>; mem: Uint8Array }[] = [];
      for (const f of readdirSync(confDir).filter((f) => f.endsWith('.data')).sort()) {
        const t = parseConformance(readFileSync(confDir + f, 'utf8'), f);
        if (t.program.length > 0 && t.expect?.kind === 'result') programs.push({ name: f, program: loadProgram(t.program, f), mem: t.mem });
      }
      for (let seed = s.seeds; seed < s.seeds + 150; seed++) {
        const rng = new Rng(seed);
        programs.push({ name: `random-${seed}`, program: loadProgram(encodeProgram(generateProgram(rng, 30, false))), mem: rng.bytes(64) });
      }
      const cases = nativeCases(programs, arch);
      expect(cases.length).toBeGreaterThan(150);
      const lines = runNative(exe, cases);
      const host = new BpfJitHost({ seed: 5, arch });
      cases.forEach((c, k) => {
        const [r0, memAfter] = (lines[k] as string).split(' ');
        const jp = jitCompile(loadProgram(bytes(c.program), c.name), { host });
        const r = jp.run({ mem: bytes(c.mem) });
        jp.free();
        expect(hex64(r.r0.lo, r.r0.hi), c.name).toBe('0x' + r0);
        expect(Buffer.from(r.mem).toString('hex') || '-', c.name).toBe(memAfter);
      });
      const recorded = JSON.parse(readFileSync(s.vectors, 'utf8')) as { vectors: { name: string; image: string; mem: string; r0: string; memAfter: string }[] };
      const again = runNative(exe, recorded.vectors);
      recorded.vectors.forEach((v, k) => {
        const [r0, memAfter] = (again[k] as string).split(' ');
        expect({ r0: '0x' + r0, memAfter: memAfter === '-' ? '' : memAfter }, v.name).toEqual({ r0: v.r0, memAfter: v.memAfter });
      });
    });
  });
}
