// Seeded key and format generators: realistic btree contents (extents, inodes, dirents) shaped like
// bcachefs's btrees (reference/bkey.md §4 observed formats, §8 key sizes), plus random valid formats
// and representable keys for fuzzing.
//
// Invariants: every generator draws only from the Rng it is given (same seed, same keys); realistic
// key sets are sorted by position with distinct positions, and their minKey/maxKey bound every key.
// - extents: few clustered inodes, increasing offsets (an extent's position is its end) from
//   anywhere in a 4 GiB file, sizes in sectors, snapshot U32_MAX, version 0, a 2-u64 value (one
//   pointer); the node's min_key starts its first inode at offset 0.
// - inodes: the inode number lives in p.offset (p.inode = 0), snapshot U32_MAX, ~12-u64 values.
// - dirents: p.inode = directory inode, p.offset = 64-bit name hash, ~4-u64 values.

import type { Rng } from '../../support/rng.js';
import type { U64 } from '../../support/u64.js';
import {
  BKEY_FIELDS,
  BKEY_NR_FIELDS,
  type BkeyFieldInfo,
  type BkeyFormat,
  addPair,
  cmpPair,
  computeFormat,
  makeFormat,
  maskPair,
  subPair,
} from './format.js';
import { type Bkey, type Bpos, bkeyPos, compareBpos, makeBkey } from './pack.js';

export type KeyFamily = 'extents' | 'inodes' | 'dirents';
export const KEY_FAMILIES: readonly KeyFamily[] = ['extents', 'inodes', 'dirents'];

export interface KeySet {
  family: KeyFamily | 'random';
  keys: Bkey[];
  /** Value bytes of each key (length 8 * (u64s - 5)). */
  values: Uint8Array[];
  minKey: Bpos;
  maxKey: Bpos;
}

const U32_MAX = 0xffffffff;

function pairFromNumber(n: number): U64 {
  return { lo: n >>> 0, hi: Math.floor(n / 0x100000000) >>> 0 };
}

function valueBytes(rng: Rng, u64s: number): Uint8Array {
  return rng.bytes(8 * u64s);
}

function finish(family: KeyFamily, rng: Rng, keys: Bkey[], zeroMinOffset = false): KeySet {
  keys.sort((a, b) => compareBpos(bkeyPos(a), bkeyPos(b)));
  const uniq: Bkey[] = [];
  for (const k of keys) {
    const last = uniq[uniq.length - 1];
    if (!last || compareBpos(bkeyPos(last), bkeyPos(k)) !== 0) uniq.push(k);
  }
  const values = uniq.map((k) => valueBytes(rng, k.u64s - 5));
  const first = bkeyPos(uniq[0] as Bkey);
  const minKey = zeroMinOffset ? { ...first, offset: { lo: 0, hi: 0 } } : first;
  return { family, keys: uniq, values, minKey, maxKey: bkeyPos(uniq[uniq.length - 1] as Bkey) };
}

/** Extents of `nrInodes` clustered files: offsets increase within a file, sizes 8..128 sectors. */
export function genExtents(rng: Rng, n: number, nrInodes = 64): KeySet {
  const base = 4096 + rng.below(1 << 20);
  const inodes: number[] = [];
  for (let i = 0; i < nrInodes; i++) inodes.push(base + rng.below(Math.max(1, nrInodes * 3)));
  const perInode = Math.max(1, Math.ceil(n / nrInodes));
  const keys: Bkey[] = [];
  for (const ino of new Set(inodes)) {
    let end = rng.below(1 << 23);
    for (let j = 0; j < perInode && keys.length < n; j++) {
      const size = 8 * rng.int(1, 16);
      end += size + (rng.bool(0.2) ? 8 * rng.below(64) : 0);
      keys.push(makeBkey({ inode: pairFromNumber(ino), offset: pairFromNumber(end), snapshot: U32_MAX, size, versionHi: 0, versionLo: { lo: 0, hi: 0 } }, 1, 2));
    }
  }
  return finish('extents', rng, keys, true);
}

/** Inode keys: inode numbers (in p.offset) increasing with gaps. */
export function genInodes(rng: Rng, n: number): KeySet {
  let inum = 4096 + rng.below(1 << 16);
  const keys: Bkey[] = [];
  for (let i = 0; i < n; i++) {
    inum += 1 + (rng.bool(0.3) ? rng.below(32) : 0);
    keys.push(makeBkey({ inode: { lo: 0, hi: 0 }, offset: pairFromNumber(inum), snapshot: U32_MAX, size: 0, versionHi: 0, versionLo: { lo: 0, hi: 0 } }, 4, 12));
  }
  return finish('inodes', rng, keys);
}

/** Directory entries: a few directories, names hashed to random 64-bit offsets. */
export function genDirents(rng: Rng, n: number, nrDirs = 16): KeySet {
  const base = 4096 + rng.below(1 << 16);
  const keys: Bkey[] = [];
  for (let i = 0; i < n; i++) {
    const dir = base + rng.below(Math.min(255, nrDirs * 8));
    keys.push(makeBkey({ inode: pairFromNumber(dir), offset: { lo: rng.u32(), hi: rng.u32() }, snapshot: U32_MAX, size: 0, versionHi: 0, versionLo: { lo: 0, hi: 0 } }, 2, rng.int(3, 6)));
  }
  return finish('dirents', rng, keys);
}

export function genFamily(family: KeyFamily, rng: Rng, n: number): KeySet {
  switch (family) {
    case 'extents':
      return genExtents(rng, n);
    case 'inodes':
      return genInodes(rng, n);
    case 'dirents':
      return genDirents(rng, n);
  }
}

/** The format bcachefs would compute for a key set (its node bounds included). */
export function formatForKeySet(ks: KeySet, sizeExtraBits = false): BkeyFormat {
  return computeFormat(ks.keys, ks.minKey, ks.maxKey, { sizeExtraBits });
}

// ---- random formats and keys for fuzzing ----

function randomBelowMask(rng: Rng, b: number): U64 {
  const m = maskPair(b);
  switch (rng.below(4)) {
    case 0:
      return { lo: 0, hi: 0 };
    case 1:
      return m;
    default:
      return { lo: (rng.u32() & m.lo) >>> 0, hi: (rng.u32() & m.hi) >>> 0 };
  }
}

/** A random valid format: widths biased to 0, bytes and full width; offsets kept in range. */
export function randomFormat(rng: Rng): BkeyFormat {
  const bits: number[] = [];
  const offsets: U64[] = [];
  for (let i = 0; i < BKEY_NR_FIELDS; i++) {
    const w = (BKEY_FIELDS[i] as BkeyFieldInfo).width;
    const r = rng.below(8);
    const b = r === 0 ? 0 : r === 1 ? w : r === 2 ? 8 * rng.int(0, w / 8) : rng.int(0, w);
    bits.push(b);
    const room = subPair(maskPair(w), maskPair(b));
    const o = rng.below(3) === 0 ? { lo: 0, hi: 0 } : randomBelowMask(rng, 64);
    offsets.push(b === w ? { lo: 0, hi: 0 } : cmpPair(o, room) <= 0 ? o : { lo: (o.lo & room.lo) >>> 0, hi: (o.hi & room.hi) >>> 0 });
  }
  return makeFormat(bits, offsets);
}

/** A random key every field of which `f` represents. */
export function randomKeyFor(rng: Rng, f: BkeyFormat): Bkey {
  const fields: U64[] = [];
  for (let i = 0; i < BKEY_NR_FIELDS; i++) {
    const d = randomBelowMask(rng, f.bits[i] as number);
    const s = addPair(d, f.offsets[i] as U64);
    fields.push({ lo: s.lo, hi: s.hi });
  }
  return { u64s: 5 + rng.below(8), format: 1, needsWhiteout: rng.bool(), type: rng.int(0, 255), fields };
}

/** A random key of arbitrary field values (often unrepresentable in a given format). */
export function randomAnyKey(rng: Rng): Bkey {
  const fields: U64[] = [];
  for (let i = 0; i < BKEY_NR_FIELDS; i++) {
    const w = (BKEY_FIELDS[i] as BkeyFieldInfo).width;
    fields.push({ lo: rng.u32(), hi: w === 64 ? rng.u32() : 0 });
  }
  return { u64s: 5 + rng.below(4), format: 1, needsWhiteout: rng.bool(), type: rng.int(1, 255), fields };
}

/**
 * A format as bcachefs would compute it (byte-rounded, clamped) for a few random keys whose
 * fields vary within random ranges: the "random dense formats" of reference/bkey.md §6.
 */
export function randomComputedFormat(rng: Rng, sizeExtraBits = false): { format: BkeyFormat; keys: Bkey[] } {
  const bases: U64[] = [];
  const spans: number[] = [];
  for (let i = 0; i < BKEY_NR_FIELDS; i++) {
    const w = (BKEY_FIELDS[i] as BkeyFieldInfo).width;
    bases.push(rng.bool(0.3) ? { lo: 0, hi: 0 } : { lo: rng.u32(), hi: w === 64 ? rng.u32() >>> rng.below(32) : 0 });
    spans.push(rng.pick([0, 0, 1, 4, 8, 12, 16, 20, 24, 31, 32, 40, 48, 56, 64].filter((b) => b <= w)));
  }
  const keys: Bkey[] = [];
  const n = rng.int(2, 8);
  for (let k = 0; k < n; k++) {
    const fields: U64[] = [];
    for (let i = 0; i < BKEY_NR_FIELDS; i++) {
      const w = (BKEY_FIELDS[i] as BkeyFieldInfo).width;
      const d = randomBelowMask(rng, spans[i] as number);
      const s = addPair(bases[i] as U64, d);
      fields.push(w === 32 ? { lo: s.lo, hi: 0 } : { lo: s.lo, hi: s.hi });
    }
    keys.push({ u64s: 5 + rng.below(4), format: 1, needsWhiteout: rng.bool(), type: rng.int(1, 255), fields });
  }
  keys.sort((a, b) => compareBpos(bkeyPos(a), bkeyPos(b)));
  const format = computeFormat(keys, bkeyPos(keys[0] as Bkey), bkeyPos(keys[keys.length - 1] as Bkey), { sizeExtraBits });
  return { format, keys };
}
