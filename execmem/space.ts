// The simulated kernel address space: page tables over physical frames, the direct-map alias of
// every frame, kernel text, plain vmalloc, listeners, the arm64 instruction-cache state, and the
// allocators and write path built on them (execmem, ROX cache, bpf_prog_pack, modules, text_poke).
//
// Invariants (checked by the W^X auditor, execmem/audit.ts):
// - No page is ever W+X: every permission change goes through `changePerm`, which asks the auditor
//   before it changes anything. Generic RW->ROX goes RO first, then X (arm64); x86 set_memory_rox
//   clears RW and NX in one pass. ROX->RW goes NX first, then RW (reference/execmem.md §4).
// - Only text_poke (execmem/poke.ts) writes bytes of executable pages; plain writes (`write`,
//   `fillWritable`) reach only writable pages, and writable pages are never executable.
// - The direct-map alias (x86 page_offset_base / arm64 linear map) of a frame is never executable and
//   is read-only while the frame's vmalloc mapping is not writable; freeing an area resets it to RW
//   (VM_FLUSH_RESET_PERMS). Partial changes of a 2 MiB leaf split it (counted).
// - Listeners hear `mappingChanged` for every map/unmap/permission change (including alias ranges),
//   `codeWritten` for every code write, and `memoryGrown` when `memory.buffer` is replaced.
// - Operations validate their input before mutating: a thrown JitboxError leaves the state (see
//   `stateDigest`) unchanged.

import { InvalidArgumentError, InvariantError } from '../support/errors.js';
import { Rng } from '../support/rng.js';
import { type VAddr, hexAddr } from '../support/u64.js';
import {
  type Access,
  type Arch,
  type GuestMemory,
  HUGE_PAGE_SIZE,
  type MemoryListener,
  PAGE_SIZE,
  PageFault,
  type PageInfo,
  PERM_R,
  PERM_RO,
  PERM_ROX,
  PERM_RW,
  PERM_W,
  PERM_X,
  type Perm,
} from './types.js';
import { type ArchConfig, buildConfig, type ExecmemType, type SpaceOptions } from './config.js';
import { Frames, FRAMES_PER_GROUP } from './frames.js';
import { fillUnits } from './fill.js';
import { type AreaKind, type VmArea, VmapAllocator } from './vmap.js';
import { type AuditReport, type AuditViolation, Auditor } from './audit.js';
import { DoubleFreeError, ExecmemExhaustedError, ForeignFreeError } from './errors.js';
import { Execmem } from './execmem.js';
import { RoxCache } from './rox-cache.js';
import { BpfPacks } from './pack.js';
import { ModuleLoader } from './module.js';
import { type PokeOptions, TextPoker } from './poke.js';
import { checkLength } from './validate.js';
import { PageTable, type Pte } from './pagetable.js';

export type { Pte } from './pagetable.js';


export type SetMemoryOp = 'ro' | 'rw' | 'nx' | 'x' | 'rox';

export interface MapRequest {
  size: number;
  align: number;
  windows: readonly (readonly [VAddr, VAddr])[];
  kind: AreaKind;
  label: string;
  type: ExecmemType | null;
  perm: Perm;
  huge: boolean;
  fill: 'zero' | 'trap';
  flushResetPerms: boolean;
  op: string;
}

export interface KernelSymbol {
  name: string;
  address: VAddr;
  size: number;
}

export interface PermRun {
  start: VAddr;
  end: VAddr;
  perm: Perm;
  huge: boolean;
  kind: AreaKind;
  label: string;
}

export interface SpaceStats {
  mappedPages: number;
  executablePages: number;
  usedFrames: number;
  physicalBytes: number;
  vmapSplits: number;
  vmapCollapses: number;
  directMapSplits: number;
  directMapCollapses: number;
  icacheFlushes: number;
  staleLines: number;
}

const PAGES_PER_LEAF = HUGE_PAGE_SIZE / PAGE_SIZE;
/** Frames.used marker of a host-private scratch frame (allocHostScratch). */
const HOST_SCRATCH = 2;

export class AddressSpace implements GuestMemory {
  readonly arch: Arch;
  readonly config: ArchConfig;
  readonly frames: Frames;
  readonly auditor = new Auditor();
  readonly vmap = new VmapAllocator();
  /** Randomness of runtime choices (pack start offsets); layout randomness lives in `config`. */
  readonly rng: Rng;
  readonly kernelImage: VmArea;
  readonly execmem: Execmem;
  readonly roxCache: RoxCache | null;
  readonly packs: BpfPacks;
  readonly modules: ModuleLoader;
  readonly poker: TextPoker;

  private readonly pages = new PageTable();
  private readonly listeners: MemoryListener[] = [];
  private readonly staleLines = new Set<number>();
  private readonly symbols = new Map<string, KernelSymbol>();
  private readonly dataAreas = new Map<VAddr, VmArea>();
  private readonly freedData = new Set<VAddr>();
  private kernelTextMapped = 0;
  private kernelTextUsed = 0;
  private vmapSplits = 0;
  private vmapCollapses = 0;
  private icacheFlushes = 0;

  constructor(options: SpaceOptions) {
    this.config = buildConfig(options);
    this.arch = this.config.arch;
    this.rng = new Rng(this.config.seed ^ 0x5eed);
    this.frames = new Frames(8, this.config.directMapHuge, () => {
      for (const l of this.listeners) l.memoryGrown?.();
    });
    const c = this.config;
    this.kernelImage = {
      start: c.kernelTextBase,
      size: c.kernelImageSize,
      reserved: c.kernelImageSize + PAGE_SIZE,
      kind: 'kernel-image',
      label: 'kernel image',
      type: null,
      huge: false,
      flushResetPerms: false,
    };
    this.vmap.insert(this.kernelImage);
    this.ensureKernelText(16 * PAGE_SIZE);
    this.poker = new TextPoker(this);
    this.execmem = new Execmem(this);
    this.roxCache = c.roxCache ? new RoxCache(this) : null;
    this.packs = new BpfPacks(this);
    this.modules = new ModuleLoader(this);
  }

  get memory(): WebAssembly.Memory {
    return this.frames.memory;
  }

  get kernelTextBase(): VAddr {
    return this.config.kernelTextBase;
  }

  // ---- GuestMemory -------------------------------------------------------------------------

  pageInfo(addr: VAddr): PageInfo | null {
    const pte = this.pages.get(addr);
    if (pte !== undefined) return { hostOffset: pte.frame * PAGE_SIZE, perm: pte.perm, huge: pte.huge };
    const d = addr - this.config.directMapBase;
    if (d >= 0 && d < this.frames.count * PAGE_SIZE) {
      const f = Math.floor(d / PAGE_SIZE);
      if (this.frames.used[f] === HOST_SCRATCH) return null;
      const huge = this.config.directMapHuge && !this.frames.directSplit[Math.floor(f / FRAMES_PER_GROUP)];
      return { hostOffset: f * PAGE_SIZE, perm: this.frames.directPerm[f] as number, huge };
    }
    return null;
  }

  translate(addr: VAddr, access: Access): number {
    const need = access === 'read' ? PERM_R : access === 'write' ? PERM_W : PERM_X;
    const inPage = addr - Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
    const pte = this.pages.get(addr);
    if (pte !== undefined) {
      if ((pte.perm & need) === 0) throw new PageFault({ address: addr, access, perm: pte.perm });
      return pte.frame * PAGE_SIZE + inPage;
    }
    const info = this.pageInfo(addr);
    if (info === null || (info.perm & need) === 0) {
      throw new PageFault({ address: addr, access, perm: info === null ? null : info.perm });
    }
    return info.hostOffset + inPage;
  }

  read(addr: VAddr, len: number): Uint8Array {
    checkLength(len, 'read length', true);
    const out = new Uint8Array(len);
    const chunks = this.checkedChunks(addr, len, 'read');
    const mem = this.frames.bytes();
    for (const [off, host, n] of chunks) out.set(mem.subarray(host, host + n), off);
    return out;
  }

  write(addr: VAddr, bytes: Uint8Array): void {
    const chunks = this.checkedChunks(addr, bytes.length, 'write');
    const mem = this.frames.bytes();
    for (const [off, host, n] of chunks) {
      const perm = (this.pageInfo(addr + off) as PageInfo).perm;
      this.auditor.write(addr + off, n, 'store', 'write', perm);
      mem.set(bytes.subarray(off, off + n), host);
    }
  }

  staleIcacheLine(addr: VAddr, len: number): VAddr | null {
    const line = this.config.icacheLine;
    if (line === 0 || this.staleLines.size === 0 || len <= 0) return null;
    const last = Math.floor((addr + len - 1) / line);
    for (let l = Math.floor(addr / line); l <= last; l++) if (this.staleLines.has(l)) return l * line;
    return null;
  }

  subscribe(listener: MemoryListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Checked page chunks of [addr, addr+len): [offset in range, host offset, length]. */
  private checkedChunks(addr: VAddr, len: number, access: Access): [number, number, number][] {
    if (!Number.isSafeInteger(addr)) throw new InvalidArgumentError(`address must be an integer, got ${addr}`);
    const out: [number, number, number][] = [];
    let off = 0;
    while (off < len) {
      const a = addr + off;
      const host = this.translate(a, access);
      const n = Math.min(len - off, PAGE_SIZE - (a - Math.floor(a / PAGE_SIZE) * PAGE_SIZE));
      out.push([off, host, n]);
      off += n;
    }
    return out;
  }

  // ---- Page tables (kernel-internal primitives used by the allocators) -------------------------

  pte(addr: VAddr): Pte | undefined {
    return this.pages.get(addr);
  }

  /** Place and map a new area in the first window that has room, or return null (nothing changed). */
  mapNewArea(req: MapRequest): VmArea | null {
    const reserved = req.size + PAGE_SIZE;
    const align = req.huge ? HUGE_PAGE_SIZE : Math.max(req.align, PAGE_SIZE);
    let start: VAddr | null = null;
    for (const [lo, hi] of req.windows) {
      start = this.vmap.find(reserved, align, lo, hi);
      if (start !== null) break;
    }
    if (start === null) return null;
    const npages = req.size / PAGE_SIZE;
    this.auditor.checkTransition(start, req.perm, req.op);
    this.frames.reserve(req.huge ? 0 : npages, req.huge ? req.size / HUGE_PAGE_SIZE : 0);
    const area: VmArea = {
      start,
      size: req.size,
      reserved,
      kind: req.kind,
      label: req.label,
      type: req.type,
      huge: req.huge,
      flushResetPerms: req.flushResetPerms,
    };
    const frameList: number[] = [];
    if (req.huge) {
      for (let i = 0; i < req.size / HUGE_PAGE_SIZE; i++) {
        const first = this.frames.allocGroup(req.fill !== 'trap');
        for (let j = 0; j < FRAMES_PER_GROUP; j++) frameList.push(first + j);
      }
    } else {
      for (let i = 0; i < npages; i++) frameList.push(this.frames.allocFrame(req.fill !== 'trap'));
    }
    if (req.fill === 'trap') {
      for (let i = 0; i < frameList.length; ) {
        let j = i + 1;
        while (j < frameList.length && frameList[j] === (frameList[j - 1] as number) + 1) j++;
        this.trapFillHost((frameList[i] as number) * PAGE_SIZE, (j - i) * PAGE_SIZE);
        i = j;
      }
    }
    this.vmap.insert(area);
    const mem = this.frames.bytes();
    const filled = req.fill === 'trap' ? this.trapFill : undefined;
    for (let i = 0; i < npages; i++) {
      const f = frameList[i] as number;
      const page = start + i * PAGE_SIZE;
      this.pages.set(page, { frame: f, perm: req.perm, huge: req.huge, area });
      this.auditor.transition(page, null, req.perm, req.op, f * PAGE_SIZE, mem, filled);
    }
    if (!(req.perm & PERM_W)) this.setAliasPerms(frameList, PERM_RO, false);
    this.notifyMapping(start, req.size);
    return area;
  }

  /** Unmap an area, reset its direct-map alias, return its frames and forget its icache lines. */
  unmapArea(area: VmArea, op: string): void {
    const frameList: number[] = [];
    const mem = this.frames.bytes();
    for (let a = area.start; a < area.start + area.size; a += PAGE_SIZE) {
      const pte = this.pages.get(a);
      if (pte === undefined) throw new InvariantError(`area page ${hexAddr(a)} is not mapped`);
      this.auditor.transition(a, pte.perm, null, op, pte.frame * PAGE_SIZE, mem);
      this.pages.delete(a);
      frameList.push(pte.frame);
    }
    this.setAliasPerms(frameList, PERM_RW, false);
    if (area.huge) for (let i = 0; i < frameList.length; i += FRAMES_PER_GROUP) this.frames.freeGroup(frameList[i] as number);
    else for (const f of frameList) this.frames.freeFrame(f);
    this.vmap.remove(area);
    this.forgetIcache(area.start, area.size);
    this.notifyMapping(area.start, area.size);
  }

  /**
   * Change the permissions of the mapped pages [addr, addr+len) (page aligned) to `next(old)`.
   * Validates everything first; refuses W+X. `rox`: the change is a set_memory_rox (may re-merge).
   */
  changePerm(addr: VAddr, len: number, next: (old: Perm) => Perm, op: string, rox = false): void {
    const n = len / PAGE_SIZE;
    const ptes: Pte[] = [];
    for (let i = 0; i < n; i++) {
      const pte = this.pages.get(addr + i * PAGE_SIZE);
      if (pte === undefined) throw new PageFault({ address: addr + i * PAGE_SIZE, access: 'write', perm: null }, `${op}: page not mapped`);
      this.auditor.checkTransition(addr + i * PAGE_SIZE, next(pte.perm), op);
      ptes.push(pte);
    }
    this.auditor.flipOp();
    const mem = this.frames.bytes();
    const toRo: number[] = [];
    const toRw: number[] = [];
    const leaves = new Set<number>();
    for (let i = 0; i < n; i++) {
      const pte = ptes[i] as Pte;
      const p = next(pte.perm);
      if (p === pte.perm) continue;
      this.auditor.transition(addr + i * PAGE_SIZE, pte.perm, p, op, pte.frame * PAGE_SIZE, mem);
      pte.perm = p;
      (p & PERM_W ? toRw : toRo).push(pte.frame);
      if (pte.area.huge) leaves.add(Math.floor((addr + i * PAGE_SIZE) / HUGE_PAGE_SIZE) * HUGE_PAGE_SIZE);
    }
    for (const leaf of leaves) this.updateLeaf(leaf, rox);
    this.setAliasPerms(toRo, PERM_RO, rox);
    this.setAliasPerms(toRw, PERM_RW, false);
    this.notifyMapping(addr, len);
  }

  /** Split a 2 MiB leaf whose pages now differ; re-merge (x86, set_memory_rox) when uniform again. */
  private updateLeaf(base: VAddr, rox: boolean): void {
    const at = (i: number): Pte => this.pages.get(base + i * PAGE_SIZE) as Pte;
    const p0 = at(0);
    let uniform = true;
    for (let i = 1; i < PAGES_PER_LEAF && uniform; i++) if (at(i).perm !== p0.perm) uniform = false;
    if (!uniform && p0.huge) {
      for (let i = 0; i < PAGES_PER_LEAF; i++) at(i).huge = false;
      this.vmapSplits++;
    } else if (uniform && !p0.huge && rox && this.arch === 'x86_64') {
      for (let i = 0; i < PAGES_PER_LEAF; i++) at(i).huge = true;
      this.vmapCollapses++;
    }
  }

  private setAliasPerms(frameList: readonly number[], perm: Perm, rox: boolean): void {
    if (frameList.length === 0) return;
    let ascending = true;
    for (let i = 1; i < frameList.length && ascending; i++) if ((frameList[i] as number) < (frameList[i - 1] as number)) ascending = false;
    const sorted = ascending ? frameList : [...frameList].sort((a, b) => a - b);
    let runStart = sorted[0] as number;
    let prev = runStart;
    const flush = (from: number, to: number): void => {
      let changed = false;
      for (let f = from; f <= to; f++) if (this.frames.directPerm[f] !== perm) changed = true;
      if (!changed) return;
      this.frames.setDirectPerm(from, to - from + 1, perm, rox);
      this.notifyMapping(this.config.directMapBase + from * PAGE_SIZE, (to - from + 1) * PAGE_SIZE);
    };
    for (let i = 1; i < sorted.length; i++) {
      const f = sorted[i] as number;
      if (f !== prev + 1) {
        flush(runStart, prev);
        runStart = f;
      }
      prev = f;
    }
    flush(runStart, prev);
  }

  /**
   * set_memory_{ro,rw,nx,x,rox} on whole mapped pages. `x` on a writable page and `rw` on an
   * executable page are refused (W^X). x86 `rox` is one pass; arm64 does RO, then X.
   */
  setMemory(addr: VAddr, numPages: number, op: SetMemoryOp, reason = `set_memory_${op}`): void {
    if (!Number.isSafeInteger(addr) || addr % PAGE_SIZE !== 0) {
      throw new InvalidArgumentError(`${reason}: address ${hexAddr(addr)} is not page aligned`, { address: hexAddr(addr) });
    }
    checkLength(numPages, 'page count');
    const len = numPages * PAGE_SIZE;
    for (let a = addr; a < addr + len; a += PAGE_SIZE) {
      const pte = this.pte(a);
      if (pte === undefined) throw new PageFault({ address: a, access: 'read', perm: null }, `${reason}: page not mapped`);
      if (pte.area.kind === 'kernel-image') {
        throw new InvalidArgumentError(`${reason}: ${hexAddr(a)} is core kernel text`, { address: hexAddr(a) });
      }
    }
    switch (op) {
      case 'ro':
        return this.changePerm(addr, len, (p) => p & ~PERM_W, reason);
      case 'nx':
        return this.changePerm(addr, len, (p) => p & ~PERM_X, reason);
      case 'rw':
        return this.changePerm(addr, len, (p) => p | PERM_RW, reason);
      case 'x':
        return this.changePerm(addr, len, (p) => p | PERM_X, reason, true);
      case 'rox':
        if (this.arch === 'x86_64') return this.changePerm(addr, len, () => PERM_ROX, reason, true);
        this.changePerm(addr, len, (p) => p & ~PERM_W, reason);
        return this.changePerm(addr, len, (p) => p | PERM_X, reason, true);
    }
  }

  /** Plain stores of traps or zeros into writable, non-executable pages (JIT fill, cache free). */
  fillWritable(addr: VAddr, len: number, what: 'trap' | 'zero', op: string): void {
    const chunks = this.checkedChunks(addr, len, 'write');
    for (const [off, host, n] of chunks) {
      const perm = (this.pageInfo(addr + off) as PageInfo).perm;
      this.auditor.write(addr + off, n, 'fill', op, perm);
      if (what === 'trap') this.trapFillHost(host, n);
      else this.frames.bytes().fill(0, host, host + n);
    }
  }

  /** The arch trap unit as the auditor's `fill` record of a freshly trap-filled frame. */
  private get trapFill(): { value: number; unit: 1 | 4 } {
    return { value: this.config.trapWord, unit: this.config.trapUnit };
  }

  /** Fill host bytes with the arch trap (x86 INT3 bytes; arm64 BRK words, `off`/`len` 4-aligned). */
  trapFillHost(off: number, len: number): void {
    fillUnits(this.frames.bytes(), this.config.trapWord, this.config.trapUnit, off, len);
  }

  /** True when every byte of [addr, addr+len) reads as the arch trap. */
  isTrapFilled(addr: VAddr, len: number): boolean {
    const bytes = this.read(addr, len);
    const t = this.config.trapWord;
    for (let i = 0; i < bytes.length; i++) {
      const want = this.config.trapUnit === 1 ? t : (t >>> (8 * ((addr + i) & 3))) & 0xff;
      if (bytes[i] !== want) return false;
    }
    return true;
  }

  notifyMapping(addr: VAddr, len: number): void {
    for (const l of this.listeners) l.mappingChanged?.(addr, len);
  }

  notifyCode(addr: VAddr, len: number): void {
    for (const l of this.listeners) l.codeWritten?.(addr, len);
  }

  // ---- arm64 instruction cache ----------------------------------------------------------------

  /** Lines of [addr, addr+len) now hold bytes the instruction cache has not seen (arm64). */
  markIcacheStale(addr: VAddr, len: number): void {
    const line = this.config.icacheLine;
    if (line === 0 || len <= 0) return;
    const last = Math.floor((addr + len - 1) / line);
    for (let l = Math.floor(addr / line); l <= last; l++) this.staleLines.add(l);
  }

  /** flush_icache_range(addr, addr+len): DC CVAU, DSB, IC IVAU, DSB, ISB over the lines (arm64). */
  flushIcacheRange(addr: VAddr, len: number): void {
    if (!Number.isSafeInteger(addr)) throw new InvalidArgumentError(`address must be an integer, got ${addr}`);
    checkLength(len, 'flush length', true);
    this.icacheFlushes++;
    this.forgetIcache(addr, len);
  }

  private forgetIcache(addr: VAddr, len: number): void {
    const line = this.config.icacheLine;
    if (line === 0 || this.staleLines.size === 0 || len <= 0) return;
    const last = Math.floor((addr + len - 1) / line);
    if (last - Math.floor(addr / line) > this.staleLines.size) {
      for (const l of [...this.staleLines]) if (l * line >= addr - line + 1 && l * line < addr + len) this.staleLines.delete(l);
      return;
    }
    for (let l = Math.floor(addr / line); l <= last; l++) this.staleLines.delete(l);
  }

  // ---- Kernel text and symbols ----------------------------------------------------------------

  private ensureKernelText(bytes: number): void {
    const want = Math.ceil(bytes / PAGE_SIZE) * PAGE_SIZE;
    if (want <= this.kernelTextMapped) return;
    if (want > this.config.kernelImageSize) {
      throw new ExecmemExhaustedError(`kernel text: ${want} bytes exceed the modelled image`, { size: want });
    }
    const mem = (): Uint8Array => this.frames.bytes();
    this.frames.reserve((want - this.kernelTextMapped) / PAGE_SIZE, 0);
    const start = this.config.kernelTextBase + this.kernelTextMapped;
    const frameList: number[] = [];
    for (let a = start; a < this.config.kernelTextBase + want; a += PAGE_SIZE) {
      const f = this.frames.allocFrame();
      this.trapFillHost(f * PAGE_SIZE, PAGE_SIZE);
      this.pages.set(a, { frame: f, perm: PERM_ROX, huge: false, area: this.kernelImage });
      this.auditor.transition(a, null, PERM_ROX, 'boot: map kernel text', f * PAGE_SIZE, mem(), this.trapFill);
      frameList.push(f);
    }
    this.setAliasPerms(frameList, PERM_RO, false);
    this.kernelTextMapped = want;
    this.notifyMapping(start, want - (start - this.config.kernelTextBase));
  }

  /**
   * Reserve `size` bytes of core kernel text (16-byte aligned, trap-filled unless `code` is given)
   * for a named kernel function such as a BPF helper; returns its address. Boot-time write
   * (text_poke_early): later changes to kernel text are refused.
   */
  defineKernelSymbol(name: string, size = 16, code?: Uint8Array): VAddr {
    if (typeof name !== 'string' || name === '') throw new InvalidArgumentError('kernel symbol needs a name');
    if (this.symbols.has(name)) throw new InvalidArgumentError(`kernel symbol "${name}" is already defined`, { name });
    checkLength(size, 'symbol size');
    if (code !== undefined && code.length > size) {
      throw new InvalidArgumentError(`kernel symbol "${name}": ${code.length} code bytes exceed its size ${size}`, { name });
    }
    const off = Math.ceil(this.kernelTextUsed / 16) * 16;
    this.ensureKernelText(off + size);
    const address = this.config.kernelTextBase + off;
    this.kernelTextUsed = off + size;
    this.symbols.set(name, { name, address, size });
    if (code !== undefined && code.length > 0) {
      const mem = this.frames.bytes();
      for (let i = 0; i < code.length; ) {
        const a = address + i;
        const pte = this.pte(a) as Pte;
        const inPage = a - Math.floor(a / PAGE_SIZE) * PAGE_SIZE;
        const n = Math.min(code.length - i, PAGE_SIZE - inPage);
        const host = pte.frame * PAGE_SIZE + inPage;
        this.auditor.write(a, n, 'boot', `boot: ${name}`, pte.perm);
        mem.set(code.subarray(i, i + n), host);
        this.auditor.codeStored(host, n, mem);
        i += n;
      }
      this.notifyCode(address, code.length);
    }
    return address;
  }

  kernelSymbol(name: string): KernelSymbol | null {
    return this.symbols.get(name) ?? null;
  }

  /** The kernel symbol whose [address, address+size) contains `addr`. */
  kernelSymbolAt(addr: VAddr): KernelSymbol | null {
    for (const s of this.symbols.values()) if (addr >= s.address && addr < s.address + s.size) return s;
    return null;
  }

  kernelSymbols(): KernelSymbol[] {
    return [...this.symbols.values()];
  }

  // ---- Plain vmalloc (RW, never executable) -----------------------------------------------------

  /** vmalloc(size) with PAGE_KERNEL: zeroed RW+NX memory for stacks, buffers, map values, tables. */
  vmalloc(size: number, label = 'vmalloc'): VAddr {
    checkLength(size, 'vmalloc size');
    const rounded = Math.ceil(size / PAGE_SIZE) * PAGE_SIZE;
    const area = this.mapNewArea({
      size: rounded,
      align: PAGE_SIZE,
      windows: [[this.config.vmallocStart, this.config.vmallocEnd]],
      kind: 'vmalloc',
      label,
      type: null,
      perm: PERM_RW,
      huge: false,
      fill: 'zero',
      flushResetPerms: false,
      op: `vmalloc(${label})`,
    });
    if (area === null) throw new ExecmemExhaustedError(`vmalloc: no room for ${size} bytes`, { size });
    this.dataAreas.set(area.start, area);
    this.freedData.delete(area.start);
    return area.start;
  }

  vfree(addr: VAddr): void {
    const area = this.dataAreas.get(addr);
    if (area === undefined) {
      if (this.freedData.has(addr)) throw new DoubleFreeError(addr, 'vmalloc area');
      throw new ForeignFreeError(addr, 'vmalloc area');
    }
    this.dataAreas.delete(addr);
    this.freedData.add(addr);
    this.unmapArea(area, `vfree(${area.label})`);
  }

  /** Live vmalloc data areas. */
  vmallocAreas(): VmArea[] {
    return [...this.dataAreas.values()];
  }

  // ---- The kernel API by its kernel names (delegating to the components) ----------------------

  /** execmem_alloc: ROX, trap-filled code memory (RW+NX for MODULE_DATA). */
  execmemAlloc(type: ExecmemType | number, size: number): VAddr {
    return this.execmem.alloc(type, size);
  }

  /** execmem_alloc_rw: RW+NX staging memory; seal with execmemRestoreRox. */
  execmemAllocRw(type: ExecmemType | number, size: number): VAddr {
    return this.execmem.allocRw(type, size);
  }

  execmemRestoreRox(addr: VAddr, size: number): void {
    this.execmem.restoreRox(addr, size);
  }

  execmemFree(addr: VAddr): void {
    this.execmem.free(addr);
  }

  execmemIsRox(type: ExecmemType | number): boolean {
    return this.execmem.isRox(type);
  }

  /** text_poke_copy / aarch64_insn_copy (arm64: `{ flush: false }` skips flush_icache_range). */
  textPokeCopy(addr: VAddr, bytes: Uint8Array, opts?: PokeOptions): void {
    this.poker.textPokeCopy(addr, bytes, opts);
  }

  /** text_poke_set (x86: byte value) / aarch64_insn_set (arm64: 32-bit word value). */
  textPokeSet(addr: VAddr, value: number, len: number, opts?: PokeOptions): void {
    this.poker.textPokeSet(addr, value, len, opts);
  }

  /** arm64 patch_text_nosync: one instruction plus its own cache maintenance. */
  patchTextNosync(addr: VAddr, insn: number): void {
    this.poker.patchTextNosync(addr, insn);
  }

  /** arm64 aarch64_insn_write: one raw instruction, no cache maintenance (the line stays stale). */
  insnWriteRaw(addr: VAddr, insn: number): void {
    this.poker.insnWriteRaw(addr, insn);
  }

  // ---- Reports ----------------------------------------------------------------------------------

  /** Consecutive pages with the same permission, leaf size and owner (direct map excluded). */
  permissionRuns(): PermRun[] {
    const runs: PermRun[] = [];
    for (const [a, pte] of this.pages.sorted()) {
      const last = runs[runs.length - 1];
      if (last && last.end === a && last.perm === pte.perm && last.huge === pte.huge && last.label === pte.area.label) {
        last.end = a + PAGE_SIZE;
      } else {
        runs.push({ start: a, end: a + PAGE_SIZE, perm: pte.perm, huge: pte.huge, kind: pte.area.kind, label: pte.area.label });
      }
    }
    return runs;
  }

  stats(): SpaceStats {
    let exec = 0;
    for (const [, pte] of this.pages.entries()) if (pte.perm & PERM_X) exec++;
    return {
      mappedPages: this.pages.size,
      executablePages: exec,
      usedFrames: this.frames.usedFrames() - this.hostScratchFrames,
      physicalBytes: this.frames.count * PAGE_SIZE,
      vmapSplits: this.vmapSplits,
      vmapCollapses: this.vmapCollapses,
      directMapSplits: this.frames.directSplits,
      directMapCollapses: this.frames.directCollapses,
      icacheFlushes: this.icacheFlushes,
      staleLines: this.staleLines.size,
    };
  }

  /**
   * The W^X audit: no W+X page (vmalloc side or direct map), the alias of every executable frame is
   * read-only, and every executable frame still holds exactly what text_poke last wrote.
   */
  audit(): AuditReport {
    const wx: VAddr[] = [];
    const extra: AuditViolation[] = [];
    const mem = this.frames.bytes();
    let exec = 0;
    for (const [page, pte] of this.pages.entries()) {
      if (pte.perm & PERM_W && pte.perm & PERM_X) wx.push(page);
      if (!(pte.perm & PERM_X)) continue;
      exec++;
      if (this.frames.directPerm[pte.frame] !== PERM_RO) {
        extra.push({ page: hexAddr(page), operation: 'audit', what: 'direct-map alias of an executable page is writable' });
      }
      if (!this.auditor.frameMatches(pte.frame * PAGE_SIZE, mem)) {
        extra.push({ page: hexAddr(page), operation: 'audit', what: 'executable bytes changed outside text_poke' });
      }
    }
    return this.auditor.report(exec, wx, extra);
  }

  /** A fingerprint of the whole model state: equal before and after any refused operation. */
  stateDigest(): string {
    const pages: string[] = [];
    for (const [page, pte] of this.pages.sorted()) {
      pages.push(`${page}:${pte.frame}:${pte.perm}:${pte.huge ? 1 : 0}`);
    }
    let h = 0x811c9dc5;
    const mem = new Int32Array(this.frames.memory.buffer);
    for (let f = 0; f < this.frames.count; f++) {
      if (!this.frames.used[f] || this.frames.used[f] === HOST_SCRATCH) continue;
      for (let i = f * 1024; i < f * 1024 + 1024; i++) h = Math.imul(h ^ (mem[i] as number), 0x01000193);
    }
    return JSON.stringify({
      pages: pages.join(','),
      memoryHash: h >>> 0,
      direct: Array.from(this.frames.directPerm).join(''),
      areas: this.vmap.list().map((a) => `${a.start}+${a.size}:${a.kind}:${a.label}`),
      stale: [...this.staleLines].sort((a, b) => a - b),
      symbols: [...this.symbols.keys()],
      data: [...this.dataAreas.keys()],
      freedData: [...this.freedData],
      stats: this.stats(),
      audit: this.auditor.counters,
      execmem: this.execmem.digest(),
      cache: this.roxCache ? this.roxCache.digest() : null,
      packs: this.packs.digest(),
      modules: this.modules.digest(),
    });
  }

  // ---- Host-private scratch (emulator translation tier) -----------------------------------------

  private hostScratchFrames = 0;

  /**
   * `bytes` (rounded up to whole frames) of contiguous physical memory for the host's own use (the
   * emulator's translated-code register file and soft TLB): taken from the frame allocator, never
   * mapped into any page table, hidden from the direct map (pageInfo says unmapped), not counted in
   * stats().usedFrames, never freed. Returns the byte offset in `memory.buffer`.
   */
  allocHostScratch(bytes: number): number {
    checkLength(bytes, 'host scratch size');
    const n = Math.ceil(bytes / PAGE_SIZE);
    const skipped: number[] = [];
    let run: number[] = [];
    while (run.length < n) {
      const f = this.frames.allocFrame();
      if (run.length > 0 && f !== (run[run.length - 1] as number) + 1) {
        skipped.push(...run);
        run = [];
      }
      run.push(f);
    }
    for (const f of skipped) this.frames.freeFrame(f);
    for (const f of run) this.frames.used[f] = HOST_SCRATCH;
    this.hostScratchFrames += n;
    return (run[0] as number) * PAGE_SIZE;
  }
}
