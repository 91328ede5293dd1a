// Division and rotate-through-carry without BigInt: emulator/div64.ts (Knuth D on 16-bit digits)
// against BigInt, and the instructions that use it executed by the cores (x86 div/idiv at every
// operand size incl. #DE, rcl/rcr; arm64 udiv/sdiv incl. divide by zero and INT64_MIN / -1)
// against BigInt reference models of the SDM / Arm ARM pseudocode. Seeded fast-check.

import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { divOut, udiv128 } from '../../emulator/div64.js';
import { GuestTrap, type X86Machine } from '../../emulator/index.js';
import { initCapstone } from '../../support/capstone.js';
import { big, hex, rig } from './helpers.js';

const M64 = (1n << 64n) - 1n;
const EDGES64 = [
  0n, 1n, 2n, 3n, 0xffn, 0x100n, 0xffffn, 0x10000n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 1n << 32n, (1n << 32n) + 1n,
  (1n << 53n) - 1n, 1n << 53n, (1n << 53n) + 1n, (1n << 63n) - 1n, 1n << 63n, (1n << 63n) + 1n, M64 - 1n, M64,
];

const u64 = fc.oneof(
  fc.constantFrom(...EDGES64),
  fc.bigInt({ min: 0n, max: M64 }),
  // Values built from corner-case 16-bit digits reach the rare branches of algorithm D.
  fc.array(fc.constantFrom(0, 1, 0x7fff, 0x8000, 0xfffe, 0xffff), { minLength: 4, maxLength: 4 }).map((d) =>
    d.reduce((acc, x, i) => acc | (BigInt(x) << BigInt(16 * i)), 0n),
  ),
);

const lo32 = (v: bigint): number => Number(v & 0xffffffffn) | 0;
const hi32 = (v: bigint): number => Number((v >> 32n) & 0xffffffffn) | 0;
const word = (v: number): bigint => BigInt(v >>> 0);

describe('udiv128 (Knuth D on 16-bit digits) against BigInt', () => {
  const check = (n: bigint, d: bigint): void => {
    const ok = udiv128(lo32(n), hi32(n), lo32(n >> 64n), hi32(n >> 64n), lo32(d), hi32(d));
    if (d === 0n) {
      expect(ok).toBe(false);
      return;
    }
    expect(ok).toBe(true);
    const q = word(divOut.q0) | (word(divOut.q1) << 32n) | (word(divOut.q2) << 64n) | (word(divOut.q3) << 96n);
    const r = word(divOut.r0) | (word(divOut.r1) << 32n);
    expect({ q: q.toString(16), r: r.toString(16) }).toEqual({ q: (n / d).toString(16), r: (n % d).toString(16) });
  };

  it('agrees on the add-back case and on edge values', () => {
    // Hacker's Delight divmnu test: the first qhat is one too large and the divisor is added back.
    check(0x7fff800000000000n, 0x800000000001n);
    check(0x7fff800000000000n << 64n, 0x800000000001n);
    for (const a of EDGES64) for (const b of EDGES64) {
      check(a, b);
      check((a << 64n) | b, b);
      check((b << 64n) | a, a);
    }
  });

  it('agrees on random 128/64 divisions (seeded)', () => {
    fc.assert(
      fc.property(u64, u64, u64, (nHi, nLo, d) => check((nHi << 64n) | nLo, d)),
      { seed: 0x5eed, numRuns: 3000 },
    );
  });
});

// ---- x86 div / idiv through the emulator ---------------------------------------------------------

type Size = 1 | 2 | 4 | 8;
const DIV_BYTES: Record<Size, Record<'div' | 'idiv', string>> = {
  8: { div: '48 f7 f1', idiv: '48 f7 f9' }, // div/idiv rcx
  4: { div: 'f7 f1', idiv: 'f7 f9' }, // ecx
  2: { div: '66 f7 f1', idiv: '66 f7 f9' }, // cx
  1: { div: 'f6 f1', idiv: 'f6 f9' }, // cl
};

const asSigned = (v: bigint, bits: number): bigint => BigInt.asIntN(bits, v);
const mask = (bits: number): bigint => (1n << BigInt(bits)) - 1n;

/** SDM DIV/IDIV on full 64-bit rax/rdx/rcx: new rax, rdx, or 'DE'. */
function refDiv(signed: boolean, size: Size, rax: bigint, rdx: bigint, rcx: bigint): { rax: bigint; rdx: bigint } | 'DE' {
  const n = size * 8;
  let dividend: bigint;
  if (size === 1) dividend = rax & 0xffffn;
  else dividend = ((rdx & mask(n)) << BigInt(n)) | (rax & mask(n));
  let divisor = rcx & mask(n);
  if (divisor === 0n) return 'DE';
  let q: bigint;
  let r: bigint;
  if (signed) {
    dividend = asSigned(dividend, 2 * n);
    divisor = asSigned(divisor, n);
    q = dividend / divisor;
    r = dividend % divisor;
    if (q > (1n << BigInt(n - 1)) - 1n || q < -(1n << BigInt(n - 1))) return 'DE';
  } else {
    q = dividend / divisor;
    r = dividend % divisor;
    if (q > mask(n)) return 'DE';
  }
  q &= mask(n);
  r &= mask(n);
  if (size === 8) return { rax: q, rdx: r };
  if (size === 4) return { rax: q, rdx: r };
  if (size === 2) return { rax: (rax & ~0xffffn & M64) | q, rdx: (rdx & ~0xffffn & M64) | r };
  return { rax: (rax & ~0xffffn & M64) | q | (r << 8n), rdx };
}

describe('x86 div/idiv run by the emulator against the SDM model (BigInt reference)', () => {
  beforeAll(async () => {
    await initCapstone();
  });

  for (const size of [8, 4, 2, 1] as const) {
    for (const op of ['div', 'idiv'] as const) {
      it(`${op} at ${size * 8} bits, incl. #DE on zero divisor and quotient overflow`, () => {
        const r = rig('x86_64', hex(`${DIV_BYTES[size][op]} c3`));
        const run = (rax: bigint, rdx: bigint, rcx: bigint): void => {
          const want = refDiv(op === 'idiv', size, rax, rdx, rcx);
          const regs = { rax, rdx, rcx };
          if (want === 'DE') {
            let err: unknown;
            try {
              r.cpu.call(r.code, [], { regs });
            } catch (e) {
              err = e;
            }
            expect(err).toBeInstanceOf(GuestTrap);
            expect((err as GuestTrap).trap).toBe('divide-error');
            // The faulting instruction changed nothing.
            const after = r.cpu.registers();
            expect([big(after.rax!), big(after.rdx!)]).toEqual([rax, rdx]);
            return;
          }
          const res = r.cpu.call(r.code, [], { regs });
          expect({ rax: big(res.regs.rax!).toString(16), rdx: big(res.regs.rdx!).toString(16) }).toEqual({
            rax: want.rax.toString(16),
            rdx: want.rdx.toString(16),
          });
        };
        // Fixed edge cases: INT_MIN / -1 overflows, -1 / 1, 0 / x, x / 0.
        const n = BigInt(size * 8);
        const min = 1n << (n - 1n);
        run(min, size === 1 ? 0n : M64, M64);
        run(M64, M64, 1n);
        run(min, size === 1 ? 0n : M64, 1n);
        run(0n, 0n, 7n);
        run(5n, 0n, 0n);
        run(M64, 0n, 2n);
        fc.assert(
          fc.property(u64, u64, u64, fc.integer({ min: 0, max: 2 }), (rax, rdxRaw, rcx, mode) => {
            // mode 0: rdx random (mostly #DE); 1: rdx below the divisor (unsigned fits);
            // 2: rdx the sign extension of rax (cqo/cdq/cwd, signed usually fits).
            const d = rcx & mask(size * 8);
            let rdx = rdxRaw;
            if (mode === 1 && d !== 0n) rdx = rdxRaw % d;
            if (mode === 2) rdx = asSigned(rax & mask(size * 8), size * 8) < 0n ? M64 : 0n;
            run(rax, rdx, rcx);
          }),
          { seed: 0xd1 + size, numRuns: 400 },
        );
      });
    }
  }
});

// ---- x86 rcl / rcr ------------------------------------------------------------------------------

const RC_BYTES: Record<Size, Record<'rcl' | 'rcr', string>> = {
  8: { rcl: '48 d3 d0', rcr: '48 d3 d8' }, // rcl/rcr rax, cl
  4: { rcl: 'd3 d0', rcr: 'd3 d8' },
  2: { rcl: '66 d3 d0', rcr: '66 d3 d8' },
  1: { rcl: 'd2 d0', rcr: 'd2 d8' },
};
const CFB = 1;
const OFB = 0x800;

/** SDM RCL/RCR: new rax and CF, OF (OF compared only for a count of 1, where it is defined). */
function refRc(left: boolean, size: Size, rax: bigint, count: number, cf: number): { rax: bigint; cf: number; of: number } | null {
  const w = size * 8;
  const masked = count & (size === 8 ? 63 : 31);
  if (masked === 0) return null;
  const c = size <= 2 ? masked % (w + 1) : masked;
  let v = rax & mask(w);
  let carry = BigInt(cf);
  for (let k = 0; k < c; k++) {
    if (left) {
      const out = (v >> BigInt(w - 1)) & 1n;
      v = ((v << 1n) | carry) & mask(w);
      carry = out;
    } else {
      const out = v & 1n;
      v = (v >> 1n) | (carry << BigInt(w - 1));
      carry = out;
    }
  }
  const msb = Number((v >> BigInt(w - 1)) & 1n);
  const of = left ? msb ^ Number(carry) : msb ^ Number((v >> BigInt(w - 2)) & 1n);
  const full = size === 4 ? v : (rax & ~mask(w) & M64) | v;
  return { rax: full, cf: Number(carry), of };
}

describe('x86 rcl/rcr run by the emulator against the SDM model', () => {
  beforeAll(async () => {
    await initCapstone();
  });

  for (const size of [8, 4, 2, 1] as const) {
    for (const op of ['rcl', 'rcr'] as const) {
      it(`${op} at ${size * 8} bits for every count and both carries`, () => {
        const r = rig('x86_64', hex(`${RC_BYTES[size][op]} c3`));
        const cpu = r.cpu as X86Machine;
        fc.assert(
          fc.property(u64, fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 1 }), (rax, count, cf) => {
            const res = cpu.call(r.code, [], { regs: { rax, rcx: BigInt(count) }, flags: cf ? CFB : 0 });
            const want = refRc(op === 'rcl', size, rax, count, cf);
            const got = big(res.regs.rax!);
            if (want === null) {
              expect(got).toBe(size === 4 ? rax & M64 & mask(32) | 0n : rax);
              return;
            }
            expect(got.toString(16)).toBe(want.rax.toString(16));
            expect(cpu.flags() & CFB).toBe(want.cf);
            if ((count & (size === 8 ? 63 : 31)) === 1) expect((cpu.flags() & OFB) !== 0).toBe(want.of === 1);
          }),
          { seed: 0x7c + size, numRuns: 300 },
        );
      });
    }
  }
});

// ---- arm64 udiv / sdiv --------------------------------------------------------------------------

const wordsLE = (words: number[]): Uint8Array => {
  const b = new Uint8Array(words.length * 4);
  words.forEach((w, i) => new DataView(b.buffer).setUint32(4 * i, w >>> 0, true));
  return b;
};
const RET = 0xd65f03c0;
const A64_DIV = {
  udiv64: 0x9ac10800, // udiv x0, x0, x1
  sdiv64: 0x9ac10c00, // sdiv x0, x0, x1
  udiv32: 0x1ac10800, // udiv w0, w0, w1
  sdiv32: 0x1ac10c00, // sdiv w0, w0, w1
};

/** Arm ARM UDIV/SDIV: round toward zero, divide by zero gives 0, INT_MIN / -1 wraps to INT_MIN. */
function refA64(op: keyof typeof A64_DIV, a: bigint, b: bigint): bigint {
  const bits = op.endsWith('64') ? 64 : 32;
  const x = a & mask(bits);
  const y = b & mask(bits);
  if (y === 0n) return 0n;
  if (op.startsWith('u')) return x / y;
  return BigInt.asUintN(bits, asSigned(x, bits) / asSigned(y, bits));
}

describe('arm64 udiv/sdiv run by the emulator against the Arm ARM model', () => {
  beforeAll(async () => {
    await initCapstone();
  });

  for (const op of Object.keys(A64_DIV) as (keyof typeof A64_DIV)[]) {
    it(`${op}: edge values and random operands, incl. / 0 and INT_MIN / -1`, () => {
      const r = rig('arm64', wordsLE([A64_DIV[op], RET]));
      const run = (a: bigint, b: bigint): void => {
        const res = r.cpu.call(r.code, [a, b]);
        expect(big(res.ret).toString(16)).toBe(refA64(op, a, b).toString(16));
      };
      for (const a of EDGES64) for (const b of EDGES64) run(a, b);
      fc.assert(fc.property(u64, u64, run), { seed: 0xa64, numRuns: 1000 });
    });
  }
});
