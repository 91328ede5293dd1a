// Pack/unpack against the BigInt reference (reference/bkey.md §1-§2, §6, §7): random valid formats
// and representable keys through the generic interpreter and the byte-aligned unpacker; lossy
// position packing never exceeds the real position; packed comparison agrees with positions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../support/rng.js';
import { BKEY_FIELDS, makeFormat, validateFormat, BkeyFormatError, BKEY_FORMAT_CURRENT } from '../../jit/bkey/format.js';
import {
  BkeyPackError, bkeyPos, compareBpos, comparePacked, makeBkey, packInto, packKey, packPosLossy, readBkey, unpackGeneric,
  unpackKey, unpackPos, writeBkey,
} from '../../jit/bkey/pack.js';
import { refBkeyBytes, refPack, refUnpack, type RefKey } from '../../jit/bkey/reference.js';
import { randomAnyKey, randomComputedFormat, randomFormat, randomKeyFor } from '../../jit/bkey/keys.js';
import { byteAlignedApplies, byteAlignedPlan, unpackByteAligned } from '../../jit/bkey/byte-aligned.js';
import type { Bkey } from '../../jit/bkey/pack.js';
import { pairToBigInt } from '../../support/u64.js';

const toRef = (k: Bkey): RefKey => ({ u64s: k.u64s, format: k.format, needsWhiteout: k.needsWhiteout, type: k.type, fields: k.fields.map((v) => pairToBigInt(v.lo, v.hi)) });
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('bkey pack/unpack vs the BigInt reference', () => {
  it('round-trips random formats and keys through pack and the generic unpack', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const rng = new Rng(seed);
        const f = randomFormat(rng);
        for (let n = 0; n < 8; n++) {
          const k = randomKeyFor(rng, f);
          const packed = packKey(f, k);
          const ref = refPack(f, toRef(k));
          expect(ref).not.toBeNull();
          expect(hexOf(packed)).toBe(hexOf(ref as Uint8Array));
          const dst = new Uint8Array(48).fill(0xcc);
          unpackGeneric(f, packed, 0, dst, 4);
          const want = refBkeyBytes(refUnpack(f, packed));
          expect(hexOf(dst.subarray(4, 44))).toBe(hexOf(want));
          expect(dst[0]).toBe(0xcc);
          expect(dst[44]).toBe(0xcc);
          const back = readBkey(dst, 4);
          expect(back.fields).toEqual(k.fields);
          expect(back.type).toBe(k.type);
          expect(back.needsWhiteout).toBe(k.needsWhiteout);
          expect(back.u64s).toBe(k.u64s);
        }
      }),
      { numRuns: 400, seed: 7 },
    );
  });

  it('the byte-aligned unpacker equals the reference wherever it applies', () => {
    let applied = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const rng = new Rng(seed);
        const f = rng.bool(0.8) ? randomComputedFormat(rng).format : randomFormat(rng);
        const plan = byteAlignedPlan(f);
        expect(plan !== null).toBe(byteAlignedApplies(f));
        if (!plan) return;
        applied++;
        for (let n = 0; n < 4; n++) {
          const k = randomKeyFor(rng, f);
          const buf = new Uint8Array(8 + 40).fill(0xa5);
          packInto(f, k, buf, 8);
          const dst = new Uint8Array(40);
          unpackByteAligned(plan, buf, 8, dst, 0);
          expect(hexOf(dst)).toBe(hexOf(refBkeyBytes(refUnpack(f, buf, 8))));
        }
      }),
      { numRuns: 600, seed: 11 },
    );
    expect(applied).toBeGreaterThan(200);
  });

  it('rejects unrepresentable keys with the field named and writes nothing', () => {
    const rng = new Rng(3);
    let rejected = 0;
    for (let n = 0; n < 300; n++) {
      const f = randomFormat(rng);
      const k = randomAnyKey(rng);
      const ref = refPack(f, toRef(k));
      const buf = new Uint8Array(40).fill(0x5a);
      const r = packInto(f, k, buf, 0);
      expect(r < 0).toBe(ref !== null);
      if (r >= 0) {
        rejected++;
        expect(buf.every((b) => b === 0x5a)).toBe(true);
        try {
          packKey(f, k, 17);
          expect.unreachable();
        } catch (e) {
          expect(e).toBeInstanceOf(BkeyPackError);
          expect((e as BkeyPackError).details.key).toBe(17);
          expect((e as BkeyPackError).details.field).toBe(BKEY_FIELDS[r]?.name);
        }
      }
    }
    expect(rejected).toBeGreaterThan(100);
  });

  it('the unpacked key is the current format: unpack with key_u64s 5 is the identity on fields', () => {
    const k = makeBkey({ inode: { lo: 1, hi: 2 }, offset: { lo: 3, hi: 4 }, snapshot: 5, size: 6, versionHi: 7, versionLo: { lo: 8, hi: 9 } }, 3, 2);
    const bytes = new Uint8Array(40);
    writeBkey(k, bytes);
    const packed = packKey(BKEY_FORMAT_CURRENT, k);
    expect(hexOf(packed.subarray(3))).toBe(hexOf(bytes.subarray(3)));
    expect(unpackKey(BKEY_FORMAT_CURRENT, packed).fields).toEqual(k.fields);
  });

  it('packs the §1 example format {0,24,0,8,0,0} with offset at bits 40-63 and size at 32-39', () => {
    const f = makeFormat([0, 24, 0, 8, 0, 0], [{ lo: 4242, hi: 0 }, { lo: 0, hi: 0 }, { lo: 0xffffffff, hi: 0 }, { lo: 0, hi: 0 }, { lo: 0, hi: 0 }, { lo: 0, hi: 0 }]);
    expect(f.keyU64s).toBe(1);
    const k = makeBkey({ inode: { lo: 4242, hi: 0 }, offset: { lo: 0xabcdef, hi: 0 }, snapshot: 0xffffffff, size: 0x42, versionHi: 0, versionLo: { lo: 0, hi: 0 } }, 8, 2);
    const p = packKey(f, k);
    expect(hexOf(p)).toBe('0300080042efcdab');
  });
});

describe('format validation', () => {
  const z = { lo: 0, hi: 0 };
  it.each([
    [[65, 0, 0, 0, 0, 0], [z, z, z, z, z, z], 'inode'],
    [[0, 0, 33, 0, 0, 0], [z, z, z, z, z, z], 'snapshot'],
    [[0, 0, 0, 8, 0, 0], [z, z, z, { lo: 0xffffff80, hi: 0 }, z, z], 'size'],
    [[0, 63, 0, 0, 0, 0], [z, { lo: 1, hi: 0x80000000 }, z, z, z, z], "offset"],
    [[0, 0, 0, 0, 0, 8], [z, z, z, z, z, { lo: 0xffffffff, hi: 0xffffffff }], 'version_lo'],
  ])('bits %j with offsets %j fails naming %s', (bits, offsets, field) => {
    expect(() => makeFormat(bits, offsets)).toThrow(BkeyFormatError);
    try {
      makeFormat(bits, offsets);
    } catch (e) {
      expect((e as BkeyFormatError).details.field).toBe(field);
      expect((e as Error).message).toContain(field);
    }
  });
  it('rejects a wrong key_u64s and a wrong field count', () => {
    expect(() => makeFormat([40, 0, 0, 0, 0, 0], [z, z, z, z, z, z], 2)).toThrow(/key_u64s/);
    expect(() => validateFormat({ keyU64s: 1, bits: [1, 2, 3], offsets: [z, z, z] })).toThrow(/6 fields/);
  });
});

describe('lossy position pack and packed comparison', () => {
  it('lossy pack never exceeds the real position, and exact means equal', () => {
    const rng = new Rng(99);
    const counts = { exact: 0, smaller: 0, fail: 0 };
    for (let n = 0; n < 2000; n++) {
      const f = randomFormat(rng);
      const k = rng.bool() ? randomKeyFor(rng, f) : randomAnyKey(rng);
      const pos = bkeyPos(k);
      const buf = new Uint8Array(40);
      const r = packPosLossy(f, pos, buf, 0);
      counts[r]++;
      if (r === 'fail') continue;
      const got = unpackPos(f, buf, 0);
      const c = compareBpos(got, pos);
      if (r === 'exact') expect(c).toBe(0);
      else expect(c).toBeLessThan(0);
      expect(buf[0]).toBe(f.keyU64s);
      expect(buf[2]).toBe(0);
    }
    expect(counts.exact).toBeGreaterThan(100);
    expect(counts.smaller).toBeGreaterThan(100);
    expect(counts.fail).toBeGreaterThan(10);
  });

  it('comparePacked agrees with comparing unpacked positions', () => {
    const rng = new Rng(5);
    for (let n = 0; n < 1000; n++) {
      const f = randomFormat(rng);
      const a = randomKeyFor(rng, f);
      const b = rng.bool(0.2) ? { ...randomKeyFor(rng, f), fields: [a.fields[0]!, a.fields[1]!, a.fields[2]!, ...randomKeyFor(rng, f).fields.slice(3)] } : randomKeyFor(rng, f);
      const pa = packKey(f, a);
      const pb = packKey(f, b);
      expect(Math.sign(comparePacked(f, pa, 0, pb, 0))).toBe(Math.sign(compareBpos(bkeyPos(a), bkeyPos(b))));
    }
  });
});
