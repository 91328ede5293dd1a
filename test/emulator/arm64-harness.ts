// Shared set-up for the arm64 core tests: an arm64 address space, a machine with a guest stack,
// code placed through execmem (ROX, text_poke) and an RW data page, as the oracle script models
// them (scripts/oracles/emu-arm64.py: x20 = data + 256, x22 = data + 64).
import { readFileSync } from 'node:fs';
import { AddressSpace } from '../../execmem/index.js';
import { Arm64Machine } from '../../emulator/arm64/machine.js';
import { type VAddr, bigIntToPair, pairToBigInt, vaddrToPair } from '../../support/u64.js';

export interface Rig {
  space: AddressSpace;
  m: Arm64Machine;
  data: VAddr;
  place(words: readonly number[]): VAddr;
}

/** Recorded anchor-loop runs (Unicorn) and gcc leaf-function runs (qemu-aarch64). */
export interface AnchorVectors {
  loops: Array<{ name: string; code: string; runs: Array<{ n: number; ret: string }> }>;
}
export interface QemuVectors {
  functions: Array<{ name: string; hex: string; pure: boolean; runs: Array<{ args: string[]; regs: string[] }> }>;
}
export const loadVectors = <T>(f: string): T => JSON.parse(readFileSync(new URL(`../vectors/emulator/${f}`, import.meta.url), 'utf8')) as T;

export function hexWords(hex: string): number[] {
  const b = Buffer.from(hex, 'hex');
  return Array.from({ length: b.length / 4 }, (_, i) => b.readUInt32LE(4 * i));
}

export function wordsToBytes(words: readonly number[]): Uint8Array {
  const b = new Uint8Array(words.length * 4);
  const dv = new DataView(b.buffer);
  words.forEach((w, i) => dv.setUint32(4 * i, w >>> 0, true));
  return b;
}

export function makeRig(seed = 1, capstoneCheck = true, dataBytes = 4096): Rig {
  const space = new AddressSpace({ arch: 'arm64', seed });
  const stackBase = space.vmalloc(16 * 1024, 'stack');
  const m = new Arm64Machine(space, { capstoneCheck, stack: { base: stackBase, size: 16 * 1024 } });
  const data = space.vmalloc(dataBytes, 'data');
  return {
    space,
    m,
    data,
    place(words) {
      const bytes = wordsToBytes(words);
      const addr = space.execmemAlloc('BPF', bytes.length);
      space.textPokeCopy(addr, bytes);
      return addr;
    },
  };
}

export interface DiffCase {
  words: number[];
  regs: string[];
  nzcv: number;
  data: string;
}
export interface DiffResult {
  regs: string[];
  nzcv: number;
  stores: Array<[number, number]>;
}

const DATA_LEN = 512;

/** Run one oracle case on our core; returns the state in the oracle's format. */
export function runCase(rig: Rig, c: DiffCase): DiffResult {
  const { m, space, data } = rig;
  const before = Uint8Array.from(Buffer.from(c.data, 'hex'));
  space.write(data, before);
  const entry = rig.place(c.words);
  const regs = c.regs.map((h) => BigInt(h));
  for (let i = 0; i < regs.length; i++) {
    let v = regs[i]!;
    if (i === 20 || i === 22) v += BigInt(data);
    const p = bigIntToPair(v);
    m.setX(i, p.lo, p.hi);
  }
  m.nzcv = c.nzcv;
  const args = regs.slice(0, 8).map((v) => bigIntToPair(v));
  m.call(entry, args, { budget: 10_000 });
  space.execmemFree(entry);
  const out: string[] = [];
  for (let i = 0; i < 23; i++) {
    const x = m.getX(i);
    let v = pairToBigInt(x.lo, x.hi);
    if (i === 20 || i === 22) v = BigInt.asUintN(64, v - BigInt(data));
    out.push('0x' + v.toString(16).padStart(16, '0'));
  }
  const after = space.read(data, DATA_LEN);
  const stores: Array<[number, number]> = [];
  for (let i = 0; i < DATA_LEN; i++) if (after[i] !== before[i]) stores.push([i, after[i]!]);
  return { regs: out, nzcv: m.nzcv, stores };
}

/**
 * Runs every recorded case on `rig` and lists the ones whose x0-x22, NZCV or stored bytes differ
 * from the recorded answer (or that threw), one line each.
 */
export function diffRecorded(rig: Rig, cases: ReadonlyArray<DiffCase & { expect: DiffResult }>): string[] {
  const bad: string[] = [];
  cases.forEach((c, k) => {
    let got: DiffResult;
    try {
      got = runCase(rig, c);
    } catch (e) {
      bad.push(`case ${k}: ${(e as Error).message}`);
      return;
    }
    const want = c.expect;
    const diffs: string[] = [];
    for (let i = 0; i < 23; i++) if (got.regs[i] !== want.regs[i]) diffs.push(`x${i} ${got.regs[i]} != ${want.regs[i]}`);
    if (got.nzcv !== want.nzcv) diffs.push(`nzcv ${got.nzcv} != ${want.nzcv}`);
    if (JSON.stringify(got.stores) !== JSON.stringify(want.stores)) diffs.push('stores differ');
    if (diffs.length) bad.push(`case ${k} [${c.words.map((w) => (w >>> 0).toString(16)).join(' ')}]: ${diffs.join('; ')}`);
  });
  return bad;
}

export { vaddrToPair };
