// 64-bit values without BigInt on hot paths.
//
// Two representations are used across jitbox:
// - A pair of unsigned 32-bit halves (lo, hi): registers, immediates, packed key words.
// - A virtual address as a JS number holding the *signed* 64-bit value of a canonical 48-bit
//   address (kernel addresses are negative: 0xffffffffc0000000 is -2^30). Every canonical address
//   with 4-level paging lies in [-2^47, 2^47), so it is an exact integer in a double. `VAddr` is that
//   number; `vaddrFromPair` / `vaddrToPair` convert, `hexAddr` prints it as the kernel would.
// BigInt appears only at the edges (parsing user input, printing, reference models in tests).

export type VAddr = number;

export const TWO_32 = 0x100000000;
export const CANONICAL_LIMIT = 2 ** 47;

export interface U64 {
  lo: number; // unsigned 32-bit
  hi: number; // unsigned 32-bit
}

export function u64(lo: number, hi: number): U64 {
  return { lo: lo >>> 0, hi: hi >>> 0 };
}

/** True when the pair (lo, hi) is a canonical 48-bit address (bits 63..47 all equal). */
export function isCanonicalPair(lo: number, hi: number): boolean {
  const top = hi >> 15; // arithmetic: bits 63..47 as a signed 17-bit value
  return top === 0 || top === -1;
}

export function vaddrFromPair(lo: number, hi: number): VAddr {
  return (hi | 0) * TWO_32 + (lo >>> 0);
}

export function vaddrToPair(a: VAddr): U64 {
  return { lo: a >>> 0, hi: Math.floor(a / TWO_32) >>> 0 };
}

export function isCanonical(a: VAddr): boolean {
  return Number.isInteger(a) && a >= -CANONICAL_LIMIT && a < CANONICAL_LIMIT;
}

function hex32(x: number, width = 8): string {
  return (x >>> 0).toString(16).padStart(width, '0');
}

/** "0x" + 16 hex digits of a pair (stable width, as 64-bit values are printed in JSON). */
export function hex64(lo: number, hi: number): string {
  return '0x' + hex32(hi) + hex32(lo);
}

/** "0x" + minimal hex digits of a pair. */
export function hex64Short(lo: number, hi: number): string {
  if (hi >>> 0 === 0) return '0x' + (lo >>> 0).toString(16);
  return '0x' + (hi >>> 0).toString(16) + hex32(lo);
}

/** Kernel-style address: "0xffffffffc0001000". */
export function hexAddr(a: VAddr): string {
  const { lo, hi } = vaddrToPair(a);
  return hex64(lo, hi);
}

export function pairToBigInt(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

export function bigIntToPair(v: bigint): U64 {
  const m = BigInt.asUintN(64, v);
  return { lo: Number(m & 0xffffffffn), hi: Number(m >> 32n) };
}

/**
 * Parse a user-supplied 64-bit integer: decimal (optionally negative, two's complement) or
 * 0x-prefixed hex. Returns null if the text is not a valid 64-bit integer.
 */
export function parseU64(text: string): U64 | null {
  const t = text.trim();
  let v: bigint;
  if (/^0[xX][0-9a-fA-F]{1,16}$/.test(t)) v = BigInt(t);
  else if (/^-?[0-9]+$/.test(t)) v = BigInt(t);
  else return null;
  if (v > 0xffffffffffffffffn || v < -0x8000000000000000n) return null;
  return bigIntToPair(v);
}

/** Hex bytes separated by spaces: "48 89 f8 c3". */
export function bytesToHex(bytes: Uint8Array, sep = ' '): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    if (i > 0) s += sep;
    s += (bytes[i] as number).toString(16).padStart(2, '0');
  }
  return s;
}

/** Parse "48 89 f8 c3", "4889f8c3" or "0x48,0x89": returns null on malformed input. */
export function hexToBytes(text: string): Uint8Array | null {
  const cleaned = text.replace(/0x/gi, ' ').replace(/[,;]/g, ' ').trim();
  if (cleaned === '') return new Uint8Array(0);
  const tokens = cleaned.split(/\s+/);
  const out: number[] = [];
  for (const tok of tokens) {
    if (!/^[0-9a-fA-F]+$/.test(tok) || tok.length % 2 !== 0) return null;
    for (let i = 0; i < tok.length; i += 2) out.push(parseInt(tok.slice(i, i + 2), 16));
  }
  return Uint8Array.from(out);
}
