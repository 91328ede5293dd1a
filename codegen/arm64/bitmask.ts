// A64 logical ("bitmask") immediates: encode, decode and query, on 32-bit lo/hi pairs.
//
// A bitmask immediate is an element of e = 2, 4, 8, 16, 32 or 64 bits holding a rotated run of
// 1..e-1 ones, replicated across the register (Arm ARM C6.2, DecodeBitMasks). The 13-bit field is
// N:immr:imms: N = 1 only for e = 64; imms holds the element size in its leading ones and the run
// length minus one; immr is the right rotation. The encoder follows LLVM's
// AArch64_AM::processLogicalImmediate: find the smallest repeating element, then the rotation that
// turns it into a run of low ones. 0 and all-ones are never encodable. No BigInt: 64-bit elements
// are handled as (lo, hi) pairs.

function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

function ctz32(v: number): number {
  return v === 0 ? 32 : 31 - Math.clz32(v & -v);
}

/** (2^n - 1) for n in 0..32 as an unsigned 32-bit number. */
function lowMask32(n: number): number {
  return n >= 32 ? 0xffffffff : ((1 << n) - 1) >>> 0;
}

/** Encode an element of `size` <= 32 bits (value in [0, 2^size)); -1 if it is not a rotated run. */
function encodeElement32(v: number, size: number): number {
  const ones = popcount32(v);
  if (ones === 0 || ones === size) return -1;
  const full = lowMask32(size);
  let rot: number;
  const t = ctz32(v);
  if (t > 0) {
    if (v >>> t !== lowMask32(ones)) return -1;
    rot = t;
  } else {
    const inv = ~v & full;
    const z = ctz32(inv);
    if (inv >>> z !== lowMask32(size - ones)) return -1;
    rot = (z + size - ones) % size;
  }
  const immr = (size - rot) % size;
  const imms = ((~(size - 1) << 1) | (ones - 1)) & 0x3f;
  return (immr << 6) | imms;
}

/** Right shift of a 64-bit pair by 0 < n < 64, result as a pair compared against a low mask of k ones. */
function pairShrEqualsLowMask(lo: number, hi: number, n: number, k: number): boolean {
  let rlo: number, rhi: number;
  if (n >= 32) {
    rlo = hi >>> (n - 32);
    rhi = 0;
  } else if (n === 0) {
    rlo = lo;
    rhi = hi;
  } else {
    rlo = ((lo >>> n) | (hi << (32 - n))) >>> 0;
    rhi = hi >>> n;
  }
  if (k >= 32) return rlo === 0xffffffff && rhi === lowMask32(k - 32);
  return rlo === lowMask32(k) && rhi === 0;
}

function ctz64(lo: number, hi: number): number {
  return lo !== 0 ? ctz32(lo) : 32 + ctz32(hi);
}

/**
 * The 13-bit N:immr:imms field for (lo, hi) as an operand of a 64-bit (is64) or 32-bit logical
 * instruction, or -1 when the value is not a bitmask immediate. For 32-bit forms hi must be 0.
 */
export function encodeLogicalImmediate(lo: number, hi: number, is64: boolean): number {
  lo >>>= 0;
  hi >>>= 0;
  let v: number;
  if (!is64) {
    if (hi !== 0) return -1;
    v = lo;
  } else if (lo !== hi) {
    return encodeElement64(lo, hi);
  } else {
    v = lo;
  }
  let size = 32;
  while (size > 2) {
    const half = size >>> 1;
    const m = lowMask32(half);
    if ((v & m) >>> 0 !== ((v >>> half) & m) >>> 0) break;
    size = half;
  }
  const enc = encodeElement32((v & lowMask32(size)) >>> 0, size);
  return enc;
}

function encodeElement64(lo: number, hi: number): number {
  const ones = popcount32(lo) + popcount32(hi);
  const t = ctz64(lo, hi);
  let rot: number;
  if (t > 0) {
    if (!pairShrEqualsLowMask(lo, hi, t, ones)) return -1;
    rot = t;
  } else {
    const ilo = ~lo >>> 0, ihi = ~hi >>> 0;
    const z = ctz64(ilo, ihi);
    if (!pairShrEqualsLowMask(ilo, ihi, z, 64 - ones)) return -1;
    rot = (z + 64 - ones) % 64;
  }
  const immr = (64 - rot) % 64;
  return (1 << 12) | (immr << 6) | (ones - 1);
}

/** Whether (lo, hi) is encodable as a logical immediate of a 64-bit (is64) or 32-bit instruction. */
export function isLogicalImmediate(lo: number, hi: number, is64: boolean): boolean {
  return encodeLogicalImmediate(lo, hi, is64) >= 0;
}

/**
 * DecodeBitMasks (Arm ARM shared pseudocode) for a 13-bit N:immr:imms field: the register value
 * as a pair, or null for a reserved encoding. 32-bit forms return hi = 0.
 */
export function decodeLogicalImmediate(field: number, is64: boolean): { lo: number; hi: number } | null {
  const n = (field >>> 12) & 1;
  const immr = (field >>> 6) & 0x3f;
  const imms = field & 0x3f;
  if (!is64 && n === 1) return null;
  const combined = (n << 6) | (~imms & 0x3f);
  if (combined === 0) return null;
  const len = 31 - Math.clz32(combined);
  if (len < 1) return null;
  const size = 1 << len;
  const s = imms & (size - 1);
  const r = immr & (size - 1);
  if (s === size - 1) return null;
  const ones = s + 1;
  if (size === 64) {
    // Run of `ones` low ones rotated right by r, on a pair.
    let lo = ones >= 32 ? 0xffffffff : lowMask32(ones);
    let hi = ones > 32 ? lowMask32(ones - 32) : 0;
    for (let i = 0; i < r; i++) {
      const b = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = ((hi >>> 1) | (b << 31)) >>> 0;
    }
    return { lo, hi };
  }
  const run = lowMask32(ones);
  const m = lowMask32(size);
  let elt = r === 0 ? run : (((run >>> r) | (run << (size - r))) & m) >>> 0;
  let v = elt;
  for (let sz = size; sz < 32; sz *= 2) v = (v | (v << sz)) >>> 0;
  elt = v >>> 0;
  return { lo: elt, hi: is64 ? elt : 0 };
}
