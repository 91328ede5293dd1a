// Entry point of the emulator: `createCpu(arch, space)` builds the core for an architecture over an
// execmem address space (GuestMemory). Both cores share emulator/machine.ts (decode cache, soft
// TLB, Capstone check, calls, host functions, counters, the translation tier of emulator/translate);
// only decode/render/execute (and each arch's translator) differ.

import { type Arch, type GuestMemory } from '../execmem/types.js';
import { UnsupportedError } from '../support/errors.js';
import { type Machine, type MachineOptions } from './machine.js';
import { X86Machine } from './x86_64/machine.js';
import { Arm64Machine } from './arm64/machine.js';

export * from './errors.js';
export * from './machine.js';
export { X86Machine } from './x86_64/machine.js';
export { Arm64Machine } from './arm64/machine.js';
export type { Tier } from './translate/types.js';
export { defaultTier, type TierStats } from './translate/tier.js';

export function createCpu(arch: Arch, space: GuestMemory, opts: MachineOptions = {}): Machine {
  if (space.arch !== arch) throw new UnsupportedError(`address space is ${space.arch}, cannot run ${arch} code in it`);
  switch (arch) {
    case 'x86_64':
      return new X86Machine(space, opts);
    case 'arm64':
      return new Arm64Machine(space, opts);
  }
}
