// Packed and unpacked bcachefs keys: the 40-byte struct bkey, pack, the generic (interpreted)
// unpack, lossy position packing and packed comparison (reference/bkey.md §1, §2, §7; bcachefs
// fs/btree/bkey.c: bch2_bkey_pack_key, __bch2_bkey_unpack_key, bch2_bkey_pack_pos_lossy,
// __bch2_bkey_cmp_packed_format_checked).
//
// Invariants:
// - A packed key part is 64*key_u64s bits, little-endian, last word most significant; the header
//   sits in bits 0..23, fields fill from the top bit down in field order, spare bits are zero.
// - `unpackGeneric` is the interpreter: it streams the key from the top word down with a
//   left-justified 64-bit buffer held as two 32-bit halves, refilling at word boundaries and
//   splitting shifts that could be by 64. No BigInt, no allocation per key.
// - Packing never writes a partial key: representability is decided before the first byte.

import { JitboxError, type ErrorDetails } from '../../support/errors.js';
import { hex64, type U64 } from '../../support/u64.js';
import {
  BKEY_BYTES,
  BKEY_FIELDS,
  BKEY_NR_FIELDS,
  BKEY_U64S,
  type BkeyFieldInfo,
  type BkeyFormat,
  type BposPairs,
  addPair,
  bitLenPair,
  cmpPair,
  maskPair,
  nrKeyBits,
  subPair,
} from './format.js';

/** An unpacked key: header plus the six field values in packing order (32-bit fields have hi = 0). */
export interface Bkey {
  /** Key plus value size in u64s, as in the unpacked header (key part = 5). */
  u64s: number;
  format: number;
  needsWhiteout: boolean;
  type: number;
  fields: U64[];
}

export type Bpos = BposPairs;

/** A key is not representable in a format: `details.key` is its index (when known), `details.field` the field. */
export class BkeyPackError extends JitboxError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('bkey-pack', message, details);
  }
}

export interface KeyFieldsInput {
  inode: U64;
  offset: U64;
  snapshot: number;
  size: number;
  versionHi: number;
  versionLo: U64;
}

export function makeBkey(v: KeyFieldsInput, type = 1, valueU64s = 0, needsWhiteout = false): Bkey {
  return {
    u64s: BKEY_U64S + valueU64s,
    format: 1,
    needsWhiteout,
    type,
    fields: [
      { lo: v.inode.lo >>> 0, hi: v.inode.hi >>> 0 },
      { lo: v.offset.lo >>> 0, hi: v.offset.hi >>> 0 },
      { lo: v.snapshot >>> 0, hi: 0 },
      { lo: v.size >>> 0, hi: 0 },
      { lo: v.versionHi >>> 0, hi: 0 },
      { lo: v.versionLo.lo >>> 0, hi: v.versionLo.hi >>> 0 },
    ],
  };
}

export function bkeyPos(k: Bkey): Bpos {
  return { inode: k.fields[0] as U64, offset: k.fields[1] as U64, snapshot: (k.fields[2] as U64).lo };
}

export function compareBpos(a: Bpos, b: Bpos): number {
  return cmpPair(a.inode, b.inode) || cmpPair(a.offset, b.offset) || (a.snapshot === b.snapshot ? 0 : a.snapshot < b.snapshot ? -1 : 1);
}

// ---- byte access ----

export function rd32(a: Uint8Array, o: number): number {
  return ((a[o] as number) | ((a[o + 1] as number) << 8) | ((a[o + 2] as number) << 16) | ((a[o + 3] as number) << 24)) >>> 0;
}

export function wr32(a: Uint8Array, o: number, v: number): void {
  a[o] = v & 0xff;
  a[o + 1] = (v >>> 8) & 0xff;
  a[o + 2] = (v >>> 16) & 0xff;
  a[o + 3] = (v >>> 24) & 0xff;
}

// ---- the 40-byte unpacked layout (§1) ----

export function writeBkey(k: Bkey, dst: Uint8Array, at = 0): void {
  dst[at] = k.u64s;
  dst[at + 1] = (k.format & 0x7f) | (k.needsWhiteout ? 0x80 : 0);
  dst[at + 2] = k.type;
  dst[at + 3] = 0;
  for (let i = 0; i < BKEY_NR_FIELDS; i++) {
    const info = BKEY_FIELDS[i] as BkeyFieldInfo;
    const v = k.fields[i] as U64;
    wr32(dst, at + info.dstOffset, v.lo);
    if (info.store === 8) wr32(dst, at + info.dstOffset + 4, v.hi);
  }
}

export function readBkey(src: Uint8Array, at = 0): Bkey {
  const fields: U64[] = [];
  for (let i = 0; i < BKEY_NR_FIELDS; i++) {
    const info = BKEY_FIELDS[i] as BkeyFieldInfo;
    fields.push({ lo: rd32(src, at + info.dstOffset), hi: info.store === 8 ? rd32(src, at + info.dstOffset + 4) : 0 });
  }
  const b1 = src[at + 1] as number;
  return { u64s: src[at] as number, format: b1 & 0x7f, needsWhiteout: (b1 & 0x80) !== 0, type: src[at + 2] as number, fields };
}

// ---- bit-range access on a key held as 32-bit little-endian words ----

/** Bits [lsb, lsb+b) of the word array as a pair (b <= 64). */
export function getBits(words: Uint32Array, lsb: number, b: number): U64 {
  let lo = 0;
  let hi = 0;
  for (let k = 0; k < b; k++) {
    const bit = lsb + k;
    if (((words[bit >>> 5] as number) >>> (bit & 31)) & 1) {
      if (k < 32) lo |= 1 << k;
      else hi |= 1 << (k - 32);
    }
  }
  return { lo: lo >>> 0, hi: hi >>> 0 };
}

/** OR a b-bit pair into bits [lsb, lsb+b) (the range must be zero). */
export function orBits(words: Uint32Array, lsb: number, b: number, v: U64): void {
  for (let k = 0; k < b; k++) {
    const on = k < 32 ? (v.lo >>> k) & 1 : (v.hi >>> (k - 32)) & 1;
    if (on) {
      const bit = lsb + k;
      words[bit >>> 5] = ((words[bit >>> 5] as number) | (1 << (bit & 31))) >>> 0;
    }
  }
}

function wordsToBytes(words: Uint32Array, dst: Uint8Array, at: number): void {
  for (let j = 0; j < words.length; j++) wr32(dst, at + 4 * j, words[j] as number);
}

function bytesToWords(src: Uint8Array, at: number, keyU64s: number): Uint32Array {
  const w = new Uint32Array(2 * keyU64s);
  for (let j = 0; j < w.length; j++) w[j] = rd32(src, at + 4 * j);
  return w;
}

// ---- representability and pack (§2) ----

/** True when value v of field i fits: v >= offset and bitlen(v - offset) <= bits. */
export function fieldRepresentable(f: BkeyFormat, i: number, v: U64): boolean {
  const off = f.offsets[i] as U64;
  if (cmpPair(v, off) < 0) return false;
  return bitLenPair(subPair(v, off)) <= (f.bits[i] as number);
}

/** Index of the first field of `k` the format cannot represent, or -1. */
export function firstUnrepresentableField(f: BkeyFormat, k: Bkey): number {
  for (let i = 0; i < BKEY_NR_FIELDS; i++) if (!fieldRepresentable(f, i, k.fields[i] as U64)) return i;
  return -1;
}

/**
 * Pack `k` into dst[at .. at + 8*key_u64s). Returns -1 on success, else the index of the first
 * unrepresentable field (and writes nothing).
 */
export function packInto(f: BkeyFormat, k: Bkey, dst: Uint8Array, at: number): number {
  const bad = firstUnrepresentableField(f, k);
  if (bad >= 0) return bad;
  const words = new Uint32Array(2 * f.keyU64s);
  let top = 64 * f.keyU64s;
  for (let i = 0; i < BKEY_NR_FIELDS; i++) {
    const b = f.bits[i] as number;
    top -= b;
    if (b) orBits(words, top, b, subPair(k.fields[i] as U64, f.offsets[i] as U64));
  }
  const u64s = k.u64s - BKEY_U64S + f.keyU64s;
  words[0] = ((words[0] as number) | (u64s & 0xff) | ((k.needsWhiteout ? 0x80 : 0) << 8) | ((k.type & 0xff) << 16)) >>> 0;
  wordsToBytes(words, dst, at);
  return -1;
}

/** Pack one key or throw BkeyPackError naming the field (and `keyIndex` when given). */
export function packKey(f: BkeyFormat, k: Bkey, keyIndex?: number): Uint8Array {
  const out = new Uint8Array(8 * f.keyU64s);
  const bad = packInto(f, k, out, 0);
  if (bad >= 0) {
    const info = BKEY_FIELDS[bad] as BkeyFieldInfo;
    const v = k.fields[bad] as U64;
    const where = keyIndex === undefined ? 'key' : `key ${keyIndex}`;
    throw new BkeyPackError(`${where} is not representable: field ${info.name} = ${hex64(v.lo, v.hi)} does not fit ${f.bits[bad]} bits above offset ${hex64((f.offsets[bad] as U64).lo, (f.offsets[bad] as U64).hi)}`, {
      ...(keyIndex === undefined ? {} : { key: keyIndex }),
      field: info.name,
      value: hex64(v.lo, v.hi),
    });
  }
  return out;
}

// ---- generic unpack (the interpreter) ----

/**
 * Unpack the packed key at src[s..] into the 40-byte struct bkey at dst[d..].
 * The header becomes u64s + 5 - key_u64s, format 1 (needs_whiteout kept), pad 0.
 */
export function unpackGeneric(f: BkeyFormat, src: Uint8Array, s: number, dst: Uint8Array, d: number): void {
  const ku = f.keyU64s;
  const bits = f.bits;
  const offs = f.offsets;
  dst[d] = ((src[s] as number) + BKEY_U64S - ku) & 0xff;
  dst[d + 1] = ((src[s + 1] as number) & 0x80) | 1;
  dst[d + 2] = src[s + 2] as number;
  dst[d + 3] = 0;
  let p = s + 8 * (ku - 1);
  let bufHi = rd32(src, p + 4);
  let bufLo = rd32(src, p);
  let left = 64;
  for (let i = 0; i < BKEY_NR_FIELDS; i++) {
    const b = bits[i] as number;
    let vLo = 0;
    let vHi = 0;
    if (b !== 0) {
      // top b bits of the buffer (bits below `left` are already zero)
      const sh = 64 - b;
      if (sh >= 32) {
        vLo = bufHi >>> (sh - 32);
      } else if (sh === 0) {
        vLo = bufLo;
        vHi = bufHi;
      } else {
        vLo = ((bufLo >>> sh) | (bufHi << (32 - sh))) >>> 0;
        vHi = bufHi >>> sh;
      }
      let take = b;
      if (b > left) {
        take = b - left;
        p -= 8;
        bufHi = rd32(src, p + 4);
        bufLo = rd32(src, p);
        left = 64;
        const sh2 = 64 - take;
        if (sh2 >= 32) {
          vLo = (vLo | (bufHi >>> (sh2 - 32))) >>> 0;
        } else if (sh2 === 0) {
          vLo = bufLo;
          vHi = bufHi;
        } else {
          vLo = (vLo | (bufLo >>> sh2) | (bufHi << (32 - sh2))) >>> 0;
          vHi = (vHi | (bufHi >>> sh2)) >>> 0;
        }
      }
      left -= take;
      if (take >= 64) {
        bufHi = 0;
        bufLo = 0;
      } else if (take >= 32) {
        bufHi = (bufLo << (take - 32)) >>> 0;
        bufLo = 0;
      } else {
        bufHi = ((bufHi << take) | (bufLo >>> (32 - take))) >>> 0;
        bufLo = (bufLo << take) >>> 0;
      }
    }
    const off = offs[i] as U64;
    const lo = vLo + off.lo;
    const info = BKEY_FIELDS[i] as BkeyFieldInfo;
    const o = d + info.dstOffset;
    dst[o] = lo & 0xff;
    dst[o + 1] = (lo >>> 8) & 0xff;
    dst[o + 2] = (lo >>> 16) & 0xff;
    dst[o + 3] = (lo >>> 24) & 0xff;
    if (info.store === 8) {
      const hi = vHi + off.hi + (lo > 0xffffffff ? 1 : 0);
      dst[o + 4] = hi & 0xff;
      dst[o + 5] = (hi >>> 8) & 0xff;
      dst[o + 6] = (hi >>> 16) & 0xff;
      dst[o + 7] = (hi >>> 24) & 0xff;
    }
  }
}

/** Convenience: unpack into a fresh Bkey object. */
export function unpackKey(f: BkeyFormat, src: Uint8Array, s = 0): Bkey {
  const tmp = new Uint8Array(BKEY_BYTES);
  unpackGeneric(f, src, s, tmp, 0);
  return readBkey(tmp, 0);
}

/** Position fields only, read straight from the packed bits (no header work). */
export function unpackPos(f: BkeyFormat, src: Uint8Array, s: number): Bpos {
  const words = bytesToWords(src, s, f.keyU64s);
  let top = 64 * f.keyU64s;
  const out: U64[] = [];
  for (let i = 0; i < 3; i++) {
    const b = f.bits[i] as number;
    top -= b;
    const v = b ? getBits(words, top, b) : { lo: 0, hi: 0 };
    const sum = addPair(v, f.offsets[i] as U64);
    out.push({ lo: sum.lo, hi: i === 2 ? 0 : sum.hi });
  }
  return { inode: out[0] as U64, offset: out[1] as U64, snapshot: (out[2] as U64).lo };
}

// ---- lossy position pack (§2) ----

export type PackPosResult = 'exact' | 'smaller' | 'fail';

const POS_MAX = [maskPair(64), maskPair(64), maskPair(32)];

/**
 * Pack a search position so that the packed key compares <= the real position. Writes
 * 8*key_u64s bytes at dst[at] (header u64s = key_u64s, type 0, non-position fields 0) unless FAIL.
 */
export function packPosLossy(f: BkeyFormat, pos: Bpos, dst: Uint8Array, at: number): PackPosResult {
  const v: U64[] = [{ ...pos.inode }, { ...pos.offset }, { lo: pos.snapshot >>> 0, hi: 0 }];
  let smaller = false;
  const dec = (x: U64): U64 => subPair(x, { lo: 1, hi: 0 });
  const isZero = (x: U64): boolean => x.lo === 0 && x.hi === 0;
  if (cmpPair(v[2] as U64, f.offsets[2] as U64) < 0) {
    if (isZero(v[1] as U64)) {
      if (isZero(v[0] as U64)) return 'fail';
      v[0] = dec(v[0] as U64);
    }
    v[1] = dec(v[1] as U64);
    v[2] = POS_MAX[2] as U64;
    smaller = true;
  }
  if (cmpPair(v[1] as U64, f.offsets[1] as U64) < 0) {
    if (isZero(v[0] as U64)) return 'fail';
    v[0] = dec(v[0] as U64);
    v[1] = POS_MAX[1] as U64;
    v[2] = POS_MAX[2] as U64;
    smaller = true;
  }
  if (cmpPair(v[0] as U64, f.offsets[0] as U64) < 0) return 'fail';
  const words = new Uint32Array(2 * f.keyU64s);
  let top = 64 * f.keyU64s;
  let saturate = false;
  for (let i = 0; i < 3; i++) {
    const b = f.bits[i] as number;
    top -= b;
    let d: U64;
    if (saturate) d = maskPair(b);
    else {
      d = subPair(v[i] as U64, f.offsets[i] as U64);
      if (bitLenPair(d) > b) {
        d = maskPair(b);
        saturate = true;
        smaller = true;
      }
    }
    if (b) orBits(words, top, b, d);
  }
  words[0] = ((words[0] as number) | (f.keyU64s & 0xff)) >>> 0;
  wordsToBytes(words, dst, at);
  return smaller ? 'smaller' : 'exact';
}

// ---- packed comparison (§7) ----

/**
 * Compare the position bits (the top nr_key_bits) of two keys packed in the same format, as
 * unsigned big integers, most significant 32-bit word first. Header and other fields are ignored.
 */
export function comparePacked(f: BkeyFormat, a: Uint8Array, aAt: number, b: Uint8Array, bAt: number): number {
  let remaining = nrKeyBits(f);
  let p = 8 * f.keyU64s - 4;
  while (remaining > 0) {
    let x = rd32(a, aAt + p);
    let y = rd32(b, bAt + p);
    if (remaining < 32) {
      x >>>= 32 - remaining;
      y >>>= 32 - remaining;
    }
    if (x !== y) return x < y ? -1 : 1;
    remaining -= 32;
    p -= 4;
  }
  return 0;
}

export { bytesToWords, wordsToBytes };
