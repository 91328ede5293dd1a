// A bcachefs btree node in memory (reference/bkey.md §8; bcachefs fs/btree/bset.c, btree_types.h):
// node bytes with up to three bsets of packed keys and inline values, the per-node aux_data
// region with the optional compiled unpack function and each bset's lookup table, and lookup of
// a search position (lossy pack, tree walk, forward scan, merge of the bset cursors).
//
// Invariants:
// - Plain byte model: `data` (node_bytes) and `aux` (node_bytes / 32) are Uint8Arrays, so both
//   can later be placed into execmem unchanged.
// - data: [0, 56) bkey_format, [56, 76) min_key, [76, 96) max_key (bpos LE: snapshot, offset,
//   inode), then each bset: an 8-byte header {u32 seq, u16 pad, u16 u64s} and its keys. Every key
//   therefore has >= 8 readable bytes before it (the byte-aligned unpacker reads up to 8 back).
// - aux: [0, codeLen) reserved for the compiled function (<= 255 B); set 0's tree starts at
//   roundup(codeLen, 64), each later set's at the previous tree's end rounded up to 64.
// - Keys the format cannot represent are stored unpacked (format 1, 5-u64 key part).
// - Building validates everything first (sorted distinct positions per bset, keys inside
//   [min_key, max_key], sizes) and throws BkeyNodeError without producing a node.

import { JitboxError, type ErrorDetails } from '../../support/errors.js';
import { hex64 } from '../../support/u64.js';
import {
  BFLOAT_BYTES,
  BFLOAT_FAILED,
  BSET_CACHELINE,
  BSET_NO_AUX_TREE,
  BSET_RW_AUX_TREE,
  RW_ENTRY_BYTES,
  bits16,
  eytzingerFromInorder,
  eytzingerInorder,
  makeBfloat,
  readRwEntry,
  writeBfloat,
  writeRwEntry,
} from './aux-tree.js';
import { BKEY_BYTES, BKEY_U64S, type BkeyFormat, encodeFormat, nrKeyBits } from './format.js';
import {
  type Bkey,
  type Bpos,
  bkeyPos,
  compareBpos,
  comparePacked,
  packInto,
  packPosLossy,
  readBkey,
  unpackGeneric,
  unpackPos,
  writeBkey,
  wr32,
} from './pack.js';

export const DEFAULT_NODE_BYTES = 256 * 1024;
export const MAX_BSETS = 3;
const NODE_HEADER_BYTES = 96;
const BSET_HEADER_BYTES = 8;

export class BkeyNodeError extends JitboxError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('bkey-node', message, details);
  }
}

export interface NodeKey {
  key: Bkey;
  /** 8 * (key.u64s - 5) bytes. */
  value: Uint8Array;
}

/** Unpack one packed key (src[s..]) into a 40-byte struct bkey at dst[d..]. */
export type UnpackFn = (src: Uint8Array, s: number, dst: Uint8Array, d: number) => void;

export interface BsetTree {
  /** Tree slots (RO) or RW entries; 0 when there is no tree. */
  size: number;
  /** BSET_NO_AUX_TREE, BSET_RW_AUX_TREE, or 0 for a read-only tree. */
  extra: number;
  /** First key and end of the keys, in u64s from the node start. */
  dataOffset: number;
  endOffset: number;
  /** Tree start in u64s into aux_data. */
  auxDataOffset: number;
  /** Byte offsets of every key (model bookkeeping for scans and tests). */
  keyOffsets: number[];
}

export interface BtreeNodeOptions {
  format: BkeyFormat;
  minKey: Bpos;
  maxKey: Bpos;
  nodeBytes?: number;
  /** Bytes reserved at aux offset 0 for the compiled unpack function (0 = JIT off). */
  codeLen?: number;
  /** Give the last bset the read-write tree (it takes inserts); default true when > 1 bset. */
  lastSetWritable?: boolean;
}

export interface LookupStats {
  probes: number;
  compares: number;
  scanned: number;
  unpacks: number;
}

export interface TouchLog {
  aux: number[];
  keys: number[];
  /** Both kinds in program order. */
  seq: { region: 'aux' | 'keys'; at: number }[];
}

export interface LookupResult {
  set: number;
  /** Byte offset of the key in `data`. */
  at: number;
  key: Bkey;
}

const roundup64 = (x: number): number => Math.ceil(x / 64) * 64;

function writeBpos(dst: Uint8Array, at: number, p: Bpos): void {
  wr32(dst, at, p.snapshot);
  wr32(dst, at + 4, p.offset.lo);
  wr32(dst, at + 8, p.offset.hi);
  wr32(dst, at + 12, p.inode.lo);
  wr32(dst, at + 16, p.inode.hi);
}

function posText(p: Bpos): string {
  return `${hex64(p.inode.lo, p.inode.hi)}:${hex64(p.offset.lo, p.offset.hi)}:${p.snapshot >>> 0}`;
}

export class BtreeNode {
  readonly format: BkeyFormat;
  readonly minKey: Bpos;
  readonly maxKey: Bpos;
  readonly nodeBytes: number;
  readonly codeLen: number;
  readonly data: Uint8Array;
  readonly aux: Uint8Array;
  readonly sets: BsetTree[] = [];
  readonly stats: LookupStats = { probes: 0, compares: 0, scanned: 0, unpacks: 0 };
  /**
   * When set, lookups append the byte offsets they read, in order: `aux` (into aux_data: a 4-byte
   * bfloat or a 24-byte RW entry) and `keys` (into data: a key's start). The final unpack of the
   * returned key is not logged (placement.ts runs it as machine code).
   */
  touchLog: TouchLog | null = null;
  unpackFn: UnpackFn;
  private lastWritable = false;
  private readonly minPacked = new Uint8Array(40);
  private readonly maxPacked = new Uint8Array(40);
  private readonly tmp = new Uint8Array(BKEY_BYTES);

  private constructor(o: BtreeNodeOptions) {
    this.format = o.format;
    this.minKey = o.minKey;
    this.maxKey = o.maxKey;
    this.nodeBytes = o.nodeBytes ?? DEFAULT_NODE_BYTES;
    this.codeLen = o.codeLen ?? 0;
    this.data = new Uint8Array(this.nodeBytes);
    this.aux = new Uint8Array(this.nodeBytes / 32);
    const f = o.format;
    this.unpackFn = (src, s, dst, d) => unpackGeneric(f, src, s, dst, d);
  }

  /** Build a node from up to three sorted bsets; validates before building anything. */
  static build(o: BtreeNodeOptions, bsets: readonly (readonly NodeKey[])[]): BtreeNode {
    const nodeBytes = o.nodeBytes ?? DEFAULT_NODE_BYTES;
    const codeLen = o.codeLen ?? 0;
    if (!Number.isInteger(nodeBytes) || nodeBytes < 4096 || nodeBytes > 512 * 1024 || nodeBytes % 4096 !== 0) {
      throw new BkeyNodeError(`node size must be a multiple of 4 KiB in [4 KiB, 512 KiB], got ${nodeBytes}`, { field: 'node_bytes' });
    }
    if (!Number.isInteger(codeLen) || codeLen < 0 || codeLen > 255) {
      throw new BkeyNodeError(`compiled function length must be in [0, 255], got ${codeLen}`, { field: 'code_len' });
    }
    if (bsets.length < 1 || bsets.length > MAX_BSETS) throw new BkeyNodeError(`a node holds 1 to ${MAX_BSETS} bsets, got ${bsets.length}`, { field: 'bsets' });
    if (compareBpos(o.minKey, o.maxKey) > 0) throw new BkeyNodeError('node min_key is above max_key', { field: 'min_key' });
    const probe = new Uint8Array(40);
    for (const [name, p] of [['min_key', o.minKey], ['max_key', o.maxKey]] as const) {
      const k: Bkey = { u64s: 5, format: 1, needsWhiteout: false, type: 1, fields: [p.inode, p.offset, { lo: p.snapshot >>> 0, hi: 0 }, { lo: 0, hi: 0 }, { lo: 0, hi: 0 }, { lo: 0, hi: 0 }] };
      const r = packInto(o.format, k, probe, 0);
      if (r >= 0 && r < 3) throw new BkeyNodeError(`node ${name} ${posText(p)} is not representable in the node's format`, { field: name });
    }
    let bytes = NODE_HEADER_BYTES;
    bsets.forEach((set, si) => {
      bytes += BSET_HEADER_BYTES;
      set.forEach((nk, ki) => {
        const k = nk.key;
        if (!Number.isInteger(k.u64s) || k.u64s < BKEY_U64S || k.u64s > 255 - BKEY_U64S) throw new BkeyNodeError(`bset ${si} key ${ki}: u64s ${k.u64s} out of range`, { set: si, key: ki });
        if (nk.value.length !== 8 * (k.u64s - BKEY_U64S)) throw new BkeyNodeError(`bset ${si} key ${ki}: value is ${nk.value.length} bytes, header says ${8 * (k.u64s - BKEY_U64S)}`, { set: si, key: ki });
        const p = bkeyPos(k);
        if (compareBpos(p, o.minKey) < 0 || compareBpos(p, o.maxKey) > 0) throw new BkeyNodeError(`bset ${si} key ${ki} ${posText(p)} lies outside the node's range`, { set: si, key: ki });
        if (ki > 0 && compareBpos(bkeyPos((set[ki - 1] as NodeKey).key), p) >= 0) throw new BkeyNodeError(`bset ${si} key ${ki} is not above the previous key`, { set: si, key: ki });
        const packed = packInto(o.format, k, probe, 0) < 0;
        bytes += 8 * ((packed ? o.format.keyU64s : BKEY_U64S) + k.u64s - BKEY_U64S);
      });
    });
    if (bytes > nodeBytes) throw new BkeyNodeError(`keys need ${bytes} bytes, the node has ${nodeBytes}`, { field: 'node_bytes', need: bytes });
    const node = new BtreeNode({ ...o, nodeBytes, codeLen });
    node.layout(bsets, o.lastSetWritable ?? bsets.length > 1);
    return node;
  }

  private layout(bsets: readonly (readonly NodeKey[])[], lastWritable: boolean): void {
    this.lastWritable = lastWritable;
    const f = this.format;
    encodeFormat(f, this.data, 0);
    writeBpos(this.data, 56, this.minKey);
    writeBpos(this.data, 76, this.maxKey);
    const toKey = (p: Bpos): Bkey => ({ u64s: 5, format: 1, needsWhiteout: false, type: 1, fields: [p.inode, p.offset, { lo: p.snapshot, hi: 0 }, { lo: 0, hi: 0 }, { lo: 0, hi: 0 }, { lo: 0, hi: 0 }] });
    packInto(f, toKey(this.minKey), this.minPacked, 0);
    packInto(f, toKey(this.maxKey), this.maxPacked, 0);
    let at = NODE_HEADER_BYTES;
    let auxAt = roundup64(this.codeLen);
    bsets.forEach((set, si) => {
      const header = at;
      at += BSET_HEADER_BYTES;
      const start = at;
      const keyOffsets: number[] = [];
      for (const nk of set) {
        keyOffsets.push(at);
        if (packInto(f, nk.key, this.data, at) < 0) at += 8 * f.keyU64s;
        else {
          writeBkey(nk.key, this.data, at);
          at += BKEY_BYTES;
        }
        this.data.set(nk.value, at);
        at += nk.value.length;
      }
      wr32(this.data, header, si + 1);
      this.data[header + 6] = ((at - start) / 8) & 0xff;
      this.data[header + 7] = ((at - start) / 8) >>> 8;
      const t: BsetTree = { size: 0, extra: BSET_NO_AUX_TREE, dataOffset: start / 8, endOffset: at / 8, auxDataOffset: auxAt / 8, keyOffsets };
      const writable = lastWritable && si === bsets.length - 1;
      const used = keyOffsets.length === 0 ? 0 : writable ? this.buildRwTree(t, auxAt) : this.buildRoTree(t, auxAt);
      this.sets.push(t);
      auxAt = roundup64(auxAt + used);
    });
  }

  private touchAux(at: number): void {
    if (this.touchLog === null) return;
    this.touchLog.aux.push(at);
    this.touchLog.seq.push({ region: 'aux', at });
  }

  private touchKey(at: number): void {
    if (this.touchLog === null) return;
    this.touchLog.keys.push(at);
    this.touchLog.seq.push({ region: 'keys', at });
  }

  private isPacked(at: number): boolean {
    return ((this.data[at + 1] as number) & 0x7f) === 0;
  }

  private buildRoTree(t: BsetTree, auxAt: number): number {
    const f = this.format;
    const start = t.dataOffset * 8;
    const base = start & ~63;
    const offs = t.keyOffsets;
    const last = offs[offs.length - 1] as number;
    const size = Math.floor((last - base) / BSET_CACHELINE) + 1;
    const bytes = size * BFLOAT_BYTES;
    if (auxAt + bytes > this.aux.length) throw new BkeyNodeError(`aux_data is full: the bset tree needs ${bytes} bytes at ${auxAt}`, { field: 'aux_data' });
    // first key starting at or after each block
    const blockKey = new Int32Array(size);
    let k = 0;
    for (let b = 0; b < size; b++) {
      while ((offs[k] as number) < base + BSET_CACHELINE * b) k++;
      blockKey[b] = offs[k] as number;
      const ko = ((offs[k] as number) - (base + BSET_CACHELINE * b)) / 8;
      if (b > 0 && ko > 255) throw new BkeyNodeError(`block ${b} of a bset has no key within 255 u64s (key too large for the aux tree)`, { field: 'key_offset' });
    }
    const inorder = eytzingerInorder(size);
    const ref = (at: number): { bytes: Uint8Array; at: number } | null => (this.isPacked(at) ? { bytes: this.data, at } : null);
    const walk = (n: number, l: { bytes: Uint8Array; at: number } | null, r: { bytes: Uint8Array; at: number } | null): void => {
      if (n >= size) return;
      const blk = inorder[n] as number;
      const keyAt = blockKey[blk] as number;
      const own = ref(keyAt);
      const e = makeBfloat(f, { l, r, k: own });
      writeBfloat(this.aux, auxAt + BFLOAT_BYTES * n, e.exponent, (keyAt - (base + BSET_CACHELINE * blk)) / 8, e.mantissa);
      walk(2 * n, l, own);
      walk(2 * n + 1, own, r);
    };
    walk(1, { bytes: this.minPacked, at: 0 }, { bytes: this.maxPacked, at: 0 });
    t.size = size;
    t.extra = 0;
    return bytes;
  }

  private buildRwTree(t: BsetTree, auxAt: number): number {
    const start = t.dataOffset * 8;
    const room = Math.floor((this.aux.length - auxAt) / RW_ENTRY_BYTES);
    if (room < 1) throw new BkeyNodeError('aux_data has no room for the read-write tree', { field: 'aux_data' });
    const total = t.endOffset * 8 - start;
    const stride = Math.max(64, Math.ceil(total / room));
    let n = 0;
    let lastAt = -Infinity;
    for (const at of t.keyOffsets) {
      if (at - lastAt < stride || n >= room) continue;
      writeRwEntry(this.aux, auxAt + RW_ENTRY_BYTES * n, (at - start) / 8, this.keyPos(at));
      lastAt = at;
      n++;
    }
    t.size = n;
    t.extra = BSET_RW_AUX_TREE;
    return n * RW_ENTRY_BYTES;
  }

  /** Unpack the key at byte `at` of data through the node's unpack function (or copy if unpacked). */
  unpackAt(at: number, dst: Uint8Array = this.tmp, d = 0): Uint8Array {
    this.stats.unpacks++;
    if (this.isPacked(at)) this.unpackFn(this.data, at, dst, d);
    else dst.set(this.data.subarray(at, at + BKEY_BYTES), d);
    return dst;
  }

  keyPos(at: number): Bpos {
    if (this.isPacked(at)) return unpackPos(this.format, this.data, at);
    return bkeyPos(readBkey(this.data, at));
  }

  keyAt(at: number): Bkey {
    return readBkey(this.unpackAt(at, new Uint8Array(BKEY_BYTES), 0), 0);
  }

  /** Lower bound (first key with position >= search) within one bset, as a byte offset or -1. */
  lowerBound(si: number, search: Bpos): number {
    const t = this.sets[si] as BsetTree;
    const offs = t.keyOffsets;
    if (offs.length === 0 || compareBpos(search, this.maxKey) > 0) return -1;
    const f = this.format;
    const packed = new Uint8Array(40);
    const res = packPosLossy(f, search, packed, 0);
    let startAt = offs[0] as number;
    if (res !== 'fail' && compareBpos(search, this.minKey) > 0) {
      if (t.extra === 0) startAt = this.walkRoTree(t, packed, search);
      else if (t.extra === BSET_RW_AUX_TREE) startAt = this.searchRwTree(t, search);
    }
    let i = this.indexOf(t, startAt);
    if (res === 'exact' || res === 'smaller') {
      while (i < offs.length) {
        const at = offs[i] as number;
        this.stats.scanned++;
        this.touchKey(at);
        if (!this.isPacked(at) || comparePacked(f, this.data, at, packed, 0) >= 0) break;
        i++;
      }
    }
    while (i < offs.length) {
      this.stats.scanned++;
      this.stats.compares++;
      this.touchKey(offs[i] as number);
      if (compareBpos(this.keyPos(offs[i] as number), search) >= 0) return offs[i] as number;
      i++;
    }
    return -1;
  }

  private indexOf(t: BsetTree, at: number): number {
    const offs = t.keyOffsets;
    let lo = 0;
    let hi = offs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((offs[mid] as number) < at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The §8 walk: mantissa compares where they decide, real compares otherwise. */
  private walkRoTree(t: BsetTree, packed: Uint8Array, search: Bpos): number {
    const f = this.format;
    const auxAt = t.auxDataOffset * 8;
    const size = t.size;
    const lowest = 64 * f.keyU64s - nrKeyBits(f);
    const start = t.dataOffset * 8;
    const base = start & ~63;
    const inorder = eytzingerInorder(size);
    const blockKeyAt = (n: number): number => base + BSET_CACHELINE * (inorder[n] as number) + 8 * (this.aux[auxAt + BFLOAT_BYTES * n + 1] as number);
    let n = 1;
    while (n < size) {
      this.stats.probes++;
      const e = auxAt + BFLOAT_BYTES * n;
      this.touchAux(e);
      const exponent = this.aux[e] as number;
      if (exponent !== BFLOAT_FAILED) {
        const mantissa = (this.aux[e + 2] as number) | ((this.aux[e + 3] as number) << 8);
        const s = bits16(packed, 0, exponent);
        if (s !== mantissa || exponent <= lowest) {
          n = 2 * n + (mantissa < s ? 1 : 0);
          continue;
        }
      }
      const at = blockKeyAt(n);
      this.stats.compares++;
      this.touchKey(at);
      const c = this.isPacked(at) ? comparePacked(f, this.data, at, packed, 0) : compareBpos(this.keyPos(at), unpackPos(f, packed, 0));
      if (c === 0) return at;
      n = 2 * n + (c < 0 ? 1 : 0);
    }
    const parent = n >> 1;
    let i = parent === 0 ? 0 : (inorder[parent] as number);
    if ((n & 1) === 0) i -= 1;
    if (i <= 0) return start;
    const m = eytzingerFromInorder(size)[i] as number;
    this.touchAux(auxAt + BFLOAT_BYTES * m);
    return blockKeyAt(m);
  }


  private searchRwTree(t: BsetTree, search: Bpos): number {
    const auxAt = t.auxDataOffset * 8;
    const start = t.dataOffset * 8;
    let lo = 0;
    let hi = t.size;
    while (lo < hi) {
      this.stats.probes++;
      const mid = (lo + hi) >>> 1;
      this.touchAux(auxAt + RW_ENTRY_BYTES * mid);
      if (compareBpos(readRwEntry(this.aux, auxAt + RW_ENTRY_BYTES * mid).pos, search) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return start;
    this.touchAux(auxAt + RW_ENTRY_BYTES * (lo - 1));
    return start + 8 * readRwEntry(this.aux, auxAt + RW_ENTRY_BYTES * (lo - 1)).offsetU64s;
  }

  /** First key >= search over all bsets (newest bset wins ties); the key is unpacked. */
  lookup(search: Bpos): LookupResult | null {
    let best: { set: number; at: number; pos: Bpos } | null = null;
    for (let si = 0; si < this.sets.length; si++) {
      const at = this.lowerBound(si, search);
      if (at < 0) continue;
      this.touchKey(at);
      const pos = this.keyPos(at);
      if (!best || compareBpos(pos, best.pos) <= 0) best = { set: si, at, pos };
    }
    if (!best) return null;
    return { set: best.set, at: best.at, key: this.keyAt(best.at) };
  }

  /**
   * Insert into the last, read-write bset (bcachefs inserts only there), replacing a key at the
   * same position. Keys after it move up; the RW tree is rebuilt (bcachefs fixes it up lazily).
   * Validates first: a rejected insert leaves data and aux unchanged.
   */
  insert(nk: NodeKey): void {
    const si = this.sets.length - 1;
    const t = this.sets[si] as BsetTree;
    if (!this.lastWritable) throw new BkeyNodeError('the last bset is written (read-only); this node takes no inserts', { set: si });
    const k = nk.key;
    if (!Number.isInteger(k.u64s) || k.u64s < BKEY_U64S || k.u64s > 255 - BKEY_U64S) throw new BkeyNodeError(`insert: u64s ${k.u64s} out of range`, { field: 'u64s' });
    if (nk.value.length !== 8 * (k.u64s - BKEY_U64S)) throw new BkeyNodeError(`insert: value is ${nk.value.length} bytes, header says ${8 * (k.u64s - BKEY_U64S)}`, { field: 'value' });
    const pos = bkeyPos(k);
    if (compareBpos(pos, this.minKey) < 0 || compareBpos(pos, this.maxKey) > 0) throw new BkeyNodeError(`insert: key ${posText(pos)} lies outside the node's range`, { field: 'pos' });
    const probe = new Uint8Array(40);
    const packed = packInto(this.format, k, probe, 0) < 0;
    const newBytes = 8 * ((packed ? this.format.keyU64s : BKEY_U64S) + k.u64s - BKEY_U64S);
    const offs = t.keyOffsets;
    let i = 0;
    while (i < offs.length && compareBpos(this.keyPos(offs[i] as number), pos) < 0) i++;
    const end = t.endOffset * 8;
    const at = i < offs.length ? (offs[i] as number) : end;
    const replacing = i < offs.length && compareBpos(this.keyPos(at), pos) === 0;
    const oldBytes = replacing ? 8 * (this.data[at] as number) : 0;
    const newEnd = end + newBytes - oldBytes;
    if (newEnd > this.nodeBytes) throw new BkeyNodeError(`insert: the node is full (${newEnd} > ${this.nodeBytes} bytes)`, { field: 'node_bytes' });
    this.data.copyWithin(at + newBytes, at + oldBytes, end);
    if (newEnd < end) this.data.fill(0, newEnd, end);
    if (packed) packInto(this.format, k, this.data, at);
    else writeBkey(k, this.data, at);
    this.data.set(nk.value, at + newBytes - nk.value.length);
    const start = t.dataOffset * 8;
    t.endOffset = newEnd / 8;
    t.keyOffsets = [];
    for (let p = start; p < newEnd; p += 8 * (this.data[p] as number)) t.keyOffsets.push(p);
    const header = start - BSET_HEADER_BYTES;
    this.data[header + 6] = ((newEnd - start) / 8) & 0xff;
    this.data[header + 7] = ((newEnd - start) / 8) >>> 8;
    const auxAt = t.auxDataOffset * 8;
    this.aux.fill(0, auxAt, auxAt + t.size * RW_ENTRY_BYTES);
    this.buildRwTree(t, auxAt);
  }

  /**
   * Place a compiled unpack function at aux_data offset 0 (co-located mode); it must fit the
   * `codeLen` bytes reserved when the node was built (the trees start at roundup(codeLen, 64)).
   */
  writeCode(code: Uint8Array): void {
    if (code.length > this.codeLen) {
      throw new BkeyNodeError(`compiled function is ${code.length} bytes, the node reserved ${this.codeLen} at aux_data offset 0`, { field: 'code_len', size: code.length });
    }
    this.aux.fill(0, 0, this.codeLen);
    this.aux.set(code, 0);
  }

  /** Total bytes of aux_data used by the trees (from offset 0). */
  auxUsed(): number {
    let end = roundup64(this.codeLen);
    for (const t of this.sets) end = Math.max(end, t.auxDataOffset * 8 + t.size * (t.extra === BSET_RW_AUX_TREE ? RW_ENTRY_BYTES : BFLOAT_BYTES));
    return end;
  }
}
