// Intel-syntax text of a decoded x86_64 record, in Capstone 5's spelling (the decode-cache check
// compares the two after support/capstone.ts normaliseAsm). Capstone's immediate rules, observed on
// capstone-wasm 1.0.3 and mirrored here: mov/and/or/xor immediates and 8-bit operands print as
// unsigned values of the operand size; other immediates print signed when they came from an imm8
// field or the operand size is 64 bits, else unsigned; branch targets are absolute addresses.

import { hex64Short, type VAddr } from '../../support/u64.js';
import { R_A, R_B, R_C, R_D, R_E, R_F, R_INFO, R_OP } from '../decode-cache.js';
import {
  ALU_AND, ALU_NAMES, ALU_OR, ALU_XOR, BASE_NONE, BASE_RIP, CC_NAMES, CONVERT_NAMES, IDX_NONE, IDX_RIZ, IMM8, MEM_LOCK, NOP_ENDBR64, NOP_MEM,
  NOP_PAUSE, NOP_PREFETCH, REG64, regName, SHIFT_NAMES, UNARY_NAMES, X,
} from './ops.js';

const PTR: Record<number, string> = { 1: 'byte ptr ', 2: 'word ptr ', 4: 'dword ptr ', 8: 'qword ptr ' };
const PREFETCH = ['prefetchnta', 'prefetcht0', 'prefetcht1', 'prefetcht2'];

function num(v: number): string {
  if (v < 0) return v < -9 ? `-0x${(-v).toString(16)}` : `-${-v}`;
  return v > 9 ? `0x${v.toString(16)}` : `${v}`;
}

/** Unsigned value of (lo, hi) masked to `size` bytes, Capstone style. */
function unsignedImm(lo: number, hi: number, size: number): string {
  if (size === 8) {
    if (hi === 0 && lo >>> 0 <= 9) return `${lo >>> 0}`;
    return hex64Short(lo, hi);
  }
  const v = size === 4 ? lo >>> 0 : size === 2 ? lo & 0xffff : lo & 0xff;
  return v > 9 ? `0x${v.toString(16)}` : `${v}`;
}

function signedImm(lo: number, hi: number): string {
  if (hi === (lo >> 31)) return num(lo | 0);
  if (hi < 0) {
    const m = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    return `-0x${((1n << 64n) - m).toString(16)}`;
  }
  return hex64Short(lo, hi);
}

function immText(r: Int32Array, at: number, size: number, unsigned: boolean): string {
  const lo = r[at + R_E]!;
  const hi = r[at + R_F]!;
  if (unsigned || size === 1) return unsignedImm(lo, hi, size);
  if ((r[at + R_C]! & IMM8) !== 0 || size === 8) return signedImm(lo, hi);
  return unsignedImm(lo, hi, size);
}

function mem(r: Int32Array, at: number, ptrSize: number): string {
  const base = r[at + R_B]!;
  const c = r[at + R_C]!;
  const idx = c & 0xff;
  const scale = 1 << ((c >> 8) & 3);
  const disp = r[at + R_D]!;
  const seg = (c >> 12) & 7 ? 'cs:' : '';
  let s = '';
  if (base === BASE_RIP) s = 'rip';
  else if (base !== BASE_NONE) s = REG64[base]!;
  if (idx !== IDX_NONE) {
    const name = idx === IDX_RIZ ? 'riz' : REG64[idx]!;
    s += (s ? ' + ' : '') + name + (scale > 1 ? `*${scale}` : '');
  }
  if (s === '') s = hex64Short(disp | 0, disp < 0 ? -1 : 0);
  else if (disp > 0) s += ` + ${num(disp)}`;
  else if (disp < 0) s += ` - ${num(-disp)}`;
  return `${ptrSize ? PTR[ptrSize] : ''}${seg}[${s}]`;
}

function rmText(r: Int32Array, at: number, size: number, ptrSize = size): string {
  return r[at + R_C]! < 0 ? regName(r[at + R_B]!, size) : mem(r, at, ptrSize);
}

export function renderX86(r: Int32Array, at: number, _pc: VAddr): string {
  const op = r[at + R_OP]!;
  const info = r[at + R_INFO]!;
  const size = (info >>> 8) & 0xf;
  const aux = (info >>> 12) & 0xf;
  const a = r[at + R_A]!;
  const lock = r[at + R_C]! >= 0 && (r[at + R_C]! & MEM_LOCK) !== 0 ? 'lock ' : '';
  const reg = regName(a, size);
  switch (op) {
    case X.NOP: {
      const v = r[at + R_F]!;
      if (v === NOP_MEM) return `nop ${rmText(r, at, size)}`;
      if (v === NOP_ENDBR64) return 'endbr64';
      if (v === NOP_PAUSE) return 'pause';
      if (v >= NOP_PREFETCH) return `${PREFETCH[v - NOP_PREFETCH]} ${mem(r, at, 1)}`;
      return 'nop';
    }
    case X.MOV_R_RM:
    case X.LOAD64:
      return `mov ${reg}, ${rmText(r, at, size)}`;
    case X.MOV_RM_R:
    case X.STORE64:
      return `mov ${rmText(r, at, size)}, ${reg}`;
    case X.MOV64_RR:
    case X.MOV32_RR:
      return `mov ${reg}, ${regName(r[at + R_B]!, size)}`;
    case X.MOV_RM_I:
      return `mov ${rmText(r, at, size)}, ${immText(r, at, size, true)}`;
    case X.MOV_R_I:
      return `${aux === 1 ? 'movabs' : 'mov'} ${reg}, ${immText(r, at, size, true)}`;
    case X.MOVZX:
    case X.MOVSX:
      return `${op === X.MOVZX ? 'movzx' : aux === 4 ? 'movsxd' : 'movsx'} ${reg}, ${rmText(r, at, aux)}`;
    case X.LEA:
      return `lea ${reg}, ${mem(r, at, 0)}`;
    case X.ALU_R_RM:
      return `${ALU_NAMES[aux]} ${reg}, ${rmText(r, at, size)}`;
    case X.ALU_RM_R:
      return `${lock}${ALU_NAMES[aux]} ${rmText(r, at, size)}, ${reg}`;
    case X.ADD64_RR:
    case X.SUB64_RR:
    case X.XOR64_RR:
    case X.XOR32_RR:
    case X.CMP64_RR:
    case X.SUB64_RR_JCC:
    case X.CMP64_RR_JCC:
    case X.ADD64_RR_NF:
    case X.SUB64_RR_NF:
    case X.XOR64_RR_NF:
    case X.XOR32_RR_NF:
      return `${ALU_NAMES[aux]} ${reg}, ${regName(r[at + R_B]!, size)}`;
    case X.ALU_RM_I:
    case X.ADD64_RI:
    case X.SUB64_RI:
    case X.AND64_RI:
    case X.AND32_RI:
    case X.CMP64_RI:
    case X.SUB64_RI_JCC:
    case X.CMP64_RI_JCC:
    case X.ADD64_RI_NF:
    case X.SUB64_RI_NF:
    case X.AND64_RI_NF:
    case X.AND32_RI_NF:
      return `${lock}${ALU_NAMES[aux]} ${rmText(r, at, size)}, ${immText(r, at, size, aux === ALU_AND || aux === ALU_OR || aux === ALU_XOR)}`;
    case X.TEST_RM_R:
      return `test ${rmText(r, at, size)}, ${reg}`;
    case X.TEST_RM_I:
      return `test ${rmText(r, at, size)}, ${immText(r, at, size, false)}`;
    case X.UNARY:
      return `${lock}${UNARY_NAMES[aux]} ${rmText(r, at, size)}`;
    case X.IMUL_R_RM:
      return `imul ${reg}, ${rmText(r, at, size)}`;
    case X.IMUL_R_RM_I:
      return `imul ${reg}, ${rmText(r, at, size)}, ${immText(r, at, size, false)}`;
    case X.SHIFT_I:
    case X.SHR64_I:
    case X.SHL64_I:
    case X.SHR64_I_NF:
      return `${SHIFT_NAMES[aux]} ${rmText(r, at, size)}, ${unsignedImm(r[at + R_E]!, 0, 1)}`;
    case X.SHIFT_CL:
      return `${SHIFT_NAMES[aux]} ${rmText(r, at, size)}, cl`;
    case X.SHXD_I:
      return `${aux ? 'shrd' : 'shld'} ${rmText(r, at, size)}, ${reg}, ${unsignedImm(r[at + R_E]!, 0, 1)}`;
    case X.SHXD_CL:
      return `${aux ? 'shrd' : 'shld'} ${rmText(r, at, size)}, ${reg}, cl`;
    case X.BSWAP:
      return `bswap ${reg}`;
    case X.XCHG:
      return r[at + R_F] === 1 ? `xchg ${reg}, ${regName(0, size)}` : `${lock}xchg ${rmText(r, at, size)}, ${reg}`;
    case X.XADD:
      return `${lock}xadd ${rmText(r, at, size)}, ${reg}`;
    case X.CMPXCHG:
      return `${lock}cmpxchg ${rmText(r, at, size)}, ${reg}`;
    case X.PUSH_R:
      return `push ${REG64[a]}`;
    case X.POP_R:
      return `pop ${REG64[a]}`;
    case X.PUSH_I:
      return `push ${signedImm(r[at + R_E]!, r[at + R_F]!)}`;
    case X.PUSH_RM:
      return `push ${rmText(r, at, 8)}`;
    case X.POP_RM:
      return `pop ${rmText(r, at, 8)}`;
    case X.CALL:
      return `call ${hex64Short(r[at + R_E]!, r[at + R_F]!)}`;
    case X.JMP:
      return `jmp ${hex64Short(r[at + R_E]!, r[at + R_F]!)}`;
    case X.JCC:
    case X.JCC_NZ:
    case X.JCC_Z:
      return `j${CC_NAMES[aux]} ${hex64Short(r[at + R_E]!, r[at + R_F]!)}`;
    case X.CALL_RM:
      return `call ${rmText(r, at, 8)}`;
    case X.JMP_RM:
      return `jmp ${rmText(r, at, 8)}`;
    case X.SETCC:
      return `set${CC_NAMES[aux]} ${rmText(r, at, 1)}`;
    case X.CMOV:
      return `cmov${CC_NAMES[aux]} ${reg}, ${rmText(r, at, size)}`;
    case X.RET:
      return r[at + R_F] === 1 ? `ret ${unsignedImm(r[at + R_E]!, 0, 2)}` : 'ret';
    case X.LEAVE:
      return 'leave';
    case X.CONVERT:
      return CONVERT_NAMES[aux]![size] ?? '?';
    case X.INT3:
      return 'int3';
    case X.UD2:
      return 'ud2';
    default:
      return `(op ${op})`;
  }
}
