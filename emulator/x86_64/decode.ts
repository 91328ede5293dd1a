// x86_64 decoder: bytes -> one pre-decoded record (layout in ops.ts). Table-free on purpose: the
// supported subset (what jitbox's assembler and gcc -O2 leaf functions emit) reads best as the
// opcode map of the Intel SDM vol. 2, appendix A, one case per row.
//
// Invariants: returns the length, DECODE_TRUNCATED when the bytes end early (the caller decides
// between a fetch fault and an invalid instruction), DECODE_UNKNOWN for anything not implemented
// (the caller asks Capstone whether it exists). Never reads past `n`. Prefixes accepted: 66, f0
// (lock, only before a memory-destination read-modify-write), f3 (pause, endbr64, rep ret), 2e (cs,
// nop padding), one REX immediately before the opcode. 67, fs/gs and VEX/EVEX are not modelled.

import { DECODE_TRUNCATED, DECODE_UNKNOWN } from '../machine.js';
import { R_A, R_B, R_C, R_D, R_E, R_F, R_INFO, R_OP } from '../decode-cache.js';
import type { VAddr } from '../../support/u64.js';
import {
  ALU_ADD, ALU_AND, ALU_CMP, ALU_SUB, ALU_XOR, BASE_NONE, BASE_RIP, IDX_NONE, IDX_RIZ, IMM8, MEM_LOCK, NOP_ENDBR64, NOP_MEM, NOP_PAUSE,
  NOP_PLAIN, NOP_PREFETCH, RM_REG, SEG_CS, UN_DEC, UN_INC, X,
} from './ops.js';

const TRUNC = DECODE_TRUNCATED;
const UNK = DECODE_UNKNOWN;

/** Decoder state for one instruction (module-level scratch: decoding never re-enters). */
let bytes: Uint8Array = new Uint8Array(0);
let avail = 0;
let pos = 0;
let rex = 0;
let rm = 0;
let reg = 0;
let isReg = false;

function target(r: Int32Array, at: number, pc: VAddr, len: number, rel: number): void {
  const t = pc + len + rel;
  r[at + R_E] = t | 0;
  r[at + R_F] = Math.floor(t / 4294967296) | 0;
}

/** Parse ModRM (+SIB, disp) at pos into R_B/R_C/R_D. size 1 maps regs 4-7 to ah..bh without REX. */
function modrm(r: Int32Array, at: number, size: number): number {
  if (pos >= avail) return TRUNC;
  const m = bytes[pos++]!;
  const mod = m >> 6;
  reg = ((m >> 3) & 7) | ((rex & 4) << 1);
  rm = m & 7;
  if (mod === 3) {
    isReg = true;
    let b = rm | ((rex & 1) << 3);
    if (size === 1 && rex === 0 && b >= 4 && b < 8) b += 12;
    r[at + R_B] = b;
    r[at + R_C] = RM_REG;
    r[at + R_D] = 0;
    return 0;
  }
  isReg = false;
  let base = BASE_NONE;
  let index = IDX_NONE;
  let scale = 0;
  let disp = 0;
  if (rm === 4) {
    if (pos >= avail) return TRUNC;
    const sib = bytes[pos++]!;
    scale = sib >> 6;
    const idx = ((sib >> 3) & 7) | ((rex & 2) << 2);
    const b = sib & 7;
    if (b === 5 && mod === 0) {
      base = BASE_NONE;
      if (pos + 4 > avail) return TRUNC;
      disp = readI32();
    } else base = b | ((rex & 1) << 3);
    // LLVM/Capstone print "riz" for a SIB without index unless only rsp/r12 (or nothing) needed it.
    index = idx !== 4 ? idx : scale !== 0 || (base !== BASE_NONE && (base & 7) !== 4) ? IDX_RIZ : IDX_NONE;
  } else if (rm === 5 && mod === 0) {
    base = BASE_RIP;
    if (pos + 4 > avail) return TRUNC;
    disp = readI32();
  } else base = rm | ((rex & 1) << 3);
  if (mod === 1) {
    if (pos >= avail) return TRUNC;
    disp = (bytes[pos++]! << 24) >> 24;
  } else if (mod === 2) {
    if (pos + 4 > avail) return TRUNC;
    disp = readI32();
  }
  r[at + R_B] = base;
  r[at + R_C] = index | (scale << 8);
  r[at + R_D] = disp;
  return 0;
}

function readI32(): number {
  const v = bytes[pos]! | (bytes[pos + 1]! << 8) | (bytes[pos + 2]! << 16) | (bytes[pos + 3]! << 24);
  pos += 4;
  return v;
}

/** Read a sign-extended immediate of `n` bytes (1, 2, 4) into R_E/R_F; false when truncated. */
function imm(r: Int32Array, at: number, n: number, signExtend = true): boolean {
  if (pos + n > avail) return false;
  let v: number;
  if (n === 1) v = signExtend ? (bytes[pos]! << 24) >> 24 : bytes[pos]!;
  else if (n === 2) v = signExtend ? ((bytes[pos]! | (bytes[pos + 1]! << 8)) << 16) >> 16 : bytes[pos]! | (bytes[pos + 1]! << 8);
  else v = bytes[pos]! | (bytes[pos + 1]! << 8) | (bytes[pos + 2]! << 16) | (bytes[pos + 3]! << 24);
  pos += n;
  r[at + R_E] = v;
  r[at + R_F] = v < 0 ? -1 : 0;
  return true;
}

function put(r: Int32Array, at: number, op: X, size: number, aux: number): number {
  if (pos > 15) return TRUNC;
  r[at + R_OP] = op;
  r[at + R_INFO] = pos | (size << 8) | (aux << 12);
  return pos;
}

export function decodeX86(src: Uint8Array, n: number, pc: VAddr, r: Int32Array, at: number): number {
  bytes = src;
  avail = Math.min(n, 15);
  pos = 0;
  rex = 0;
  r[at + R_A] = 0;
  r[at + R_B] = 0;
  r[at + R_C] = RM_REG;
  r[at + R_D] = 0;
  r[at + R_E] = 0;
  r[at + R_F] = 0;
  let opsize16 = false;
  let lock = false;
  let rep = false;
  let seg = 0;
  for (;;) {
    if (pos >= avail) return TRUNC;
    const p = bytes[pos]!;
    if (p === 0x66) opsize16 = true;
    else if (p === 0xf0) lock = true;
    else if (p === 0xf3) rep = true;
    else if (p === 0x2e) seg = SEG_CS;
    else break;
    pos++;
  }
  if ((bytes[pos]! & 0xf0) === 0x40) {
    rex = bytes[pos++]!;
    if (pos >= avail) return TRUNC;
  }
  const w = (rex & 8) !== 0;
  const size = w ? 8 : opsize16 ? 2 : 4;
  const op = bytes[pos++]!;
  const rmSize = (s: number): number => {
    const e = modrm(r, at, s);
    return e;
  };
  const finishMem = (): boolean => {
    if (!isReg) r[at + R_C] = r[at + R_C]! | (seg << 12) | (lock ? MEM_LOCK : 0);
    else if (lock || seg) return false;
    return true;
  };
  if (rep && op !== 0x90 && op !== 0xc3 && op !== 0x0f) return UNK;

  if (op < 0x40 && (op & 7) < 6) {
    const kind = op >> 3;
    const form = op & 7;
    const s = form & 1 ? size : 1;
    if (form < 4) {
      if (rmSize(s) < 0) return TRUNC;
      r[at + R_A] = s === 1 && rex === 0 && reg >= 4 && reg < 8 ? reg + 12 : reg;
      if (form < 2) {
        if (lock && (isReg || kind === ALU_CMP)) return UNK;
        if (!finishMem()) return UNK;
        return put(r, at, X.ALU_RM_R, s, kind);
      }
      if (lock || seg) return UNK;
      return put(r, at, X.ALU_R_RM, s, kind);
    }
    if (lock || seg) return UNK;
    r[at + R_B] = 0;
    r[at + R_C] = RM_REG;
    if (!imm(r, at, s === 1 ? 1 : s === 2 ? 2 : 4)) return TRUNC;
    return put(r, at, X.ALU_RM_I, s, kind);
  }
  if (lock && !(op === 0x80 || op === 0x81 || op === 0x83 || op === 0x86 || op === 0x87 || op === 0xf6 || op === 0xf7 || op === 0xfe || op === 0xff || op === 0x0f)) return UNK;
  if (seg && op !== 0x0f) return UNK;

  switch (op) {
    case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57:
      if (opsize16) return UNK;
      r[at + R_A] = (op & 7) | ((rex & 1) << 3);
      return put(r, at, X.PUSH_R, 8, 0);
    case 0x58: case 0x59: case 0x5a: case 0x5b: case 0x5c: case 0x5d: case 0x5e: case 0x5f:
      if (opsize16) return UNK;
      r[at + R_A] = (op & 7) | ((rex & 1) << 3);
      return put(r, at, X.POP_R, 8, 0);
    case 0x63:
      if (!w) return UNK;
      if (rmSize(4) < 0) return TRUNC;
      r[at + R_A] = reg;
      return put(r, at, X.MOVSX, 8, 4);
    case 0x68:
    case 0x6a:
      if (opsize16) return UNK;
      if (!imm(r, at, op === 0x6a ? 1 : 4)) return TRUNC;
      return put(r, at, X.PUSH_I, 8, 0);
    case 0x69:
    case 0x6b:
      if (rmSize(size) < 0) return TRUNC;
      r[at + R_A] = reg;
      if (!imm(r, at, op === 0x6b ? 1 : size === 2 ? 2 : 4)) return TRUNC;
      if (op === 0x6b) r[at + R_C] = r[at + R_C]! | IMM8;
      return put(r, at, X.IMUL_R_RM_I, size, 0);
    case 0x80:
    case 0x81:
    case 0x83: {
      const s = op === 0x80 ? 1 : size;
      if (rmSize(s) < 0) return TRUNC;
      const kind = reg & 7;
      if (lock && (isReg || kind === ALU_CMP)) return UNK;
      if (!finishMem()) return UNK;
      if (!imm(r, at, op === 0x81 ? (s === 2 ? 2 : 4) : 1)) return TRUNC;
      if (op === 0x83) r[at + R_C] = r[at + R_C]! | IMM8;
      return put(r, at, X.ALU_RM_I, s, kind);
    }
    case 0x84:
    case 0x85:
    case 0x86:
    case 0x87:
    case 0x88:
    case 0x89:
    case 0x8a:
    case 0x8b: {
      const s = op & 1 ? size : 1;
      if (rmSize(s) < 0) return TRUNC;
      r[at + R_A] = s === 1 && rex === 0 && reg >= 4 && reg < 8 ? reg + 12 : reg;
      if (op === 0x86 || op === 0x87) {
        if (!finishMem()) return UNK;
        return put(r, at, X.XCHG, s, 0);
      }
      if (lock || seg) return UNK;
      if (op <= 0x85) return put(r, at, X.TEST_RM_R, s, 0);
      return put(r, at, op <= 0x89 ? X.MOV_RM_R : X.MOV_R_RM, s, 0);
    }
    case 0x8d:
      if (rmSize(size) < 0) return TRUNC;
      if (isReg) return UNK;
      r[at + R_A] = reg;
      return put(r, at, X.LEA, size, 0);
    case 0x8f:
      if (rmSize(8) < 0) return TRUNC;
      if ((reg & 7) !== 0 || opsize16) return UNK;
      return put(r, at, X.POP_RM, 8, 0);
    case 0x90:
      if (rex & 1) {
        r[at + R_A] = 8;
        r[at + R_B] = 0;
        r[at + R_F] = 1;
        return put(r, at, X.XCHG, size, 0);
      }
      r[at + R_F] = rep ? NOP_PAUSE : NOP_PLAIN;
      return put(r, at, X.NOP, size, 0);
    case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97:
      r[at + R_A] = (op & 7) | ((rex & 1) << 3);
      r[at + R_B] = 0;
      r[at + R_F] = 1;
      return put(r, at, X.XCHG, size, 0);
    case 0x98:
      return put(r, at, X.CONVERT, size, 0);
    case 0x99:
      return put(r, at, X.CONVERT, size, 1);
    case 0xa8:
    case 0xa9: {
      const s = op === 0xa8 ? 1 : size;
      r[at + R_B] = 0;
      if (!imm(r, at, s === 1 ? 1 : s === 2 ? 2 : 4)) return TRUNC;
      return put(r, at, X.TEST_RM_I, s, 0);
    }
    case 0xb0: case 0xb1: case 0xb2: case 0xb3: case 0xb4: case 0xb5: case 0xb6: case 0xb7: {
      let rr = (op & 7) | ((rex & 1) << 3);
      if (rex === 0 && rr >= 4) rr += 12;
      r[at + R_A] = rr;
      if (!imm(r, at, 1, false)) return TRUNC;
      return put(r, at, X.MOV_R_I, 1, 0);
    }
    case 0xb8: case 0xb9: case 0xba: case 0xbb: case 0xbc: case 0xbd: case 0xbe: case 0xbf:
      r[at + R_A] = (op & 7) | ((rex & 1) << 3);
      if (w) {
        if (pos + 8 > avail) return TRUNC;
        r[at + R_E] = readI32();
        r[at + R_F] = readI32();
        return put(r, at, X.MOV_R_I, 8, 1);
      }
      if (!imm(r, at, size === 2 ? 2 : 4, false)) return TRUNC;
      r[at + R_F] = 0;
      return put(r, at, X.MOV_R_I, size, 0);
    case 0xc0:
    case 0xc1:
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: {
      const s = op & 1 ? size : 1;
      if (rmSize(s) < 0) return TRUNC;
      if ((reg & 7) === 6) return UNK;
      if (op >= 0xd2) return put(r, at, X.SHIFT_CL, s, reg & 7);
      if (op >= 0xd0) {
        r[at + R_E] = 1;
        r[at + R_F] = 1;
        return put(r, at, X.SHIFT_I, s, reg & 7);
      }
      if (pos >= avail) return TRUNC;
      r[at + R_E] = bytes[pos++]!;
      return put(r, at, X.SHIFT_I, s, reg & 7);
    }
    case 0xc2:
      if (opsize16) return UNK;
      if (!imm(r, at, 2, false)) return TRUNC;
      r[at + R_F] = 1;
      return put(r, at, X.RET, 8, 0);
    case 0xc3:
      if (opsize16) return UNK;
      return put(r, at, X.RET, 8, 0);
    case 0xc6:
    case 0xc7: {
      const s = op === 0xc6 ? 1 : size;
      if (rmSize(s) < 0) return TRUNC;
      if ((reg & 7) !== 0) return UNK;
      if (!imm(r, at, s === 1 ? 1 : s === 2 ? 2 : 4)) return TRUNC;
      return put(r, at, X.MOV_RM_I, s, 0);
    }
    case 0xc9:
      return put(r, at, X.LEAVE, 8, 0);
    case 0xcc:
      return put(r, at, X.INT3, 8, 0);
    case 0xe8:
    case 0xe9:
    case 0xeb:
    case 0x70: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76: case 0x77:
    case 0x78: case 0x79: case 0x7a: case 0x7b: case 0x7c: case 0x7d: case 0x7e: case 0x7f: {
      if (opsize16) return UNK;
      const short = op === 0xeb || op < 0x80;
      if (pos + (short ? 1 : 4) > avail) return TRUNC;
      const rel = short ? (bytes[pos++]! << 24) >> 24 : readI32();
      target(r, at, pc, pos, rel);
      if (op < 0x80) return put(r, at, X.JCC, 8, op & 15);
      return put(r, at, op === 0xe8 ? X.CALL : X.JMP, 8, 0);
    }
    case 0xf6:
    case 0xf7: {
      const s = op === 0xf6 ? 1 : size;
      if (rmSize(s) < 0) return TRUNC;
      const k = reg & 7;
      if (k === 1) return UNK;
      if (lock && (isReg || (k !== 2 && k !== 3))) return UNK;
      if (!finishMem()) return UNK;
      if (k === 0) {
        if (!imm(r, at, s === 1 ? 1 : s === 2 ? 2 : 4)) return TRUNC;
        return put(r, at, X.TEST_RM_I, s, 0);
      }
      return put(r, at, X.UNARY, s, k);
    }
    case 0xfe:
    case 0xff: {
      const s = op === 0xfe ? 1 : size;
      if (rmSize(s) < 0) return TRUNC;
      const k = reg & 7;
      if (k <= 1) {
        if (lock && isReg) return UNK;
        if (!finishMem()) return UNK;
        return put(r, at, X.UNARY, s, k === 0 ? UN_INC : UN_DEC);
      }
      if (op === 0xfe || lock) return UNK;
      if (k === 2 || k === 4 || k === 6) {
        if (opsize16) return UNK;
        return put(r, at, k === 2 ? X.CALL_RM : k === 4 ? X.JMP_RM : X.PUSH_RM, 8, 0);
      }
      return UNK;
    }
    case 0x0f:
      return decode0f(r, at, pc, size, opsize16, rep, lock, seg);
    default:
      return UNK;
  }
}

function decode0f(r: Int32Array, at: number, pc: VAddr, size: number, opsize16: boolean, rep: boolean, lock: boolean, seg: number): number {
  if (pos >= avail) return TRUNC;
  const op = bytes[pos++]!;
  if (rep) {
    if (op === 0x1e) {
      if (pos >= avail) return TRUNC;
      if (bytes[pos] !== 0xfa || rex !== 0 || opsize16) return UNK;
      pos++;
      r[at + R_F] = NOP_ENDBR64;
      return put(r, at, X.NOP, 4, 0);
    }
    return UNK;
  }
  if (lock && !(op === 0xb0 || op === 0xb1 || op === 0xc0 || op === 0xc1)) return UNK;
  if (seg && op !== 0x1f) return UNK;
  const reg8 = (g: number): number => (rex === 0 && g >= 4 && g < 8 ? g + 12 : g);
  const memFlags = (): void => {
    if (!isReg) r[at + R_C] = r[at + R_C]! | (seg << 12) | (lock ? MEM_LOCK : 0);
  };
  if (op >= 0x40 && op <= 0x4f) {
    if (modrm(r, at, size) < 0) return TRUNC;
    r[at + R_A] = reg;
    return put(r, at, X.CMOV, size, op & 15);
  }
  if (op >= 0x80 && op <= 0x8f) {
    if (opsize16) return UNK;
    if (pos + 4 > avail) return TRUNC;
    const rel = readI32();
    target(r, at, pc, pos, rel);
    return put(r, at, X.JCC, 8, op & 15);
  }
  if (op >= 0x90 && op <= 0x9f) {
    if (modrm(r, at, 1) < 0) return TRUNC;
    return put(r, at, X.SETCC, 1, op & 15);
  }
  if (op >= 0xc8 && op <= 0xcf) {
    if (opsize16) return UNK;
    r[at + R_A] = (op & 7) | ((rex & 1) << 3);
    return put(r, at, X.BSWAP, size, 0);
  }
  switch (op) {
    case 0x0b:
      return put(r, at, X.UD2, 8, 0);
    case 0x18:
      if (modrm(r, at, 1) < 0) return TRUNC;
      if (isReg || (reg & 7) > 3) return UNK;
      r[at + R_F] = NOP_PREFETCH + (reg & 7);
      return put(r, at, X.NOP, 1, 0);
    case 0x1f:
      // 0f 1f /r: the reserved-NOP row; every reg field and register operands are NOPs too.
      if (modrm(r, at, size) < 0) return TRUNC;
      memFlags();
      r[at + R_F] = NOP_MEM;
      return put(r, at, X.NOP, size, 0);
    case 0xa4:
    case 0xa5:
    case 0xac:
    case 0xad:
      if (modrm(r, at, size) < 0) return TRUNC;
      r[at + R_A] = reg;
      if (op === 0xa4 || op === 0xac) {
        if (pos >= avail) return TRUNC;
        r[at + R_E] = bytes[pos++]!;
        return put(r, at, X.SHXD_I, size, op >= 0xac ? 1 : 0);
      }
      return put(r, at, X.SHXD_CL, size, op >= 0xac ? 1 : 0);
    case 0xaf:
      if (modrm(r, at, size) < 0) return TRUNC;
      r[at + R_A] = reg;
      return put(r, at, X.IMUL_R_RM, size, 0);
    case 0xb0:
    case 0xb1:
    case 0xc0:
    case 0xc1: {
      const s = op & 1 ? size : 1;
      if (modrm(r, at, s) < 0) return TRUNC;
      if (lock && isReg) return UNK;
      memFlags();
      r[at + R_A] = s === 1 ? reg8(reg) : reg;
      return put(r, at, op >= 0xc0 ? X.XADD : X.CMPXCHG, s, 0);
    }
    case 0xb6:
    case 0xb7:
    case 0xbe:
    case 0xbf: {
      const src = op & 1 ? 2 : 1;
      if (modrm(r, at, src) < 0) return TRUNC;
      if (src === 2 && size === 2) return UNK;
      r[at + R_A] = reg;
      return put(r, at, op >= 0xbe ? X.MOVSX : X.MOVZX, size, src);
    }
    default:
      return UNK;
  }
}

/** Replace generic ops by specialised fast forms where the record allows (same semantics). */
export function specialise(r: Int32Array, at: number): void {
  const op = r[at + R_OP]!;
  const info = r[at + R_INFO]!;
  const size = (info >>> 8) & 0xf;
  const aux = (info >>> 12) & 0xf;
  const isRegForm = r[at + R_C]! < 0;
  let fast = 0;
  if (op === X.ALU_R_RM && isRegForm) {
    // reg op= reg: R_A is the destination, R_B the source.
    if (size === 8 && aux === ALU_ADD) fast = X.ADD64_RR;
    else if (size === 8 && aux === ALU_SUB) fast = X.SUB64_RR;
    else if (size === 8 && aux === ALU_XOR) fast = X.XOR64_RR;
    else if (size === 4 && aux === ALU_XOR) fast = X.XOR32_RR;
    else if (size === 8 && aux === ALU_CMP) fast = X.CMP64_RR;
  } else if (op === X.ALU_RM_R && isRegForm) {
    // rm op= reg: swap into the reg-reg form (destination R_B, source R_A).
    if (size === 8 && (aux === ALU_ADD || aux === ALU_SUB || aux === ALU_XOR || aux === ALU_CMP)) {
      fast = aux === ALU_ADD ? X.ADD64_RR : aux === ALU_SUB ? X.SUB64_RR : aux === ALU_XOR ? X.XOR64_RR : X.CMP64_RR;
    } else if (size === 4 && aux === ALU_XOR) fast = X.XOR32_RR;
    if (fast) {
      const a = r[at + R_A]!;
      r[at + R_A] = r[at + R_B]!;
      r[at + R_B] = a;
    }
  } else if (op === X.ALU_RM_I && isRegForm) {
    if (size === 8 && aux === ALU_ADD) fast = X.ADD64_RI;
    else if (size === 8 && aux === ALU_SUB) fast = X.SUB64_RI;
    else if (size === 8 && aux === ALU_AND) fast = X.AND64_RI;
    else if (size === 4 && aux === ALU_AND) fast = X.AND32_RI;
    else if (size === 8 && aux === ALU_CMP) fast = X.CMP64_RI;
    if (fast) r[at + R_A] = r[at + R_B]!;
  } else if ((op === X.MOV_RM_R || op === X.MOV_R_RM) && isRegForm && (size === 8 || size === 4)) {
    fast = size === 8 ? X.MOV64_RR : X.MOV32_RR;
    if (op === X.MOV_RM_R) {
      const a = r[at + R_A]!;
      r[at + R_A] = r[at + R_B]!;
      r[at + R_B] = a;
    }
  } else if (op === X.SHIFT_I && isRegForm && size === 8 && (r[at + R_E]! & 63) !== 0) {
    if (aux === 5) fast = X.SHR64_I;
    else if (aux === 4 || aux === 6) fast = X.SHL64_I;
    if (fast) r[at + R_A] = r[at + R_B]!;
  } else if (op === X.MOV_R_RM && !isRegForm && size === 8 && (r[at + R_C]! & 0xff) >= IDX_RIZ && r[at + R_B]! !== BASE_RIP) {
    fast = X.LOAD64;
  } else if (op === X.MOV_RM_R && !isRegForm && size === 8 && (r[at + R_C]! & 0xff) >= IDX_RIZ && r[at + R_B]! !== BASE_RIP) {
    fast = X.STORE64;
  } else if (op === X.JCC && (aux === 5 || aux === 4)) {
    fast = aux === 5 ? X.JCC_NZ : X.JCC_Z;
  }
  if (fast) r[at + R_OP] = fast;
}
