// The W^X auditor: an independent record of every permission transition and every write to mapped
// memory, and the check behind `AddressSpace.audit()`.
//
// Rules it enforces (reference/execmem.md §4, §7 lessons 1, 4, 6, 24):
// - No page is ever writable and executable at once: a transition to W+X is refused before it
//   happens (WxViolationError naming the page and the operation).
// - No byte of an executable page changes except through text_poke: the auditor keeps a shadow
//   copy of every frame from the moment it becomes executable, updated only by text_poke writes;
//   `audit()` compares each executable frame with its shadow, so a store that bypassed the page
//   tables (a stray write into `memory.buffer`) is reported with its page. A frame mapped
//   executable straight after a trap fill (a new pack, module or ROX area) is shadowed as "all trap
//   units" without copying its bytes; its shadow bytes are written out (materialised) before the
//   first text_poke into it, and `audit()` compares such a frame with the trap pattern, so the
//   check is the same as against a copied shadow.
// - Counters (transitions, permission flips, pokes, poke steps, bytes) feed the lessons; the logs
//   keep only the most recent events so long fuzz runs stay small.

import { Buffer } from 'node:buffer';
import { type VAddr, hexAddr } from '../support/u64.js';
import { PAGE_SIZE, PERM_W, PERM_X, type Perm, permString } from './types.js';
import { WxViolationError } from './errors.js';

export type WriteVia = 'text_poke' | 'store' | 'fill' | 'insn-raw' | 'boot';

export interface PermTransition {
  seq: number;
  page: VAddr;
  from: Perm | null;
  to: Perm | null;
  op: string;
}

export interface WriteRecord {
  seq: number;
  addr: VAddr;
  len: number;
  via: WriteVia;
  op: string;
}

export interface AuditViolation {
  page: string;
  operation: string;
  what: string;
}

export interface AuditCounters {
  /** Page-level permission transitions, including map (from null) and unmap (to null). */
  transitions: number;
  /** Changes of permission on pages that stay mapped (set_memory_* calls, per page). */
  flips: number;
  /** set_memory_*-style operations (one per call, whatever its length). */
  flipOps: number;
  writes: number;
  pokes: number;
  /** Alias map/write/unmap steps taken by text_poke (≤ 2 pages each on x86, 1 on arm64). */
  pokeSteps: number;
  pokeBytes: number;
  rawInsnWrites: number;
}

export interface AuditReport extends AuditCounters {
  ok: boolean;
  executablePages: number;
  wxPages: string[];
  violations: AuditViolation[];
  recentTransitions: { page: string; from: string; to: string; op: string }[];
  recentWrites: { addr: string; len: number; via: WriteVia; op: string }[];
}

const LOG = 64;
/** Shadow allocation unit: one frame group (frames.ts FRAMES_PER_GROUP × PAGE_SIZE); pages never straddle it. */
export const SHADOW_CHUNK = 2 * 1024 * 1024;

export class Auditor {
  readonly counters: AuditCounters = {
    transitions: 0,
    flips: 0,
    flipOps: 0,
    writes: 0,
    pokes: 0,
    pokeSteps: 0,
    pokeBytes: 0,
    rawInsnWrites: 0,
  };
  private seq = 0;
  private readonly transitionLog = new Ring<PermTransition>();
  private readonly writeLog = new Ring<WriteRecord>();
  private readonly violations: AuditViolation[] = [];
  /** Shadow bytes per 2 MiB of physical memory, allocated when a frame in it first turns executable. */
  private readonly shadowGroups: (Uint8Array | undefined)[] = [];
  /**
   * Per 2 MiB group, per frame: 0 = the shadow bytes are the record; 1 / 4 = the frame is recorded
   * as filled with the byte / 32-bit word in `uniformValue` (shadow bytes not written yet).
   */
  private readonly uniformUnit: (Uint8Array | undefined)[] = [];
  private readonly uniformValue: (Uint32Array | undefined)[] = [];
  /** One page of the last uniform pattern compared (value, unit), for frameMatches. */
  private pattern: { value: number; unit: number; page: Uint8Array } | null = null;

  /** Refuse a transition to W+X before it happens. */
  checkTransition(page: VAddr, to: Perm | null, op: string): void {
    if (to !== null && to & PERM_W && to & PERM_X) {
      throw new WxViolationError(page, op, `the page would become ${permString(to)}`);
    }
  }

  /**
   * Record a page transition; `frameOffset` is the frame's byte offset (for the content shadow).
   * `fill` says the frame holds nothing but the trap unit `fill.value` (the caller has just filled
   * it): a frame turning executable is then shadowed as that pattern instead of by a copy.
   */
  transition(page: VAddr, from: Perm | null, to: Perm | null, op: string, frameOffset: number, mem: Uint8Array, fill?: { value: number; unit: 1 | 4 }): void {
    this.checkTransition(page, to, op);
    this.counters.transitions++;
    if (from !== null && to !== null) this.counters.flips++;
    const slot = this.transitionLog.reuse();
    if (slot === null) this.transitionLog.push({ seq: ++this.seq, page, from, to, op });
    else {
      slot.seq = ++this.seq;
      slot.page = page;
      slot.from = from;
      slot.to = to;
      slot.op = op;
      this.transitionLog.push(slot);
    }
    const wasX = from !== null && (from & PERM_X) !== 0;
    const isX = to !== null && (to & PERM_X) !== 0;
    if (isX && !wasX) {
      if (fill !== undefined) this.recordUniform(frameOffset, fill.value, fill.unit);
      else {
        const chunk = this.shadowChunk(frameOffset);
        chunk.set(mem.subarray(frameOffset, frameOffset + PAGE_SIZE), frameOffset % SHADOW_CHUNK);
      }
    }
  }

  private recordUniform(frameOffset: number, value: number, unit: 1 | 4): void {
    const g = Math.floor(frameOffset / SHADOW_CHUNK);
    let units = this.uniformUnit[g];
    let values = this.uniformValue[g];
    if (units === undefined || values === undefined) {
      while (this.uniformUnit.length <= g) {
        this.uniformUnit.push(undefined);
        this.uniformValue.push(undefined);
      }
      units = this.uniformUnit[g] = new Uint8Array(SHADOW_CHUNK / PAGE_SIZE);
      values = this.uniformValue[g] = new Uint32Array(SHADOW_CHUNK / PAGE_SIZE);
    }
    const f = (frameOffset % SHADOW_CHUNK) / PAGE_SIZE;
    units[f] = unit;
    values[f] = value >>> 0;
  }

  /** The uniform unit (1 or 4) recorded for the frame holding `off`, 0 when its shadow bytes are the record. */
  private uniformOf(off: number): number {
    const units = this.uniformUnit[Math.floor(off / SHADOW_CHUNK)];
    return units === undefined ? 0 : (units[Math.floor((off % SHADOW_CHUNK) / PAGE_SIZE)] as number);
  }

  /** Write out the shadow bytes of a uniformly recorded frame (before a write changes part of it). */
  private materialise(off: number, chunk: Uint8Array): void {
    const g = Math.floor(off / SHADOW_CHUNK);
    const f = Math.floor((off % SHADOW_CHUNK) / PAGE_SIZE);
    const units = this.uniformUnit[g] as Uint8Array;
    const unit = units[f] as number;
    const value = (this.uniformValue[g] as Uint32Array)[f] as number;
    const at = f * PAGE_SIZE;
    if (unit === 1) chunk.fill(value, at, at + PAGE_SIZE);
    else new Uint32Array(chunk.buffer, chunk.byteOffset + at, PAGE_SIZE / 4).fill(value);
    units[f] = 0;
  }

  flipOp(): void {
    this.counters.flipOps++;
  }

  /** Record a write; a write into executable memory that is not text_poke is a violation. */
  write(addr: VAddr, len: number, via: WriteVia, op: string, pagePerm: Perm): void {
    if (pagePerm & PERM_X && via !== 'text_poke' && via !== 'insn-raw' && via !== 'boot') {
      const page = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
      this.violations.push({ page: hexAddr(page), operation: op, what: `${via} write to an executable page` });
      throw new WxViolationError(page, op, `${via} write of ${len} bytes to executable memory`);
    }
    this.counters.writes++;
    if (via === 'insn-raw') this.counters.rawInsnWrites++;
    const slot = this.writeLog.reuse();
    if (slot === null) this.writeLog.push({ seq: ++this.seq, addr, len, via, op });
    else {
      slot.seq = ++this.seq;
      slot.addr = addr;
      slot.len = len;
      slot.via = via;
      slot.op = op;
      this.writeLog.push(slot);
    }
  }

  poke(bytes: number): void {
    this.counters.pokes++;
    this.counters.pokeBytes += bytes;
  }

  pokeStep(): void {
    this.counters.pokeSteps++;
  }

  /** A text_poke (or boot/raw instruction) write of ≤ one page landed at host offset `off`: update the shadow. */
  codeStored(off: number, len: number, mem: Uint8Array): void {
    this.shadowChunk(off).set(mem.subarray(off, off + len), off % SHADOW_CHUNK);
  }

  /**
   * The shadow bytes of the 2 MiB of physical memory holding host offset `off` (index them with
   * `off % SHADOW_CHUNK`), for writers that mirror a store of ≤ one page into the frame holding
   * `off` (a uniformly recorded frame has its shadow bytes written out first).
   */
  shadowChunk(off: number): Uint8Array {
    const g = Math.floor(off / SHADOW_CHUNK);
    let chunk = this.shadowGroups[g];
    if (chunk === undefined) {
      while (this.shadowGroups.length <= g) this.shadowGroups.push(undefined);
      chunk = this.shadowGroups[g] = new Uint8Array(SHADOW_CHUNK);
    }
    if (this.uniformOf(off) !== 0) this.materialise(off, chunk);
    return chunk;
  }

  /** Compare one executable frame with its shadow. */
  frameMatches(frameOffset: number, mem: Uint8Array): boolean {
    const frame = mem.subarray(frameOffset, frameOffset + PAGE_SIZE);
    const unit = this.uniformOf(frameOffset);
    if (unit !== 0) {
      const value = (this.uniformValue[Math.floor(frameOffset / SHADOW_CHUNK)] as Uint32Array)[Math.floor((frameOffset % SHADOW_CHUNK) / PAGE_SIZE)] as number;
      return Buffer.compare(frame, this.patternPage(value, unit)) === 0;
    }
    const at = frameOffset % SHADOW_CHUNK;
    return Buffer.compare(frame, this.shadowChunk(frameOffset).subarray(at, at + PAGE_SIZE)) === 0;
  }

  private patternPage(value: number, unit: number): Uint8Array {
    const p = this.pattern;
    if (p !== null && p.value === value && p.unit === unit) return p.page;
    const page = new Uint8Array(PAGE_SIZE);
    if (unit === 1) page.fill(value);
    else new Uint32Array(page.buffer).fill(value);
    this.pattern = { value, unit, page };
    return page;
  }

  report(executablePages: number, wxPages: VAddr[], extra: AuditViolation[]): AuditReport {
    const violations = [...this.violations, ...extra];
    return {
      ok: violations.length === 0 && wxPages.length === 0,
      ...this.counters,
      executablePages,
      wxPages: wxPages.map(hexAddr),
      violations,
      recentTransitions: this.transitionLog.items().map((t) => ({
        page: hexAddr(t.page),
        from: t.from === null ? 'unmapped' : permString(t.from),
        to: t.to === null ? 'unmapped' : permString(t.to),
        op: t.op,
      })),
      recentWrites: this.writeLog.items().map((w) => ({ addr: hexAddr(w.addr), len: w.len, via: w.via, op: w.op })),
    };
  }
}

/** The last LOG items, oldest first. Slots are reused once full (a long run allocates nothing). */
class Ring<T extends object> {
  private readonly buf: T[] = [];
  private next = 0;

  /** The slot to overwrite with the newest item, or null while the ring is still filling. */
  reuse(): T | null {
    return this.buf.length < LOG ? null : (this.buf[this.next] as T);
  }

  push(item: T): void {
    if (this.buf.length < LOG) this.buf.push(item);
    else this.buf[this.next] = item;
    this.next = (this.next + 1) % LOG;
  }

  items(): T[] {
    const order = this.buf.length < LOG ? this.buf : [...this.buf.slice(this.next), ...this.buf.slice(0, this.next)];
    return order.map((x) => ({ ...x }));
  }
}
