// The label and call-site bookkeeping both BPF backends share: one CodeBuffer, a label per BPF
// slot that is a branch target, a label per function entry, call sites recorded for the host
// (helper calls, memory checks, depth checks), and the reach test for symbols in kernel text.
//
// Invariant: reach decisions are made against every address the image may be placed at
// (`opts.imageRange`), never the one final address, so the sizing pass and the final pass at the
// ROX address lay the image out identically (reference/bpf.md §5, x86 size convergence).

import { CodeBuffer, type CodeArch, type Label } from '../buffer.js';
import { BpfJitError, type BpfCodegenOptions, type BpfCodegenResult, type JitInsn, type JitSite, type SiteKind } from './common.js';

export interface FinishedImage {
  bytes: Uint8Array;
  labels: Map<string, number>;
  relocations: { kind: string; symbol: string; offset: number; target: number }[];
}

export interface EmitterSite {
  label: Label;
  insn: number;
  kind: SiteKind;
  len: number;
}

export abstract class BpfEmitterBase<Fn> {
  readonly buf: CodeBuffer;
  protected readonly labelAtSlot = new Map<number, Label>();
  protected readonly entryAtSlot = new Map<number, Label>();
  protected readonly sites: EmitterSite[] = [];
  protected readonly checkers = new Map<string, Label>();
  protected depthChecker: Label | null = null;
  protected readonly fnByStart = new Map<number, Fn>();
  protected siteCount = 0;
  protected localCount = 0;
  protected cur = 0;

  protected constructor(
    arch: CodeArch,
    protected readonly insns: readonly JitInsn[],
    protected readonly opts: BpfCodegenOptions,
  ) {
    this.buf = new CodeBuffer(arch);
  }

  /** A fresh local label (names are unique per buffer). */
  protected local(tag: string): Label {
    return this.buf.newLabel(`.${tag}${this.localCount++}`);
  }

  /** The label of BPF slot `slot` (a branch target). */
  protected slotLabel(slot: number): Label {
    let l = this.labelAtSlot.get(slot);
    if (!l) {
      l = this.buf.newLabel(`slot${slot}`);
      this.labelAtSlot.set(slot, l);
    }
    return l;
  }

  /** The entry label of the function starting at BPF slot `slot`. */
  protected fnEntry(slot: number): Label {
    let l = this.entryAtSlot.get(slot);
    if (!l) {
      l = this.buf.newLabel(`fn${slot}`);
      this.entryAtSlot.set(slot, l);
    }
    return l;
  }

  /** Record a call site at the current position for the host (fault attribution). */
  protected site(kind: SiteKind, len = 0): void {
    const label = this.buf.newLabel(`site${this.siteCount++}`);
    this.buf.bind(label);
    this.sites.push({ label, insn: this.insns[this.cur]?.origin ?? this.cur, kind, len });
  }

  /** Whether `symbol` lies within `reach` bytes of every address the image may occupy. */
  protected withinReach(symbol: string, reach: number): boolean {
    const a = this.opts.symbolAddress(symbol);
    if (a === undefined) return false;
    const { lo, hi } = this.opts.imageRange;
    return Math.abs(a - lo) <= reach && Math.abs(a - hi) <= reach;
  }

  /** Re-run finish at the final base: same layout, displacements for `base`. */
  finishAt(base: number): FinishedImage {
    return this.buf.finish({ base, resolve: (s) => this.opts.symbolAddress(s) });
  }

  /**
   * The codegen result of a finished image: per original BPF instruction the offset of its first
   * native byte (instructions that produced nothing take the next one's offset; index n = code
   * end), call sites with their return offsets, relocations.
   */
  protected result(img: FinishedImage, offsets: readonly Label[], codeEnd: Label): BpfCodegenResult {
    const { bytes, labels } = img;
    const n = Math.max(0, ...this.insns.map((i) => (i.origin ?? 0) + 1));
    const insnOffsets = new Int32Array(n + 1).fill(-1);
    this.insns.forEach((i, k) => {
      const o = i.origin ?? k;
      const at = labels.get((offsets[k] as Label).name) as number;
      if ((insnOffsets[o] as number) < 0) insnOffsets[o] = at;
    });
    const end = labels.get(codeEnd.name) as number;
    insnOffsets[n] = end;
    for (let k = n - 1; k >= 0; k--) if ((insnOffsets[k] as number) < 0) insnOffsets[k] = insnOffsets[k + 1] as number;
    const sites: JitSite[] = this.sites.map((s) => ({ ret: labels.get(s.label.name) as number, insn: s.insn, kind: s.kind, len: s.len }));
    return {
      bytes,
      insnOffsets,
      sites,
      relocations: img.relocations.map((r) => ({ kind: r.kind, symbol: r.symbol, offset: r.offset, target: r.target })),
      labels,
      codeSize: end,
    };
  }

  /**
   * The final pass at the ROX address `base` (bpf_jit_binary_pack_alloc flow): the same layout as
   * the sizing pass `sized`, displacements for `base`. A moved label or a changed size is an error.
   */
  finalPass(base: number, sized: BpfCodegenResult): BpfCodegenResult {
    const fin = this.finishAt(base);
    if (fin.bytes.length !== sized.bytes.length) throw new BpfJitError(0, '', `final pass at the ROX address changed the image size (${sized.bytes.length} -> ${fin.bytes.length})`);
    for (const [k, v] of fin.labels) {
      if (k.startsWith('slot') && sized.labels.get(k) !== v) throw new BpfJitError(0, '', `final pass moved label ${k}`);
    }
    return { ...sized, labels: fin.labels, bytes: fin.bytes, relocations: fin.relocations.map((r) => ({ kind: r.kind, symbol: r.symbol, offset: r.offset, target: r.target })) };
  }
}
