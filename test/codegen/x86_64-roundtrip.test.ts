// Round trip through an outside decoder: random operands for every x86_64 form are encoded by our
// emitters and decoded by Capstone; length and normalised text (support/capstone.ts normaliseAsm)
// must match the instruction we meant. Also: Capstone agrees with llvm-mc's printed text on every
// golden vector. Seeds are fixed (fast-check `seed`), so failures reproduce.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { CodeBuffer } from '../../codegen/buffer.js';
import * as X from '../../codegen/x86_64/index.js';
import { disasmOne, initCapstone, normaliseAsm } from '../../support/capstone.js';
import { hexToBytes } from '../../support/u64.js';

beforeAll(async () => {
  await initCapstone();
});

interface Case {
  emit: (b: CodeBuffer) => void;
  text: string;
}

const SIZES = [8, 16, 32, 64] as const;
type Size = (typeof SIZES)[number];
const REGS: Record<Size, readonly X.AnyReg[]> = { 8: X.GPR8, 16: X.GPR16, 32: X.GPR32, 64: X.GPR64 };
const PTR: Record<Size, string> = { 8: 'byte', 16: 'word', 32: 'dword', 64: 'qword' };

const reg = (size: Size): fc.Arbitrary<X.AnyReg> => fc.integer({ min: 0, max: 15 }).map((n) => REGS[size][n] as X.AnyReg);
const size = fc.constantFrom(...SIZES);
const size16 = fc.constantFrom(16, 32, 64) as fc.Arbitrary<16 | 32 | 64>;

function edgy(lo: number, hi: number, edges: number[]): fc.Arbitrary<number> {
  return fc.oneof(fc.constantFrom(...edges.filter((e) => e >= lo && e <= hi)), fc.integer({ min: lo, max: hi }));
}
const disp = edgy(-(2 ** 31), 2 ** 31 - 1, [0, 1, -1, 127, -128, 128, -129, 2 ** 31 - 1, -(2 ** 31)]);

interface MemText {
  m: X.Mem;
  text: string; // without the size
}

const memArb: fc.Arbitrary<MemText> = fc
  .record({
    base: fc.option(fc.integer({ min: 0, max: 15 }), { freq: 6 }),
    index: fc.option(fc.integer({ min: 0, max: 15 }).filter((n) => n !== 4), { freq: 2 }),
    scale: fc.constantFrom(1, 2, 4, 8) as fc.Arbitrary<X.Scale>,
    disp,
  })
  .map(({ base, index, scale, disp: d }) => {
    const b = base === null ? null : (X.GPR64[base] as X.Reg64);
    const i = index === null ? null : (X.GPR64[index] as X.Reg64);
    const s = i ? scale : 1;
    const m = i ? X.memIndex(b, i, s, d) : X.mem(b, d);
    const parts: string[] = [];
    if (b) parts.push(b.name);
    if (i) parts.push(`${i.name}*${s}`);
    let t = parts.join(' + ');
    if (parts.length === 0) t = String(d);
    else if (d !== 0) t += d < 0 ? ` - ${-d}` : ` + ${d}`;
    return { m, text: `[${t}]` };
  });

const rm = (sz: Size): fc.Arbitrary<{ op: X.AnyReg | X.Mem; text: string }> =>
  fc.oneof(
    reg(sz).map((r) => ({ op: r as X.AnyReg | X.Mem, text: r.name })),
    memArb.map(({ m, text }) => ({ op: X.sized(m, sz) as X.AnyReg | X.Mem, text: `${PTR[sz]} ptr ${text}` })),
  );

function immFor(sz: Size): fc.Arbitrary<number> {
  if (sz === 8) return edgy(-128, 255, [0, 1, 127, -128, 255]);
  if (sz === 16) return edgy(-32768, 65535, [0, 127, -128, 128, -129, 65535]);
  if (sz === 32) return edgy(-(2 ** 31), 2 ** 32 - 1, [0, 127, -128, 128, -129, 2 ** 32 - 1]);
  return edgy(-(2 ** 31), 2 ** 31 - 1, [0, 127, -128, 128, -129, 2 ** 31 - 1, -(2 ** 31)]);
}

const ALU_OPS: X.AluOp[] = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
const SHIFT_OPS: X.ShiftOp[] = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sar'];
const UNARY_OPS: X.UnaryOp[] = ['not', 'neg', 'mul', 'imul', 'div', 'idiv', 'inc', 'dec'];

const FORMS: Record<string, fc.Arbitrary<Case>> = {
  'mov r/m, r': size.chain((sz) =>
    fc.tuple(rm(sz), reg(sz)).map(([d, s]) => ({ emit: (b) => X.emitMov(b, d.op, s), text: `mov ${d.text}, ${s.name}` })),
  ),
  'mov r, m': size.chain((sz) =>
    fc.tuple(reg(sz), memArb).map(([d, s]) => ({ emit: (b) => X.emitMov(b, d, s.m), text: `mov ${d.name}, ${PTR[sz]} ptr ${s.text}` })),
  ),
  'mov r/m, imm': size.chain((sz) =>
    fc.tuple(rm(sz), immFor(sz)).map(([d, i]) => ({ emit: (b) => X.emitMov(b, d.op, i), text: `mov ${d.text}, ${i}` })),
  ),
  movabs: fc.tuple(reg(64), fc.nat({ max: 2 ** 32 - 1 }), fc.nat({ max: 2 ** 32 - 1 })).map(([d, lo, hi]) => ({
    emit: (b) => X.emitMovabs(b, d as X.Reg64, lo, hi),
    text: `movabs ${d.name}, ${((BigInt(hi) << 32n) | BigInt(lo)).toString()}`,
  })),
  'movzx/movsx': fc
    .tuple(fc.constantFrom('movzx', 'movsx'), fc.constantFrom(8, 16) as fc.Arbitrary<8 | 16>, fc.constantFrom(16, 32, 64) as fc.Arbitrary<16 | 32 | 64>)
    .filter(([, from, to]) => to > from)
    .chain(([mn, from, to]) =>
      fc.tuple(reg(to), rm(from)).map(([d, s]) => ({
        emit: (b) => (mn === 'movzx' ? X.emitMovzx : X.emitMovsx)(b, d as X.Reg32, s.op as X.Reg8),
        text: `${mn} ${d.name}, ${s.text}`,
      })),
    ),
  movsxd: fc.tuple(reg(64), rm(32)).map(([d, s]) => ({ emit: (b) => X.emitMovsxd(b, d as X.Reg64, s.op as X.Reg32), text: `movsxd ${d.name}, ${s.text}` })),
  'alu r/m, r': fc.tuple(fc.constantFrom(...ALU_OPS), size).chain(([op, sz]) =>
    fc.tuple(rm(sz), reg(sz), fc.boolean()).map(([d, s, lock]) => {
      const l = lock && typeof d.op === 'object' && 'kind' in d.op && op !== 'cmp';
      return { emit: (b: CodeBuffer) => X.emitAlu(b, op, d.op, s, { lock: l }), text: `${l ? 'lock ' : ''}${op} ${d.text}, ${s.name}` };
    }),
  ),
  'alu r, m': fc.tuple(fc.constantFrom(...ALU_OPS), size).chain(([op, sz]) =>
    fc.tuple(reg(sz), memArb).map(([d, s]) => ({ emit: (b) => X.emitAlu(b, op, d, s.m), text: `${op} ${d.name}, ${PTR[sz]} ptr ${s.text}` })),
  ),
  'alu r/m, imm': fc.tuple(fc.constantFrom(...ALU_OPS), size).chain(([op, sz]) =>
    fc.tuple(rm(sz), immFor(sz), fc.constantFrom('auto', 'imm32') as fc.Arbitrary<'auto' | 'imm32'>).map(([d, i, mode]) => ({
      emit: (b) => X.emitAlu(b, op, d.op, i, { imm: sz === 8 ? 'auto' : mode }),
      text: `${op} ${d.text}, ${i}`,
    })),
  ),
  test: size.chain((sz) =>
    fc.oneof(
      fc.tuple(rm(sz), reg(sz)).map(([a, r]) => ({ emit: (b: CodeBuffer) => X.emitTest(b, a.op, r), text: `test ${a.text}, ${r.name}` })),
      fc.tuple(rm(sz), immFor(sz)).map(([a, i]) => ({ emit: (b: CodeBuffer) => X.emitTest(b, a.op, i), text: `test ${a.text}, ${i}` })),
    ),
  ),
  unary: fc.tuple(fc.constantFrom(...UNARY_OPS), size).chain(([op, sz]) =>
    rm(sz).map((a) => ({ emit: (b) => X.emitUnary(b, op, a.op), text: `${op} ${a.text}` })),
  ),
  imul: size16.chain((sz) =>
    fc.oneof(
      fc.tuple(reg(sz), rm(sz)).map(([d, s]) => ({ emit: (b: CodeBuffer) => X.emitImul(b, d as X.Reg32, s.op), text: `imul ${d.name}, ${s.text}` })),
      fc.tuple(reg(sz), rm(sz), immFor(sz)).map(([d, s, i]) => ({
        emit: (b: CodeBuffer) => X.emitImul3(b, d as X.Reg32, s.op, i),
        text: `imul ${d.name}, ${s.text}, ${i}`,
      })),
    ),
  ),
  shift: fc.tuple(fc.constantFrom(...SHIFT_OPS), size).chain(([op, sz]) =>
    fc.tuple(rm(sz), fc.option(fc.integer({ min: 0, max: sz === 64 ? 63 : 31 })), fc.constantFrom('auto', 'ib') as fc.Arbitrary<'auto' | 'ib'>).map(([d, c, form]) => ({
      emit: (b) => X.emitShift(b, op, d.op, c === null ? X.cl : c, { form }),
      text: `${op} ${d.text}, ${c === null ? 'cl' : c}`,
    })),
  ),
  'shld/shrd': fc.tuple(fc.constantFrom('shld', 'shrd'), size16).chain(([mn, sz]) =>
    fc.tuple(rm(sz), reg(sz), fc.option(fc.integer({ min: 0, max: sz === 64 ? 63 : 31 }))).map(([d, s, c]) => ({
      emit: (b) => (mn === 'shld' ? X.emitShld : X.emitShrd)(b, d.op, s as X.Reg32, c === null ? X.cl : c),
      text: `${mn} ${d.text}, ${s.name}, ${c === null ? 'cl' : c}`,
    })),
  ),
  bswap: fc.constantFrom(32, 64).chain((sz) => reg(sz as Size).map((r) => ({ emit: (b) => X.emitBswap(b, r as X.Reg32), text: `bswap ${r.name}` }))),
  xchg: size.chain((sz) =>
    fc.tuple(reg(sz), rm(sz)).map(([a, m]) => ({ emit: (b) => X.emitXchg(b, a, m.op), text: `xchg ${a.name}, ${m.text}` })),
  ),
  'xadd/cmpxchg': fc.tuple(fc.constantFrom('xadd', 'cmpxchg'), size, fc.boolean()).chain(([mn, sz, lock]) =>
    fc.tuple(memArb, reg(sz)).map(([m, r]) => ({
      emit: (b) => (mn === 'xadd' ? X.emitXadd : X.emitCmpxchg)(b, X.sized(m.m, sz), r, { lock }),
      text: `${lock ? 'lock ' : ''}${mn} ${PTR[sz]} ptr ${m.text}, ${r.name}`,
    })),
  ),
  lea: size16.chain((sz) => fc.tuple(reg(sz), memArb).map(([d, m]) => ({ emit: (b) => X.emitLea(b, d as X.Reg64, m.m), text: `lea ${d.name}, ${m.text}` }))),
  'push/pop': fc.oneof(
    reg(64).map((r) => ({ emit: (b: CodeBuffer) => X.emitPush(b, r as X.Reg64), text: `push ${r.name}` })),
    reg(64).map((r) => ({ emit: (b: CodeBuffer) => X.emitPop(b, r as X.Reg64), text: `pop ${r.name}` })),
    immFor(64).map((i) => ({ emit: (b: CodeBuffer) => X.emitPush(b, i), text: `push ${i}` })),
    memArb.map((m) => ({ emit: (b: CodeBuffer) => X.emitPush(b, m.m), text: `push qword ptr ${m.text}` })),
    memArb.map((m) => ({ emit: (b: CodeBuffer) => X.emitPop(b, m.m), text: `pop qword ptr ${m.text}` })),
  ),
  'setcc/cmovcc': fc.tuple(fc.constantFrom(...X.CONDITIONS), size16).chain(([c, sz]) =>
    fc.oneof(
      rm(8).map((d) => ({ emit: (b: CodeBuffer) => X.emitSetcc(b, c, d.op as X.Reg8), text: `set${c} ${d.text}` })),
      fc.tuple(reg(sz), rm(sz)).map(([d, s]) => ({ emit: (b: CodeBuffer) => X.emitCmov(b, c, d as X.Reg32, s.op), text: `cmov${c} ${d.name}, ${s.text}` })),
    ),
  ),
  'branch rel': fc.oneof(
    edgy(-128, 127, [-128, 127, 0]).map((r) => ({ emit: (b: CodeBuffer) => X.emitJmpRel(b, r, 8), text: `jmp ${r + 2}` })),
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((r) => ({ emit: (b: CodeBuffer) => X.emitJmpRel(b, r, 32), text: `jmp ${r + 5}` })),
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((r) => ({ emit: (b: CodeBuffer) => X.emitCallRel(b, r), text: `call ${r + 5}` })),
    fc.tuple(fc.constantFrom(...X.CONDITIONS), edgy(-128, 127, [-128, 127])).map(([c, r]) => ({ emit: (b: CodeBuffer) => X.emitJccRel(b, c, r, 8), text: `j${c} ${r + 2}` })),
    fc.tuple(fc.constantFrom(...X.CONDITIONS), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })).map(([c, r]) => ({
      emit: (b: CodeBuffer) => X.emitJccRel(b, c, r, 32),
      text: `j${c} ${r + 6}`,
    })),
  ),
  indirect: fc.tuple(fc.constantFrom('call', 'jmp'), rm(64)).map(([mn, t]) => ({
    emit: (b) => (mn === 'call' ? X.emitCallIndirect : X.emitJmpIndirect)(b, t.op as X.Reg64),
    text: `${mn} ${t.text}`,
  })),
  prefetch: fc.tuple(fc.constantFrom('t0', 't1', 't2', 'nta') as fc.Arbitrary<X.PrefetchHint>, memArb).map(([h, m]) => ({
    emit: (b) => X.emitPrefetch(b, m.m, h),
    text: `prefetch${h} byte ptr ${m.text}`,
  })),
};

const FIXED: Case[] = [
  { emit: (b) => X.emitRet(b), text: 'ret' },
  { emit: (b) => X.emitRet(b, 8), text: 'ret 8' },
  { emit: X.emitLeave, text: 'leave' },
  { emit: X.emitCdq, text: 'cdq' },
  { emit: X.emitCqo, text: 'cqo' },
  { emit: X.emitCdqe, text: 'cdqe' },
  { emit: X.emitInt3, text: 'int3' },
  { emit: X.emitUd2, text: 'ud2' },
  { emit: X.emitEndbr64, text: 'endbr64' },
  { emit: X.emitMfence, text: 'mfence' },
  { emit: X.emitLfence, text: 'lfence' },
  { emit: X.emitPause, text: 'pause' },
];

function check(c: Case): void {
  const b = new CodeBuffer('x86_64');
  c.emit(b);
  const bytes = b.linearBytes();
  const d = disasmOne('x86_64', bytes, 0);
  expect(d, `${c.text}: Capstone could not decode ${Buffer.from(bytes).toString('hex')}`).not.toBeNull();
  expect(d?.size, `${c.text}: length`).toBe(bytes.length);
  expect(normaliseAsm('x86_64', d?.text ?? ''), `${c.text} (${Buffer.from(bytes).toString('hex')})`).toBe(normaliseAsm('x86_64', c.text));
}

describe('x86_64 encode -> Capstone round trip', () => {
  let seed = 0x5eed;
  for (const [name, arb] of Object.entries(FORMS)) {
    const s = seed++;
    it(`${name}`, () => {
      fc.assert(fc.property(arb, (c) => check(c)), { numRuns: 250, seed: s });
    });
  }

  it('fixed instructions', () => {
    for (const c of FIXED) check(c);
  });

  it('NOPs of every length 1..15 decode as one instruction of that length', () => {
    for (let n = 1; n <= 15; n++) {
      const bytes = X.enc(X.emitNop, n);
      expect(bytes.length).toBe(n);
      const d = disasmOne('x86_64', bytes, 0);
      expect(d?.size).toBe(n);
      expect(d?.mnemonic).toMatch(/^nop/);
    }
  });

  it('Capstone prints every single-instruction golden vector as llvm-mc did', () => {
    const data = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'vectors', 'asm', 'x86_64.json'), 'utf8')) as {
      cases: { bytes: string; llvm: string | null }[];
    };
    const bad: string[] = [];
    let n = 0;
    for (const c of data.cases) {
      if (c.llvm === null) continue;
      n++;
      const bytes = hexToBytes(c.bytes) as Uint8Array;
      const d = disasmOne('x86_64', bytes, 0);
      const got = d ? normaliseAsm('x86_64', d.text) : 'undecodable';
      if (got !== normaliseAsm('x86_64', c.llvm) || d?.size !== bytes.length) bad.push(`${c.bytes}: capstone "${got}" llvm "${c.llvm}"`);
    }
    expect(n).toBeGreaterThan(2000);
    expect(bad).toEqual([]);
  });
});
