// The translation tier of one machine: hotness counting at block dispatch, region formation from
// the decode cache, compilation (region.ts), the cache of compiled regions, invalidation, and the
// run loop that moves between translated regions without returning to the interpreter.
//
// Invariants:
// - Regions are built only from valid decode-cache blocks (whose fetch permission and Capstone
//   check the cache already did) and are never entered after any of their blocks was invalidated
//   (text_poke / mappingChanged / cache flush), checked before every entry after such an event.
// - Entering translated code never changes results: registers, flags, memory, Counters and every
//   fault are exactly the interpreter's (faulting or unusual instructions run in the interpreter,
//   see types.ts); with an observer or a tracer installed the machine does not use the tier.
// - `run` throws only what the interpreter's own dispatch would throw (fetch faults of the next
//   pc, from Machine.lookup), with Machine.insns/branches already exact.

import { InvariantError } from '../../support/errors.js';
import { vaddrFromPair, isCanonicalPair } from '../../support/u64.js';
import type { Machine } from '../machine.js';
import { compileRegion, type CompiledRegion } from './region.js';
import { MISS_NONE, type Scratch, scratchFor, SLOTS_AT, XR_BLOCK, XR_BRANCHES, XR_INSN, XR_LOADS, XR_MISS_ADDR, XR_MISS_KIND, XR_PC, XR_REM, XR_STATUS, XR_STORES } from './scratch.js';
import { type ArchTranslator, EXIT_BLOCK, EXIT_PC, type GuestBlock, type Tier } from './types.js';

/** Dispatches of a block before it is translated (auto tier); a self-looping block needs 2. */
export const HOT_THRESHOLD = 40;
/**
 * Instructions one entry into translated code may retire before it returns (as if the budget
 * ended there; the run loop enters again at once). Wasm has no on-stack replacement, so a long
 * loop entered once would stay in V8's baseline code; slices let the optimised code take over.
 */
const SLICE_INSNS = 1 << 24;
/** Most blocks in one region. */
export const MAX_REGION_BLOCKS = 24;
/** Compiled regions kept per machine before all are dropped (like a decode-cache flush). */
const MAX_REGIONS = 1024;
const NO_REGION = 0;

interface Region {
  readonly c: CompiledRegion;
  dead: boolean;
}

export interface TierStats {
  regions: number;
  blocksTranslated: number;
  translateMicros: number;
  entries: number;
  exits: number;
  failed: number;
  /** Instructions retired inside translated code. */
  translatedInsns: number;
}

/** Default tier: JITBOX_TIER when set to a tier name, else auto. */
export function defaultTier(): Tier {
  const t = typeof process !== 'undefined' ? process.env.JITBOX_TIER : undefined;
  return t === 'interp' || t === 'translate' || t === 'auto' ? t : 'auto';
}

export function isTier(t: unknown): t is Tier {
  return t === 'interp' || t === 'translate' || t === 'auto';
}

export class TranslationTier {
  readonly machine: Machine;
  readonly tr: ArchTranslator;
  /** Record index (within the returned block) where the interpreter resumes, or -1 (block start). */
  resume = -1;
  threshold = HOT_THRESHOLD;
  readonly stats: TierStats = { regions: 0, blocksTranslated: 0, translateMicros: 0, entries: 0, exits: 0, failed: 0, translatedInsns: 0 };
  private scratch: Scratch | null | undefined;
  private hot: Int32Array = new Int32Array(1024);
  /** Per block id: 0 none yet, -1 not translatable, else 1 + index into `regions` (entered at this block). */
  private at: Int32Array = new Int32Array(1024);
  private entryIdx: Int32Array = new Int32Array(1024);
  private regions: Region[] = [];
  private generation = -1;
  private dirty = false;
  private readonly unsubscribe: () => void;

  constructor(machine: Machine, tr: ArchTranslator) {
    this.machine = machine;
    this.tr = tr;
    this.unsubscribe = machine.space.subscribe({
      codeWritten: () => {
        this.dirty = true;
      },
      mappingChanged: () => {
        this.dirty = true;
      },
    });
  }

  dispose(): void {
    this.unsubscribe();
  }

  /**
   * Per decode-cache block id (indexes beyond its length: none): > 0 when entering that block runs
   * translated code. The interpreters read it where they would chain into a block, and return to
   * their dispatcher (which calls `run`) instead, so code after a resume exit goes back to wasm at
   * the next translated block. Replaced when it grows; read it afresh after every `run`.
   */
  get regionMap(): Int32Array {
    return this.at;
  }

  /** Forget every compiled region. */
  flush(): void {
    this.regions = [];
    this.at.fill(NO_REGION);
    this.hot.fill(0);
    this.dirty = false;
  }

  private sync(): void {
    const c = this.machine.cache;
    if (c.generation !== this.generation) {
      this.generation = c.generation;
      this.flush();
      return;
    }
    if (!this.dirty) return;
    this.dirty = false;
    const valid = c.blkValid;
    for (const r of this.regions) {
      if (r.dead) continue;
      if (r.c.blocks.some((b) => valid[b] !== 1)) r.dead = true;
    }
    // Drop dead regions (their wasm instances become garbage) and renumber the survivors.
    const renumber = new Int32Array(this.regions.length + 1);
    const live: Region[] = [];
    this.regions.forEach((r, k) => {
      if (!r.dead) {
        live.push(r);
        renumber[k + 1] = live.length;
      }
    });
    this.regions = live;
    const at = this.at;
    for (let b = 0; b < at.length; b++) {
      const v = at[b]!;
      if (v > 0) at[b] = renumber[v]!;
      else if (v < 0 && valid[b] !== 1) at[b] = NO_REGION;
    }
  }

  private grow(n: number): void {
    let size = this.at.length;
    while (size <= n) size *= 2;
    const g = (a: Int32Array): Int32Array => {
      const r = new Int32Array(size);
      r.set(a);
      return r;
    };
    this.at = g(this.at);
    this.hot = g(this.hot);
    this.entryIdx = g(this.entryIdx);
  }

  /**
   * Run translated code from block b for as long as possible. Returns the block the interpreter
   * runs next (with `resume` = its first record to run, -1 = from the start, already counted when
   * >= 0), or a negative lookup result (sentinel / host function) for the interpreter to handle.
   */
  run(b: number): number {
    this.resume = -1;
    if (this.scratch === undefined) this.scratch = scratchFor(this.machine.space);
    const s = this.scratch;
    if (s === null) return b;
    this.sync();
    const m = this.machine;
    const c = m.cache;
    for (;;) {
      if (b < 0) return b;
      if (b >= this.at.length) this.grow(b);
      let v = this.at[b]!;
      if (v === NO_REGION) {
        const h = ++this.hot[b]!;
        if (h < this.threshold && !(h >= 2 && c.blkLink[2 * b] === b)) return b;
        v = this.translate(b);
        if (c.generation !== this.generation) {
          this.sync();
          return b;
        }
      }
      if (v < 0) return b;
      if (m.insns + c.blkCount[b]! > m.budget || !this.tr.canEnter(m)) return b;
      const status = this.enter(s, this.regions[v - 1]!, this.entryIdx[b]!);
      const w = s.view();
      const x = s.base >> 2;
      if (status === EXIT_PC) {
        const lo = w[x + (XR_PC >> 2)]!;
        const hi = w[x + (XR_PC >> 2) + 1]!;
        if (!isCanonicalPair(lo, hi)) return this.fallback(b);
        const pc = vaddrFromPair(lo, hi);
        if (this.tr.setPc) this.tr.setPc(m, pc);
        b = m.lookup(pc);
        if (c.generation !== this.generation) this.sync();
        continue;
      }
      const nb = w[x + (XR_BLOCK >> 2)]!;
      if (status === EXIT_BLOCK) {
        // The slice ran out (enter) but the budget still covers the block: enter again, with the
        // code V8 has optimised meanwhile; else the interpreter applies its budget rule.
        if (m.insns + c.blkCount[nb]! <= m.budget) {
          b = nb;
          continue;
        }
        return nb;
      }
      const kind = w[x + (XR_MISS_KIND >> 2)]!;
      if (kind !== MISS_NONE) s.fill(w[x + (XR_MISS_ADDR >> 2)]!, w[x + (XR_MISS_ADDR >> 2) + 1]!, kind);
      this.resume = w[x + (XR_INSN >> 2)]!;
      return nb;
    }
  }

  /** A translator produced a non-canonical pc exit, which types.ts forbids. */
  private fallback(b: number): number {
    throw new InvariantError(`translated region entered at block ${b} exited to a non-canonical pc`);
  }

  private enter(s: Scratch, r: Region, entry: number): number {
    const m = this.machine;
    const w = s.view();
    const x = s.base >> 2;
    this.tr.loadState(m, w.subarray(x + (SLOTS_AT >> 2), x + (SLOTS_AT >> 2) + 2 * this.tr.slotCount));
    const rem = Math.min(m.budget - m.insns, SLICE_INSNS);
    w[x + (XR_REM >> 2)] = rem | 0;
    w[x + (XR_REM >> 2) + 1] = Math.floor(rem / 4294967296) | 0;
    w[x + (XR_MISS_KIND >> 2)] = MISS_NONE;
    this.stats.entries++;
    const status = r.c.run(entry);
    const w2 = s.view();
    this.tr.storeState(m, w2.subarray(x + (SLOTS_AT >> 2), x + (SLOTS_AT >> 2) + 2 * this.tr.slotCount));
    const left = w2[x + (XR_REM >> 2) + 1]! * 4294967296 + (w2[x + (XR_REM >> 2)]! >>> 0);
    this.stats.translatedInsns += rem - left;
    m.insns += rem - left;
    m.branches += w2[x + (XR_BRANCHES >> 2)]!;
    m.port.loads += w2[x + (XR_LOADS >> 2)]!;
    m.port.stores += w2[x + (XR_STORES >> 2)]!;
    this.stats.exits++;
    return w2[x + (XR_STATUS >> 2)]!;
  }

  /** Build and compile the region headed by block b; returns the new `at[b]`. */
  private translate(b: number): number {
    const m = this.machine;
    const c = m.cache;
    const s = this.scratch;
    if (!s) return -1;
    if (this.regions.length >= MAX_REGIONS) this.flush();
    const blocks: GuestBlock[] = [];
    const seen = new Set<number>();
    const queue = [b];
    seen.add(b);
    while (queue.length > 0 && blocks.length < MAX_REGION_BLOCKS) {
      const id = queue.shift()!;
      blocks.push(this.guestBlock(id));
      for (const next of this.successors(id)) {
        if (!seen.has(next)) {
          seen.add(next);
          queue.push(next);
        }
      }
    }
    const t0 = performance.now();
    let compiled: CompiledRegion | null;
    try {
      compiled = compileRegion(this.tr, blocks, s.base, m.space.memory, s.fillFromWasm);
    } catch (e) {
      // A translator or binaryen failure costs speed, never results: interpret this block. Tests
      // run with JITBOX_TRANSLATE_VALIDATE=1 to see it.
      if (process.env.JITBOX_TRANSLATE_VALIDATE === '1') throw e;
      compiled = null;
    }
    this.stats.translateMicros += (performance.now() - t0) * 1000;
    if (compiled === null) {
      this.stats.failed++;
      this.at[b] = -1;
      return -1;
    }
    const r: Region = { c: compiled, dead: false };
    this.regions.push(r);
    this.stats.regions++;
    this.stats.blocksTranslated += compiled.blocks.length;
    const v = this.regions.length;
    compiled.blocks.forEach((id, k) => {
      if (id >= this.at.length) this.grow(id);
      if (id === b || this.at[id]! <= 0) {
        this.at[id] = v;
        this.entryIdx[id] = k;
      }
    });
    return this.at[b]!;
  }

  /** Valid decode-cache blocks that block `id` reaches by a direct branch or fall-through. */
  private successors(id: number): number[] {
    const c = this.machine.cache;
    const out: number[] = [];
    for (const pc of this.tr.directTargets ? this.tr.directTargets(this.guestBlock(id)) : []) {
      const nb = c.find(pc);
      if (nb >= 0) out.push(nb);
    }
    for (const k of [0, 1]) {
      const l = c.blkLink[2 * id + k]!;
      if (l >= 0 && c.blkValid[l] === 1 && !out.includes(l)) out.push(l);
    }
    return out;
  }

  guestBlock(id: number): GuestBlock {
    const c = this.machine.cache;
    const pc = c.blkPc[id]!;
    return { id, pc, first: c.blkFirst[id]!, count: c.blkCount[id]!, bytes: c.blkBytes[id]!, recs: c.recs, insnPc: (k: number) => c.insnPc(id, c.blkFirst[id]! + k) };
  }
}
