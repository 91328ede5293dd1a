// Bad input and strictness on the arm64 core: every way guest code can go wrong is a typed fault
// with the guest pc and the instruction's text, never a host exception or a hang; the faulting
// instruction has no effect. Also BTI enforcement, host functions, I-cache coherence and a
// random-word fuzz (every outcome typed).
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PageFault, StaleIcacheFault } from '../../execmem/types.js';
import { initCapstone } from '../../support/capstone.js';
import { JitboxError } from '../../support/errors.js';
import { Rng } from '../../support/rng.js';
import { vaddrToPair } from '../../support/u64.js';
import { BudgetExceededError, GuestTrap, InvalidInstructionError, UnsupportedInstructionError } from '../../emulator/errors.js';
import { AlignmentFault, BranchTargetFault, PcAlignmentFault } from '../../emulator/arm64/faults.js';
import { makeRig, type Rig } from './arm64-harness.js';

const STR_X0_X1 = 0xf9000020, LDR_X0_X1 = 0xf9400020, BR_X1 = 0xd61f0020, BLR_X1 = 0xd63f0020, RET = 0xd65f03c0;
const MOV_X0_1 = 0xd2800020, MOV_X0_2 = 0xd2800040, B_SELF = 0x14000000, BRK_100 = 0xd4202000;
const LDXR_X0_X1 = 0xc85f7c20, LDADD_X2_X0_X1 = 0xf8220020, LDR_X0_X1_PRE8 = 0xf8408c20;
const IC_IVAU_X1 = 0xd50b7521, DSB_ISH = 0xd5033b9f, ISB = 0xd5033fdf, BTI_C = 0xd503245f, BTI_J = 0xd503249f;
const ADD_X0_1 = 0x91000400, STP_FP_LR = 0xa9bf7bfd, LDP_FP_LR = 0xa8c17bfd, FMOV_D0_X0 = 0x9e670000;
const MOV_X16_X1 = 0xaa0103f0, BR_X16 = 0xd61f0200, BR_X2 = 0xd61f0040, MOV_X2_X1 = 0xaa0103e2;

function setAddr(rig: Rig, reg: number, a: number): void {
  const p = vaddrToPair(a);
  rig.m.setX(reg, p.lo, p.hi);
}

function movAddr(reg: number, a: number): number[] {
  const p = vaddrToPair(a);
  const parts = [p.lo & 0xffff, p.lo >>> 16, p.hi & 0xffff, p.hi >>> 16];
  return parts.map((imm, hw) => ((hw === 0 ? 0xd2800000 : 0xf2800000) | (hw << 21) | (imm << 5) | reg) >>> 0);
}

function catchErr(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a fault');
}

describe('arm64 faults', () => {
  let rig: Rig;
  beforeAll(async () => {
    await initCapstone();
    rig = makeRig(21);
  });

  it('store to ROX code: write fault with pc and instruction, nothing written', () => {
    const code = rig.place([STR_X0_X1, RET]);
    setAddr(rig, 1, code);
    const before = rig.space.read(code, 8);
    const e = catchErr(() => rig.m.call(code, [0x1234]));
    expect(e).toBeInstanceOf(PageFault);
    const f = e as PageFault;
    expect([f.access, f.pc, f.address, f.insn]).toEqual(['write', code, code, 'str x0, [x1]']);
    expect(f.message).toContain('r-x');
    expect(rig.space.read(code, 8)).toEqual(before);
    expect(rig.m.pc).toBe(code);
    expect(rig.m.counters().insns).toBe(0);
  });

  it('load from an unmapped address and from a non-canonical one', () => {
    const code = rig.place([LDR_X0_X1, RET]);
    rig.m.setX(1, 0, 0x12340000);
    const e = catchErr(() => rig.m.call(code, [7])) as PageFault;
    expect(e).toBeInstanceOf(PageFault);
    expect([e.access, e.perm, e.pc]).toEqual(['read', null, code]);
    expect(rig.m.getX(0)).toEqual({ lo: 7, hi: 0 });
    rig.m.setX(1, 0, 0x80000000);
    const n = catchErr(() => rig.m.call(code, [7])) as PageFault;
    expect(n).toBeInstanceOf(PageFault);
    expect(n.message).toContain('non-canonical');
  });

  it('pre-index load that faults leaves the base register unchanged', () => {
    const code = rig.place([LDR_X0_X1_PRE8, RET]);
    rig.m.setX(1, 0xfffff000, 0x7f);
    expect(catchErr(() => rig.m.call(code, [1]))).toBeInstanceOf(PageFault);
    expect(rig.m.getX(1)).toEqual({ lo: 0xfffff000, hi: 0x7f });
  });

  it('jumps into unmapped memory and into RW data are fetch faults', () => {
    const code = rig.place([BR_X1]);
    rig.m.setX(1, 0x1000, 0);
    const e = catchErr(() => rig.m.call(code)) as PageFault;
    expect([e.access, e.perm, e.address]).toEqual(['fetch', null, 0x1000]);
    setAddr(rig, 1, rig.data);
    const d = catchErr(() => rig.m.call(code)) as PageFault;
    expect([d.access, d.perm]).toEqual(['fetch', 3]);
    expect(d.message).toContain('rw-');
  });

  it('misaligned branch target: pc alignment fault', () => {
    const target = rig.place([RET]);
    const code = rig.place([BR_X1]);
    setAddr(rig, 1, target + 2);
    expect(catchErr(() => rig.m.call(code))).toBeInstanceOf(PcAlignmentFault);
  });

  it('runaway pushes hit the guard page below the stack: "guest stack overflow"', () => {
    const code = rig.place([STP_FP_LR, 0x17ffffff /* b .-4 */]);
    const e = catchErr(() => rig.m.call(code, [], { budget: 100_000 })) as PageFault;
    expect(e).toBeInstanceOf(PageFault);
    expect(e.access).toBe('write');
    expect(e.message).toContain('guest stack overflow');
    expect(e.insn).toBe('stp x29, x30, [sp, #-0x10]!');
  });

  it('budget exhaustion stops `b .` with a typed error', () => {
    const code = rig.place([B_SELF]);
    const e = catchErr(() => rig.m.call(code, [], { budget: 5000 })) as BudgetExceededError;
    expect(e).toBeInstanceOf(BudgetExceededError);
    expect(e.insns).toBe(5000);
  });

  it('brk #0x100 (execmem trap fill) is a guest trap naming the immediate', () => {
    const code = rig.place([MOV_X0_1, BRK_100, RET]);
    const e = catchErr(() => rig.m.call(code)) as GuestTrap;
    expect(e).toBeInstanceOf(GuestTrap);
    expect(e.trap).toBe('brk');
    expect(e.pc).toBe(code + 4);
    expect(e.message).toContain('brk #0x100');
    expect(rig.m.counters().insns).toBe(1);
  });

  it('undefined encodings and unimplemented (SIMD) instructions are typed', () => {
    const undef = rig.place([0x00000000, RET]);
    const e = catchErr(() => rig.m.call(undef)) as InvalidInstructionError;
    expect(e).toBeInstanceOf(InvalidInstructionError);
    expect(e.pc).toBe(undef);
    const simd = rig.place([MOV_X0_1, FMOV_D0_X0, RET]);
    const u = catchErr(() => rig.m.call(simd)) as UnsupportedInstructionError;
    expect(u).toBeInstanceOf(UnsupportedInstructionError);
    expect(u.message).toBe(`unsupported instruction fmov d0, x0 at ${'0x' + BigInt.asUintN(64, BigInt(simd + 4)).toString(16)}`);
    expect(rig.m.counters().insns).toBe(1);
  });

  it('exclusives and LSE atomics need alignment; plain loads do not', () => {
    rig.space.write(rig.data, Uint8Array.from({ length: 16 }, (_, i) => i + 1));
    const ldr = rig.place([LDR_X0_X1, RET]);
    setAddr(rig, 1, rig.data + 1);
    expect(rig.m.call(ldr).ret).toEqual({ lo: 0x05040302, hi: 0x09080706 });
    for (const w of [LDXR_X0_X1, LDADD_X2_X0_X1]) {
      const code = rig.place([w, RET]);
      setAddr(rig, 1, rig.data + 4);
      const e = catchErr(() => rig.m.call(code)) as AlignmentFault;
      expect(e).toBeInstanceOf(AlignmentFault);
      expect(e.address).toBe(rig.data + 4);
    }
    setAddr(rig, 1, rig.data + 4092);
    expect(catchErr(() => rig.m.call(ldr))).toBeInstanceOf(PageFault);
  });

  it('stale I-cache: a raw instruction write faults until flushed; guest ic ivau flushes', () => {
    const code = rig.place([MOV_X0_1, RET]);
    expect(rig.m.call(code).ret.lo).toBe(1);
    rig.space.insnWriteRaw(code, MOV_X0_2);
    const e = catchErr(() => rig.m.call(code)) as StaleIcacheFault;
    expect(e).toBeInstanceOf(StaleIcacheFault);
    expect(e.address).toBe(code);
    rig.space.flushIcacheRange(code, 4);
    expect(rig.m.call(code).ret.lo).toBe(2);
    rig.space.insnWriteRaw(code, MOV_X0_1);
    const flusher = rig.place([IC_IVAU_X1, DSB_ISH, ISB, BR_X1]);
    setAddr(rig, 1, code);
    expect(rig.m.call(flusher).ret.lo).toBe(1);
  });

  it('BTI enforcement: br/blr must land on a compatible bti', () => {
    const withC = rig.place([BTI_C, MOV_X0_2, RET]);
    const withJ = rig.place([BTI_J, MOV_X0_1, RET]);
    const plain = rig.place([MOV_X0_1, RET]);
    const callBlr = rig.place([STP_FP_LR, BLR_X1, LDP_FP_LR, RET]);
    const jumpX16 = rig.place([MOV_X16_X1, BR_X16]);
    const jumpX2 = rig.place([MOV_X2_X1, BR_X2]);
    rig.m.btiEnforce = true;
    try {
      setAddr(rig, 1, withC);
      expect(rig.m.call(callBlr).ret.lo).toBe(2);
      expect(rig.m.call(jumpX16).ret.lo).toBe(2);
      expect(catchErr(() => rig.m.call(jumpX2))).toBeInstanceOf(BranchTargetFault);
      setAddr(rig, 1, withJ);
      expect(rig.m.call(jumpX2).ret.lo).toBe(1);
      expect(catchErr(() => rig.m.call(callBlr))).toBeInstanceOf(BranchTargetFault);
      setAddr(rig, 1, plain);
      const e = catchErr(() => rig.m.call(callBlr)) as BranchTargetFault;
      expect(e.target).toBe(plain);
      expect(e.message).toContain('mov x0, #1');
    } finally {
      rig.m.btiEnforce = false;
    }
    setAddr(rig, 1, plain);
    expect(rig.m.call(callBlr).ret.lo).toBe(1);
  });

  it('host functions: blr to a registered kernel address runs TypeScript and returns', () => {
    const helper = rig.space.defineKernelSymbol('jitbox_test_helper');
    rig.m.registerHostFunction(helper, 'add3', (a) => BigInt(a[0]!.lo) + BigInt(a[1]!.lo) + BigInt(a[2]!.lo));
    const code = rig.place([STP_FP_LR, ...movAddr(9, helper), 0xd63f0120 /* blr x9 */, ADD_X0_1, LDP_FP_LR, RET]);
    const r = rig.m.call(code, [10, 20, 30]);
    expect(r.ret).toEqual({ lo: 61, hi: 0 });
  });
});

describe('arm64 tracing, counters and the access observer', () => {
  beforeAll(async () => {
    await initCapstone();
  });

  it('trace reports each executed instruction with Capstone text; counters count loads/stores/branches', () => {
    const rig = makeRig(51);
    const code = rig.place([STP_FP_LR, MOV_X0_1, ADD_X0_1, LDP_FP_LR, RET]);
    const seen: string[] = [];
    const r = rig.m.call(code, [], { trace: (e) => seen.push(e.text) });
    expect(seen).toEqual(['stp x29, x30, [sp, #-0x10]!', 'mov x0, #1', 'add x0, x0, #1', 'ldp x29, x30, [sp], #0x10', 'ret']);
    expect(r.ret.lo).toBe(2);
    expect(r.counters).toEqual({ insns: 5, loads: 2, stores: 2, branches: 1 });
    const plain = rig.m.call(code);
    expect(plain.counters).toEqual(r.counters);
  });

  it('the observer sees every fetch, load and store', () => {
    const rig = makeRig(52);
    const code = rig.place([STP_FP_LR, LDP_FP_LR, RET]);
    const log: string[] = [];
    rig.m.call(code, [], {
      observer: { fetch: (a) => log.push(`f${a - code}`), load: (_a, n) => log.push(`l${n}`), store: (_a, n) => log.push(`s${n}`) },
    });
    expect(log.filter((x) => x.startsWith('f'))).toEqual(['f0', 'f4', 'f8']);
    expect(log.filter((x) => !x.startsWith('f'))).toEqual(['s8', 's8', 'l8', 'l8']);
  });
});

describe('arm64 interpreter source', () => {
  it('every Op literal in exec.ts matches the Op enum of decode.ts', () => {
    const dec = readFileSync(new URL('../../emulator/arm64/decode.ts', import.meta.url), 'utf8');
    const body = dec.slice(dec.indexOf('export const enum Op {'), dec.indexOf('\n}\n', dec.indexOf('export const enum Op {')));
    const names = [...body.matchAll(/^\s+([A-Z_0-9]+)(?: = 0)?,/gm)].map((m) => m[1]!);
    const exec = readFileSync(new URL('../../emulator/arm64/exec.ts', import.meta.url), 'utf8');
    const uses = [...exec.matchAll(/(\d+) \/\* Op\.([A-Z_0-9]+) \*\//g)];
    expect(uses.length).toBeGreaterThan(40);
    for (const m of uses) expect(`${m[2]}=${names.indexOf(m[2]!)}`).toBe(`${m[2]}=${m[1]}`);
  });
});

describe('arm64 random-word fuzz', () => {
  beforeAll(async () => {
    await initCapstone();
  });

  it('every random word ends in a return or a typed fault', () => {
    const rig = makeRig(31);
    const rng = new Rng(0xf022);
    const kinds = new Map<string, number>();
    for (let k = 0; k < 1500; k++) {
      const w = rng.u32();
      const code = rig.place([w, w ^ (rng.u32() & 0xffff), RET]);
      for (let r = 0; r < 31; r++) rig.m.setX(r, rng.u32(), rng.below(4) === 0 ? 0 : rng.u32());
      setAddr(rig, 1, rig.data + rng.below(4096));
      let kind = 'ok';
      try {
        rig.m.call(code, [], { budget: 64 });
      } catch (e) {
        if (!(e instanceof JitboxError)) throw new Error(`word ${w.toString(16)}: host exception ${String(e)}`);
        kind = e.kind;
      }
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      rig.space.execmemFree(code);
    }
    expect(kinds.get('ok')).toBeGreaterThan(0);
    expect(kinds.get('unsupported-instruction')).toBeGreaterThan(0);
    expect(kinds.get('page-fault')).toBeGreaterThan(0);
  });
});
