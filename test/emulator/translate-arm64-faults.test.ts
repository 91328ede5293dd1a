// Faults, budget and self-modifying code with the arm64 translation tier forced: each scenario runs
// interpreted and translated from the same state and must end identically (fault class, message,
// address, pc, instruction text, registers, NZCV, data bytes, Counters), and the expected fault
// must actually happen. Translated code meets these conditions inside loops (a store walking into
// the guard page, a load pair straddling a page), where it has to leave wasm exactly before the
// faulting instruction.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../support/rng.js';
import { PageFault, StaleIcacheFault } from '../../execmem/types.js';
import { vaddrToPair, type VAddr } from '../../support/u64.js';
import { BudgetExceededError, GuestTrap } from '../../emulator/errors.js';
import { AlignmentFault, PcAlignmentFault } from '../../emulator/arm64/faults.js';
import { DATA_BYTES, diffStates, makeTxRig, type RunState, runWith, type Start, type TxRig } from './translate-arm64-harness.js';

const RET = 0xd65f03c0;
const STR_X0_X1 = 0xf9000020, LDR_X0_X1 = 0xf9400020;
const STR_X0_X1_POST8 = 0xf8008420; // str x0, [x1], #8
const B_BACK1 = 0x17ffffff; // b .-4
const B_SELF = 0x14000000;
const ADD_X0_X0_X2 = 0x8b020000, SUB_X0_X0_X2 = 0xcb020000;
const SUBS_X3_1 = 0xf1000463; // subs x3, x3, #1
const SUBS_X5_1 = 0xf10004a5; // subs x5, x5, #1
const BLR_X22 = 0xd63f02c0;
const BNE_BACK2 = 0x54ffffc1; // b.ne .-8
const LDP_X2_X3_X1 = 0xa9400c22; // ldp x2, x3, [x1]
const LDR_X4_X1_8 = 0xf9400424; // ldr x4, [x1, #8]
const BR_X1 = 0xd61f0020;
const LDXR_X0_X1 = 0xc85f7c20;
const BRK_1 = 0xd4200020;
const MOV_X0_1 = 0xd2800020, MOV_X0_2 = 0xd2800040;

function start(regs: Record<number, bigint | number>, nzcv = 0): Start {
  const r: Record<number, bigint> = {};
  for (const [k, v] of Object.entries(regs)) r[Number(k)] = BigInt(v);
  const mem = new Uint8Array(DATA_BYTES);
  for (let i = 0; i < mem.length; i++) mem[i] = (i * 37 + 11) & 0xff;
  return { regs: r, nzcv, mem };
}

/** Run interpreted and translated; assert identical outcomes; return the translated one. */
function both(rig: TxRig, entry: VAddr, s: Start, budget?: number): RunState {
  const a = runWith(rig, entry, s, 'interp', budget);
  const b = runWith(rig, entry, s, 'translate', budget);
  expect(diffStates(a, b)).toEqual([]);
  return b;
}

function big(a: VAddr): bigint {
  const p = vaddrToPair(a);
  return (BigInt(p.hi >>> 0) << 32n) | BigInt(p.lo >>> 0);
}

describe('arm64 translated faults == interpreted faults', () => {
  it('store to ROX code: write fault, nothing written', () => {
    const rig = makeTxRig(31);
    const code = rig.place([MOV_X0_2, STR_X0_X1, RET]);
    const r = both(rig, code, start({ 1: big(code) }));
    expect(r.fault?.name).toBe(PageFault.name);
    expect(r.fault?.details).toContain('"access":"write"');
    expect(r.counters.insns).toBe(1);
  });

  it('loads from unmapped and non-canonical addresses', () => {
    const rig = makeTxRig(32);
    const code = rig.place([MOV_X0_2, LDR_X0_X1, RET]);
    const r1 = both(rig, code, start({ 1: 0x123400000000n }));
    expect(r1.fault?.name).toBe(PageFault.name);
    const r2 = both(rig, code, start({ 1: 0x0000800000000000n }));
    expect(r2.fault?.message).toContain('non-canonical');
  });

  it('a store loop walking into the guard page faults at the same store, same count', () => {
    const rig = makeTxRig(33);
    const code = rig.place([STR_X0_X1_POST8, B_BACK1]);
    const r = both(rig, code, start({ 0: 0x1122334455667788n, 1: big(rig.data + 8) }));
    expect(r.fault?.name).toBe(PageFault.name);
    expect(r.counters.insns).toBe(2 * ((DATA_BYTES - 8) / 8));
    expect(r.counters.stores).toBe((DATA_BYTES - 8) / 8);
    expect(r.regs[1]).toBe(big(rig.data + DATA_BYTES));
  });

  it('a load pair straddling two pages inside a loop, then one straddling into the guard page', () => {
    const rig = makeTxRig(34);
    const code = rig.place([LDP_X2_X3_X1, LDR_X4_X1_8, SUBS_X5_1, 0x54ffffa1 /* b.ne .-12 */, RET]);
    const ok = both(rig, code, start({ 1: big(rig.data + 4096 - 8), 5: 10 }));
    expect(ok.fault).toBeNull();
    expect(ok.counters.loads).toBe(30);
    const bad = both(rig, code, start({ 1: big(rig.data + DATA_BYTES - 8), 5: 10 }));
    expect(bad.fault?.name).toBe(PageFault.name);
    expect(bad.counters.insns).toBe(0);
  });

  it('br to a misaligned target and ret to a non-canonical one', () => {
    const rig = makeTxRig(35);
    const code = rig.place([MOV_X0_1, BR_X1]);
    const r = both(rig, code, start({ 1: big(code) + 2n }));
    expect(r.fault?.name).toBe(PcAlignmentFault.name);
    const r2 = both(rig, code, start({ 1: 0x0001000000000000n }));
    expect(r2.fault?.name).toBe(PageFault.name);
    expect(r2.fault?.message).toContain('non-canonical');
  });

  it('brk and a misaligned exclusive load are raised by the interpreter after translated code', () => {
    const rig = makeTxRig(36);
    const code = rig.place([MOV_X0_1, BRK_1]);
    expect(both(rig, code, start({})).fault?.name).toBe(GuestTrap.name);
    const ex = rig.place([MOV_X0_2, LDXR_X0_X1, RET]);
    expect(both(rig, ex, start({ 1: big(rig.data + 4) })).fault?.name).toBe(AlignmentFault.name);
  });

  it('BTI enforcement: br/blr landings are checked as in the interpreter', () => {
    const rig = makeTxRig(41);
    const BTI_C = 0xd503245f, BTI_J = 0xd503249f, STP_FP_LR = 0xa9bf7bfd, LDP_FP_LR = 0xa8c17bfd, BLR_X1 = 0xd63f0020;
    const withC = rig.place([BTI_C, MOV_X0_2, RET]);
    const withJ = rig.place([BTI_J, MOV_X0_1, RET]);
    // loop 20 times: blr x1 (lands on x1's bti)
    const caller = rig.place([STP_FP_LR, BLR_X1, SUBS_X3_1, 0x54ffffc1 /* b.ne .-8 */, LDP_FP_LR, RET]);
    rig.m.btiEnforce = true;
    try {
      const ok = both(rig, caller, start({ 1: big(withC), 3: 20 }));
      expect(ok.fault).toBeNull();
      expect(ok.regs[0]).toBe(2n);
      const bad = both(rig, caller, start({ 1: big(withJ), 3: 20 }));
      expect(bad.fault?.name).toBe('BranchTargetFault');
    } finally {
      rig.m.btiEnforce = false;
    }
    expect(both(rig, caller, start({ 1: big(withJ), 3: 20 })).regs[0]).toBe(1n);
  });

  it('the budget runs out inside a translated self-loop at the interpreter instruction', () => {
    const rig = makeTxRig(37);
    const code = rig.place([ADD_X0_X0_X2, B_SELF]);
    for (const budget of [1, 2, 1001, 4096]) {
      const r = both(rig, code, start({ 2: 3 }), budget);
      expect(r.fault?.name).toBe(BudgetExceededError.name);
    }
  });

  it('stale I-cache after a raw write without flush; text_poke between calls retranslates', () => {
    const rig = makeTxRig(38);
    // x0 += x2 (or -=) x3 times
    const loop = rig.place([ADD_X0_X0_X2, SUBS_X3_1, BNE_BACK2, RET]);
    const s = start({ 0: 5, 2: 7, 3: 100 });
    expect(both(rig, loop, s).regs[0]).toBe(5n + 700n);
    rig.space.textPokeCopy(loop, new Uint8Array(new Uint32Array([SUB_X0_X0_X2]).buffer));
    expect(both(rig, loop, s).regs[0]).toBe(BigInt.asUintN(64, 5n - 700n));
    rig.space.insnWriteRaw(loop, ADD_X0_X0_X2);
    const stale = both(rig, loop, s);
    expect(stale.fault?.name).toBe(StaleIcacheFault.name);
    rig.space.flushIcacheRange(loop, 4);
    expect(both(rig, loop, s).regs[0]).toBe(5n + 700n);
    rig.space.textPokeCopy(loop, new Uint8Array(new Uint32Array([SUB_X0_X0_X2]).buffer), { flush: false });
    expect(both(rig, loop, s).fault?.name).toBe(StaleIcacheFault.name);
    rig.space.flushIcacheRange(loop, 4);
    expect(both(rig, loop, s).regs[0]).toBe(BigInt.asUintN(64, 5n - 700n));
  });

  it('a freed pack chunk reused for other code runs the new code, never the old translation', () => {
    const rig = makeTxRig(40);
    const s = start({ 0: 5, 2: 7, 3: 100 });
    const first = rig.place([ADD_X0_X0_X2, SUBS_X3_1, BNE_BACK2, RET]);
    expect(both(rig, first, s).regs[0]).toBe(705n);
    rig.space.execmemFree(first);
    const second = rig.place([SUB_X0_X0_X2, SUBS_X3_1, BNE_BACK2, RET]);
    expect(second).toBe(first);
    expect(both(rig, second, s).regs[0]).toBe(BigInt.asUintN(64, 5n - 700n));
  });

  it('a host function that text_pokes the running loop: the next iteration runs the new code', () => {
    const rig = makeTxRig(39);
    const helper = rig.space.defineKernelSymbol('jitbox_tx_poke');
    // mov x21, x30; loop: add x0, x0, x2; blr x22 (helper); subs x3, x3, #1; b.ne loop; mov x30, x21; ret
    const code = rig.place([0xaa1e03f5, ADD_X0_X0_X2, BLR_X22, SUBS_X3_1, 0x54ffffa1, 0xaa1503fe, RET]);
    let calls = 0;
    rig.m.registerHostFunction(helper, 'poke', (a) => {
      calls++;
      if (calls === 50) rig.space.textPokeCopy(code + 4, new Uint8Array(new Uint32Array([SUB_X0_X0_X2]).buffer));
      return a[0]!;
    });
    const s = start({ 0: 0, 2: 1, 3: 100, 22: big(helper) });
    const a = runWith(rig, code, s, 'interp');
    rig.space.textPokeCopy(code + 4, new Uint8Array(new Uint32Array([ADD_X0_X0_X2]).buffer));
    calls = 0;
    const b = runWith(rig, code, s, 'translate');
    expect(diffStates(a, b)).toEqual([]);
    expect(a.regs[0]).toBe(0n);
    expect(calls).toBe(100);
  });
});

describe('arm64 translator source and random words', () => {
  it('every Op literal in the translator matches the Op enum of decode.ts', () => {
    const dec = readFileSync(new URL('../../emulator/arm64/decode.ts', import.meta.url), 'utf8');
    const body = dec.slice(dec.indexOf('export const enum Op {'), dec.indexOf('\n}\n', dec.indexOf('export const enum Op {')));
    const names = [...body.matchAll(/^\s+([A-Z_0-9]+)(?: = 0)?,/gm)].map((m) => m[1]!);
    let n = 0;
    for (const f of ['arm64.ts', 'arm64-alu.ts']) {
      const src = readFileSync(new URL(`../../emulator/translate/${f}`, import.meta.url), 'utf8');
      for (const m of src.matchAll(/(\d+) \/\* Op\.([A-Z_0-9]+) \*\//g)) {
        expect(`${m[2]}=${names.indexOf(m[2]!)}`).toBe(`${m[2]}=${m[1]}`);
        n++;
      }
    }
    expect(n).toBeGreaterThan(35);
  });

  it('random words: translated and interpreted end alike (return or the same typed fault)', () => {
    const rig = makeTxRig(44);
    const rng = new Rng(0xa64);
    const kinds = new Set<string>();
    for (let k = 0; k < 1500; k++) {
      const w1 = rng.u32(), w2 = rng.u32();
      const code = rig.place([w1, w2, w1 ^ (rng.u32() & 0xffff), RET]);
      const regs: Record<number, bigint> = {};
      for (let r = 0; r < 31; r++) regs[r] = (BigInt(rng.u32()) << 32n) | BigInt(rng.u32());
      regs[1] = big(rig.data + rng.below(DATA_BYTES));
      const s: Start = { regs, nzcv: rng.below(16), mem: rng.bytes(DATA_BYTES) };
      const a = runWith(rig, code, s, 'interp', 64);
      const b = runWith(rig, code, s, 'translate', 64);
      expect(diffStates(a, b), `words ${w1.toString(16)} ${w2.toString(16)}`).toEqual([]);
      kinds.add(a.fault?.name ?? 'ok');
      rig.space.execmemFree(code);
    }
    expect(kinds.size).toBeGreaterThan(2);
  });
});
