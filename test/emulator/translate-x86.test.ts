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
