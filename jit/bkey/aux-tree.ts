// The lookup tables bcachefs keeps in a btree node's aux_data (reference/bkey.md §8; bcachefs
// fs/btree/bset.c): the read-only eytzinger tree of 4-byte bkey_float entries over 256-byte
// blocks of a written bset, and the read-write tree of 24-byte unpacked positions.
//
// Invariants:
// - Eytzinger, 1-based: children of n are 2n and 2n+1, index 0 unused; a tree of `size` slots
//   holds nodes 1..size-1 whose in-order indices 1..size-1 are blocks 1..size-1 (block 0 is the
//   bset start and has no entry).
// - bkey_float: byte 0 exponent (LSB of the 16-bit mantissa window in key bits; 255 = failed),
//   byte 1 key_offset (u64s from the block start to its first key), bytes 2-3 mantissa (LE).
//   The window's top bit is max(top differing bit of the bounding keys l and r, lowest key bit +
//   min(16, nr_key_bits) - 1); mantissa bits below the lowest key bit are ones. An entry fails when
//   l, r or its own key is stored unpacked, or its exponent would not fit below 255.
// - RW entry: u16 offset (u64s from the bset's first key), u16 pad, u32 snapshot, u64 offset,
//   u64 inode (the bpos little-endian), 24 bytes.

import type { U64 } from '../../support/u64.js';
import type { BkeyFormat } from './format.js';
import { nrKeyBits } from './format.js';
import { type Bpos, rd32, wr32 } from './pack.js';

export const BSET_CACHELINE = 256;
export const BFLOAT_BYTES = 4;
export const BFLOAT_FAILED = 255;
export const RW_ENTRY_BYTES = 24;
/** bset_tree.extra values marking the tree kind (bcachefs). */
export const BSET_NO_AUX_TREE = 0xffff;
export const BSET_RW_AUX_TREE = 0xfffe;

const inorderCache = new Map<number, Uint16Array>();

/** In-order index (1-based) of every eytzinger node 1..size-1. */
export function eytzingerInorder(size: number): Uint16Array {
  let t = inorderCache.get(size);
  if (t) return t;
  t = new Uint16Array(Math.max(size, 1));
  let next = 1;
  const stack: number[] = [];
  let n = 1;
  while (stack.length > 0 || n < size) {
    while (n < size) {
      stack.push(n);
      n = 2 * n;
    }
    const top = stack.pop() as number;
    t[top] = next++;
    n = 2 * top + 1;
  }
  inorderCache.set(size, t);
  return t;
}

const nodeCache = new Map<number, Uint16Array>();

/** Eytzinger node of every in-order index 1..size-1 (the inverse of eytzingerInorder). */
export function eytzingerFromInorder(size: number): Uint16Array {
  let t = nodeCache.get(size);
  if (t) return t;
  const inorder = eytzingerInorder(size);
  t = new Uint16Array(Math.max(size, 1));
  for (let n = 1; n < size; n++) t[inorder[n] as number] = n;
  nodeCache.set(size, t);
  return t;
}

/** Bits [at, at+16) of a key part held in bytes (at >= 0, at + 16 <= 64*key_u64s). */
export function bits16(src: Uint8Array, s: number, at: number): number {
  const byte = at >>> 3;
  const sh = at & 7;
  const w = (src[s + byte] as number) | ((src[s + byte + 1] as number) << 8) | (((src[s + byte + 2] ?? 0) as number) << 16);
  return (w >>> sh) & 0xffff;
}

/** The highest position bit where two packed keys differ, or -1. */
export function topDifferingBit(f: BkeyFormat, a: Uint8Array, aAt: number, b: Uint8Array, bAt: number): number {
  const lowest = 64 * f.keyU64s - nrKeyBits(f);
  for (let w = 2 * f.keyU64s - 1; w >= 0; w--) {
    const x = (rd32(a, aAt + 4 * w) ^ rd32(b, bAt + 4 * w)) >>> 0;
    if (x === 0) continue;
    const bit = 32 * w + 31 - Math.clz32(x);
    return bit >= lowest ? bit : -1;
  }
  return -1;
}

export interface BfloatInput {
  /** Bytes and offsets of the bounding keys and of the node's own key; null = stored unpacked. */
  l: { bytes: Uint8Array; at: number } | null;
  r: { bytes: Uint8Array; at: number } | null;
  k: { bytes: Uint8Array; at: number } | null;
}

/** Exponent and mantissa of one entry (exponent 255 = failed). */
export function makeBfloat(f: BkeyFormat, e: BfloatInput): { exponent: number; mantissa: number } {
  const nkb = nrKeyBits(f);
  if (!e.l || !e.r || !e.k || nkb === 0) return { exponent: BFLOAT_FAILED, mantissa: 0 };
  const lowest = 64 * f.keyU64s - nkb;
  const d = topDifferingBit(f, e.l.bytes, e.l.at, e.r.bytes, e.r.at);
  const high = Math.max(d, lowest + Math.min(16, nkb) - 1);
  const exponent = high - 15;
  if (exponent >= BFLOAT_FAILED) return { exponent: BFLOAT_FAILED, mantissa: 0 };
  let mantissa = bits16(e.k.bytes, e.k.at, exponent);
  if (exponent < lowest) mantissa |= (1 << (lowest - exponent)) - 1;
  return { exponent, mantissa };
}

export function writeBfloat(aux: Uint8Array, at: number, exponent: number, keyOffset: number, mantissa: number): void {
  aux[at] = exponent;
  aux[at + 1] = keyOffset;
  aux[at + 2] = mantissa & 0xff;
  aux[at + 3] = mantissa >>> 8;
}

export function writeRwEntry(aux: Uint8Array, at: number, offsetU64s: number, p: Bpos): void {
  aux[at] = offsetU64s & 0xff;
  aux[at + 1] = offsetU64s >>> 8;
  aux[at + 2] = 0;
  aux[at + 3] = 0;
  wr32(aux, at + 4, p.snapshot);
  wr32(aux, at + 8, p.offset.lo);
  wr32(aux, at + 12, p.offset.hi);
  wr32(aux, at + 16, p.inode.lo);
  wr32(aux, at + 20, p.inode.hi);
}

export function readRwEntry(aux: Uint8Array, at: number): { offsetU64s: number; pos: Bpos } {
  const inode: U64 = { lo: rd32(aux, at + 16), hi: rd32(aux, at + 20) };
  const offset: U64 = { lo: rd32(aux, at + 8), hi: rd32(aux, at + 12) };
  return { offsetU64s: (aux[at] as number) | ((aux[at + 1] as number) << 8), pos: { inode, offset, snapshot: rd32(aux, at + 4) } };
}
