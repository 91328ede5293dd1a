// BPF -> arm64, after Linux arch/arm64/net/bpf_jit_comp.c (~v6.1), emitting into one CodeBuffer.
//
// Register map (the kernel's, reference/bpf.md §4.1):
//   r0 x7 (moved to x0 at exit) · r1-r5 x0-x4 · r6-r9 x19-x22 · r10 x25 · AX (blinding, 11) x9
//   tmp x10 (addresses for checks, call targets, immediates) · x11 x12 (quotients, tail-call data)
//   tail-call counter x26. r1-r5 are the AAPCS64 argument registers, so helper calls need no shuffling.
//   The kernel's frame bottom x27 is not needed: as in our x86 backend the BPF stack is a region of
//   the program's memory (faults name the interpreter's addresses), not the native stack.
//
// Frames and calls:
// - Entry `fn(x0 = ctx, x1 = len, x2 = BPF stack top)`. Main prologue: [bti c] · stp x29,x30,[sp,#-16]!
//   · mov x29,sp · stp x19,x20 · stp x21,x22 · stp x25,x26 (all pre-indexed) · mov x25,x2 · mov x26,#0
//   · tail-call landing [bti j]. Every program saves the same set, so a tail call reuses the frame.
//   Subprogram prologue: [bti c] · stp x29,x30 · mov x29,sp · stp x19,x20 · stp x21,x22. Epilogues
//   mirror them (main: mov x0,x7 first), emitted once per function at its first EXIT.
// - bpf-to-bpf call: `sub x25,x25,#512 · bl depth-check · bl fn · add x25,x25,#512`.
// - Helpers: BL when the helper's kernel-text address is within ±128 MiB of every address the image
//   may get (options.imageRange), else `movz/movk x10 (4 words) · blr x10`; then `mov x7,x0`.
//   callx: `mov x10, dst · bl bpf:callx` (far: via x11; the host dispatcher reads x10). With the
//   default arm64 layout the BPF range is the 2 GiB modules area, so helpers take the blr form; BL is
//   chosen when a narrower imageRange lies within reach (test/jit/arm64-codegen.test.ts).
// - Checkers, the depth check and host functions are entered with BL, which clobbers x30: every
//   function saved x30 in its prologue, so the epilogue's ldp restores it.
// - Tail calls (main function only): x10 = r2 checked against bpf:regions-prog-array, index (w2) <
//   max_entries (u32 at +0), x26 < MAX_TAIL_CALL_CNT (33), slot (u64 landing address at +8+8*index)
//   non-NULL, then `add x26,#1 · br x11` to the target's landing point.
//
// Semantics: ALU32 ops run on W registers (writes zero-extend). udiv/sdiv give 0 for a zero divisor
// and INT_MIN for INT_MIN / -1 (no trap), and msub gives dst for % 0 and 0 for INT_MIN % -1: exactly
// BPF's rules. lslv/lsrv/asrv mask counts like BPF; immediate shifts use the ubfm/sbfm aliases.
// Byte swaps: rev16+uxth / rev (w) / rev (x); to-LE: uxth / mov w,w / nothing.
// Atomics use FEAT_LSE with acquire-release (ldaddal, ldclral on mvn, ldsetal, ldeoral, swpal,
// casal), which the emulator implements; non-fetch forms discard into xzr.
//
// Branches: conditional jumps are `b.cond` (imm19, ±1 MiB). When the image could exceed that range
// every conditional jump becomes `b.!cond +8 · b target` (imm26) — decided from the sizing of a
// first emission, so the sizing pass and the final pass have the same layout.
//
// Memory safety: an access not in `options.proven` computes its address into x10 and checks it
// inline against the run's fast window (x5 = its base, x6 = the number of addresses an access of up
// to 8 bytes may start at; bpf:fast-window, jit-host.ts):
//   sub x11,x10,x5 · cmp x11,x6 · b.lo ok · bl chk_<len>_<r|w> · ok:
// (with off = 0 the access keeps [base]: `sub x11,base,x5` and the slow path first does mov x10,base).
// Anything outside the window calls the out-of-line checker, which walks the region table (pairs
// [base, end), zero-terminated) using x11-x14 only, returns, or branches to bpf:mem-fault with
// x30 = the site's return address (the host finds the site from x30). The window is a subset of
// the tables, so both paths accept exactly what the checker alone would. x5/x6 are caller-saved and
// no BPF register: a program with checks loads them after the tail-call landing and after every
// helper call and callx (helpers may change the regions).

import { type Label } from '../buffer.js';
import { BpfEmitterBase } from './emitter-base.js';
import { vaddrToPair } from '../../support/u64.js';
import {
  type Cond, type Reg, type RZr, type LdStOp, type AtomicOp,
  X0, X1, X2, X3, X4, X5, X6, X7, X9, X10, X11, X12, X13, X14, X19, X20, X21, X22, X25, X26, X29, X30, SP, XZR, WZR,
  otherWidth, emitMovImm,
  encAddImm, encSubImm, encAddReg, encSubReg, encCmpImm, encCmpReg, encTstReg, encNeg, encAndReg, encOrrReg, encEorReg,
  encOrrImm, encAndImm, encEorImm, isLogicalImmediate, type RegSize,
  encMovReg, encMovSp, encMvn, encMovz, encMovk, encUbfm, encSbfm, encLslImm, encLsrImm, encAsrImm, encUxth, encSxtb, encSxth, encSxtw,
  encUdiv, encSdiv, encLslv, encLsrv, encAsrv, encRev, encRev16, encMul, encMsub, encAddSubExt,
  encLdSt, encLdStUnscaled, encLdp, encStp, encAtomic, encCas, encBr, encBlr, encRet, encBti, encBrk,
  emitB, emitBl, emitBCond, emitCbz, encBCond,
} from '../arm64/index.js';
import { BPF_JIT_STACK_FRAME, BpfJitError, MAX_TAIL_CALL_CNT, SYM, branchTargetSlot, type BpfCodegenOptions, type BpfCodegenResult, type JitInsn, type JitSite, type SiteKind } from './common.js';

type X = Reg<64, 'gp'>;
const BL_REACH = 128 * 1024 * 1024 - 4;
const BCOND_REACH = 1024 * 1024 - 4096;

/** BPF register number -> X register (r0..r10, AX). */
const BPF_TO_X: readonly X[] = [X7, X0, X1, X2, X3, X4, X19, X20, X21, X22, X25, X9];
const xreg = (n: number): X => BPF_TO_X[n] as X;

const w = (r: X): RZr<32> => otherWidth(r) as RZr<32>;

const JCOND: Record<number, Cond> = {
  0x10: 'eq', 0x20: 'hi', 0x30: 'hs', 0x40: 'ne', 0x50: 'ne', 0x60: 'gt', 0x70: 'ge', 0xa0: 'lo', 0xb0: 'ls', 0xc0: 'lt', 0xd0: 'le',
};
const INVERT: Record<string, Cond> = { eq: 'ne', ne: 'eq', hi: 'ls', ls: 'hi', hs: 'lo', lo: 'hs', gt: 'le', le: 'gt', ge: 'lt', lt: 'ge' };

function insnText(i: JitInsn): string {
  return `opcode 0x${i.opcode.toString(16).padStart(2, '0')} dst r${i.dst} src r${i.src} off ${i.off} imm ${i.imm}`;
}

function sizeOf(opcode: number): 1 | 2 | 4 | 8 {
  const s = opcode & 0x18;
  return s === 0x00 ? 4 : s === 0x08 ? 2 : s === 0x10 ? 1 : 8;
}

interface FnInfo {
  start: number;
  end: number;
  epilogue: Label;
  epilogueBound: boolean;
}

class Arm64BpfEmitter extends BpfEmitterBase<FnInfo> {
  /** Some access is checked at run time: x5/x6 hold the fast window (see the header). */
  private readonly window: boolean;

  constructor(insns: readonly JitInsn[], opts: BpfCodegenOptions, private readonly farBranches: boolean) {
    super('arm64', insns, opts);
    this.window = opts.inlineChecks !== false && this.hasCheckedAccess();
  }

  /** x5 = window base, x6 = window count (clobbers x10). */
  private loadWindow(): void {
    if (!this.window) return;
    this.movFixed(X10, this.symbolValue(SYM.fastWindow));
    this.put(encLdp(X5, X6, X10, 0));
  }

  private put(word: number): void {
    this.buf.put32(word);
  }

  /** Whether `symbol` is within BL reach of every address the image may occupy. */
  private near(symbol: string): boolean {
    return this.withinReach(symbol, BL_REACH);
  }

  /** movz/movk of a 64-bit constant, always four words (layout independent of the value). */
  private movFixed(rd: X, value: number): void {
    const p = vaddrToPair(value);
    this.put(encMovz(rd, p.lo & 0xffff, 0));
    this.put(encMovk(rd, p.lo >>> 16, 16));
    this.put(encMovk(rd, p.hi & 0xffff, 32));
    this.put(encMovk(rd, p.hi >>> 16, 48));
  }

  private symbolValue(symbol: string): number {
    const a = this.symbolAddress(symbol);
    if (a === undefined) throw new BpfJitError(this.cur, symbol, `unresolved symbol ${symbol}`);
    return a;
  }

  private callSymbol(symbol: string, scratch: X = X10): void {
    if (this.near(symbol)) emitBl(this.buf, { symbol });
    else {
      this.movFixed(scratch, this.symbolValue(symbol));
      this.put(encBlr(scratch));
    }
  }

  private jumpSymbol(symbol: string): void {
    if (this.near(symbol)) emitB(this.buf, { symbol });
    else {
      this.movFixed(X11, this.symbolValue(symbol));
      this.put(encBr(X11));
    }
  }

  /** Constant into rd: 32-bit (zero-extended, W) or 64-bit from a sign-extended imm or (lo, hi). */
  private movImm(rd: X, lo: number, hi: number): void {
    emitMovImm(this.buf, rd, lo | 0, hi | 0);
  }

  private bcond(cond: Cond, target: Label): void {
    if (!this.farBranches) emitBCond(this.buf, cond, target);
    else {
      const skip = this.local();
      emitBCond(this.buf, INVERT[cond] as Cond, skip);
      emitB(this.buf, target);
      this.buf.bind(skip);
    }
  }

  compile(): BpfCodegenResult {
    const insns = this.insns;
    const starts = [...new Set(this.opts.functions)].sort((a, b) => a - b);
    if (starts[0] !== 0) throw new BpfJitError(0, '', 'function list must start at instruction 0');
    const fns: FnInfo[] = [];
    starts.forEach((s, k) => {
      const end = starts[k + 1] ?? insns.length;
      for (let j = s; j < end; j++) {
        const i = insns[j] as JitInsn;
        const target = branchTargetSlot(i);
        if (target !== null && i.opcode !== 0x85) this.slotLabel(target);
      }
      const fn: FnInfo = { start: s, end, epilogue: this.buf.newLabel(), epilogueBound: false };
      this.fnByStart.set(s, fn);
      fns.push(fn);
    });
    let fnIndex = 0;
    let fn = fns[0] as FnInfo;
    for (let k = 0; k < insns.length; k++) {
      const i = insns[k] as JitInsn;
      this.cur = k;
      if (k === fn.end) fn = fns[++fnIndex] as FnInfo;
      if (k === fn.start) {
        this.buf.bind(this.fnEntry(i.slot));
        this.emitPrologue(fn);
      }
      this.startInsn(k, i.slot);
      this.emitInsn(i, fn);
    }
    this.codeEnd = this.buf.markHere();
    this.put(encBrk(0x800));
    this.emitCheckers();
    return this.result(this.finishAt(this.opts.imageRange.lo));
  }

  // ---- prologue / epilogue -----------------------------------------------------------------

  private emitPrologue(fn: FnInfo): void {
    const b = this.buf;
    if (this.opts.landingPads) this.put(encBti('c'));
    this.put(encStp(X29, X30, SP, -16, 'pre'));
    this.put(encMovSp(X29, SP));
    this.put(encStp(X19, X20, SP, -16, 'pre'));
    this.put(encStp(X21, X22, SP, -16, 'pre'));
    if (fn.start === 0) {
      this.put(encStp(X25, X26, SP, -16, 'pre'));
      this.put(encMovReg(X25, X2));
      this.put(encMovz(X26, 0));
      b.bind(this.namedLabel('tail-call-landing'));
      if (this.opts.landingPads) this.put(encBti('j'));
      this.loadWindow();
    }
  }

  private emitExit(fn: FnInfo): void {
    const b = this.buf;
    if (fn.epilogueBound) {
      emitB(b, fn.epilogue);
      return;
    }
    fn.epilogueBound = true;
    b.bind(fn.epilogue);
    if (fn.start === 0) {
      this.put(encMovReg(X0, X7));
      this.put(encLdp(X25, X26, SP, 16, 'post'));
    }
    this.put(encLdp(X21, X22, SP, 16, 'post'));
    this.put(encLdp(X19, X20, SP, 16, 'post'));
    this.put(encLdp(X29, X30, SP, 16, 'post'));
    this.put(encRet());
  }

  // ---- instructions ------------------------------------------------------------------------

  private emitInsn(i: JitInsn, fn: FnInfo): void {
    const cls = i.opcode & 7;
    switch (cls) {
      case 0x04:
      case 0x07:
        return this.emitAlu(i);
      case 0x05:
      case 0x06:
        if (i.opcode === 0x95) return this.emitExit(fn);
        if (i.opcode === 0x85) return this.emitCall(i);
        if (i.opcode === 0x8d) {
          this.put(encMovReg(X10, xreg(i.dst)));
          this.callSymbol(SYM.callx, X11);
          this.site('callx');
          this.put(encMovReg(X7, X0));
          this.loadWindow();
          return;
        }
        return this.emitJump(i);
      case 0x00:
        if (i.opcode === 0x18) {
          this.movImm(xreg(i.dst), i.imm, i.imm2 ?? 0);
          return;
        }
        break;
      case 0x01:
        return this.emitLoad(i);
      case 0x02:
      case 0x03:
        return this.emitStore(i);
    }
    throw new BpfJitError(this.cur, insnText(i), 'unsupported opcode');
  }

  private emitAlu(i: JitInsn): void {
    const is64 = (i.opcode & 7) === 0x07;
    const op = i.opcode & 0xf0;
    const x = (i.opcode & 0x08) !== 0;
    const dx = xreg(i.dst);
    const d: RZr = is64 ? dx : w(dx);
    const sz = <T extends X>(r: T): RZr => (is64 ? r : w(r));
    let s: RZr;
    if (op === 0xd0) return this.emitEndian(i, dx);
    if (op === 0xb0) {
      if (x) {
        const sx = xreg(i.src);
        if (i.off === 8) this.put(encSxtb(d, w(sx)));
        else if (i.off === 16) this.put(encSxth(d, w(sx)));
        else if (i.off === 32) this.put(is64 ? encSxtw(dx, w(sx)) : encMovReg(w(dx), w(sx)));
        else this.put(encMovReg(d, sz(sx)));
      } else if (is64) this.movImm(dx, i.imm, i.imm < 0 ? -1 : 0);
      else this.movImm(dx, i.imm, 0);
      return;
    }
    if (op === 0x80) {
      this.put(encNeg(d, d));
      return;
    }
    if (!x && (op === 0x60 || op === 0x70 || op === 0xc0)) {
      const n = i.imm & (is64 ? 63 : 31);
      this.put(op === 0x60 ? encLslImm(d, d, n) : op === 0x70 ? encLsrImm(d, d, n) : encAsrImm(d, d, n));
      return;
    }
    if (!x && this.emitAluImm(op, is64, d, i.imm)) return;
    if (x) s = sz(xreg(i.src));
    else {
      if (is64) this.movImm(X10, i.imm, i.imm < 0 ? -1 : 0);
      else this.movImm(X10, i.imm, 0);
      s = sz(X10);
    }
    switch (op) {
      case 0x00: this.put(encAddReg(d, d, s)); return;
      case 0x10: this.put(encSubReg(d, d, s)); return;
      case 0x20: this.put(encMul(d, d, s)); return;
      case 0x40: this.put(encOrrReg(d, d, s)); return;
      case 0x50: this.put(encAndReg(d, d, s)); return;
      case 0xa0: this.put(encEorReg(d, d, s)); return;
      case 0x60: this.put(encLslv(d, d, s)); return;
      case 0x70: this.put(encLsrv(d, d, s)); return;
      case 0xc0: this.put(encAsrv(d, d, s)); return;
      case 0x30: this.put(i.off === 1 ? encSdiv(d, d, s) : encUdiv(d, d, s)); return;
      case 0x90: {
        const q = sz(X11);
        this.put(i.off === 1 ? encSdiv(q, d, s) : encUdiv(q, d, s));
        this.put(encMsub(d, q, s, d));
        return;
      }
    }
    throw new BpfJitError(this.cur, insnText(i), 'unsupported ALU operation');
  }

  /** add/sub with imm12 (either sign), and/orr/eor with a bitmask immediate; false if neither fits. */
  private emitAluImm(op: number, is64: boolean, d: RZr, imm: number): boolean {
    const hi = is64 && imm < 0 ? -1 : 0;
    if (op === 0x00 || op === 0x10) {
      const neg = imm < 0;
      const mag = Math.abs(imm);
      if (mag >= 4096) return false;
      const add = (op === 0x00) !== neg;
      const r = d as Reg<RegSize, 'gp'>;
      this.put(add ? encAddImm(r, r, mag) : encSubImm(r, r, mag));
      return true;
    }
    if (op === 0x40 || op === 0x50 || op === 0xa0) {
      if (!isLogicalImmediate(imm | 0, hi, is64)) return false;
      const r = d as Reg<RegSize, 'gp'>;
      this.put(op === 0x40 ? encOrrImm(r, d, imm | 0, hi) : op === 0x50 ? encAndImm(r, d, imm | 0, hi) : encEorImm(r, d, imm | 0, hi));
      return true;
    }
    return false;
  }

  private emitEndian(i: JitInsn, dx: X): void {
    const toBe = (i.opcode & 0x08) !== 0 || (i.opcode & 7) === 0x07;
    const wd = w(dx);
    if (i.imm === 16) {
      if (toBe) this.put(encRev16(wd, wd));
      this.put(encUxth(wd, wd));
    } else if (i.imm === 32) {
      this.put(toBe ? encRev(wd, wd) : encMovReg(wd, wd));
    } else if (i.imm === 64) {
      if (toBe) this.put(encRev(dx, dx));
    } else throw new BpfJitError(this.cur, insnText(i), `byte swap width ${i.imm}`);
  }

  private emitJump(i: JitInsn): void {
    const is32 = (i.opcode & 7) === 0x06;
    const op = i.opcode & 0xf0;
    const target = branchTargetSlot(i);
    if (target === null) throw new BpfJitError(this.cur, insnText(i), 'unsupported jump');
    if (op === 0x00) {
      emitB(this.buf, this.slotLabel(target));
      return;
    }
    const cond = JCOND[op];
    if (cond === undefined) throw new BpfJitError(this.cur, insnText(i), 'unsupported jump condition');
    const dx = xreg(i.dst);
    const d: RZr = is32 ? w(dx) : dx;
    let s: RZr;
    if ((i.opcode & 0x08) !== 0) s = is32 ? w(xreg(i.src)) : xreg(i.src);
    else if (op !== 0x40 && i.imm >= 0 && i.imm < 4096) {
      this.put(encCmpImm(d as Reg<64, 'gp'>, i.imm));
      this.bcond(cond, this.slotLabel(target));
      return;
    } else {
      if (is32) this.movImm(X10, i.imm, 0);
      else this.movImm(X10, i.imm, i.imm < 0 ? -1 : 0);
      s = is32 ? w(X10) : X10;
    }
    this.put(op === 0x40 ? encTstReg(d, s) : encCmpReg(d, s));
    this.bcond(cond, this.slotLabel(target));
  }

  private emitCall(i: JitInsn): void {
    const b = this.buf;
    if (i.src === 1) {
      const target = branchTargetSlot(i) as number;
      this.put(encSubImm(X25, X25, BPF_JIT_STACK_FRAME));
      if (this.depthChecker === null) this.depthChecker = b.newLabel('depth-check');
      emitBl(b, this.depthChecker);
      this.site('depth');
      emitBl(b, this.fnEntry(target));
      this.put(encAddImm(X25, X25, BPF_JIT_STACK_FRAME));
      return;
    }
    if (i.src !== 0) throw new BpfJitError(this.cur, insnText(i), 'kfunc calls are not supported');
    if (this.opts.tailCallHelper !== undefined && i.imm === this.opts.tailCallHelper) return this.emitTailCall(i);
    this.callSymbol(SYM.helper(i.imm));
    this.site('helper');
    this.put(encMovReg(X7, X0));
    this.loadWindow();
  }

  private emitTailCall(i: JitInsn): void {
    const b = this.buf;
    const fn = this.fnByStart.get(0) as FnInfo;
    if (this.cur >= fn.end) throw new BpfJitError(this.cur, insnText(i), 'tail calls from bpf-to-bpf callees are not supported');
    const out = this.local();
    const r2 = xreg(2), r3 = xreg(3);
    this.put(encMovReg(X10, r2));
    this.callChecker(8, 'p');
    this.put(encLdSt('ldr', w(X11), r2, 0));
    this.put(encCmpReg(w(r3), w(X11)));
    this.bcond('hs', out);
    this.put(encCmpImm(X26, MAX_TAIL_CALL_CNT));
    this.bcond('hs', out);
    this.put(encAddSubExt('add', X11, r2, w(r3), 'uxtw', 3));
    this.put(encLdSt('ldr', X11, X11, 8));
    emitCbz(b, X11, out);
    this.put(encAddImm(X26, X26, 1));
    this.put(encBr(X11));
    b.bind(out);
  }

  // ---- memory ------------------------------------------------------------------------------

  private checked(i: JitInsn): boolean {
    return this.isChecked(i, this.cur);
  }

  /**
   * The check of the address in `addr` (x10, or the base register itself when off = 0): inline
   * window test, else the out-of-line checker on x10.
   */
  private checkAddress(len: number, write: boolean, addr: X = X10): void {
    if (!this.window) {
      this.callChecker(len, write ? 'w' : 'r');
      return;
    }
    const b = this.buf;
    this.put(encSubReg(X11, addr, X5));
    this.put(encCmpReg(X11, X6));
    // b.lo over the slow path: its length is known once emitted (no label use needed).
    const blo = b.linearLength;
    this.put(0);
    if (addr !== X10) this.put(encMovReg(X10, addr));
    this.callChecker(len, write ? 'w' : 'r');
    b.set32(blo, encBCond('lo', b.linearLength - blo));
  }

  /** x10 = base + off. */
  private address(base: X, off: number): void {
    if (off >= 0 && off < 4096) this.put(encAddImm(X10, base, off));
    else if (off < 0 && off > -4096) this.put(encSubImm(X10, base, -off));
    else {
      this.movImm(X10, off, off < 0 ? -1 : 0);
      this.put(encAddReg(X10, base, X10));
    }
  }

  /** Address the access at [base + off]: returns the base register and displacement to use. */
  private operand(i: JitInsn, base: X, len: number, write: boolean, forceReg = false): { rn: X; off: number } {
    if (this.checked(i)) {
      if (i.off === 0 && !forceReg && this.window) {
        this.checkAddress(len, write, base);
        return { rn: base, off: 0 };
      }
      this.address(base, i.off);
      this.checkAddress(len, write);
      return { rn: X10, off: 0 };
    }
    if (!forceReg && i.off >= -256 && i.off < 256) return { rn: base, off: i.off };
    this.address(base, i.off);
    return { rn: X10, off: 0 };
  }

  private callChecker(len: number, table: 'r' | 'w' | 'p'): void {
    const b = this.buf;
    const key = len * 4 + (table === 'r' ? 0 : table === 'w' ? 1 : 2);
    let l = this.checkers.get(key);
    if (!l) {
      l = b.newLabel();
      this.checkers.set(key, l);
    }
    emitBl(b, l);
    this.site(table === 'w' ? 'mem-write' : table === 'p' ? 'prog-array' : 'mem-read', len);
  }

  private ldst(op: LdStOp, rt: RZr, rn: X, off: number): void {
    this.put(off === 0 ? encLdSt(op, rt, rn, 0) : encLdStUnscaled(op, rt, rn, off));
  }

  private emitLoad(i: JitInsn): void {
    const mode = i.opcode & 0xe0;
    if (mode !== 0x60 && mode !== 0x80) throw new BpfJitError(this.cur, insnText(i), 'legacy packet loads are not supported');
    const len = sizeOf(i.opcode);
    const { rn, off } = this.operand(i, xreg(i.src), len, false);
    const dx = xreg(i.dst);
    if (mode === 0x80) {
      if (len === 1) this.ldst('ldrsb', dx, rn, off);
      else if (len === 2) this.ldst('ldrsh', dx, rn, off);
      else if (len === 4) this.ldst('ldrsw', dx, rn, off);
      else this.ldst('ldr', dx, rn, off);
      return;
    }
    if (len === 1) this.ldst('ldrb', w(dx), rn, off);
    else if (len === 2) this.ldst('ldrh', w(dx), rn, off);
    else if (len === 4) this.ldst('ldr', w(dx), rn, off);
    else this.ldst('ldr', dx, rn, off);
  }

  private emitStore(i: JitInsn): void {
    const mode = i.opcode & 0xe0;
    const len = sizeOf(i.opcode);
    if ((i.opcode & 7) === 0x03 && mode === 0xc0) return this.emitAtomic(i, len);
    if (mode !== 0x60) throw new BpfJitError(this.cur, insnText(i), 'unsupported store mode');
    const { rn, off } = this.operand(i, xreg(i.dst), len, true);
    let value: X;
    if ((i.opcode & 7) === 0x02) {
      this.movImm(X12, i.imm, i.imm < 0 ? -1 : 0);
      value = X12;
    } else value = xreg(i.src);
    const op: LdStOp = len === 1 ? 'strb' : len === 2 ? 'strh' : 'str';
    this.ldst(op, len === 8 ? value : w(value), rn, off);
  }

  private emitAtomic(i: JitInsn, len: number): void {
    if (len !== 4 && len !== 8) throw new BpfJitError(this.cur, insnText(i), 'atomic operations are 32 or 64 bits');
    const sz = (r: X): RZr => (len === 8 ? r : w(r));
    this.address(xreg(i.dst), i.off);
    if (this.checked(i)) this.checkAddress(len, true);
    const sx = xreg(i.src);
    const fetch = (i.imm & 1) !== 0;
    const op = i.imm & ~1;
    if (i.imm === 0xf1) {
      this.put(encCas('al', sz(X7), sz(sx), X10));
      return;
    }
    if (i.imm === 0xe1) {
      this.put(encAtomic('swp', 'al', sz(sx), sz(sx), X10));
      return;
    }
    const table: Record<number, AtomicOp> = { 0x00: 'ldadd', 0x40: 'ldset', 0x50: 'ldclr', 0xa0: 'ldeor' };
    const aop = table[op];
    if (aop === undefined) throw new BpfJitError(this.cur, insnText(i), `atomic operation 0x${i.imm.toString(16)}`);
    let operand: X = sx;
    if (aop === 'ldclr') {
      this.put(encMvn(sz(X11), sz(sx)));
      operand = X11;
    }
    this.put(encAtomic(aop, 'al', sz(operand), fetch ? sz(sx) : (len === 8 ? XZR : WZR), X10));
  }

  // ---- out-of-line checkers ----------------------------------------------------------------

  private emitCheckers(): void {
    const b = this.buf;
    for (const [key, label] of this.checkers) {
      const len = key >> 2;
      const table = 'rwp'[key & 3];
      b.bind(label);
      this.movFixed(X11, this.symbolValue(table === 'w' ? SYM.regionsWrite : table === 'p' ? SYM.regionsProgArray : SYM.regionsRead));
      const loop = this.local();
      const fail = this.local();
      b.bind(loop);
      this.put(encLdp(X12, X13, X11, 16, 'post'));
      emitCbz(b, X12, fail);
      this.put(encCmpReg(X10, X12));
      emitBCond(b, 'lo', loop);
      this.put(encAddImm(X14, X10, len));
      this.put(encCmpReg(X14, X10));
      emitBCond(b, 'lo', loop);
      this.put(encCmpReg(X14, X13));
      emitBCond(b, 'hi', loop);
      this.put(encRet());
      b.bind(fail);
      this.jumpSymbol(SYM.memFault);
    }
    if (this.depthChecker) {
      b.bind(this.depthChecker);
      const fail = this.local();
      this.movFixed(X11, this.symbolValue(SYM.stackLimit));
      this.put(encCmpReg(X25, X11));
      emitBCond(b, 'lo', fail);
      this.put(encRet());
      b.bind(fail);
      this.jumpSymbol(SYM.depthFault);
    }
  }
}

/** Compile a (resolved, possibly blinded) program. The layout does not depend on the final base. */
export interface Arm64BpfCompilation {
  /** Sizing result (bytes placed for imageRange.lo). */
  sized: BpfCodegenResult;
  /** Final bytes for code running at `base`; throws if the layout differs from the sizing pass. */
  at(base: number): BpfCodegenResult;
}

export function compileBpfArm64(insns: readonly JitInsn[], opts: BpfCodegenOptions): Arm64BpfCompilation {
  let em = new Arm64BpfEmitter(insns, opts, false);
  let sized = em.compile();
  if (sized.bytes.length >= BCOND_REACH) {
    em = new Arm64BpfEmitter(insns, opts, true);
    sized = em.compile();
  }
  const final = em;
  return {
    sized,
    at(base: number): BpfCodegenResult {
      return final.finalPass(base, sized);
    },
  };
}
