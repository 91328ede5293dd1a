// Disassemblers for decoded BPF instructions (isa.ts):
// - `disasm`: the bpf_conformance assembler dialect (lib/src/bpf_assembler.cc; see asm.ts). Output
//   re-assembles to the same bytes (tested over the whole conformance suite and random programs).
//   Jump targets print as `+N`/`-N` slots. lddw with src != 0 uses the jitbox extension
//   `lddw %r1, map_fd 3` / `map_value 3+8` / `btf_id N` / `func N` / `map_idx N` / `map_idx_value N+off`.
// - `disasmLlvm`: llvm-objdump's pseudo-C style (`r0 = 0x1`, `if r1 > r2 goto +0x3 <...>`,
//   `*(u32 *)(r10 - 0x8) = r1`), checked against llvm-objdump-19 -d --mcpu=v4 golden vectors.

import { ALU_OP, ATOMIC_OP, BPF_SIZE, CALL_SRC, JMP_OP, OP, OPCODE_INFO, type BpfInsnFields } from './isa.js';

const ALU_NAMES: Record<number, string> = {
  [ALU_OP.ADD]: 'add', [ALU_OP.SUB]: 'sub', [ALU_OP.MUL]: 'mul', [ALU_OP.DIV]: 'div', [ALU_OP.OR]: 'or',
  [ALU_OP.AND]: 'and', [ALU_OP.LSH]: 'lsh', [ALU_OP.RSH]: 'rsh', [ALU_OP.NEG]: 'neg', [ALU_OP.MOD]: 'mod',
  [ALU_OP.XOR]: 'xor', [ALU_OP.MOV]: 'mov', [ALU_OP.ARSH]: 'arsh',
};
export const JMP_NAMES: Record<number, string> = {
  [JMP_OP.JEQ]: 'jeq', [JMP_OP.JGT]: 'jgt', [JMP_OP.JGE]: 'jge', [JMP_OP.JSET]: 'jset', [JMP_OP.JNE]: 'jne',
  [JMP_OP.JSGT]: 'jsgt', [JMP_OP.JSGE]: 'jsge', [JMP_OP.JLT]: 'jlt', [JMP_OP.JLE]: 'jle', [JMP_OP.JSLT]: 'jslt',
  [JMP_OP.JSLE]: 'jsle',
};
const SIZE_SUFFIX: Record<number, string> = { [BPF_SIZE.W]: 'w', [BPF_SIZE.H]: 'h', [BPF_SIZE.B]: 'b', [BPF_SIZE.DW]: 'dw' };
const ATOMIC_NAMES: Record<number, string> = { [ATOMIC_OP.ADD]: 'add', [ATOMIC_OP.OR]: 'or', [ATOMIC_OP.AND]: 'and', [ATOMIC_OP.XOR]: 'xor' };
export const LDDW_KIND_NAMES = ['', 'map_fd', 'map_value', 'btf_id', 'func', 'map_idx', 'map_idx_value'];

function reg(n: number): string {
  return `%r${n}`;
}
function rel(n: number): string {
  return n < 0 ? `${n}` : `+${n}`;
}
function memRef(r: number, off: number): string {
  return off === 0 ? `[%r${r}]` : off < 0 ? `[%r${r}${off}]` : `[%r${r}+${off}]`;
}

/** One instruction in the bpf_conformance assembler dialect. */
export function disasm(i: BpfInsnFields): string {
  const info = OPCODE_INFO[i.opcode];
  if (!info) return `.invalid 0x${i.opcode.toString(16).padStart(2, '0')}`;
  const w = info.is32 ? '32' : '';
  switch (info.kind) {
    case 'alu': {
      let name = ALU_NAMES[info.op] as string;
      if ((info.op === ALU_OP.DIV || info.op === ALU_OP.MOD) && i.off === 1) name = 's' + name;
      if (info.op === ALU_OP.MOV && info.srcX && i.off !== 0) return `movsx${i.off}${info.is32 ? '32' : '64'} ${reg(i.dst)}, ${reg(i.src)}`;
      return `${name}${w} ${reg(i.dst)}, ${info.srcX ? reg(i.src) : String(i.imm | 0)}`;
    }
    case 'neg':
      return `neg${w} ${reg(i.dst)}`;
    case 'end':
      return `${i.opcode === OP.BSWAP ? 'bswap' : i.opcode === OP.TO_BE ? 'be' : 'le'}${i.imm} ${reg(i.dst)}`;
    case 'ja':
      return `ja ${rel(i.off)}`;
    case 'ja32':
      return `ja32 ${rel(i.imm)}`;
    case 'jcond':
      return `${JMP_NAMES[info.op]}${w} ${reg(i.dst)}, ${info.srcX ? reg(i.src) : String(i.imm | 0)}, ${rel(i.off)}`;
    case 'call':
      if (i.src === CALL_SRC.LOCAL) return `call local ${rel(i.imm)}`;
      if (i.src === CALL_SRC.KFUNC) return `call runtime ${i.imm | 0}`;
      return `call ${i.imm | 0}`;
    case 'callx':
      return `call ${reg(i.dst)}`;
    case 'exit':
      return 'exit';
    case 'ldx':
      return `ldx${SIZE_SUFFIX[info.op]} ${reg(i.dst)}, ${memRef(i.src, i.off)}`;
    case 'ldsx':
      return `ldxs${SIZE_SUFFIX[info.op]} ${reg(i.dst)}, ${memRef(i.src, i.off)}`;
    case 'st':
      return `st${SIZE_SUFFIX[info.op]} ${memRef(i.dst, i.off)}, ${i.imm | 0}`;
    case 'stx':
      return `stx${SIZE_SUFFIX[info.op]} ${memRef(i.dst, i.off)}, ${reg(i.src)}`;
    case 'atomic': {
      const m = memRef(i.dst, i.off);
      if (i.imm === ATOMIC_OP.XCHG) return `lock xchg${w} ${m}, ${reg(i.src)}`;
      if (i.imm === ATOMIC_OP.CMPXCHG) return `lock cmpxchg${w} ${m}, ${reg(i.src)}`;
      const fetch = i.imm & ATOMIC_OP.FETCH ? 'fetch ' : '';
      return `lock ${fetch}${ATOMIC_NAMES[i.imm & ~ATOMIC_OP.FETCH]}${w} ${m}, ${reg(i.src)}`;
    }
    case 'lddw': {
      const imm2 = i.imm2 ?? 0;
      if (i.src === 0) {
        return `lddw ${reg(i.dst)}, 0x${(imm2 >>> 0).toString(16)}${(i.imm >>> 0).toString(16).padStart(8, '0')}`.replace(/0x0+(?=[0-9a-f])/, '0x');
      }
      const kind = LDDW_KIND_NAMES[i.src] as string;
      const withOff = i.src === 2 || i.src === 6 || imm2 !== 0;
      return `lddw ${reg(i.dst)}, ${kind} ${i.imm | 0}${withOff ? (imm2 < 0 ? `${imm2}` : `+${imm2}`) : ''}`;
    }
    case 'ldabs':
      return `ldabs${SIZE_SUFFIX[info.op]} ${i.imm | 0}`;
    case 'ldind':
      return `ldind${SIZE_SUFFIX[info.op]} ${reg(i.src)}, ${i.imm | 0}`;
  }
}

/** A whole program, one instruction per line. */
export function disasmProgram(insns: readonly BpfInsnFields[]): string {
  return insns.map((i) => disasm(i)).join('\n');
}

// ---- LLVM style ---------------------------------------------------------------------------------

const LLVM_ALU: Record<number, string> = {
  [ALU_OP.ADD]: '+=', [ALU_OP.SUB]: '-=', [ALU_OP.MUL]: '*=', [ALU_OP.DIV]: '/=', [ALU_OP.OR]: '|=',
  [ALU_OP.AND]: '&=', [ALU_OP.LSH]: '<<=', [ALU_OP.RSH]: '>>=', [ALU_OP.MOD]: '%=', [ALU_OP.XOR]: '^=',
  [ALU_OP.MOV]: '=', [ALU_OP.ARSH]: 's>>=',
};
const LLVM_JMP: Record<number, string> = {
  [JMP_OP.JEQ]: '==', [JMP_OP.JGT]: '>', [JMP_OP.JGE]: '>=', [JMP_OP.JSET]: '&', [JMP_OP.JNE]: '!=',
  [JMP_OP.JSGT]: 's>', [JMP_OP.JSGE]: 's>=', [JMP_OP.JLT]: '<', [JMP_OP.JLE]: '<=', [JMP_OP.JSLT]: 's<',
  [JMP_OP.JSLE]: 's<=',
};
const LLVM_SIZE: Record<number, string> = { [BPF_SIZE.W]: 'u32', [BPF_SIZE.H]: 'u16', [BPF_SIZE.B]: 'u8', [BPF_SIZE.DW]: 'u64' };
const LLVM_SSIZE: Record<number, string> = { [BPF_SIZE.W]: 's32', [BPF_SIZE.H]: 's16', [BPF_SIZE.B]: 's8' };

/** llvm-objdump prints immediates in hex with a sign: 0x10, -0x10. */
function lhex(x: number): string {
  return x < 0 ? `-0x${(-x).toString(16)}` : `0x${x.toString(16)}`;
}
function laddr(r: number, off: number): string {
  return off < 0 ? `(r${r} - 0x${(-off).toString(16)})` : `(r${r} + 0x${off.toString(16)})`;
}
function lrel(n: number): string {
  return n < 0 ? `-0x${(-n).toString(16)}` : `+0x${n.toString(16)}`;
}

/** One instruction as llvm-objdump -d prints it (pseudo-C, no addresses of targets). */
export function disasmLlvm(i: BpfInsnFields): string {
  const info = OPCODE_INFO[i.opcode];
  if (!info) return '<unknown>';
  const r = info.is32 ? 'w' : 'r';
  switch (info.kind) {
    case 'alu': {
      const d = `${r}${i.dst}`;
      if (info.op === ALU_OP.MOV && info.srcX && i.off !== 0) return `${d} = (s${i.off})${r}${i.src}`;
      let op = LLVM_ALU[info.op] as string;
      if ((info.op === ALU_OP.DIV || info.op === ALU_OP.MOD) && i.off === 1) op = 's' + op;
      return `${d} ${op} ${info.srcX ? `${r}${i.src}` : lhex(i.imm | 0)}`;
    }
    case 'neg':
      return `${r}${i.dst} = -${r}${i.dst}`;
    case 'end':
      if (i.opcode === OP.BSWAP) return `r${i.dst} = bswap${i.imm} r${i.dst}`;
      return `r${i.dst} = ${i.opcode === OP.TO_BE ? 'be' : 'le'}${i.imm} r${i.dst}`;
    case 'ja':
      return `goto ${lrel(i.off)}`;
    case 'ja32':
      return `gotol ${lrel(i.imm)}`;
    case 'jcond':
      return `if ${r}${i.dst} ${LLVM_JMP[info.op]} ${info.srcX ? `${r}${i.src}` : lhex(i.imm | 0)} goto ${lrel(i.off)}`;
    case 'call':
      return `call ${lhex(i.imm | 0)}`;
    case 'callx':
      return `callx r${i.dst}`;
    case 'exit':
      return 'exit';
    case 'ldx':
      return `${info.op === BPF_SIZE.DW ? 'r' : 'w'}${i.dst} = *(${LLVM_SIZE[info.op]} *)${laddr(i.src, i.off)}`;
    case 'ldsx':
      return `r${i.dst} = *(${LLVM_SSIZE[info.op]} *)${laddr(i.src, i.off)}`;
    case 'st':
      return `*(${LLVM_SIZE[info.op]} *)${laddr(i.dst, i.off)} = ${lhex(i.imm | 0)}`;
    case 'stx':
      return `*(${LLVM_SIZE[info.op]} *)${laddr(i.dst, i.off)} = ${info.op === BPF_SIZE.DW ? 'r' : 'w'}${i.src}`;
    case 'atomic': {
      const ty = info.is32 ? 'u32' : 'u64';
      const m = `(${ty} *)${laddr(i.dst, i.off)}`;
      const s = `${r}${i.src}`;
      const bare = laddr(i.dst, i.off).slice(1, -1);
      if (i.imm === ATOMIC_OP.XCHG) return `${s} = xchg${info.is32 ? '32_32' : '_64'}(${bare}, ${s})`;
      if (i.imm === ATOMIC_OP.CMPXCHG) return `${info.is32 ? 'w0' : 'r0'} = cmpxchg${info.is32 ? '32_32' : '_64'}(${bare}, ${info.is32 ? 'w0' : 'r0'}, ${s})`;
      const name = ATOMIC_NAMES[i.imm & ~ATOMIC_OP.FETCH] as string;
      if (i.imm & ATOMIC_OP.FETCH) return `${s} = atomic_fetch_${name}(${m}, ${s})`;
      if (i.imm === ATOMIC_OP.ADD) return `lock *${m} += ${s}`;
      return `lock *${m} ${name === 'or' ? '|' : name === 'and' ? '&' : '^'}= ${s}`;
    }
    case 'lddw': {
      const v = BigInt.asIntN(64, (BigInt((i.imm2 ?? 0) >>> 0) << 32n) | BigInt(i.imm >>> 0));
      return `r${i.dst} = ${v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`} ll`;
    }
    case 'ldabs':
      return `r0 = *(${LLVM_SIZE[info.op]} *)skb[${lhex(i.imm | 0)}]`;
    case 'ldind': // llvm-objdump 19 prints only the register of LD IND
      return `r0 = *(${LLVM_SIZE[info.op]} *)skb[r${i.src}]`;
  }
}
