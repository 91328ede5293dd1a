// CodeBuffer: bytes, labels, label uses of declared reach, x86 relaxation to a fixed point, veneers,
// relocations against external symbols computed from the final (ROX) address, typed errors.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ABS64, BranchRangeError, CodeBuffer, DuplicateLabelError, LabelAlreadyBoundError, type LabelUseKind, UnboundLabelError, UnresolvedSymbolError,
} from '../../codegen/buffer.js';
import * as X from '../../codegen/x86_64/index.js';
import { disasmAll, initCapstone } from '../../support/capstone.js';
import { bytesToHex } from '../../support/u64.js';

const BASE = -0x3fff0000; // 0xffffffffc0010000, a module-area ROX address

beforeAll(async () => {
  await initCapstone();
});

function hex(b: Uint8Array): string {
  return bytesToHex(b);
}

describe('raw bytes', () => {
  it('appends little-endian values and grows past its initial capacity', () => {
    const b = new CodeBuffer('x86_64', 4);
    b.put8(0x90);
    b.put16(0x1234);
    b.put32(0xdeadbeef);
    b.put64pair(0x11223344, 0x55667788);
    b.putBytes([0xc3]);
    for (let i = 0; i < 1000; i++) b.put8(i & 0xff);
    const out = b.finish({ base: BASE }).bytes;
    expect(hex(out.subarray(0, 16))).toBe('90 34 12 ef be ad de 44 33 22 11 88 77 66 55 c3');
    expect(out.length).toBe(1016);
    expect(out[1015]).toBe(999 & 0xff);
  });

  it('read/set patch earlier bytes and reject offsets outside what was emitted', () => {
    const b = new CodeBuffer('arm64');
    b.put32(0xd503201f);
    expect(b.read32(0)).toBe(0xd503201f);
    b.set32(0, 0xd65f03c0);
    expect(b.read32(0)).toBe(0xd65f03c0);
    expect(() => b.read32(1)).toThrow(/outside the 4 bytes/);
    expect(() => b.set8(4, 0)).toThrow(/outside/);
  });

  it('truncate undoes bytes but never cuts a recorded label or use', () => {
    const b = new CodeBuffer('x86_64');
    b.put32(0);
    b.truncate(2);
    expect(b.length).toBe(2);
    const l = b.newLabel('here');
    b.bind(l);
    b.put8(0x90);
    expect(() => b.truncate(1)).toThrow(/would cut a label/);
    b.truncate(2);
    expect(() => b.truncate(5)).toThrow(/outside/);
  });

  it('align pads to a power of two and refuses once relaxable items make offsets unknown', () => {
    const b = new CodeBuffer('x86_64');
    b.put8(1);
    b.align(8, 0xcc);
    expect(b.length).toBe(8);
    expect(() => b.align(3)).toThrow(/power of two/);
    const l = b.newLabel('x');
    X.emitJmp(b, l);
    b.bind(l);
    expect(() => b.align(4)).toThrow(/relaxable/);
  });
});

describe('labels', () => {
  it('names are unique, binding twice and unbound uses are typed errors naming the label', () => {
    const b = new CodeBuffer('x86_64');
    const a = b.newLabel('exit');
    expect(() => b.newLabel('exit')).toThrow(DuplicateLabelError);
    b.bind(a);
    expect(() => b.bind(a)).toThrow(LabelAlreadyBoundError);
    const never = b.newLabel('never_bound');
    X.emitJmp(b, never);
    X.emitCall(b, never);
    const err = (() => {
      try {
        b.finish({ base: BASE });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(UnboundLabelError);
    expect((err as UnboundLabelError).message).toContain('never_bound');
    expect((err as UnboundLabelError).details.uses).toBe(2);
    expect((err as UnboundLabelError).message).toMatch(/first by jmp at linear offset 0/);
    const c = new CodeBuffer('x86_64');
    X.emitLea(c, X.rax, X.memRipLabel(c.newLabel('table')));
    expect(() => c.finish({ base: BASE })).toThrow(/label "table" is used 1 time\(s\) \(first by lea at linear offset 3\)/);
  });

  it('an unused unbound label is fine; labels of another buffer are rejected', () => {
    const b = new CodeBuffer('x86_64');
    b.newLabel('spare');
    X.emitRet(b);
    expect(hex(b.finish({ base: BASE }).bytes)).toBe('c3');
    const other = new CodeBuffer('x86_64');
    const foreign = other.newLabel('zzz');
    expect(() => X.emitJmp(b, foreign)).toThrow(/another buffer/);
  });

  it('reports final label offsets, shifted by the relaxed branch sizes before them', () => {
    const b = new CodeBuffer('x86_64');
    const far = b.newLabel('far');
    const mid = b.newLabel('mid');
    X.emitJmp(b, far); // must become rel32 (5 bytes)
    b.bind(mid);
    X.emitNops(b, 200);
    b.bind(far);
    X.emitRet(b);
    const out = b.finish({ base: BASE });
    expect(out.labels.get('mid')).toBe(5);
    expect(out.labels.get('far')).toBe(205);
    expect(hex(out.bytes.subarray(0, 5))).toBe('e9 c8 00 00 00');
  });
});

describe('x86 branch relaxation', () => {
  // rel8 reach from the end of a 2-byte jmp: forward gap g gives rel = g; backward over g bytes gives -(g + 2).
  it.each([
    [127, 'eb 7f'],
    [128, 'e9 80 00 00 00'],
  ])('forward jmp over %i bytes is %s', (gap, want) => {
    const b = new CodeBuffer('x86_64');
    const l = b.newLabel('t');
    X.emitJmp(b, l);
    X.emitNops(b, gap);
    b.bind(l);
    expect(hex(b.finish({ base: BASE }).bytes.subarray(0, want.length / 3 + 1))).toBe(want);
  });

  it.each([
    [126, 'eb 80'],
    [127, 'e9 7c ff ff ff'],
  ])('backward jmp over %i bytes is %s', (gap, want) => {
    const b = new CodeBuffer('x86_64');
    const l = b.newLabel('top');
    b.bind(l);
    X.emitNops(b, gap);
    X.emitJmp(b, l);
    expect(hex(b.finish({ base: BASE }).bytes.subarray(gap))).toBe(want);
  });

  it('a short forward branch writes what a label and a relaxable branch would, and refuses what they would not', () => {
    const viaLabel = new CodeBuffer('x86_64');
    const l = viaLabel.newLabel();
    X.emitJcc(viaLabel, 'b', l);
    X.emitNops(viaLabel, 127);
    viaLabel.bind(l);
    X.emitRet(viaLabel);
    const short = new CodeBuffer('x86_64');
    const t = short.shortForward(0x72);
    X.emitNops(short, 127);
    short.bindShortForward(t);
    X.emitRet(short);
    expect(hex(short.finish({ base: BASE }).bytes)).toBe(hex(viaLabel.finish({ base: BASE }).bytes));

    const far = new CodeBuffer('x86_64');
    const f = far.shortForward(0xeb);
    X.emitNops(far, 128);
    expect(() => far.bindShortForward(f)).toThrow(BranchRangeError);
    const over = new CodeBuffer('x86_64');
    const o = over.shortForward(0xeb);
    X.emitJmp(over, over.newLabel());
    expect(() => over.bindShortForward(o)).toThrow(/relaxable branch/);
    expect(() => over.bindShortForward(1)).toThrow(/unknown short branch/);
  });

  it('jcc grows to 0f 8x rel32', () => {
    const b = new CodeBuffer('x86_64');
    const l = b.newLabel('t');
    X.emitJcc(b, 'ne', l);
    X.emitNops(b, 130);
    b.bind(l);
    expect(hex(b.finish({ base: BASE }).bytes.subarray(0, 6))).toBe('0f 85 82 00 00 00');
  });

  it('forced rel32 stays long; forced rel8 out of reach is a BranchRangeError naming label and distance', () => {
    const b = new CodeBuffer('x86_64');
    const l = b.newLabel('patch_site');
    X.emitJmp(b, l, 'rel32');
    b.bind(l);
    expect(hex(b.finish({ base: BASE }).bytes)).toBe('e9 00 00 00 00');
    const c = new CodeBuffer('x86_64');
    const far = c.newLabel('too_far');
    X.emitJcc(c, 'e', far, 'rel8');
    X.emitNops(c, 300);
    c.bind(far);
    expect(() => c.finish({ base: BASE })).toThrow(BranchRangeError);
    expect(() => c.finish({ base: BASE })).toThrow(/too_far.*distance 300.*\[-128, 127\]/);
  });

  it('a cascade converges: growing one branch pushes another out of reach', () => {
    const b = new CodeBuffer('x86_64');
    const l0 = b.newLabel('l0');
    const l1 = b.newLabel('l1');
    X.emitJmp(b, l0); // distance 2 + 124 = 126 while je is short; 130 once je grows
    X.emitJcc(b, 'e', l1); // 124 + 4 = 128: out of reach
    X.emitNops(b, 124);
    b.bind(l0);
    X.emitNops(b, 4);
    b.bind(l1);
    const out = b.finish({ base: BASE }).bytes;
    expect(hex(out.subarray(0, 11))).toBe('e9 82 00 00 00 0f 84 80 00 00 00');
  });

  it('property: every branch lands on its label and every long branch was needed', () => {
    type Op = { k: 'jmp' | 'jcc'; label: number } | { k: 'nop'; n: number } | { k: 'bind'; label: number };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ k: fc.constant('jmp' as const), label: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ k: fc.constant('jcc' as const), label: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ k: fc.constant('nop' as const), n: fc.integer({ min: 1, max: 90 }) }),
      fc.record({ k: fc.constant('bind' as const), label: fc.integer({ min: 0, max: 5 }) }),
    );
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), (ops) => {
        const b = new CodeBuffer('x86_64');
        const labels = Array.from({ length: 6 }, (_, i) => b.newLabel(`L${i}`));
        const bound = new Set<number>();
        const jumps: number[] = [];
        for (const op of ops) {
          if (op.k === 'nop') X.emitNops(b, op.n);
          else if (op.k === 'bind') {
            if (!bound.has(op.label)) {
              b.bind(labels[op.label] as X.Label);
              bound.add(op.label);
            }
          } else {
            jumps.push(op.label);
            if (op.k === 'jmp') X.emitJmp(b, labels[op.label] as X.Label);
            else X.emitJcc(b, 'l', labels[op.label] as X.Label);
          }
        }
        for (let i = 0; i < 6; i++) if (!bound.has(i)) b.bind(labels[i] as X.Label);
        const out = b.finish({ base: BASE });
        const insns = disasmAll('x86_64', out.bytes, BASE).filter((d) => d.mnemonic === 'jmp' || d.mnemonic === 'jl');
        expect(insns.length).toBe(jumps.length);
        insns.forEach((d, i) => {
          const target = Number(BigInt.asIntN(64, BigInt(d.opStr)));
          expect(target).toBe(BASE + (out.labels.get(`L${jumps[i]}`) as number));
          if (d.size > 2) {
            const asShort = target - (d.address + 2);
            expect(asShort < -128 || asShort > 127).toBe(true);
          }
        });
      }),
      { numRuns: 200, seed: 42 },
    );
  });
});

describe('relocations and final addresses', () => {
  it('call rel32 to a symbol is computed from the final ROX address, not the staging offset', () => {
    const b = new CodeBuffer('x86_64');
    X.emitNop(b, 3);
    X.emitCallSymbol(b, '__bpf_call_base', 16);
    X.emitRet(b);
    const helper = -0x7f000000; // 0xffffffff81000000, kernel text
    const out = b.finish({ base: BASE, resolve: (s) => (s === '__bpf_call_base' ? helper : undefined) });
    const rel = helper + 16 - (BASE + 8);
    const view = new DataView(out.bytes.buffer);
    expect(out.bytes[3]).toBe(0xe8);
    expect(view.getInt32(4, true)).toBe(rel);
    expect(out.relocations).toEqual([{ kind: 'x86.rel32', symbol: '__bpf_call_base', addend: 16, offset: 4, target: helper + 16 }]);
    const moved = b.finish({ base: BASE + 0x1000, resolve: () => helper });
    expect(new DataView(moved.bytes.buffer).getInt32(4, true)).toBe(rel - 0x1000);
  });

  it('relocation offsets account for relaxed branches before them', () => {
    const b = new CodeBuffer('x86_64');
    const l = b.newLabel('end');
    X.emitJmp(b, l);
    X.emitNops(b, 200);
    X.emitCallSymbol(b, 'f');
    b.bind(l);
    const out = b.finish({ base: 0x400000, resolve: () => 0x400000 });
    expect(out.relocations[0]?.offset).toBe(5 + 200 + 1);
    expect(new DataView(out.bytes.buffer).getInt32(206, true)).toBe(-(5 + 200 + 5));
  });

  it('out-of-reach and unknown symbols are typed errors naming the symbol', () => {
    const b = new CodeBuffer('x86_64');
    X.emitCallSymbol(b, 'far_helper');
    expect(() => b.finish({ base: BASE, resolve: () => BASE + 2 ** 32 })).toThrow(BranchRangeError);
    expect(() => b.finish({ base: BASE, resolve: () => BASE + 2 ** 32 })).toThrow(/symbol "far_helper".*out of reach/);
    expect(() => b.finish({ base: BASE, resolve: () => undefined })).toThrow(UnresolvedSymbolError);
  });

  it('absolute uses of labels hold base + offset (movabs rax, label)', () => {
    const b = new CodeBuffer('x86_64');
    const data = b.newLabel('table');
    b.put16(0xb848); // REX.W B8+r: movabs rax, imm64
    b.useLabel(data, ABS64);
    b.put64pair(0, 0);
    X.emitRet(b);
    b.bind(data);
    const out = b.finish({ base: BASE });
    const view = new DataView(out.bytes.buffer);
    expect(BigInt.asIntN(64, view.getBigUint64(2, true))).toBe(BigInt(BASE + 11));
  });

  it('rip-relative operands to labels are measured from the end of the instruction (incl. immediates)', () => {
    const b = new CodeBuffer('x86_64');
    const slot = b.newLabel('slot');
    X.emitMov(b, X.dword(X.memRipLabel(slot)), 7); // c7 05 disp32 imm32: 10 bytes
    b.bind(slot);
    expect(hex(b.finish({ base: BASE }).bytes)).toBe('c7 05 00 00 00 00 07 00 00 00');
  });
});

describe('rip-relative symbols', () => {
  it('[rip + symbol + addend] with an immediate after the displacement', () => {
    const b = new CodeBuffer('x86_64');
    X.emitNop(b, 2);
    X.emitMov(b, X.dword(X.memRipSymbol('jiffies', 4)), 1); // c7 05 disp32 imm32 at offset 2, ends at 12
    const jiffies = -0x7e000000;
    const out = b.finish({ base: BASE, resolve: () => jiffies });
    expect(new DataView(out.bytes.buffer).getInt32(4, true)).toBe(jiffies + 4 - (BASE + 12));
    expect(out.relocations).toEqual([{ kind: 'x86.rel32', symbol: 'jiffies', addend: 4, offset: 4, target: jiffies + 4 }]);
  });
});

describe('veneers (the hook arm64 uses)', () => {
  // A toy PC-relative kind with a reach of ±64 bytes, word-aligned, measured from the instruction.
  const SHORT: LabelUseKind = {
    name: 'toy.imm5',
    fieldSize: 4,
    originFromField: 0,
    minDelta: -64,
    maxDelta: 60,
    align: 4,
    patch(bytes, at, use, target) {
      bytes[at] = ((target - use) / 4) & 0xff;
    },
  };

  it('out of reach without a veneer: BranchRangeError naming label, kind, distance, reach', () => {
    const b = new CodeBuffer('arm64');
    const l = b.newLabel('far');
    b.useLabel(l, SHORT);
    b.put32(0);
    for (let i = 0; i < 20; i++) b.put32(0xd503201f);
    b.bind(l);
    expect(() => b.finish({ base: BASE })).toThrow(/toy\.imm5 use of label "far" at offset 0: distance 84 is out of reach \[-64, 60\]/);
  });

  it('with a veneer: out-of-reach uses are redirected to one shared veneer appended after the code', () => {
    const calls: number[] = [];
    const veneer = (buf: CodeBuffer, target: number): void => {
      calls.push(target);
      buf.put32(0xaaaaaaaa);
    };
    const helper = BASE - 0x100000;
    const b = new CodeBuffer('arm64');
    b.addReloc({ kind: SHORT, symbol: 'helper', veneer });
    b.put32(0);
    b.addReloc({ kind: SHORT, symbol: 'helper', veneer });
    b.put32(0);
    const near = b.newLabel('near');
    b.useLabel(near, SHORT, { veneer });
    b.put32(0);
    b.bind(near);
    b.put32(0xd65f03c0);
    const out = b.finish({ base: BASE, resolve: () => helper });
    expect(calls).toEqual([helper]); // one veneer for one target; the in-reach label needs none
    expect(out.bytes.length).toBe(20);
    expect(hex(out.bytes.subarray(16))).toBe('aa aa aa aa');
    expect(out.bytes[0]).toBe(16 / 4);
    expect(out.bytes[4]).toBe(12 / 4);
    expect(out.bytes[8]).toBe(1);
    expect(out.relocations.map((r) => [r.offset, r.veneer])).toEqual([[0, 16], [4, 16]]);
  });

  it('a veneer that is itself out of reach is reported as such', () => {
    const b = new CodeBuffer('arm64');
    b.addReloc({ kind: SHORT, symbol: 'helper', veneer: (buf) => buf.put32(0) });
    b.put32(0);
    for (let i = 0; i < 40; i++) b.put32(0xd503201f);
    expect(() => b.finish({ base: BASE, resolve: () => BASE - 0x100000 })).toThrow(/symbol "helper" \(via veneer at offset 164\).*out of reach/);
  });
});

describe('anonymous labels, marks and finishing again', () => {
  it('anonymous labels are named L<id>; a given name L<id> of an anonymous label is a duplicate, and the reverse too', () => {
    const b = new CodeBuffer('x86_64');
    const a = b.newLabel();
    expect(a.name).toBe(`L${a.id}`);
    expect(() => b.newLabel(`L${a.id}`)).toThrow(DuplicateLabelError);
    const named = b.newLabel(`L${a.id + 1}`);
    expect(named.name).toBe(`L${a.id + 1}`);
    b.newLabel('x');
    const c = new CodeBuffer('x86_64');
    c.newLabel('L2');
    expect(c.newLabel().name).toBe('L1');
    expect(() => c.newLabel()).toThrow(DuplicateLabelError);
  });

  it('marks and label offsets by id give the final offsets after relaxation', () => {
    const b = new CodeBuffer('x86_64');
    const far = b.newLabel();
    const m0 = b.markHere();
    X.emitJmp(b, far);
    const m1 = b.markHere();
    for (let i = 0; i < 200; i++) b.put8(0x90);
    b.bind(far);
    const m2 = b.markHere();
    X.emitRet(b);
    const out = b.finish({ base: BASE });
    expect([out.marks[m0], out.marks[m1], out.marks[m2]]).toEqual([0, 5, 205]);
    expect(out.offsets[far.id]).toBe(205);
    expect(out.labels.get(far.name)).toBe(205);
  });

  it('finishing again at another base equals a fresh buffer finished there (labels, symbols, rip-relative)', () => {
    const resolve = (s: string): number | undefined => (s === 'helper' ? -0x7effff00 : undefined);
    const build = (): CodeBuffer => {
      const b = new CodeBuffer('x86_64');
      const top = b.newLabel();
      b.bind(top);
      X.emitCallSymbol(b, 'helper');
      X.emitMovabs(b, X.r11, 0, 0);
      b.addReloc({ kind: ABS64, symbol: 'helper', at: b.linearLength - 8 });
      for (let i = 0; i < 40; i++) b.put8(0x90);
      X.emitJcc(b, 'ne', top);
      X.emitRet(b);
      return b;
    };
    const twice = build();
    const first = twice.finish({ base: BASE, resolve });
    const second = twice.finish({ base: BASE + 0x12345, resolve });
    const fresh = build().finish({ base: BASE + 0x12345, resolve });
    expect(hex(second.bytes)).toBe(hex(fresh.bytes));
    expect(second.relocations).toEqual(fresh.relocations);
    expect(hex(first.bytes)).not.toBe(hex(second.bytes));
    expect(hex(twice.finish({ base: BASE, resolve }).bytes)).toBe(hex(first.bytes));
  });
});
