// Placement modes (jit/bkey/placement.ts) run in jitbox's own emulator (jit/bkey/emu-run.ts):
// every mode on both arches unpacks like unpackGeneric for random seeded formats and keys; the
// memory map shows each mode's areas with the right permissions and labels; the W^X audit stays
// clean; free() restores the map; bad input is refused before anything is allocated; a failure
// midway frees what was allocated; lookupTouches offsets point at the bytes the lookup reads.
import { beforeAll, describe, expect, it } from 'vitest';
import { initCapstone } from '../../support/capstone.js';
import { Rng } from '../../support/rng.js';
import { hexAddr } from '../../support/u64.js';
import { AddressSpace, describeSpace } from '../../execmem/index.js';
import { ExecmemExhaustedError } from '../../execmem/errors.js';
import { InvalidArgumentError } from '../../support/errors.js';
import { PERM_ROX, PERM_RW, type Arch } from '../../execmem/types.js';
import type { AccessObserver } from '../../emulator/index.js';
import { BKEY_BYTES, type BkeyFormat } from '../../jit/bkey/format.js';
import { formatForKeySet, genExtents, randomComputedFormat, randomFormat, randomKeyFor } from '../../jit/bkey/keys.js';
import { BtreeNode, type NodeKey } from '../../jit/bkey/node.js';
import { type Bkey, bkeyPos, compareBpos, packKey, unpackGeneric } from '../../jit/bkey/pack.js';
import { BkeyPlacementError, NodePlacer, PLACEMENT_MODES, type PlacedNode, type PlacementMode } from '../../jit/bkey/placement.js';
import { EmuUnpackRunner } from '../../jit/bkey/emu-run.js';

const ARCHES: Arch[] = ['x86_64', 'arm64'];

beforeAll(async () => {
  await initCapstone();
});

/** A node of distinct sorted keys of `format` (values of each key's u64s), one or two bsets. */
function nodeOf(format: BkeyFormat, keys: Bkey[], twoSets: boolean, nodeBytes = 8192): BtreeNode {
  const sorted = [...keys].sort((a, b) => compareBpos(bkeyPos(a), bkeyPos(b)));
  const uniq = sorted.filter((k, i) => i === 0 || compareBpos(bkeyPos(sorted[i - 1] as Bkey), bkeyPos(k)) !== 0);
  const nks: NodeKey[] = uniq.map((key) => ({ key, value: new Uint8Array(8 * (key.u64s - 5)).fill(0x5a) }));
  const sets = twoSets ? [nks.filter((_, i) => i % 2 === 0), nks.filter((_, i) => i % 2 === 1)] : [nks];
  return BtreeNode.build({ format, minKey: bkeyPos(uniq[0] as Bkey), maxKey: bkeyPos(uniq[uniq.length - 1] as Bkey), nodeBytes }, sets);
}

function randomNode(rng: Rng, k: number): BtreeNode {
  if (k % 2 === 0) {
    const f = randomFormat(rng);
    return nodeOf(f, Array.from({ length: 10 }, () => randomKeyFor(rng, f)), k % 4 === 0);
  }
  const { format, keys } = randomComputedFormat(rng);
  return nodeOf(format, keys, false);
}

function genericOf(node: BtreeNode, at: number): Uint8Array {
  const out = new Uint8Array(BKEY_BYTES);
  unpackGeneric(node.format, node.data, at, out, 0);
  return out;
}

/** The memory map without counters: allocations, data areas, packs, cache blocks, runs, frames. */
function mapDigest(space: AddressSpace): string {
  const r = describeSpace(space);
  return JSON.stringify({ a: r.allocations, v: r.vmalloc, p: r.packs, c: r.roxCache, runs: r.permissionRuns, frames: r.stats.usedFrames, pages: r.stats.mappedPages });
}

/** Key 0 of a placed node unpacks in the emulator like unpackGeneric. */
function runnerCheck(space: AddressSpace, arch: Arch, p: PlacedNode, node: BtreeNode): boolean {
  const runner = new EmuUnpackRunner(space, arch);
  const got = runner.unpack(p, 0).bytes;
  runner.dispose();
  return got.every((b, j) => b === genericOf(node, p.keyAddr(0) - p.keysAddr)[j]);
}

function expectPlacementError(fn: () => unknown, text: RegExp): BkeyPlacementError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BkeyPlacementError);
    expect((e as Error).message).toMatch(text);
    return e as BkeyPlacementError;
  }
  throw new Error('expected a BkeyPlacementError');
}

describe.each(ARCHES)('placement on %s', (arch) => {
  it('every mode unpacks every packed key like unpackGeneric (random seeded formats)', () => {
    const rng = new Rng(arch === 'x86_64' ? 701 : 702);
    const space = new AddressSpace({ arch, seed: 7 });
    const placer = new NodePlacer(space, arch, { seed: 7 });
    const runner = new EmuUnpackRunner(space, arch);
    let checked = 0;
    const perMode: Record<string, number> = {};
    for (let k = 0; k < 24; k++) {
      const node = randomNode(rng, k);
      const offs = node.sets.flatMap((t) => t.keyOffsets);
      for (const mode of PLACEMENT_MODES) {
        const placed = placer.place(node, mode);
        expect(placed.keyCount).toBe(offs.length);
        for (let i = 0; i < placed.keyCount; i++) {
          if (!placed.isPacked(i)) continue;
          const res = runner.unpack(placed, i);
          expect(hexAddr(placed.keyAddr(i))).toBe(hexAddr(placed.keysAddr + (offs[i] as number)));
          expect(res.bytes, `${mode} format ${JSON.stringify(node.format.bits)} key ${i}`).toEqual(genericOf(node, offs[i] as number));
          expect(res.counters.insns).toBeGreaterThan(0);
          perMode[mode] = (perMode[mode] ?? 0) + res.counters.insns;
          checked++;
        }
        placed.free();
      }
    }
    expect(checked).toBeGreaterThan(24 * 4 * 3);
    expect(perMode.generic as number).toBeGreaterThan(3 * (perMode.colocated as number));
    expect(perMode.colocated).toBe(perMode['own-page']);
    expect(perMode.colocated).toBe(perMode['shared-pack']);
    runner.dispose();
    placer.dispose();
    expect(space.audit().ok).toBe(true);
  });

  it('places a realistic extents node: areas, permissions, labels, audit, and free restores the map', () => {
    const ks = genExtents(new Rng(11), 600);
    const node = nodeOf(formatForKeySet(ks), ks.keys, true, 64 * 1024);
    const space = new AddressSpace({ arch, seed: 3 });
    const placer = new NodePlacer(space, arch);
    const empty = mapDigest(space);
    const runner = new EmuUnpackRunner(space, arch);
    for (const mode of PLACEMENT_MODES) {
      placer.place(node, mode).free();
      const before = mapDigest(space);
      const p = placer.place(node, mode);
      const mid = describeSpace(space);
      expect(mapDigest(space)).not.toBe(before);
      const perm = (a: number): number | undefined => space.pageInfo(a)?.perm;
      expect(perm(p.unpackAddr)).toBe(PERM_ROX);
      expect(perm(p.keysAddr)).toBe(PERM_RW);
      expect(perm(p.auxAddr)).toBe(mode === 'colocated' ? PERM_ROX : PERM_RW);
      expect(space.read(p.auxAddr, p.auxBytes)).toEqual(node.aux.slice(Math.ceil(node.codeLen / 64) * 64, node.auxUsed()));
      expect(p.auxBytes).toBeGreaterThan(0);
      expect(space.read(p.keysAddr, p.keysBytes)).toEqual(node.data.slice(0, p.keysBytes));
      const labels = [...mid.allocations.map((a) => a.label), ...mid.vmalloc.map((a) => a.label)];
      expect(labels.filter((l) => l.includes(`(${mode})`)).length).toBeGreaterThan(0);
      if (mode === 'colocated') {
        expect(p.auxAddr - p.unpackAddr).toBe(Math.ceil(p.codeBytes / 64) * 64);
        expect(mid.allocations.some((a) => a.addr === hexAddr(p.unpackAddr) && a.label.includes('code + tables'))).toBe(true);
      }
      if (mode === 'own-page') expect(mid.allocations.some((a) => a.addr === hexAddr(p.unpackAddr) && a.label.includes('own page'))).toBe(true);
      if (mode === 'shared-pack') expect(mid.packs.reduce((s, x) => s + x.programs, 0)).toBeGreaterThan(0);
      if (mode === 'generic') {
        expect(p.formatAddr).toBe(p.keysAddr);
        expect(mid.allocations.some((a) => a.addr === hexAddr(p.unpackAddr) && a.label.includes('generic'))).toBe(true);
      } else expect(p.formatAddr).toBeNull();
      const runCode = mid.permissionRuns.find((r) => BigInt(r.start) <= BigInt(hexAddr(p.unpackAddr)) && BigInt(hexAddr(p.unpackAddr)) < BigInt(r.end));
      expect(runCode?.perm).toBe('r-x');
      const res = runner.unpack(p, 5);
      expect(res.bytes).toEqual(genericOf(node, p.keyAddr(5) - p.keysAddr));
      expect(space.audit().ok).toBe(true);
      expect(space.audit().wxPages).toEqual([]);
      p.free();
      expect(mapDigest(space)).toBe(before);
    }
    runner.dispose();
    placer.dispose();
    const after = describeSpace(space);
    expect(after.vmalloc).toEqual([]);
    expect(after.allocations.filter((a) => a.label.startsWith('bkey'))).toEqual([]);
    expect(after.audit.ok).toBe(true);
    if (space.roxCache === null) expect(mapDigest(space)).toBe(empty);
  });

  it('an access observer sees the fetches of the placed code, the key loads and the struct bkey stores', () => {
    const ks = genExtents(new Rng(5), 200);
    const node = nodeOf(formatForKeySet(ks), ks.keys, false, 16 * 1024);
    const space = new AddressSpace({ arch, seed: 9 });
    const placer = new NodePlacer(space, arch);
    const runner = new EmuUnpackRunner(space, arch);
    for (const mode of PLACEMENT_MODES) {
      const p = placer.place(node, mode);
      const seen = { fetch: [] as number[], load: [] as [number, number][], store: [] as [number, number][] };
      const obs: AccessObserver = {
        fetch: (a) => void seen.fetch.push(a),
        load: (a, n) => void seen.load.push([a, n]),
        store: (a, n) => void seen.store.push([a, n]),
      };
      const res = runner.unpack(p, 17, { observer: obs });
      expect(res.bytes).toEqual(genericOf(node, p.keyAddr(17) - p.keysAddr));
      expect(seen.fetch.length).toBe(res.counters.insns);
      for (const a of seen.fetch) expect(a >= p.unpackAddr && a < p.unpackAddr + p.codeBytes).toBe(true);
      const key = p.keyAddr(17);
      const kb = 8 * node.format.keyU64s;
      for (const [a, n] of seen.load) {
        const inKey = a >= key && a + n <= key + kb;
        const inFormat = p.formatAddr !== null && a >= p.formatAddr && a + n <= p.formatAddr + 56;
        const inStack = a >= runner.stackBase && a + n <= runner.stackBase + runner.stackBytes;
        expect(inKey || inFormat || (arch === 'x86_64' && inStack), `load ${hexAddr(a)}+${n} (${mode})`).toBe(true);
      }
      for (const [a, n] of seen.store) {
        const inDst = a >= runner.dstAddr && a + n <= runner.dstAddr + BKEY_BYTES;
        const inStack = a >= runner.stackBase && a + n <= runner.stackBase + runner.stackBytes;
        expect(inDst || (arch === 'x86_64' && inStack), `store ${hexAddr(a)}+${n} (${mode}), dst ${hexAddr(runner.dstAddr)}`).toBe(true);
      }
      expect(seen.store.reduce((s, [, n]) => s + n, 0)).toBeGreaterThanOrEqual(BKEY_BYTES);
      p.free();
    }
    runner.dispose();
    placer.dispose();
  });

  it('lookupTouches: offsets name the bytes the lookup reads, the same in every mode; keyIndex matches lookup', () => {
    const ks = genExtents(new Rng(21), 1500);
    const node = nodeOf(formatForKeySet(ks), ks.keys, true, 128 * 1024);
    const space = new AddressSpace({ arch, seed: 4 });
    const placer = new NodePlacer(space, arch);
    const placed = PLACEMENT_MODES.map((m) => placer.place(node, m));
    const tablesAt = Math.ceil(node.codeLen / 64) * 64;
    const rng = new Rng(22);
    let auxProbes = 0;
    const sizes = new Set<number>();
    for (let q = 0; q < 40; q++) {
      const target = ks.keys[rng.below(ks.keys.length)] as Bkey;
      const pos = bkeyPos(target);
      const search = q % 3 === 0 ? { ...pos, offset: { lo: (pos.offset.lo - 1) >>> 0, hi: pos.offset.hi } } : pos;
      const want = node.lookup(search);
      const t0 = placer.lookupTouches(placed[0]!, node, search);
      expect(t0.keyIndex).toBe(want ? placed[0]!.keyIndexAt(want.at) : -1);
      if (want) expect(placed[0]!.keyAddr(t0.keyIndex) - placed[0]!.keysAddr).toBe(want.at);
      expect(t0.keys.length).toBeGreaterThan(0);
      expect(t0.sequence.filter((x) => x.region === 'aux').map((x) => x.offset)).toEqual(t0.aux);
      expect(t0.sequence.filter((x) => x.region === 'keys').map((x) => x.offset)).toEqual(t0.keys);
      for (const x of t0.sequence) {
        if (x.region === 'aux') {
          expect([4, 24]).toContain(x.bytes);
          expect(x.offset + x.bytes).toBeLessThanOrEqual(placed[0]!.auxBytes);
          sizes.add(x.bytes);
        } else expect(x.bytes).toBe(8 * node.format.keyU64s);
      }
      auxProbes += t0.aux.length;
      for (const p of placed) {
        const t = placer.lookupTouches(p, node, search);
        expect(t).toEqual(t0);
        for (const off of t.aux) {
          expect(off >= 0 && off < p.auxBytes).toBe(true);
          expect(space.read(p.auxAddr + off, 4)).toEqual(node.aux.slice(tablesAt + off, tablesAt + off + 4));
        }
        for (const off of t.keys) {
          expect(off >= 0 && off < p.keysBytes).toBe(true);
          expect(space.read(p.keysAddr + off, 8)).toEqual(node.data.slice(off, off + 8));
        }
      }
    }
    expect(auxProbes).toBeGreaterThan(40 * 3);
    expect([...sizes].sort((a, b) => a - b)).toEqual([4, 24]);
    placer.dispose();
    expect(space.audit().ok).toBe(true);
  });

  it('sync after inserts: colocated tables are re-poked (ROX), other modes store; growth beyond the placement is refused', () => {
    const ks = genExtents(new Rng(31), 400);
    const all = ks.keys.map((key, i) => ({ key, value: ks.values[i] as Uint8Array }));
    const held = all.filter((_, i) => i % 4 === 3);
    const kept = all.filter((_, i) => i % 4 !== 3);
    const node = BtreeNode.build({ format: formatForKeySet(ks), minKey: ks.minKey, maxKey: ks.maxKey, nodeBytes: 32 * 1024 }, [kept.filter((_, i) => i % 2 === 0), kept.filter((_, i) => i % 2 === 1)]);
    const space = new AddressSpace({ arch, seed: 6 });
    const placer = new NodePlacer(space, arch);
    const runner = new EmuUnpackRunner(space, arch);
    const placed = PLACEMENT_MODES.map((m) => placer.place(node, m));
    const pokes0 = space.audit().pokes;
    for (const nk of held.slice(0, 20)) node.insert(nk);
    const tablesAt = Math.ceil(node.codeLen / 64) * 64;
    for (const p of placed) {
      const r = placer.sync(p, node);
      expect(r.pokedBytes > 0).toBe(p.mode === 'colocated');
      expect(space.read(p.keysAddr, p.keysBytes)).toEqual(node.data.slice(0, p.keysBytes));
      expect(space.read(p.auxAddr, p.auxBytes)).toEqual(node.aux.slice(tablesAt, tablesAt + p.auxBytes));
      expect(p.keyCount).toBe(node.sets.reduce((n, t) => n + t.keyOffsets.length, 0));
      const target = bkeyPos(held[7]!.key);
      const t = placer.lookupTouches(p, node, target);
      const at = p.keyAddr(t.keyIndex) - p.keysAddr;
      expect(compareBpos(node.keyPos(at), target)).toBe(0);
      expect(runner.unpack(p, t.keyIndex).bytes).toEqual(genericOf(node, at));
    }
    expect(space.audit().pokes).toBe(pokes0 + 1);
    expect(space.audit().ok).toBe(true);
    const colo = placed[0]!;
    for (const nk of held.slice(20)) node.insert(nk);
    const big = BtreeNode.build({ format: node.format, minKey: ks.minKey, maxKey: ks.maxKey, nodeBytes: 32 * 1024 }, [all]);
    const d0 = space.stateDigest();
    expectPlacementError(() => placer.sync(colo, big), /aux_data layout changed|grew/);
    const f2 = randomFormat(new Rng(1));
    expectPlacementError(() => placer.sync(colo, nodeOf(f2, [randomKeyFor(new Rng(2), f2)], false)), /not the one/);
    expect(space.stateDigest()).toBe(d0);
    runner.dispose();
    placer.dispose();
  });

  it('bad input is refused before anything changes; a failure midway frees what it allocated', () => {
    const ks = genExtents(new Rng(8), 100);
    const node = nodeOf(formatForKeySet(ks), ks.keys, false, 16 * 1024);
    const space = new AddressSpace({ arch, seed: 12 });
    const other: Arch = arch === 'x86_64' ? 'arm64' : 'x86_64';
    expectPlacementError(() => new NodePlacer(space, other), /address space is/);
    const placer = new NodePlacer(space, arch);
    const d0 = space.stateDigest();
    expectPlacementError(() => placer.place(node, 'inline' as PlacementMode), /unknown placement mode "inline"/);
    expectPlacementError(() => placer.place({} as BtreeNode, 'colocated'), /BtreeNode/);
    const good = packKey(node.format, ks.keys[0] as Bkey);
    expectPlacementError(() => placer.placeKeys(node.format, [good, good.subarray(0, 3)], 'own-page'), /packed key 1/);
    const unpacked = good.slice();
    unpacked[1] = 1;
    expectPlacementError(() => placer.placeKeys(node.format, [unpacked], 'own-page'), /packed key 0 is not in the node's format/);
    expect(space.stateDigest()).toBe(d0);

    const odd = ks.keys.map((k, i) => (i === 4 ? { ...k, fields: k.fields.map((f, j) => (j === 3 ? { lo: 0xfffffff0, hi: 0 } : f)) } : k));
    const mixed = BtreeNode.build({ format: node.format, minKey: ks.minKey, maxKey: ks.maxKey, nodeBytes: 16 * 1024 }, [odd.map((key, i) => ({ key, value: ks.values[i] as Uint8Array }))]);
    const pm = placer.place(mixed, 'colocated');
    expect(pm.isPacked(4)).toBe(false);
    expect(pm.isPacked(3)).toBe(true);
    const r = new EmuUnpackRunner(space, arch);
    expectPlacementError(() => r.unpack(pm, 4), /key 4 .* is stored unpacked/);
    expect(r.unpack(pm, 3).bytes).toEqual(genericOf(mixed, pm.keyAddr(3) - pm.keysAddr));
    r.dispose();
    pm.free();

    const p = placer.place(node, 'own-page');
    expectPlacementError(() => p.keyAddr(p.keyCount), /out of range/);
    expectPlacementError(() => p.keyAddr(-1), /out of range/);
    p.free();
    expectPlacementError(() => p.free(), /already freed/);
    expectPlacementError(() => p.keyAddr(0), /was freed/);

    placer.place(node, 'colocated').free();
    const reserved: number[] = [];
    for (let size = 2 ** 32; size >= 4096; ) {
      try {
        reserved.push(space.execmem.reserveVa('MODULE_TEXT', size));
      } catch (e) {
        if (!(e instanceof ExecmemExhaustedError || e instanceof InvalidArgumentError)) throw e;
        size /= 2;
      }
    }
    const before = mapDigest(space);
    expect(() => placer.place(node, 'colocated')).toThrow(ExecmemExhaustedError);
    expect(mapDigest(space)).toBe(before);
    for (const r of reserved) space.execmem.releaseVa(r);
    const again = placer.place(node, 'colocated');
    expect(runnerCheck(space, arch, again, node)).toBe(true);
    again.free();
    expect(placer.liveNodes()).toHaveLength(0);
    placer.dispose();
    expectPlacementError(() => placer.place(node, 'colocated'), /disposed/);
    expect(space.audit().ok).toBe(true);
  });
});
