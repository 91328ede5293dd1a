// Differential test: the interpreter against the independent BigInt reference model (ref-model.ts)
// on random well-formed programs and random input memory: same r0, same instruction count, same
// input bytes afterwards, or the same kind of failure (memory fault, budget, other runtime error).
import { describe, expect, it } from 'vitest';
import { randomProgram } from '../../jit/bpf/gen.js';
import { BpfInterpreter } from '../../jit/bpf/interp.js';
import { BpfBudgetExceeded, BpfMemoryFault } from '../../jit/bpf/runtime.js';
import { Rng } from '../../support/rng.js';
import { bytesToHex, pairToBigInt } from '../../support/u64.js';
import { refRun } from './ref-model.js';

describe('interpreter vs BigInt reference model', () => {
  it('agrees on 1500 random programs', () => {
    const rng = new Rng(77);
    let compared = 0;
    let completed = 0;
    const bad: string[] = [];
    for (let n = 0; n < 1500 && bad.length < 5; n++) {
      const insns = randomProgram(rng, rng.int(1, 30), { exotic: 0 });
      const mem = rng.bool(0.8) ? rng.bytes(rng.int(1, 40)) : undefined;
      let vm: BpfInterpreter;
      try {
        vm = new BpfInterpreter({ name: 'diff', insns });
      } catch {
        continue; // load-time rejections are covered elsewhere
      }
      compared++;
      const ref = refRun(insns, mem, 3000);
      let ours: { ok: true; r0: bigint; count: number; mem: string } | { ok: false; error: string };
      try {
        const r = vm.run({ budget: 3000, ...(mem ? { mem } : {}) });
        ours = { ok: true, r0: pairToBigInt(r.r0.lo, r.r0.hi), count: r.insns, mem: bytesToHex(r.mem) };
      } catch (e) {
        const helperMem = e instanceof Error && /^helper (read|write) /.test(e.message);
        ours = { ok: false, error: e instanceof BpfMemoryFault || helperMem ? 'memory' : e instanceof BpfBudgetExceeded ? 'budget' : 'runtime' };
      }
      const theirs = ref.ok ? { ok: true, r0: ref.r0, count: ref.count, mem: bytesToHex(ref.mem) } : ref;
      if (ours.ok) completed++;
      if (JSON.stringify(ours, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v)) !== JSON.stringify(theirs, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v))) {
        bad.push(`case ${n}: ours ${JSON.stringify(ours, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v))} ref ${JSON.stringify(theirs, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v))}`);
      }
    }
    expect(bad).toEqual([]);
    expect(compared).toBeGreaterThan(900);
    expect(completed).toBeGreaterThan(180);
  });
});
