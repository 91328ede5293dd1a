// Physical memory: 4 KiB frames in one growable WebAssembly.Memory (frame n at byte n·4096), plus
// the per-frame state of the direct map (x86 direct map / arm64 linear map) that aliases them.
//
// Invariants:
// - A frame is either free or owned by exactly one virtual mapping (or by the kernel image).
// - A 2 MiB leaf owns one whole "group": 512 contiguous frames starting at a multiple of 512.
//   Groups handed out whole are never used for 4 KiB frames and vice versa until freed.
// - The direct-map alias of a frame is never executable; it is read-only while the frame's vmalloc
//   mapping is not writable (x86 cpa alias processing; arm64 rodata_full), else RW.
// - x86 maps the direct map with 2 MiB pages: changing part of a group splits it (counted, like
//   vmstat direct_map_level2_splits); a later set_memory_rox that makes all 512 equal again
//   re-merges it (~v6.15, `collapses`). arm64's linear map is page-granular: nothing to split.
// - Growth happens in whole groups and calls `onGrow` (old `memory.buffer` views are detached).

import { InvariantError } from '../support/errors.js';
import { HUGE_PAGE_SIZE, PAGE_SIZE, PERM_RO, PERM_RW, type Perm } from './types.js';
import { ExecmemExhaustedError } from './errors.js';

export const FRAMES_PER_GROUP = HUGE_PAGE_SIZE / PAGE_SIZE; // 512
const WASM_PAGE = 65536;
const WASM_PAGES_PER_GROUP = HUGE_PAGE_SIZE / WASM_PAGE; // 32
/** 65536 wasm pages = 4 GiB, the memory32 limit. */
const MAX_GROUPS = 65536 / WASM_PAGES_PER_GROUP;

export class Frames {
  readonly memory: WebAssembly.Memory;
  /** Number of frames backed by the memory. */
  count = 0;
  used = new Uint8Array(0);
  /** Frames in use per group. */
  groupUsed = new Uint16Array(0);
  /** Group handed out whole for a 2 MiB leaf. */
  groupHuge = new Uint8Array(0);
  /** Direct-map permission of each frame (PERM_RW or PERM_RO; never X). */
  directPerm = new Uint8Array(0);
  /** x86: the group's direct-map 2 MiB page has been split into 4 KiB pages. */
  directSplit = new Uint8Array(0);
  directSplits = 0;
  directCollapses = 0;
  private view: Uint8Array;
  private smallHint = 0;
  /** No free frame of a non-huge group lies below this index (allocFrame scans from here). */
  private frameHint = 0;
  private readonly hugeDirectMap: boolean;
  private readonly onGrow: () => void;

  constructor(initialGroups: number, hugeDirectMap: boolean, onGrow: () => void) {
    this.memory = new WebAssembly.Memory({ initial: initialGroups * WASM_PAGES_PER_GROUP });
    this.view = new Uint8Array(this.memory.buffer);
    this.hugeDirectMap = hugeDirectMap;
    this.onGrow = onGrow;
    this.resize(initialGroups);
  }

  get groups(): number {
    return this.count / FRAMES_PER_GROUP;
  }

  /** The current byte view of physical memory (re-read after growth). */
  bytes(): Uint8Array {
    // Only this class grows the memory (and refreshes the view); a detached view has length 0.
    if (this.view.length === 0) this.view = new Uint8Array(this.memory.buffer);
    return this.view;
  }

  usedFrames(): number {
    let n = 0;
    for (let g = 0; g < this.groups; g++) n += this.groupUsed[g] as number;
    return n;
  }

  private resize(groups: number): void {
    const frames = groups * FRAMES_PER_GROUP;
    const grow = <T extends Uint8Array | Uint16Array>(old: T, n: number, make: (n: number) => T): T => {
      const a = make(n);
      a.set(old);
      return a;
    };
    this.used = grow(this.used, frames, (n) => new Uint8Array(n));
    const oldFrames = this.count;
    this.directPerm = grow(this.directPerm, frames, (n) => new Uint8Array(n));
    this.directPerm.fill(PERM_RW, oldFrames);
    this.groupUsed = grow(this.groupUsed, groups, (n) => new Uint16Array(n));
    this.groupHuge = grow(this.groupHuge, groups, (n) => new Uint8Array(n));
    this.directSplit = grow(this.directSplit, groups, (n) => new Uint8Array(n));
    this.count = frames;
  }

  /** Grow by at least `groups` (geometric, so growth and detaching stay rare). */
  private grow(groups: number): void {
    const current = this.groups;
    const want = Math.min(MAX_GROUPS, current + Math.max(groups, Math.ceil(current / 2)));
    if (want < current + groups) {
      throw new ExecmemExhaustedError('physical memory exhausted (4 GiB WebAssembly.Memory limit)', { frames: this.count });
    }
    this.memory.grow((want - current) * WASM_PAGES_PER_GROUP);
    this.resize(want);
    this.view = new Uint8Array(this.memory.buffer);
    this.onGrow();
  }

  /** Make sure `small` single frames and `huge` whole groups can be allocated without failing midway. */
  reserve(small: number, huge: number): void {
    let freeGroups = 0;
    let freeSmall = 0;
    for (let g = 0; g < this.groups; g++) {
      if (this.groupHuge[g]) continue;
      const u = this.groupUsed[g] as number;
      if (u === 0) freeGroups++;
      else freeSmall += FRAMES_PER_GROUP - u;
    }
    const needGroups = huge + Math.max(0, Math.ceil((small - freeSmall) / FRAMES_PER_GROUP));
    const missing = needGroups - freeGroups;
    if (missing > 0) this.grow(missing);
  }

  /** One 4 KiB frame (lowest free), zeroed unless the caller overwrites it anyway. */
  allocFrame(zero = true): number {
    for (let g = this.smallHint; ; g++) {
      if (g >= this.groups) this.grow(1);
      if (this.groupHuge[g] || (this.groupUsed[g] as number) >= FRAMES_PER_GROUP) continue;
      const base = g * FRAMES_PER_GROUP;
      for (let f = Math.max(base, this.frameHint); f < base + FRAMES_PER_GROUP; f++) {
        if (this.used[f]) continue;
        this.used[f] = 1;
        this.groupUsed[g] = (this.groupUsed[g] as number) + 1;
        this.smallHint = g;
        this.frameHint = f + 1;
        if (zero) this.bytes().fill(0, f * PAGE_SIZE, (f + 1) * PAGE_SIZE);
        return f;
      }
      throw new InvariantError(`frame group ${g} count disagrees with its frames`);
    }
  }

  /** A whole group for a 2 MiB leaf (zeroed unless `zero` is false): returns its first frame. */
  allocGroup(zero = true): number {
    let g = 0;
    for (; g < this.groups; g++) if (!this.groupHuge[g] && this.groupUsed[g] === 0) break;
    if (g >= this.groups) {
      const before = this.groups;
      this.grow(1);
      g = before;
    }
    this.groupHuge[g] = 1;
    this.groupUsed[g] = FRAMES_PER_GROUP;
    const base = g * FRAMES_PER_GROUP;
    this.used.fill(1, base, base + FRAMES_PER_GROUP);
    if (zero) this.bytes().fill(0, base * PAGE_SIZE, (base + FRAMES_PER_GROUP) * PAGE_SIZE);
    return base;
  }

  freeFrame(f: number): void {
    if (!this.used[f]) throw new InvariantError(`frame ${f} freed twice`);
    const g = Math.floor(f / FRAMES_PER_GROUP);
    if (this.groupHuge[g]) throw new InvariantError(`frame ${f} belongs to a 2 MiB group`);
    this.used[f] = 0;
    this.groupUsed[g] = (this.groupUsed[g] as number) - 1;
    if (g < this.smallHint) this.smallHint = g;
    if (f < this.frameHint) this.frameHint = f;
  }

  freeGroup(first: number): void {
    const g = first / FRAMES_PER_GROUP;
    if (!this.groupHuge[g]) throw new InvariantError(`group ${g} is not a 2 MiB group`);
    this.groupHuge[g] = 0;
    this.groupUsed[g] = 0;
    this.used.fill(0, first, first + FRAMES_PER_GROUP);
    if (first < this.frameHint) this.frameHint = first;
  }

  /**
   * Set the direct-map permission of frames [first, first+n) (RW or RO) and account for 2 MiB splits.
   * `mayCollapse`: the change is a set_memory_rox, which re-merges fully uniform groups (x86 ~v6.15).
   */
  setDirectPerm(first: number, n: number, perm: Perm, mayCollapse: boolean): void {
    const p = perm === PERM_RO ? PERM_RO : PERM_RW;
    for (let f = first; f < first + n; ) {
      const g = Math.floor(f / FRAMES_PER_GROUP);
      const gEnd = Math.min(first + n, (g + 1) * FRAMES_PER_GROUP);
      let changed = false;
      for (let i = f; i < gEnd; i++) {
        if (this.directPerm[i] !== p) {
          this.directPerm[i] = p;
          changed = true;
        }
      }
      if (this.hugeDirectMap && changed) {
        const uniform = this.groupUniform(g);
        if (!this.directSplit[g] && !uniform) {
          this.directSplit[g] = 1;
          this.directSplits++;
        } else if (this.directSplit[g] && uniform && mayCollapse) {
          this.directSplit[g] = 0;
          this.directCollapses++;
        }
      }
      f = gEnd;
    }
  }

  private groupUniform(g: number): boolean {
    const base = g * FRAMES_PER_GROUP;
    const p = this.directPerm[base];
    for (let i = base + 1; i < base + FRAMES_PER_GROUP; i++) if (this.directPerm[i] !== p) return false;
    return true;
  }
}
