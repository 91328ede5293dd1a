// The translation tier (emulator/translate) against the interpreter on x86_64: the recorded
// differential vectors and fresh random programs (jit/fuzz/emu-x86-cases.ts) run twice on one
// address space, interpreted and translated, and must agree on every register, the materialised
// flags, memory, counters and the fault (class, message, address, pc).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AddressSpace } from '../../execmem/index.js';
import { PageFault } from '../../execmem/types.js';
import { createCpu, type Machine } from '../../emulator/index.js';
import type { X86Machine } from '../../emulator/x86_64/machine.js';
import { initCapstone } from '../../support/capstone.js';
import { Rng } from '../../support/rng.js';
import { hexToBytes, vaddrToPair } from '../../support/u64.js';
import { generateX86Cases } from '../../jit/fuzz/emu-x86-cases.js';
import { CodeBuffer } from '../../codegen/buffer.js';
import {
  type AnyReg, type Mem, type Reg16, type Reg32, type Reg64, GPR16, GPR32, GPR64, GPR8, byte, cl, eax, emitAlu, emitCallIndirect, emitCmpxchg,
  emitImul, emitJmp, emitLea, emitMov, emitPop, emitPush, emitRet, emitSetcc, emitShift, emitShld, emitShrd, emitUnary, emitXadd, mem, qword,
  memRipLabel, r8, r9, r10, r10d, r11d, r13, r14w, rax, rbx, rdi, rsi, rsp, sized,
} from '../../codegen/x86_64/index.js';

beforeAll(async () => {
  process.env.JITBOX_TRANSLATE_VALIDATE = '1';
  await initCapstone();
});

const NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

interface Run {
  regs?: Record<string, string>;
  flags?: number;
  data?: string;
  counters: string;
  fault?: string;
}

interface Case {
  code: Uint8Array;
  regs: string[];
  flags: number;
  data: Uint8Array;
}

/** One space, two machines: interpreter and translation tier (every block translated). */
export class TierPair {
  readonly space = new AddressSpace({ arch: 'x86_64', seed: 11 });
  readonly stack = { base: this.space.vmalloc(16384, 'shared stack'), size: 16384 };
  readonly interp: Machine = createCpu('x86_64', this.space, { tier: 'interp', stack: this.stack });
  readonly trans: Machine = createCpu('x86_64', this.space, { tier: 'translate', stack: this.stack });
  readonly data = this.space.vmalloc(4096, 'translate diff data');

  runOn(cpu: Machine, code: number, c: Case, budget: number): Run {
    this.space.write(this.data, c.data);
    const regs: Record<string, bigint> = {};
    c.regs.forEach((h, i) => {
      if (i !== 4) regs[NAMES[i]!] = BigInt('0x' + h);
    });
    const d = vaddrToPair(this.data);
    regs.rdi = (BigInt(d.hi) << 32n) | BigInt(d.lo);
    try {
      const res = cpu.call(code, [], { regs, flags: c.flags, budget });
      const out: Record<string, string> = {};
      for (const n of NAMES) out[n] = `${res.regs[n]!.hi.toString(16)}:${res.regs[n]!.lo.toString(16)}`;
      return {
        regs: out,
        flags: (cpu as X86Machine).flags(),
        data: Buffer.from(this.space.read(this.data, c.data.length)).toString('hex'),
        counters: JSON.stringify(res.counters),
      };
    } catch (e) {
      const f = e instanceof PageFault ? ` ${e.access} ${e.address} pc=${e.pc} ${e.insn}` : '';
      return { fault: e instanceof Error ? `${e.constructor.name}: ${e.message}${f}` : String(e), counters: JSON.stringify(cpu.counters()) };
    }
  }

  /** Instructions the interpreter retired over all `both` runs. */
  total = 0;

  both(c: Case, budget = 1_000_000): { a: Run; b: Run } {
    const code = this.space.execmemAlloc('BPF', Math.max(c.code.length, 1));
    try {
      this.space.textPokeCopy(code, c.code);
      const a = this.runOn(this.interp, code, c, budget);
      this.total += this.interp.insns;
      return { a, b: this.runOn(this.trans, code, c, budget) };
    } finally {
      this.space.execmemFree(code);
    }
  }
}

/** The fields where two runs differ, as text. */
export function diffRuns(a: Run, b: Run): string {
  const out: string[] = [];
  for (const k of ['flags', 'data', 'counters', 'fault'] as const) if (a[k] !== b[k]) out.push(`${k}: ${String(a[k])} vs ${String(b[k])}`);
  for (const n of NAMES) if (a.regs?.[n] !== b.regs?.[n]) out.push(`${n}: ${a.regs?.[n]} vs ${b.regs?.[n]}`);
  return out.join('; ');
}

interface Vectors {
  cases: { name: string; code: string; regs: string[]; flags: number; data: string }[];
}
const V = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'vectors', 'emulator', 'x86_64-diff.json'), 'utf8')) as Vectors;

describe('x86_64 translation tier == interpreter', () => {
  it(`on the ${V.cases.length} recorded differential programs (regs, flags, memory, counters, faults)`, () => {
    const p = new TierPair();
    const bad: string[] = [];
    for (const v of V.cases) {
      const c = { code: hexToBytes(v.code)!, regs: v.regs, flags: v.flags, data: hexToBytes(v.data)! };
      const { a, b } = p.both(c);
      if (JSON.stringify(a) !== JSON.stringify(b)) bad.push(`${v.name} ${v.code}: ${diffRuns(a, b)}`);
    }
    expect(bad.slice(0, 5)).toEqual([]);
    const st = p.trans.translationStats()!;
    expect(st.blocksTranslated).toBeGreaterThan(V.cases.length / 2);
    expect(st.translatedInsns).toBeGreaterThan(p.total / 3);
  });

  it('on 150 fresh random programs (seeded), also with small budgets', () => {
    const p = new TierPair();
    const rng = new Rng(0x7a57);
    const bad: string[] = [];
    for (const c of generateX86Cases(0x7a57, 150)) {
      for (const budget of [1_000_000, 1 + rng.below(12)]) {
        const { a, b } = p.both(c, budget);
        if (JSON.stringify(a) !== JSON.stringify(b)) bad.push(`${c.name} budget ${budget} ${Buffer.from(c.code).toString('hex')}: ${diffRuns(a, b)}`);
      }
    }
    expect(bad.slice(0, 5)).toEqual([]);
    expect(p.trans.translationStats()!.translatedInsns).toBeGreaterThan(p.total / 3);
  });
});

describe('x86_64 translation tier: regions', () => {
  it('a loop of several blocks runs inside one wasm function, not one JS round trip per block', () => {
    // xor eax, eax; mov rcx, rdi; L: test cl, 1; jz S; add rax, rcx; S: sub rcx, 1; jnz L; ret
    const code = Uint8Array.from([0x31, 0xc0, 0x48, 0x89, 0xf9, 0xf6, 0xc1, 0x01, 0x74, 0x03, 0x48, 0x01, 0xc8, 0x48, 0x83, 0xe9, 0x01, 0x75, 0xf2, 0xc3]);
    const p = new TierPair();
    const a = p.space.execmemAlloc('BPF', code.length);
    p.space.textPokeCopy(a, code);
    const ri = p.interp.call(a, [100000]);
    const rt = p.trans.call(a, [100000]);
    expect(rt.ret).toEqual(ri.ret);
    expect(rt.ret).toEqual({ lo: 2500000000 >>> 0, hi: 0 });
    expect(rt.counters).toEqual(ri.counters);
    const st = p.trans.translationStats()!;
    expect(st.translatedInsns).toBeGreaterThan(400000);
    expect(st.entries).toBeLessThan(20);
  });

  it('a loop longer than one slice of translated execution keeps exact counts', () => {
    // loopA: xor eax, eax; mov rcx, rdi; L: add rax, rcx; sub rcx, 1; jnz L; ret  (3n + 3 insns)
    const code = Uint8Array.from([0x31, 0xc0, 0x48, 0x89, 0xf9, 0x48, 0x01, 0xc8, 0x48, 0x83, 0xe9, 0x01, 0x75, 0xf7, 0xc3]);
    const p = new TierPair();
    const a = p.space.execmemAlloc('BPF', code.length);
    p.space.textPokeCopy(a, code);
    const n = 6_000_000;
    const r = p.trans.call(a, [n], { budget: 3 * n + 3 });
    const sum = (BigInt(n) * BigInt(n + 1)) / 2n;
    expect(r.ret).toEqual({ lo: Number(sum & 0xffffffffn), hi: Number(sum >> 32n) });
    expect(r.counters).toEqual({ insns: 3 * n + 3, loads: 1, stores: 0, branches: n });
    expect(() => p.trans.call(a, [n], { budget: 3 * n + 2 })).toThrow(/budget of 18000002 exhausted after 18000002 instructions/);
    expect(p.trans.translationStats()!.translatedInsns).toBeGreaterThan(3 * n);
  });
});

// ---- directed forms: every form the translator covers beyond the fast paths, at edge values -------

/** Build `emit`'s code + ret; registers from `set` over a fixed pseudo-random base (rdi = data). */
function formCase(emit: (b: CodeBuffer) => void, set: Record<string, bigint>, flags = 0): Case {
  const b = new CodeBuffer('x86_64', 256);
  emit(b);
  emitRet(b);
  const rng = new Rng(0x5eed);
  const regs = NAMES.map((n) => {
    const v = set[n] ?? (BigInt(rng.u32()) << 32n) | BigInt(rng.u32());
    return BigInt.asUintN(64, v).toString(16);
  });
  const data = new Uint8Array(256);
  for (let i = 0; i < data.length; i++) data[i] = (i * 73 + 5) & 0xff;
  return { code: b.finish({ base: 0 }).bytes, regs, flags, data };
}

/**
 * Run every case interpreted and translated: all state must agree, and every instruction the
 * interpreter retired must have retired in translated code (a #DE leaves before the division).
 */
function checkForms(cases: { name: string; c: Case; fault?: RegExp }[]): void {
  const p = new TierPair();
  const bad: string[] = [];
  for (const { name, c, fault } of cases) {
    const before = p.trans.translationStats()?.translatedInsns ?? 0;
    const { a, b } = p.both(c);
    const translated = p.trans.translationStats()!.translatedInsns - before;
    const retired = (JSON.parse(a.counters) as { insns: number }).insns;
    if (JSON.stringify(a) !== JSON.stringify(b)) bad.push(`${name}: ${diffRuns(a, b)}`);
    else if (translated !== retired) bad.push(`${name}: ${translated} of ${retired} instructions translated`);
    else if (fault ? !fault.test(a.fault ?? '') : a.fault !== undefined) bad.push(`${name}: outcome ${a.fault ?? 'returned'}`);
  }
  expect(bad.slice(0, 8)).toEqual([]);
}

const SIZES = [8, 16, 32, 64] as const;
const regOf = (n: number, size: number): AnyReg => (size === 64 ? GPR64 : size === 32 ? GPR32 : size === 16 ? GPR16 : GPR8)[n]!;
const dataMem = (size: number, disp = 16): Mem => sized(mem(rdi, disp), size as 8 | 16 | 32 | 64);
/** Flag consumers after the instruction under test: every condition into a data byte. */
const setAll = (b: CodeBuffer): void => CONDS.forEach((cc, k) => emitSetcc(b, cc, byte(mem(rdi, 64 + k))));
const CONDS = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'] as const;
const W = 0x8badf00d_c0ffee11n;

describe('x86_64 translation tier: directed forms run translated with the interpreter\'s results', () => {
  it('shifts and rotates by cl: every kind, size and operand at counts 0..65', () => {
    const cases: { name: string; c: Case }[] = [];
    for (const op of ['shl', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr'] as const) {
      for (const size of SIZES) {
        for (const inMem of [false, true]) {
          for (const count of [0, 1, 8, 9, 16, 17, 31, 32, 63, 64, 65]) {
            const c = formCase(
              (b) => {
                emitAlu(b, 'sub', r9, r10);
                emitShift(b, op, inMem ? dataMem(size) : regOf(3, size), cl);
                if (count % 2 === 1) setAll(b);
              },
              { rcx: BigInt(count), rbx: W, r9: BigInt(count) << 60n, r10: 0x7n },
              count % 3 === 0 ? 0x8d5 : 0x10,
            );
            cases.push({ name: `${op}${size} ${inMem ? 'mem' : 'reg'} cl=${count}`, c });
          }
        }
      }
    }
    checkForms(cases);
  });

  it('rotates and rotates through carry by immediates, also by 0 (a zero-extending write)', () => {
    const cases: { name: string; c: Case }[] = [];
    for (const op of ['rol', 'ror', 'rcl', 'rcr'] as const) {
      for (const size of SIZES) {
        for (const inMem of [false, true]) {
          for (const count of [0, 1, 2, 7, 8, 9, 16, 17, 31, 32, 63]) {
            if (count >= size && count > 31) continue;
            const c = formCase(
              (b) => {
                emitShift(b, op, inMem ? dataMem(size) : regOf(3, size), count, { form: 'ib' });
                setAll(b);
              },
              { rbx: W },
              count % 2 ? 0x801 : 0x44,
            );
            cases.push({ name: `${op}${size} ${inMem ? 'mem' : 'reg'} ${count}`, c });
          }
        }
      }
    }
    checkForms(cases);
  });

  it('shld / shrd by immediates and by cl, 16/32/64 bits, counts beyond 16 included', () => {
    const cases: { name: string; c: Case }[] = [];
    for (const right of [false, true]) {
      for (const size of [16, 32, 64] as const) {
        for (const inMem of [false, true]) {
          for (const count of [0, 1, 15, 16, 17, 31, 32, 63]) {
            for (const byCl of [false, true]) {
              if (!byCl && count >= size) continue;
              const dst = inMem ? dataMem(size) : regOf(3, size);
              const src = regOf(6, size) as Reg16 | Reg32 | Reg64;
              const c = formCase(
                (b) => {
                  (right ? emitShrd : emitShld)(b, dst, src, byCl ? cl : count);
                  setAll(b);
                },
                { rcx: BigInt(count), rbx: W, rsi: 0x0123456789abcdefn },
              );
              cases.push({ name: `${right ? 'shrd' : 'shld'}${size} ${inMem ? 'mem' : 'reg'} ${byCl ? 'cl=' : ''}${count}`, c });
            }
          }
        }
      }
    }
    checkForms(cases);
  });

  it('div / idiv: zero divisors and INT_MIN / -1 raise the interpreter\'s #DE; wide 128-bit dividends', () => {
    const M = (1n << 64n) - 1n;
    const cases: { name: string; c: Case; fault?: RegExp }[] = [];
    const div = (name: string, signed: boolean, size: number, rax: bigint, rdx: bigint, d: bigint, fault: boolean, inMem = false): void => {
      const c = formCase(
        (b) => {
          emitAlu(b, 'add', r9, 1);
          if (inMem) emitMov(b, qword(mem(rdi, 16)), rbx);
          emitUnary(b, signed ? 'idiv' : 'div', inMem ? dataMem(size) : regOf(3, size));
          setAll(b);
        },
        { rax: rax & M, rdx: rdx & M, rbx: d & M },
        0x85,
      );
      cases.push({ name: `${name} ${signed ? 'idiv' : 'div'}${size}${inMem ? ' mem' : ''}`, c, ...(fault ? { fault: /divide error \(#DE\)/ } : {}) });
    };
    for (const size of SIZES) {
      for (const signed of [false, true]) {
        for (const inMem of [false, true]) {
          div('zero divisor', signed, size, 100n, 0n, 0n, true, inMem);
          div('zero divisor, junk above', signed, size, 100n, 0n, 0xffffffff_ffffff00n & ((1n << 64n) - 1n) & ~((1n << BigInt(size)) - 1n), true, inMem);
          div('7 / 2', signed, size, 7n, 0n, 2n, false, inMem);
          div('-7 / 2', signed, size, -7n, -1n, 2n, !signed, inMem);
          div('-7 / -2', signed, size, -7n, -1n, -2n, !signed, inMem);
        }
      }
      const min = size === 8 ? -128n : -(1n << BigInt(size - 1));
      // The dividend of the 8-bit forms is ax; of the others rdx:rax at twice the size.
      div('INT_MIN / -1', true, size, size === 8 ? min & 0xffffn : min, size === 8 ? 0n : -1n, -1n, true);
      div('INT_MIN / 1', true, size, size === 8 ? min & 0xffffn : min, size === 8 ? 0n : -1n, 1n, false);
      div('max quotient', false, size, size === 8 ? 0x2fdn : ((1n << BigInt(size)) * 3n - 1n) & ((1n << BigInt(size)) - 1n), size === 8 ? 0n : 2n, 3n, false);
      div('quotient overflow', false, size, size === 8 ? 0x300n : 0n, size === 8 ? 0n : 3n, 3n, true);
    }
    // 64-bit dividends that need all 128 bits (the shift-subtract path), signed and unsigned.
    div('wide', false, 64, 0x0123456789abcdefn, 0x1234n, 0xfedcba9876543210n, false);
    div('wide, high half = divisor - 1', false, 64, M, 0xfedcba9876543210n - 1n, 0xfedcba9876543210n, false);
    div('wide, high half = divisor', false, 64, 0n, 0xfedcba9876543210n, 0xfedcba9876543210n, true);
    div('wide signed', true, 64, 5n, 1n, 3n, false);
    div('wide signed negative dividend', true, 64, 5n, -2n, 7n, false);
    div('wide signed negative divisor', true, 64, 0n, 1n, -3n, false);
    div('wide signed -2^63 quotient', true, 64, 0n, -1n, 2n, false);
    div('wide signed +2^63 quotient', true, 64, 0n, 1n, 2n, true);
    div('wide signed INT64_MIN divisor', true, 64, 0n, 1n, -(1n << 63n), false);
    div('wide signed negative / INT64_MIN', true, 64, 0n, -1n, -(1n << 63n), false);
    checkForms(cases);
  });

  it('one-operand mul / imul: all sizes, with and without overflow', () => {
    const cases: { name: string; c: Case }[] = [];
    for (const signed of [false, true]) {
      for (const size of SIZES) {
        for (const inMem of [false, true]) {
          for (const [x, y] of [[3n, 5n], [-1n, -1n], [-1n, 1n], [0x7fn, 0x7fn], [1n << BigInt(size - 1), 2n], [W, W >> 3n], [0n, W]] as [bigint, bigint][]) {
            const c = formCase(
              (b) => {
                if (inMem) emitMov(b, qword(mem(rdi, 16)), rbx);
                emitUnary(b, signed ? 'imul' : 'mul', inMem ? dataMem(size) : regOf(3, size));
                setAll(b);
              },
              { rax: BigInt.asUintN(64, x), rbx: BigInt.asUintN(64, y), rdx: W },
            );
            cases.push({ name: `${signed ? 'imul' : 'mul'}${size} ${x}*${y}`, c });
          }
        }
      }
    }
    checkForms(cases);
  });

  it('xadd and cmpxchg (lock or not): success and failure, register and memory, every size', () => {
    const cases: { name: string; c: Case }[] = [];
    for (const size of SIZES) {
      for (const inMem of [false, true]) {
        for (const lock of inMem ? [false, true] : [false]) {
          const dst = inMem ? dataMem(size) : regOf(3, size);
          const src = regOf(6, size);
          cases.push({ name: `xadd${size} ${inMem}`, c: formCase((b) => { emitXadd(b, dst, src, { lock }); setAll(b); }, { rsi: W, rbx: -W }) });
          cases.push({ name: `xadd${size} same reg`, c: formCase((b) => { emitXadd(b, regOf(6, size), src); setAll(b); }, { rsi: W }) });
          for (const equal of [false, true]) {
            const c = formCase(
              (b) => {
                if (equal && inMem) emitMov(b, regOf(0, size), dataMem(size));
                else if (equal) emitMov(b, regOf(0, size), regOf(3, size));
                emitCmpxchg(b, dst, src, { lock });
                setAll(b);
              },
              { rax: W, rbx: W ^ 0x100n, rsi: 0x1122334455667788n },
            );
            cases.push({ name: `cmpxchg${size} ${inMem ? 'mem' : 'reg'} ${equal ? 'equal' : 'unequal'}`, c });
          }
        }
      }
      cases.push({ name: `cmpxchg${size} rax, rax`, c: formCase((b) => emitCmpxchg(b, regOf(0, size), regOf(6, size)), { rax: W, rsi: 5n }) });
    }
    checkForms(cases);
  });

  it('push / pop / call through r/m operands', () => {
    const cases: { name: string; c: Case }[] = [];
    cases.push({ name: 'push [mem]; pop [mem]', c: formCase((b) => { emitPush(b, qword(mem(rdi, 8))); emitPop(b, qword(mem(rdi, 32))); }, {}) });
    cases.push({ name: 'pop [rsp+8] uses the popped rsp', c: formCase((b) => { emitPush(b, rbx); emitPush(b, rsi); emitPop(b, qword(mem(rsp, 0))); emitPop(b, rax); }, { rbx: 1n, rsi: 2n }) });
    for (const inMem of [false, true]) {
      cases.push({
        name: `call ${inMem ? '[mem]' : 'reg'}`,
        c: formCase((b) => {
          const fn = b.newLabel();
          const over = b.newLabel();
          emitLea(b, r8, memRipLabel(fn));
          if (inMem) {
            emitMov(b, qword(mem(rdi, 24)), r8);
            emitCallIndirect(b, qword(mem(rdi, 24)));
          } else emitCallIndirect(b, r8);
          emitAlu(b, 'add', rax, 1);
          emitJmp(b, over);
          b.bind(fn);
          emitMov(b, eax, 41);
          emitRet(b);
          b.bind(over);
        }, {}),
      });
    }
    checkForms(cases);
  });

  it('adc / sbb / inc / dec and every condition on flags set by an earlier block (carry chains)', () => {
    const cases: { name: string; c: Case }[] = [];
    const producers: [string, (b: CodeBuffer, size: number) => void][] = [
      ['add', (b, s) => emitAlu(b, 'add', regOf(3, s), regOf(6, s))],
      ['sub', (b, s) => emitAlu(b, 'sub', regOf(3, s), regOf(6, s))],
      ['cmp', (b, s) => emitAlu(b, 'cmp', regOf(6, s), regOf(3, s))],
      ['adc', (b, s) => emitAlu(b, 'adc', regOf(3, s), regOf(6, s))],
      ['sbb', (b, s) => emitAlu(b, 'sbb', regOf(3, s), regOf(6, s))],
      ['and', (b, s) => emitAlu(b, 'and', regOf(3, s), regOf(6, s))],
      ['inc', (b, s) => emitUnary(b, 'inc', regOf(3, s))],
      ['dec', (b, s) => emitUnary(b, 'dec', regOf(3, s))],
      ['neg', (b, s) => emitUnary(b, 'neg', regOf(3, s))],
      ['shl cl', (b, s) => emitShift(b, 'shl', regOf(3, s), cl)],
      ['shr 1', (b, s) => emitShift(b, 'shr', regOf(3, s), 1)],
      ['imul', (b, s) => (s === 8 ? emitUnary(b, 'imul', regOf(3, s)) : emitImul(b, regOf(3, s) as Reg16, regOf(6, s)))],
      ['ror', (b, s) => emitShift(b, 'ror', regOf(3, s), 3)],
    ];
    for (const [name, produce] of producers) {
      for (const size of SIZES) {
        for (const [x, y] of [[W, -W], [-1n, 1n], [0x80n << BigInt(size - 8), 0x80n << BigInt(size - 8)]] as [bigint, bigint][]) {
          const c = formCase(
            (b) => {
              const [l1, l2, l3] = [b.newLabel(), b.newLabel(), b.newLabel()];
              produce(b, size);
              emitJmp(b, l1);
              b.bind(l1);
              setAll(b);
              emitAlu(b, 'adc', r8, r9);
              emitJmp(b, l2);
              b.bind(l2);
              emitAlu(b, 'sbb', r10d, r11d);
              emitJmp(b, l3);
              b.bind(l3);
              emitUnary(b, 'inc', r13);
              emitAlu(b, 'adc', r14w, 7);
            },
            { rbx: BigInt.asUintN(64, x), rsi: BigInt.asUintN(64, y), rcx: 5n, rax: 3n, r8: -1n, r9: 0n, r10: 0n, r11: -1n },
            0x1,
          );
          cases.push({ name: `${name}${size} ${x},${y}`, c });
        }
      }
    }
    checkForms(cases);
  });
});
