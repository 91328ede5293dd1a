// bpf_prog_pack (kernel/bpf/core.c, include/linux/filter.h): many small JIT images share 2 MiB ROX
// packs carved into 64-byte chunks, plus the page-per-program path of arches without packs.
//
// Invariants (reference/execmem.md §2.3):
// - A pack is one execmem BPF allocation of 2 MiB (one 2 MiB leaf with `hugePacks`), ROX and
//   trap-filled from birth; its bitmap (32-bit words) marks used chunks. First fit across packs in
//   creation order; a program larger than a pack gets its own page-rounded ROX allocation.
// - Pack path: size = roundUp(proglen + 8 + 16, 64); the JIT writes a trap-filled RW staging
//   buffer (a plain Uint8Array) holding the 8-byte header (u32 size) and the image at a seeded
//   random start in the hole min(size − proglen − 8, 56); finalize text_poke_copies all `size`
//   bytes to the ROX chunk. Free reads the size from the RO header, pokes traps over the chunk,
//   clears its bits and releases the pack at once when it becomes empty.
// - Page path: size = roundUp(proglen + 8 + 128, 4096), hole min(size − proglen − 8, 4088); the
//   image is written in place while RW+NX, then the whole area is sealed ROX.
// - Both paths charge the JIT budget (half the exec range) first; an unprivileged loader over
//   budget gets BpfJitBudgetError. The header of an entry is `entry & ~63` (pack) / `& ~4095` (page).

import { InvalidArgumentError } from '../support/errors.js';
import { type VAddr, hexAddr } from '../support/u64.js';
import { BpfJitBudgetError, DoubleFreeError, ForeignFreeError } from './errors.js';
import type { AddressSpace } from './space.js';
import { HUGE_PAGE_SIZE, PAGE_SIZE } from './types.js';
import { checkAddress, checkLength, modulo, pageRound } from './validate.js';
import { clearBits, RunIndex, setBits } from './bitmap.js';
import { fillUnits } from './fill.js';

export const BPF_PROG_PACK_SIZE = HUGE_PAGE_SIZE;
export const BPF_PROG_CHUNK_SIZE = 64;
export const BPF_PROG_CHUNK_COUNT = BPF_PROG_PACK_SIZE / BPF_PROG_CHUNK_SIZE;
export const BPF_BINARY_HEADER_SIZE = 8;
export const BPF_PACK_SLACK = 16;
export const BPF_PAGE_SLACK = 128;

export interface Pack {
  base: VAddr;
  bits: Uint32Array;
  freeChunks: number;
  /** For each used chunk: the first chunk of its program; -1 when free. */
  runStart: Int32Array;
  /** Chunk count of each program, at its first chunk. */
  runLength: Int32Array;
  /** At a program's first chunk: ALLOCATED, FINALIZED or FREED (until the chunk is reused). */
  state: Uint8Array;
  /** First-fit index over `bits` (same answers as a linear bitmap_find_next_zero_area). */
  runs: RunIndex;
}

const ALLOCATED = 1;
const FINALIZED = 2;
const FREED = 3;
const RELEASED_PACKS_REMEMBERED = 16;
const STAGING_SLAB = 1 << 20;

/** The result of bpf_jit_binary_pack_alloc: write `rw`, then finalize. */
export interface PackedBinary {
  /** Final address of the bpf_binary_header (a chunk start, ROX). */
  header: VAddr;
  /** Final entry address: header + 8 + random start. Compute displacements against this. */
  image: VAddr;
  /** Allocation size (header, image, hole and slack), a multiple of 64. */
  size: number;
  progLen: number;
  /**
   * The RW staging buffer of `size` bytes: trap-filled, u32 size at offset 0. Emptied by finalize.
   * It may be a view into a shared slab: build DataViews with `rw.byteOffset` (never `rw.buffer` alone).
   */
  rw: Uint8Array;
  /** Offset of the image in `rw` (= image - header). */
  rwImageOffset: number;
  finalized: boolean;
}

/** The result of bpf_jit_binary_alloc (page path): write the image in place, then lockRo. */
export interface PageBinary {
  header: VAddr;
  image: VAddr;
  size: number;
  progLen: number;
}

export interface PackReport {
  base: VAddr;
  usedChunks: number;
  programs: number;
  utilisation: number;
}

interface ProgramRecord {
  size: number;
  finalized: boolean;
}

export class BpfPacks {
  private readonly space: AddressSpace;
  private readonly packs: Pack[] = [];
  /** Programs larger than a pack (their own execmem allocation). */
  private readonly bigPrograms = new Map<VAddr, ProgramRecord>();
  private readonly freedBig = new Set<VAddr>();
  /** Chunk states of recently released packs, to tell a double free from a foreign free. */
  private readonly releasedPacks = new Map<VAddr, Uint8Array>();
  private packedLive = 0;
  private slab = new ArrayBuffer(STAGING_SLAB);
  private slabUsed = 0;
  private readonly pagePrograms = new Map<VAddr, PageBinary>();
  private readonly freedPages = new Set<VAddr>();
  readonly budgetLimit: number;
  budgetUsed = 0;
  packsCreated = 0;
  packsReleased = 0;

  constructor(space: AddressSpace) {
    this.space = space;
    const c = space.config;
    const span = c.arch === 'x86_64' ? c.modulesEnd - c.modulesVaddr : c.vmallocEnd - c.vmallocStart;
    this.budgetLimit = pageRound(span / 2);
  }

  // ---- bpf_prog_pack_alloc / bpf_prog_pack_free ----------------------------------------------

  /** A ROX, trap-filled block of `size` bytes: chunks of a pack, or its own area above 2 MiB. */
  packAlloc(size: number): VAddr {
    checkLength(size, 'bpf_prog_pack_alloc size');
    if (size > BPF_PROG_PACK_SIZE) return this.space.execmem.alloc('BPF', pageRound(size), { label: 'bpf (large)' });
    const n = Math.ceil(size / BPF_PROG_CHUNK_SIZE);
    for (const pack of this.packs) {
      if (pack.freeChunks < n) continue;
      const pos = pack.runs.findFirst(n);
      if (pos >= 0) return this.claim(pack, pos, n);
    }
    const base = this.space.execmem.alloc('BPF', BPF_PROG_PACK_SIZE, { huge: this.space.config.hugePacks, label: 'bpf_prog_pack' });
    const bits = new Uint32Array(BPF_PROG_CHUNK_COUNT / 32);
    const pack: Pack = {
      base,
      bits,
      freeChunks: BPF_PROG_CHUNK_COUNT,
      runStart: new Int32Array(BPF_PROG_CHUNK_COUNT).fill(-1),
      runLength: new Int32Array(BPF_PROG_CHUNK_COUNT),
      state: new Uint8Array(BPF_PROG_CHUNK_COUNT),
      runs: new RunIndex(bits),
    };
    this.releasedPacks.delete(base);
    this.packs.push(pack);
    this.packsCreated++;
    return this.claim(pack, 0, n);
  }

  private claim(pack: Pack, pos: number, n: number): VAddr {
    setBits(pack.bits, pos, n);
    pack.freeChunks -= n;
    pack.runStart.fill(pos, pos, pos + n);
    pack.runLength[pos] = n;
    pack.state.fill(0, pos, pos + n);
    pack.state[pos] = ALLOCATED;
    pack.runs.update(pos >>> 5, (pos + n - 1) >>> 5);
    return pack.base + pos * BPF_PROG_CHUNK_SIZE;
  }

  /** Invalidate with traps and release chunks (and the pack once empty). */
  packFree(addr: VAddr, size: number): void {
    if (size > BPF_PROG_PACK_SIZE) {
      this.space.execmem.free(addr);
      return;
    }
    const pack = this.packContaining(addr);
    if (pack === null) throw new ForeignFreeError(addr, 'bpf_prog_pack chunk');
    const pos = (addr - pack.base) / BPF_PROG_CHUNK_SIZE;
    const n = Math.ceil(size / BPF_PROG_CHUNK_SIZE);
    if (!Number.isInteger(pos) || pack.runStart[pos] !== pos || pack.runLength[pos] !== n) {
      throw new ForeignFreeError(addr, 'bpf_prog_pack chunk', `size ${size} does not match the allocation`);
    }
    this.space.poker.textPokeSet(addr, this.space.config.trapWord, n * BPF_PROG_CHUNK_SIZE, { op: 'bpf_arch_text_invalidate' });
    clearBits(pack.bits, pos, n);
    pack.runStart.fill(-1, pos, pos + n);
    pack.runLength[pos] = 0;
    pack.freeChunks += n;
    pack.state[pos] = FREED;
    pack.runs.update(pos >>> 5, (pos + n - 1) >>> 5);
    if (pack.freeChunks === BPF_PROG_CHUNK_COUNT) {
      this.packs.splice(this.packs.indexOf(pack), 1);
      this.releasedPacks.set(pack.base, pack.state);
      if (this.releasedPacks.size > RELEASED_PACKS_REMEMBERED) this.releasedPacks.delete(this.releasedPacks.keys().next().value as VAddr);
      this.space.execmem.free(pack.base);
      this.packsReleased++;
    }
  }

  // ---- bpf_jit_binary_pack_alloc / _finalize / _free ------------------------------------------

  /** Allocate a packed JIT image of `progLen` bytes; `align` (power of two ≤ 8) of the entry. */
  binaryPackAlloc(progLen: number, align = 4, privileged = true): PackedBinary {
    checkLength(progLen, 'BPF program length');
    checkAlign(align);
    const size = roundUp(progLen + BPF_BINARY_HEADER_SIZE + BPF_PACK_SLACK, BPF_PROG_CHUNK_SIZE);
    this.charge(size, privileged);
    let header: VAddr;
    try {
      header = this.packAlloc(size);
    } catch (e) {
      this.budgetUsed -= size;
      throw e;
    }
    const rw = this.stagingBuffer(size);
    rw[0] = size & 0xff;
    rw[1] = (size >>> 8) & 0xff;
    rw[2] = (size >>> 16) & 0xff;
    rw[3] = size >>> 24;
    const hole = Math.min(size - (progLen + BPF_BINARY_HEADER_SIZE), BPF_PROG_CHUNK_SIZE - BPF_BINARY_HEADER_SIZE);
    const start = this.space.rng.below(hole) & ~(align - 1);
    const off = BPF_BINARY_HEADER_SIZE + start;
    if (size > BPF_PROG_PACK_SIZE) {
      this.bigPrograms.set(header, { size, finalized: false });
      this.freedBig.delete(header);
    }
    this.packedLive++;
    return { header, image: header + off, size, progLen, rw, rwImageOffset: off, finalized: false };
  }

  /**
   * Copy the staged image into the pack with text_poke_copy and release the staging buffer.
   * `flush: false` leaves the arm64 I-cache maintenance to the caller (the BPF JIT flushes itself).
   */
  binaryPackFinalize(bin: PackedBinary, opts: { flush?: boolean } = {}): void {
    const size = this.liveSize(bin.header, 'finalize');
    if (this.isFinalized(bin.header) || bin.finalized) {
      throw new InvalidArgumentError(`BPF binary at ${hexAddr(bin.header)} is already finalized`, { address: hexAddr(bin.header) });
    }
    if (bin.rw.length !== size) throw new InvalidArgumentError(`staging buffer is ${bin.rw.length} bytes, the allocation ${size}`, { address: hexAddr(bin.header) });
    const field = ((bin.rw[0] as number) | ((bin.rw[1] as number) << 8) | ((bin.rw[2] as number) << 16) | ((bin.rw[3] as number) << 24)) >>> 0;
    if (field !== size) {
      throw new InvalidArgumentError(`staging header size field was overwritten (must stay ${size})`, { address: hexAddr(bin.header) });
    }
    this.space.poker.textPokeCopy(bin.header, bin.rw, { op: 'bpf_jit_binary_pack_finalize', ...(opts.flush === false ? { flush: false } : {}) });
    this.markFinalized(bin.header);
    bin.finalized = true;
    bin.rw = new Uint8Array(0);
  }

  /** Size of the live packed program at `header`, or a Foreign/DoubleFreeError naming `what`. */
  private liveSize(header: VAddr, what: string): number {
    const big = this.bigPrograms.get(header);
    if (big !== undefined) return big.size;
    const pack = this.packContaining(header);
    if (pack !== null) {
      const pos = (header - pack.base) / BPF_PROG_CHUNK_SIZE;
      if (Number.isInteger(pos)) {
        const st = pack.state[pos] as number;
        if (pack.runStart[pos] === pos && (st === ALLOCATED || st === FINALIZED)) return (pack.runLength[pos] as number) * BPF_PROG_CHUNK_SIZE;
        if (st === FREED) throw new DoubleFreeError(header, 'packed BPF binary');
      }
    } else {
      if (this.freedBig.has(header)) throw new DoubleFreeError(header, 'packed BPF binary');
      for (const [base, state] of this.releasedPacks) {
        const pos = (header - base) / BPF_PROG_CHUNK_SIZE;
        if (pos >= 0 && pos < BPF_PROG_CHUNK_COUNT && state[pos] === FREED) throw new DoubleFreeError(header, 'packed BPF binary (its pack was released)');
      }
    }
    throw new ForeignFreeError(header, 'packed BPF binary', what === 'free' ? '' : `cannot ${what}`);
  }

  private isFinalized(header: VAddr): boolean {
    const big = this.bigPrograms.get(header);
    if (big !== undefined) return big.finalized;
    const pack = this.packContaining(header) as Pack;
    return pack.state[(header - pack.base) / BPF_PROG_CHUNK_SIZE] === FINALIZED;
  }

  private markFinalized(header: VAddr): void {
    const big = this.bigPrograms.get(header);
    if (big !== undefined) big.finalized = true;
    else {
      const pack = this.packContaining(header) as Pack;
      pack.state[(header - pack.base) / BPF_PROG_CHUNK_SIZE] = FINALIZED;
    }
  }

  /**
   * bpf_jit_binary_pack_free. Given the PackedBinary of an unfinalized image, first poke-copies the
   * header's size field (the JIT error path); given an entry or header address, reads the size from
   * the RO header.
   */
  binaryPackFree(target: PackedBinary | VAddr): void {
    const header = typeof target === 'number' ? this.headerOf(target, BPF_PROG_CHUNK_SIZE) : target.header;
    const allocated = this.liveSize(header, 'free');
    if (!this.isFinalized(header)) {
      if (typeof target === 'number') {
        throw new InvalidArgumentError(`BPF binary at ${hexAddr(header)} was never finalized: free it with its PackedBinary`, { address: hexAddr(header) });
      }
      const sizeField = Uint8Array.of(allocated & 0xff, (allocated >>> 8) & 0xff, (allocated >>> 16) & 0xff, allocated >>> 24);
      this.space.poker.textPokeCopy(header, sizeField, { op: 'bpf_jit_binary_pack_free: header size' });
      target.rw = new Uint8Array(0);
    }
    const size = this.readU32(header);
    if (size !== allocated) throw new ForeignFreeError(header, 'packed BPF binary', `RO header says ${size} bytes, allocated ${allocated}`);
    if (size > BPF_PROG_PACK_SIZE) {
      this.bigPrograms.delete(header);
      this.freedBig.add(header);
    }
    this.packFree(header, size);
    this.packedLive--;
    this.budgetUsed -= size;
  }

  /** A little-endian u32 read through the page tables (read permission). */
  private readU32(addr: VAddr): number {
    const host = this.space.translate(addr, 'read');
    const m = this.space.frames.bytes();
    return ((m[host] as number) | ((m[host + 1] as number) << 8) | ((m[host + 2] as number) << 16) | ((m[host + 3] as number) << 24)) >>> 0;
  }

  // ---- bpf_jit_binary_alloc / lock_ro / free (page path) ---------------------------------------

  binaryAlloc(progLen: number, align = 4, privileged = true): PageBinary {
    checkLength(progLen, 'BPF program length');
    checkAlign(align);
    const size = pageRound(progLen + BPF_BINARY_HEADER_SIZE + BPF_PAGE_SLACK);
    this.charge(size, privileged);
    let header: VAddr;
    try {
      header = this.space.execmem.allocRw('BPF', size, { label: 'bpf (page)' });
    } catch (e) {
      this.budgetUsed -= size;
      throw e;
    }
    this.space.fillWritable(header, size, 'trap', 'bpf_jit_binary_alloc: fill');
    const sizeField = new Uint8Array(4);
    new DataView(sizeField.buffer).setUint32(0, size, true);
    this.space.write(header, sizeField);
    const hole = Math.min(size - (progLen + BPF_BINARY_HEADER_SIZE), PAGE_SIZE - BPF_BINARY_HEADER_SIZE);
    const start = this.space.rng.below(hole) & ~(align - 1);
    const bin: PageBinary = { header, image: header + BPF_BINARY_HEADER_SIZE + start, size, progLen };
    this.pagePrograms.set(header, bin);
    this.freedPages.delete(header);
    return bin;
  }

  /** bpf_jit_binary_lock_ro: seal the whole image ROX (flush-reset perms are set on the area). */
  binaryLockRo(header: VAddr): void {
    const bin = this.pageProgram(header);
    this.space.execmem.restoreRox(bin.header, bin.size);
  }

  binaryFree(target: VAddr): void {
    checkAddress(target, 'BPF binary address');
    const header = this.headerOf(target, PAGE_SIZE);
    const bin = this.pagePrograms.get(header);
    if (bin === undefined) {
      if (this.freedPages.has(header)) throw new DoubleFreeError(header, 'BPF binary');
      throw new ForeignFreeError(header, 'BPF binary');
    }
    this.space.execmem.free(header);
    this.pagePrograms.delete(header);
    this.freedPages.add(header);
    this.budgetUsed -= bin.size;
  }

  // ---- Queries --------------------------------------------------------------------------------

  /** The allocated program [start, end) containing `addr` inside a pack; null if free or no pack. */
  programBounds(addr: VAddr): { pack: Pack; start: VAddr; end: VAddr } | null | undefined {
    const pack = this.packContaining(addr);
    if (pack === null) return undefined;
    const chunk = Math.floor((addr - pack.base) / BPF_PROG_CHUNK_SIZE);
    const first = pack.runStart[chunk] as number;
    if (first < 0) return null;
    const start = pack.base + first * BPF_PROG_CHUNK_SIZE;
    return { pack, start, end: start + (pack.runLength[first] as number) * BPF_PROG_CHUNK_SIZE };
  }

  packContaining(addr: VAddr): Pack | null {
    for (const p of this.packs) if (addr >= p.base && addr < p.base + BPF_PROG_PACK_SIZE) return p;
    return null;
  }

  packList(): readonly Pack[] {
    return this.packs;
  }

  report(): PackReport[] {
    return this.packs.map((p) => {
      let programs = 0;
      for (let i = 0; i < BPF_PROG_CHUNK_COUNT; i++) if ((p.runLength[i] as number) > 0) programs++;
      const used = BPF_PROG_CHUNK_COUNT - p.freeChunks;
      return { base: p.base, usedChunks: used, programs, utilisation: used / BPF_PROG_CHUNK_COUNT };
    });
  }

  livePrograms(): number {
    return this.packedLive + this.pagePrograms.size;
  }

  pageProgramList(): PageBinary[] {
    return [...this.pagePrograms.values()];
  }

  digest(): string {
    const packs = this.packs.map((p) => `${p.base}:${p.freeChunks}:${Array.from(p.bits).join('.')}:${p.state.join('')}`).join(',');
    return `${packs}|${[...this.bigPrograms].map(([a, r]) => `${a}+${r.size}${r.finalized ? 'F' : ''}`).join(',')}|${this.packedLive}|${[...this.pagePrograms.keys()].join(',')}|${this.budgetUsed}`;
  }

  private pageProgram(header: VAddr): PageBinary {
    checkAddress(header, 'BPF binary header');
    const bin = this.pagePrograms.get(header);
    if (bin === undefined) throw new ForeignFreeError(header, 'BPF binary');
    return bin;
  }

  private headerOf(entry: VAddr, align: number): VAddr {
    checkAddress(entry, 'BPF image address');
    return entry - modulo(entry, align);
  }

  private charge(size: number, privileged: boolean): void {
    if (this.budgetUsed + size > this.budgetLimit && !privileged) {
      throw new BpfJitBudgetError(`BPF JIT budget exhausted: ${this.budgetUsed} + ${size} > ${this.budgetLimit} bytes`, {
        used: this.budgetUsed,
        size,
        limit: this.budgetLimit,
      });
    }
    this.budgetUsed += size;
  }

  /**
   * A trap-filled RW staging buffer (the kernel's kvmalloc'ed shadow). Small ones are views into a
   * shared slab so that allocation stays cheap; each is a plain Uint8Array of exactly `size` bytes.
   */
  private stagingBuffer(size: number): Uint8Array {
    const c = this.space.config;
    if (size > STAGING_SLAB / 8) {
      const big = new Uint8Array(size);
      fillUnits(big, c.trapWord, c.trapUnit, 0, size);
      return big;
    }
    // Buffers start 8-byte aligned, so a word fill's rounded-up last word lies in this buffer's
    // alignment padding, which no other buffer uses.
    if (this.slabUsed + size > STAGING_SLAB) {
      this.slab = new ArrayBuffer(STAGING_SLAB);
      this.slabUsed = 0;
    }
    const start = this.slabUsed;
    const buf = new Uint8Array(this.slab, start, size);
    this.slabUsed = roundUp(start + size, 8);
    fillUnits(buf, c.trapWord, c.trapUnit, 0, size);
    return buf;
  }
}

function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

function checkAlign(align: number): void {
  if (![1, 2, 4, 8].includes(align)) throw new InvalidArgumentError(`image alignment must be 1, 2, 4 or 8, got ${align}`, { align });
}
