// Live native oracle for the x86_64 BPF JIT: builds scripts/oracles/bpf-jit-native.c with cc, runs
// the JIT's images of helper-free programs (conformance + seeded random) on the host CPU and
// compares r0 and memory with the same images run in the emulator and with the recorded vectors.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConformance } from '../../jit/bpf/conformance.js';
import { loadProgram } from '../../jit/bpf/interp.js';
import { encodeProgram } from '../../jit/bpf/isa.js';
import { jitCompile } from '../../jit/bpf/jit.js';
import { BpfJitHost } from '../../jit/bpf/jit-host.js';
import { nativeCases } from '../../jit/bpf/jit-native.js';
import { generateProgram } from '../../jit/fuzz/bpf-jit.js';
import { initCapstone } from '../../support/capstone.js';
import { Rng } from '../../support/rng.js';
import { hex64, hexToBytes } from '../../support/u64.js';
import { requireTool } from './tools.js';

const haveCc = requireTool('cc', ['--version'], 'gcc');
const isX86 = process.arch === 'x64';
const bytes = (h: string): Uint8Array => (h === '' ? new Uint8Array(0) : (hexToBytes(h) as Uint8Array));

describe('x86_64 JIT images on the host CPU (live)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jitbox-jit-native-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeAll(async () => initCapstone());

  it.skipIf(!haveCc || !isX86)('native r0 and memory equal the emulator\'s and the recorded vectors', () => {
    const exe = join(dir, 'harness');
    const cc = spawnSync('cc', ['-O1', '-o', exe, 'scripts/oracles/bpf-jit-native.c'], { encoding: 'utf8' });
    expect(cc.stderr).toBe('');
    const confDir = new URL('../../../shared/conformance/', import.meta.url).pathname;
    const programs: { name: string; program: ReturnType<typeof loadProgram>; mem: Uint8Array }[] = [];
    for (const f of readdirSync(confDir).filter((f) => f.endsWith('.data')).sort()) {
      const t = parseConformance(readFileSync(confDir + f, 'utf8'), f);
      if (t.program.length > 0 && t.expect?.kind === 'result') programs.push({ name: f, program: loadProgram(t.program, f), mem: t.mem });
    }
    for (let s = 10_000; s < 10_150; s++) {
      const rng = new Rng(s);
      programs.push({ name: `random-${s}`, program: loadProgram(encodeProgram(generateProgram(rng, 30, false))), mem: rng.bytes(64) });
    }
    const cases = nativeCases(programs);
    expect(cases.length).toBeGreaterThan(150);
    const run = spawnSync(exe, [], { input: cases.map((c) => `${c.image} ${c.mem === '' ? '-' : c.mem}`).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n');
    const host = new BpfJitHost({ seed: 5 });
    cases.forEach((c, k) => {
      const [r0, memAfter] = (lines[k] as string).split(' ');
      const jp = jitCompile(loadProgram(bytes(c.program), c.name), { host });
      const r = jp.run({ mem: bytes(c.mem) });
      jp.free();
      expect(hex64(r.r0.lo, r.r0.hi), c.name).toBe('0x' + r0);
      expect(Buffer.from(r.mem).toString('hex') || '-', c.name).toBe(memAfter);
    });
    const recorded = JSON.parse(readFileSync('test/vectors/jit/x86_64-native.json', 'utf8')) as { vectors: { name: string; image: string; r0: string }[] };
    const byName = new Map(cases.map((c, k) => [c.name, { image: c.image, r0: '0x' + (lines[k] as string).split(' ')[0] }]));
    for (const v of recorded.vectors) {
      const live = byName.get(v.name);
      if (live) expect(live, v.name).toEqual({ image: v.image, r0: v.r0 });
    }
  });
});
