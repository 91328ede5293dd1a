// Shared helpers of the execmem tests.
import { AddressSpace, type Arch, type SpaceOptions } from '../../execmem/index.js';

export function space(arch: Arch, extra: Partial<SpaceOptions> = {}): AddressSpace {
  return new AddressSpace({ arch, seed: 42, ...extra });
}

/** The arch's trap as it reads back in memory at `addr` (x86 CC bytes, arm64 LE BRK words). */
export function trapBytes(arch: Arch, len: number): Uint8Array {
  const out = new Uint8Array(len);
  if (arch === 'x86_64') return out.fill(0xcc);
  const w = [0x00, 0x20, 0x20, 0xd4];
  for (let i = 0; i < len; i++) out[i] = w[i & 3] as number;
  return out;
}

export function words(arch: Arch, n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 37 + seed * 11 + (arch === 'x86_64' ? 1 : 2)) & 0xff;
  return out;
}

/** Runs `fn`, expects it to throw an error of class `cls`, and returns it. */
export function expectThrow<T extends Error>(fn: () => unknown, cls: new (...args: never[]) => T): T {
  try {
    fn();
  } catch (e) {
    if (e instanceof cls) return e;
    throw new Error(`expected ${cls.name}, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
  throw new Error(`expected ${cls.name}, nothing was thrown`);
}
