// Argument checks shared by the execmem APIs: every size and count is a finite, non-negative safe
// integer; zero only where the caller allows it. Failures are InvalidArgumentError naming the value.

import { InvalidArgumentError } from '../support/errors.js';
import { type VAddr, hexAddr } from '../support/u64.js';

export function checkLength(n: unknown, what: string, allowZero = false): asserts n is number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`${what} must be an integer, got ${String(n)}`, { value: String(n) });
  }
  if (n < 0) throw new InvalidArgumentError(`${what} must not be negative, got ${n}`, { value: n });
  if (n === 0 && !allowZero) throw new InvalidArgumentError(`${what} must not be zero`, { value: n });
}

export function checkAddress(a: unknown, what: string): asserts a is VAddr {
  if (typeof a !== 'number' || !Number.isSafeInteger(a)) {
    throw new InvalidArgumentError(`${what} must be an integer address, got ${String(a)}`, { value: String(a) });
  }
}

export function pageRound(n: number): number {
  return Math.ceil(n / 4096) * 4096;
}

/** a mod m in [0, m) for negative addresses too. */
export function modulo(a: VAddr, m: number): number {
  return ((a % m) + m) % m;
}

export function hexOrNull(a: VAddr | null): string | null {
  return a === null ? null : hexAddr(a);
}
