// Format computation (reference/bkey.md §3): an independent BigInt model of the §3 pseudo-code
// agrees with computeFormat; every key and the node bounds are representable; key_u64s and byte
// rounding rules hold; the historical +4 size bits; realistic families give the §4 table's shapes.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../support/rng.js';
import { pairToBigInt } from '../../support/u64.js';
import { BKEY_FIELDS, computeFormat, encodeFormat, formatToJson, type BkeyFormat } from '../../jit/bkey/format.js';
import { bkeyPos, firstUnrepresentableField, type Bkey, type Bpos } from '../../jit/bkey/pack.js';
import { formatForKeySet, genDirents, genExtents, genInodes, randomComputedFormat } from '../../jit/bkey/keys.js';

function refCompute(keys: Bkey[], minKey: Bpos, maxKey: Bpos, extra: boolean): { ku: number; bits: number[]; offs: bigint[] } {
  const W = BKEY_FIELDS.map((f) => f.width);
  const M = (b: number): bigint => (1n << BigInt(b)) - 1n;
  const min = [M(64), M(64), M(64), 0n, M(64), M(64)];
  const max = [0n, 0n, 0n, 0n, 0n, 0n];
  const feed = (i: number, v: bigint): void => {
    if (v < min[i]!) min[i] = v;
    if (v > max[i]!) max[i] = v;
  };
  for (const p of [minKey, maxKey]) {
    feed(0, pairToBigInt(p.inode.lo, p.inode.hi));
    feed(1, pairToBigInt(p.offset.lo, p.offset.hi));
    feed(2, BigInt(p.snapshot));
  }
  for (const k of keys) if (k.type !== 0) k.fields.forEach((v, i) => feed(i, pairToBigInt(v.lo, v.hi)));
  const bits = [0, 0, 0, 0, 0, 0];
  const offs = [0n, 0n, 0n, 0n, 0n, 0n];
  const set = (i: number, b: number, off: bigint): void => {
    b = Math.min(b, W[i]!);
    bits[i] = b;
    offs[i] = b === W[i] ? 0n : off < M(W[i]!) - M(b) ? off : M(W[i]!) - M(b);
  };
  let total = 24;
  for (let i = 0; i < 6; i++) {
    const lo = min[i]! < max[i]! ? min[i]! : max[i]!;
    set(i, (max[i]! - lo).toString(2).replace(/^0$/, '').length, lo);
    total += bits[i]!;
  }
  if (extra && bits[3]) {
    const e = Math.min(4, 32 - bits[3]!);
    bits[3] += e;
    total += e;
  }
  const ku = Math.ceil(total / 64);
  let spare = 64 * ku - total;
  for (let i = 0; i < 6; i++) {
    const r = Math.ceil(bits[i]! / 8) * 8 - bits[i]!;
    if (r <= spare) {
      set(i, bits[i]! + r, offs[i]!);
      spare -= r;
    }
  }
  return { ku, bits, offs };
}

const asRef = (f: BkeyFormat): { ku: number; bits: number[]; offs: bigint[] } => ({ ku: f.keyU64s, bits: [...f.bits], offs: f.offsets.map((o) => pairToBigInt(o.lo, o.hi)) });

describe('format computation', () => {
  it('matches the §3 model and represents every key and both node bounds', () => {
    const rng = new Rng(31);
    for (let n = 0; n < 500; n++) {
      const extra = rng.bool(0.3);
      const { format, keys } = randomComputedFormat(rng, extra);
      const minKey = bkeyPos(keys[0]!);
      const maxKey = bkeyPos(keys[keys.length - 1]!);
      expect(asRef(format)).toEqual(refCompute(keys, minKey, maxKey, extra));
      for (const k of keys) expect(firstUnrepresentableField(format, k)).toBe(-1);
      const total = 24 + format.bits.reduce((a, b) => a + b, 0);
      expect(format.keyU64s).toBe(Math.ceil(total / 64));
      // rounding: a field left unrounded means the spare bits ran out before it
      const spare = 64 * format.keyU64s - total;
      for (let i = 0; i < 6; i++) {
        const r = Math.ceil(format.bits[i]! / 8) * 8 - format.bits[i]!;
        if (r > 0 && format.bits[i]! < BKEY_FIELDS[i]!.width) expect(r).toBeGreaterThan(spare);
      }
    }
  });

  it('the +4 size bits can change key_u64s', () => {
    const rng = new Rng(1);
    const ks = genExtents(rng, 500, 64);
    const plain = formatForKeySet(ks, false);
    const extra = formatForKeySet(ks, true);
    expect(plain.bits).toEqual([8, 24, 0, 8, 0, 0]);
    expect(plain.keyU64s).toBe(1);
    expect(extra.bits[3]).toBe(16); // 8 + 4, then rounded up with the new word's spare bits
    expect(extra.keyU64s).toBe(2);
  });

  it('realistic families produce the reference shapes', () => {
    const rng = new Rng(2);
    const ext1 = genExtents(rng, 300, 1);
    expect(formatForKeySet(ext1).bits).toEqual([0, 24, 0, 8, 0, 0]);
    expect(formatForKeySet(genDirents(rng, 800)).bits).toEqual([8, 64, 0, 0, 0, 0]);
    const ino = formatForKeySet(genInodes(rng, 800));
    expect(ino.keyU64s).toBe(1);
    expect([ino.bits[0], ino.bits[2], ino.bits[3]]).toEqual([0, 0, 0]);
    const bytes = encodeFormat(formatForKeySet(ext1));
    expect(bytes[0]).toBe(1);
    expect(bytes[1]).toBe(6);
    expect(formatToJson(formatForKeySet(ext1)).field_offset[2]).toBe('0x00000000ffffffff');
  });

  it('deleted keys do not widen the format', () => {
    const rng = new Rng(4);
    const ks = genInodes(rng, 50);
    const f1 = computeFormat(ks.keys, ks.minKey, ks.maxKey);
    const wide: Bkey = { ...ks.keys[3]!, type: 0, fields: ks.keys[3]!.fields.map(() => ({ lo: 0xffffffff, hi: 0 })) };
    const f2 = computeFormat([...ks.keys, wide], ks.minKey, ks.maxKey);
    expect(f2).toEqual(f1);
  });
});
