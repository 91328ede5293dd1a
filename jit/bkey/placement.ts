// Placement of a btree node's compiled key unpacker, lookup tables and keys in the simulated kernel
// address space (issue 7 "Placement"; reference/bkey.md §8, §9 co-location experiment; bcachefs
// fs/btree/bset.c aux_data, bkey.c bch2_compile_bkey_format; the 2023 vmalloc_exec thread).
//
// Modes:
// - colocated: bcachefs's layout made W^X-safe. One execmem MODULE_TEXT allocation holds the node's
//   aux_data: the unpacker at offset 0, the lookup tables from the next 64-byte line. It is ROX from
//   birth and written only by text_poke_copy (arm64: flush_icache_range included). Keys: RW vmalloc.
// - shared-pack: the unpacker in a bpf_prog_pack chunk (bpf_jit_binary_pack_alloc, stage RW,
//   _finalize through text_poke_copy); tables and keys in RW vmalloc.
// - own-page: one 4 KiB ROX execmem page per node for its unpacker; tables and keys in RW vmalloc.
// - generic: no per-node code. One generic machine-code unpacker (codegen/bkey/generic-*.ts) per
//   placer, on its own ROX page; it reads the node's bkey_format from RW memory.
//
// With x86's ROX cache (the default x86 space) code allocations are 4 KiB blocks of a cache area
// mapped with 2 MiB leaves, as execmem hands them to modules; arm64 maps each with 4 KiB pages.
//
// Calling convention of `unpackAddr` (no stack, no branches out, returns with ret):
//   x86_64 SysV: rdi = dst (40-byte struct bkey), rsi = src (packed key); generic also rdx = format.
//   arm64 AAPCS64: x0 = dst, x1 = src; generic also x2 = format.
// `formatAddr` (generic only) is the 56-byte bkey_format at the start of the node's data (the
// btree_node header), so it shares a line with the node's min/max keys, as in bcachefs.
//
// Invariants:
// - Every byte lives in execmem/vmalloc memory with a label naming the node (`execmem map`).
// - Code pages are never writable; code and colocated tables are written only by text_poke_copy.
// - Bad input throws a typed error before anything is allocated; a failure after an allocation
//   frees everything allocated so far (in reverse order) before rethrowing.
// - `lookupTouches` offsets are relative to auxAddr (tables) and keysAddr (node data), the same in
//   every mode, so one host-side lookup can feed a cache model with any mode's addresses.

import { JitboxError, type ErrorDetails } from '../../support/errors.js';
import { type VAddr, hexAddr } from '../../support/u64.js';
import type { AddressSpace } from '../../execmem/space.js';
import { PAGE_SIZE } from '../../execmem/types.js';
import { genArm64Unpacker } from '../../codegen/bkey/arm64.js';
import { genArm64GenericUnpacker } from '../../codegen/bkey/generic-arm64.js';
import { genX86GenericUnpacker } from '../../codegen/bkey/generic-x86_64.js';
import { genX86Unpacker, type MachineUnpacker } from '../../codegen/bkey/x86_64.js';
import { BFLOAT_BYTES, BSET_RW_AUX_TREE, RW_ENTRY_BYTES } from './aux-tree.js';
import { BKEY_BYTES, type BkeyFormat, encodeFormat, validateFormat } from './format.js';
import { BtreeNode, type TouchLog } from './node.js';
import type { Bpos } from './pack.js';

export type PlacementMode = 'colocated' | 'shared-pack' | 'own-page' | 'generic';
export const PLACEMENT_MODES: readonly PlacementMode[] = ['colocated', 'shared-pack', 'own-page', 'generic'];
export type PlacementArch = 'x86_64' | 'arm64';

/** One piece of guest memory a placed node owns (or, for the generic code, shares). */
export interface PlacedArea {
  what: 'code+tables' | 'code' | 'tables' | 'keys';
  addr: VAddr;
  /** Bytes in use (the allocation is page-rounded, or a pack chunk run). */
  bytes: number;
  /** How it was allocated. */
  via: 'execmem' | 'bpf_prog_pack' | 'vmalloc' | 'shared';
  label: string;
}

export interface PlacedNode {
  readonly mode: PlacementMode;
  readonly arch: PlacementArch;
  /** Entry point of unpack(dst, src[, format]) (calling convention in the file header). */
  readonly unpackAddr: VAddr;
  /** For 'generic': the bkey_format the generic unpacker reads (third argument); null otherwise. */
  readonly formatAddr: VAddr | null;
  /**
   * Where the node's lookup tables (aux tree / bfloat array / RW tree) live, and their size.
   * colocated: unpackAddr + roundup(codeBytes, 64). No tables (placeKeys): keysAddr, auxBytes 0.
   */
  readonly auxAddr: VAddr;
  readonly auxBytes: number;
  /** Where the node's data (btree_node header, then the bsets of packed keys) lives, and its size. */
  readonly keysAddr: VAddr;
  readonly keysBytes: number;
  /** Size of the code at unpackAddr (for 'generic': the shared generic unpacker). */
  readonly codeBytes: number;
  readonly format: BkeyFormat;
  /** Keys of the node over all bsets, in bset order. */
  readonly keyCount: number;
  readonly areas: readonly PlacedArea[];
  readonly freed: boolean;
  /** Guest address of key i (for calling the unpacker on it). */
  keyAddr(i: number): VAddr;
  /** Key i is stored packed (unpackers are only called on packed keys; others are struct bkeys). */
  isPacked(i: number): boolean;
  /** Index of the key at byte offset `at` of the node data, or -1. */
  keyIndexAt(at: number): number;
  free(): void;
}

export class BkeyPlacementError extends JitboxError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('bkey-placement', message, details);
  }
}

export interface NodePlacerOptions {
  /** Recorded for reproducibility; placement itself is deterministic given the space's seed. */
  seed?: number;
  /** execmem type of code allocations (default MODULE_TEXT: bcachefs is a module). */
  codeType?: 'MODULE_TEXT' | 'BPF';
}

/** Byte offsets a host-side lookup reads, relative to auxAddr / keysAddr (see lookupTouches). */
export interface LookupTouches {
  aux: number[];
  keys: number[];
  keyIndex: number;
  /** The same reads interleaved in program order, with their sizes (for a cache model). */
  sequence: { region: 'aux' | 'keys'; offset: number; bytes: number }[];
}

/** What gets placed: a node, or a bare key list (no tables) for the CLI. */
interface Source {
  format: BkeyFormat;
  /** Node data prefix [0, keysBytes): bkey_format at 0, then keys. */
  data: Uint8Array;
  keyOffsets: number[];
  /** The lookup tables as one position-independent image, and its offset in the node's aux_data. */
  tables: Uint8Array;
  tablesAuxOffset: number;
  /** Size of the node's aux_data buffer (node_bytes / 32), 0 for a key list. */
  auxDataBytes: number;
}

const roundup = (n: number, a: number): number => Math.ceil(n / a) * a;
const KEYS_START = 64;

function sourceFromNode(node: BtreeNode): Source {
  const keyOffsets = node.sets.flatMap((t) => t.keyOffsets);
  const last = node.sets[node.sets.length - 1];
  const keysBytes = last ? last.endOffset * 8 : 0;
  const tablesAuxOffset = roundup(node.codeLen, 64);
  const tablesEnd = Math.max(tablesAuxOffset, node.auxUsed());
  return {
    format: node.format,
    data: node.data.slice(0, keysBytes),
    keyOffsets,
    tables: node.aux.slice(tablesAuxOffset, tablesEnd),
    tablesAuxOffset,
    auxDataBytes: node.aux.length,
  };
}

interface PlacedInit {
  mode: PlacementMode;
  arch: PlacementArch;
  format: BkeyFormat;
  unpackAddr: VAddr;
  formatAddr: VAddr | null;
  auxAddr: VAddr;
  auxBytes: number;
  keysAddr: VAddr;
  keysBytes: number;
  codeBytes: number;
  areas: readonly PlacedArea[];
  /** Frees of the node's own allocations, in allocation order. */
  release: readonly (() => void)[];
  tablesAuxOffset: number;
  /** Bytes that fit at auxAddr and keysAddr (for sync after inserts). */
  tablesCapacity: number;
  keysCapacity: number;
}

class Placed implements PlacedNode {
  readonly mode: PlacementMode;
  readonly arch: PlacementArch;
  readonly format: BkeyFormat;
  readonly unpackAddr: VAddr;
  readonly formatAddr: VAddr | null;
  readonly auxAddr: VAddr;
  readonly keysAddr: VAddr;
  readonly codeBytes: number;
  readonly areas: readonly PlacedArea[];
  readonly tablesAuxOffset: number;
  readonly tablesCapacity: number;
  readonly keysCapacity: number;
  auxBytes: number;
  keysBytes: number;
  freed = false;
  private keyOffsets: readonly number[] = [];
  private packedFlags: readonly boolean[] = [];
  private index = new Map<number, number>();
  private readonly release: readonly (() => void)[];

  constructor(private readonly owner: NodePlacer, init: PlacedInit, data: Uint8Array, keyOffsets: readonly number[]) {
    this.mode = init.mode;
    this.arch = init.arch;
    this.format = init.format;
    this.unpackAddr = init.unpackAddr;
    this.formatAddr = init.formatAddr;
    this.auxAddr = init.auxAddr;
    this.auxBytes = init.auxBytes;
    this.keysAddr = init.keysAddr;
    this.keysBytes = init.keysBytes;
    this.codeBytes = init.codeBytes;
    this.areas = init.areas;
    this.release = init.release;
    this.tablesAuxOffset = init.tablesAuxOffset;
    this.tablesCapacity = init.tablesCapacity;
    this.keysCapacity = init.keysCapacity;
    this.setKeys(data, keyOffsets);
  }

  /** @internal */
  setKeys(data: Uint8Array, keyOffsets: readonly number[]): void {
    this.keyOffsets = [...keyOffsets];
    this.packedFlags = keyOffsets.map((at) => ((data[at + 1] as number) & 0x7f) === 0);
    this.index = new Map(keyOffsets.map((at, i) => [at, i]));
  }

  get keyCount(): number {
    return this.keyOffsets.length;
  }

  private checkKey(i: number): number {
    if (this.freed) throw new BkeyPlacementError(`placed node at ${hexAddr(this.keysAddr)} was freed`, { address: hexAddr(this.keysAddr) });
    if (!Number.isInteger(i) || i < 0 || i >= this.keyOffsets.length) {
      throw new BkeyPlacementError(`key index ${i} out of range (the node has ${this.keyOffsets.length} keys)`, { key: String(i) });
    }
    return this.keyOffsets[i] as number;
  }

  keyAddr(i: number): VAddr {
    return this.keysAddr + this.checkKey(i);
  }

  isPacked(i: number): boolean {
    this.checkKey(i);
    return this.packedFlags[i] as boolean;
  }

  keyIndexAt(at: number): number {
    return this.index.get(at) ?? -1;
  }

  free(): void {
    if (this.freed) throw new BkeyPlacementError(`placed node at ${hexAddr(this.keysAddr)} (${this.mode}) is already freed`, { address: hexAddr(this.keysAddr), mode: this.mode });
    this.freed = true;
    for (let k = this.release.length - 1; k >= 0; k--) (this.release[k] as () => void)();
    this.owner.forget(this);
  }
}

export class NodePlacer {
  readonly space: AddressSpace;
  readonly arch: PlacementArch;
  readonly seed: number;
  readonly codeType: 'MODULE_TEXT' | 'BPF';
  private readonly live = new Set<Placed>();
  private generic: { addr: VAddr; size: number } | null = null;
  private serial = 0;
  private disposed = false;

  constructor(space: AddressSpace, arch: PlacementArch, opts: NodePlacerOptions = {}) {
    if (arch !== 'x86_64' && arch !== 'arm64') throw new BkeyPlacementError(`placement arch must be x86_64 or arm64, got "${String(arch)}"`, { arch: String(arch) });
    if (space.arch !== arch) throw new BkeyPlacementError(`address space is ${space.arch}, cannot place ${arch} code in it`, { arch });
    const codeType = opts.codeType ?? 'MODULE_TEXT';
    if (codeType !== 'MODULE_TEXT' && codeType !== 'BPF') throw new BkeyPlacementError(`codeType must be MODULE_TEXT or BPF, got "${String(codeType)}"`);
    this.space = space;
    this.arch = arch;
    this.seed = opts.seed ?? 0;
    this.codeType = codeType;
  }

  /** The per-format compiled unpacker this placer generates (x86_64 bcachefs bytes, or arm64). */
  compile(format: BkeyFormat): MachineUnpacker {
    return this.arch === 'x86_64' ? genX86Unpacker(format) : genArm64Unpacker(format);
  }

  /** Place a node's unpacker, tables and keys in `mode`. */
  place(node: BtreeNode, mode: PlacementMode): PlacedNode {
    this.checkUsable(mode);
    if (!(node instanceof BtreeNode)) throw new BkeyPlacementError('place: node must be a BtreeNode');
    return this.placeSource(sourceFromNode(node), mode);
  }

  /**
   * Place a bare list of packed key parts (8 * key_u64s bytes each) with no lookup tables: the
   * node data holds the bkey_format at 0 and the keys from byte 64. Used by `jitbox unpack`.
   */
  placeKeys(format: BkeyFormat, packedKeys: readonly Uint8Array[], mode: PlacementMode): PlacedNode {
    this.checkUsable(mode);
    validateFormat(format);
    const kb = 8 * format.keyU64s;
    packedKeys.forEach((p, i) => {
      if (!(p instanceof Uint8Array) || p.length < kb) throw new BkeyPlacementError(`packed key ${i} must be a Uint8Array of at least ${kb} bytes`, { key: i });
      if (((p[1] as number) & 0x7f) !== 0) throw new BkeyPlacementError(`packed key ${i} is not in the node's format (format field ${(p[1] as number) & 0x7f})`, { key: i });
    });
    const data = new Uint8Array(KEYS_START + kb * packedKeys.length);
    encodeFormat(format, data, 0);
    const keyOffsets = packedKeys.map((p, i) => {
      data.set(p.subarray(0, kb), KEYS_START + kb * i);
      return KEYS_START + kb * i;
    });
    return this.placeSource({ format, data, keyOffsets, tables: new Uint8Array(0), tablesAuxOffset: 0, auxDataBytes: 0 }, mode);
  }

  /**
   * Host-side: the aux and key offsets (relative to auxAddr / keysAddr) that a lookup of `search`
   * reads, in order: aux entries are 4-byte bfloats (RO trees) or 24-byte entries (RW tree), key
   * offsets are key starts (a compare reads the key part, 8 * key_u64s bytes). keyIndex is the key
   * found (first >= search over all bsets), -1 if none; its final unpack is not in `keys`.
   */
  lookupTouches(placed: PlacedNode, node: BtreeNode, search: Bpos): LookupTouches {
    if (!(placed instanceof Placed) || !this.live.has(placed)) throw new BkeyPlacementError('lookupTouches: the placed node is not live in this placer');
    if (!(node instanceof BtreeNode) || node.format !== placed.format) throw new BkeyPlacementError('lookupTouches: node is not the one that was placed (formats differ)');
    const log: TouchLog = { aux: [], keys: [], seq: [] };
    node.touchLog = log;
    let found;
    try {
      found = node.lookup(search);
    } finally {
      node.touchLog = null;
    }
    const base = placed.tablesAuxOffset;
    const rwTree = (auxAt: number): boolean => node.sets.some((t) => t.extra === BSET_RW_AUX_TREE && auxAt >= t.auxDataOffset * 8 && auxAt < t.auxDataOffset * 8 + t.size * RW_ENTRY_BYTES);
    const keyBytes = (at: number): number => (((node.data[at + 1] as number) & 0x7f) === 0 ? 8 * node.format.keyU64s : BKEY_BYTES);
    const sequence = log.seq.map((t) =>
      t.region === 'aux' ? { region: t.region, offset: t.at - base, bytes: rwTree(t.at) ? RW_ENTRY_BYTES : BFLOAT_BYTES } : { region: t.region, offset: t.at, bytes: keyBytes(t.at) },
    );
    return { aux: log.aux.map((o) => o - base), keys: log.keys, keyIndex: found ? placed.keyIndexAt(found.at) : -1, sequence };
  }

  /**
   * After the node changed (BtreeNode.insert rewrites the last bset and its RW tree), copy its keys
   * and tables to the placed copy: colocated tables through text_poke_copy (the cost co-location
   * pays on every insert, reference/bkey.md §5), everything else with plain stores. Checks the
   * sizes first: a node that outgrew its placement is refused unchanged (place it again).
   */
  sync(placed: PlacedNode, node: BtreeNode): { pokedBytes: number; writtenBytes: number } {
    if (!(placed instanceof Placed) || !this.live.has(placed)) throw new BkeyPlacementError('sync: the placed node is not live in this placer');
    if (!(node instanceof BtreeNode) || node.format !== placed.format) throw new BkeyPlacementError('sync: node is not the one that was placed (formats differ)');
    const src = sourceFromNode(node);
    if (src.tablesAuxOffset !== placed.tablesAuxOffset) throw new BkeyPlacementError('sync: the node\'s aux_data layout changed');
    if (src.data.length > placed.keysCapacity) {
      throw new BkeyPlacementError(`sync: keys grew to ${src.data.length} bytes, the placement holds ${placed.keysCapacity}`, { need: src.data.length, have: placed.keysCapacity });
    }
    if (src.tables.length > placed.tablesCapacity) {
      throw new BkeyPlacementError(`sync: tables grew to ${src.tables.length} bytes, the placement holds ${placed.tablesCapacity}`, { need: src.tables.length, have: placed.tablesCapacity });
    }
    let poked = 0;
    if (src.data.length > 0) this.space.write(placed.keysAddr, src.data);
    if (src.tables.length > 0) {
      if (placed.mode === 'colocated') {
        this.space.textPokeCopy(placed.auxAddr, src.tables);
        poked = src.tables.length;
      } else this.space.write(placed.auxAddr, src.tables);
    }
    placed.keysBytes = src.data.length;
    placed.auxBytes = src.tables.length;
    placed.setKeys(src.data, src.keyOffsets);
    return { pokedBytes: poked, writtenBytes: src.data.length + src.tables.length - poked };
  }

  /** Placed nodes not yet freed. */
  liveNodes(): PlacedNode[] {
    return [...this.live];
  }

  /** Address of the shared generic unpacker, or null before the first generic placement. */
  genericAddr(): VAddr | null {
    return this.generic?.addr ?? null;
  }

  /** Free every live node and the shared generic code; the placer cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    for (const p of [...this.live]) p.free();
    if (this.generic) this.space.execmemFree(this.generic.addr);
    this.generic = null;
    this.disposed = true;
  }

  /** @internal */
  forget(p: Placed): void {
    this.live.delete(p);
  }

  private checkUsable(mode: PlacementMode): void {
    if (this.disposed) throw new BkeyPlacementError('this NodePlacer was disposed');
    if (!(PLACEMENT_MODES as readonly string[]).includes(mode)) {
      throw new BkeyPlacementError(`unknown placement mode "${String(mode)}" (expected ${PLACEMENT_MODES.join(', ')})`, { mode: String(mode) });
    }
  }

  private codeAlloc(bytes: number, label: string): VAddr {
    return this.space.execmem.alloc(this.codeType, roundup(bytes, PAGE_SIZE), { label });
  }

  private sharedGeneric(undo: (() => void)[]): { addr: VAddr; size: number } {
    if (this.generic) return this.generic;
    const code = this.arch === 'x86_64' ? genX86GenericUnpacker() : genArm64GenericUnpacker();
    const addr = this.codeAlloc(code.size, 'bkey generic unpack (shared)');
    undo.push(() => {
      this.space.execmemFree(addr);
      this.generic = null;
    });
    this.space.textPokeCopy(addr, code.bytes);
    this.generic = { addr, size: code.size };
    return this.generic;
  }

  private placeSource(src: Source, mode: PlacementMode): PlacedNode {
    const n = ++this.serial;
    const tag = `bkey#${n}`;
    const space = this.space;
    const undo: (() => void)[] = [];
    const sharedUndo: (() => void)[] = [];
    const areas: PlacedArea[] = [];
    const code = mode === 'generic' ? null : this.compile(src.format);
    try {
      const keysLabel = `${tag} keys (${mode})`;
      const keysAddr = space.vmalloc(Math.max(1, src.data.length), keysLabel);
      undo.push(() => space.vfree(keysAddr));
      if (src.data.length > 0) space.write(keysAddr, src.data);
      areas.push({ what: 'keys', addr: keysAddr, bytes: src.data.length, via: 'vmalloc', label: keysLabel });

      let unpackAddr: VAddr;
      let auxAddr: VAddr = keysAddr;
      let codeBytes: number;
      const tablesOut = (): void => {
        if (src.tables.length === 0 && src.auxDataBytes === 0) return;
        const label = `${tag} aux tables (${mode})`;
        auxAddr = space.vmalloc(Math.max(src.auxDataBytes, src.tables.length, 1), label);
        const a = auxAddr;
        undo.push(() => space.vfree(a));
        if (src.tables.length > 0) space.write(auxAddr, src.tables);
        areas.push({ what: 'tables', addr: auxAddr, bytes: src.tables.length, via: 'vmalloc', label });
      };
      if (mode === 'colocated') {
        const c = code as MachineUnpacker;
        const tablesAt = roundup(c.size, 64);
        const image = new Uint8Array(tablesAt + src.tables.length);
        image.set(c.bytes, 0);
        image.set(src.tables, tablesAt);
        const label = `${tag} aux_data: code + tables (colocated)`;
        const region = this.codeAlloc(Math.max(image.length, src.auxDataBytes), label);
        undo.push(() => space.execmemFree(region));
        space.textPokeCopy(region, image);
        areas.push({ what: 'code+tables', addr: region, bytes: image.length, via: 'execmem', label });
        unpackAddr = region;
        auxAddr = region + tablesAt;
        codeBytes = c.size;
      } else if (mode === 'shared-pack') {
        const c = code as MachineUnpacker;
        const bin = space.packs.binaryPackAlloc(c.size);
        undo.push(() => space.packs.binaryPackFree(bin.finalized ? bin.image : bin));
        bin.rw.set(c.bytes, bin.rwImageOffset);
        space.packs.binaryPackFinalize(bin);
        areas.push({ what: 'code', addr: bin.image, bytes: c.size, via: 'bpf_prog_pack', label: `${tag} unpack (bpf_prog_pack chunk)` });
        unpackAddr = bin.image;
        codeBytes = c.size;
        tablesOut();
      } else if (mode === 'own-page') {
        const c = code as MachineUnpacker;
        const label = `${tag} unpack (own page)`;
        const page = this.codeAlloc(PAGE_SIZE, label);
        undo.push(() => space.execmemFree(page));
        space.textPokeCopy(page, c.bytes);
        areas.push({ what: 'code', addr: page, bytes: c.size, via: 'execmem', label });
        unpackAddr = page;
        codeBytes = c.size;
        tablesOut();
      } else {
        const g = this.sharedGeneric(sharedUndo);
        areas.push({ what: 'code', addr: g.addr, bytes: g.size, via: 'shared', label: 'bkey generic unpack (shared)' });
        unpackAddr = g.addr;
        codeBytes = g.size;
        tablesOut();
      }
      const keysCapacity = roundup(Math.max(1, src.data.length), PAGE_SIZE);
      const tablesCapacity =
        mode === 'colocated' ? (space.execmem.allocationAt(unpackAddr)?.size ?? 0) - (auxAddr - unpackAddr) : auxAddr === keysAddr ? 0 : roundup(Math.max(src.auxDataBytes, src.tables.length, 1), PAGE_SIZE);
      const init: PlacedInit = {
        mode, arch: this.arch, format: src.format, unpackAddr, formatAddr: mode === 'generic' ? keysAddr : null, auxAddr, auxBytes: src.tables.length,
        keysAddr, keysBytes: src.data.length, codeBytes, areas, release: undo, tablesAuxOffset: src.tablesAuxOffset, tablesCapacity, keysCapacity,
      };
      const placed = new Placed(this, init, src.data, src.keyOffsets);
      this.live.add(placed);
      return placed;
    } catch (e) {
      for (const u of [...undo.reverse(), ...sharedUndo.reverse()]) {
        try {
          u();
        } catch {
          // best effort: the original error is the one to report
        }
      }
      throw e;
    }
  }
}

