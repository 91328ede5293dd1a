// The bpf_conformance suite through the arm64 BPF JIT with the translation tier forced on the
// emulator: every program gives the same outcome (r0 or error text) translated and interpreted,
// and the JIT's code really runs translated (helper calls, tail calls and atomics leave for the
// interpreter and come back). The suite itself also runs with JITBOX_TIER=translate.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConformance } from '../../jit/bpf/conformance.js';
import { loadProgram } from '../../jit/bpf/interp.js';
import { jitCompile } from '../../jit/bpf/jit.js';
import { BpfJitHost } from '../../jit/bpf/jit-host.js';
import { initCapstone } from '../../support/capstone.js';
import { CONFORMANCE_DIR, conformanceFiles, outcome } from '../jit/conformance-files.js';

const DIR = CONFORMANCE_DIR;
const files = conformanceFiles;

describe('bpf_conformance on the arm64 JIT, translated vs interpreted', () => {
  beforeAll(async () => {
    await initCapstone();
  });

  it(`${files.length} programs plain, every fourth hardened`, () => {
    const host = new BpfJitHost({ seed: 7, arch: 'arm64' });
    const bad: string[] = [];
    let programs = 0;
    for (const harden of [false, true]) {
      for (const f of harden ? files.filter((_, i) => i % 4 === 0) : files) {
        const t = parseConformance(readFileSync(DIR + f, 'utf8'), f);
        if (t.program.length === 0) continue;
        let jp;
        try {
          jp = jitCompile(loadProgram(t.program), { host, harden, seed: 3, arch: 'arm64' });
        } catch {
          continue;
        }
        programs++;
        try {
          const got: string[] = [];
          const counters: string[] = [];
          for (const tier of ['interp', 'translate'] as const) {
            host.machine.tier = tier;
            got.push(outcome(() => jp.run({ mem: t.mem.slice() }).r0));
            counters.push(JSON.stringify(host.machine.counters()));
          }
          if (got[0] !== got[1] || counters[0] !== counters[1]) bad.push(`${harden ? 'hardened ' : ''}${f}: ${got.join(' / ')} ${counters.join(' / ')}`);
        } finally {
          jp.free();
        }
      }
    }
    host.machine.tier = 'auto';
    expect(bad.slice(0, 10)).toEqual([]);
    expect(programs).toBeGreaterThan(350);
    const st = host.machine.translationStats();
    expect(st!.translatedInsns).toBeGreaterThan(10 * programs);
  });
});
