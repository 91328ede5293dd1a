// The x86_64 core: register file as 16 lo/hi int32 pairs, lazy flags, and a block executor that
// walks pre-decoded records (ops.ts) with one switch per instruction (the per-block loop of the
// Bochs decode cache; QEMU-style direct block chaining through DecodeCache.blkLink).
//
// Invariants:
// - Architectural state changes only through completed instructions: an instruction that faults
//   (page fault, #DE, int3, ud2) leaves registers and memory as they were before it (read-modify-
//   write forms read, compute, then store; stores to two pages are checked before any byte moves).
// - `insns` counts retired instructions exactly, also when a fault stops a block in the middle.
// - The budget is checked at every block entry, in one place (the top of runBlocks' block loop,
//   which chained successors and self-loops also pass): a block that would overrun it does not
//   start, so BudgetExceededError reports an exact count at a block boundary, possibly up to one
//   block short of the budget.
// - A chained successor runs only while blkValid says so, checked at each entry, so a text_poke or
//   permission change (host functions are the only thing that can cause one mid-run) is seen at the
//   next entry of the affected block.
// - runBlocks keeps the decode cache's typed arrays in locals for one slice: only Machine.fill
//   (reached through lookup, i.e. from the dispatcher) replaces them; invalidation writes in place.
// - rsp/rip follow SysV: `call` pushes the sentinel return address and leaves rsp 8 below a
//   16-byte-aligned stack top, as a real call instruction would.

import { InvalidArgumentError, InvariantError } from '../../support/errors.js';
import { type U64, type VAddr, vaddrToPair, vaddrFromPair, isCanonicalPair } from '../../support/u64.js';
import { REC_WORDS } from '../decode-cache.js';
import { BudgetExceededError } from '../errors.js';
import { type MachineOptions, SENTINEL_RETURN } from '../machine.js';
import { nonCanonicalFault } from '../memory.js';
import { X86Exec } from './exec.js';
import { type GuestMemory, PageFault } from '../../execmem/types.js';
import { AF, CF, cond, eflags, F_ADD, F_LOGIC, F_SHIFT, F_SUB, OF, out, PF, setFlags, setRaw, SF, shift, ZF } from './alu.js';
import { decodeX86, specialise } from './decode.js';
import { FLAGS_UNTOUCHED, JCC_FUSED, NO_FLAGS_TWIN, REG64, WRITES_ALL_FLAGS, X } from './ops.js';
import { renderX86 } from './render.js';

const RSP = 4;
/** Literal constants (a local const enum is inlined by tsc and esbuild; imported consts are not). */
const enum K {
  REC = 8,
  F_ADD = 1,
  F_SUB = 3,
  F_LOGIC = 5,
  F_SHIFT = 9,
  /** runBlocks result: continue with block exitB (slice over, or its budget check is due). */
  RUN_ON = 3,
  /** runBlocks result: block exitB would overrun the budget (it did not start). */
  RUN_BUDGET = 4,
  /** Chained blocks runBlocks follows before returning to the dispatcher. */
  SLICE = 256,
}
const RUN_ON = K.RUN_ON;
const RUN_BUDGET = K.RUN_BUDGET;
if (F_ADD !== +K.F_ADD || F_SUB !== +K.F_SUB || F_LOGIC !== +K.F_LOGIC || F_SHIFT !== +K.F_SHIFT) {
  throw new InvariantError('x86 lazy-flag kinds out of sync with alu.ts');
}

export class X86Machine extends X86Exec {
  readonly arch = 'x86_64' as const;
  readonly regNames = REG64;
  protected readonly maxInsnBytes = 15;
  /** runBlocks' exit: the block, and the branch target of a taken or indirect exit. */
  private exitB = 0;
  private exitLo = 0;
  private exitHi = 0;

  constructor(space: GuestMemory, opts: MachineOptions = {}) {
    super(space, opts);
    setFlags(this.fl, F_LOGIC, 8, 1, 0, 0, 0, 0, 0, 0);
  }

  protected decodeInsn(bytes: Uint8Array, avail: number, pc: VAddr, recs: Int32Array, at: number): number {
    const len = decodeX86(bytes, avail, pc, recs, at);
    if (len > 0) specialise(recs, at);
    return len;
  }

  renderInsn(recs: Int32Array, at: number, pc: VAddr): string {
    return renderX86(recs, at, pc);
  }

  protected endsBlock(recs: Int32Array, at: number): boolean {
    const op = recs[at]!;
    return (
      op === X.JCC || op === X.JCC_NZ || op === X.JCC_Z || op === X.JMP || op === X.JMP_RM || op === X.CALL || op === X.CALL_RM ||
      op === X.RET || op === X.INT3 || op === X.UD2
    );
  }

  /** Dead flag elimination: a flag-writing fast op whose flags are overwritten before use. */
  protected override finishBlock(recs: Int32Array, first: number, n: number): void {
    let live = true;
    for (let k = n - 1; k >= 0; k--) {
      const at = (first + k) * REC_WORDS;
      const op = recs[at]!;
      if (WRITES_ALL_FLAGS.has(op)) {
        if (!live) {
          const twin = NO_FLAGS_TWIN.get(op);
          if (twin !== undefined) recs[at] = twin;
        }
        live = false;
      } else if (!FLAGS_UNTOUCHED.has(op)) live = true;
    }
    if (n >= 2) {
      const at = (first + n - 2) * REC_WORDS;
      const last = recs[at + REC_WORDS]!;
      const fused = JCC_FUSED.get(recs[at]!);
      if (fused !== undefined && (last === X.JCC_NZ || last === X.JCC_Z)) recs[at] = fused;
    }
  }

  /** Fetch fault for a branch of block b to a non-canonical target, at the branch's pc. */
  private badTarget(b: number, lo: number, hi: number): PageFault {
    const last = this.cache.blkFirst[b]! + this.cache.blkCount[b]! - 1;
    const pc = this.cache.insnPc(b, last);
    return this.withPc(nonCanonicalFault(lo, hi, 'fetch'), pc, this.insnText(last, pc));
  }

  protected setupCall(args: U64[], stackTop: VAddr): void {
    this.regs.fill(0);
    const regOrder = [7, 6, 2, 1, 8, 9];
    for (let k = 0; k < args.length; k++) {
      if (k >= regOrder.length) throw new RangeError('at most 6 register arguments (SysV) are supported');
      const r = regOrder[k]!;
      this.regs[2 * r] = args[k]!.lo | 0;
      this.regs[2 * r + 1] = args[k]!.hi | 0;
    }
    const top = Math.floor(stackTop / 16) * 16;
    const p = vaddrToPair(top);
    this.regs[2 * RSP] = p.lo | 0;
    this.regs[2 * RSP + 1] = p.hi | 0;
    const s = vaddrToPair(SENTINEL_RETURN);
    this.push(s.lo | 0, s.hi | 0);
    setFlags(this.fl, F_LOGIC, 8, 1, 0, 0, 0, 0, 0, 0);
  }

  returnValue(): U64 {
    return { lo: this.regs[0]! >>> 0, hi: this.regs[1]! >>> 0 };
  }

  registers(): Record<string, U64> {
    const r: Record<string, U64> = {};
    for (let i = 0; i < 16; i++) r[REG64[i]!] = { lo: this.regs[2 * i]! >>> 0, hi: this.regs[2 * i + 1]! >>> 0 };
    return r;
  }

  override setRegister(name: string, v: U64): void {
    const r = REG64.indexOf(name);
    if (r < 0 || r === RSP) throw new InvalidArgumentError(`x86_64: cannot set register "${name}"`);
    this.regs[2 * r] = v.lo | 0;
    this.regs[2 * r + 1] = v.hi | 0;
  }

  override setFlagBits(flags: number): void {
    setRaw(this.fl, flags & (CF | PF | AF | ZF | SF | OF));
  }

  /** Materialised RFLAGS arithmetic bits (CF PF AF ZF SF OF). */
  flags(): number {
    return eflags(this.fl);
  }

  protected argRegs(): U64[] {
    return [7, 6, 2, 1, 8, 9].map((r) => ({ lo: this.regs[2 * r]! >>> 0, hi: this.regs[2 * r + 1]! >>> 0 }));
  }

  // ---- execution ------------------------------------------------------------------------------

  /**
   * The dispatcher: resolves the next block (sentinel, host functions, unchained exits), checks the
   * budget, and hands each block to runBlocks, which follows chained successors itself.
   */
  protected execute(startPc: VAddr): void {
    const c = this.cache;
    let b = this.lookup(startPc);
    this.curI = -1;
    for (;;) {
      if (b < 0) {
        if (b === -1) return;
        b = this.returnFromHost(-2 - b);
        continue;
      }
      // Translation tier (emulator/translate): runs translated regions, returns what to interpret
      // (from record `from` of block b on when a translated block stopped in its middle).
      let from = 0;
      if (this.tx !== null) {
        b = this.tx.run(b);
        if (b < 0) continue;
        from = this.tx.resume > 0 ? this.tx.resume : 0;
      }
      const exit = this.runBlocks(b, from);
      if (exit === RUN_ON) b = this.exitB;
      else if (exit === RUN_BUDGET) throw new BudgetExceededError(this.budget, this.insns, c.blkPc[this.exitB]!);
      else b = this.leaveBlock(this.exitB, exit, this.exitLo, this.exitHi);
    }
  }

  /**
   * Runs block b (from record `from` on) and then its chained successors, as long as each is
   * valid and fits the budget, for at most SLICE block entries and not into a block that has
   * translated code (the dispatcher enters that through the tier). Returns RUN_ON with the next block
   * in exitB, RUN_BUDGET when block exitB would overrun the budget, or the exit slot of block exitB
   * that has no valid chained successor (0 = taken direct branch, target in exitLo/exitHi; 1 = fall
   * through; 2 = indirect, target in exitLo/exitHi).
   *
   * V8 tiering: a guest loop must not keep this function inside one invocation. Returning every
   * SLICE entries lets V8 optimise it as a whole (regular TurboFan code, ~10 % faster here than
   * on-stack-replacement code) and gives its exit path type feedback before the first optimisation,
   * so the optimised code is not thrown away when a long loop finally ends.
   */
  private runBlocks(b: number, from = 0): number {
    const c = this.cache;
    const regs = this.regs;
    const fl = this.fl;
    const port = this.port;
    const r = c.recs;
    const blkFirst = c.blkFirst;
    const blkCount = c.blkCount;
    const blkLink = c.blkLink;
    const blkValid = c.blkValid;
    const noting = this.tracer !== null || port.observer !== null;
    const txAt = this.tx !== null ? this.tx.regionMap : null;
    const budget = this.budget;
    let insns = this.insns;
    let branches = this.branches;
    // exit: slot 0 = taken direct branch (target in tLo/tHi), 1 = fall through, 2 = indirect.
    let slot = 1;
    let tLo = 0;
    let tHi = 0;
    let left = K.SLICE;
    try {
      run: for (;;) {
        const count = blkCount[b]!;
        const start = blkFirst[b]! * K.REC;
        const end = start + count * K.REC;
        // The same block again while it is chained to itself (a loop), without reloading it.
        for (;;) {
          if (insns + count - from > budget) {
            slot = K.RUN_BUDGET;
            break run;
          }
          if (noting) {
            this.curI = -1;
            this.noteBlock(b);
          }
          insns += count - from;
          slot = 1;
          const i0 = start + from * K.REC;
          from = 0;
          for (let i = i0; i < end; i += K.REC) {
            switch (r[i]!) {
              case X.ADD64_RR_NF: {
                const d = r[i + 2]! * 2;
                const s = r[i + 3]! * 2;
                const aLo = regs[d]!;
                const lo = (aLo + regs[s]!) | 0;
                regs[d] = lo;
                regs[d + 1] = (regs[d + 1]! + regs[s + 1]! + ((lo >>> 0) < (aLo >>> 0) ? 1 : 0)) | 0;
                break;
              }
              case X.SUB64_RR_NF: {
                const d = r[i + 2]! * 2;
                const s = r[i + 3]! * 2;
                const aLo = regs[d]!;
                const bLo = regs[s]!;
                regs[d] = (aLo - bLo) | 0;
                regs[d + 1] = (regs[d + 1]! - regs[s + 1]! - ((aLo >>> 0) < (bLo >>> 0) ? 1 : 0)) | 0;
                break;
              }
              case X.ADD64_RI_NF:
              case X.SUB64_RI_NF: {
                const d = r[i + 2]! * 2;
                const aLo = regs[d]!;
                const bLo = r[i + 6]!;
                if (r[i]! === X.ADD64_RI_NF) {
                  const lo = (aLo + bLo) | 0;
                  regs[d] = lo;
                  regs[d + 1] = (regs[d + 1]! + r[i + 7]! + ((lo >>> 0) < (aLo >>> 0) ? 1 : 0)) | 0;
                } else {
                  regs[d] = (aLo - bLo) | 0;
                  regs[d + 1] = (regs[d + 1]! - r[i + 7]! - ((aLo >>> 0) < (bLo >>> 0) ? 1 : 0)) | 0;
                }
                break;
              }
              case X.AND64_RI_NF: {
                const d = r[i + 2]! * 2;
                regs[d] = regs[d]! & r[i + 6]!;
                regs[d + 1] = regs[d + 1]! & r[i + 7]!;
                break;
              }
              case X.AND32_RI_NF: {
                const d = r[i + 2]! * 2;
                regs[d] = regs[d]! & r[i + 6]!;
                regs[d + 1] = 0;
                break;
              }
              case X.XOR64_RR_NF: {
                const d = r[i + 2]! * 2;
                const s = r[i + 3]! * 2;
                regs[d] = regs[d]! ^ regs[s]!;
                regs[d + 1] = regs[d + 1]! ^ regs[s + 1]!;
                break;
              }
              case X.XOR32_RR_NF: {
                const d = r[i + 2]! * 2;
                regs[d] = regs[d]! ^ regs[r[i + 3]! * 2]!;
                regs[d + 1] = 0;
                break;
              }
              case X.SHR64_I_NF: {
                const d = r[i + 2]! * 2;
                const n = r[i + 6]! & 63;
                const lo = regs[d]!;
                const hi = regs[d + 1]!;
                if (n < 32) {
                  regs[d] = (lo >>> n) | (hi << (32 - n));
                  regs[d + 1] = hi >>> n;
                } else {
                  regs[d] = hi >>> (n - 32);
                  regs[d + 1] = 0;
                }
                break;
              }
              case X.ADD64_RR: {
                const d = r[i + 2]! * 2;
                const s = r[i + 3]! * 2;
                const aLo = regs[d]!;
                const aHi = regs[d + 1]!;
                const bLo = regs[s]!;
                const bHi = regs[s + 1]!;
                const lo = (aLo + bLo) | 0;
                const hi = (aHi + bHi + ((lo >>> 0) < (aLo >>> 0) ? 1 : 0)) | 0;
                regs[d] = lo;
                regs[d + 1] = hi;
                fl[0] = K.F_ADD; fl[1] = 8; fl[2] = lo; fl[3] = hi; fl[4] = aLo; fl[5] = aHi; fl[6] = bLo; fl[7] = bHi;
                break;
              }
              case X.ADD64_RI: {
                const d = r[i + 2]! * 2;
                const aLo = regs[d]!;
                const aHi = regs[d + 1]!;
                const bLo = r[i + 6]!;
                const bHi = r[i + 7]!;
                const lo = (aLo + bLo) | 0;
                const hi = (aHi + bHi + ((lo >>> 0) < (aLo >>> 0) ? 1 : 0)) | 0;
                regs[d] = lo;
                regs[d + 1] = hi;
                fl[0] = K.F_ADD; fl[1] = 8; fl[2] = lo; fl[3] = hi; fl[4] = aLo; fl[5] = aHi; fl[6] = bLo; fl[7] = bHi;
                break;
              }
              case X.SUB64_RR:
              case X.SUB64_RI:
              case X.CMP64_RR:
              case X.CMP64_RI: {
                const op = r[i]!;
                const d = r[i + 2]! * 2;
                const aLo = regs[d]!;
                const aHi = regs[d + 1]!;
                let bLo: number;
                let bHi: number;
                if (op === X.SUB64_RR || op === X.CMP64_RR) {
                  const s = r[i + 3]! * 2;
                  bLo = regs[s]!;
                  bHi = regs[s + 1]!;
                } else {
                  bLo = r[i + 6]!;
                  bHi = r[i + 7]!;
                }
                const lo = (aLo - bLo) | 0;
                const hi = (aHi - bHi - ((aLo >>> 0) < (bLo >>> 0) ? 1 : 0)) | 0;
                if (op === X.SUB64_RR || op === X.SUB64_RI) {
                  regs[d] = lo;
                  regs[d + 1] = hi;
                }
                fl[0] = K.F_SUB; fl[1] = 8; fl[2] = lo; fl[3] = hi; fl[4] = aLo; fl[5] = aHi; fl[6] = bLo; fl[7] = bHi;
                break;
              }
              case X.SUB64_RI_JCC:
              case X.SUB64_RR_JCC:
              case X.CMP64_RI_JCC:
              case X.CMP64_RR_JCC: {
                const op = r[i]!;
                const d = r[i + 2]! * 2;
                const aLo = regs[d]!;
                const aHi = regs[d + 1]!;
                let bLo: number;
                let bHi: number;
                if (op === X.SUB64_RR_JCC || op === X.CMP64_RR_JCC) {
                  const s = r[i + 3]! * 2;
                  bLo = regs[s]!;
                  bHi = regs[s + 1]!;
                } else {
                  bLo = r[i + 6]!;
                  bHi = r[i + 7]!;
                }
                const lo = (aLo - bLo) | 0;
                const hi = (aHi - bHi - ((aLo >>> 0) < (bLo >>> 0) ? 1 : 0)) | 0;
                if (op === X.SUB64_RI_JCC || op === X.SUB64_RR_JCC) {
                  regs[d] = lo;
                  regs[d + 1] = hi;
                }
                fl[0] = K.F_SUB; fl[1] = 8; fl[2] = lo; fl[3] = hi; fl[4] = aLo; fl[5] = aHi; fl[6] = bLo; fl[7] = bHi;
                i += K.REC;
                if (((lo | hi) === 0) === (r[i]! === X.JCC_Z)) {
                  slot = 0;
                  tLo = r[i + 6]!;
                  tHi = r[i + 7]!;
                  branches++;
                }
                break;
              }
              case X.AND64_RI:
              case X.AND32_RI: {
                const d = r[i + 2]! * 2;
                const lo = regs[d]! & r[i + 6]!;
                const hi = r[i]! === X.AND64_RI ? regs[d + 1]! & r[i + 7]! : 0;
                regs[d] = lo;
                regs[d + 1] = hi;
                fl[0] = K.F_LOGIC; fl[1] = r[i]! === X.AND64_RI ? 8 : 4; fl[2] = lo; fl[3] = hi; fl[4] = 0; fl[5] = 0; fl[6] = 0; fl[7] = 0;
                break;
              }
              case X.XOR64_RR:
              case X.XOR32_RR: {
                const d = r[i + 2]! * 2;
                const s = r[i + 3]! * 2;
                const is64 = r[i]! === X.XOR64_RR;
                const lo = regs[d]! ^ regs[s]!;
                const hi = is64 ? regs[d + 1]! ^ regs[s + 1]! : 0;
                regs[d] = lo;
                regs[d + 1] = hi;
                fl[0] = K.F_LOGIC; fl[1] = is64 ? 8 : 4; fl[2] = lo; fl[3] = hi; fl[4] = 0; fl[5] = 0; fl[6] = 0; fl[7] = 0;
                break;
              }
              case X.MOV64_RR: {
                const d = r[i + 2]! * 2;
                const s = r[i + 3]! * 2;
                regs[d] = regs[s]!;
                regs[d + 1] = regs[s + 1]!;
                break;
              }
              case X.MOV32_RR: {
                const d = r[i + 2]! * 2;
                regs[d] = regs[r[i + 3]! * 2]!;
                regs[d + 1] = 0;
                break;
              }
              case X.SHR64_I: {
                const d = r[i + 2]! * 2;
                const n = r[i + 6]! & 63;
                const lo = regs[d]!;
                const hi = regs[d + 1]!;
                let rl: number;
                let rh: number;
                let cf: number;
                if (n < 32) {
                  rl = (lo >>> n) | (hi << (32 - n));
                  rh = hi >>> n;
                } else {
                  rl = hi >>> (n - 32);
                  rh = 0;
                }
                cf = n <= 32 ? (lo >>> (n - 1)) & 1 : (hi >>> (n - 33)) & 1;
                regs[d] = rl;
                regs[d + 1] = rh;
                fl[0] = K.F_SHIFT; fl[1] = 8; fl[2] = rl; fl[3] = rh; fl[8] = cf | (n === 1 && hi < 0 ? OF : 0);
                break;
              }
              case X.SHL64_I: {
                const d = r[i + 2]! * 2;
                const v = shift(fl, 4, 8, regs[d]!, regs[d + 1]!, r[i + 6]! & 63);
                regs[d] = v;
                regs[d + 1] = out.hi;
                break;
              }
              case X.LOAD64: {
                this.curI = i;
                this.curB = b;
                this.ea(r, i);
                const d = r[i + 2]! * 2;
                const v = port.ld64(this.eaLo, this.eaHi);
                regs[d] = v;
                regs[d + 1] = port.hiOut;
                break;
              }
              case X.STORE64: {
                this.curI = i;
                this.curB = b;
                this.ea(r, i);
                const s = r[i + 2]! * 2;
                port.st64(this.eaLo, this.eaHi, regs[s]!, regs[s + 1]!);
                break;
              }
              case X.JCC_NZ:
              case X.JCC_Z: {
                let z: boolean;
                if (fl[0] === K.F_SUB || fl[0] === K.F_LOGIC || fl[0] === K.F_ADD) z = (fl[2]! | (fl[1] === 8 ? fl[3]! : 0)) === 0;
                else z = cond(fl, 4);
                if (z === (r[i]! === X.JCC_Z)) {
                  slot = 0;
                  tLo = r[i + 6]!;
                  tHi = r[i + 7]!;
                  branches++;
                }
                break;
              }
              default: {
                this.curI = i;
                this.curB = b;
                const e = this.exec(r, i);
                if (e !== 1) {
                  slot = e;
                  tLo = this.eaLo;
                  tHi = this.eaHi;
                  branches++;
                }
                break;
              }
            }
          }
          // The one place a block hands over: to its exit's chained successor while that is valid
          // and the slice lasts (the budget check at the loop top covers every entry; a block
          // chained to itself keeps its bounds), else back to the dispatcher.
          const nb = slot === 2 ? -1 : blkLink[2 * b + slot]!;
          if (nb < 0 || blkValid[nb] !== 1) break run;
          // A block with translated code: back to the dispatcher, which enters it (tier.ts).
          if (--left === 0 || (txAt !== null && txAt[nb]! > 0)) {
            b = nb;
            slot = K.RUN_ON;
            break run;
          }
          if (nb !== b) {
            b = nb;
            break;
          }
        }
      }
    } catch (e) {
      this.branches = branches;
      const at = this.curI;
      if (at >= 0) {
        // Faulted inside block curB at record `at`: the instructions from there on did not retire.
        const cb = this.curB;
        const end = (c.blkFirst[cb]! + c.blkCount[cb]!) * K.REC;
        this.insns = insns - (end - at) / K.REC;
        this.curI = -1;
        throw this.contextualise(e, cb, at / K.REC);
      }
      this.insns = insns;
      throw e;
    }
    this.curI = -1;
    this.insns = insns;
    this.branches = branches;
    this.exitB = b;
    this.exitLo = tLo;
    this.exitHi = tHi;
    return slot;
  }

  /** Next block after host function k returned (its result in rax, return address popped). */
  private returnFromHost(k: number): number {
    const regs = this.regs;
    this.runHost(k);
    regs[0] = this.hostRetLo;
    regs[1] = this.hostRetHi;
    const rlo = this.pop();
    if (!isCanonicalPair(rlo, this.vHi)) throw nonCanonicalFault(rlo, this.vHi, 'fetch');
    this.branches++;
    return this.lookup(vaddrFromPair(rlo, this.vHi));
  }

  /** Next block after exit `slot` of block b found no valid chained successor; links direct exits. */
  private leaveBlock(b: number, slot: number, tLo: number, tHi: number): number {
    const c = this.cache;
    if (slot === 1) return this.chain(b, 1, c.blkPc[b]! + c.blkBytes[b]!);
    if (!isCanonicalPair(tLo, tHi)) throw this.badTarget(b, tLo, tHi);
    const pc = vaddrFromPair(tLo, tHi);
    return slot === 0 ? this.chain(b, 0, pc) : this.lookup(pc);
  }
}
