// Seeded generators of BPF instructions and programs for fuzzing, oracle checks and benchmarks.
//
// Invariants: `randomInsn` yields only instructions `checkInsnFields` accepts (every opcode of
// OPCODE_INFO is reachable); `randomProgram` yields a stream `decodeProgram` + `checkTargets` accept:
// every jump / local-call target is an instruction start inside the program, and the last
// instruction is `exit`. Memory operands lean on r10 (stack) and r1 (input) with small offsets so
// runs exercise real loads and stores and, sometimes, faults.

import type { Rng } from '../../support/rng.js';
import { ATOMIC_IMMS, CALL_SRC, OP, OPCODE_INFO, type BpfInsn, type BpfInsnFields, type OpcodeInfo } from './isa.js';

const VALID_OPCODES: number[] = [];
OPCODE_INFO.forEach((info, b) => {
  if (info) VALID_OPCODES.push(b);
});

function s32(rng: Rng): number {
  const k = rng.below(4);
  if (k === 0) return rng.int(-8, 64);
  if (k === 1) return rng.pick([0, 1, -1, 0x7fffffff, -0x80000000, 31, 32, 63, 64, 16]);
  return rng.u32() | 0;
}

function memOff(rng: Rng, base: number): number {
  if (base === 10) return -8 * rng.int(1, 64) + rng.pick([0, 0, 0, 4, 6, 7]);
  if (rng.bool(0.9)) return rng.int(0, 24);
  return (rng.u32() << 16) >> 16;
}

/** One valid instruction (jump distances random within ±span). */
export function randomInsn(rng: Rng, span = 16, opcode?: number): BpfInsnFields {
  const op = opcode ?? rng.pick(VALID_OPCODES);
  const info = OPCODE_INFO[op] as OpcodeInfo;
  const dst = rng.below(10);
  const reg = (): number => rng.below(11);
  const z = { opcode: op, dst: 0, src: 0, off: 0, imm: 0 };
  const rel = (): number => rng.int(-span, span);
  switch (info.kind) {
    case 'alu': {
      let off = 0;
      if (info.op === 0x3 || info.op === 0x9) off = rng.below(2);
      else if (info.op === 0xb && info.srcX) off = rng.pick(info.is32 ? [0, 8, 16] : [0, 8, 16, 32]);
      return info.srcX ? { ...z, dst, src: reg(), off } : { ...z, dst, imm: s32(rng), off };
    }
    case 'neg':
      return { ...z, dst };
    case 'end':
      return { ...z, dst, imm: rng.pick([16, 32, 64]) };
    case 'ja':
      return { ...z, off: rel() };
    case 'ja32':
      return { ...z, imm: rel() };
    case 'jcond':
      return info.srcX ? { ...z, dst: reg(), src: reg(), off: rel() } : { ...z, dst: reg(), imm: s32(rng), off: rel() };
    case 'call': {
      const src = rng.pick([CALL_SRC.HELPER, CALL_SRC.HELPER, CALL_SRC.LOCAL, CALL_SRC.KFUNC]);
      return { ...z, src, imm: src === CALL_SRC.HELPER ? rng.int(0, 6) : src === CALL_SRC.LOCAL ? rel() : s32(rng) };
    }
    case 'callx':
      return { ...z, dst: reg() };
    case 'exit':
      return { ...z };
    case 'ldx':
    case 'ldsx': {
      const src = rng.pick([10, 10, 1, 1, reg()]);
      return { ...z, dst, src, off: memOff(rng, src) };
    }
    case 'st': {
      const d = rng.pick([10, 10, 1, reg()]);
      return { ...z, dst: d, off: memOff(rng, d), imm: s32(rng) };
    }
    case 'stx': {
      const d = rng.pick([10, 10, 1, reg()]);
      return { ...z, dst: d, src: reg(), off: memOff(rng, d) };
    }
    case 'atomic': {
      const d = rng.pick([10, 10, 1, reg()]);
      return { ...z, dst: d, src: reg(), off: memOff(rng, d) & ~3, imm: rng.pick(ATOMIC_IMMS) };
    }
    case 'lddw':
      return { ...z, dst, src: rng.bool(0.9) ? 0 : rng.int(1, 6), imm: s32(rng), imm2: s32(rng) };
    case 'ldabs':
      return { ...z, imm: rng.int(0, 64) };
    case 'ldind':
      return { ...z, src: reg(), imm: rng.int(0, 64) };
  }
}

export interface ProgramShape {
  /** Weight of lddw with a map source, kfunc calls, LD ABS/IND (load-time rejections). */
  exotic: number;
}

/** A well-formed program of `n` instructions (plus a final exit) with in-range jump targets. */
export function randomProgram(rng: Rng, n: number, shape: ProgramShape = { exotic: 0.02 }): BpfInsn[] {
  const fields: BpfInsnFields[] = [];
  for (let k = 0; k < n; k++) {
    let i = randomInsn(rng);
    for (let tries = 0; tries < 8; tries++) {
      const exotic = (i.opcode === OP.LDDW && i.src !== 0) || (i.opcode === OP.CALL && i.src === CALL_SRC.KFUNC) || (i.opcode & 0xe7) === 0x20 || (i.opcode & 0xe7) === 0x40;
      if (!exotic || rng.bool(shape.exotic)) break;
      i = randomInsn(rng);
    }
    fields.push(i);
  }
  fields.push({ opcode: OP.EXIT, dst: 0, src: 0, off: 0, imm: 0 });
  const out: BpfInsn[] = [];
  let slot = 0;
  for (const f of fields) {
    out.push({ ...f, slot });
    slot += f.opcode === OP.LDDW ? 2 : 1;
  }
  for (const i of out) {
    const info = OPCODE_INFO[i.opcode] as OpcodeInfo;
    const isLocal = info.kind === 'call' && i.src === CALL_SRC.LOCAL;
    if (info.kind !== 'ja' && info.kind !== 'jcond' && info.kind !== 'ja32' && !isLocal) continue;
    const t = out[rng.below(out.length)] as BpfInsn;
    const d = t.slot - i.slot - 1;
    if (info.kind === 'ja32' || isLocal) i.imm = d;
    else i.off = d;
  }
  return out;
}
