// Running a placed key unpacker (placement.ts) in jitbox's own emulator: one machine per runner,
// reused for every call, one RW vmalloc page as the 40-byte struct bkey destination (issue 7;
// reference/bkey.md §4 calling convention, §5 arm64; the emulator of emulator/index.ts).
//
// Invariants:
// - Calls follow the placed node's convention: (dst, src) for compiled code, (dst, src, format)
//   for the shared generic unpacker.
// - The destination is poisoned (0xa5) before each call, so a byte the code fails to store shows
//   up as a mismatch instead of a stale value.
// - Only packed keys are unpacked (bcachefs never calls the unpacker on a struct bkey): asking for
//   an unpacked key is a BkeyPlacementError and runs nothing.
// - An AccessObserver (e.g. the cache model's MemoryHierarchy) passed in the options sees every
//   fetch, load and store of the call through CallOptions.observer.
// - With the Capstone check on (default), `await initCapstone()` must precede the first call.

import type { AddressSpace } from '../../execmem/space.js';
import { PAGE_SIZE } from '../../execmem/types.js';
import { type AccessObserver, type Counters, type Machine, type MachineOptions, createCpu } from '../../emulator/index.js';
import { type U64, hexAddr, type VAddr } from '../../support/u64.js';
import { BKEY_BYTES } from './format.js';
import { type Bkey, readBkey } from './pack.js';
import { BkeyPlacementError, type PlacedNode, type PlacementArch } from './placement.js';

export interface EmuUnpackOptions {
  observer?: AccessObserver;
  /** Instruction budget per call (default 10,000: the generic unpacker needs < 300). */
  budget?: number;
}

export interface EmuUnpackResult {
  /** The 40-byte struct bkey the code stored. */
  bytes: Uint8Array;
  key: Bkey;
  /** The six unpacked fields in packing order (inode, offset, snapshot, size, version_hi, version_lo). */
  fields: U64[];
  counters: Counters;
}

export interface EmuRunnerOptions {
  /** Check every decoded instruction against Capstone (default true). */
  capstoneCheck?: boolean;
  /** Further options of the machine (e.g. its execution tier); the stack is the runner's own. */
  machine?: Omit<MachineOptions, 'stack' | 'capstoneCheck'>;
}

const STACK_BYTES = 4 * PAGE_SIZE;
const POISON = new Uint8Array(BKEY_BYTES).fill(0xa5);

export class EmuUnpackRunner {
  readonly space: AddressSpace;
  readonly arch: PlacementArch;
  readonly machine: Machine;
  /** Guest address of the struct bkey the unpacker writes. */
  readonly dstAddr: VAddr;
  /** The call stack (x86 `ret` pops its return address from here). */
  readonly stackBase: VAddr;
  readonly stackBytes = STACK_BYTES;
  private disposed = false;

  constructor(space: AddressSpace, arch: PlacementArch, opts: EmuRunnerOptions = {}) {
    if (space.arch !== arch) throw new BkeyPlacementError(`address space is ${space.arch}, cannot run ${arch} code in it`, { arch });
    this.space = space;
    this.arch = arch;
    this.dstAddr = space.vmalloc(PAGE_SIZE, 'bkey unpack dst (struct bkey)');
    this.stackBase = space.vmalloc(STACK_BYTES, 'bkey unpack stack');
    this.machine = createCpu(arch, space, { ...opts.machine, capstoneCheck: opts.capstoneCheck ?? true, stack: { base: this.stackBase, size: STACK_BYTES } });
  }

  /** Unpack key i of a placed node by calling its unpacker in the emulator. */
  unpack(placed: PlacedNode, i: number, opts: EmuUnpackOptions = {}): EmuUnpackResult {
    if (this.disposed) throw new BkeyPlacementError('this EmuUnpackRunner was disposed');
    if (placed.arch !== this.arch) throw new BkeyPlacementError(`placed node is ${placed.arch} code, this runner runs ${this.arch}`, { arch: placed.arch });
    const src = placed.keyAddr(i);
    if (!placed.isPacked(i)) throw new BkeyPlacementError(`key ${i} at ${hexAddr(src)} is stored unpacked; unpackers only run on packed keys`, { key: i, address: hexAddr(src) });
    return this.unpackAt(placed, src, opts);
  }

  /** Call the placed unpacker on the packed key at guest address `src`. */
  unpackAt(placed: PlacedNode, src: VAddr, opts: EmuUnpackOptions = {}): EmuUnpackResult {
    if (this.disposed) throw new BkeyPlacementError('this EmuUnpackRunner was disposed');
    if (placed.freed) throw new BkeyPlacementError(`placed node at ${hexAddr(placed.keysAddr)} was freed`, { address: hexAddr(placed.keysAddr) });
    this.space.write(this.dstAddr, POISON);
    const args = placed.formatAddr === null ? [this.dstAddr, src] : [this.dstAddr, src, placed.formatAddr];
    const res = this.machine.call(placed.unpackAddr, args, {
      budget: opts.budget ?? 10_000,
      ...(opts.observer ? { observer: opts.observer } : {}),
    });
    const bytes = this.space.read(this.dstAddr, BKEY_BYTES);
    const key = readBkey(bytes, 0);
    return { bytes, key, fields: key.fields.map((f) => ({ lo: f.lo, hi: f.hi })), counters: res.counters };
  }

  /** Stop the machine listening and release its stack and the destination page. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.machine.dispose();
    this.space.vfree(this.stackBase);
    this.space.vfree(this.dstAddr);
  }
}
