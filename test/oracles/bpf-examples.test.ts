// Live oracles for examples/bpf: clang-19 rebuilds every object byte-for-byte identical to the
// committed one (build.sh is deterministic), and gcc, compiling the same C natively, still gives
// exactly the committed expected.json (record-expected.mjs --check). Finally the rebuilt objects
// run on the interpreter to the recorded results, and so does the same C built at every -mcpu.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadElf } from '../../jit/bpf/elf.js';
import { kernelProfile } from '../../jit/bpf/helpers-kernel.js';
import { BpfInterpreter } from '../../jit/bpf/interp.js';
import { instantiate } from '../../jit/bpf/maps.js';
import { verifyProgram } from '../../jit/bpf/verifier.js';
import { hex64 } from '../../support/u64.js';
import { requireTool } from './tools.js';

const dir = 'examples/bpf';
const haveClang = requireTool('clang-19', ['--version'], 'clang-19');
const haveGcc = requireTool('gcc', ['--version'], 'gcc');

describe('examples/bpf oracles', () => {
  const out = mkdtempSync(join(tmpdir(), 'jitbox-bpf-build-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it.skipIf(!haveClang)('clang-19 rebuilds byte-identical objects', () => {
    const r = spawnSync('sh', [join(dir, 'build.sh'), out], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const committed = readdirSync(dir).filter((f) => f.endsWith('.o')).sort();
    expect(readdirSync(out).filter((f) => f.endsWith('.o')).sort()).toEqual(committed);
    for (const f of committed) expect(Buffer.compare(readFileSync(join(out, f)), readFileSync(join(dir, f))), f).toBe(0);
  });

  it.skipIf(!haveClang)('the rebuilt objects give the recorded results on the interpreter', () => {
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Record<string, { object: string; programs: Record<string, { runs: { input: string; r0: string }[] }> }>;
    let runs = 0;
    for (const ex of Object.values(expected)) {
      const obj = loadElf(new Uint8Array(readFileSync(join(out, ex.object))));
      for (const [name, p] of Object.entries(ex.programs)) {
        for (const run of p.runs) {
          const { programs } = instantiate(obj);
          const prog = programs[obj.programs.findIndex((x) => x.name === name)]!;
          const r = new BpfInterpreter(prog, kernelProfile).run({ mem: new Uint8Array(readFileSync(join(dir, run.input))) });
          expect(hex64(r.r0.lo, r.r0.hi), `${name} ${run.input}`).toBe(run.r0);
          runs++;
        }
      }
    }
    expect(runs).toBeGreaterThanOrEqual(30);
  });

  it.skipIf(!haveClang)('the same C built at every -mcpu (v1, v2, v3, v4) verifies and gives the recorded results', () => {
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Record<string, { source: string; cpu: string; programs: Record<string, { runs: { input: string; r0: string }[] }> }>;
    let runs = 0;
    for (const [name, ex] of Object.entries(expected)) {
      for (const cpu of ['v1', 'v2', 'v3', 'v4']) {
        if (ex.cpu === 'v4' && cpu !== 'v4') continue;
        const o = join(out, `${name}-${cpu}.o`);
        const c = spawnSync('clang-19', ['-target', 'bpf', '-O2', `-mcpu=${cpu}`, '-g', '-c', join(dir, ex.source), '-o', o], { encoding: 'utf8' });
        expect(c.status, c.stderr).toBe(0);
        const obj = loadElf(new Uint8Array(readFileSync(o)));
        for (const [prog, p] of Object.entries(ex.programs)) {
          for (const run of p.runs) {
            const { maps, programs } = instantiate(obj);
            const bp = programs[obj.programs.findIndex((x) => x.name === prog)]!;
            verifyProgram(bp.insns, { profile: kernelProfile, maps });
            const r = new BpfInterpreter(bp, kernelProfile).run({ mem: new Uint8Array(readFileSync(join(dir, run.input))) });
            expect(hex64(r.r0.lo, r.r0.hi), `${name} -mcpu=${cpu} ${prog} ${run.input}`).toBe(run.r0);
            runs++;
          }
        }
      }
    }
    expect(runs).toBeGreaterThanOrEqual(100);
  });

  it.skipIf(!haveGcc)('gcc on the same C still produces expected.json', () => {
    const r = spawnSync('node', [join(dir, 'record-expected.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/expected.json matches gcc/);
    expect(r.status).toBe(0);
  });
});
