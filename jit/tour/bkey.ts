// Tour section 3: bcachefs compiled key unpackers (reference/bkey.md; fs/btree/bkey.c
// bch2_compile_bkey_format, bset.c aux_data). A node is built from realistic extent keys, its
// format computed, its unpacker generated for x86_64, arm64 and wasm; the x86_64 code is placed
// (a) co-located at aux_data offset 0 with the node's lookup tables after it, the whole aux region
// ROX in execmem, and (b) in a shared bpf_prog_pack chunk (both through jit/bkey/placement.ts);
// keys are unpacked by calling the placed code in jitbox's emulator (jit/bkey/emu-run.ts) and
// compared with the generic (interpreted) unpack. The locality counters come from the colocate
// experiment (jit/experiments/colocate.ts) at a small size under the cache/TLB model: cycles and
// L1i/L1d/iTLB/dTLB misses per lookup for the four placement modes, and its derived conclusions.
//
// Invariants: the node's data lives in vmalloc'd RW memory written with space.write; the code is
// only ever written by text_poke_copy; every machine-code result is checked against unpackGeneric
// on the same bytes; throughput loops are short and time-bounded (wall-clock figures, not asserted).

import { AddressSpace } from '../../execmem/space.js';
import { permString } from '../../execmem/types.js';
import { genArm64Unpacker } from '../../codegen/bkey/arm64.js';
import { buildWasmUnpacker } from '../../codegen/bkey/wasm.js';
import { genX86Unpacker } from '../../codegen/bkey/x86_64.js';
import { listing, formatListing } from '../../codegen/listing.js';
import { Rng } from '../../support/rng.js';
import { hexAddr, bytesToHex } from '../../support/u64.js';
import { genExtents, formatForKeySet } from '../bkey/keys.js';
import { formatToJson, formatToString, BKEY_BYTES } from '../bkey/format.js';
import { unpackGeneric, packKey } from '../bkey/pack.js';
import { BtreeNode } from '../bkey/node.js';
import { WasmUnpackArena, instantiateWasmUnpacker } from '../bkey/wasm-run.js';
import { EmuUnpackRunner } from '../bkey/emu-run.js';
import { NodePlacer, type PlacedNode } from '../bkey/placement.js';
import { colocateConclusions, colocateSteps, perLookup, runColocate, type ColocateParams } from '../experiments/colocate.js';
import { defaultModelParams } from '../experiments/model.js';
import { makeContext } from '../experiments/runner.js';
import type { TourOptions, TourSection } from './types.js';

export interface PlacementRecord {
  mode: 'co-located aux (ROX)' | 'shared pack';
  entry: string;
  regionBytes: number;
  pagePerm: string;
  tablesAt?: string;
  keys: { index: number; packed: string; native: string; generic: string; equal: boolean }[];
  allEqual: boolean;
  counters: { insns: number; loads: number; stores: number };
}

export interface BkeyRecord {
  keys: number;
  nodeBytes: number;
  format: ReturnType<typeof formatToJson>;
  formatText: string;
  packedKeyBytes: number;
  sizes: { x86_64: number; arm64: number; wasm: number };
  x86Listing: { address: string; bytes: string; text: string }[];
  auxUsed: number;
  placements: PlacementRecord[];
  throughput: { wasmKeysPerSec: number; genericKeysPerSec: number; ratio: number; seconds: number };
  locality: LocalityRecord;
}

/** Per-lookup figures of the colocate experiment at the tour's size (no prefetch). */
export interface LocalityRecord {
  arch: 'x86_64' | 'arm64';
  preset: string;
  nodes: number[];
  lookups: number;
  rows: { nodes: number; mode: string; cycles: number; l1iMisses: number; l1dMisses: number; itlbMisses: number; dtlbMisses: number }[];
  conclusions: string[];
}

/** The colocate experiment, small: 1 node and many, every placement mode, one arch. */
function locality(opts: TourOptions): LocalityRecord {
  const arch = opts.arches[0] ?? 'x86_64';
  const p: ColocateParams = {
    nodes: opts.quick ? [1, 64] : [1, 256], lookups: opts.quick ? 100 : 300, unpacksPerLookup: 1, keysPerNode: 128, pool: 4,
    prefetchKind: 'code', arches: [arch], model: defaultModelParams(),
  };
  const r = runColocate(makeContext(opts.seed, opts.quick, colocateSteps(p), () => {}), p);
  const rows = r.rows.filter((x) => !x.prefetch).map((x) => {
    const q = perLookup(x);
    return { nodes: x.nodes, mode: x.mode, cycles: q.cycles, l1iMisses: q.l1i, l1dMisses: q.l1d, itlbMisses: q.itlb, dtlbMisses: q.dtlb };
  });
  return { arch, preset: r.params.presets[arch] ?? '', nodes: p.nodes, lookups: p.lookups, rows, conclusions: colocateConclusions(r).filter((c) => !c.includes('with code prefetch')) };
}

const NODE_BYTES = 128 * 1024;

/**
 * Keys per second of `body` (returns keys done): a warm-up of `seconds` and at least 200,000 keys
 * (at most 1 s), then the best of five windows of `seconds / 5` (V8 optimises on a background
 * thread and may deoptimise once after the emulator checks; a short first window can still run
 * unoptimised code).
 */
function timeLoop(seconds: number, body: () => number): number {
  const w0 = performance.now();
  let warm = 0;
  for (let t = 0; t < 1000 && (t < seconds * 1000 || warm < 200_000); t = performance.now() - w0) warm += body();
  let best = 0;
  for (let w = 0; w < 5; w++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < (seconds * 1000) / 5) {
      n += body();
      t = performance.now();
    }
    best = Math.max(best, n / ((t - t0) / 1000));
  }
  return best;
}

export function bkeySection(opts: TourOptions): TourSection<BkeyRecord> {
  const rng = new Rng(opts.seed);
  const ks = genExtents(rng, opts.quick ? 256 : 1024);
  const format = formatForKeySet(ks);
  const x86 = genX86Unpacker(format);
  const arm = genArm64Unpacker(format);
  const wasm = buildWasmUnpacker(format);
  const node = BtreeNode.build({ format, minKey: ks.minKey, maxKey: ks.maxKey, nodeBytes: NODE_BYTES, codeLen: x86.size }, [ks.keys.map((key, i) => ({ key, value: ks.values[i] as Uint8Array }))]);
  node.writeCode(x86.bytes);
  const auxUsed = node.auxUsed();
  const set = node.sets[0];
  const keyOffsets = set ? set.keyOffsets : [];
  const sample = opts.quick ? 8 : 24;
  const picks: number[] = [];
  for (let i = 0; i < sample && keyOffsets.length > 0; i++) picks.push(i === 0 ? 0 : i === sample - 1 ? keyOffsets.length - 1 : rng.below(keyOffsets.length));

  const space = new AddressSpace({ arch: 'x86_64', seed: opts.seed });
  const placer = new NodePlacer(space, 'x86_64', { seed: opts.seed });
  const runner = new EmuUnpackRunner(space, 'x86_64');
  const colocated = placer.place(node, 'colocated');
  const shared = placer.place(node, 'shared-pack');

  const runPlacement = (mode: PlacementRecord['mode'], placed: PlacedNode): PlacementRecord => {
    const keys: PlacementRecord['keys'] = [];
    const sum = { insns: 0, loads: 0, stores: 0 };
    for (const idx of picks) {
      const off = keyOffsets[idx] as number;
      const res = runner.unpack(placed, idx);
      sum.insns += res.counters.insns;
      sum.loads += res.counters.loads;
      sum.stores += res.counters.stores;
      const native = res.bytes;
      const generic = new Uint8Array(BKEY_BYTES);
      unpackGeneric(format, node.data, off, generic, 0);
      const eq = native.every((b, j) => b === generic[j]);
      keys.push({ index: idx, packed: bytesToHex(node.data.subarray(off, off + 8 * format.keyU64s)), native: bytesToHex(native), generic: bytesToHex(generic), equal: eq });
    }
    const n = Math.max(1, picks.length);
    const entry = placed.unpackAddr;
    const pi = space.pageInfo(entry);
    const prog = space.packs.programBounds(entry);
    const regionBytes = prog ? prog.end - prog.start : (space.execmem.allocationAt(entry)?.size ?? 0);
    return {
      mode, entry: hexAddr(entry), regionBytes, pagePerm: pi ? permString(pi.perm) : 'unmapped', ...(placed.mode === 'colocated' ? { tablesAt: hexAddr(placed.auxAddr) } : {}),
      keys, allEqual: keys.every((k) => k.equal),
      counters: { insns: sum.insns / n, loads: sum.loads / n, stores: sum.stores / n },
    };
  };
  const placements = [runPlacement('co-located aux (ROX)', colocated), runPlacement('shared pack', shared)];
  const auxAddr = colocated.unpackAddr;
  runner.dispose();
  placer.dispose();

  const packed = ks.keys.map((k, i) => packKey(format, k, i));
  const arena = new WasmUnpackArena(format, packed.length);
  packed.forEach((p, i) => arena.bytes().set(p, arena.keyAt(i)));
  const fns = instantiateWasmUnpacker(format, arena.memory);
  const seconds = opts.quick ? 0.1 : 0.3;
  const wasmRate = timeLoop(seconds, () => {
    fns.unpackBatch(arena.dstOf(0), arena.keyAt(0), packed.length, arena.stride);
    return packed.length;
  });
  // A plain copy: V8 runs unpackGeneric far slower over a view of a WebAssembly.Memory buffer.
  const mem = arena.bytes().slice(0, arena.keyAt(packed.length) + 8);
  const out = new Uint8Array(BKEY_BYTES);
  const genericRate = timeLoop(seconds, () => {
    for (let i = 0; i < packed.length; i++) unpackGeneric(format, mem, arena.keyAt(i), out, 0);
    return packed.length;
  });

  const lines0 = listing('x86_64', x86.bytes, auxAddr);
  const record: BkeyRecord = {
    keys: ks.keys.length, nodeBytes: NODE_BYTES, format: formatToJson(format), formatText: formatToString(format), packedKeyBytes: 8 * format.keyU64s,
    sizes: { x86_64: x86.size, arm64: arm.size, wasm: wasm.size },
    x86Listing: lines0.map((l) => ({ address: hexAddr(l.address), bytes: bytesToHex(l.bytes), text: l.text })),
    auxUsed, placements,
    throughput: { wasmKeysPerSec: Math.round(wasmRate), genericKeysPerSec: Math.round(genericRate), ratio: wasmRate / genericRate, seconds },
    locality: locality(opts),
  };
  const fmtRate = (r: number): string => `${(r / 1e6).toFixed(2)} M keys/s`;
  const lines = [
    `Built a ${NODE_BYTES / 1024} KiB node from ${ks.keys.length} extent keys (${ks.keys.length > 0 ? 'clustered files, 8..128-sector extents' : ''}).`,
    `Computed format: ${record.formatText}`,
    `  packed key: ${record.packedKeyBytes} bytes vs ${BKEY_BYTES} unpacked.`,
    `Generated unpackers: x86_64 ${x86.size} bytes, arm64 ${arm.size} bytes, wasm module ${wasm.size} bytes.`,
    `x86_64 unpacker (placed at aux_data offset 0):`,
    ...formatListing(lines0).split('\n').map((l) => '  ' + l),
    '',
  ];
  for (const p of placements) {
    lines.push(
      `${p.mode}: code at ${p.entry} on a ${p.pagePerm} page (${p.regionBytes} bytes${p.tablesAt ? `, lookup tables from ${p.tablesAt}, aux_data used ${auxUsed} bytes` : ''})`,
      `  unpacked ${p.keys.length} keys in the emulator: ${p.keys.filter((k) => k.equal).length}/${p.keys.length} equal the generic unpack; ` +
        `per unpack ${p.counters.insns.toFixed(1)} insns, ${p.counters.loads.toFixed(1)} loads, ${p.counters.stores.toFixed(1)} stores`,
    );
  }
  const first = placements[0]?.keys[0];
  if (first) lines.push(`  e.g. key ${first.index}: packed [${first.packed}]`, `       -> [${first.native}]`);
  lines.push(
    '',
    `Host-native throughput over ${packed.length} keys (${seconds}s loops each): wasm unpacker ${fmtRate(wasmRate)}, generic TS unpack (same keys, plain Uint8Array) ${fmtRate(genericRate)} (${(wasmRate / genericRate).toFixed(2)}x).`,
  );
  const loc = record.locality;
  const f = (v: number, d = 2): string => v.toFixed(d).padStart(8);
  lines.push(
    '',
    `Locality under the cache/TLB model (${loc.arch}, ${loc.preset}; ${loc.lookups} random lookups per point, each unpacking the key it finds; bench colocate runs the full sweep):`,
    `  nodes  mode          cycles  L1i miss  L1d miss  iTLB miss  dTLB miss   (per lookup)`,
    ...loc.rows.map((x) => `  ${String(x.nodes).padStart(5)}  ${x.mode.padEnd(11)} ${f(x.cycles, 1)}  ${f(x.l1iMisses)}  ${f(x.l1dMisses)}   ${f(x.itlbMisses)}   ${f(x.dtlbMisses)}`),
    ...loc.conclusions.map((c) => `  ${c}`),
  );
  const allEq = placements.every((p) => p.allEqual);
  const summary = `${ks.keys.length} keys, ${record.packedKeyBytes} B packed; x86 ${x86.size} B / arm64 ${arm.size} B / wasm ${wasm.size} B; ` +
    `emulated unpacks ${allEq ? 'all equal generic' : 'MISMATCH'} (2 placements); wasm ${(wasmRate / genericRate).toFixed(2)}x generic`;
  return { title: '3. bcachefs: a node, its format, its compiled unpackers', record, lines, summary };
}
