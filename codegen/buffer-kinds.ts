// Label-use kinds shared by both arches (buffer.ts re-exports them): absolute fields that hold the
// target address itself rather than a distance (x86 movabs imm64 and mov r64, simm32; arm64
// literal-pool quads). Their `distance` is the target, so CodeBuffer re-patches them at every base.

import type { LabelUseKind } from './buffer.js';

/** Little-endian u32 at bytes[at..at+4). */
export function writeLE32(bytes: Uint8Array, at: number, v: number): void {
  bytes[at] = v & 0xff;
  bytes[at + 1] = (v >>> 8) & 0xff;
  bytes[at + 2] = (v >>> 16) & 0xff;
  bytes[at + 3] = (v >>> 24) & 0xff;
}

/** 64-bit absolute address (x86 movabs imm64, arm64 literal pool .quad). */
export const ABS64: LabelUseKind = {
  name: 'abs64',
  fieldSize: 8,
  originFromField: 0,
  minDelta: -(2 ** 63),
  maxDelta: 2 ** 63,
  align: 1,
  distance: (_use, target) => target,
  patch(bytes, at, _use, target) {
    writeLE32(bytes, at, target >>> 0);
    writeLE32(bytes, at + 4, Math.floor(target / 0x100000000) >>> 0);
  },
};

/** 32-bit absolute address sign-extended to 64 (x86 `mov r64, simm32`: kernel top 2 GiB). */
export const ABS32S: LabelUseKind = {
  name: 'abs32s',
  fieldSize: 4,
  originFromField: 0,
  minDelta: -(2 ** 31),
  maxDelta: 2 ** 31 - 1,
  align: 1,
  distance: (_use, target) => target,
  patch(bytes, at, _use, target) {
    writeLE32(bytes, at, target >>> 0);
  },
};
