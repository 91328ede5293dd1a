// The 2026 byte-aligned unpacker with precomputed per-field constants (reference/bkey.md §6;
// bcachefs fs/btree/bkey.c, May 2026, little-endian only).
//
// Invariants:
// - Applies only when every non-empty field ends on a byte boundary (msb % 8 == 7); otherwise the
//   node uses the interpreter (`byteAlignedPlan` returns null).
// - Per field: {byteOffset, shiftRight}; an unaligned 8-byte load at key + byteOffset puts the
//   field's top byte at the top of the register, `>> shiftRight` leaves the field. bits = 0 uses
//   the sentinel shiftRight = 64 (value = offset).
// - It reads up to 8 bytes before the key (byteOffset >= -7 here; real formats reach -4, plus 1 for
//   the header load at key - 1): callers keep readable bytes before every key (a bset header does).
// - 64-bit loads and shifts are two 32-bit halves; no BigInt.

import type { U64 } from '../../support/u64.js';
import { BKEY_FIELDS, BKEY_NR_FIELDS, BKEY_U64S, type BkeyFieldInfo, type BkeyFormat, fieldLsb } from './format.js';
import { rd32 } from './pack.js';

export interface ByteAlignedPlan {
  readonly keyU64s: number;
  readonly byteOffset: Int8Array;
  readonly shiftRight: Uint8Array;
  readonly offLo: Uint32Array;
  readonly offHi: Uint32Array;
  /** (5 - key_u64s) | 0x100: added to the header word. */
  readonly headerAdd: number;
}

/** Bytes the unpacker may read before the key. */
export const BYTE_ALIGNED_READ_BEFORE = 8;

/** True when every non-empty field's msb is bit 7 of a byte. */
export function byteAlignedApplies(f: BkeyFormat): boolean {
  for (let i = 0; i < BKEY_NR_FIELDS; i++) {
    const b = f.bits[i] as number;
    if (b === 0) continue;
    const msb = fieldLsb(f, i) + b - 1;
    if (msb % 8 !== 7) return false;
  }
  return true;
}

/** The precomputed constants, or null when the format does not qualify. */
export function byteAlignedPlan(f: BkeyFormat): ByteAlignedPlan | null {
  if (!byteAlignedApplies(f)) return null;
  const byteOffset = new Int8Array(BKEY_NR_FIELDS);
  const shiftRight = new Uint8Array(BKEY_NR_FIELDS);
  const offLo = new Uint32Array(BKEY_NR_FIELDS);
  const offHi = new Uint32Array(BKEY_NR_FIELDS);
  for (let i = 0; i < BKEY_NR_FIELDS; i++) {
    const b = f.bits[i] as number;
    const o = f.offsets[i] as U64;
    offLo[i] = o.lo;
    offHi[i] = o.hi;
    if (b === 0) {
      byteOffset[i] = 0;
      shiftRight[i] = 64;
      continue;
    }
    const msb = fieldLsb(f, i) + b - 1;
    byteOffset[i] = (msb + 1) / 8 - 8;
    shiftRight[i] = 64 - b;
  }
  return { keyU64s: f.keyU64s, byteOffset, shiftRight, offLo, offHi, headerAdd: (BKEY_U64S - f.keyU64s) | 0x100 };
}

/**
 * Unpack the key at src[s..] into the struct bkey at dst[d..] using the plan. src must hold
 * readable bytes from s - BYTE_ALIGNED_READ_BEFORE.
 */
export function unpackByteAligned(plan: ByteAlignedPlan, src: Uint8Array, s: number, dst: Uint8Array, d: number): void {
  const h = ((rd32(src, s - 1) >>> 8) + plan.headerAdd) >>> 0;
  dst[d] = h & 0xff;
  dst[d + 1] = (h >>> 8) & 0xff;
  dst[d + 2] = (h >>> 16) & 0xff;
  dst[d + 3] = h >>> 24;
  const bo = plan.byteOffset;
  const sr = plan.shiftRight;
  for (let i = 0; i < BKEY_NR_FIELDS; i++) {
    const shift = sr[i] as number;
    let vLo = 0;
    let vHi = 0;
    if (shift !== 64) {
      const p = s + (bo[i] as number);
      const lo = rd32(src, p);
      const hi = rd32(src, p + 4);
      if (shift >= 32) {
        vLo = hi >>> (shift - 32);
      } else if (shift === 0) {
        vLo = lo;
        vHi = hi;
      } else {
        vLo = ((lo >>> shift) | (hi << (32 - shift))) >>> 0;
        vHi = hi >>> shift;
      }
    }
    const sumLo = vLo + (plan.offLo[i] as number);
    const info = BKEY_FIELDS[i] as BkeyFieldInfo;
    const o = d + info.dstOffset;
    dst[o] = sumLo & 0xff;
    dst[o + 1] = (sumLo >>> 8) & 0xff;
    dst[o + 2] = (sumLo >>> 16) & 0xff;
    dst[o + 3] = (sumLo >>> 24) & 0xff;
    if (info.store === 8) {
      const sumHi = vHi + (plan.offHi[i] as number) + (sumLo > 0xffffffff ? 1 : 0);
      dst[o + 4] = sumHi & 0xff;
      dst[o + 5] = (sumHi >>> 8) & 0xff;
      dst[o + 6] = (sumHi >>> 16) & 0xff;
      dst[o + 7] = (sumHi >>> 24) & 0xff;
    }
  }
}
