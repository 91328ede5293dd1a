// arm64 label uses, relocations and veneers on CodeBuffer: every kind at the edge of its reach and
// one step beyond, forward and backward; patched words equal the pure encoders' words for the same
// displacement (those are checked against llvm-mc in arm64-golden.test.ts).
import { describe, expect, it } from 'vitest';
import { BranchRangeError, CodeBuffer, UnboundLabelError, type FinishOptions } from '../../codegen/buffer.js';
import * as a64 from '../../codegen/arm64/index.js';
import { readWord } from './arm64-support.js';

const { X0, X1, X5, X16, W2 } = a64;
const BASE = -(2 ** 30); // 0xffffffffc0000000, page aligned (module area style)
const MIB = 1024 * 1024;

function finishWith(buf: CodeBuffer, symbols: Record<string, number>, base = BASE): ReturnType<CodeBuffer['finish']> {
  const opts: FinishOptions = { base, resolve: (s) => symbols[s] };
  return buf.finish(opts);
}

interface KindCase {
  name: string;
  emit: (buf: CodeBuffer, t: a64.Target) => void;
  enc: (delta: number) => number;
  min: number;
  max: number;
  step: number;
}

const kinds: KindCase[] = [
  { name: 'b', emit: (b, t) => a64.emitB(b, t), enc: (d) => a64.encB(d), min: -128 * MIB, max: 128 * MIB - 4, step: 4 },
  { name: 'bl', emit: (b, t) => a64.emitBl(b, t), enc: (d) => a64.encBl(d), min: -128 * MIB, max: 128 * MIB - 4, step: 4 },
  { name: 'b.cond', emit: (b, t) => a64.emitBCond(b, 'hs', t), enc: (d) => a64.encBCond('hs', d), min: -MIB, max: MIB - 4, step: 4 },
  { name: 'cbz', emit: (b, t) => a64.emitCbz(b, X5, t), enc: (d) => a64.encCbz(X5, d), min: -MIB, max: MIB - 4, step: 4 },
  { name: 'cbnz', emit: (b, t) => a64.emitCbnz(b, W2, t), enc: (d) => a64.encCbnz(W2, d), min: -MIB, max: MIB - 4, step: 4 },
  { name: 'ldr literal', emit: (b, t) => a64.emitLdrLiteral(b, X1, t), enc: (d) => a64.encLdrLiteral(X1, d), min: -MIB, max: MIB - 4, step: 4 },
  { name: 'tbz', emit: (b, t) => a64.emitTbz(b, X0, 63, t), enc: (d) => a64.encTbz(X0, 63, d), min: -32 * 1024, max: 32 * 1024 - 4, step: 4 },
  { name: 'tbnz', emit: (b, t) => a64.emitTbnz(b, W2, 5, t), enc: (d) => a64.encTbnz(W2, 5, d), min: -32 * 1024, max: 32 * 1024 - 4, step: 4 },
  { name: 'adr', emit: (b, t) => a64.emitAdr(b, X16, t), enc: (d) => a64.encAdr(X16, d), min: -MIB, max: MIB - 1, step: 1 },
];

describe('arm64 label-use kinds: reach', () => {
  for (const k of kinds) {
    it(`${k.name}: both edges encode like the pure encoder; one step beyond is a BranchRangeError`, () => {
      for (const delta of [k.min, k.max, 0, k.step, -k.step]) {
        const buf = new CodeBuffer('arm64');
        a64.emitNop(buf);
        k.emit(buf, { symbol: 'f' });
        const { bytes, relocations } = finishWith(buf, { f: BASE + 4 + delta });
        expect(readWord(bytes, 4), `${k.name} ${delta}`).toBe(k.enc(delta));
        expect(relocations[0]?.offset).toBe(4);
      }
      for (const delta of [k.min - k.step, k.max + k.step]) {
        const buf = new CodeBuffer('arm64');
        k.emit(buf, { symbol: 'far' });
        expect(() => finishWith(buf, { far: BASE + delta })).toThrow(BranchRangeError);
        try {
          finishWith(buf, { far: BASE + delta });
        } catch (e) {
          expect((e as BranchRangeError).details.distance).toBe(delta);
          expect((e as BranchRangeError).message).toContain('symbol "far"');
        }
      }
      if (k.step === 4) {
        const buf = new CodeBuffer('arm64');
        k.emit(buf, { symbol: 'odd' });
        expect(() => finishWith(buf, { odd: BASE + 6 })).toThrow(/not a multiple of 4/);
      }
    });
  }

  it('label forward and backward at the imm14 edge, and beyond it', () => {
    const ok = new CodeBuffer('arm64');
    const back = ok.newLabel('back'), fwd = ok.newLabel('fwd');
    ok.bind(back);
    a64.emitTbz(ok, X0, 0, fwd);
    ok.putBytes(new Uint8Array(32 * 1024 - 8));
    ok.bind(fwd);
    a64.emitTbnz(ok, X0, 1, back); // at 32 KiB - 4: distance -(32 KiB - 4)
    a64.emitTbnz(ok, X0, 1, back); // at 32 KiB: distance -32 KiB
    const img = ok.finish({ base: BASE }).bytes;
    expect(readWord(img, 0)).toBe(a64.encTbz(X0, 0, 32 * 1024 - 4));
    expect(readWord(img, 32 * 1024)).toBe(a64.encTbnz(X0, 1, -32 * 1024));

    const bad = new CodeBuffer('arm64');
    const b2 = bad.newLabel('far_back');
    bad.bind(b2);
    bad.putBytes(new Uint8Array(32 * 1024 + 4));
    a64.emitTbz(bad, X0, 0, b2);
    expect(() => bad.finish({ base: 0 })).toThrow(/label "far_back".*distance -32772/);
  });

  it('an unbound label is an UnboundLabelError at finish', () => {
    const buf = new CodeBuffer('arm64');
    a64.emitCbz(buf, X0, buf.newLabel('nowhere'));
    expect(() => buf.finish({ base: 0 })).toThrow(UnboundLabelError);
  });

  it('ADRP: page distance at +-4 GiB edges from a kernel address; ADRP + ADD :lo12: pairs', () => {
    const cases: [number, boolean][] = [
      [BASE + 2 ** 32 - 4096 + 0xabc, true], [BASE + 2 ** 32, false], [BASE - 2 ** 32, true], [BASE - 2 ** 32 - 1, false], [BASE + 0xfff, true],
    ];
    for (const [target, ok] of cases) {
      const buf = new CodeBuffer('arm64');
      a64.emitAdrpAdd(buf, X0, { symbol: 's' });
      if (!ok) {
        expect(() => finishWith(buf, { s: target })).toThrow(BranchRangeError);
        continue;
      }
      const { bytes } = finishWith(buf, { s: target });
      const pages = (target - (((target % 4096) + 4096) % 4096) - BASE) / 4096;
      expect(readWord(bytes, 0)).toBe(a64.encAdrp(X0, pages));
      expect(readWord(bytes, 4)).toBe(a64.encAddImm(X0, X0, ((target % 4096) + 4096) % 4096));
    }
    // The page difference depends on where the code lands, not only on the distance.
    const buf = new CodeBuffer('arm64');
    a64.emitNop(buf);
    a64.emitAdrp(buf, X1, { symbol: 'd' });
    const { bytes } = finishWith(buf, { d: BASE + 4092 }, BASE + 4096 - 4);
    expect(readWord(bytes, 4)).toBe(a64.encAdrp(X1, -1));
  });
});

describe('arm64 veneers', () => {
  const far = BASE + 200 * MIB;

  it('an out-of-reach BL with veneer: true goes through ldr x16/br x16/.quad at the end', () => {
    const buf = new CodeBuffer('arm64');
    a64.emitBl(buf, { symbol: 'helper' }, { veneer: true });
    a64.emitBl(buf, { symbol: 'helper' }, { veneer: true });
    a64.emitRet(buf);
    const { bytes, relocations } = finishWith(buf, { helper: far });
    // The veneer starts at 12 with a nop so that the literal (ldr at 16, .quad at 24) is 8-aligned.
    expect(bytes.length).toBe(12 + 4 + 16);
    const v = relocations[0]?.veneer as number;
    expect(v).toBe(12);
    expect(relocations[1]?.veneer).toBe(v);
    expect(readWord(bytes, 0)).toBe(a64.encBl(v));
    expect(readWord(bytes, 4)).toBe(a64.encBl(v - 4));
    expect(readWord(bytes, v)).toBe(a64.encNop());
    expect(readWord(bytes, v + 4)).toBe(a64.encLdrLiteral(X16, 8));
    expect(readWord(bytes, v + 8)).toBe(a64.encBr(X16));
    const lo = readWord(bytes, v + 12), hi = readWord(bytes, v + 16);
    expect(hi * 2 ** 32 + lo - 2 ** 64).toBe(far);
  });

  it('no veneer when the target is in reach; an error without veneer: true', () => {
    const near = new CodeBuffer('arm64');
    a64.emitB(near, { symbol: 'n' }, { veneer: true });
    const r = finishWith(near, { n: BASE + 100 * MIB });
    expect(r.bytes.length).toBe(4);
    expect(readWord(r.bytes, 0)).toBe(a64.encB(100 * MIB));

    const strict = new CodeBuffer('arm64');
    a64.emitBl(strict, { symbol: 'helper' });
    expect(() => finishWith(strict, { helper: far })).toThrow(/arm64\.imm26 use of symbol "helper".*distance 209715200/);
  });

  it('a caller-placed literal island (emitVeneer) and an ADRP island (emitAdrpVeneer)', () => {
    const buf = new CodeBuffer('arm64');
    const island = buf.newLabel('island_start');
    a64.emitB(buf, island);
    buf.bind(island);
    const lit = a64.emitVeneer(buf, { symbol: 'helper' });
    const adrp = a64.emitAdrpVeneer(buf, { symbol: 'near_helper' });
    a64.emitBl(buf, lit);
    a64.emitBl(buf, adrp);
    const nearHelper = BASE + 3 * 2 ** 30 + 0x123;
    const { bytes, labels } = finishWith(buf, { helper: far, near_helper: nearHelper });
    const l = labels.get(lit.name) as number, a = labels.get(adrp.name) as number;
    expect(l).toBe(8); // nop at 4 keeps the literal at 16
    expect(readWord(bytes, 4)).toBe(a64.encNop());
    expect(readWord(bytes, l)).toBe(a64.encLdrLiteral(X16, 8));
    expect(readWord(bytes, l + 4)).toBe(a64.encBr(X16));
    expect(readWord(bytes, l + 12) * 2 ** 32 + readWord(bytes, l + 8) - 2 ** 64).toBe(far);
    expect(a).toBe(24);
    const pages = (nearHelper - 0x123 - BASE) / 4096;
    expect(readWord(bytes, a)).toBe(a64.encAdrp(X16, pages));
    expect(readWord(bytes, a + 4)).toBe(a64.encAddImm(X16, X16, 0x123));
    expect(readWord(bytes, a + 8)).toBe(a64.encBr(X16));
    expect(readWord(bytes, 36)).toBe(a64.encBl(l - 36));
    expect(readWord(bytes, 40)).toBe(a64.encBl(a - 40));
  });
});
