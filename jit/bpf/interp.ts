// Reference BPF interpreter with exact RFC 9669 semantics and runtime memory checks.
//
// Invariants:
// - Load time (`new BpfInterpreter`) rejects what no run could execute: jumps outside the program or
//   into an lddw's second slot, writes to r10, unknown helper ids, lddw map references the program's
//   map table cannot resolve; kfunc calls (call src 2), legacy LD ABS/IND, lddw src 3/4 and
//   bpf_tail_call are a clear UnsupportedError (ubpf rejects the same set; tail calls come with the JITs).
// - Every load/store is checked against the run's regions (runtime.ts); a violation is a
//   BpfMemoryFault naming pc, instruction text and address. Running past the last slot is a
//   BpfRuntimeError; more than `budget` instructions is BpfBudgetExceeded.
// - Edge semantics (reference/bpf.md §2): DIV by 0 -> 0, MOD by 0 -> dst unchanged (ALU: low 32 bits),
//   signed INT_MIN / -1 -> INT_MIN and % -> 0, shift counts masked to 5/6 bits, every ALU32 result
//   zero-extended, ALU64 K immediates sign-extended, JMP K immediates sign-extended, JMP32 compares
//   the low halves.
// - Registers are an Int32Array of (lo, hi) pairs: R[2n] = low 32 bits of rn, R[2n+1] = high. The
//   program is pre-decoded into typed arrays indexed by slot and run by one switch loop (no BigInt,
//   no allocation per instruction).
// - Local calls (call src 1) push a frame saving r6..r9 and the return slot; r10 moves down 512 bytes;
//   at most BPF_MAX_CALL_DEPTH frames including the main one (ubpf's limit).

import { u64, vaddrToPair } from '../../support/u64.js';
import { arsh64, bswap16, bswap32, lsh64, mul64, rsh64, sdiv64, slt64, smod64, udiv64, ult64, umod64 } from './alu64.js';
import { disasm } from './disasm.js';
import { conformanceProfile } from './helpers-conformance.js';
import {
  BPF_MAX_CALL_DEPTH, BPF_STACK_SIZE, BpfUnsupportedError, CALL_SRC, LDDW_SRC, OPCODE_INFO,
  checkTargets, decodeProgram, type BpfInsn,
} from './isa.js';
import {
  BpfAddressSpace, BpfBudgetExceeded, BpfLoadError, BpfMemoryFault, BpfRuntimeError, DEFAULT_BUDGET,
  DefaultRegionAllocator, makeHelperContext, type BpfMapLike, type BpfProgram, type HelperContext, type HelperDef,
  type HelperProfile, type MemRegion, type RunOptions, type RunResult,
} from './runtime.js';

/** Decode and structurally check program bytes. */
export function loadProgram(bytes: Uint8Array, name = 'prog', maps?: readonly BpfMapLike[]): BpfProgram {
  const insns = decodeProgram(bytes);
  checkTargets(insns);
  return maps ? { name, insns, maps } : { name, insns };
}

const WRITES_DST = new Set(['alu', 'neg', 'end', 'ldx', 'ldsx', 'lddw']);
const TAIL_CALL_NAMES = new Set(['tail_call', 'bpf_tail_call']);

interface Prepared {
  nslots: number;
  /** opcode | dst << 8 | src << 12, one load per instruction in the loop. */
  code: Int32Array;
  off: Int32Array;
  imm: Int32Array;
  /** lddw: resolved (lo, hi) per run, stored at imm[slot] / hi[slot]. */
  hi: Int32Array;
  insnAt: Int32Array;
  /** helper by slot for call src 0. */
  helperAt: (HelperDef | null)[];
  lddw: BpfInsn[];
}

function mapFor(prog: BpfProgram, i: BpfInsn): BpfMapLike | undefined {
  const maps = prog.maps ?? [];
  if (i.src === LDDW_SRC.MAP_IDX || i.src === LDDW_SRC.MAP_IDX_VALUE) return maps[i.imm];
  return maps.find((m) => m.fd === i.imm);
}

export class BpfInterpreter {
  readonly program: BpfProgram;
  readonly profile: HelperProfile;
  private readonly p: Prepared;

  constructor(program: BpfProgram | Uint8Array, profile: HelperProfile = conformanceProfile) {
    this.program = program instanceof Uint8Array ? loadProgram(program) : program;
    this.profile = profile;
    this.p = this.prepare();
  }

  private prepare(): Prepared {
    const prog = this.program;
    const insns = prog.insns;
    if (insns.length === 0) throw new BpfLoadError(0, '', 'empty program');
    checkTargets(insns);
    const last = insns[insns.length - 1] as BpfInsn;
    const nslots = last.slot + (last.opcode === 0x18 ? 2 : 1);
    const p: Prepared = {
      nslots,
      code: new Int32Array(nslots + 1),
      off: new Int32Array(nslots + 1),
      imm: new Int32Array(nslots + 1),
      hi: new Int32Array(nslots + 1),
      insnAt: new Int32Array(nslots + 1).fill(-1),
      helperAt: new Array<HelperDef | null>(nslots + 1).fill(null),
      lddw: [],
    };
    insns.forEach((i, k) => {
      const info = OPCODE_INFO[i.opcode];
      const text = (): string => disasm(i);
      if (!info) throw new BpfLoadError(i.slot, text(), 'unknown opcode');
      if (WRITES_DST.has(info.kind) && i.dst === 10) throw new BpfLoadError(i.slot, text(), 'r10 (frame pointer) is read-only');
      if (info.kind === 'ldabs' || info.kind === 'ldind') throw new BpfUnsupportedError(i.slot, i.opcode, 'legacy packet access (LD ABS/IND)');
      if (info.kind === 'call' && i.src === CALL_SRC.KFUNC) throw new BpfUnsupportedError(i.slot, i.opcode, `kfunc call by BTF id ${i.imm}`);
      if (info.kind === 'call' && i.src === CALL_SRC.HELPER) {
        const h = this.profile.helpers.get(i.imm);
        if (!h) throw new BpfLoadError(i.slot, text(), `unknown helper ${i.imm} in profile "${this.profile.name}"`);
        if (TAIL_CALL_NAMES.has(h.name)) throw new BpfUnsupportedError(i.slot, i.opcode, 'bpf_tail_call (tail calls come with the JITs)');
        p.helperAt[i.slot] = h;
      }
      if (info.kind === 'lddw') {
        if (i.src === LDDW_SRC.BTF_ID || i.src === LDDW_SRC.FUNC) {
          throw new BpfUnsupportedError(i.slot, i.opcode, i.src === LDDW_SRC.FUNC ? 'lddw of a function address (PSEUDO_FUNC)' : 'lddw of a BTF variable (PSEUDO_BTF_ID)');
        }
        if (i.src !== LDDW_SRC.IMM64 && !mapFor(prog, i)) {
          throw new BpfLoadError(i.slot, text(), `no map with ${i.src >= 5 ? 'index' : 'fd'} ${i.imm} in the program's map table`);
        }
        p.lddw.push(i);
      }
      p.code[i.slot] = i.opcode | (i.dst << 8) | (i.src << 12);
      p.off[i.slot] = i.off;
      p.imm[i.slot] = i.imm;
      p.hi[i.slot] = i.imm2 ?? 0;
      p.insnAt[i.slot] = k;
    });
    return p;
  }

  /** Text of the instruction at a slot (for messages). */
  insnText(slot: number): string {
    const k = this.p.insnAt[slot] ?? -1;
    const i = k >= 0 ? this.program.insns[k] : undefined;
    return i ? disasm(i) : '<no instruction>';
  }

  run(opts: RunOptions = {}): RunResult {
    const alloc = opts.allocator ?? new DefaultRegionAllocator();
    const space = new BpfAddressSpace();
    const stack = space.add(alloc.allocate(BPF_STACK_SIZE * BPF_MAX_CALL_DEPTH, 'stack', true, 'stack'));
    const memBytes = opts.mem ?? new Uint8Array(0);
    const input = space.add(alloc.allocate(memBytes.length, 'input', true, 'input'));
    input.bytes.set(memBytes);
    const maps = this.program.maps ?? [];
    for (const m of maps) m.attach(space, alloc);
    const p = this.p;
    for (const i of p.lddw) {
      if (i.src === LDDW_SRC.IMM64) continue;
      const m = mapFor(this.program, i) as BpfMapLike;
      const addr = i.src === LDDW_SRC.MAP_FD || i.src === LDDW_SRC.MAP_IDX ? m.objectAddr : m.valueAddr(i.imm2 ?? 0);
      const pair = vaddrToPair(addr);
      p.imm[i.slot] = pair.lo | 0;
      p.hi[i.slot] = pair.hi | 0;
    }
    const R = new Int32Array(22);
    if (memBytes.length > 0) {
      const a = vaddrToPair(input.base);
      R[2] = a.lo;
      R[3] = a.hi;
      R[4] = memBytes.length;
    }
    if (opts.args) {
      opts.args.forEach((v, k) => {
        R[2 + 2 * k] = v.lo;
        R[3 + 2 * k] = v.hi;
      });
    }
    const top = vaddrToPair(stack.base + stack.bytes.length);
    R[20] = top.lo;
    R[21] = top.hi;
    const ctx: HelperContext = makeHelperContext(space, alloc, this.program, maps);
    const trace = ctx.trace;
    const budget = opts.budget ?? DEFAULT_BUDGET;
    const res = execute(this, p, R, space, ctx, budget);
    return { r0: u64(R[0] as number, R[1] as number), insns: res.count, exitedBy: res.unwound ? 'unwind' : 'exit', trace, mem: input.bytes };
  }
}

/** Load (if bytes) and run once. */
export function runBpf(program: BpfProgram | Uint8Array, opts: RunOptions = {}): RunResult {
  return new BpfInterpreter(program, opts.profile).run(opts);
}

interface RegionTable {
  n: number;
  lo: Int32Array;
  hi: Int32Array;
  size: Int32Array;
  writable: Uint8Array;
  dv: DataView[];
  bytes: Uint8Array[];
}

function regionTable(regions: MemRegion[]): RegionTable {
  const n = regions.length;
  const t: RegionTable = { n, lo: new Int32Array(n), hi: new Int32Array(n), size: new Int32Array(n), writable: new Uint8Array(n), dv: [], bytes: [] };
  regions.forEach((r, k) => {
    const a = vaddrToPair(r.base);
    t.lo[k] = a.lo | 0;
    t.hi[k] = a.hi | 0;
    t.size[k] = r.bytes.length;
    t.writable[k] = r.writable ? 1 : 0;
    t.dv.push(new DataView(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength));
    t.bytes.push(r.bytes);
  });
  return t;
}

function execute(
  vm: BpfInterpreter,
  p: Prepared,
  R: Int32Array,
  space: BpfAddressSpace,
  ctx: HelperContext,
  budget: number,
): { count: number; unwound: boolean } {
  const { code: CODE, off: OFF, imm: IMM, hi: HI, helperAt } = p;
  let T = regionTable(space.regions());
  let dv: DataView = new DataView(new ArrayBuffer(8));
  // The region of the last access (cSize = -1: none). Plain locals, no closures, so V8 keeps them
  // in registers.
  let cLo = 0;
  let cHi = 0;
  let cSize = -1;
  let cW = 0;
  const frames = new Int32Array(BPF_MAX_CALL_DEPTH * 9);
  let depth = 0;
  const args = new Int32Array(10);
  let count = 0;
  let pc = 0;

  for (;;) {
    if (++count > budget) throw new BpfBudgetExceeded(budget, pc);
    const w = CODE[pc] as number;
    const op = w & 0xff;
    const d = (w >> 7) & 0x1e;
    const s = (w >> 11) & 0x1e;
    const imm = IMM[pc] as number;
    switch (op) {
      // ---- ALU64 ----
      case 0x07: case 0x0f: {
        const blo = op & 8 ? (R[s] as number) : imm;
        const bhi = op & 8 ? (R[s + 1] as number) : imm >> 31;
        const alo = R[d] as number;
        const lo = (alo + blo) | 0;
        R[d + 1] = ((R[d + 1] as number) + bhi + ((lo >>> 0) < (alo >>> 0) ? 1 : 0)) | 0;
        R[d] = lo;
        break;
      }
      case 0x17: case 0x1f: {
        const blo = op & 8 ? (R[s] as number) : imm;
        const bhi = op & 8 ? (R[s + 1] as number) : imm >> 31;
        const alo = R[d] as number;
        R[d + 1] = ((R[d + 1] as number) - bhi - ((alo >>> 0) < (blo >>> 0) ? 1 : 0)) | 0;
        R[d] = (alo - blo) | 0;
        break;
      }
      case 0x27: case 0x2f:
        if (op & 8) mul64(R[d] as number, R[d + 1] as number, R[s] as number, R[s + 1] as number, R, d);
        else mul64(R[d] as number, R[d + 1] as number, imm, imm >> 31, R, d);
        break;
      case 0x37: case 0x3f: case 0x97: case 0x9f: {
        const blo = op & 8 ? (R[s] as number) : imm;
        const bhi = op & 8 ? (R[s + 1] as number) : imm >> 31;
        const isMod = op >= 0x90;
        if (blo === 0 && bhi === 0) {
          if (!isMod) R[d] = R[d + 1] = 0;
        } else if (OFF[pc] === 1) {
          (isMod ? smod64 : sdiv64)(R[d] as number, R[d + 1] as number, blo, bhi, R, d);
        } else (isMod ? umod64 : udiv64)(R[d] as number, R[d + 1] as number, blo, bhi, R, d);
        break;
      }
      case 0x47: case 0x4f:
        R[d] = (R[d] as number) | (op & 8 ? (R[s] as number) : imm);
        R[d + 1] = (R[d + 1] as number) | (op & 8 ? (R[s + 1] as number) : imm >> 31);
        break;
      case 0x57: case 0x5f:
        R[d] = (R[d] as number) & (op & 8 ? (R[s] as number) : imm);
        R[d + 1] = (R[d + 1] as number) & (op & 8 ? (R[s + 1] as number) : imm >> 31);
        break;
      case 0xa7: case 0xaf:
        R[d] = (R[d] as number) ^ (op & 8 ? (R[s] as number) : imm);
        R[d + 1] = (R[d + 1] as number) ^ (op & 8 ? (R[s + 1] as number) : imm >> 31);
        break;
      case 0x67: case 0x6f:
        lsh64(R[d] as number, R[d + 1] as number, (op & 8 ? (R[s] as number) : imm) & 63, R, d);
        break;
      case 0x77: case 0x7f:
        rsh64(R[d] as number, R[d + 1] as number, (op & 8 ? (R[s] as number) : imm) & 63, R, d);
        break;
      case 0xc7: case 0xcf:
        arsh64(R[d] as number, R[d + 1] as number, (op & 8 ? (R[s] as number) : imm) & 63, R, d);
        break;
      case 0x87: {
        const lo = R[d] as number;
        R[d + 1] = (~(R[d + 1] as number) + (lo === 0 ? 1 : 0)) | 0;
        R[d] = -lo | 0;
        break;
      }
      case 0xb7:
        R[d] = imm;
        R[d + 1] = imm >> 31;
        break;
      case 0xbf: {
        const w = OFF[pc] as number;
        const lo = R[s] as number;
        if (w === 0) {
          R[d + 1] = R[s + 1] as number;
          R[d] = lo;
        } else {
          const v = w === 8 ? (lo << 24) >> 24 : w === 16 ? (lo << 16) >> 16 : lo;
          R[d] = v;
          R[d + 1] = v >> 31;
        }
        break;
      }
      case 0xd7: {
        const lo = R[d] as number;
        if (imm === 16) {
          R[d] = bswap16(lo);
          R[d + 1] = 0;
        } else if (imm === 32) {
          R[d] = bswap32(lo);
          R[d + 1] = 0;
        } else {
          R[d] = bswap32(R[d + 1] as number);
          R[d + 1] = bswap32(lo);
        }
        break;
      }
      // ---- ALU (32-bit, zero-extended) ----
      case 0x04: case 0x0c:
        R[d] = ((R[d] as number) + (op & 8 ? (R[s] as number) : imm)) | 0;
        R[d + 1] = 0;
        break;
      case 0x14: case 0x1c:
        R[d] = ((R[d] as number) - (op & 8 ? (R[s] as number) : imm)) | 0;
        R[d + 1] = 0;
        break;
      case 0x24: case 0x2c:
        R[d] = Math.imul(R[d] as number, op & 8 ? (R[s] as number) : imm);
        R[d + 1] = 0;
        break;
      case 0x34: case 0x3c: case 0x94: case 0x9c: {
        const b = op & 8 ? (R[s] as number) : imm;
        const a = R[d] as number;
        const isMod = op >= 0x90;
        if (b === 0) R[d] = isMod ? a : 0;
        else if (OFF[pc] === 1) R[d] = isMod ? a % b | 0 : (a / b) | 0;
        else R[d] = isMod ? (a >>> 0) % (b >>> 0) : Math.floor((a >>> 0) / (b >>> 0));
        R[d + 1] = 0;
        break;
      }
      case 0x44: case 0x4c:
        R[d] = (R[d] as number) | (op & 8 ? (R[s] as number) : imm);
        R[d + 1] = 0;
        break;
      case 0x54: case 0x5c:
        R[d] = (R[d] as number) & (op & 8 ? (R[s] as number) : imm);
        R[d + 1] = 0;
        break;
      case 0xa4: case 0xac:
        R[d] = (R[d] as number) ^ (op & 8 ? (R[s] as number) : imm);
        R[d + 1] = 0;
        break;
      case 0x64: case 0x6c:
        R[d] = (R[d] as number) << ((op & 8 ? (R[s] as number) : imm) & 31);
        R[d + 1] = 0;
        break;
      case 0x74: case 0x7c:
        R[d] = (R[d] as number) >>> ((op & 8 ? (R[s] as number) : imm) & 31);
        R[d + 1] = 0;
        break;
      case 0xc4: case 0xcc:
        R[d] = (R[d] as number) >> ((op & 8 ? (R[s] as number) : imm) & 31);
        R[d + 1] = 0;
        break;
      case 0x84:
        R[d] = -(R[d] as number) | 0;
        R[d + 1] = 0;
        break;
      case 0xb4:
        R[d] = imm;
        R[d + 1] = 0;
        break;
      case 0xbc: {
        const w = OFF[pc] as number;
        const lo = R[s] as number;
        R[d] = w === 8 ? (lo << 24) >> 24 : w === 16 ? (lo << 16) >> 16 : lo;
        R[d + 1] = 0;
        break;
      }
      case 0xd4: // to little-endian: a truncation on this (little-endian) model
        if (imm === 16) R[d] = (R[d] as number) & 0xffff;
        if (imm !== 64) R[d + 1] = 0;
        break;
      case 0xdc: {
        const lo = R[d] as number;
        if (imm === 16) {
          R[d] = bswap16(lo);
          R[d + 1] = 0;
        } else if (imm === 32) {
          R[d] = bswap32(lo);
          R[d + 1] = 0;
        } else {
          R[d] = bswap32(R[d + 1] as number);
          R[d + 1] = bswap32(lo);
        }
        break;
      }
      // ---- JMP / JMP32 ----
      case 0x05:
        pc += OFF[pc] as number;
        break;
      case 0x06:
        pc += imm;
        break;
      case 0x15: case 0x1d: case 0x25: case 0x2d: case 0x35: case 0x3d: case 0x45: case 0x4d: case 0x55: case 0x5d:
      case 0x65: case 0x6d: case 0x75: case 0x7d: case 0xa5: case 0xad: case 0xb5: case 0xbd: case 0xc5: case 0xcd:
      case 0xd5: case 0xdd: {
        const alo = R[d] as number;
        const ahi = R[d + 1] as number;
        const blo = op & 8 ? (R[s] as number) : imm;
        const bhi = op & 8 ? (R[s + 1] as number) : imm >> 31;
        let t: boolean;
        switch (op >> 4) {
          case 0x1: t = alo === blo && ahi === bhi; break;
          case 0x5: t = alo !== blo || ahi !== bhi; break;
          case 0x4: t = (alo & blo) !== 0 || (ahi & bhi) !== 0; break;
          case 0x2: t = ult64(blo, bhi, alo, ahi); break;
          case 0x3: t = !ult64(alo, ahi, blo, bhi); break;
          case 0xa: t = ult64(alo, ahi, blo, bhi); break;
          case 0xb: t = !ult64(blo, bhi, alo, ahi); break;
          case 0x6: t = slt64(blo, bhi, alo, ahi); break;
          case 0x7: t = !slt64(alo, ahi, blo, bhi); break;
          case 0xc: t = slt64(alo, ahi, blo, bhi); break;
          default: t = !slt64(blo, bhi, alo, ahi); break;
        }
        if (t) pc += OFF[pc] as number;
        break;
      }
      case 0x16: case 0x1e: case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x46: case 0x4e: case 0x56: case 0x5e:
      case 0x66: case 0x6e: case 0x76: case 0x7e: case 0xa6: case 0xae: case 0xb6: case 0xbe: case 0xc6: case 0xce:
      case 0xd6: case 0xde: {
        const a = R[d] as number;
        const b = op & 8 ? (R[s] as number) : imm;
        let t: boolean;
        switch (op >> 4) {
          case 0x1: t = a === b; break;
          case 0x5: t = a !== b; break;
          case 0x4: t = (a & b) !== 0; break;
          case 0x2: t = a >>> 0 > b >>> 0; break;
          case 0x3: t = a >>> 0 >= b >>> 0; break;
          case 0xa: t = a >>> 0 < b >>> 0; break;
          case 0xb: t = a >>> 0 <= b >>> 0; break;
          case 0x6: t = a > b; break;
          case 0x7: t = a >= b; break;
          case 0xc: t = a < b; break;
          default: t = a <= b; break;
        }
        if (t) pc += OFF[pc] as number;
        break;
      }
      case 0x85: case 0x8d: {
        if (op === 0x85 && s === 2 * CALL_SRC.LOCAL) {
          if (depth + 1 >= BPF_MAX_CALL_DEPTH) throw new BpfRuntimeError(`call depth limit of ${BPF_MAX_CALL_DEPTH} frames exceeded at pc ${pc} (${vm.insnText(pc)})`, { pc });
          const f = depth * 9;
          frames[f] = pc;
          for (let k = 0; k < 8; k++) frames[f + 1 + k] = R[12 + k] as number;
          depth++;
          const l = ((R[20] as number) >>> 0) - BPF_STACK_SIZE;
          R[20] = l | 0;
          if (l < 0) R[21] = ((R[21] as number) - 1) | 0;
          pc += imm;
          break;
        }
        let h: HelperDef | null | undefined = helperAt[pc];
        if (op === 0x8d) {
          const id = R[d] as number;
          h = R[d + 1] === 0 ? vmHelper(vm, id) : undefined;
          if (!h) throw new BpfRuntimeError(`callx at pc ${pc}: r${d / 2} = ${id >>> 0} is not a helper of profile "${vm.profile.name}"`, { pc });
        }
        const hd = h as HelperDef;
        for (let k = 0; k < 10; k++) args[k] = R[2 + k] as number;
        const r = hd.fn(ctx, args);
        R[0] = r.lo | 0;
        R[1] = r.hi | 0;
        T = regionTable(space.regions());
        cSize = -1;
        if (hd.unwind && r.lo === 0 && r.hi === 0) return { count, unwound: true };
        break;
      }
      case 0x95: {
        if (depth === 0) return { count, unwound: false };
        depth--;
        const f = depth * 9;
        pc = frames[f] as number;
        for (let k = 0; k < 8; k++) R[12 + k] = frames[f + 1 + k] as number;
        const l = ((R[20] as number) >>> 0) + BPF_STACK_SIZE;
        R[20] = l | 0;
        if (l > 0xffffffff) R[21] = ((R[21] as number) + 1) | 0;
        break;
      }
      // ---- Loads ----
      case 0x61: case 0x69: case 0x71: case 0x79: case 0x81: case 0x89: case 0x91: {
        const size = op & 0x18;
        const len = size === 0x00 ? 4 : size === 0x08 ? 2 : size === 0x10 ? 1 : 8;
        const l = ((R[s] as number) >>> 0) + (OFF[pc] as number);
        const lo = l | 0;
        const hi = ((R[s + 1] as number) + (l > 0xffffffff ? 1 : l < 0 ? -1 : 0)) | 0;
        let o = (lo - cLo) >>> 0;
        if (hi !== cHi || o > cSize - len) {
          const k = findRegion(T, lo, hi, len);
          if (k < 0) throw new BpfMemoryFault(pc, vm.insnText(pc), lo, hi, len, 'read', 'outside every region');
          cLo = T.lo[k] as number;
          cHi = T.hi[k] as number;
          cSize = T.size[k] as number;
          cW = T.writable[k] as number;
          dv = T.dv[k] as DataView;
          o = (lo - cLo) >>> 0;
        }
        if (len === 8) {
          R[d] = dv.getInt32(o, true);
          R[d + 1] = dv.getInt32(o + 4, true);
        } else {
          const v = len === 4 ? dv.getInt32(o, true) : len === 2 ? (op >= 0x80 ? dv.getInt16(o, true) : dv.getUint16(o, true)) : op >= 0x80 ? dv.getInt8(o) : dv.getUint8(o);
          R[d] = v;
          R[d + 1] = op >= 0x80 ? v >> 31 : 0;
        }
        break;
      }
      case 0x18:
        R[d] = imm;
        R[d + 1] = HI[pc] as number;
        pc++;
        break;
      // ---- Stores ----
      case 0x62: case 0x6a: case 0x72: case 0x7a: case 0x63: case 0x6b: case 0x73: case 0x7b: case 0xc3: case 0xdb: {
        const size = op & 0x18;
        const len = op === 0xc3 ? 4 : op === 0xdb ? 8 : size === 0x00 ? 4 : size === 0x08 ? 2 : size === 0x10 ? 1 : 8;
        const l = ((R[d] as number) >>> 0) + (OFF[pc] as number);
        const lo = l | 0;
        const hi = ((R[d + 1] as number) + (l > 0xffffffff ? 1 : l < 0 ? -1 : 0)) | 0;
        let o = (lo - cLo) >>> 0;
        if (hi !== cHi || o > cSize - len || cW !== 1) {
          const k = findRegion(T, lo, hi, len);
          if (k < 0) throw new BpfMemoryFault(pc, vm.insnText(pc), lo, hi, len, 'write', 'outside every region');
          if (T.writable[k] !== 1) throw new BpfMemoryFault(pc, vm.insnText(pc), lo, hi, len, 'write', 'region is read-only');
          cLo = T.lo[k] as number;
          cHi = T.hi[k] as number;
          cSize = T.size[k] as number;
          cW = 1;
          dv = T.dv[k] as DataView;
          o = (lo - cLo) >>> 0;
        }
        if (op === 0xc3 || op === 0xdb) {
          atomicOp(R, dv, o, op === 0xdb, s, imm);
          break;
        }
        const vlo = op & 1 ? (R[s] as number) : imm;
        const vhi = op & 1 ? (R[s + 1] as number) : imm >> 31;
        if (len === 8) {
          dv.setInt32(o, vlo, true);
          dv.setInt32(o + 4, vhi, true);
        } else if (len === 4) dv.setInt32(o, vlo, true);
        else if (len === 2) dv.setInt16(o, vlo, true);
        else dv.setInt8(o, vlo);
        break;
      }
      default:
        if (pc >= p.nslots) throw new BpfRuntimeError(`fell off the end of the program (slot ${pc} of ${p.nslots}) without exit`, { pc });
        throw new BpfRuntimeError(`unexpected opcode 0x${op.toString(16)} at pc ${pc}`, { pc });
    }
    pc++;
  }

}

/** Index of the region holding [lo:hi, +len), or -1. */
function findRegion(T: RegionTable, lo: number, hi: number, len: number): number {
  for (let k = 0; k < T.n; k++) {
    if (T.hi[k] !== hi) continue;
    if ((lo - (T.lo[k] as number)) >>> 0 <= (T.size[k] as number) - len) return k;
  }
  return -1;
}

/** STX ATOMIC at dv[o]: imm selects the operation (RFC 9669 §5.3); single-threaded, so plain RMW. */
function atomicOp(R: Int32Array, dv: DataView, o: number, is64: boolean, s: number, imm: number): void {
  const oldLo = dv.getInt32(o, true);
  const oldHi = is64 ? dv.getInt32(o + 4, true) : 0;
  const sLo = R[s] as number;
  const sHi = is64 ? (R[s + 1] as number) : 0;
  let nLo: number;
  let nHi: number;
  switch (imm & ~1) {
    case 0x00: {
      nLo = (oldLo + sLo) | 0;
      nHi = (oldHi + sHi + ((nLo >>> 0) < (oldLo >>> 0) ? 1 : 0)) | 0;
      break;
    }
    case 0x40: nLo = oldLo | sLo; nHi = oldHi | sHi; break;
    case 0x50: nLo = oldLo & sLo; nHi = oldHi & sHi; break;
    case 0xa0: nLo = oldLo ^ sLo; nHi = oldHi ^ sHi; break;
    case 0xe0: nLo = sLo; nHi = sHi; break;
    default: { // 0xf0 cmpxchg: compare with r0 (low 32 bits for W)
      const eq = oldLo === R[0] && (!is64 || oldHi === R[1]);
      nLo = eq ? sLo : oldLo;
      nHi = eq ? sHi : oldHi;
      R[0] = oldLo;
      R[1] = oldHi;
      break;
    }
  }
  dv.setInt32(o, nLo, true);
  if (is64) dv.setInt32(o + 4, nHi, true);
  if (imm & 1 && imm !== 0xf1) {
    R[s] = oldLo;
    R[s + 1] = oldHi;
  }
}

function vmHelper(vm: BpfInterpreter, id: number): HelperDef | undefined {
  const h = vm.profile.helpers.get(id);
  if (h && TAIL_CALL_NAMES.has(h.name)) return undefined;
  return h;
}
