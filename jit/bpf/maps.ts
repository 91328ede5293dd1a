// BPF array and hash maps (kernel/bpf/arraymap.c, kernel/bpf/hashtab.c semantics) whose values
// live in memory regions, so a program loads and stores through the pointer map_lookup_elem
// returns, with the same bounds checks as any other access.
//
// Invariants:
// - An array map has max_entries values, preallocated and zeroed, in ONE region (value stride =
//   value_size rounded up to 8, as the kernel's elem_size); lookups of index >= max_entries give
//   0/null, delete is -EINVAL. A hash map holds at most max_entries keys, each value in its own
//   region; delete removes that region from the run's address space (a later access through a
//   stale pointer faults instead of reading freed memory).
// - update flags: BPF_ANY 0, BPF_NOEXIST 1, BPF_EXIST 2; errors are negative errnos as the helpers
//   return them (-EINVAL 22, -EEXIST 17, -ENOENT 2, -E2BIG 7). Failed updates change nothing.
// - Regions are (re)allocated from the allocator the run attaches with; contents persist across
//   runs (as a pinned map's do), addresses may change between runs.
// - Global data (.data/.rodata/.bss) is a one-entry array map; .rodata's value region is read-only.

import type { VAddr } from '../../support/u64.js';
import { InvalidArgumentError } from '../../support/errors.js';
import type { LoadedObject, LoadedProgram, MapDef } from './elf.js';
import { type BpfAddressSpace, type BpfMapLike, type BpfProgram, type MemRegion, type RegionAllocator, BpfRuntimeError } from './runtime.js';

export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;
export const ENOENT = 2;
export const E2BIG = 7;
export const EEXIST = 17;
export const EINVAL = 22;

const OBJECT_REGION_SIZE = 64;

function keyString(key: Uint8Array): string {
  let s = '';
  for (let i = 0; i < key.length; i++) s += (key[i] as number).toString(16).padStart(2, '0');
  return s;
}

interface HashEntry {
  key: Uint8Array;
  region: MemRegion;
}

export class BpfMap implements BpfMapLike {
  readonly name: string;
  readonly type: 'array' | 'hash';
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly fd: number;
  readonly readonlyValues: boolean;
  private readonly stride: number;
  private alloc: RegionAllocator | null = null;
  private space: BpfAddressSpace | null = null;
  private objectRegion: MemRegion | null = null;
  private arrayRegion: MemRegion | null = null;
  private arrayBytes: Uint8Array | null = null;
  private readonly entries = new Map<string, HashEntry>();

  constructor(def: Pick<MapDef, 'name' | 'type' | 'keySize' | 'valueSize' | 'maxEntries'> & { initial?: Uint8Array; readonly?: boolean }, fd: number) {
    const bad = (why: string): never => {
      throw new InvalidArgumentError(`map "${def.name}": ${why}`, { map: def.name });
    };
    if (def.type !== 'array' && def.type !== 'hash') bad(`unsupported type ${String(def.type)}`);
    if (!Number.isInteger(def.keySize) || def.keySize <= 0 || def.keySize > 512) bad(`bad key size ${def.keySize}`);
    if (!Number.isInteger(def.valueSize) || def.valueSize <= 0 || def.valueSize > 1 << 20) bad(`bad value size ${def.valueSize}`);
    if (!Number.isInteger(def.maxEntries) || def.maxEntries <= 0 || def.maxEntries > 1 << 16) bad(`bad max_entries ${def.maxEntries}`);
    if (def.type === 'array' && def.keySize !== 4) bad('array map keys are 4 bytes');
    this.name = def.name;
    this.type = def.type;
    this.keySize = def.keySize;
    this.valueSize = def.valueSize;
    this.maxEntries = def.maxEntries;
    this.fd = fd;
    this.readonlyValues = def.readonly ?? false;
    this.stride = Math.ceil(def.valueSize / 8) * 8;
    if (this.type === 'array') {
      if (this.stride * this.maxEntries > 1 << 24) bad('array map too large');
      this.arrayBytes = new Uint8Array(this.stride * this.maxEntries);
      if (def.initial) this.arrayBytes.set(def.initial.subarray(0, this.arrayBytes.length));
    }
  }

  // ---- BpfMapLike -------------------------------------------------------------------------------

  get objectAddr(): VAddr {
    if (!this.objectRegion) throw new BpfRuntimeError(`map "${this.name}" is not attached to a run`, { map: this.name });
    return this.objectRegion.base;
  }

  valueAddr(offset: number): VAddr {
    if (this.type !== 'array') throw new BpfRuntimeError(`map "${this.name}": direct value access needs an array map`, { map: this.name });
    if (!Number.isInteger(offset) || offset < 0 || offset >= this.valueSize) {
      throw new BpfRuntimeError(`map "${this.name}": value offset ${offset} outside the ${this.valueSize}-byte value`, { map: this.name, offset });
    }
    if (!this.arrayRegion) throw new BpfRuntimeError(`map "${this.name}" is not attached to a run`, { map: this.name });
    return this.arrayRegion.base + offset;
  }

  attach(space: BpfAddressSpace, alloc: RegionAllocator): void {
    if (alloc !== this.alloc) {
      this.alloc = alloc;
      this.objectRegion = alloc.allocate(OBJECT_REGION_SIZE, `map ${this.name}`, false, 'map-object');
      if (this.arrayBytes) {
        const r = alloc.allocate(this.arrayBytes.length, `map ${this.name} values`, !this.readonlyValues, 'map-value');
        r.bytes.set(this.arrayBytes);
        this.arrayBytes = r.bytes;
        this.arrayRegion = r;
      }
      for (const e of this.entries.values()) {
        const r = alloc.allocate(this.valueSize, `map ${this.name} value`, true, 'map-value');
        r.bytes.set(e.region.bytes);
        e.region = r;
      }
    }
    this.space = space;
    const present = new Set(space.regions());
    for (const r of this.regions()) if (!present.has(r)) space.add(r);
  }

  /** Every region of this map (object, values). */
  regions(): MemRegion[] {
    const out: MemRegion[] = [];
    if (this.objectRegion) out.push(this.objectRegion);
    if (this.arrayRegion) out.push(this.arrayRegion);
    for (const e of this.entries.values()) out.push(e.region);
    return out;
  }

  // ---- Operations (host side and helpers) ------------------------------------------------------

  private checkKey(key: Uint8Array): void {
    if (key.length !== this.keySize) throw new InvalidArgumentError(`map "${this.name}": key of ${key.length} bytes, need ${this.keySize}`, { map: this.name });
  }

  private arrayIndex(key: Uint8Array): number {
    return ((key[0] as number) | ((key[1] as number) << 8) | ((key[2] as number) << 16) | ((key[3] as number) << 24)) >>> 0;
  }

  /** Address of the value for `key`, or null (map must be attached). */
  lookupAddr(key: Uint8Array): VAddr | null {
    this.checkKey(key);
    if (this.type === 'array') {
      const idx = this.arrayIndex(key);
      if (idx >= this.maxEntries) return null;
      return this.valueAddrAt(idx);
    }
    const e = this.entries.get(keyString(key));
    return e ? e.region.base : null;
  }

  private valueAddrAt(idx: number): VAddr {
    if (!this.arrayRegion) throw new BpfRuntimeError(`map "${this.name}" is not attached to a run`, { map: this.name });
    return this.arrayRegion.base + idx * this.stride;
  }

  /** A copy of the value for `key`, or null. Works attached or not. */
  lookup(key: Uint8Array): Uint8Array | null {
    this.checkKey(key);
    if (this.type === 'array') {
      const idx = this.arrayIndex(key);
      if (idx >= this.maxEntries || !this.arrayBytes) return null;
      return this.arrayBytes.slice(idx * this.stride, idx * this.stride + this.valueSize);
    }
    const e = this.entries.get(keyString(key));
    return e ? e.region.bytes.slice() : null;
  }

  /** 0 or a negative errno (see the file overview). */
  update(key: Uint8Array, value: Uint8Array, flags: number): number {
    this.checkKey(key);
    if (value.length !== this.valueSize) throw new InvalidArgumentError(`map "${this.name}": value of ${value.length} bytes, need ${this.valueSize}`, { map: this.name });
    if (!Number.isInteger(flags) || flags < 0 || flags > BPF_EXIST) return -EINVAL;
    if (this.type === 'array') {
      const idx = this.arrayIndex(key);
      if (idx >= this.maxEntries) return -E2BIG;
      if (flags === BPF_NOEXIST) return -EEXIST;
      (this.arrayBytes as Uint8Array).set(value, idx * this.stride);
      return 0;
    }
    const k = keyString(key);
    const e = this.entries.get(k);
    if (e && flags === BPF_NOEXIST) return -EEXIST;
    if (!e && flags === BPF_EXIST) return -ENOENT;
    if (e) {
      e.region.bytes.set(value);
      return 0;
    }
    if (this.entries.size >= this.maxEntries) return -E2BIG;
    const region: MemRegion = this.alloc
      ? this.alloc.allocate(this.valueSize, `map ${this.name} value`, true, 'map-value')
      : { name: `map ${this.name} value`, base: 0, bytes: new Uint8Array(this.valueSize), writable: true, kind: 'map-value' };
    region.bytes.set(value);
    if (this.space) this.space.add(region);
    this.entries.set(k, { key: key.slice(), region });
    return 0;
  }

  /** 0 or a negative errno. */
  delete(key: Uint8Array): number {
    this.checkKey(key);
    if (this.type === 'array') return -EINVAL;
    const k = keyString(key);
    const e = this.entries.get(k);
    if (!e) return -ENOENT;
    this.entries.delete(k);
    if (this.space) this.space.remove(e.region);
    return 0;
  }

  /** Keys present (hash) or all indices (array), in insertion / index order. */
  keys(): Uint8Array[] {
    if (this.type === 'array') {
      return Array.from({ length: this.maxEntries }, (_, i) => Uint8Array.of(i & 0xff, (i >>> 8) & 0xff, (i >>> 16) & 0xff, i >>> 24));
    }
    return [...this.entries.values()].map((e) => e.key.slice());
  }

  get size(): number {
    return this.type === 'array' ? this.maxEntries : this.entries.size;
  }
}

/** Maps for an object's definitions, with Linux-like fds starting at `firstFd`. */
export function createMaps(defs: readonly MapDef[], firstFd = 3): BpfMap[] {
  return defs.map((d, i) => new BpfMap(d, firstFd + i));
}

/** The engine-facing program for one loaded ELF program, sharing the object's maps. */
export function toBpfProgram(p: LoadedProgram, maps: readonly BpfMap[]): BpfProgram {
  for (const ref of p.mapRefs) {
    if (!maps[ref.mapIndex]) throw new InvalidArgumentError(`program "${p.name}" references map index ${ref.mapIndex}, but only ${maps.length} maps exist`, { program: p.name });
  }
  return { name: p.name, insns: p.insns, maps };
}

/** Convenience: the object's maps plus one BpfProgram per loaded program. */
export function instantiate(obj: LoadedObject, firstFd = 3): { maps: BpfMap[]; programs: BpfProgram[] } {
  const maps = createMaps(obj.maps, firstFd);
  return { maps, programs: obj.programs.map((p) => toBpfProgram(p, maps)) };
}
