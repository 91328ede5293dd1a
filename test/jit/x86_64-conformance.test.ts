// All 313 bpf_conformance tests through the x86_64 JIT in the emulator: each passes and gives the
// interpreter's exact outcome (r0 or error text). One host serves every program (pack sharing).
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConformance, runConformanceTest } from '../../jit/bpf/conformance.js';
import { runBpf, loadProgram } from '../../jit/bpf/interp.js';
import { jitCompile } from '../../jit/bpf/jit.js';
import { BpfJitHost } from '../../jit/bpf/jit-host.js';
import { initCapstone } from '../../support/capstone.js';
import { CONFORMANCE_DIR, conformanceFiles, outcome } from './conformance-files.js';

const DIR = CONFORMANCE_DIR;
const files = conformanceFiles;

describe('bpf_conformance on the x86_64 JIT', () => {
  let host: BpfJitHost;
  beforeAll(async () => {
    await initCapstone();
    host = new BpfJitHost({ seed: 7 });
  });
  for (const harden of [false, true]) {
    for (const f of files) {
      it(`${harden ? 'hardened ' : ''}${f}`, () => {
        const t = parseConformance(readFileSync(DIR + f, 'utf8'), f);
        const jitEngine = (program: Uint8Array, mem: Uint8Array) => {
          const jp = jitCompile(loadProgram(program), { host, harden, seed: 3 });
          try {
            return jp.run({ mem }).r0;
          } finally {
            jp.free();
          }
        };
        const out = runConformanceTest(t, jitEngine);
        expect(out.status, `expected ${out.expected}, got ${out.actual}`).toBe('pass');
        if (t.program.length > 0) {
          const a = outcome(() => runBpf(t.program, { mem: t.mem }).r0);
          const b = outcome(() => jitEngine(t.program, t.mem));
          expect(b).toBe(a);
        }
      });
    }
  }
});
