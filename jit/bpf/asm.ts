// Assembler for the bpf_conformance text dialect (bpf_conformance lib/src/bpf_assembler.cc), the
// syntax of every `-- asm` section in ../shared/conformance/. Every file there assembles to exactly
// the bytes recorded in vectors.json (test/bpf/asm.test.ts).
//
// Dialect: `%r0`..`%r10`; memory `[%rN+off]`, `[%rN-off]`, `[%rN]`; a `32` suffix selects ALU/JMP32;
// `movsx{8,16,32}{32,64}`; `be|le|swap|bswap{16,32,64}`; `ldx{b,h,w,dw}`, `ldxs{b,h,w}`, `st*`, `stx*`;
// `lddw %rN, imm64` (hex read as unsigned, decimal may be negative); `lock [fetch] op[32] [m], %rS`,
// `lock xchg[32]`, `lock cmpxchg[32]`; `ja`, `ja32` and `jXX[32] dst, src|imm, target` with target
// `+N`, `-N` or a label; `call N`, `call %rN` (callx), `call local target`, `call runtime N`.
// Labels are `name:`; the first `exit` implicitly defines label `exit`; duplicates are an error.
// `#` starts a comment. jitbox extensions (so `disasm` round-trips every decodable program): lddw
// with a source kind (`lddw %r1, map_fd 3`, `map_value 3+8`, ...), `ldabs{b,h,w} imm`,
// `ldind{b,h,w} %rS, imm`, `call helper N`.
// Invariant: range checks never truncate silently (imm32, off16, imm64); every error names the line.

import { ParseError } from '../../support/errors.js';
import { ALU_OP, ATOMIC_OP, BPF_CLASS, BPF_MODE, BPF_SIZE, JMP_OP, OP, encodeProgram, type BpfInsn, type BpfInsnFields } from './isa.js';
import { LDDW_KIND_NAMES } from './disasm.js';

export class BpfAsmError extends ParseError {
  constructor(line: number, text: string, reason: string) {
    super(`BPF assembler: line ${line}: ${reason}: "${text.trim()}"`, { line, text: text.trim(), reason });
  }
}

const ALU_MNEMONICS: Record<string, number> = {
  add: ALU_OP.ADD, sub: ALU_OP.SUB, mul: ALU_OP.MUL, div: ALU_OP.DIV, sdiv: ALU_OP.DIV, or: ALU_OP.OR,
  and: ALU_OP.AND, lsh: ALU_OP.LSH, rsh: ALU_OP.RSH, mod: ALU_OP.MOD, smod: ALU_OP.MOD, xor: ALU_OP.XOR,
  mov: ALU_OP.MOV, arsh: ALU_OP.ARSH,
};
const JMP_MNEMONICS: Record<string, number> = {
  jeq: JMP_OP.JEQ, jgt: JMP_OP.JGT, jge: JMP_OP.JGE, jset: JMP_OP.JSET, jne: JMP_OP.JNE, jsgt: JMP_OP.JSGT,
  jsge: JMP_OP.JSGE, jlt: JMP_OP.JLT, jle: JMP_OP.JLE, jslt: JMP_OP.JSLT, jsle: JMP_OP.JSLE,
};
const SIZES: Record<string, number> = { b: BPF_SIZE.B, h: BPF_SIZE.H, w: BPF_SIZE.W, dw: BPF_SIZE.DW };
const ATOMIC_MNEMONICS: Record<string, number> = { add: ATOMIC_OP.ADD, or: ATOMIC_OP.OR, and: ATOMIC_OP.AND, xor: ATOMIC_OP.XOR };
const MOVSX: Record<string, [number, number]> = {
  movsx832: [BPF_CLASS.ALU, 8], movsx1632: [BPF_CLASS.ALU, 16], movsx864: [BPF_CLASS.ALU64, 8],
  movsx1664: [BPF_CLASS.ALU64, 16], movsx3264: [BPF_CLASS.ALU64, 32],
};

class Line {
  constructor(readonly no: number, readonly text: string) {}
  fail(reason: string): never {
    throw new BpfAsmError(this.no, this.text, reason);
  }
}

function parseBigInt(t: string): bigint | null {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|[0-9]+)$/.exec(t);
  if (!m) return null;
  const v = BigInt(m[2] as string);
  return m[1] === '-' ? -v : v;
}

/** imm32: hex up to 0xffffffff (a bit pattern, may be negated), decimal as s32. */
function imm32(l: Line, t: string): number {
  const v = parseBigInt(t);
  if (v === null) l.fail(`bad immediate "${t}"`);
  const hex = /0x/i.test(t);
  if (v < -0x80000000n || v > (hex ? 0xffffffffn : 0x7fffffffn)) l.fail(`immediate ${t} does not fit in 32 bits`);
  return Number(BigInt.asIntN(32, v));
}

function off16(l: Line, t: string): number {
  const v = parseBigInt(t);
  if (v === null) l.fail(`bad offset "${t}"`);
  if (v < -0x8000n || v > 0xffffn || (v > 0x7fffn && !/0x/i.test(t))) l.fail(`offset ${t} does not fit in 16 bits`);
  return Number(BigInt.asIntN(16, v));
}

function reg(l: Line, t: string | undefined): number {
  const m = t === undefined ? null : /^%r([0-9]|10)$/.exec(t);
  if (!m) l.fail(`bad register "${t ?? ''}"`);
  return Number(m[1]);
}

function mem(l: Line, t: string | undefined): [number, number] {
  const m = t === undefined ? null : /^\[(%r[0-9]+)(?:([+-])([0-9a-fA-FxX]+))?\]$/.exec(t);
  if (!m) l.fail(`bad memory operand "${t ?? ''}"`);
  const r = reg(l, m[1]);
  if (m[3] === undefined) return [r, 0];
  return [r, off16(l, (m[2] as string) + m[3])];
}

interface Pending {
  index: number;
  label: string;
  line: Line;
  field: 'off' | 'imm';
}

/** Assemble to instructions (slot indices filled in). Throws BpfAsmError naming the line. */
export function assembleInsns(source: string): BpfInsn[] {
  const out: BpfInsn[] = [];
  const labels = new Map<string, number>();
  const pending: Pending[] = [];
  let slot = 0;
  let sawExit = false;
  const lines = source.replace(/\r/g, '').split('\n');
  lines.forEach((raw, idx) => {
    const l: Line = new Line(idx + 1, raw);
    const hash = raw.indexOf('#');
    let toks = (hash >= 0 ? raw.slice(0, hash) : raw).split(/[\s,]+/).filter((t) => t !== '');
    while (toks.length > 0 && (toks[0] as string).endsWith(':')) {
      const name = (toks[0] as string).slice(0, -1);
      if (name === '' || labels.has(name)) l.fail(name === '' ? 'empty label' : `duplicate label "${name}"`);
      labels.set(name, slot);
      toks = toks.slice(1);
    }
    if (toks.length === 0) return;
    const [mn, ...ops] = toks as [string, ...string[]];
    if (mn === 'exit' && !sawExit) {
      sawExit = true;
      labels.set('exit', slot);
    }
    const target = (t: string | undefined, field: 'off' | 'imm'): number => {
      if (t === undefined) l.fail('missing jump target');
      if (/^[+-]/.test(t)) return field === 'off' ? off16(l, t) : imm32(l, t);
      if (!/^[A-Za-z_.$][\w.$]*$/.test(t)) l.fail(`bad jump target "${t}"`);
      pending.push({ index: out.length, label: t, line: l, field });
      return 0;
    };
    const want = (n: number): void => {
      if (ops.length !== n) l.fail(`"${mn}" takes ${n} operand(s), got ${ops.length}`);
    };
    const insn = encodeLine(l, mn, ops, want, target);
    out.push({ ...insn, slot });
    slot += insn.opcode === OP.LDDW ? 2 : 1;
  });
  for (const p of pending) {
    const t = labels.get(p.label);
    if (t === undefined) p.line.fail(`undefined label "${p.label}"`);
    const i = out[p.index] as BpfInsn;
    const d = t - i.slot - 1;
    if (p.field === 'off') {
      if (d < -0x8000 || d > 0x7fff) p.line.fail(`jump to "${p.label}" is out of 16-bit range`);
      i.off = d;
    } else i.imm = d;
  }
  return out;
}

/** Assemble to program bytes. */
export function assemble(source: string): Uint8Array {
  return encodeProgram(assembleInsns(source));
}

function encodeLine(
  l: Line,
  mn: string,
  ops: string[],
  want: (n: number) => void,
  target: (t: string | undefined, field: 'off' | 'imm') => number,
): BpfInsnFields {
  const z = { dst: 0, src: 0, off: 0, imm: 0 };
  if (mn === 'exit') {
    want(0);
    return { ...z, opcode: OP.EXIT };
  }
  if (mn === 'ja') {
    want(1);
    return { ...z, opcode: OP.JA, off: target(ops[0], 'off') };
  }
  if (mn === 'ja32' || mn === 'gotol') {
    want(1);
    return { ...z, opcode: OP.JA32, imm: target(ops[0], 'imm') };
  }
  if (mn === 'call') {
    if (ops.length === 1) {
      const t = ops[0] as string;
      if (t.startsWith('%')) return { ...z, opcode: OP.CALLX, dst: reg(l, t) };
      return { ...z, opcode: OP.CALL, imm: imm32(l, t) };
    }
    want(2);
    const [mode, t] = ops as [string, string];
    if (mode === 'helper') return { ...z, opcode: OP.CALL, imm: imm32(l, t) };
    if (mode === 'local') return { ...z, opcode: OP.CALL, src: 1, imm: target(t, 'imm') };
    if (mode === 'runtime') return { ...z, opcode: OP.CALL, src: 2, imm: imm32(l, t) };
    l.fail(`bad call mode "${mode}" (helper, local or runtime)`);
  }
  if (mn === 'lddw') {
    if (ops.length === 3) {
      const kind = LDDW_KIND_NAMES.indexOf(ops[1] as string);
      if (kind <= 0) l.fail(`bad lddw source kind "${ops[1] as string}"`);
      const m = /^([+-]?(?:0[xX][0-9a-fA-F]+|[0-9]+))(?:([+-](?:0[xX][0-9a-fA-F]+|[0-9]+)))?$/.exec(ops[2] as string);
      if (!m) l.fail(`bad lddw operand "${ops[2] as string}"`);
      return { ...z, opcode: OP.LDDW, dst: reg(l, ops[0]), src: kind, imm: imm32(l, m[1] as string), imm2: m[2] ? imm32(l, m[2]) : 0 };
    }
    want(2);
    const v = parseBigInt(ops[1] as string);
    if (v === null) l.fail(`bad 64-bit immediate "${ops[1] as string}"`);
    if (v < -0x8000000000000000n || v > 0xffffffffffffffffn) l.fail(`immediate ${ops[1] as string} does not fit in 64 bits`);
    const u = BigInt.asUintN(64, v);
    return { ...z, opcode: OP.LDDW, dst: reg(l, ops[0]), imm: Number(BigInt.asIntN(32, u)), imm2: Number(BigInt.asIntN(32, u >> 32n)) };
  }
  if (mn === 'lock') return encodeAtomic(l, ops);
  const mv = MOVSX[mn];
  if (mv) {
    want(2);
    return { ...z, opcode: (ALU_OP.MOV << 4) | 0x08 | mv[0], dst: reg(l, ops[0]), src: reg(l, ops[1]), off: mv[1] };
  }
  const end = /^(be|le|swap|bswap)(16|32|64)$/.exec(mn);
  if (end) {
    want(1);
    const opcode = end[1] === 'be' ? OP.TO_BE : end[1] === 'le' ? OP.TO_LE : OP.BSWAP;
    return { ...z, opcode, dst: reg(l, ops[0]), imm: Number(end[2]) };
  }
  const ldst = /^(ldx|ldxs|st|stx)(b|h|w|dw)$/.exec(mn);
  if (ldst && !(ldst[1] === 'ldxs' && ldst[2] === 'dw')) {
    want(2);
    const size = SIZES[ldst[2] as string] as number;
    if (ldst[1] === 'ldx' || ldst[1] === 'ldxs') {
      const [src, off] = mem(l, ops[1]);
      const mode = ldst[1] === 'ldx' ? BPF_MODE.MEM : BPF_MODE.MEMSX;
      return { ...z, opcode: mode | size | BPF_CLASS.LDX, dst: reg(l, ops[0]), src, off };
    }
    const [dst, off] = mem(l, ops[0]);
    if (ldst[1] === 'st') return { ...z, opcode: BPF_MODE.MEM | size | BPF_CLASS.ST, dst, off, imm: imm32(l, ops[1] as string) };
    return { ...z, opcode: BPF_MODE.MEM | size | BPF_CLASS.STX, dst, off, src: reg(l, ops[1]) };
  }
  const legacy = /^(ldabs|ldind)(b|h|w)$/.exec(mn);
  if (legacy) {
    const size = SIZES[legacy[2] as string] as number;
    if (legacy[1] === 'ldabs') {
      want(1);
      return { ...z, opcode: BPF_MODE.ABS | size | BPF_CLASS.LD, imm: imm32(l, ops[0] as string) };
    }
    want(2);
    return { ...z, opcode: BPF_MODE.IND | size | BPF_CLASS.LD, src: reg(l, ops[0]), imm: imm32(l, ops[1] as string) };
  }
  const is32 = mn.endsWith('32');
  const base = is32 ? mn.slice(0, -2) : mn;
  if (base === 'neg') {
    want(1);
    return { ...z, opcode: (ALU_OP.NEG << 4) | (is32 ? BPF_CLASS.ALU : BPF_CLASS.ALU64), dst: reg(l, ops[0]) };
  }
  const alu = ALU_MNEMONICS[base];
  if (alu !== undefined) {
    want(2);
    const cls = is32 ? BPF_CLASS.ALU : BPF_CLASS.ALU64;
    const signed = base === 'sdiv' || base === 'smod' ? 1 : 0;
    const s = ops[1] as string;
    if (s.startsWith('%')) return { ...z, opcode: (alu << 4) | 0x08 | cls, dst: reg(l, ops[0]), src: reg(l, s), off: signed };
    return { ...z, opcode: (alu << 4) | cls, dst: reg(l, ops[0]), imm: imm32(l, s), off: signed };
  }
  const jmp = JMP_MNEMONICS[base];
  if (jmp !== undefined) {
    want(3);
    const cls = is32 ? BPF_CLASS.JMP32 : BPF_CLASS.JMP;
    const s = ops[1] as string;
    const dst = reg(l, ops[0]);
    const off = target(ops[2], 'off');
    if (s.startsWith('%')) return { ...z, opcode: (jmp << 4) | 0x08 | cls, dst, src: reg(l, s), off };
    return { ...z, opcode: (jmp << 4) | cls, dst, imm: imm32(l, s), off };
  }
  l.fail(`unknown mnemonic "${mn}"`);
}

function encodeAtomic(l: Line, opsIn: string[]): BpfInsnFields {
  let ops = opsIn;
  let fetch = false;
  if (ops[0] === 'fetch') {
    fetch = true;
    ops = ops.slice(1);
  }
  if (ops.length !== 3) l.fail('lock takes [fetch] op [%rD+off], %rS');
  const op = ops[0] as string;
  const is32 = op.endsWith('32');
  const base = is32 ? op.slice(0, -2) : op;
  let imm: number;
  if (base === 'xchg') imm = ATOMIC_OP.XCHG;
  else if (base === 'cmpxchg') imm = ATOMIC_OP.CMPXCHG;
  else {
    const a = ATOMIC_MNEMONICS[base];
    if (a === undefined) l.fail(`unknown atomic operation "${op}"`);
    imm = a | (fetch ? ATOMIC_OP.FETCH : 0);
  }
  const [dst, off] = mem(l, ops[1]);
  return { opcode: is32 ? OP.ATOMIC_W : OP.ATOMIC_DW, dst, src: reg(l, ops[2]), off, imm };
}
