// The x86_64 core: register file as 16 lo/hi int32 pairs, lazy flags, and a block executor that
// walks pre-decoded records (ops.ts) with one switch per instruction (the per-block loop of the
// Bochs decode cache; QEMU-style direct block chaining through DecodeCache.blkLink).
//
// Invariants:
// - Architectural state changes only through completed instructions: an instruction that faults
//   (page fault, #DE, int3, ud2) leaves registers and memory as they were before it (read-modify-
//   write forms read, compute, then store; stores to two pages are checked before any byte moves).
// - `insns` counts retired instructions exactly, also when a fault stops a block in the middle.
// - The budget is checked at every block entry (also when a block chained to itself re-enters
//   without the dispatcher): a block that would overrun it does not start, so BudgetExceededError
//   reports an exact count at a block boundary, possibly up to one block short of the budget.
// - A chained successor runs only while blkValid says so, checked at each entry, so a text_poke or
//   permission change (host functions are the only thing that can cause one mid-run) is seen at the
//   next entry of the affected block.
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
  TWO32 = 4294967296,
  F_ADD = 1,
  F_SUB = 3,
  F_LOGIC = 5,
  F_SHIFT = 9,
}
if (F_ADD !== +K.F_ADD || F_SUB !== +K.F_SUB || F_LOGIC !== +K.F_LOGIC || F_SHIFT !== +K.F_SHIFT) {
  throw new InvariantError('x86 lazy-flag kinds out of sync with alu.ts');
}

export class X86Machine extends X86Exec {
  readonly arch = 'x86_64' as const;
  readonly regNames = REG64;
  protected readonly maxInsnBytes = 15;

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

  protected execute(startPc: VAddr): void {
    const c = this.cache;
    const regs = this.regs;
    const fl = this.fl;
    const port = this.port;
    const noting = this.tracer !== null || port.observer !== null;
    let pc = startPc;
    let b = this.lookup(pc);
    const budget = this.budget;
    let insns = this.insns;
    let branches = this.branches;
    this.curI = -1;
    try {
    for (;;) {
      while (b < 0) {
        this.curI = -1;
        if (b === -1) {
          this.insns = insns;
          this.branches = branches;
          return;
        }
        this.insns = insns;
        this.branches = branches;
        this.runHost(-2 - b);
        regs[0] = this.hostRetLo;
        regs[1] = this.hostRetHi;
        const rlo = this.pop();
        if (!isCanonicalPair(rlo, this.vHi)) throw nonCanonicalFault(rlo, this.vHi, 'fetch');
        pc = vaddrFromPair(rlo, this.vHi);
        branches++;
        b = this.lookup(pc);
      }
      const count = c.blkCount[b]!;
      if (insns + count > budget) {
        this.curI = -1;
        this.insns = insns;
        throw new BudgetExceededError(budget, insns, c.blkPc[b]!);
      }
      if (noting) {
        this.curI = -1;
        this.noteBlock(b);
      }
      insns += count;
      const r = c.recs;
      const start = c.blkFirst[b]! * K.REC;
      const end = start + count * K.REC;
      // A block whose taken exit is chained to itself runs again here without a dispatcher round
      // trip, re-checking validity and budget at each entry exactly as the dispatcher would.
      const selfLoop = !noting && c.blkLink[2 * b] === b;
      const valid = c.blkValid;
      // exit: slot 0 = taken direct branch (target in tLo/tHi), 1 = fall through, 2 = indirect.
      let slot = 1;
      let tLo = 0;
      let tHi = 0;
      for (;;) {
        slot = 1;
        for (let i = start; i < end; i += K.REC) {
          switch (r[i]!) {
            case X.ADD64_RR_NF: {
              const d = r[i + 2]! * 2;
              const s = r[i + 3]! * 2;
              const sum = (regs[d]! >>> 0) + (regs[s]! >>> 0);
              regs[d] = sum | 0;
              regs[d + 1] = (regs[d + 1]! + regs[s + 1]! + (sum >= K.TWO32 ? 1 : 0)) | 0;
              break;
            }
            case X.SUB64_RR_NF: {
              const d = r[i + 2]! * 2;
              const s = r[i + 3]! * 2;
              const diff = (regs[d]! >>> 0) - (regs[s]! >>> 0);
              regs[d] = diff | 0;
              regs[d + 1] = (regs[d + 1]! - regs[s + 1]! - (diff < 0 ? 1 : 0)) | 0;
              break;
            }
            case X.ADD64_RI_NF:
            case X.SUB64_RI_NF: {
              const d = r[i + 2]! * 2;
              const aLo = regs[d]!;
              const bLo = r[i + 6]!;
              if (r[i]! === X.ADD64_RI_NF) {
                const sum = (aLo >>> 0) + (bLo >>> 0);
                regs[d] = sum | 0;
                regs[d + 1] = (regs[d + 1]! + r[i + 7]! + (sum >= K.TWO32 ? 1 : 0)) | 0;
              } else {
                const diff = (aLo >>> 0) - (bLo >>> 0);
                regs[d] = diff | 0;
                regs[d + 1] = (regs[d + 1]! - r[i + 7]! - (diff < 0 ? 1 : 0)) | 0;
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
              const sum = (aLo >>> 0) + (bLo >>> 0);
              const lo = sum | 0;
              const hi = (aHi + bHi + (sum >= K.TWO32 ? 1 : 0)) | 0;
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
              const sum = (aLo >>> 0) + (bLo >>> 0);
              const lo = sum | 0;
              const hi = (aHi + bHi + (sum >= K.TWO32 ? 1 : 0)) | 0;
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
              const diff = (aLo >>> 0) - (bLo >>> 0);
              const lo = diff | 0;
              const hi = (aHi - bHi - (diff < 0 ? 1 : 0)) | 0;
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
              const diff = (aLo >>> 0) - (bLo >>> 0);
              const lo = diff | 0;
              const hi = (aHi - bHi - (diff < 0 ? 1 : 0)) | 0;
              if (op === X.SUB64_RI_JCC || op === X.SUB64_RR_JCC) {
                regs[d] = lo;
                regs[d + 1] = hi;
              }
              fl[0] = K.F_SUB; fl[1] = 8; fl[2] = lo; fl[3] = hi; fl[4] = aLo; fl[5] = aHi; fl[6] = bLo; fl[7] = bHi;
              i += K.REC;
              if ((lo === 0 && hi === 0) === (r[i]! === X.JCC_Z)) {
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
              if (fl[0] === K.F_SUB || fl[0] === K.F_LOGIC || fl[0] === K.F_ADD) z = fl[2] === 0 && (fl[1] !== 8 || fl[3] === 0);
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
        if (slot !== 0 || !selfLoop || valid[b] !== 1 || insns + count > budget) break;
        insns += count;
      }
      if (slot === 2) {
        this.curI = -1;
        if (!isCanonicalPair(tLo, tHi)) throw this.badTarget(b, tLo, tHi);
        b = this.lookup(vaddrFromPair(tLo, tHi));
        continue;
      }
      const links = c.blkLink;
      const nb = links[2 * b + slot]!;
      if (nb >= 0 && c.blkValid[nb] === 1) {
        b = nb;
        continue;
      }
      this.curI = -1;
      if (slot === 0) {
        if (!isCanonicalPair(tLo, tHi)) throw this.badTarget(b, tLo, tHi);
        pc = vaddrFromPair(tLo, tHi);
      } else pc = c.blkPc[b]! + c.blkBytes[b]!;
      b = this.chain(b, slot, pc);
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
  }

}
