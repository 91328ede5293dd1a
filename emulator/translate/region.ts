// Compiles one region (a head block plus decode-cache blocks it reaches directly) into one
// WebAssembly function with binaryen: register slots as i64 locals (loaded at entry, spilled at the
// single exit tail), the budget check at every block entry, guest loads/stores through the soft TLB
// in scratch memory, block-to-block control flow through binaryen's Relooper (a single-block
// self-loop becomes a wasm `loop`), every way out through one exit tail that writes the exit record.
// The protocol is documented in types.ts; the scratch layout in scratch.ts.
//
// Invariants: an exit leaves every slot the function wrote in scratch, `rem` exact (a resume exit
// at instruction k gives back count - k), loads/stores/branches counted once per retired access or
// branch; the module imports the guest memory as env.memory and nothing else.

import binaryen from 'binaryen';
import {
  type AccessSize,
  type ArchTranslator,
  type BlockEmitter,
  type BlockTranslation,
  EXIT_BLOCK,
  EXIT_PC,
  EXIT_RESUME,
  type Expr,
  type GuestBlock,
  i64pair,
  MAX_SLOTS,
  vaddrConst,
} from './types.js';
import {
  MISS_READ,
  MISS_WRITE,
  SLOTS_AT,
  TLB_READ_AT,
  TLB_WRITE_AT,
  XR_BLOCK,
  XR_BRANCHES,
  XR_INSN,
  XR_LOADS,
  XR_MISS_ADDR,
  XR_MISS_KIND,
  XR_PC,
  XR_REM,
  XR_STATUS,
  XR_STORES,
} from './scratch.js';
import type { VAddr } from '../../support/u64.js';

const EXIT_LABEL = 'x$exit';

binaryen.setOptimizeLevel(2);
binaryen.setShrinkLevel(0);
/**
 * binaryen passes run on each region: cheap local clean-ups only. The full -O2 pipeline costs
 * 20-100 ms per region and gains nothing measurable here, since V8's optimising tier does its own
 * SSA, register allocation and constant folding on the result.
 */
const PASSES = (process.env.JITBOX_TRANSLATE_PASSES ?? 'simplify-locals-nostructure,vacuum').split(',').filter((p) => p !== '');

export interface CompiledRegion {
  /** Runs from the region's block `entry` (index into `blocks`); returns the exit status. */
  readonly run: (entry: number) => number;
  /** Decode-cache ids of the translated blocks (index = entry number). */
  readonly blocks: readonly number[];
  /** Every block the region depends on (translated ones). */
  readonly bytes: number;
}

class Emitter implements BlockEmitter {
  readonly m: binaryen.Module;
  block!: GuestBlock;
  readonly vars: binaryen.Type[] = [];
  readonly slotLocal = new Int32Array(MAX_SLOTS).fill(-1);
  readonly slotWritten = new Uint8Array(MAX_SLOTS);
  readonly lRem: number;
  readonly lBr: number;
  readonly lLd: number;
  readonly lSt: number;
  readonly lStatus: number;
  readonly lXb: number;
  readonly lXi: number;
  readonly lXpc: number;
  readonly lMaddr: number;
  readonly lMkind: number;
  private readonly base: number;
  private readonly slotCount: number;
  private curInsn = -1;
  private curBlock = -1;
  private insnLoads = 0;
  private insnStores = 0;

  constructor(m: binaryen.Module, base: number, slotCount: number) {
    this.m = m;
    this.base = base;
    this.slotCount = slotCount;
    this.lRem = this.local(binaryen.i64);
    this.lBr = this.local(binaryen.i32);
    this.lLd = this.local(binaryen.i32);
    this.lSt = this.local(binaryen.i32);
    this.lStatus = this.local(binaryen.i32);
    this.lXb = this.local(binaryen.i32);
    this.lXi = this.local(binaryen.i32);
    this.lXpc = this.local(binaryen.i64);
    this.lMaddr = this.local(binaryen.i64);
    this.lMkind = this.local(binaryen.i32);
  }

  local(type: binaryen.Type): number {
    this.vars.push(type);
    return this.vars.length; // param 0 is the entry index
  }

  private slot(s: number): number {
    if (!Number.isInteger(s) || s < 0 || s >= this.slotCount) throw new RangeError(`translator used slot ${s} (slotCount ${this.slotCount})`);
    let l = this.slotLocal[s]!;
    if (l < 0) this.slotLocal[s] = l = this.local(binaryen.i64);
    return l;
  }

  get(s: number): Expr {
    return this.m.local.get(this.slot(s), binaryen.i64);
  }

  set(s: number, value: Expr): Expr {
    this.slotWritten[s] = 1;
    return this.m.local.set(this.slot(s), value);
  }

  countBranch(): Expr {
    const m = this.m;
    return m.local.set(this.lBr, m.i32.add(m.local.get(this.lBr, binaryen.i32), m.i32.const(1)));
  }

  exitResume(insn: number): Expr {
    return this.resumeExit(insn, insn === this.curInsn);
  }

  /** Count one access of instruction `insn` (a resume exit before it completes gives it back). */
  private noteAccess(insn: number, store: boolean): void {
    if (insn !== this.curInsn || this.block.id !== this.curBlock) {
      this.curInsn = insn;
      this.curBlock = this.block.id;
      this.insnLoads = 0;
      this.insnStores = 0;
    }
    if (store) this.insnStores++;
    else this.insnLoads++;
  }

  /** Resume exit; `undo`: subtract the accesses instruction `insn` already counted. */
  resumeExit(insn: number, undo: boolean): Expr {
    const m = this.m;
    const b = this.block;
    if (!Number.isInteger(insn) || insn < 0 || insn > b.count) throw new RangeError(`resume at instruction ${insn} of a ${b.count}-instruction block`);
    const fix: Expr[] = [];
    if (undo && b.id === this.curBlock) {
      if (this.insnLoads) fix.push(m.local.set(this.lLd, m.i32.sub(m.local.get(this.lLd, binaryen.i32), m.i32.const(this.insnLoads))));
      if (this.insnStores) fix.push(m.local.set(this.lSt, m.i32.sub(m.local.get(this.lSt, binaryen.i32), m.i32.const(this.insnStores))));
    }
    return m.block(null, [
      ...fix,
      m.local.set(this.lRem, m.i64.add(m.local.get(this.lRem, binaryen.i64), i64pair(m, b.count - insn, 0))),
      m.local.set(this.lStatus, m.i32.const(EXIT_RESUME)),
      m.local.set(this.lXb, m.i32.const(b.id)),
      m.local.set(this.lXi, m.i32.const(insn)),
      m.br(EXIT_LABEL),
    ]);
  }

  /** Exit to a constant guest pc (outside the region). */
  exitPc(pc: VAddr): Expr {
    const m = this.m;
    return m.block(null, [m.local.set(this.lStatus, m.i32.const(EXIT_PC)), m.local.set(this.lXpc, vaddrConst(m, pc)), m.br(EXIT_LABEL)]);
  }

  exitPcExpr(target: Expr): Expr {
    const m = this.m;
    return m.block(null, [m.local.set(this.lXpc, target), m.local.set(this.lStatus, m.i32.const(EXIT_PC)), m.br(EXIT_LABEL)]);
  }

  /** Block entry: leave for the interpreter when the budget cannot cover the block, else charge it. */
  budgetCheck(): Expr {
    const m = this.m;
    const b = this.block;
    const rem = m.local.get(this.lRem, binaryen.i64);
    return m.block(null, [
      m.if(
        m.i64.lt_s(rem, i64pair(m, b.count, 0)),
        m.block(null, [m.local.set(this.lStatus, m.i32.const(EXIT_BLOCK)), m.local.set(this.lXb, m.i32.const(b.id)), m.br(EXIT_LABEL)]),
      ),
      m.local.set(this.lRem, m.i64.sub(m.local.get(this.lRem, binaryen.i64), i64pair(m, b.count, 0))),
    ]);
  }

  /** Host address (i32) of a TLB-checked access; the statements go to `pre`. */
  private translateAccess(pre: Expr[], size: AccessSize, addr: Expr, insn: number, kind: number): Expr {
    const m = this.m;
    const a = this.local(binaryen.i64);
    const e = this.local(binaryen.i32);
    const la = (): Expr => m.i32.wrap(m.local.get(a, binaryen.i64));
    pre.push(m.local.set(a, addr));
    const table = this.base + (kind === MISS_WRITE ? TLB_WRITE_AT : TLB_READ_AT);
    pre.push(m.local.set(e, m.i32.add(m.i32.const(table), m.i32.shl(m.i32.and(m.i32.shr_u(la(), m.i32.const(12)), m.i32.const(255)), m.i32.const(4)))));
    const tagMiss = (): Expr => m.i64.ne(m.i64.load(0, 8, m.local.get(e, binaryen.i32)), m.i64.and(m.local.get(a, binaryen.i64), i64pair(m, -4096, -1)));
    const crosses = size > 1 ? m.i32.gt_u(m.i32.and(la(), m.i32.const(0xfff)), m.i32.const(4096 - size)) : null;
    // A tag miss asks the host to fill the entry (QEMU's tlb_fill) and retries once; a page that
    // does not allow the access, or an access crossing a page, leaves for the interpreter.
    const fill = m.call('tlbFill', [la(), m.i32.wrap(m.i64.shr_u(m.local.get(a, binaryen.i64), i64pair(m, 32, 0))), m.i32.const(kind)], binaryen.i32);
    const out = (): Expr => m.block(null, [m.local.set(this.lMkind, m.i32.const(kind)), m.local.set(this.lMaddr, m.local.get(a, binaryen.i64)), this.exitResume(insn)]);
    const missAfterFill = m.if(tagMiss(), m.if(m.i32.eqz(fill), out()));
    pre.push(crosses ? m.if(crosses, out(), missAfterFill) : missAfterFill);
    return m.i32.add(m.i32.load(8, 4, m.local.get(e, binaryen.i32)), m.i32.and(la(), m.i32.const(0xfff)));
  }

  load(size: AccessSize, signed: boolean, addr: Expr, insn: number): Expr {
    const m = this.m;
    const pre: Expr[] = [];
    const host = this.translateAccess(pre, size, addr, insn, MISS_READ);
    pre.push(m.local.set(this.lLd, m.i32.add(m.local.get(this.lLd, binaryen.i32), m.i32.const(1))));
    this.noteAccess(insn, false);
    let v: Expr;
    if (size === 8) v = m.i64.load(0, 1, host);
    else if (size === 4) v = signed ? m.i64.load32_s(0, 1, host) : m.i64.load32_u(0, 1, host);
    else if (size === 2) v = signed ? m.i64.load16_s(0, 1, host) : m.i64.load16_u(0, 1, host);
    else v = signed ? m.i64.load8_s(0, 1, host) : m.i64.load8_u(0, 1, host);
    pre.push(v);
    return m.block(null, pre, binaryen.i64);
  }

  store(size: AccessSize, addr: Expr, value: Expr, insn: number): Expr {
    const m = this.m;
    const pre: Expr[] = [];
    const v = this.local(binaryen.i64);
    pre.push(m.local.set(v, value));
    const host = this.translateAccess(pre, size, addr, insn, MISS_WRITE);
    pre.push(m.local.set(this.lSt, m.i32.add(m.local.get(this.lSt, binaryen.i32), m.i32.const(1))));
    this.noteAccess(insn, true);
    const val = m.local.get(v, binaryen.i64);
    if (size === 8) pre.push(m.i64.store(0, 1, host, val));
    else if (size === 4) pre.push(m.i64.store32(0, 1, host, val));
    else if (size === 2) pre.push(m.i64.store16(0, 1, host, val));
    else pre.push(m.i64.store8(0, 1, host, val));
    return m.block(null, pre);
  }

  probeStore(size: AccessSize, addr: Expr, insn: number): Expr {
    const pre: Expr[] = [];
    const host = this.translateAccess(pre, size, addr, insn, MISS_WRITE);
    pre.push(this.m.drop(host));
    return this.m.block(null, pre);
  }

  prologue(): Expr[] {
    const m = this.m;
    const out: Expr[] = [];
    for (let s = 0; s < MAX_SLOTS; s++) {
      const l = this.slotLocal[s]!;
      if (l >= 0) out.push(m.local.set(l, m.i64.load(0, 8, m.i32.const(this.base + SLOTS_AT + 8 * s))));
    }
    out.push(m.local.set(this.lRem, m.i64.load(0, 8, m.i32.const(this.base + XR_REM))));
    return out;
  }

  epilogue(): Expr[] {
    const m = this.m;
    const at = (off: number): Expr => m.i32.const(this.base + off);
    const out: Expr[] = [];
    for (let s = 0; s < MAX_SLOTS; s++) {
      if (this.slotWritten[s]) out.push(m.i64.store(0, 8, at(SLOTS_AT + 8 * s), m.local.get(this.slotLocal[s]!, binaryen.i64)));
    }
    out.push(m.i64.store(0, 8, at(XR_REM), m.local.get(this.lRem, binaryen.i64)));
    out.push(m.i32.store(0, 4, at(XR_BRANCHES), m.local.get(this.lBr, binaryen.i32)));
    out.push(m.i32.store(0, 4, at(XR_LOADS), m.local.get(this.lLd, binaryen.i32)));
    out.push(m.i32.store(0, 4, at(XR_STORES), m.local.get(this.lSt, binaryen.i32)));
    out.push(m.i32.store(0, 4, at(XR_STATUS), m.local.get(this.lStatus, binaryen.i32)));
    out.push(m.i32.store(0, 4, at(XR_BLOCK), m.local.get(this.lXb, binaryen.i32)));
    out.push(m.i32.store(0, 4, at(XR_INSN), m.local.get(this.lXi, binaryen.i32)));
    out.push(m.i64.store(0, 8, at(XR_PC), m.local.get(this.lXpc, binaryen.i64)));
    out.push(m.i64.store(0, 8, at(XR_MISS_ADDR), m.local.get(this.lMaddr, binaryen.i64)));
    out.push(m.i32.store(0, 4, at(XR_MISS_KIND), m.local.get(this.lMkind, binaryen.i32)));
    return out;
  }
}

/**
 * Translate and compile `blocks` (head first). Returns null when the head cannot be translated
 * (its first instruction is unsupported); blocks after the head that cannot be translated are
 * left out (branches to them leave the region).
 */
export function compileRegion(
  tr: ArchTranslator,
  blocks: readonly GuestBlock[],
  base: number,
  memory: WebAssembly.Memory,
  tlbFill: (lo: number, hi: number, kind: number) => number,
): CompiledRegion | null {
  const m = new binaryen.Module();
  try {
    m.setFeatures(binaryen.Features.SignExt | binaryen.Features.MutableGlobals);
    m.setMemory(1, -1, null, [], false, false, '0');
    m.addMemoryImport('0', 'env', 'memory');
    m.addFunctionImport('tlbFill', 'env', 'tlbFill', binaryen.createType([binaryen.i32, binaryen.i32, binaryen.i32]), binaryen.i32);
    const e = new Emitter(m, base, tr.slotCount);
    const done: { blk: GuestBlock; t: BlockTranslation }[] = [];
    for (const blk of blocks) {
      e.block = blk;
      const t = tr.translateBlock(blk, e);
      if (t.end.kind === 'resume' && t.end.insn === 0) {
        if (done.length === 0) return null;
        continue;
      }
      done.push({ blk, t });
    }
    if (done.length === 0) return null;
    const index = new Map<number, number>();
    done.forEach((d, k) => index.set(d.blk.pc, k));
    const rl = new binaryen.Relooper(m);
    const rb: number[] = [];
    const exits = new Map<number, number>();
    const exitBlock = (pc: VAddr): number => {
      let x = exits.get(pc);
      if (x === undefined) exits.set(pc, (x = rl.addBlock(e.exitPc(pc))));
      return x;
    };
    const conds: Expr[] = [];
    for (const { blk, t } of done) {
      e.block = blk;
      const code = [e.budgetCheck(), ...t.code];
      const end = t.end;
      let cl = -1;
      if (end.kind === 'resume') code.push(e.resumeExit(end.insn, false));
      else if (end.kind === 'indirect') {
        if (end.count) code.push(e.countBranch());
        code.push(e.exitPcExpr(end.target));
      } else if (end.kind === 'jump') {
        if (!index.has(end.target)) {
          if (end.count) code.push(e.countBranch());
          code.push(e.exitPc(end.target));
        }
      } else {
        cl = e.local(binaryen.i32);
        code.push(m.local.set(cl, end.cond));
      }
      conds.push(cl);
      rb.push(rl.addBlock(m.block(null, code)));
    }
    done.forEach(({ t }, k) => {
      const end = t.end;
      const to = (pc: VAddr): number => {
        const j = index.get(pc);
        return j === undefined ? exitBlock(pc) : rb[j]!;
      };
      if (end.kind === 'jump') {
        if (index.has(end.target)) rl.addBranch(rb[k]!, to(end.target), 0, end.count ? e.countBranch() : 0);
      } else if (end.kind === 'cond') {
        const takenTo = to(end.taken);
        const fallTo = to(end.fall);
        if (takenTo === fallTo) {
          rl.addBranch(rb[k]!, takenTo, 0, end.count ? m.if(m.local.get(conds[k]!, binaryen.i32), e.countBranch()) : 0);
        } else {
          rl.addBranch(rb[k]!, takenTo, m.local.get(conds[k]!, binaryen.i32), end.count ? e.countBranch() : 0);
          rl.addBranch(rb[k]!, fallTo, 0, 0);
        }
      }
    });
    let entry = rb[0]!;
    if (done.length > 1) {
      entry = rl.addBlockWithSwitch(m.nop(), m.local.get(0, binaryen.i32));
      rl.addBranchForSwitch(entry, rb[0]!, [], 0);
      for (let k = 1; k < done.length; k++) rl.addBranchForSwitch(entry, rb[k]!, [k], 0);
    }
    const helper = e.local(binaryen.i32);
    const body = rl.renderAndDispose(entry, helper);
    const fn = m.block(null, [...e.prologue(), m.block(EXIT_LABEL, [body]), ...e.epilogue(), m.local.get(e.lStatus, binaryen.i32)], binaryen.i32);
    m.addFunction('run', binaryen.i32, binaryen.i32, e.vars, fn);
    m.addFunctionExport('run', 'run');
    if (process.env.JITBOX_TRANSLATE_VALIDATE === '1' && !m.validate()) throw new RangeError('translated region failed wasm validation');
    m.runPasses(PASSES);
    const bin = m.emitBinary();
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bin as Uint8Array<ArrayBuffer>), { env: { memory, tlbFill } });
    const run = inst.exports.run as (entry: number) => number;
    return { run, blocks: done.map((d) => d.blk.id), bytes: bin.length };
  } finally {
    m.dispose();
  }
}
