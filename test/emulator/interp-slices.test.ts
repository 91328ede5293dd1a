// The interpreters leave their chained-block loop every few hundred block entries (x86_64
// runBlocks, arm64 execChain: so V8 optimises the loop function as a whole); a guest loop running
// across many such slices keeps exact results, counters and budget stops. The anchor loopA bytes
// (../shared/bench) on both cores, interpreter tier only.
import { beforeAll, describe, expect, it } from 'vitest';
import { BudgetExceededError } from '../../emulator/errors.js';
import { initCapstone } from '../../support/capstone.js';
import { big, hex, rig } from './helpers.js';

beforeAll(async () => {
  await initCapstone();
});

// xor eax, eax; mov rcx, rdi; .L: add rax, rcx; sub rcx, 1; jnz .L; ret
const X86_LOOP_A = '31 c0 48 89 f9 48 01 c8 48 83 e9 01 75 f7 c3';
// mov x1, x0; mov x0, #0; .L: add x0, x0, x1; subs x1, x1, #1; b.ne .L; ret
const A64_LOOP_A = 'e1 03 00 aa 00 00 80 d2 00 00 01 8b 21 04 00 f1 c1 ff ff 54 c0 03 5f d6';

function budgetStop(run: () => unknown): BudgetExceededError {
  try {
    run();
  } catch (e) {
    if (e instanceof BudgetExceededError) return e;
    throw e;
  }
  throw new Error('no budget stop');
}

describe('interpreter slices', () => {
  const n = 100_000;
  const sum = (BigInt(n) * BigInt(n + 1)) / 2n;

  it('x86_64: a 100000-iteration loop keeps result and counters exact', () => {
    const { cpu, code } = rig('x86_64', hex(X86_LOOP_A));
    const r = cpu.call(code, [n], { tier: 'interp' });
    expect(big(r.ret)).toBe(sum);
    expect(r.counters).toEqual({ insns: 2 + 3 * n + 1, loads: 1, stores: 0, branches: n });
  });

  it('x86_64: budget stops land on the block boundary before the overrun, across slices', () => {
    const { cpu, code } = rig('x86_64', hex(X86_LOOP_A));
    // Entry block = 5 insns (xor, mov, add, sub, jnz), then loop blocks of 3.
    for (const budget of [5 + 3 * 255, 5 + 3 * 256 + 1, 5 + 3 * 257 + 2, 5 + 3 * 5000, 5 + 3 * 40_000 + 1]) {
      const e = budgetStop(() => cpu.call(code, [n], { budget, tier: 'interp' }));
      const whole = 5 + 3 * Math.floor((budget - 5) / 3);
      expect(e.insns).toBe(whole);
      expect(e.pc).toBe(code + 5);
      expect(cpu.counters().insns).toBe(whole);
    }
  });

  it('arm64: a 100000-iteration loop keeps result and counters exact', () => {
    const { cpu, code } = rig('arm64', hex(A64_LOOP_A));
    const r = cpu.call(code, [n], { tier: 'interp' });
    expect(big(r.ret)).toBe(sum);
    expect(r.counters.insns).toBe(2 + 3 * n + 1);
    expect(r.counters.branches).toBe(n);
  });

  it('arm64: budget stops retire exactly the budget, across slices', () => {
    const { cpu, code } = rig('arm64', hex(A64_LOOP_A));
    for (const budget of [5 + 3 * 255, 5 + 3 * 256 + 1, 5 + 3 * 257 + 2, 5 + 3 * 5000, 5 + 3 * 40_000 + 1]) {
      const e = budgetStop(() => cpu.call(code, [n], { budget, tier: 'interp' }));
      expect(e.insns).toBe(budget);
      expect(cpu.counters().insns).toBe(budget);
    }
  });
});
