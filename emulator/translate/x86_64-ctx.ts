// What the x86_64 translator's instruction lowerings (x86_64.ts, x86_64-shift.ts,
// x86_64-muldiv.ts) share: the per-instruction context of the block being translated. The
// context is x86_64.ts's BlockTx; the other files only see this interface.
//
// Invariants: `tmp` evaluates its expression once, at the point of the call, into a fresh local;
// `readRm` performs the instruction's memory read (which may exit before the instruction) and
// `writeRm` its memory write, so a lowering that calls them before any `e.set` keeps the
// memory-before-set rule of types.ts; a lowering that cannot translate a form throws Unsupported
// before emitting anything that matters (the block then ends with a resume exit there).

import type binaryen from 'binaryen';
import type { BlockEmitter, Expr } from './types.js';
import type { KnownFlags } from './x86_64-flags.js';

/** Thrown by a lowering when an instruction is not translated; caught by BlockTx.run. */
export class Unsupported extends Error {}

/** Getter of the effective address of the current memory operand (set by readRm). */
export interface AddrRef {
  get: () => Expr;
}

export interface X86Tx {
  readonly e: BlockEmitter;
  readonly m: binaryen.Module;
  /** The decode cache's records and the current record's word offset. */
  readonly r: Int32Array;
  readonly i: number;
  /** Index of the current instruction in its block (the resume point of its exits). */
  readonly k: number;
  /** Statically known producer of the current flags (null: read the slots generically). */
  known: KnownFlags | null;
  /** Evaluate the i64 `v` into a fresh local now; returns its getter. */
  tmp(v: Expr): () => Expr;
  /** Same for an i32 value. */
  tmp32(v: Expr): () => Expr;
  emit(...x: Expr[]): void;
  /** Register `reg` (0-15, 16-19 = ah..bh for size 1) zero-extended from `size` bytes. */
  getReg(reg: number, size: number): Expr;
  /** Statement writing `size` bytes of v to register `reg` by the SDM's merge / zero rules. */
  setReg(reg: number, size: number, v: Expr): Expr;
  /** The r/m operand is memory. */
  isMem(): boolean;
  /** The r/m operand's value (a load for memory; `addr.get` then returns its address). */
  readRm(size: number, addr?: AddrRef): Expr;
  /** Statement writing the r/m operand (memory at addr.get() after readRm, or the register). */
  writeRm(size: number, addr: AddrRef, v: Expr): Expr;
}
