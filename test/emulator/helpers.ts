// Test helpers: an execmem address space with code placed the way JITs place it (execmemAlloc
// gives ROX memory, textPokeCopy writes it) and RW data from vmalloc.
import { AddressSpace } from '../../execmem/index.js';
import type { Arch } from '../../execmem/types.js';
import { createCpu, type Machine } from '../../emulator/index.js';
import type { VAddr } from '../../support/u64.js';

export interface Rig {
  space: AddressSpace;
  cpu: Machine;
  code: VAddr;
}

export function rig(arch: Arch, code: Uint8Array, opts: { capstoneCheck?: boolean; seed?: number } = {}): Rig {
  const space = new AddressSpace({ arch, seed: opts.seed ?? 1 });
  const addr = space.execmemAlloc('BPF', Math.max(code.length, 1));
  if (code.length) space.textPokeCopy(addr, code);
  const cpu = createCpu(arch, space, { capstoneCheck: opts.capstoneCheck ?? true });
  return { space, cpu, code: addr };
}

export function hex(text: string): Uint8Array {
  const t = text.replace(/[^0-9a-fA-F]/g, '');
  const out = new Uint8Array(t.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(t.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function big(p: { lo: number; hi: number }): bigint {
  return (BigInt(p.hi >>> 0) << 32n) | BigInt(p.lo >>> 0);
}
