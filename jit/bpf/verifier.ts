// Static checks a program must pass before any engine runs it: the kernel verifier's CFG pass
// (kernel/bpf/verifier.c check_cfg / check_subprogs) plus a small forward dataflow in the style of
// its register-state tracking, without path sensitivity:
// - structure: known opcodes and registers (isa.ts), jump targets inside the program, not into an
//   lddw's second slot and not across a function boundary; no fall-through off a function's end;
//   every function has a reachable exit; local calls target a slot that becomes a function start;
// - registers: no read of an uninitialised register (must-init dataflow over the CFG, meet = AND);
//   calls define r0 and clobber r1-r5; a callee starts with the caller's initialised r1-r5 and r10;
//   r10 is read-only; EXIT reads r0;
// - stack: registers holding r10 + constant are tracked (mov, add/sub K, copies); a load/store
//   through one must fall inside the 512-byte frame [fp-512, fp) and be aligned to its size. Those
//   accesses are reported in `provenStackAccesses` so a JIT may omit their runtime checks; all other
//   accesses stay runtime-checked;
// - calls: helper ids must exist in the chosen profile; kfunc calls (src 2), lddw src 3/4 and
//   legacy LD ABS/IND are unsupported; lddw map references must resolve when maps are given;
// - loops are allowed (the interpreter's instruction budget bounds them); `strict` additionally
//   rejects back-edges (pre-5.3 kernels), unreachable instructions, recursion and constant zero
//   divisors, as the kernel does.
// Every rejection is a VerifierError naming pc (slot), the instruction text and the rule.

import { JitboxError } from '../../support/errors.js';
import { disasm } from './disasm.js';
import {
  ALU_OP, ATOMIC_OP, BPF_REG_FP, BPF_STACK_SIZE, BpfDecodeError, CALL_SRC, LDDW_SRC, OPCODE_INFO,
  type BpfInsn, decodeProgram, insnSlots, slotIndex,
} from './isa.js';
import type { BpfMapLike, HelperProfile } from './runtime.js';

export type VerifierRule =
  | 'decode' | 'jump-range' | 'jump-into-lddw' | 'jump-across-function' | 'fall-off-end' | 'no-exit'
  | 'call-target' | 'uninit-register' | 'r10-write' | 'stack-bounds' | 'stack-alignment' | 'helper-id'
  | 'unsupported' | 'map-reference' | 'back-edge' | 'unreachable' | 'recursion' | 'div-by-zero' | 'empty';

export class VerifierError extends JitboxError {
  readonly pc: number;
  readonly rule: VerifierRule;
  constructor(pc: number, insn: string, rule: VerifierRule, reason: string) {
    super('bpf-verifier', `BPF verifier: pc ${pc} (${insn}): ${reason} [${rule}]`, { pc, insn, rule, reason });
    this.pc = pc;
    this.rule = rule;
  }
}

export interface VerifyOptions {
  /** helper profile whose ids `call N` must name (unchecked when absent) */
  profile?: HelperProfile;
  /** the program's map table, for lddw src 1/2 (by fd) and 5/6 (by index) */
  maps?: readonly BpfMapLike[];
  /** reject back-edges, unreachable code, recursion and constant zero divisors */
  strict?: boolean;
  /** argument registers initialised at entry to the main function: r1..rN (default 2: mem, len) */
  entryArgs?: number;
}

export interface StackAccess {
  slot: number;
  /** offset from the frame pointer (negative) of the first byte */
  fpOffset: number;
  bytes: number;
  write: boolean;
}

export interface VerifierResult {
  /** number of instructions */
  insns: number;
  /** start slots of the functions (0 first, then local-call targets ascending) */
  functions: number[];
  /** loads/stores proven inside the stack frame: slot -> access; runtime checks may be skipped */
  provenStackAccesses: Map<number, StackAccess>;
  /** per function start slot: deepest stack byte used by proven accesses (bytes below fp) */
  stackDepth: Map<number, number>;
  /** slots of reachable instructions */
  reachable: number;
  /** jumps to an earlier or equal slot (loops), as [from, to] */
  backEdges: [number, number][];
}

// Register state: UNINIT < UNKNOWN (initialised scalar or pointer) < FP(k) (r10 + k).
const UNINIT = 1e15;
const UNKNOWN = 2e15;
type RegState = Float64Array; // 11 entries

function meet(a: number, b: number): number {
  if (a === b) return a;
  if (a === UNINIT || b === UNINIT) return UNINIT;
  return UNKNOWN;
}

/** Verify a program (bytes or decoded instructions). Throws VerifierError; returns the facts. */
export function verifyProgram(program: Uint8Array | readonly BpfInsn[], opts: VerifyOptions = {}): VerifierResult {
  let insns: readonly BpfInsn[];
  if (program instanceof Uint8Array) {
    try {
      insns = decodeProgram(program);
    } catch (e) {
      if (e instanceof BpfDecodeError) throw new VerifierError(e.slot, e.opcode === null ? '<truncated>' : `opcode 0x${e.opcode.toString(16)}`, 'decode', e.reason);
      throw e;
    }
  } else insns = program;
  if (insns.length === 0) throw new VerifierError(0, '<empty>', 'empty', 'empty program');
  const n = insns.length;
  const map = slotIndex(insns);
  const nslots = map.length;
  const text = (k: number): string => disasm(insns[k] as BpfInsn);
  const fail = (k: number, rule: VerifierRule, reason: string): never => {
    throw new VerifierError((insns[k] as BpfInsn).slot, text(k), rule, reason);
  };
  const strict = opts.strict ?? false;

  // ---- Pass 1: per-instruction rules, targets, function starts -------------------------------
  const starts = new Set<number>([0]);
  const targetIdx = new Int32Array(n).fill(-1);
  for (let k = 0; k < n; k++) {
    const i = insns[k] as BpfInsn;
    const info = OPCODE_INFO[i.opcode];
    if (!info) return fail(k, 'decode', 'unknown opcode');
    if (i.dst > 10 || (i.src > 10 && info.kind !== 'call' && info.kind !== 'lddw')) fail(k, 'decode', 'bad register');
    const writesDst = info.kind === 'alu' || info.kind === 'neg' || info.kind === 'end' || info.kind === 'ldx' || info.kind === 'ldsx' || info.kind === 'lddw';
    if (writesDst && i.dst === BPF_REG_FP) fail(k, 'r10-write', 'r10 (frame pointer) is read-only');
    if (info.kind === 'atomic' && i.src === BPF_REG_FP && (i.imm & ATOMIC_OP.FETCH) !== 0) fail(k, 'r10-write', 'atomic fetch would write r10');
    if (info.kind === 'ldabs' || info.kind === 'ldind') fail(k, 'unsupported', 'legacy packet access (LD ABS/IND) is not supported');
    if (info.kind === 'call') {
      if (i.src === CALL_SRC.KFUNC) fail(k, 'unsupported', `kfunc call by BTF id ${i.imm} is not supported`);
      if (i.src === CALL_SRC.HELPER && opts.profile && !opts.profile.helpers.has(i.imm)) {
        fail(k, 'helper-id', `unknown helper ${i.imm} in profile "${opts.profile.name}"`);
      }
    }
    if (info.kind === 'lddw') {
      if (i.src === LDDW_SRC.BTF_ID || i.src === LDDW_SRC.FUNC) fail(k, 'unsupported', `lddw src ${i.src} (${i.src === LDDW_SRC.FUNC ? 'PSEUDO_FUNC' : 'PSEUDO_BTF_ID'}) is not supported`);
      if (i.src !== LDDW_SRC.IMM64 && opts.maps) {
        const byIdx = i.src === LDDW_SRC.MAP_IDX || i.src === LDDW_SRC.MAP_IDX_VALUE;
        const m = byIdx ? opts.maps[i.imm] : opts.maps.find((x) => x.fd === i.imm);
        if (!m) fail(k, 'map-reference', `no map with ${byIdx ? 'index' : 'fd'} ${i.imm}`);
      }
    }
    if (strict && info.kind === 'alu' && !info.srcX && (info.op === ALU_OP.DIV || info.op === ALU_OP.MOD) && i.imm === 0) {
      fail(k, 'div-by-zero', 'division by constant zero');
    }
    let t: number | null = null;
    if (info.kind === 'ja' || info.kind === 'jcond') t = i.slot + 1 + i.off;
    else if (info.kind === 'ja32') t = i.slot + 1 + i.imm;
    else if (info.kind === 'call' && i.src === CALL_SRC.LOCAL) t = i.slot + 1 + i.imm;
    if (t !== null) {
      if (t < 0 || t >= nslots) fail(k, info.kind === 'call' ? 'call-target' : 'jump-range', `target slot ${t} outside the program (0..${nslots - 1})`);
      const tk = map[t] as number;
      if (tk < 0) fail(k, info.kind === 'call' ? 'call-target' : 'jump-into-lddw', `target slot ${t} is the second slot of an lddw`);
      targetIdx[k] = tk;
      if (info.kind === 'call') starts.add(t);
    }
  }
  const functions = [...starts].sort((a, b) => a - b);
  // function index of each instruction
  const funcOf = new Int32Array(n);
  {
    let f = 0;
    for (let k = 0; k < n; k++) {
      const s = (insns[k] as BpfInsn).slot;
      while (f + 1 < functions.length && s >= (functions[f + 1] as number)) f++;
      funcOf[k] = f;
    }
  }
  const funcEnd = (f: number): number => (f + 1 < functions.length ? (functions[f + 1] as number) : nslots);

  // ---- Pass 2: dataflow (must-init + fp offsets), reachability, exits -----------------------
  // The state of instruction k lives at states[k * 11 ..] once `seen[k]`; `s` is the state being
  // transferred and `callee` a callee's entry state (scratch arrays: nothing is allocated per step).
  const states = new Float64Array(n * 11);
  const seen = new Uint8Array(n);
  const work: number[] = [];
  const inWork = new Uint8Array(n);
  const hasExit = new Uint8Array(functions.length);
  const backEdges: [number, number][] = [];
  /** from * nslots + to of each recorded back-edge. */
  const backEdgeKeys = new Set<number>();
  const proven = new Map<number, StackAccess>();
  const unsafe = new Set<number>();
  const callees = functions.map(() => new Set<number>());

  const entry = new Float64Array(11).fill(UNINIT);
  entry[BPF_REG_FP] = 0;
  const nargs = Math.max(0, Math.min(5, opts.entryArgs ?? 2));
  for (let r = 1; r <= nargs; r++) entry[r] = UNKNOWN;
  const propagate = (k: number, s: RegState): void => {
    const at = k * 11;
    if (!seen[k]) {
      seen[k] = 1;
      states.set(s, at);
    } else {
      let changed = false;
      for (let r = 0; r < 11; r++) {
        const c = states[at + r] as number;
        const m = meet(c, s[r] as number);
        if (m !== c) {
          states[at + r] = m;
          changed = true;
        }
      }
      if (!changed) return;
    }
    if (!inWork[k]) {
      inWork[k] = 1;
      work.push(k);
    }
  };
  propagate(0, entry);

  const s: RegState = new Float64Array(11);
  const callee: RegState = new Float64Array(11);
  let k = 0;
  let i = insns[0] as BpfInsn;
  const read = (r: number): void => {
    if (s[r] === UNINIT) fail(k, 'uninit-register', `r${r} is read before it is written`);
  };
  const stackCheck = (base: number, bytes: number, write: boolean): void => {
    const b = s[base] as number;
    if (b === UNINIT || b === UNKNOWN) {
      unsafe.add(i.slot);
      proven.delete(i.slot);
      return;
    }
    const off = b + i.off;
    if (off < -BPF_STACK_SIZE || off + bytes > 0) fail(k, 'stack-bounds', `stack access [fp${off >= 0 ? '+' : ''}${off}, +${bytes}) outside the ${BPF_STACK_SIZE}-byte frame`);
    if (off % bytes !== 0) fail(k, 'stack-alignment', `stack access at fp${off} is not aligned to its size ${bytes}`);
    if (!unsafe.has(i.slot)) {
      const prev = proven.get(i.slot);
      if (prev && prev.fpOffset !== off) {
        proven.delete(i.slot);
        unsafe.add(i.slot);
      } else proven.set(i.slot, { slot: i.slot, fpOffset: off, bytes, write });
    }
  };

  while (work.length > 0) {
    k = work.pop() as number;
    inWork[k] = 0;
    i = insns[k] as BpfInsn;
    const info = OPCODE_INFO[i.opcode];
    if (!info) return fail(k, 'decode', 'unknown opcode');
    for (let r = 0, at = k * 11; r < 11; r++) s[r] = states[at + r] as number;
    const f = funcOf[k] as number;
    let fallthrough = true;
    let jumpTo = -1;
    switch (info.kind) {
      case 'alu': {
        const isMov = info.op === ALU_OP.MOV;
        if (info.srcX) read(i.src);
        if (!isMov) read(i.dst);
        let v = UNKNOWN;
        if (!info.is32) {
          if (isMov && info.srcX && i.off === 0) v = s[i.src] as number;
          else if ((info.op === ALU_OP.ADD || info.op === ALU_OP.SUB) && !info.srcX) {
            const d = s[i.dst] as number;
            if (d !== UNKNOWN && d !== UNINIT) v = d + (info.op === ALU_OP.ADD ? i.imm : -i.imm);
          }
        }
        s[i.dst] = v;
        break;
      }
      case 'neg':
      case 'end':
        read(i.dst);
        s[i.dst] = UNKNOWN;
        break;
      case 'lddw':
        s[i.dst] = UNKNOWN;
        break;
      case 'ldx':
      case 'ldsx':
        read(i.src);
        stackCheck(i.src, info.bytes, false);
        s[i.dst] = UNKNOWN;
        break;
      case 'st':
        read(i.dst);
        stackCheck(i.dst, info.bytes, true);
        break;
      case 'stx':
        read(i.dst);
        read(i.src);
        stackCheck(i.dst, info.bytes, true);
        break;
      case 'atomic':
        read(i.dst);
        read(i.src);
        if (i.imm === ATOMIC_OP.CMPXCHG) read(0);
        stackCheck(i.dst, info.bytes, true);
        if (i.imm === ATOMIC_OP.CMPXCHG) s[0] = UNKNOWN;
        else if (i.imm & ATOMIC_OP.FETCH) s[i.src] = UNKNOWN;
        break;
      case 'ja':
      case 'ja32':
        fallthrough = false;
        jumpTo = targetIdx[k] as number;
        break;
      case 'jcond':
        read(i.dst);
        if (info.srcX) read(i.src);
        jumpTo = targetIdx[k] as number;
        break;
      case 'call':
      case 'callx': {
        if (info.kind === 'callx') read(i.dst);
        if (info.kind === 'call' && i.src === CALL_SRC.LOCAL) {
          const tk = targetIdx[k] as number;
          callee.set(s);
          for (let r = 0; r < 10; r++) if (r < 1 || r > 5) callee[r] = UNINIT;
          for (let r = 1; r <= 5; r++) if (callee[r] !== UNINIT) callee[r] = UNKNOWN;
          callee[BPF_REG_FP] = 0;
          callees[f]?.add(funcOf[tk] as number);
          propagate(tk, callee);
        }
        for (let r = 1; r <= 5; r++) s[r] = UNINIT;
        s[0] = UNKNOWN;
        break;
      }
      case 'exit':
        read(0);
        hasExit[f] = 1;
        fallthrough = false;
        break;
      default:
        fail(k, 'unsupported', `instruction kind ${info.kind} is not supported`);
    }
    if (jumpTo >= 0) {
      const tslot = (insns[jumpTo] as BpfInsn).slot;
      if (funcOf[jumpTo] !== f) fail(k, 'jump-across-function', `jump to slot ${tslot} leaves the function starting at slot ${functions[f]}`);
      if (tslot <= i.slot) {
        if (strict) fail(k, 'back-edge', `back-edge to slot ${tslot} (loops are rejected in strict mode)`);
        const key = i.slot * nslots + tslot;
        if (!backEdgeKeys.has(key)) {
          backEdgeKeys.add(key);
          backEdges.push([i.slot, tslot]);
        }
      }
      propagate(jumpTo, s);
    }
    if (fallthrough) {
      const next = i.slot + insnSlots(i);
      if (next >= funcEnd(f)) fail(k, 'fall-off-end', next >= nslots ? 'execution falls off the end of the program' : `execution falls through into the function at slot ${next}`);
      propagate(k + 1, s);
    }
  }

  // ---- Pass 3: function-level checks --------------------------------------------------------
  let reachable = 0;
  for (let k = 0; k < n; k++) if (seen[k]) reachable++;
  for (let f = 0; f < functions.length; f++) {
    const startK = map[functions[f] as number] as number;
    if (!seen[startK]) continue;
    if (!hasExit[f]) fail(startK, 'no-exit', `no exit is reachable in the function starting at slot ${functions[f]}`);
  }
  if (strict) {
    for (let k = 0; k < n; k++) if (!seen[k]) fail(k, 'unreachable', 'unreachable instruction (rejected in strict mode)');
    const onPath = new Uint8Array(functions.length);
    const done = new Uint8Array(functions.length);
    const visit = (f: number): void => {
      if (done[f]) return;
      if (onPath[f]) fail(map[functions[f] as number] as number, 'recursion', `recursive local call into the function at slot ${functions[f]}`);
      onPath[f] = 1;
      for (const g of callees[f] ?? []) visit(g);
      onPath[f] = 0;
      done[f] = 1;
    };
    visit(0);
  }
  for (const slot of unsafe) proven.delete(slot);
  const stackDepth = new Map<number, number>();
  for (const fs of functions) stackDepth.set(fs, 0);
  for (const a of proven.values()) {
    const fs = functions[funcOf[map[a.slot] as number] as number] as number;
    stackDepth.set(fs, Math.max(stackDepth.get(fs) ?? 0, -a.fpOffset));
  }
  backEdges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return { insns: n, functions, provenStackAccesses: proven, stackDepth, reachable, backEdges };
}
