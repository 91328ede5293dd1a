// The arm64 translator against the arm64 interpreter: the same programs from the same state give
// the same x0-x30, sp, NZCV, pc, data bytes, Counters (insns, loads, stores, branches) and fault.
// Programs: the recorded Unicorn differential vectors (also checked against Unicorn's answers),
// and seeded random straight-line + forward-branch + counted-loop programs over every lowered
// instruction class (translate-arm64-gen.ts), some accessing across a page boundary.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../support/rng.js';
import { type DiffCase, type DiffResult, diffRecorded, runCase } from './arm64-harness.js';
import { randomProgram, randomValue, RET as RET_WORD } from './translate-arm64-gen.js';
import { DATA_BYTES, diffStates, makeTxRig, runWith, type Start } from './translate-arm64-harness.js';

interface Vectors {
  cases: Array<DiffCase & { expect: DiffResult }>;
}
const vectors = JSON.parse(readFileSync(new URL('../vectors/emulator/arm64-unicorn.json', import.meta.url), 'utf8')) as Vectors;

describe('arm64 translated == interpreted', () => {
  it(`recorded Unicorn programs (${vectors.cases.length}) give Unicorn's registers, NZCV and stores with the tier forced`, () => {
    const rig = makeTxRig(3);
    rig.m.tier = 'translate';
    const bad = diffRecorded(rig, vectors.cases);
    expect(bad.slice(0, 10)).toEqual([]);
    const st = rig.m.translationStats();
    expect(st?.regions ?? 0).toBeGreaterThan(200);
    expect(st!.translatedInsns).toBeGreaterThan(2000);
  });

  it('recorded Unicorn programs: counters and state equal to the interpreter', () => {
    const rig = makeTxRig(4);
    const bad: string[] = [];
    vectors.cases.forEach((c, k) => {
      const entry = rig.place(c.words);
      const regs: Record<number, bigint> = {};
      c.regs.forEach((h, i) => {
        let v = BigInt(h);
        if (i === 20 || i === 22) v += BigInt(rig.data);
        regs[i] = v;
      });
      const mem = new Uint8Array(DATA_BYTES);
      mem.set(Buffer.from(c.data, 'hex'));
      const s: Start = { regs, nzcv: c.nzcv, mem };
      const a = runWith(rig, entry, s, 'interp');
      const b = runWith(rig, entry, s, 'translate');
      const d = diffStates(a, b);
      if (d.length) bad.push(`case ${k}: ${d.join('; ')}`);
      rig.space.execmemFree(entry);
    });
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it('NZCV of every setter kind read in the next block (dynamic lazy flags) for all 16 conditions', () => {
    const rig = makeTxRig(6);
    // setter; b .+4 (so the reads start a new block); cset xC, C for C = eq..le (x0..x13), then
    // csinc x14, xzr, xzr with nv and al; ret
    const setters = [
      0xab020020, 0xeb020020, 0xea020020, 0x2b020020, 0x6b020020, 0x6a020020, // adds/subs/ands x0, x1, x2 (x, w)
      0xba020020, 0xfa020020, 0x3a020020, 0x7a020020, // adcs/sbcs (x, w)
      0xfa421824, 0x3a421824, // ccmp x1, x2, #4, ne / ccmn w1, w2, #4, ne
      0xd503201f, // nop: the flags come in from the caller
    ];
    const CSINC_ZR = 0x9a9f07e0; // csinc xd, xzr, xzr, cond: cset xd, invert(cond)
    const csets = Array.from({ length: 16 }, (_, c) => (CSINC_ZR | ((c ^ 1) << 12) | Math.min(c, 14)) >>> 0);
    const r = new Rng(77);
    const edge = [0n, 1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn];
    const bad: string[] = [];
    for (const setter of setters) {
      const words = [setter, 0x14000001, ...csets, RET_WORD];
      const entry = rig.place(words);
      for (let k = 0; k < 24; k++) {
        const v1 = k < 8 ? edge[k]! : randomValue(r), v2 = k < 16 ? edge[(k * 3) % 8]! : randomValue(r);
        const s: Start = { regs: { 1: v1, 2: v2 }, nzcv: r.below(16), mem: new Uint8Array(DATA_BYTES) };
        const d = diffStates(runWith(rig, entry, s, 'interp'), runWith(rig, entry, s, 'translate'));
        if (d.length) bad.push(`${setter.toString(16)} ${v1.toString(16)} ${v2.toString(16)}: ${d.join('; ')}`);
      }
      rig.space.execmemFree(entry);
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });

  const SEEDS = 160;
  it(`${SEEDS} seeded random programs (straight-line, forward branches, counted loops, calls, literals, memory across pages), also cut short by the budget`, () => {
    const rig = makeTxRig(5);
    const bad: string[] = [];
    let translatedEntries = 0;
    let insns = 0;
    let cut = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = new Rng(seed);
      const words = randomProgram(r, { length: 24 + r.below(40), branches: 0.08, loops: 0.04, calls: 0.04 });
      const entry = rig.place(words);
      const regs: Record<number, bigint> = {};
      for (let i = 0; i < 16; i++) regs[i] = randomValue(r);
      regs[17] = BigInt(r.below(64));
      regs[19] = BigInt(rig.data + 2048);
      regs[21] = BigInt(rig.data + 4096);
      const s: Start = { regs, nzcv: r.below(16), mem: r.bytes(DATA_BYTES) };
      const a = runWith(rig, entry, s, 'interp');
      const before = rig.m.translationStats()?.entries ?? 0;
      const b = runWith(rig, entry, s, 'translate');
      translatedEntries += (rig.m.translationStats()?.entries ?? 0) - before;
      insns += b.counters.insns;
      const d = diffStates(a, b);
      // and again with a budget that runs out somewhere inside the program
      const budget = 1 + r.below(Math.max(1, a.counters.insns - 1));
      const ca = runWith(rig, entry, s, 'interp', budget);
      const cb = runWith(rig, entry, s, 'translate', budget);
      d.push(...diffStates(ca, cb).map((x) => `budget ${budget}: ${x}`));
      if (ca.fault !== null) cut++;
      if (d.length) bad.push(`seed ${seed} [${words.map((w) => w.toString(16)).join(' ')}]: ${d.join('; ')}`);
      rig.space.execmemFree(entry);
    }
    expect(bad.slice(0, 5)).toEqual([]);
    expect(cut).toBeGreaterThan(SEEDS / 2);
    expect(translatedEntries).toBeGreaterThanOrEqual(SEEDS);
    // most instructions retire inside translated code, not in the interpreter after a resume
    const inWasm = rig.m.translationStats()!.translatedInsns;
    expect(inWasm / insns).toBeGreaterThan(0.8);
  });
});

// ---- exclusives, acquire/release and LSE atomics (arm64-atomic.ts) --------------------------------

/** LSE ld<op>/swp: size 111 0 00 A R 1 Rs o3 opc 00 Rn Rt (op 0-7 = add clr eor set smax smin umax umin, 8 = swp). */
const ldop = (size: number, op: number, al: boolean, rs: number, rt: number, rn: number): number =>
  ((size << 30) | 0x38200000 | (al ? 3 << 22 : 0) | (rs << 16) | (op === 8 ? 1 << 15 : op << 12) | (rn << 5) | rt) >>> 0;
/** cas{al}: size 001000 1 L 1 Rs o0 11111 Rn Rt. */
const cas = (size: number, al: boolean, rs: number, rt: number, rn: number): number =>
  ((size << 30) | 0x08a07c00 | (al ? 1 << 22 : 0) | (rs << 16) | (al ? 1 << 15 : 0) | (rn << 5) | rt) >>> 0;
/** ldxr / ldaxr / stxr / stlxr / ldar / stlr (size 2 or 3 for w / x; 0/1 b / h). */
const excl = (size: number, l: boolean, o2: boolean, o0: boolean, rs: number, rt: number, rn: number): number =>
  ((size << 30) | 0x08007c00 | (o2 ? 1 << 23 : 0) | (l ? 1 << 22 : 0) | ((l || o2 ? 31 : rs) << 16) | (o0 ? 1 << 15 : 0) | (rn << 5) | rt) >>> 0;
const STR_X4_X1 = 0xf9000024, LDR_X5_X1 = 0xf9400025, CLREX = 0xd503305f, IC_IVAU_X1 = 0xd50b7521;
const ADD_X0_1 = 0x91000400; // add x0, x0, #1
const CBNZ_W5_BACK3 = 0x35ffffa5; // cbnz w5, .-12

/**
 * Run `words` from `s` interpreted and translated: all state equal, and `untranslated` is the number
 * of retired instructions the translated run may leave to the interpreter.
 */
function atomicsAgree(rig: ReturnType<typeof makeTxRig>, words: number[], s: Start, untranslated = 0): string[] {
  const entry = rig.place(words);
  const a = runWith(rig, entry, s, 'interp');
  const before = rig.m.translationStats()?.translatedInsns ?? 0;
  const b = runWith(rig, entry, s, 'translate');
  const translated = rig.m.translationStats()!.translatedInsns - before;
  rig.space.execmemFree(entry);
  const d = diffStates(a, b);
  if (translated !== a.counters.insns - untranslated) d.push(`${translated} of ${a.counters.insns} instructions translated`);
  return d.length ? [`[${words.map((w) => w.toString(16)).join(' ')}] x1=${s.regs[1]!.toString(16)}: ${d.join('; ')} fault ${a.fault?.name}`] : [];
}

describe('arm64 translated atomics == interpreted', () => {
  const rig = makeTxRig(12);
  const data = BigInt(rig.data);
  const mem = new Uint8Array(DATA_BYTES).map((_, i) => (i * 37 + 11) & 0xff);
  const VALUES: [bigint, bigint][] = [[5n, 7n], [-1n, 1n], [0x80n, 0x7fn], [0x8000n, 0xffffn], [0x80000000n, 0x7fffffffn], [-(1n << 63n), (1n << 63n) - 1n], [0x1234n, 0x1234n]];

  it('ld<op> / swp for every op, size and order, also with Rt = zr (st<op>), results and old values', () => {
    const bad: string[] = [];
    for (let size = 0; size < 4; size++) {
      for (let op = 0; op <= 8; op++) {
        for (const [old, operand] of VALUES) {
          for (const [al, rt] of [[false, 3], [true, 3], [false, 31]] as const) {
            const words = [STR_X4_X1, ldop(size, op, al, 2, rt, 1), LDR_X5_X1, RET_WORD];
            bad.push(...atomicsAgree(rig, words, { regs: { 1: data + 64n, 2: operand, 3: 0x5555n, 4: old }, nzcv: 0, mem }));
          }
        }
      }
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it('cas / casal: equal and unequal, every size, Rs = zr', () => {
    const bad: string[] = [];
    for (let size = 0; size < 4; size++) {
      for (const [old, other] of VALUES) {
        for (const al of [false, true]) {
          for (const rs of [2, 31]) {
            for (const cmp of [old, other, old | (0xffn << 56n)]) {
              const words = [STR_X4_X1, cas(size, al, rs, 3, 1), LDR_X5_X1, RET_WORD];
              bad.push(...atomicsAgree(rig, words, { regs: { 1: data + 128n, 2: cmp, 3: other ^ 0x77n, 4: old }, nzcv: 0, mem }));
            }
          }
        }
      }
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it('ldxr / stxr: success, no reservation, clrex, other address, other size; ldar / stlr', () => {
    const bad: string[] = [];
    for (const size of [2, 3]) {
      const ldx = excl(size, true, false, false, 0, 0, 1), ldax = excl(size, true, false, true, 0, 0, 1);
      const stx = excl(size, false, false, false, 5, 0, 1), stlx = excl(size, false, false, true, 5, 0, 1);
      const stxOther = excl(size, false, false, false, 5, 0, 6), stxWide = excl(5 - size, false, false, false, 5, 0, 1);
      const programs = [
        [ldx, ADD_X0_1, stx, RET_WORD],
        [ldax, ADD_X0_1, stlx, RET_WORD],
        [stx, RET_WORD],
        [ldx, CLREX, stx, RET_WORD],
        [ldx, stxOther, stx, RET_WORD],
        [ldx, stxWide, stx, RET_WORD],
        [ldx, ADD_X0_1, stx, CBNZ_W5_BACK3, RET_WORD],
        [excl(size, true, true, true, 0, 7, 1), ADD_X0_1, excl(size, false, true, true, 0, 0, 6), RET_WORD],
      ];
      for (const words of programs) bad.push(...atomicsAgree(rig, words, { regs: { 1: data + 256n, 6: data + 512n, 0: 3n }, nzcv: 0, mem }));
      // The reservation opened in translated code survives a resume into the interpreter (ic ivau).
      bad.push(...atomicsAgree(rig, [ldx, IC_IVAU_X1, ADD_X0_1, stx, RET_WORD], { regs: { 1: data + 256n }, nzcv: 0, mem }, 1));
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it('misaligned and read-only addresses fault in the interpreter, before the instruction', () => {
    const bad: string[] = [];
    const code = rig.place([RET_WORD]);
    for (const size of [1, 2, 3]) {
      for (const at of [data + 1n, data + 2n, data + 4n, BigInt(code)]) {
        for (const w of [ldop(size, 0, true, 2, 3, 1), cas(size, true, 2, 3, 1), excl(size, true, false, false, 0, 0, 1), excl(size, false, false, false, 5, 0, 1), excl(size, true, true, true, 0, 0, 1)]) {
          bad.push(...atomicsAgree(rig, [ADD_X0_1, w, RET_WORD], { regs: { 1: at, 2: 9n }, nzcv: 0, mem }));
        }
      }
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });
});
