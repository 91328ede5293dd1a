// bcachefs `bkey_format`: the six key fields, their unpacked widths and places in `struct bkey`,
// format computation from a key set and format validation (reference/bkey.md §1, §3;
// bcachefs fs/btree/bkey.c, bkey_format_state / bch2_bkey_format_validate).
//
// Invariants:
// - A format has exactly six fields in packing order (inode, offset, snapshot, size, version_hi,
//   version_lo); a value is packed bits + offset (mod 2^64), kept to the unpacked width W.
// - A valid format has bits[i] <= W[i], offset[i] + mask(bits[i]) <= 2^W[i] - 1 and
//   key_u64s = ceil((24 + sum bits) / 64). `validateFormat` throws BkeyFormatError naming the field.
// - 64-bit quantities are lo/hi pairs (support/u64.ts); no BigInt here.

import { JitboxError, type ErrorDetails } from '../../support/errors.js';
import { hex64, type U64 } from '../../support/u64.js';
import {
  BKEY_BYTES,
  BKEY_FIELDS,
  BKEY_HEADER_BITS,
  BKEY_NR_FIELDS,
  BKEY_U64S,
  type BkeyFieldInfo,
  type BkeyFormat,
  fieldLsb,
  nrKeyBits,
} from '../../codegen/bkey/layout.js';

export { BKEY_FIELDS, BKEY_NR_FIELDS, BKEY_HEADER_BITS, BKEY_U64S, BKEY_BYTES, fieldLsb, nrKeyBits };
export type { BkeyFieldInfo, BkeyFormat };

export const FIELD_INODE = 0;
export const FIELD_OFFSET = 1;
export const FIELD_SNAPSHOT = 2;
export const FIELD_SIZE = 3;
export const FIELD_VERSION_HI = 4;
export const FIELD_VERSION_LO = 5;
/** Header format values: 0 = the node's packed format, 1 = current (unpacked). */
export const KEY_FORMAT_LOCAL_BTREE = 0;
export const KEY_FORMAT_CURRENT = 1;
/** On-disk size of struct bkey_format. */
export const BKEY_FORMAT_BYTES = 56;


/** A format or computation input is invalid; `details.field` names the field when there is one. */
export class BkeyFormatError extends JitboxError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('bkey-format', message, details);
  }
}

// ---- 64-bit pair helpers (exact, no BigInt) ----

export const U64_ZERO: U64 = Object.freeze({ lo: 0, hi: 0 });
export const U64_MAX: U64 = Object.freeze({ lo: 0xffffffff, hi: 0xffffffff });

/** mask(b) = 2^b - 1 for 0 <= b <= 64. */
export function maskPair(b: number): U64 {
  if (b <= 0) return { lo: 0, hi: 0 };
  if (b < 32) return { lo: (2 ** b - 1) >>> 0, hi: 0 };
  if (b === 32) return { lo: 0xffffffff, hi: 0 };
  return { lo: 0xffffffff, hi: b >= 64 ? 0xffffffff : (2 ** (b - 32) - 1) >>> 0 };
}

export function cmpPair(a: U64, b: U64): number {
  if (a.hi !== b.hi) return a.hi < b.hi ? -1 : 1;
  if (a.lo !== b.lo) return a.lo < b.lo ? -1 : 1;
  return 0;
}

/** (a + b) mod 2^64 and the carry out. */
export function addPair(a: U64, b: U64): { lo: number; hi: number; carry: boolean } {
  const lo = a.lo + b.lo;
  const c = lo > 0xffffffff ? 1 : 0;
  const hi = a.hi + b.hi + c;
  return { lo: lo >>> 0, hi: hi >>> 0, carry: hi > 0xffffffff };
}

/** (a - b) mod 2^64. */
export function subPair(a: U64, b: U64): U64 {
  const borrow = a.lo < b.lo ? 1 : 0;
  return { lo: (a.lo - b.lo) >>> 0, hi: (a.hi - b.hi - borrow) >>> 0 };
}

export function bitLenPair(a: U64): number {
  if (a.hi !== 0) return 64 - Math.clz32(a.hi);
  return 32 - Math.clz32(a.lo);
}

function minPair(a: U64, b: U64): U64 {
  return cmpPair(a, b) <= 0 ? a : b;
}

function maxPair(a: U64, b: U64): U64 {
  return cmpPair(a, b) >= 0 ? a : b;
}

// ---- format construction and validation ----

export function keyU64sFor(bits: readonly number[]): number {
  let total = BKEY_HEADER_BITS;
  for (const b of bits) total += b;
  return Math.ceil(total / 64);
}



/** Throws BkeyFormatError unless `f` satisfies every rule of §3 "Invalid format". */
export function validateFormat(f: BkeyFormat): void {
  if (f.bits.length !== BKEY_NR_FIELDS || f.offsets.length !== BKEY_NR_FIELDS) {
    throw new BkeyFormatError(`a format has ${BKEY_NR_FIELDS} fields, got ${f.bits.length} bits and ${f.offsets.length} offsets`, {
      nr_fields: f.bits.length,
    });
  }
  for (let i = 0; i < BKEY_NR_FIELDS; i++) {
    const info = BKEY_FIELDS[i] as BkeyFieldInfo;
    const b = f.bits[i] as number;
    const off = f.offsets[i] as U64;
    if (!Number.isInteger(b) || b < 0 || b > 255) {
      throw new BkeyFormatError(`field ${info.name}: bits must be an integer in [0, 255], got ${b}`, { field: info.name, bits: b });
    }
    if (b > info.width) {
      throw new BkeyFormatError(`field ${info.name} is ${b} bits wide, wider than its unpacked width ${info.width}`, {
        field: info.name,
        bits: b,
        width: info.width,
      });
    }
    const top = addPair(off, maskPair(b));
    if (top.carry || (info.width === 32 && top.hi !== 0)) {
      throw new BkeyFormatError(
        `field ${info.name}: offset ${hex64(off.lo, off.hi)} + mask(${b}) overflows its ${info.width}-bit unpacked width`,
        { field: info.name, bits: b, offset: hex64(off.lo, off.hi) },
      );
    }
  }
  const want = keyU64sFor(f.bits);
  if (f.keyU64s !== want) {
    throw new BkeyFormatError(`key_u64s is ${f.keyU64s} but the fields need ceil((24 + ${f.bits.reduce((a, b) => a + b, 0)})/64) = ${want}`, {
      field: 'key_u64s',
      key_u64s: f.keyU64s,
      expected: want,
    });
  }
}

/** Build and validate a format; key_u64s is derived when omitted. */
export function makeFormat(bits: readonly number[], offsets: readonly U64[], keyU64s?: number): BkeyFormat {
  const f: BkeyFormat = {
    keyU64s: keyU64s ?? keyU64sFor(bits),
    bits: Object.freeze([...bits]),
    offsets: Object.freeze(offsets.map((o) => Object.freeze({ lo: o.lo >>> 0, hi: o.hi >>> 0 }))),
  };
  validateFormat(f);
  return f;
}

/** The unpacked key seen as a packed key in the current format (§1): key_u64s 5, offsets 0. */
export const BKEY_FORMAT_CURRENT: BkeyFormat = makeFormat([64, 64, 32, 32, 32, 64], Array(6).fill(U64_ZERO) as U64[], 5);

// ---- format computation (§3) ----

export interface BposPairs {
  readonly inode: U64;
  readonly offset: U64;
  readonly snapshot: number;
}

/** Anything with six field values in packing order and a type (0 = deleted). */
export interface FormatInputKey {
  readonly type: number;
  readonly fields: readonly U64[];
}

export interface ComputeFormatOptions {
  /** The historical "+4 bits of size" for extent merging (2017 .. May 2026). */
  sizeExtraBits?: boolean;
}

/** Clamp of setField: width to W, offset so that offset + mask(b) stays within 2^W - 1. */
function setField(bits: number[], offsets: U64[], i: number, b: number, off: U64): void {
  const w = (BKEY_FIELDS[i] as BkeyFieldInfo).width;
  const bb = Math.min(b, w);
  bits[i] = bb;
  if (bb === w) {
    offsets[i] = { lo: 0, hi: 0 };
  } else {
    const limit = subPair(maskPair(w), maskPair(bb));
    offsets[i] = minPair(off, limit);
  }
}

/**
 * Compute the smallest format for a node holding `keys` between `minKey` and `maxKey`, following
 * bcachefs's bkey_format_state: ranges per field, widths from the ranges, then byte rounding of
 * fields while spare bits remain in the last word.
 */
export function computeFormat(
  keys: readonly FormatInputKey[],
  minKey: BposPairs,
  maxKey: BposPairs,
  opts: ComputeFormatOptions = {},
): BkeyFormat {
  const lo: U64[] = [];
  const hi: U64[] = [];
  for (let i = 0; i < BKEY_NR_FIELDS; i++) {
    lo.push(i === FIELD_SIZE ? U64_ZERO : U64_MAX);
    hi.push(U64_ZERO);
  }
  const feed = (i: number, v: U64): void => {
    lo[i] = minPair(lo[i] as U64, v);
    hi[i] = maxPair(hi[i] as U64, v);
  };
  for (const p of [minKey, maxKey]) {
    feed(FIELD_INODE, p.inode);
    feed(FIELD_OFFSET, p.offset);
    feed(FIELD_SNAPSHOT, { lo: p.snapshot >>> 0, hi: 0 });
  }
  keys.forEach((k, idx) => {
    if (k.type === 0) return;
    if (k.fields.length !== BKEY_NR_FIELDS) throw new BkeyFormatError(`key ${idx} has ${k.fields.length} fields`, { key: idx });
    for (let i = 0; i < BKEY_NR_FIELDS; i++) {
      const v = k.fields[i] as U64;
      if ((BKEY_FIELDS[i] as BkeyFieldInfo).width === 32 && v.hi !== 0) {
        throw new BkeyFormatError(`key ${idx}: field ${(BKEY_FIELDS[i] as BkeyFieldInfo).name} exceeds 32 bits`, {
          key: idx,
          field: (BKEY_FIELDS[i] as BkeyFieldInfo).name,
        });
      }
      feed(i, v);
    }
  });
  const bits: number[] = [0, 0, 0, 0, 0, 0];
  const offsets: U64[] = [U64_ZERO, U64_ZERO, U64_ZERO, U64_ZERO, U64_ZERO, U64_ZERO];
  let total = BKEY_HEADER_BITS;
  for (let i = 0; i < BKEY_NR_FIELDS; i++) {
    const base = minPair(lo[i] as U64, hi[i] as U64);
    setField(bits, offsets, i, bitLenPair(subPair(hi[i] as U64, base)), base);
    total += bits[i] as number;
  }
  if (opts.sizeExtraBits && (bits[FIELD_SIZE] as number) > 0) {
    const e = Math.min(4, 32 - (bits[FIELD_SIZE] as number));
    setField(bits, offsets, FIELD_SIZE, (bits[FIELD_SIZE] as number) + e, offsets[FIELD_SIZE] as U64);
    total += e;
  }
  const keyU64s = Math.ceil(total / 64);
  let spare = 64 * keyU64s - total;
  for (let i = 0; i < BKEY_NR_FIELDS; i++) {
    const b = bits[i] as number;
    const r = Math.ceil(b / 8) * 8 - b;
    if (r <= spare) {
      setField(bits, offsets, i, b + r, offsets[i] as U64);
      spare -= r;
    }
  }
  return makeFormat(bits, offsets, keyU64s);
}

/** Serialise as the on-disk 56-byte struct bkey_format: key_u64s, nr_fields, bits[6], le64 offset[6] at 8. */
export function encodeFormat(f: BkeyFormat, dst: Uint8Array = new Uint8Array(BKEY_FORMAT_BYTES), at = 0): Uint8Array {
  dst[at] = f.keyU64s;
  dst[at + 1] = BKEY_NR_FIELDS;
  for (let i = 0; i < BKEY_NR_FIELDS; i++) {
    dst[at + 2 + i] = f.bits[i] as number;
    const o = f.offsets[i] as U64;
    const p = at + 8 + 8 * i;
    for (let k = 0; k < 4; k++) {
      dst[p + k] = (o.lo >>> (8 * k)) & 0xff;
      dst[p + 4 + k] = (o.hi >>> (8 * k)) & 0xff;
    }
  }
  return dst;
}

export function formatToJson(f: BkeyFormat): { key_u64s: number; bits_per_field: number[]; field_offset: string[] } {
  return {
    key_u64s: f.keyU64s,
    bits_per_field: [...f.bits],
    field_offset: f.offsets.map((o) => hex64(o.lo, o.hi)),
  };
}

export function formatToString(f: BkeyFormat): string {
  const parts = BKEY_FIELDS.map((info, i) => {
    const o = f.offsets[i] as U64;
    return `${info.name}:${f.bits[i]}${o.lo || o.hi ? `+${hex64(o.lo, o.hi).replace(/^0x0+(?=.)/, '0x')}` : ''}`;
  });
  return `key_u64s ${f.keyU64s} {${parts.join(' ')}}`;
}
