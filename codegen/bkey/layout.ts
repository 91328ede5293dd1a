// The bcachefs key layout every unpacker generator works from (reference/bkey.md §1): the six
// fields in packing order with their unpacked width, place in the 40-byte struct bkey and store
// size, and the bit position of each packed field. Data only; jit/bkey/format.ts builds on it.
//
// Invariants: fields fill the key part from its top bit down in this order; lsb(i) =
// 64*key_u64s - (bits[0] + ... + bits[i]); the header is bits 0..23 of word 0.

import type { U64 } from '../../support/u64.js';

export interface BkeyFieldInfo {
  readonly name: 'inode' | 'offset' | 'snapshot' | 'size' | 'version_hi' | 'version_lo';
  /** The member of struct bkey this field unpacks into. */
  readonly member: string;
  /** Unpacked width W in bits. */
  readonly width: 32 | 64;
  /** Byte offset of the member in the 40-byte unpacked struct bkey. */
  readonly dstOffset: number;
  /** Bytes stored by an unpacker (8 for 64-bit members, 4 for 32-bit ones). */
  readonly store: 4 | 8;
}

/** The field table of §1, in packing order. */
export const BKEY_FIELDS: readonly BkeyFieldInfo[] = [
  { name: 'inode', member: 'p.inode', width: 64, dstOffset: 32, store: 8 },
  { name: 'offset', member: 'p.offset', width: 64, dstOffset: 24, store: 8 },
  { name: 'snapshot', member: 'p.snapshot', width: 32, dstOffset: 20, store: 4 },
  { name: 'size', member: 'size', width: 32, dstOffset: 16, store: 4 },
  { name: 'version_hi', member: 'bversion.hi', width: 32, dstOffset: 12, store: 4 },
  { name: 'version_lo', member: 'bversion.lo', width: 64, dstOffset: 4, store: 8 },
];

export const BKEY_NR_FIELDS = 6;
/** Bits of the packed header (u64s, format:7 + needs_whiteout:1, type) at the bottom of word 0. */
export const BKEY_HEADER_BITS = 24;
/** Size of the unpacked struct bkey in u64s and bytes. */
export const BKEY_U64S = 5;
export const BKEY_BYTES = 40;

export interface BkeyFormat {
  readonly keyU64s: number;
  readonly bits: readonly number[];
  readonly offsets: readonly U64[];
}

/** Bit index (within the key part) of field i's least significant bit. */
export function fieldLsb(f: BkeyFormat, i: number): number {
  let sum = 0;
  for (let j = 0; j <= i; j++) sum += f.bits[j] as number;
  return 64 * f.keyU64s - sum;
}

/** Sum of the position fields' bits (inode, offset, snapshot). */
export function nrKeyBits(f: BkeyFormat): number {
  return (f.bits[0] as number) + (f.bits[1] as number) + (f.bits[2] as number);
}
