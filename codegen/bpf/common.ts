// Backend-independent pieces of the BPF JITs: the instruction model codegen accepts, the symbol
// names the pipeline resolves, the per-instruction offset table, and constant blinding.
//
// Invariants:
// - codegen stays pure (DEVELOPERS.md): it sees decoded instructions plus options and returns bytes,
//   relocations and tables; every address it needs (helpers, region tables, stack limit) is a
//   symbol the pipeline resolves at CodeBuffer.finish against the final ROX address.
// - `JitInsn` is structurally the front end's BpfInsn (jit/bpf/isa.ts) plus `origin`: the index of
//   the original instruction it came from (blinding expands one instruction into several).
// - Every lddw reaching a backend is a plain 64-bit constant (src 0): the pipeline resolves map
//   references to their addresses before codegen (and before blinding, so they are blinded too).
// - Constant blinding (kernel/bpf/core.c bpf_jit_blind_constants / bpf_jit_blind_insn) rewrites a
//   copy: every ALU/JMP/ST immediate becomes `AX = imm ^ rnd; AX ^= rnd; op dst, AX`, both lddw
//   halves likewise, `mov dst, 0` becomes `xor dst, dst`; jump and local-call distances are
//   recomputed over the expanded program. AX is register 11, a backend scratch register.

import { Rng } from '../../support/rng.js';
import { JitboxError } from '../../support/errors.js';

export interface JitInsn {
  opcode: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  imm2?: number;
  slot: number;
  /** Index of the original instruction (set by `withOrigins` / blinding). */
  origin?: number;
}

/** Register number of the blinding scratch register in a blinded program. */
export const BPF_REG_AX = 11;
export const BPF_JIT_STACK_FRAME = 512;

/** Symbols a backend refers to; the pipeline maps each to an address. */
export const SYM = {
  helper: (id: number): string => `bpf:helper:${id}`,
  callx: 'bpf:callx',
  memFault: 'bpf:mem-fault',
  depthFault: 'bpf:depth-fault',
  regionsRead: 'bpf:regions-read',
  regionsWrite: 'bpf:regions-write',
  regionsProgArray: 'bpf:regions-prog-array',
  stackLimit: 'bpf:stack-limit',
  /** Two u64: base and start count of the region inline checks accept (jit-host.ts fastWindow). */
  fastWindow: 'bpf:fast-window',
} as const;

/** Why control reached a host function from a call site in the image. */
export type SiteKind = 'helper' | 'callx' | 'mem-read' | 'mem-write' | 'depth' | 'prog-array';

/** Linux MAX_TAIL_CALL_CNT (include/linux/bpf.h, v5.17+). */
export const MAX_TAIL_CALL_CNT = 33;

/** A call into a host function: `ret` is the image offset of the return address. */
export interface JitSite {
  ret: number;
  /** Original instruction index. */
  insn: number;
  kind: SiteKind;
  /** Access length for memory checks. */
  len: number;
}

export interface BpfCodegenOptions {
  /** Start instruction indices of the functions, 0 first (the verifier's `functions`, as indices). */
  functions: readonly number[];
  /** Original instruction indices whose memory access is proven in bounds (no runtime check). */
  proven?: ReadonlySet<number>;
  /** Emit runtime memory checks for unproven accesses (default true). */
  memoryChecks?: boolean;
  /**
   * Check against the fast window inline before calling the out-of-line checker (default true);
   * false calls the checker for every checked access (for measuring the inline path).
   */
  inlineChecks?: boolean;
  /** ENDBR64 / BTI landing pads at the entry (and tail-call landing point). */
  landingPads?: boolean;
  /** Helper id of bpf_tail_call: such calls become inline tail calls (main function only). */
  tailCallHelper?: number;
  /** Address of a symbol, for reach decisions; undefined when unknown. */
  symbolAddress(symbol: string): number | undefined;
  /** Every address the image may be placed at lies in [lo, hi): reach is decided for the whole range. */
  imageRange: { lo: number; hi: number };
}

export interface BpfCodegenResult {
  bytes: Uint8Array;
  /** Image offset of each original instruction's first native instruction; [n] = end of code. */
  insnOffsets: Int32Array;
  sites: JitSite[];
  relocations: { kind: string; symbol: string; offset: number; target: number }[];
  labels: Map<string, number>;
  /** Number of native instructions is not tracked; bytes of code (without out-of-line stubs). */
  codeSize: number;
}

export class BpfJitError extends JitboxError {
  constructor(insn: number, text: string, reason: string) {
    super('bpf-jit', `BPF JIT: instruction ${insn} (${text}): ${reason}`, { insn, text, reason });
  }
}

/** Give every instruction its own index as origin. */
export function withOrigins<T extends Omit<JitInsn, 'origin'>>(insns: readonly T[]): JitInsn[] {
  const out = new Array<JitInsn>(insns.length);
  for (let k = 0; k < insns.length; k++) out[k] = jitInsn(insns[k] as T, k);
  return out;
}

/**
 * A copy of `i` with `origin` as an object literal of one fixed key order (lddw adds imm2): object
 * spread (`{ ...i, origin }`) gives every copy its own hidden class in V8, which makes each later
 * property read in the verifier and the JITs megamorphic.
 */
function jitInsn(i: Omit<JitInsn, 'origin'>, origin: number): JitInsn {
  return i.imm2 === undefined
    ? { opcode: i.opcode, dst: i.dst, src: i.src, off: i.off, imm: i.imm, slot: i.slot, origin }
    : { opcode: i.opcode, dst: i.dst, src: i.src, off: i.off, imm: i.imm, imm2: i.imm2, slot: i.slot, origin };
}

// ---- Constant blinding ---------------------------------------------------------------------------

const CLS_ALU = 0x04, CLS_JMP = 0x05, CLS_JMP32 = 0x06, CLS_ALU64 = 0x07, CLS_ST = 0x02;

/**
 * Blind every user immediate of `insns` (which carry origins). Returns a new program with slots and
 * branch distances recomputed; `rng` supplies one random 32-bit value per blinded constant.
 */
export function blindConstants(insns: readonly JitInsn[], rng: Rng): JitInsn[] {
  const out: JitInsn[] = [];
  /** Index in `out` of the first replacement of each original instruction (and of the end). */
  const first = new Int32Array(insns.length + 1);
  let slot = 0;
  const push = (opcode: number, dst: number, src: number, off: number, imm: number, origin: number): void => {
    out.push({ opcode, dst, src, off, imm, slot, origin });
    slot++;
  };
  for (let k = 0; k < insns.length; k++) {
    const i = insns[k] as JitInsn;
    first[k] = out.length;
    const origin = i.origin ?? 0;
    const cls = i.opcode & 7;
    const op = i.opcode & 0xf0;
    const x = (i.opcode & 0x08) !== 0;
    const rnd = rng.u32() | 0;
    if ((cls === CLS_ALU || cls === CLS_ALU64) && !x && op !== 0x80 && op !== 0xd0) {
      if (op === 0xb0 && i.imm === 0) push(cls | 0xa0 | 0x08, i.dst, i.dst, 0, 0, origin);
      else {
        push(cls | 0xb0, BPF_REG_AX, 0, 0, i.imm ^ rnd, origin);
        push(cls | 0xa0, BPF_REG_AX, 0, 0, rnd, origin);
        push(cls | op | 0x08, i.dst, BPF_REG_AX, i.off, 0, origin);
      }
    } else if ((cls === CLS_JMP || cls === CLS_JMP32) && !x && op !== 0x00 && op !== 0x80 && op !== 0x90) {
      const c = cls === CLS_JMP ? CLS_ALU64 : CLS_ALU;
      push(c | 0xb0, BPF_REG_AX, 0, 0, i.imm ^ rnd, origin);
      push(c | 0xa0, BPF_REG_AX, 0, 0, rnd, origin);
      push(i.opcode | 0x08, i.dst, BPF_REG_AX, i.off, 0, origin);
    } else if (cls === CLS_ST && (i.opcode & 0xe0) === 0x60) {
      push(CLS_ALU64 | 0xb0, BPF_REG_AX, 0, 0, i.imm ^ rnd, origin);
      push(CLS_ALU64 | 0xa0, BPF_REG_AX, 0, 0, rnd, origin);
      push((i.opcode & ~7) | 0x03, i.dst, BPF_REG_AX, i.off, 0, origin);
    } else if (i.opcode === 0x18) {
      const rnd2 = rng.u32() | 0;
      push(CLS_ALU64 | 0xb0, BPF_REG_AX, 0, 0, (i.imm2 ?? 0) ^ rnd, origin);
      push(CLS_ALU64 | 0xa0, BPF_REG_AX, 0, 0, rnd, origin);
      push(CLS_ALU64 | 0x60, BPF_REG_AX, 0, 0, 32, origin);
      push(CLS_ALU64 | 0xb0 | 0x08, i.dst, BPF_REG_AX, 0, 0, origin);
      push(CLS_ALU | 0xb0, BPF_REG_AX, 0, 0, i.imm ^ rnd2, origin);
      push(CLS_ALU | 0xa0, BPF_REG_AX, 0, 0, rnd2, origin);
      push(CLS_ALU64 | 0x40 | 0x08, i.dst, BPF_REG_AX, 0, 0, origin);
    } else push(i.opcode, i.dst, i.src, i.off, i.imm, origin);
  }
  first[insns.length] = out.length;
  // Branch distances are remapped over the expanded program: the last replacement of a branch
  // carries it, and a target slot maps to the new slot of that instruction's first replacement.
  const endSlot = insnsEndSlot(insns);
  const newSlotOfOld = new Int32Array(endSlot + 1).fill(-1);
  for (let k = 0; k < insns.length; k++) newSlotOfOld[(insns[k] as JitInsn).slot] = (out[first[k] as number] as JitInsn).slot;
  newSlotOfOld[endSlot] = slot;
  for (let k = 0; k < insns.length; k++) {
    const orig = insns[k] as JitInsn;
    const target = branchTargetSlot(orig);
    if (target === null) continue;
    const n = out[(first[k + 1] as number) - 1] as JitInsn;
    const nt = target >= 0 && target <= endSlot ? (newSlotOfOld[target] as number) : -1;
    if (nt < 0) throw new BpfJitError(k, `opcode 0x${orig.opcode.toString(16)}`, `branch target slot ${target} is not an instruction`);
    if (isLongJump(n)) n.imm = nt - n.slot - 1;
    else n.off = nt - n.slot - 1;
  }
  return out;
}

function insnsEndSlot(insns: readonly JitInsn[]): number {
  const last = insns[insns.length - 1];
  return last ? last.slot + (last.opcode === 0x18 ? 2 : 1) : 0;
}

function isLongJump(i: JitInsn): boolean {
  return i.opcode === 0x06 || (i.opcode === 0x85 && i.src === 1);
}

/** Target slot of a jump or local call, or null. */
export function branchTargetSlot(i: JitInsn): number | null {
  const cls = i.opcode & 7;
  if (cls !== CLS_JMP && cls !== CLS_JMP32) return null;
  const op = i.opcode & 0xf0;
  if (i.opcode === 0x85) return i.src === 1 ? i.slot + 1 + i.imm : null;
  if (op === 0x90 || op === 0x80) return null;
  if (i.opcode === 0x06) return i.slot + 1 + i.imm;
  if (cls === CLS_JMP32 && op === 0x00) return null;
  return i.slot + 1 + i.off;
}

/** Little-endian 4-byte patterns of a program's 32-bit immediates (for blinding checks). */
export function immediatePatterns(insns: readonly JitInsn[]): number[] {
  const out: number[] = [];
  for (const i of insns) {
    out.push(i.imm | 0);
    if (i.opcode === 0x18) out.push((i.imm2 ?? 0) | 0);
  }
  return out;
}
