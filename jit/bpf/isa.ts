// The eBPF instruction set (RFC 9669, IANA "BPF Instructions" registry) plus the bpf_conformance
// `callx` extension: opcode fields as data tables, the instruction model, decoder and encoder.
//
// Invariants:
// - A program is a sequence of 8-byte slots (little-endian fields: opcode, dst|src<<4, s16 off,
//   s32 imm). `lddw` (0x18) is the only 16-byte instruction; its second slot is all zero except imm.
// - `decodeProgram` returns ONE ENTRY PER INSTRUCTION, each carrying its `slot` index; an lddw entry
//   carries `imm2` (the second slot's imm) and the next entry's slot is `slot + 2`. Jump and
//   local-call distances stay in slots, relative to the slot after the branch (as in the RFC):
//   target slot = slot + 1 + off (or + imm for gotol / call local).
// - The decoder checks each instruction on its own, like ubpf's `validate()` per instruction: known
//   opcode, registers r0..r10, unused fields zero, endian imm 16/32/64, atomic op known, lddw second
//   slot present and clean, lddw src 0..6, call src 0..2. It does NOT check jump targets (that needs
//   the whole program: see `checkTargets`) nor writes to r10 (a verifier rule).
// - Every failure is a BpfDecodeError naming slot, opcode and reason; the decoder never throws a
//   host exception on any byte string.

import { JitboxError, UnsupportedError } from '../../support/errors.js';

// ---- Fields of the opcode byte (RFC 9669 §3, §4) --------------------------------------------

export const BPF_CLASS = { LD: 0x0, LDX: 0x1, ST: 0x2, STX: 0x3, ALU: 0x4, JMP: 0x5, JMP32: 0x6, ALU64: 0x7 } as const;
export const BPF_SRC = { K: 0x00, X: 0x08 } as const;
export const BPF_SIZE = { W: 0x00, H: 0x08, B: 0x10, DW: 0x18 } as const;
export const BPF_MODE = { IMM: 0x00, ABS: 0x20, IND: 0x40, MEM: 0x60, MEMSX: 0x80, ATOMIC: 0xc0 } as const;

/** ALU/ALU64 operation codes (bits 7..4). */
export const ALU_OP = {
  ADD: 0x0, SUB: 0x1, MUL: 0x2, DIV: 0x3, OR: 0x4, AND: 0x5, LSH: 0x6, RSH: 0x7,
  NEG: 0x8, MOD: 0x9, XOR: 0xa, MOV: 0xb, ARSH: 0xc, END: 0xd,
} as const;

/** JMP/JMP32 operation codes (bits 7..4). */
export const JMP_OP = {
  JA: 0x0, JEQ: 0x1, JGT: 0x2, JGE: 0x3, JSET: 0x4, JNE: 0x5, JSGT: 0x6, JSGE: 0x7,
  CALL: 0x8, EXIT: 0x9, JLT: 0xa, JLE: 0xb, JSLT: 0xc, JSLE: 0xd,
} as const;

/** Atomic operations, selected by imm of STX ATOMIC (RFC 9669 §5.3). FETCH may be or'ed in. */
export const ATOMIC_OP = { ADD: 0x00, OR: 0x40, AND: 0x50, XOR: 0xa0, XCHG: 0xe1, CMPXCHG: 0xf1, FETCH: 0x01 } as const;
export const ATOMIC_IMMS: readonly number[] = [0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1];

/** lddw src field (RFC 9669 §5.4 table 12). */
export const LDDW_SRC = { IMM64: 0, MAP_FD: 1, MAP_VALUE: 2, BTF_ID: 3, FUNC: 4, MAP_IDX: 5, MAP_IDX_VALUE: 6 } as const;

/** CALL src field: helper by static id, local (bpf-to-bpf) call, helper/kfunc by BTF id. */
export const CALL_SRC = { HELPER: 0, LOCAL: 1, KFUNC: 2 } as const;

/** Whole opcode bytes used by name elsewhere. */
export const OP = {
  LDDW: 0x18, JA: 0x05, JA32: 0x06, CALL: 0x85, CALLX: 0x8d, EXIT: 0x95,
  TO_LE: 0xd4, TO_BE: 0xdc, BSWAP: 0xd7, ATOMIC_W: 0xc3, ATOMIC_DW: 0xdb,
} as const;

export const BPF_REG_COUNT = 11; // r0..r10
export const BPF_REG_FP = 10;
export const SLOT_SIZE = 8;
export const BPF_STACK_SIZE = 512;
export const BPF_MAX_CALL_DEPTH = 8;

export function opClass(opcode: number): number {
  return opcode & 0x07;
}
export function opCode(opcode: number): number {
  return opcode >> 4;
}
export function opSrcX(opcode: number): boolean {
  return (opcode & 0x08) !== 0;
}
export function opSize(opcode: number): number {
  return opcode & 0x18;
}
export function opMode(opcode: number): number {
  return opcode & 0xe0;
}
/** Access width in bytes of a load/store size field. */
export function sizeBytes(sizeField: number): 1 | 2 | 4 | 8 {
  return sizeField === BPF_SIZE.B ? 1 : sizeField === BPF_SIZE.H ? 2 : sizeField === BPF_SIZE.W ? 4 : 8;
}

// ---- Instruction model --------------------------------------------------------------------------

/** Fields of one instruction. `off` is s16, `imm`/`imm2` s32 (as stored, sign included). */
export interface BpfInsnFields {
  opcode: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  /** lddw only: imm of the second slot (upper 32 bits of the immediate or map-value offset). */
  imm2?: number;
}

export interface BpfInsn extends BpfInsnFields {
  /** Index of the instruction's first 8-byte slot in the program. */
  slot: number;
}

export function isLddw(i: BpfInsnFields): boolean {
  return i.opcode === OP.LDDW;
}
export function insnSlots(i: BpfInsnFields): 1 | 2 {
  return i.opcode === OP.LDDW ? 2 : 1;
}

// ---- Errors -------------------------------------------------------------------------------------

/** A program's bytes are not a valid instruction stream. */
export class BpfDecodeError extends JitboxError {
  readonly slot: number;
  readonly opcode: number | null;
  readonly reason: string;

  constructor(slot: number, opcode: number | null, reason: string, field?: string) {
    const op = opcode === null ? '' : ` (opcode 0x${opcode.toString(16).padStart(2, '0')})`;
    super('bpf-decode', `invalid BPF instruction at slot ${slot}${op}: ${reason}`, {
      slot,
      pc: slot,
      opcode: opcode === null ? null : '0x' + opcode.toString(16).padStart(2, '0'),
      reason,
      field,
    });
    this.slot = slot;
    this.opcode = opcode;
    this.reason = reason;
  }
}

/** A valid instruction the runtime deliberately does not support (kfunc calls, legacy packet loads...). */
export class BpfUnsupportedError extends UnsupportedError {
  constructor(slot: number, opcode: number, what: string) {
    super(`unsupported BPF instruction at slot ${slot} (opcode 0x${opcode.toString(16).padStart(2, '0')}): ${what}`, {
      slot,
      pc: slot,
      opcode: '0x' + opcode.toString(16).padStart(2, '0'),
    });
  }
}

// ---- Opcode table -------------------------------------------------------------------------------

/**
 * What each valid opcode byte is, in the RFC's words. Built from the class/op tables so it reads
 * like RFC 9669 §3-§5; `OPCODE_INFO[b]` is undefined for an unknown opcode.
 */
export type OpcodeKind = 'alu' | 'neg' | 'end' | 'ja' | 'ja32' | 'jcond' | 'call' | 'callx' | 'exit' | 'ldx' | 'ldsx' | 'st' | 'stx' | 'atomic' | 'lddw' | 'ldabs' | 'ldind';

export interface OpcodeInfo {
  kind: OpcodeKind;
  cls: number;
  /** 32-bit operation (ALU, JMP32, ATOMIC W). */
  is32: boolean;
  /** source X (register) for ALU/JMP. */
  srcX: boolean;
  /** ALU/JMP operation code, or the size field in bytes for memory ops. */
  op: number;
  bytes: number;
}

export const OPCODE_INFO: readonly (OpcodeInfo | undefined)[] = buildOpcodeTable();

function buildOpcodeTable(): (OpcodeInfo | undefined)[] {
  const t: (OpcodeInfo | undefined)[] = new Array(256).fill(undefined);
  const set = (b: number, info: OpcodeInfo): void => {
    t[b] = info;
  };
  for (const cls of [BPF_CLASS.ALU, BPF_CLASS.ALU64]) {
    const is32 = cls === BPF_CLASS.ALU;
    for (const op of Object.values(ALU_OP)) {
      for (const srcX of [false, true]) {
        const b = (op << 4) | (srcX ? 8 : 0) | cls;
        if (op === ALU_OP.NEG) {
          if (!srcX) set(b, { kind: 'neg', cls, is32, srcX, op, bytes: 0 });
        } else if (op === ALU_OP.END) {
          // ALU: K = to-LE (0xd4), X = to-BE (0xdc). ALU64 K = unconditional bswap (0xd7).
          if (is32 || !srcX) set(b, { kind: 'end', cls, is32, srcX, op, bytes: 0 });
        } else set(b, { kind: 'alu', cls, is32, srcX, op, bytes: 0 });
      }
    }
  }
  for (const cls of [BPF_CLASS.JMP, BPF_CLASS.JMP32]) {
    const is32 = cls === BPF_CLASS.JMP32;
    for (const op of Object.values(JMP_OP)) {
      for (const srcX of [false, true]) {
        const b = (op << 4) | (srcX ? 8 : 0) | cls;
        if (op === JMP_OP.JA) {
          if (!srcX) set(b, { kind: is32 ? 'ja32' : 'ja', cls, is32, srcX, op, bytes: 0 });
        } else if (op === JMP_OP.CALL) {
          if (!is32) set(b, { kind: srcX ? 'callx' : 'call', cls, is32, srcX, op, bytes: 0 });
        } else if (op === JMP_OP.EXIT) {
          if (!is32 && !srcX) set(b, { kind: 'exit', cls, is32, srcX, op, bytes: 0 });
        } else set(b, { kind: 'jcond', cls, is32, srcX, op, bytes: 0 });
      }
    }
  }
  for (const size of Object.values(BPF_SIZE)) {
    const bytes = sizeBytes(size);
    set(BPF_MODE.MEM | size | BPF_CLASS.LDX, { kind: 'ldx', cls: BPF_CLASS.LDX, is32: false, srcX: false, op: size, bytes });
    set(BPF_MODE.MEM | size | BPF_CLASS.ST, { kind: 'st', cls: BPF_CLASS.ST, is32: false, srcX: false, op: size, bytes });
    set(BPF_MODE.MEM | size | BPF_CLASS.STX, { kind: 'stx', cls: BPF_CLASS.STX, is32: false, srcX: false, op: size, bytes });
    if (size !== BPF_SIZE.DW) {
      set(BPF_MODE.MEMSX | size | BPF_CLASS.LDX, { kind: 'ldsx', cls: BPF_CLASS.LDX, is32: false, srcX: false, op: size, bytes });
      set(BPF_MODE.ABS | size | BPF_CLASS.LD, { kind: 'ldabs', cls: BPF_CLASS.LD, is32: false, srcX: false, op: size, bytes });
      set(BPF_MODE.IND | size | BPF_CLASS.LD, { kind: 'ldind', cls: BPF_CLASS.LD, is32: false, srcX: false, op: size, bytes });
    }
  }
  set(OP.ATOMIC_W, { kind: 'atomic', cls: BPF_CLASS.STX, is32: true, srcX: false, op: BPF_SIZE.W, bytes: 4 });
  set(OP.ATOMIC_DW, { kind: 'atomic', cls: BPF_CLASS.STX, is32: false, srcX: false, op: BPF_SIZE.DW, bytes: 8 });
  set(OP.LDDW, { kind: 'lddw', cls: BPF_CLASS.LD, is32: false, srcX: false, op: BPF_SIZE.DW, bytes: 8 });
  return t;
}

// ---- Decoder ------------------------------------------------------------------------------------

function readSlot(bytes: Uint8Array, slot: number): BpfInsnFields {
  const p = slot * SLOT_SIZE;
  const b1 = bytes[p + 1] as number;
  const off = ((bytes[p + 2] as number) | ((bytes[p + 3] as number) << 8)) << 16 >> 16;
  const imm = (bytes[p + 4] as number) | ((bytes[p + 5] as number) << 8) | ((bytes[p + 6] as number) << 16) | ((bytes[p + 7] as number) << 24);
  return { opcode: bytes[p] as number, dst: b1 & 0xf, src: b1 >> 4, off, imm };
}

/** Check one instruction's fields (the opcode is known). Returns a reason, or null when valid. */
export function checkInsnFields(i: BpfInsnFields): { reason: string; field: string } | null {
  const info = OPCODE_INFO[i.opcode];
  if (!info) return { reason: 'unknown opcode', field: 'opcode' };
  if (i.dst > 10) return { reason: `bad destination register r${i.dst}`, field: 'dst' };
  if (i.src > 10 && !(info.kind === 'call' || info.kind === 'lddw')) return { reason: `bad source register r${i.src}`, field: 'src' };
  const nz = (field: 'dst' | 'src' | 'off' | 'imm'): { reason: string; field: string } | null =>
    i[field] !== 0 ? { reason: `non-zero unused field ${field} (${i[field]})`, field } : null;
  switch (info.kind) {
    case 'alu': {
      if (info.srcX) {
        const e = nz('imm');
        if (e) return e;
      } else {
        const e = nz('src');
        if (e) return e;
      }
      if (info.op === ALU_OP.DIV || info.op === ALU_OP.MOD) {
        if (i.off !== 0 && i.off !== 1) return { reason: `bad offset ${i.off} for div/mod (0 unsigned, 1 signed)`, field: 'off' };
      } else if (info.op === ALU_OP.MOV && info.srcX) {
        const ok = i.off === 0 || i.off === 8 || i.off === 16 || (!info.is32 && i.off === 32);
        if (!ok) return { reason: `bad movsx width ${i.off}`, field: 'off' };
      } else return nz('off');
      return null;
    }
    case 'neg':
      return nz('src') ?? nz('off') ?? nz('imm');
    case 'end':
      if (i.imm !== 16 && i.imm !== 32 && i.imm !== 64) return { reason: `bad endian width ${i.imm} (16, 32 or 64)`, field: 'imm' };
      return nz('src') ?? nz('off');
    case 'ja':
      return nz('dst') ?? nz('src') ?? nz('imm');
    case 'ja32':
      return nz('dst') ?? nz('src') ?? nz('off');
    case 'jcond':
      return info.srcX ? nz('imm') : nz('src');
    case 'call':
      if (i.src > 2) return { reason: `bad call source ${i.src} (0 helper, 1 local, 2 kfunc)`, field: 'src' };
      return nz('dst') ?? nz('off');
    case 'callx':
      return nz('src') ?? nz('off') ?? nz('imm');
    case 'exit':
      return nz('dst') ?? nz('src') ?? nz('off') ?? nz('imm');
    case 'ldx':
    case 'ldsx':
      return nz('imm');
    case 'st':
      return nz('src');
    case 'stx':
      return nz('imm');
    case 'atomic':
      if (!ATOMIC_IMMS.includes(i.imm)) return { reason: `bad atomic operation 0x${(i.imm >>> 0).toString(16)}`, field: 'imm' };
      return null;
    case 'lddw':
      if (i.src > 6) return { reason: `bad lddw source ${i.src} (0..6)`, field: 'src' };
      return nz('off');
    case 'ldabs':
      return nz('dst') ?? nz('src') ?? nz('off');
    case 'ldind':
      return nz('dst') ?? nz('off');
  }
}

/**
 * Decode a program: one entry per instruction (see the file overview). Throws BpfDecodeError for a
 * length that is not a multiple of 8, an empty program, or any invalid instruction.
 */
export function decodeProgram(bytes: Uint8Array): BpfInsn[] {
  if (bytes.length % SLOT_SIZE !== 0) {
    throw new BpfDecodeError(Math.floor(bytes.length / SLOT_SIZE), null, `truncated program: ${bytes.length} bytes is not a multiple of 8`);
  }
  const nslots = bytes.length / SLOT_SIZE;
  if (nslots === 0) throw new BpfDecodeError(0, null, 'empty program');
  const out: BpfInsn[] = [];
  for (let slot = 0; slot < nslots; ) {
    const f = readSlot(bytes, slot);
    const bad = checkInsnFields(f);
    if (bad) throw new BpfDecodeError(slot, f.opcode, bad.reason, bad.field);
    if (f.opcode === OP.LDDW) {
      if (slot + 1 >= nslots) throw new BpfDecodeError(slot, f.opcode, 'lddw without its second slot', 'imm2');
      const g = readSlot(bytes, slot + 1);
      if (g.opcode !== 0 || g.dst !== 0 || g.src !== 0 || g.off !== 0) {
        throw new BpfDecodeError(slot + 1, g.opcode, 'second slot of lddw must be zero except imm', 'imm2');
      }
      out.push({ opcode: f.opcode, dst: f.dst, src: f.src, off: f.off, imm: f.imm, imm2: g.imm, slot });
      slot += 2;
    } else {
      out.push({ opcode: f.opcode, dst: f.dst, src: f.src, off: f.off, imm: f.imm, slot });
      slot += 1;
    }
  }
  return out;
}

/** Encode instructions to bytes (lddw writes two slots). Fields are masked to their widths. */
export function encodeProgram(insns: readonly BpfInsnFields[]): Uint8Array {
  let n = 0;
  for (const i of insns) n += insnSlots(i);
  const out = new Uint8Array(n * SLOT_SIZE);
  let p = 0;
  const put = (opcode: number, dst: number, src: number, off: number, imm: number): void => {
    out[p] = opcode & 0xff;
    out[p + 1] = (dst & 0xf) | ((src & 0xf) << 4);
    out[p + 2] = off & 0xff;
    out[p + 3] = (off >> 8) & 0xff;
    out[p + 4] = imm & 0xff;
    out[p + 5] = (imm >>> 8) & 0xff;
    out[p + 6] = (imm >>> 16) & 0xff;
    out[p + 7] = (imm >>> 24) & 0xff;
    p += SLOT_SIZE;
  };
  for (const i of insns) {
    put(i.opcode, i.dst, i.src, i.off, i.imm);
    if (i.opcode === OP.LDDW) put(0, 0, 0, 0, i.imm2 ?? 0);
  }
  return out;
}

/** Slot index -> instruction index map (-1 for the second slot of an lddw). */
export function slotIndex(insns: readonly BpfInsn[]): Int32Array {
  const last = insns[insns.length - 1];
  const n = last ? last.slot + insnSlots(last) : 0;
  const map = new Int32Array(n).fill(-1);
  for (let k = 0; k < insns.length; k++) map[(insns[k] as BpfInsn).slot] = k;
  return map;
}

/** Target slot of a jump / local call (null for other instructions). */
export function branchTarget(i: BpfInsn): number | null {
  const info = OPCODE_INFO[i.opcode];
  if (!info) return null;
  if (info.kind === 'ja' || info.kind === 'jcond') return i.slot + 1 + i.off;
  if (info.kind === 'ja32') return i.slot + 1 + i.imm;
  if (info.kind === 'call' && i.src === CALL_SRC.LOCAL) return i.slot + 1 + i.imm;
  return null;
}

/**
 * Whole-program structural check done at load time by every engine: every jump and local-call
 * target lies inside the program and not in the second slot of an lddw (ubpf `validate()`).
 */
export function checkTargets(insns: readonly BpfInsn[]): void {
  const map = slotIndex(insns);
  for (const i of insns) {
    const t = branchTarget(i);
    if (t === null) continue;
    if (t < 0 || t >= map.length) throw new BpfDecodeError(i.slot, i.opcode, `jump target slot ${t} outside the program (0..${map.length - 1})`, 'off');
    if (map[t] === -1) throw new BpfDecodeError(i.slot, i.opcode, `jump target slot ${t} is the second slot of an lddw`, 'off');
  }
}
