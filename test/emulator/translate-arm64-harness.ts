// Shared set-up of the arm64 translation-tier tests: run one program on a fresh-state machine with
// a given tier and capture everything an observer could compare: x0-x30, sp, NZCV, pc, the data
// pages, Counters, and the fault (class, message, pc, address) when the run ends in one.
import { Arm64Machine } from '../../emulator/arm64/machine.js';
import type { Tier } from '../../emulator/translate/types.js';
import { AddressSpace } from '../../execmem/index.js';
import { bigIntToPair, pairToBigInt, type VAddr } from '../../support/u64.js';
import { makeRig, type Rig } from './arm64-harness.js';

export const DATA_BYTES = 8192;

/** A rig without the Capstone check and with two RW pages of data. */
export type TxRig = Rig;

export function makeTxRig(seed: number): TxRig {
  return makeRig(seed, false, DATA_BYTES);
}

export interface RunState {
  regs: bigint[];
  sp: bigint;
  nzcv: number;
  pc: VAddr;
  mem: Uint8Array;
  counters: { insns: number; loads: number; stores: number; branches: number };
  fault: { name: string; message: string; details: string } | null;
}

export interface Start {
  regs: Record<number, bigint>;
  nzcv: number;
  mem: Uint8Array;
}

/** Run `entry` from state `s` with `tier`; never throws for guest faults (they are captured). */
export function runWith(rig: TxRig, entry: VAddr, s: Start, tier: Tier, budget = 1_000_000): RunState {
  const { m, space, data } = rig;
  space.write(data, s.mem);
  for (let i = 0; i < 31; i++) m.setX(i, 0, 0);
  for (const [k, v] of Object.entries(s.regs)) {
    const p = bigIntToPair(BigInt.asUintN(64, v));
    m.setX(Number(k), p.lo, p.hi);
  }
  m.nzcv = s.nzcv;
  let fault: RunState['fault'] = null;
  try {
    m.call(entry, [], { tier, budget });
  } catch (e) {
    const err = e as Error & { details?: unknown };
    fault = { name: err.constructor.name, message: err.message, details: JSON.stringify(err.details ?? null) };
  }
  const out: bigint[] = [];
  for (let i = 0; i < 31; i++) {
    const x = m.getX(i);
    out.push(pairToBigInt(x.lo, x.hi));
  }
  const spx = m.getX(31);
  return { regs: out, sp: pairToBigInt(spx.lo, spx.hi), nzcv: m.nzcv, pc: m.pc, mem: space.read(data, DATA_BYTES), counters: m.counters(), fault };
}

/** Differences between two runs, as readable lines (empty when identical). */
export function diffStates(a: RunState, b: RunState): string[] {
  const d: string[] = [];
  for (let i = 0; i < 31; i++) if (a.regs[i] !== b.regs[i]) d.push(`x${i} ${a.regs[i]!.toString(16)} != ${b.regs[i]!.toString(16)}`);
  if (a.sp !== b.sp) d.push(`sp ${a.sp.toString(16)} != ${b.sp.toString(16)}`);
  if (a.nzcv !== b.nzcv) d.push(`nzcv ${a.nzcv} != ${b.nzcv}`);
  if (a.pc !== b.pc) d.push(`pc ${a.pc.toString(16)} != ${b.pc.toString(16)}`);
  for (let i = 0; i < a.mem.length; i++) {
    if (a.mem[i] !== b.mem[i]) {
      d.push(`data[${i}] ${a.mem[i]} != ${b.mem[i]}`);
      break;
    }
  }
  for (const k of ['insns', 'loads', 'stores', 'branches'] as const) if (a.counters[k] !== b.counters[k]) d.push(`${k} ${a.counters[k]} != ${b.counters[k]}`);
  if (JSON.stringify(a.fault) !== JSON.stringify(b.fault)) d.push(`fault ${JSON.stringify(a.fault)} != ${JSON.stringify(b.fault)}`);
  return d;
}
