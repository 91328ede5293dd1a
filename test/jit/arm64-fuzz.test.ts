// Differential fuzzing, moderate count: random verifier-accepted programs (ALU, JMP/JMP32, stack and
// input memory incl. atomics and ldsx, helper calls, a local callee, occasional out-of-bounds
// accesses) give the interpreter's r0 / error text and input memory on the arm64 JIT (diffCase compiles for the host's arch), plain and
// hardened. `npm run fuzz -- bpf-jit` runs 100,000.
import { beforeAll, describe, expect, it } from 'vitest';
import { diffCase, generateProgram } from '../../jit/fuzz/bpf-jit.js';
import { BpfJitHost } from '../../jit/bpf/jit-host.js';
import { encodeProgram } from '../../jit/bpf/isa.js';
import { verifyProgram } from '../../jit/bpf/verifier.js';
import { conformanceProfile } from '../../jit/bpf/helpers-conformance.js';
import { initCapstone } from '../../support/capstone.js';
import { Rng } from '../../support/rng.js';

let host: BpfJitHost;
beforeAll(async () => {
  await initCapstone();
  host = new BpfJitHost({ seed: 99, arch: 'arm64' });
});

describe('interpreter vs arm64 JIT on random programs', () => {
  it('the generator produces verifier-accepted programs that exercise calls, atomics and faults', () => {
    let calls = 0, atomics = 0, local = 0;
    for (let s = 0; s < 200; s++) {
      const insns = generateProgram(new Rng(s));
      expect(() => verifyProgram(encodeProgram(insns), { profile: conformanceProfile })).not.toThrow();
      calls += insns.filter((i) => i.opcode === 0x85 && i.src === 0).length;
      local += insns.filter((i) => i.opcode === 0x85 && i.src === 1).length;
      atomics += insns.filter((i) => i.opcode === 0xc3 || i.opcode === 0xdb).length;
    }
    expect(calls).toBeGreaterThan(50);
    expect(local).toBeGreaterThan(10);
    expect(atomics).toBeGreaterThan(50);
  });

  for (let chunk = 0; chunk < 4; chunk++) {
    it(`seeds ${chunk * 50}..${chunk * 50 + 49} agree`, () => {
      const bad: string[] = [];
      for (let s = chunk * 50; s < chunk * 50 + 50; s++) {
        const d = diffCase(host, s);
        if (d) bad.push(d);
      }
      expect(bad.slice(0, 2).join('\n\n')).toBe('');
    });
  }
});
