// The label and call-site bookkeeping both BPF backends share: one CodeBuffer, a label per BPF
// slot that is a branch target, a label per function entry, a buffer mark per instruction (the
// offset table) and per call site recorded for the host (helper calls, memory checks, depth
// checks), the memory-check predicate, and the reach test for symbols in kernel text.
//
// Compile speed (the bench's >= 2 M BPF insns/s): instructions are copied once into objects of one
// shape (every later read is monomorphic), labels are anonymous (no name strings), slot labels
// live in an array and exist only for branch targets, offsets and sites are buffer marks (the
// buffer's tables are sized from the instruction count), symbol addresses are looked up once per
// symbol, and the final pass reuses the sizing pass's image and relaxation (CodeBuffer re-patches
// only base-dependent fields); it checks that every mark kept its offset and then reuses the
// sizing pass's offset table and sites.
//
// Invariant: reach decisions are made against every address the image may be placed at
// (`opts.imageRange`), never the one final address, so the sizing pass and the final pass at the
// ROX address lay the image out identically (reference/bpf.md §5, x86 size convergence).

import { CodeBuffer, type CodeArch, type Label } from '../buffer.js';
import { BpfJitError, type BpfCodegenOptions, type BpfCodegenResult, type JitInsn, type JitSite, type SiteKind } from './common.js';

export interface FinishedImage {
  bytes: Uint8Array;
  offsets: Int32Array;
  marks: Int32Array;
  relocations: { kind: string; symbol: string; offset: number; target: number }[];
}

export interface EmitterSite {
  /** Buffer mark at the return address. */
  mark: number;
  insn: number;
  kind: SiteKind;
  len: number;
}

/**
 * An instruction in the one object shape the emitters read (callers' objects differ: lddw carries
 * imm2, some have no origin), so every property access in codegen stays monomorphic.
 */
class Insn implements JitInsn {
  readonly opcode: number;
  readonly dst: number;
  readonly src: number;
  readonly off: number;
  readonly imm: number;
  readonly imm2: number;
  readonly slot: number;
  readonly origin: number;

  constructor(i: JitInsn, k: number) {
    this.opcode = i.opcode;
    this.dst = i.dst;
    this.src = i.src;
    this.off = i.off;
    this.imm = i.imm;
    this.imm2 = i.imm2 ?? 0;
    this.slot = i.slot;
    this.origin = i.origin ?? k;
  }
}

export abstract class BpfEmitterBase<Fn> {
  readonly buf: CodeBuffer;
  /** Label of each BPF slot that is a branch target (dense, one entry per slot and the end). */
  protected readonly labelAtSlot: (Label | undefined)[];
  protected readonly entryAtSlot = new Map<number, Label>();
  /** Labels the result reports by name (the tail-call landing point). */
  protected readonly named: Label[] = [];
  protected readonly sites: EmitterSite[] = [];
  /** Out-of-line checkers by `len * 4 + table` (r = 0, w = 1, p = 2), in first-use order. */
  protected readonly checkers = new Map<number, Label>();
  protected depthChecker: Label | null = null;
  protected readonly fnByStart = new Map<number, Fn>();
  protected cur = 0;
  /** Mark before each instruction (index k = instruction k) and at the end of the code. */
  protected readonly insnMarks: Int32Array;
  protected codeEnd = -1;
  private readonly symbolCache = new Map<string, number | undefined>();
  /** Final offsets of every mark in the sizing pass (the final pass must reproduce them). */
  private sizedMarks: Int32Array | null = null;

  protected readonly insns: readonly Insn[];

  protected constructor(
    arch: CodeArch,
    insns: readonly JitInsn[],
    protected readonly opts: BpfCodegenOptions,
  ) {
    const norm: Insn[] = new Array<Insn>(insns.length);
    for (let k = 0; k < insns.length; k++) norm[k] = new Insn(insns[k] as JitInsn, k);
    this.insns = norm;
    const n = insns.length;
    this.buf = new CodeBuffer(arch, Math.max(256, n * 12), { labels: (n >> 1) + 64, marks: n + (n >> 1) + 64 });
    this.insnMarks = new Int32Array(insns.length);
    const last = insns[insns.length - 1];
    this.labelAtSlot = new Array<Label | undefined>(last ? last.slot + 3 : 1).fill(undefined);
  }

  /** A fresh local label. */
  protected local(): Label {
    return this.buf.newLabel();
  }

  /** A label reported by name in the result's `labels`. */
  protected namedLabel(name: string): Label {
    const l = this.buf.newLabel(name);
    this.named.push(l);
    return l;
  }

  /** The label of BPF slot `slot` (a branch target). */
  protected slotLabel(slot: number): Label {
    let l = this.labelAtSlot[slot];
    if (l === undefined) {
      if (slot < 0 || slot >= this.labelAtSlot.length) throw new BpfJitError(this.cur, `slot ${slot}`, 'branch target outside the program');
      l = this.buf.newLabel();
      this.labelAtSlot[slot] = l;
    }
    return l;
  }

  /** Start instruction k (slot `slot`): take its offset mark and bind its label if it is a target. */
  protected startInsn(k: number, slot: number): void {
    this.cur = k;
    this.insnMarks[k] = this.buf.markHere();
    const l = this.labelAtSlot[slot];
    if (l !== undefined) this.buf.bind(l);
  }

  /** The entry label of the function starting at BPF slot `slot`. */
  protected fnEntry(slot: number): Label {
    let l = this.entryAtSlot.get(slot);
    if (!l) {
      l = this.buf.newLabel();
      this.entryAtSlot.set(slot, l);
    }
    return l;
  }

  /** Record a call site at the current position for the host (fault attribution). */
  protected site(kind: SiteKind, len = 0): void {
    this.sites.push({ mark: this.buf.markHere(), insn: this.insns[this.cur]?.origin ?? this.cur, kind, len });
  }

  /** Whether the access `i` (instruction index `k`) gets a runtime check. */
  protected isChecked(i: JitInsn, k: number): boolean {
    if (this.opts.memoryChecks === false) return false;
    return !(this.opts.proven?.has(i.origin ?? k) ?? false);
  }

  /** Whether any load, store or atomic of the program gets a runtime check (needs the fast window). */
  protected hasCheckedAccess(): boolean {
    if (this.opts.memoryChecks === false) return false;
    const insns = this.insns;
    for (let k = 0; k < insns.length; k++) {
      const i = insns[k] as JitInsn;
      const cls = i.opcode & 7;
      if ((cls === 0x01 || cls === 0x02 || cls === 0x03) && this.isChecked(i, k)) return true;
    }
    return false;
  }

  /** The address of `symbol`, looked up once per emitter. */
  protected symbolAddress(symbol: string): number | undefined {
    const cached = this.symbolCache.get(symbol);
    if (cached !== undefined || this.symbolCache.has(symbol)) return cached;
    const a = this.opts.symbolAddress(symbol);
    this.symbolCache.set(symbol, a);
    return a;
  }

  /** Whether `symbol` lies within `reach` bytes of every address the image may occupy. */
  protected withinReach(symbol: string, reach: number): boolean {
    const a = this.symbolAddress(symbol);
    if (a === undefined) return false;
    const { lo, hi } = this.opts.imageRange;
    return Math.abs(a - lo) <= reach && Math.abs(a - hi) <= reach;
  }

  /** Run finish at `base` (sizing pass: imageRange.lo; final pass: the ROX address). */
  finishAt(base: number): FinishedImage {
    return this.buf.finish({ base, resolve: (s) => this.symbolAddress(s) });
  }

  /**
   * The codegen result of a finished image: per original BPF instruction the offset of its first
   * native byte (instructions that produced nothing take the next one's offset; index n = code
   * end), call sites with their return offsets, relocations, the named labels.
   */
  protected result(img: FinishedImage): BpfCodegenResult {
    const { bytes, marks } = img;
    if (this.sizedMarks === null) this.sizedMarks = marks;
    const insns = this.insns;
    let n = 0;
    for (let k = 0; k < insns.length; k++) n = Math.max(n, ((insns[k] as JitInsn).origin ?? 0) + 1);
    const insnOffsets = new Int32Array(n + 1).fill(-1);
    for (let k = 0; k < insns.length; k++) {
      const o = (insns[k] as JitInsn).origin ?? k;
      if ((insnOffsets[o] as number) < 0) insnOffsets[o] = marks[this.insnMarks[k] as number] as number;
    }
    const end = marks[this.codeEnd] as number;
    insnOffsets[n] = end;
    for (let k = n - 1; k >= 0; k--) if ((insnOffsets[k] as number) < 0) insnOffsets[k] = insnOffsets[k + 1] as number;
    const sites: JitSite[] = this.sites.map((s) => ({ ret: marks[s.mark] as number, insn: s.insn, kind: s.kind, len: s.len }));
    return { bytes, insnOffsets, sites, relocations: plainRelocations(img), labels: this.namedOffsets(img), codeSize: end };
  }

  private namedOffsets(img: FinishedImage): Map<string, number> {
    const labels = new Map<string, number>();
    for (const l of this.named) labels.set(l.name, img.offsets[l.id] as number);
    return labels;
  }

  /**
   * The final pass at the ROX address `base` (bpf_jit_binary_pack_alloc flow): the same layout as
   * the sizing pass `sized`, displacements for `base`. A moved instruction or a changed size is an
   * error. Every mark (instruction starts, call sites, code end) must sit where the sizing pass put
   * it; when they all do, the offset table and sites are the sizing pass's.
   */
  finalPass(base: number, sized: BpfCodegenResult): BpfCodegenResult {
    const sizedMarks = this.sizedMarks;
    const fin = this.finishAt(base);
    if (fin.bytes.length !== sized.bytes.length) throw new BpfJitError(0, '', `final pass at the ROX address changed the image size (${sized.bytes.length} -> ${fin.bytes.length})`);
    const marks = fin.marks;
    let same = sizedMarks !== null && sizedMarks.length === marks.length;
    for (let k = 0; same && k < marks.length; k++) if (marks[k] !== (sizedMarks as Int32Array)[k]) same = false;
    if (!same) {
      const again = this.result(fin);
      const n = again.insnOffsets.length;
      for (let k = 0; k < n; k++) {
        if (again.insnOffsets[k] !== sized.insnOffsets[k]) throw new BpfJitError(k, '', `final pass moved instruction ${k}`);
      }
      throw new BpfJitError(0, '', 'final pass moved a call site');
    }
    return {
      bytes: fin.bytes,
      insnOffsets: sized.insnOffsets,
      sites: sized.sites,
      relocations: plainRelocations(fin),
      labels: this.namedOffsets(fin),
      codeSize: sized.codeSize,
    };
  }
}

function plainRelocations(img: FinishedImage): BpfCodegenResult['relocations'] {
  return img.relocations.map((r) => ({ kind: r.kind, symbol: r.symbol, offset: r.offset, target: r.target }));
}
