// x86_64 pre-decoded record layout and operation ids (see emulator/decode-cache.ts for the shared
// frame). One record = 8 int32 words:
//   R_OP    operation id (X below)
//   R_INFO  bits 0-7 length; bits 8-11 operand size in bytes (1, 2, 4, 8); bits 12-15 AUX (ALU
//           kind, condition code, shift kind, unary kind, source size of movzx/movsx, nop variant);
//           bits 16-31 offset in block (set by the cache)
//   R_A     register operand (ModRM.reg or the opcode's register): 0-15 = rax..r15; 16-19 = ah,
//           ch, dh, bh (8-bit operands without REX)
//   R_B     r/m operand: the register when R_C < 0; else the base register of the memory operand
//           (-1 none, 16 = rip)
//   R_C     negative (bit 31 set) = r/m is a register; else memory: bits 0-7 index register (0xff
//           none, 0xfe = riz, rendered but reads as 0), bits 8-9 scale shift, bits 12-14 segment
//           (1 = cs, rendering only), bit 16 lock prefix. Both forms: bit 20 = the immediate was
//           an imm8 field (rendering: Capstone prints those signed)
//   R_D     displacement (int32, sign-extended at use). rip-relative: relative to the next insn
//   R_E,R_F immediate lo/hi (sign-extended to 64 bits at decode), branch targets as lo/hi, or the
//           shift count; R_F also holds render variants for forms that have no immediate
// Register file: Int32Array of 16 lo/hi pairs, regs[2r] = lo, regs[2r+1] = hi.

export const RM_REG = 1 << 31;
export const IMM8 = 1 << 20;
export const IDX_NONE = 0xff;
export const IDX_RIZ = 0xfe;
export const BASE_NONE = -1;
export const BASE_RIP = 16;
export const MEM_LOCK = 1 << 16;
export const SEG_CS = 1;

export const enum X {
  NOP = 1,
  MOV_R_RM,
  MOV_RM_R,
  MOV_RM_I,
  MOV_R_I,
  MOVZX,
  MOVSX,
  LEA,
  ALU_R_RM,
  ALU_RM_R,
  ALU_RM_I,
  TEST_RM_R,
  TEST_RM_I,
  UNARY,
  IMUL_R_RM,
  IMUL_R_RM_I,
  SHIFT_I,
  SHIFT_CL,
  SHXD_I,
  SHXD_CL,
  BSWAP,
  XCHG,
  XADD,
  CMPXCHG,
  PUSH_R,
  POP_R,
  PUSH_I,
  PUSH_RM,
  POP_RM,
  CALL,
  CALL_RM,
  JMP,
  JMP_RM,
  JCC,
  SETCC,
  CMOV,
  RET,
  LEAVE,
  CONVERT,
  INT3,
  UD2,
  // Specialised fast forms (same semantics as the generic op they replace).
  ADD64_RR,
  SUB64_RR,
  ADD64_RI,
  SUB64_RI,
  AND64_RI,
  AND32_RI,
  XOR64_RR,
  XOR32_RR,
  MOV64_RR,
  MOV32_RR,
  SHR64_I,
  SHL64_I,
  CMP64_RR,
  CMP64_RI,
  LOAD64,
  STORE64,
  JCC_NZ,
  JCC_Z,
  // The same fast forms when a later instruction of the block overwrites every flag before any is
  // read (dead flag elimination, as QEMU's liveness pass does): no lazy-flag update.
  ADD64_RR_NF,
  SUB64_RR_NF,
  ADD64_RI_NF,
  SUB64_RI_NF,
  AND64_RI_NF,
  AND32_RI_NF,
  XOR64_RR_NF,
  XOR32_RR_NF,
  SHR64_I_NF,
  // A 64-bit sub/cmp immediately followed by the block's closing jz/jnz (macro-op fusion, as
  // cmp+jcc fuse on real cores and in v86): the record keeps the sub/cmp operands, the jcc record
  // after it stays in place (target, polarity, text) and is executed as part of this one.
  SUB64_RI_JCC,
  SUB64_RR_JCC,
  CMP64_RI_JCC,
  CMP64_RR_JCC,
}

/** Flag-setting fast op -> its form fused with a following JCC_NZ / JCC_Z. */
export const JCC_FUSED: ReadonlyMap<number, number> = new Map([
  [X.SUB64_RI, X.SUB64_RI_JCC],
  [X.SUB64_RR, X.SUB64_RR_JCC],
  [X.CMP64_RI, X.CMP64_RI_JCC],
  [X.CMP64_RR, X.CMP64_RR_JCC],
]);

/** Fast op -> its no-flags twin. */
export const NO_FLAGS_TWIN: ReadonlyMap<number, number> = new Map([
  [X.ADD64_RR, X.ADD64_RR_NF],
  [X.SUB64_RR, X.SUB64_RR_NF],
  [X.ADD64_RI, X.ADD64_RI_NF],
  [X.SUB64_RI, X.SUB64_RI_NF],
  [X.AND64_RI, X.AND64_RI_NF],
  [X.AND32_RI, X.AND32_RI_NF],
  [X.XOR64_RR, X.XOR64_RR_NF],
  [X.XOR32_RR, X.XOR32_RR_NF],
  [X.SHR64_I, X.SHR64_I_NF],
]);

/** Ops that set every arithmetic flag without reading any (the flags before them are dead). */
export const WRITES_ALL_FLAGS: ReadonlySet<number> = new Set([
  X.ADD64_RR, X.SUB64_RR, X.ADD64_RI, X.SUB64_RI, X.AND64_RI, X.AND32_RI, X.XOR64_RR, X.XOR32_RR, X.SHR64_I, X.CMP64_RR, X.CMP64_RI,
]);

/** Ops that neither read nor write flags. */
export const FLAGS_UNTOUCHED: ReadonlySet<number> = new Set([
  X.NOP, X.MOV_R_RM, X.MOV_RM_R, X.MOV_RM_I, X.MOV_R_I, X.MOVZX, X.MOVSX, X.LEA, X.BSWAP, X.XCHG, X.PUSH_R, X.POP_R, X.PUSH_I, X.PUSH_RM,
  X.POP_RM, X.MOV64_RR, X.MOV32_RR, X.LOAD64, X.STORE64, X.CONVERT, X.LEAVE,
]);

/** ALU kinds in opcode order (00-3f /r and group 1 /digit), plus TEST for flags. */
export const ALU_ADD = 0;
export const ALU_OR = 1;
export const ALU_ADC = 2;
export const ALU_SBB = 3;
export const ALU_AND = 4;
export const ALU_SUB = 5;
export const ALU_XOR = 6;
export const ALU_CMP = 7;
export const ALU_NAMES = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];

/** Group 3 / group 4-5 unary kinds. */
export const UN_NOT = 2;
export const UN_NEG = 3;
export const UN_MUL = 4;
export const UN_IMUL = 5;
export const UN_DIV = 6;
export const UN_IDIV = 7;
export const UN_INC = 8;
export const UN_DEC = 9;
export const UNARY_NAMES = ['', '', 'not', 'neg', 'mul', 'imul', 'div', 'idiv', 'inc', 'dec'];

export const SHIFT_NAMES = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'];
export const CC_NAMES = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

/** CONVERT (AUX 0: cbw/cwde/cdqe sign-extend the accumulator; AUX 1: cwd/cdq/cqo into rdx), by size. */
export const CONVERT_NAMES: readonly Record<number, string>[] = [
  { 2: 'cbw', 4: 'cwde', 8: 'cdqe' },
  { 2: 'cwd', 4: 'cdq', 8: 'cqo' },
];

/** NOP render variants (R_F). */
export const NOP_PLAIN = 0;
export const NOP_MEM = 1;
export const NOP_ENDBR64 = 2;
export const NOP_PAUSE = 3;
export const NOP_PREFETCH = 4; // + hint: 4 nta, 5 t0, 6 t1, 7 t2

export const REG64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
export const REG32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'];
export const REG16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di', 'r8w', 'r9w', 'r10w', 'r11w', 'r12w', 'r13w', 'r14w', 'r15w'];
export const REG8 = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil', 'r8b', 'r9b', 'r10b', 'r11b', 'r12b', 'r13b', 'r14b', 'r15b', 'ah', 'ch', 'dh', 'bh'];

export function regName(r: number, size: number): string {
  if (size === 8) return REG64[r]!;
  if (size === 4) return REG32[r]!;
  if (size === 2) return REG16[r]!;
  return REG8[r]!;
}

export function infoSize(info: number): number {
  return (info >>> 8) & 0xf;
}

export function infoAux(info: number): number {
  return (info >>> 12) & 0xf;
}
