// Btree node lookups (reference/bkey.md §8): through the eytzinger bkey_float tree, the RW tree and
// the bset-cursor merge, every lookup returns the same key as a linear scan over the input keys;
// the aux_data layout follows [code | set 0 tree from roundup(len, 64) | later sets 64-aligned].
import { describe, expect, it } from 'vitest';
import { Rng } from '../../support/rng.js';
import type { U64 } from '../../support/u64.js';
import { BkeyNodeError, BtreeNode, type NodeKey } from '../../jit/bkey/node.js';
import { genFamily, KEY_FAMILIES, formatForKeySet, genExtents, type KeySet } from '../../jit/bkey/keys.js';
import { bkeyPos, compareBpos, type Bpos } from '../../jit/bkey/pack.js';
import { computeFormat } from '../../jit/bkey/format.js';
import { BFLOAT_FAILED } from '../../jit/bkey/aux-tree.js';

function split(rng: Rng, ks: KeySet, nsets: number): NodeKey[][] {
  const sets: NodeKey[][] = Array.from({ length: nsets }, () => []);
  ks.keys.forEach((key, i) => {
    const s = rng.below(nsets);
    (sets[s] as NodeKey[]).push({ key, value: ks.values[i] as Uint8Array });
    if (nsets > 1 && rng.bool(0.05)) (sets[(s + 1) % nsets] as NodeKey[]).push({ key: { ...key, type: 9 }, value: ks.values[i] as Uint8Array });
  });
  for (const s of sets) s.sort((a, b) => compareBpos(bkeyPos(a.key), bkeyPos(b.key)));
  return sets;
}

function linear(sets: NodeKey[][], search: Bpos): { set: number; pos: Bpos } | null {
  let best: { set: number; pos: Bpos } | null = null;
  sets.forEach((s, si) => {
    const k = s.find((nk) => compareBpos(bkeyPos(nk.key), search) >= 0);
    if (!k) return;
    const pos = bkeyPos(k.key);
    if (!best || compareBpos(pos, best.pos) <= 0) best = { set: si, pos };
  });
  return best;
}

const addSmall = (v: U64, d: number): U64 => {
  const lo = v.lo + d;
  if (lo < 0) return v.hi > 0 ? { lo: (lo + 0x100000000) >>> 0, hi: v.hi - 1 } : { lo: 0, hi: 0 };
  return { lo: lo >>> 0, hi: (v.hi + (lo > 0xffffffff ? 1 : 0)) >>> 0 };
};

function randomSearch(rng: Rng, ks: KeySet): Bpos {
  const k = ks.keys[rng.below(ks.keys.length)]!;
  const p = bkeyPos(k);
  switch (rng.below(5)) {
    case 0:
      return p;
    case 1:
      return { ...p, offset: addSmall(p.offset, rng.int(-20, 20)) };
    case 2:
      return { ...p, snapshot: rng.u32() };
    case 3:
      return { inode: p.inode, offset: { lo: rng.u32(), hi: rng.bool() ? p.offset.hi : rng.u32() }, snapshot: rng.u32() };
    default:
      return rng.bool() ? ks.minKey : ks.maxKey;
  }
}

function clampToNode(p: Bpos, ks: KeySet): Bpos {
  if (compareBpos(p, ks.minKey) < 0) return ks.minKey;
  if (compareBpos(p, ks.maxKey) > 0) return ks.maxKey;
  return p;
}

describe('btree node lookup', () => {
  for (const family of KEY_FAMILIES) {
    it(`${family}: aux-tree lookups equal a linear scan (1-3 bsets, RO and RW trees)`, () => {
      const rng = new Rng(family.length * 1000 + 7);
      for (let round = 0; round < 6; round++) {
        const ks = genFamily(family, rng, rng.int(50, 2500));
        const nsets = rng.int(1, 3);
        const sets = split(rng, ks, nsets);
        const node = BtreeNode.build({ format: formatForKeySet(ks), minKey: ks.minKey, maxKey: ks.maxKey, nodeBytes: 256 * 1024, codeLen: rng.below(200), lastSetWritable: rng.bool() }, sets);
        const before = { ...node.stats };
        for (let q = 0; q < 300; q++) {
          const search = clampToNode(randomSearch(rng, ks), ks);
          const want = linear(sets, search);
          const got = node.lookup(search);
          if (!want) expect(got).toBeNull();
          else {
            expect(got).not.toBeNull();
            expect(got!.set).toBe(want.set);
            expect(compareBpos(bkeyPos(got!.key), want.pos)).toBe(0);
          }
        }
        // the tables do the narrowing: few keys scanned per bset lookup
        const scanned = node.stats.scanned - before.scanned;
        expect(scanned / (300 * nsets)).toBeLessThan(40);
        expect(node.stats.probes - before.probes).toBeGreaterThan(300);
      }
    });
  }

  it('keys that do not fit the format are stored unpacked, their tree entries fail, lookups still agree', () => {
    const rng = new Rng(77);
    const ks = genExtents(rng, 1500, 8);
    const format = computeFormat(ks.keys, ks.minKey, ks.maxKey);
    for (const k of ks.keys) if (rng.bool(0.2)) k.fields[5] = { lo: rng.u32(), hi: 1 };
    const sets = split(rng, ks, 2);
    const node = BtreeNode.build({ format, minKey: ks.minKey, maxKey: ks.maxKey, lastSetWritable: false }, sets);
    let failed = 0;
    const t0 = node.sets[0]!;
    for (let n = 1; n < t0.size; n++) if (node.aux[t0.auxDataOffset * 8 + 4 * n] === BFLOAT_FAILED) failed++;
    expect(failed).toBeGreaterThan(0);
    for (let q = 0; q < 400; q++) {
      const search = clampToNode(randomSearch(rng, ks), ks);
      const want = linear(sets, search);
      const got = node.lookup(search);
      expect(got?.set).toBe(want?.set);
      if (want) expect(compareBpos(bkeyPos(got!.key), want.pos)).toBe(0);
    }
  });

  it('lays out aux_data: code, then set 0 from the next cache line, later sets 64-aligned', () => {
    const rng = new Rng(5);
    const ks = genExtents(rng, 3000);
    const sets = split(rng, ks, 3);
    const node = BtreeNode.build({ format: formatForKeySet(ks), minKey: ks.minKey, maxKey: ks.maxKey, codeLen: 70 }, sets);
    expect(node.aux.length).toBe(256 * 1024 / 32);
    expect(node.sets[0]!.auxDataOffset * 8).toBe(128);
    for (let i = 1; i < 3; i++) {
      const prev = node.sets[i - 1]!;
      const prevEnd = prev.auxDataOffset * 8 + prev.size * (i - 1 === 2 ? 24 : 4);
      expect((node.sets[i]!.auxDataOffset * 8) % 64).toBe(0);
      expect(node.sets[i]!.auxDataOffset * 8).toBe(Math.ceil(prevEnd / 64) * 64);
    }
    const keysBytes = (node.sets[0]!.endOffset - node.sets[0]!.dataOffset) * 8;
    expect(node.sets[0]!.size).toBe(Math.floor((node.sets[0]!.keyOffsets.at(-1)! - (node.sets[0]!.dataOffset * 8 & ~63)) / 256) + 1);
    expect(node.sets[0]!.size).toBeGreaterThanOrEqual(Math.floor(keysBytes / 256));
    expect(node.sets[2]!.extra).toBe(0xfffe);
    const treeBefore = Buffer.from(node.aux.subarray(128)).toString('hex');
    node.writeCode(new Uint8Array(70).fill(0xc3));
    expect(node.aux[69]).toBe(0xc3);
    expect(Buffer.from(node.aux.subarray(128)).toString('hex')).toBe(treeBefore);
    expect(() => node.writeCode(new Uint8Array(71))).toThrow(BkeyNodeError);
    expect(node.aux[0]).toBe(0xc3);
    // realistic packed keys: bkey_float entries almost never fail (bcachefs expects > 99%)
    let entries = 0;
    let failed = 0;
    for (const t of node.sets.slice(0, 2)) {
      for (let n = 1; n < t.size; n++, entries++) if (node.aux[t.auxDataOffset * 8 + 4 * n] === BFLOAT_FAILED) failed++;
    }
    expect(entries).toBeGreaterThan(100);
    expect(failed).toBe(0);
  });

  it('inserts into the read-write bset keep lookups equal to a linear scan; written bsets refuse inserts', () => {
    const rng = new Rng(19);
    const ks = genExtents(rng, 1200, 16);
    const order = rng.shuffle(ks.keys.map((_, i) => i));
    const initial = order.slice(0, 600);
    const later = order.slice(600);
    const sets = split(rng, { ...ks, keys: initial.map((i) => ks.keys[i]!), values: initial.map((i) => ks.values[i]!) }, 2);
    const node = BtreeNode.build({ format: formatForKeySet(ks), minKey: ks.minKey, maxKey: ks.maxKey, lastSetWritable: true }, sets);
    for (const i of later) {
      const nk = { key: ks.keys[i]!, value: ks.values[i]! };
      node.insert(nk);
      const last = sets[1]!;
      const at = last.findIndex((x) => compareBpos(bkeyPos(x.key), bkeyPos(nk.key)) >= 0);
      if (at >= 0 && compareBpos(bkeyPos(last[at]!.key), bkeyPos(nk.key)) === 0) last[at] = nk;
      else last.splice(at < 0 ? last.length : at, 0, nk);
    }
    expect(node.sets[1]!.keyOffsets.length).toBe(sets[1]!.length);
    for (let q = 0; q < 400; q++) {
      const search = clampToNode(randomSearch(rng, ks), ks);
      const want = linear(sets, search);
      const got = node.lookup(search);
      expect(got?.set).toBe(want?.set);
      if (want) expect(compareBpos(bkeyPos(got!.key), want.pos)).toBe(0);
    }
    const ro = BtreeNode.build({ format: formatForKeySet(ks), minKey: ks.minKey, maxKey: ks.maxKey, lastSetWritable: false }, sets);
    const before = Buffer.from(ro.data).toString('hex');
    expect(() => ro.insert({ key: ks.keys[0]!, value: ks.values[0]! })).toThrow(/read-only/);
    expect(() => node.insert({ key: { ...ks.keys[0]!, u64s: 9 }, value: new Uint8Array(8) })).toThrow(BkeyNodeError);
    expect(Buffer.from(ro.data).toString('hex')).toBe(before);
  });

  it('rejects unsorted bsets, keys outside the node and oversize content without building', () => {
    const rng = new Rng(8);
    const ks = genExtents(rng, 400);
    const f = formatForKeySet(ks);
    const sets = [ks.keys.map((key, i) => ({ key, value: ks.values[i]! }))];
    const rev = [[...sets[0]!].reverse()];
    expect(() => BtreeNode.build({ format: f, minKey: ks.minKey, maxKey: ks.maxKey }, rev)).toThrow(BkeyNodeError);
    expect(() => BtreeNode.build({ format: f, minKey: ks.minKey, maxKey: ks.keys[10]!.fields[0] ? bkeyPos(ks.keys[10]!) : ks.maxKey }, sets)).toThrow(/outside/);
    expect(() => BtreeNode.build({ format: f, minKey: ks.minKey, maxKey: ks.maxKey, nodeBytes: 4096 }, sets)).toThrow(/bytes/);
    expect(() => BtreeNode.build({ format: f, minKey: ks.minKey, maxKey: ks.maxKey }, [[], [], [], []])).toThrow(/bsets/);
  });
});
