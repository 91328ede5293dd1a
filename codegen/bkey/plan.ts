// Per-field instruction selection of bcachefs's compiled unpacker (reference/bkey.md §4;
// bcachefs fs/btree/bkey.c, bch2_compile_bkey_format), as data every backend lowers: x86_64 emits
// it byte-exact, WebAssembly and arm64 map each case onto their own loads and shifts.
//
// Invariants:
// - Cases in field order: A (no bits, no offset: store zero), B (no bits: store the offset),
//   C1 byte load, C2 halfword load, C3 32-bit window, C4 64-bit window, C5 96-bit window (two loads).
// - Loads move back to a 4- or 8-byte boundary while the field still fits ("load alignment",
//   2017), so every load stays inside [src, src + 8*key_u64s).
// - `addKind` follows the x86 rule: movabs for offsets > 2^31-1, a sign-extended imm32 add on rax
//   when offset + mask(bits) exceeds 32 bits (this includes the `add rax,0` quirk at offset 0 and
//   bits >= 33), a 32-bit add for other non-zero offsets.

import type { U64 } from '../../support/u64.js';
import { BKEY_FIELDS, BKEY_NR_FIELDS, type BkeyFieldInfo, type BkeyFormat, fieldLsb } from './layout.js';

export type AddKind = 'none' | 'add32' | 'add64imm32' | 'movabs';

export type FieldPlan =
  | { readonly kind: 'A'; readonly field: number }
  | { readonly kind: 'B'; readonly field: number; readonly value: U64 }
  | {
      readonly kind: 'C1' | 'C2' | 'C3' | 'C4' | 'C5';
      readonly field: number;
      readonly bits: number;
      /** Byte offset of the (first) load within the packed key. */
      readonly byte: number;
      /** C3: right shift after a 32-bit load; C5: the funnel shift s. */
      readonly shift: number;
      /** C4: left shift that drops bits above the field (64 - o - b). */
      readonly shl: number;
      /** C3: mask after the shift (0 when the field reaches bit 31). C4/C5: final right shift 64 - b. */
      readonly shr: number;
      readonly mask: boolean;
      readonly add: U64;
      readonly addKind: AddKind;
    };

export interface UnpackPlan {
  readonly keyU64s: number;
  /** The prologue's add: (5 - key_u64s) | 0x100. */
  readonly headerAdd: number;
  readonly fields: readonly FieldPlan[];
}

function addKindFor(off: U64, bits: number): AddKind {
  if (off.hi !== 0 || off.lo > 0x7fffffff) return 'movabs';
  const maskHiNonZero = bits > 32;
  const sum = off.lo + (bits >= 32 ? 0xffffffff : 2 ** bits - 1);
  if (maskHiNonZero || sum > 0xffffffff) return 'add64imm32';
  return off.lo !== 0 ? 'add32' : 'none';
}

export function planUnpack(f: BkeyFormat): UnpackPlan {
  const fields: FieldPlan[] = [];
  for (let i = 0; i < BKEY_NR_FIELDS; i++) {
    const b = f.bits[i] as number;
    const off = f.offsets[i] as U64;
    if (b === 0) {
      fields.push(off.lo === 0 && off.hi === 0 ? { kind: 'A', field: i } : { kind: 'B', field: i, value: { lo: off.lo, hi: off.hi } });
      continue;
    }
    const L = fieldLsb(f, i);
    let B = L >> 3;
    let o = L & 7;
    const common = { field: i, bits: b, add: { lo: off.lo, hi: off.hi }, addKind: addKindFor(off, b) };
    if (o === 0 && b === 8) {
      fields.push({ kind: 'C1', ...common, byte: B, shift: 0, shl: 0, shr: 0, mask: false });
    } else if (o === 0 && b === 16) {
      fields.push({ kind: 'C2', ...common, byte: B, shift: 0, shl: 0, shr: 0, mask: false });
    } else if (o + b <= 32) {
      const a = Math.min(4 - Math.ceil((o + b) / 8), B & 3);
      B -= a;
      o += 8 * a;
      fields.push({ kind: 'C3', ...common, byte: B, shift: o, shl: 0, shr: 0, mask: o + b < 32 });
    } else if (o + b <= 64) {
      const a = Math.min(8 - Math.ceil((o + b) / 8), B & 7);
      B -= a;
      o += 8 * a;
      fields.push({ kind: 'C4', ...common, byte: B, shift: 0, shl: 64 - o - b, shr: 64 - b, mask: false });
    } else {
      const a = B & 3;
      B -= a;
      o += 8 * a;
      fields.push({ kind: 'C5', ...common, byte: B, shift: o + b - 64, shl: 0, shr: 64 - b, mask: false });
    }
  }
  return { keyU64s: f.keyU64s, headerAdd: (5 - f.keyU64s) | 0x100, fields };
}

export function fieldInfo(i: number): BkeyFieldInfo {
  return BKEY_FIELDS[i] as BkeyFieldInfo;
}
