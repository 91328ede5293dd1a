// The label and call-site bookkeeping both BPF backends share: one CodeBuffer, a label per BPF
// slot that is a branch target, a label per function entry, call sites recorded for the host
// (helper calls, memory checks, depth checks), and the reach test for symbols in kernel text.
//
// Invariant: reach decisions are made against every address the image may be placed at
// (`opts.imageRange`), never the one final address, so the sizing pass and the final pass at the
// ROX address lay the image out identically (reference/bpf.md §5, x86 size convergence).

import { CodeBuffer, type CodeArch, type Label } from '../buffer.js';
import type { BpfCodegenOptions, JitInsn, SiteKind } from './common.js';

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
}
