// BPF -> x86_64, after Linux arch/x86/net/bpf_jit_comp.c (~v6.1), emitting into one CodeBuffer.
//
// Register map (the kernel's, reference/bpf.md §4.1):
//   r0 rax · r1 rdi · r2 rsi · r3 rdx · r4 rcx · r5 r8 · r6 rbx · r7 r13 · r8 r14 · r9 r15 · r10 rbp
//   AX (blinding, BPF_REG_AX = 11) r10 · aux r11 (addresses, divisors, shift save, call targets).
// r1..r5 are the SysV argument registers, so a helper call needs no shuffling and r0 = rax.
//
// Frames and calls:
// - Entry `fn(r1 = ctx, r2 = len, rdx = BPF stack top)`. Unlike the kernel, the BPF stack is not the
//   native stack: it is a region of the program's memory (so runtime checks and faults name the same
//   addresses as the interpreter), and r10 = rbp points at its top. The native stack holds only
//   saved registers and return addresses.
// - Main prologue: [endbr64] · 5-byte nop (trampoline site) · xor eax,eax (tail-call counter) ·
//   push rbp · mov rbp,rdx · [endbr64: tail-call landing] · push of the used ones of rbx/r13/r14/r15.
//   Epilogue, emitted at the function's first EXIT (later EXITs jump to it): pops, pop rbp, ret.
// - A bpf-to-bpf call: `sub rbp,512 · call depth-check · call fn · add rbp,512`; each subprogram
//   pushes/pops its own used callee-saved registers (its own frame). The depth check faults when a
//   frame would leave the 8-frame stack region (the interpreter's call-depth limit).
// - Helpers: `call rel32` to the helper's kernel-text symbol when it is within ±2 GiB of every
//   address the image may get (options.imageRange), else `movabs r11, addr; call r11`. Deciding over
//   the whole range keeps the sizing pass and the final pass at the ROX address byte-for-byte equal
//   in layout. callx: `mov r11, dst; call bpf:callx` (a host dispatcher reads r11).
//
// - Tail calls (bpf_tail_call(ctx, prog_array, index), kernel emit_bpf_tail_call_indirect): the
//   main prologue pushes the tail-call counter (rax) after the landing point. The inline sequence
//   checks the prog array object (must lie in a prog-array region: `chk_8_p` walks
//   bpf:regions-prog-array), index < max_entries (u32 at +0), counter < MAX_TAIL_CALL_CNT (33),
//   slot non-NULL (u64 landing addresses at +8), then pops its callee-saved registers and the
//   counter into rax and jumps to the target's landing point, reusing rbp (r10) and the saved rbp.
//   A failed tail call falls through (r0 clobbered, as a helper call would).
//
// Semantics: ALU32 results are zero-extended (32-bit x86 ops, plus `mov r32,r32` where x86 would
// leave the upper half: cmpxchg32 r0, 32-bit shifts by 0); DIV by 0 -> 0, MOD by 0 -> dst (low 32
// bits for ALU32), signed x / -1 -> -x and x % -1 -> 0 without reaching idiv; rax/rdx are preserved
// around div; variable shifts go through cl with rcx preserved (x86 masks counts like BPF).
//
// Memory safety: an access not in `options.proven` (the verifier's provenStackAccesses) is preceded
// by an inline range check against the run's fast window (r12 = minus its base, r9 = the number of
// addresses an access of up to 8 bytes may start at; bpf:fast-window, jit-host.ts):
//   lea r11,[base+r12+off] · cmp r11,r9 · jb ok · lea r11,[base+off] · call chk_<len>_<r|w> · ok:
// so an access inside the window costs three instructions and no call. Everything else takes the
// out-of-line checker, which walks the region table (pairs [base, end), zero-terminated;
// bpf:regions-read or -write) and returns, or jumps to bpf:mem-fault, whose host function finds the
// site from the return address at [rsp] and raises the interpreter's BpfMemoryFault. The checker
// preserves every register but r11 and flags. The window is a subset of the tables, so both paths
// accept exactly what the checker alone would. A program with checks pushes r12 after its saved
// registers (a tail call pops it with them) and loads r12/r9 after the tail-call landing and after
// every helper call and callx (helpers may change the regions; r9 is caller-saved).

import { ABS64, type Label } from '../buffer.js';
import { BpfEmitterBase } from './emitter-base.js';
import {
  type Cond, type Reg64, type Reg32, type Reg8, type Reg16, type Mem,
  rax, rcx, rdx, rbx, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15, rsp, cl,
  regOfSize, mem, memIndex, memOfSize, dword, qword,
  emitMov, emitMovabs, emitLoadImm64, emitMovzx, emitMovsx, emitMovsxd, emitAlu, emitTest, emitImul, emitImul3,
  emitUnary, emitShift, emitBswap, emitXchg, emitXadd, emitCmpxchg, emitLea, emitPush, emitPop, emitJmp, emitJcc,
  emitCall, emitCallSymbol, emitJmpSymbol, emitCallIndirect, emitJmpIndirect, emitRet, emitEndbr64, emitNop, emitCqo, emitCdq, JMP_BRANCH, JCC_BRANCH,
  type AluOp, type ShiftOp,
} from '../x86_64/index.js';
import { BPF_JIT_STACK_FRAME, BpfJitError, MAX_TAIL_CALL_CNT, SYM, type BpfCodegenOptions, type BpfCodegenResult, type JitInsn, type JitSite, type SiteKind, branchTargetSlot } from './common.js';

const REG: readonly Reg64[] = [rax, rdi, rsi, rdx, rcx, r8, rbx, r13, r14, r15, rbp, r10];
const CALLEE_SAVED: readonly number[] = [6, 7, 8, 9];
const REL32_REACH = 2 ** 31 - 1;

const ALU_OPS: Record<number, AluOp> = { 0x00: 'add', 0x10: 'sub', 0x40: 'or', 0x50: 'and', 0xa0: 'xor' };
const SHIFT_OPS: Record<number, ShiftOp> = { 0x60: 'shl', 0x70: 'shr', 0xc0: 'sar' };
const JCC: Record<number, Cond> = {
  0x10: 'e', 0x20: 'a', 0x30: 'ae', 0x40: 'ne', 0x50: 'ne', 0x60: 'g', 0x70: 'ge', 0xa0: 'b', 0xb0: 'be', 0xc0: 'l', 0xd0: 'le',
};

/** rel8 opcodes of the short forward branches (CodeBuffer.shortForward). */
const JMP8 = JMP_BRANCH.short[0] as number;
const JNE8 = JCC_BRANCH.ne.short[0] as number;
const JB8 = JCC_BRANCH.b.short[0] as number;

const r32 = (r: Reg64): Reg32 => regOfSize(r, 32);
const r16 = (r: Reg64): Reg16 => regOfSize(r, 16);
const r8b = (r: Reg64): Reg8 => regOfSize(r, 8);

function sizeOf(opcode: number): 1 | 2 | 4 | 8 {
  const s = opcode & 0x18;
  return s === 0x00 ? 4 : s === 0x08 ? 2 : s === 0x10 ? 1 : 8;
}

/** [base + off] of `len` bytes. */
function sizedMem(base: Reg64, off: number, len: number): Mem {
  return memOfSize(base, off, (len * 8) as 8 | 16 | 32 | 64);
}

function insnText(i: JitInsn): string {
  return `opcode 0x${i.opcode.toString(16).padStart(2, '0')} dst r${i.dst} src r${i.src} off ${i.off} imm ${i.imm}`;
}

interface FnInfo {
  start: number;
  end: number;
  saved: number[];
  epilogue: Label;
  epilogueBound: boolean;
}

class X86BpfEmitter extends BpfEmitterBase<FnInfo> {
  /** Some access is checked at run time: r12/r9 hold the fast window (see the header). */
  private readonly window: boolean;

  constructor(insns: readonly JitInsn[], opts: BpfCodegenOptions) {
    super('x86_64', insns, opts);
    this.window = opts.inlineChecks !== false && this.hasCheckedAccess();
  }

  /** r12 = -(window base), r9 = window count (clobbers r11). */
  private loadWindow(): void {
    if (!this.window) return;
    this.movabsSymbol(r11, SYM.fastWindow);
    emitMov(this.buf, r12, memOfSize(r11, 0, 64));
    emitUnary(this.buf, 'neg', r12);
    emitMov(this.buf, r9, memOfSize(r11, 8, 64));
  }

  /** Whether `symbol` is within rel32 reach (less 1 MiB of margin for the image itself). */
  private near(symbol: string): boolean {
    return this.withinReach(symbol, REL32_REACH - 0x100000 - 1);
  }

  private callSymbol(symbol: string): void {
    if (this.near(symbol)) emitCallSymbol(this.buf, symbol);
    else {
      this.movabsSymbol(r11, symbol);
      emitCallIndirect(this.buf, r11);
    }
  }

  private jmpSymbol(symbol: string, scratch: Reg64): void {
    if (this.near(symbol)) emitJmpSymbol(this.buf, symbol);
    else {
      this.movabsSymbol(scratch, symbol);
      emitJmpIndirect(this.buf, scratch);
    }
  }

  private movabsSymbol(dst: Reg64, symbol: string): void {
    emitMovabs(this.buf, dst, 0, 0);
    this.buf.addReloc({ kind: ABS64, symbol, at: this.buf.linearLength - 8 });
  }

  compile(): BpfCodegenResult {
    const insns = this.insns;
    const starts = [...new Set(this.opts.functions)].sort((a, b) => a - b);
    if (starts[0] !== 0) throw new BpfJitError(0, '', 'function list must start at instruction 0');
    const fns: FnInfo[] = [];
    const used = new Uint8Array(16);
    starts.forEach((s, k) => {
      const end = starts[k + 1] ?? insns.length;
      used.fill(0);
      for (let j = s; j < end; j++) {
        const i = insns[j] as JitInsn;
        used[i.dst & 15] = 1;
        used[i.src & 15] = 1;
        const target = branchTargetSlot(i);
        if (target !== null && i.opcode !== 0x85) this.slotLabel(target);
      }
      const fn: FnInfo = { start: s, end, saved: CALLEE_SAVED.filter((r) => used[r] === 1), epilogue: this.buf.newLabel(), epilogueBound: false };
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
    this.emitCheckers();
    return this.result(this.finishAt(this.opts.imageRange.lo));
  }

  // ---- prologue / epilogue -----------------------------------------------------------------

  private emitPrologue(fn: FnInfo): void {
    const b = this.buf;
    if (fn.start === 0) {
      if (this.opts.landingPads) emitEndbr64(b);
      emitNop(b, 5);
      emitAlu(b, 'xor', r32(rax), r32(rax));
      emitPush(b, rbp);
      emitMov(b, rbp, rdx);
      b.bind(this.namedLabel('tail-call-landing'));
      if (this.opts.landingPads) emitEndbr64(b);
      emitPush(b, rax);
    } else if (this.opts.landingPads) emitEndbr64(b);
    for (const r of fn.saved) emitPush(b, REG[r] as Reg64);
    if (fn.start === 0 && this.window) {
      emitPush(b, r12);
      this.loadWindow();
    }
  }

  private emitExit(fn: FnInfo): void {
    const b = this.buf;
    if (fn.epilogueBound) {
      emitJmp(b, fn.epilogue);
      return;
    }
    fn.epilogueBound = true;
    b.bind(fn.epilogue);
    if (fn.start === 0 && this.window) emitPop(b, r12);
    for (const r of [...fn.saved].reverse()) emitPop(b, REG[r] as Reg64);
    if (fn.start === 0) {
      emitPop(b, r11);
      emitPop(b, rbp);
    }
    emitRet(b);
  }

  // ---- instructions ------------------------------------------------------------------------

  private emitInsn(i: JitInsn, fn: FnInfo): void {
    const cls = i.opcode & 7;
    switch (cls) {
      case 0x04: case 0x07: return this.emitAluInsn(i, cls === 0x07);
      case 0x05: case 0x06: return this.emitJmpInsn(i, cls === 0x06, fn);
      case 0x01: return this.emitLoad(i);
      case 0x02: case 0x03: return this.emitStore(i);
      case 0x00:
        if (i.opcode === 0x18) {
          if (i.src !== 0) throw new BpfJitError(this.cur, insnText(i), 'lddw with a map reference must be resolved by the pipeline');
          emitLoadImm64(this.buf, REG[i.dst] as Reg64, i.imm >>> 0, (i.imm2 ?? 0) >>> 0);
          return;
        }
    }
    throw new BpfJitError(this.cur, insnText(i), 'unsupported instruction');
  }

  private emitAluInsn(i: JitInsn, is64: boolean): void {
    const b = this.buf;
    const op = i.opcode & 0xf0;
    const x = (i.opcode & 0x08) !== 0;
    const d64 = REG[i.dst] as Reg64;
    const s64 = REG[i.src] as Reg64;
    const d = is64 ? d64 : r32(d64);
    const s = is64 ? s64 : r32(s64);
    const aluOp = ALU_OPS[op];
    if (aluOp) {
      if (x) emitAlu(b, aluOp, d, s);
      else emitAlu(b, aluOp, d, i.imm);
      return;
    }
    if (SHIFT_OPS[op]) return this.emitShiftInsn(i, is64, SHIFT_OPS[op] as ShiftOp);
    switch (op) {
      case 0xb0: // mov / movsx
        if (!x) {
          if (i.imm === 0) emitAlu(b, 'xor', r32(d64), r32(d64));
          else emitMov(b, i.imm > 0 ? r32(d64) : d, i.imm);
        } else if (i.off === 0) {
          if (is64) emitMov(b, d64, s64);
          else emitMov(b, r32(d64), r32(s64));
        } else if (i.off === 8) emitMovsx(b, d, r8b(s64));
        else if (i.off === 16) emitMovsx(b, d, r16(s64));
        else if (i.off === 32 && is64) emitMovsxd(b, d64, r32(s64));
        else throw new BpfJitError(this.cur, insnText(i), `movsx width ${i.off}`);
        return;
      case 0x20: // mul
        if (x) emitImul(b, d, s);
        else emitImul3(b, d, d, i.imm);
        return;
      case 0x30: case 0x90:
        return this.emitDivMod(i, is64, op === 0x90, i.off === 1);
      case 0x80:
        emitUnary(b, 'neg', d);
        return;
      case 0xd0:
        return this.emitEndian(i, is64);
    }
    throw new BpfJitError(this.cur, insnText(i), 'unknown ALU operation');
  }

  private emitShiftInsn(i: JitInsn, is64: boolean, op: ShiftOp): void {
    const b = this.buf;
    const d64 = REG[i.dst] as Reg64;
    const d = is64 ? d64 : r32(d64);
    if ((i.opcode & 0x08) === 0) {
      const n = i.imm & (is64 ? 63 : 31);
      if (n !== 0) emitShift(b, op, d, n);
      else if (!is64) emitMov(b, d, d);
      return;
    }
    const s64 = REG[i.src] as Reg64;
    if (s64 === rcx) emitShift(b, op, d, cl);
    else if (d64 === rcx) {
      emitMov(b, r11, rcx);
      emitMov(b, rcx, s64);
      emitShift(b, op, is64 ? r11 : r32(r11), cl);
      emitMov(b, rcx, r11);
    } else {
      emitMov(b, r11, rcx);
      emitMov(b, rcx, s64);
      emitShift(b, op, d, cl);
      emitMov(b, rcx, r11);
    }
    if (!is64) emitMov(b, d, d);
  }

  private emitDivMod(i: JitInsn, is64: boolean, isMod: boolean, signed: boolean): void {
    const b = this.buf;
    const d64 = REG[i.dst] as Reg64;
    const d = is64 ? d64 : r32(d64);
    const t = is64 ? r11 : r32(r11);
    const x = (i.opcode & 0x08) !== 0;
    const immKnown = !x;
    const imm = i.imm | 0;
    // The special cases jump over the division with short forward branches (the sequence is short).
    let done1 = -1;
    let done2 = -1;
    if (x) emitMov(b, t, is64 ? (REG[i.src] as Reg64) : r32(REG[i.src] as Reg64));
    else if (is64) emitMov(b, r11, imm);
    else emitMov(b, r32(r11), imm >>> 0);
    if (!immKnown || imm === 0) {
      emitTest(b, t, t);
      const nonzero = b.shortForward(JNE8);
      if (isMod) {
        if (!is64) emitMov(b, d, d);
      } else emitAlu(b, 'xor', r32(d64), r32(d64));
      done1 = b.shortForward(JMP8);
      b.bindShortForward(nonzero);
    }
    if (signed && (!immKnown || imm === -1)) {
      emitAlu(b, 'cmp', t, -1);
      const go = b.shortForward(JNE8);
      if (isMod) emitAlu(b, 'xor', r32(d64), r32(d64));
      else emitUnary(b, 'neg', d);
      done2 = b.shortForward(JMP8);
      b.bindShortForward(go);
    }
    if (d64 !== rax) emitPush(b, rax);
    if (d64 !== rdx) emitPush(b, rdx);
    emitMov(b, is64 ? rax : r32(rax), d);
    if (signed) {
      if (is64) emitCqo(b);
      else emitCdq(b);
      emitUnary(b, 'idiv', t);
    } else {
      emitAlu(b, 'xor', r32(rdx), r32(rdx));
      emitUnary(b, 'div', t);
    }
    emitMov(b, t, isMod ? (is64 ? rdx : r32(rdx)) : is64 ? rax : r32(rax));
    if (d64 !== rdx) emitPop(b, rdx);
    if (d64 !== rax) emitPop(b, rax);
    emitMov(b, d, t);
    if (done1 >= 0) b.bindShortForward(done1);
    if (done2 >= 0) b.bindShortForward(done2);
  }

  private emitEndian(i: JitInsn, is64: boolean): void {
    const b = this.buf;
    const d64 = REG[i.dst] as Reg64;
    const swap = is64 || (i.opcode & 0x08) !== 0; // bswap (ALU64) or to_be; to_le is a truncation
    switch (i.imm) {
      case 16:
        if (swap) emitShift(b, 'ror', r16(d64), 8);
        emitMovzx(b, r32(d64), r16(d64));
        return;
      case 32:
        if (swap) emitBswap(b, r32(d64));
        else emitMov(b, r32(d64), r32(d64));
        return;
      case 64:
        if (swap) emitBswap(b, d64);
        return;
    }
    throw new BpfJitError(this.cur, insnText(i), `byte swap width ${i.imm}`);
  }

  private emitJmpInsn(i: JitInsn, is32: boolean, fn: FnInfo): void {
    const b = this.buf;
    const op = i.opcode & 0xf0;
    if (i.opcode === 0x95) return this.emitExit(fn);
    if (i.opcode === 0x85) return this.emitCall(i);
    if (i.opcode === 0x8d) {
      emitMov(b, r11, REG[i.dst] as Reg64);
      this.callSymbol(SYM.callx);
      this.site('callx');
      this.loadWindow();
      return;
    }
    const target = branchTargetSlot(i);
    if (target === null) throw new BpfJitError(this.cur, insnText(i), 'unknown jump');
    if (op === 0x00) {
      if (target === i.slot + 1) return;
      emitJmp(b, this.slotLabel(target));
      return;
    }
    const cond = JCC[op];
    if (!cond) throw new BpfJitError(this.cur, insnText(i), 'unknown jump condition');
    const d64 = REG[i.dst] as Reg64;
    const d = is32 ? r32(d64) : d64;
    const x = (i.opcode & 0x08) !== 0;
    const s = is32 ? r32(REG[i.src] as Reg64) : (REG[i.src] as Reg64);
    if (op === 0x40) {
      if (x) emitTest(b, d, s);
      else emitTest(b, d, i.imm | 0);
    } else if (x) emitAlu(b, 'cmp', d, s);
    else emitAlu(b, 'cmp', d, i.imm | 0);
    emitJcc(b, cond, this.slotLabel(target));
  }

  private emitCall(i: JitInsn): void {
    const b = this.buf;
    if (i.src === 1) {
      const target = branchTargetSlot(i) as number;
      emitAlu(b, 'sub', rbp, BPF_JIT_STACK_FRAME);
      if (this.depthChecker === null) this.depthChecker = b.newLabel('depth-check');
      emitCall(b, this.depthChecker);
      this.site('depth');
      emitCall(b, this.fnEntry(target));
      emitAlu(b, 'add', rbp, BPF_JIT_STACK_FRAME);
      return;
    }
    if (i.src !== 0) throw new BpfJitError(this.cur, insnText(i), 'kfunc calls are not supported');
    if (this.opts.tailCallHelper !== undefined && i.imm === this.opts.tailCallHelper) return this.emitTailCall(i);
    this.callSymbol(SYM.helper(i.imm));
    this.site('helper');
    this.loadWindow();
  }

  private emitTailCall(i: JitInsn): void {
    const b = this.buf;
    const fn = this.fnByStart.get(0) as FnInfo;
    if (this.cur >= (fn.end as number)) throw new BpfJitError(this.cur, insnText(i), 'tail calls from bpf-to-bpf callees are not supported');
    const out = this.local();
    emitMov(b, r11, rsi);
    this.callChecker(8, 'p');
    emitAlu(b, 'cmp', r32(rdx), dword(mem(rsi, 0)));
    emitJcc(b, 'ae', out);
    const counter = dword(mem(rsp, 8 * (fn.saved.length + (this.window ? 1 : 0))));
    emitMov(b, r32(rax), counter);
    emitAlu(b, 'cmp', r32(rax), MAX_TAIL_CALL_CNT);
    emitJcc(b, 'ae', out);
    emitAlu(b, 'add', r32(rax), 1);
    emitMov(b, counter, r32(rax));
    emitMov(b, r32(rdx), r32(rdx));
    emitMov(b, r11, qword(mem(rsi, 8, { index: rdx, scale: 8 })));
    emitTest(b, r11, r11);
    emitJcc(b, 'e', out);
    if (this.window) emitPop(b, r12);
    for (const r of [...fn.saved].reverse()) emitPop(b, REG[r] as Reg64);
    emitPop(b, rax);
    emitJmpIndirect(b, r11);
    b.bind(out);
  }

  // ---- memory ------------------------------------------------------------------------------

  private check(i: JitInsn, base: Reg64, len: number, write: boolean): void {
    if (!this.isChecked(i, this.cur)) return;
    const b = this.buf;
    if (!this.window) {
      emitLea(b, r11, mem(base, i.off));
      this.callChecker(len, write ? 'w' : 'r');
      return;
    }
    emitLea(b, r11, memIndex(base, r12, 1, i.off));
    emitAlu(b, 'cmp', r11, r9);
    // jb over the slow path: a short forward branch (the slow path is two instructions).
    const ok = b.shortForward(JB8);
    emitLea(b, r11, mem(base, i.off));
    this.callChecker(len, write ? 'w' : 'r');
    b.bindShortForward(ok);
  }

  /** `call chk_<len>_<table>` for the address in r11 (r = any region, w = writable, p = prog array). */
  private callChecker(len: number, table: 'r' | 'w' | 'p'): void {
    const b = this.buf;
    const key = len * 4 + (table === 'r' ? 0 : table === 'w' ? 1 : 2);
    let l = this.checkers.get(key);
    if (!l) {
      l = b.newLabel();
      this.checkers.set(key, l);
    }
    emitCall(b, l);
    this.site(table === 'w' ? 'mem-write' : table === 'p' ? 'prog-array' : 'mem-read', len);
  }

  private emitLoad(i: JitInsn): void {
    const b = this.buf;
    const mode = i.opcode & 0xe0;
    if (mode !== 0x60 && mode !== 0x80) throw new BpfJitError(this.cur, insnText(i), 'legacy packet loads are not supported');
    const len = sizeOf(i.opcode);
    const s64 = REG[i.src] as Reg64;
    const d64 = REG[i.dst] as Reg64;
    this.check(i, s64, len, false);
    const m = sizedMem(s64, i.off, len);
    if (mode === 0x80) {
      if (len === 4) emitMovsxd(b, d64, m);
      else emitMovsx(b, d64, m);
      return;
    }
    if (len === 8) emitMov(b, d64, m);
    else if (len === 4) emitMov(b, r32(d64), m);
    else emitMovzx(b, r32(d64), m);
  }

  private emitStore(i: JitInsn): void {
    const b = this.buf;
    const mode = i.opcode & 0xe0;
    const len = sizeOf(i.opcode);
    const d64 = REG[i.dst] as Reg64;
    const s64 = REG[i.src] as Reg64;
    this.check(i, d64, len, true);
    const m = sizedMem(d64, i.off, len);
    if (mode === 0xc0) return this.emitAtomic(i, m, len === 8);
    if (mode !== 0x60) throw new BpfJitError(this.cur, insnText(i), 'unknown store mode');
    if ((i.opcode & 7) === 0x02) {
      emitMov(b, m, len === 8 ? i.imm | 0 : len === 4 ? i.imm | 0 : len === 2 ? i.imm & 0xffff : i.imm & 0xff);
      return;
    }
    emitMov(b, m, len === 8 ? s64 : len === 4 ? r32(s64) : len === 2 ? r16(s64) : r8b(s64));
  }

  private emitAtomic(i: JitInsn, m: Mem, is64: boolean): void {
    const b = this.buf;
    const s64 = REG[i.src] as Reg64;
    const s = is64 ? s64 : r32(s64);
    const op = i.imm;
    switch (op) {
      case 0x00: emitAlu(b, 'add', m, s, { lock: true }); return;
      case 0x40: emitAlu(b, 'or', m, s, { lock: true }); return;
      case 0x50: emitAlu(b, 'and', m, s, { lock: true }); return;
      case 0xa0: emitAlu(b, 'xor', m, s, { lock: true }); return;
      case 0x01: emitXadd(b, m, s, { lock: true }); return;
      case 0xe1: emitXchg(b, m, s); return;
      case 0xf1:
        emitCmpxchg(b, m, s, { lock: true });
        if (!is64) emitMov(b, r32(rax), r32(rax));
        return;
      case 0x41: case 0x51: case 0xa1: {
        const aluOp: AluOp = op === 0x41 ? 'or' : op === 0x51 ? 'and' : 'xor';
        const tmp64 = s64 === rcx ? rdx : rcx;
        const tmp = is64 ? tmp64 : r32(tmp64);
        const val = s64 === rax ? (is64 ? r10 : r32(r10)) : s;
        const w = (r: Reg64): Reg64 | Reg32 => (is64 ? r : r32(r));
        emitLea(b, r11, mem(REG[i.dst] as Reg64, i.off));
        const at = sizedMem(r11, 0, is64 ? 8 : 4);
        emitMov(b, r10, rax);
        emitPush(b, tmp64);
        const loop = this.local();
        b.bind(loop);
        emitMov(b, w(rax), at);
        emitMov(b, tmp, w(rax));
        emitAlu(b, aluOp, tmp, val);
        emitCmpxchg(b, at, tmp, { lock: true });
        emitJcc(b, 'ne', loop);
        emitPop(b, tmp64);
        emitMov(b, s, w(rax));
        if (s64 !== rax) emitMov(b, rax, r10);
        return;
      }
    }
    throw new BpfJitError(this.cur, insnText(i), `atomic operation 0x${op.toString(16)}`);
  }

  // ---- out-of-line checkers ----------------------------------------------------------------

  private emitCheckers(): void {
    const b = this.buf;
    for (const [key, label] of this.checkers) {
      const len = key >> 2;
      const table = 'rwp'[key & 3];
      b.bind(label);
      emitPush(b, r10);
      emitPush(b, rax);
      this.movabsSymbol(r10, table === 'w' ? SYM.regionsWrite : table === 'p' ? SYM.regionsProgArray : SYM.regionsRead);
      const loop = this.local();
      const next = this.local();
      const ok = this.local();
      const fail = this.local();
      b.bind(loop);
      emitMov(b, rax, memOfSize(r10, 0, 64));
      emitTest(b, rax, rax);
      emitJcc(b, 'e', fail);
      emitAlu(b, 'cmp', r11, rax);
      emitJcc(b, 'b', next);
      emitMov(b, rax, memOfSize(r10, 8, 64));
      emitAlu(b, 'sub', rax, len);
      emitAlu(b, 'cmp', r11, rax);
      emitJcc(b, 'be', ok);
      b.bind(next);
      emitAlu(b, 'add', r10, 16);
      emitJmp(b, loop);
      b.bind(ok);
      emitPop(b, rax);
      emitPop(b, r10);
      emitRet(b);
      b.bind(fail);
      emitPop(b, rax);
      emitPop(b, r10);
      this.jmpSymbol(SYM.memFault, r10);
    }
    if (this.depthChecker) {
      b.bind(this.depthChecker);
      const fail = this.local();
      this.movabsSymbol(r11, SYM.stackLimit);
      emitAlu(b, 'cmp', rbp, r11);
      emitJcc(b, 'b', fail);
      emitRet(b);
      b.bind(fail);
      this.jmpSymbol(SYM.depthFault, r11);
    }
  }
}

/** Compile a (resolved, possibly blinded) program. The layout does not depend on the final base. */
export interface X86BpfCompilation {
  /** Sizing result (bytes displaced for imageRange.lo). */
  sized: BpfCodegenResult;
  /** Final bytes for code running at `base`; throws if the layout differs from the sizing pass. */
  at(base: number): BpfCodegenResult;
}

export function compileBpfX86(insns: readonly JitInsn[], opts: BpfCodegenOptions): X86BpfCompilation {
  const em = new X86BpfEmitter(insns, opts);
  const sized = em.compile();
  return {
    sized,
    at(base: number): BpfCodegenResult {
      return em.finalPass(base, sized);
    },
  };
}
