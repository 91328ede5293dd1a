// The x86_64 executor's fast paths keep the dispatcher's semantics: a block chained to itself
// re-enters without the dispatcher (budget still checked at every block entry, counters exact),
// sub/cmp fused with the closing jz/jnz still leaves the flags for later readers, and a text_poke
// into a running loop is seen at the next entry of the poked block.
import { beforeAll, describe, expect, it } from 'vitest';
import { BudgetExceededError } from '../../emulator/errors.js';
import { X86Machine } from '../../emulator/x86_64/machine.js';
import { initCapstone } from '../../support/capstone.js';
import { big, hex, rig } from './helpers.js';

beforeAll(async () => {
  await initCapstone();
});

// xor eax, eax; mov rcx, rdi; .L: add rax, rcx; sub rcx, 1; jnz .L; ret
const LOOP_A = '31 c0 48 89 f9 48 01 c8 48 83 e9 01 75 f7 c3';

describe('x86_64 self-loop and fused sub/cmp + jcc', () => {
  it('a self-looping block counts every iteration', () => {
    const { cpu, code } = rig('x86_64', hex(LOOP_A));
    const r = cpu.call(code, [1000]);
    expect(big(r.ret)).toBe(500500n);
    expect(r.counters.insns).toBe(2 + 3 * 1000 + 1);
    expect(r.counters.branches).toBe(999 + 1);
    const again = cpu.call(code, [1]);
    expect(big(again.ret)).toBe(1n);
    expect(again.counters).toEqual({ insns: 6, loads: 1, stores: 0, branches: 1 }); // ret pops: one load
  });

  it('the budget stops a self loop at a block boundary with the exact count', () => {
    const { cpu, code } = rig('x86_64', hex(LOOP_A));
    let err: unknown;
    try {
      cpu.call(code, [1000], { budget: 50 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BudgetExceededError);
    // Entry block (xor, mov, add, sub, jnz) = 5, then 15 whole loop blocks of 3; the 16th does not fit.
    expect((err as BudgetExceededError).insns).toBe(50);
    expect((err as BudgetExceededError).pc).toBe(code + 5);
    expect(cpu.counters().insns).toBe(50);
  });

  it('cmp fused with jne leaves the flags for setb (64-bit compare, high words included)', () => {
    // xor eax, eax; cmp rdi, rsi; jne .Lne; mov eax, 7; ret; .Lne: setb al; ret
    const { cpu, code } = rig('x86_64', hex('31 c0 48 39 f7 75 06 b8 07 00 00 00 c3 0f 92 c0 c3'));
    const cases: [bigint, bigint, bigint][] = [
      [5n, 5n, 7n],
      [3n, 5n, 1n],
      [5n, 3n, 0n],
      [0x1_0000_0000n, 1n, 0n],
      [1n, 0x1_0000_0000n, 1n],
      [0x1_0000_0005n, 5n, 0n],
      [0x1_0000_0005n, 0x1_0000_0005n, 7n],
      [0xffff_ffff_ffff_ffffn, 0n, 0n],
    ];
    for (const [a, b, want] of cases) expect(big(cpu.call(code, [a, b]).ret)).toBe(want);
  });

  it('sub fused with jz takes the branch only on zero', () => {
    // xor eax, eax; mov rcx, rdi; .L: add rax, 2; sub rcx, 1; jz .Ldone; jmp .L; .Ldone: ret
    const { cpu, code } = rig('x86_64', hex('31 c0 48 89 f9 48 83 c0 02 48 83 e9 01 74 02 eb f4 c3'));
    const r = cpu.call(code, [37]);
    expect(big(r.ret)).toBe(74n);
    expect(r.counters.insns).toBe(2 + 37 * 3 + 36 + 1);
    expect(r.counters.branches).toBe(36 + 1 + 1);
    expect(cpu).toBeInstanceOf(X86Machine);
    expect((cpu as X86Machine).flags() & 0x40).toBe(0x40); // ZF from the last sub
  });

  it('a text_poke into a running chained loop is seen at the next entry of the poked block', () => {
    const { space, cpu } = rig('x86_64', hex('c3'));
    const helper = space.defineKernelSymbol('poke_helper', 16);
    const h = BigInt.asUintN(64, BigInt(helper));
    const imm = Array.from({ length: 8 }, (_, i) => Number((h >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, '0')).join(' ');
    // movabs r8, helper; mov rcx, rdi; xor edx, edx; .L: add rdx, rcx; call r8; sub rcx, 1; jnz .L;
    // mov rax, rdx; ret
    const code = space.execmemAlloc('BPF', 64);
    space.textPokeCopy(code, hex(`49 b8 ${imm} 48 89 f9 31 d2 48 01 ca 41 ff d0 48 83 e9 01 75 f4 48 89 d0 c3`));
    let calls = 0;
    cpu.registerHostFunction(helper, 'poke_helper', () => {
      calls++;
      // After the third iteration's add: turn `add rdx, rcx` into `sub rdx, rcx`.
      if (calls === 3) space.textPokeCopy(code + 16, hex('29'));
    });
    const r = cpu.call(code, [10]);
    expect(calls).toBe(10);
    expect(big(r.ret)).toBe(BigInt.asUintN(64, 10n + 9n + 8n - (7n + 6n + 5n + 4n + 3n + 2n + 1n)));
  });
});
