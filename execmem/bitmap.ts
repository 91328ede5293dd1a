// Bitmaps of 32-bit words (bit i in word i >> 5, position i & 31), the structure behind
// bpf_prog_pack's chunk map. `findZeroRun` is lib/bitmap.c's bitmap_find_next_zero_area with
// align 0 from bit 0: the first run of `n` clear bits. All scans work a word at a time.

function ctz(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** First clear bit at or after `from`, or `nbits` if none. */
export function nextZero(bits: Uint32Array, from: number, nbits: number): number {
  if (from >= nbits) return nbits;
  let w = from >>> 5;
  let inv = ~(bits[w] as number) & (0xffffffff << (from & 31));
  while (inv === 0) {
    w++;
    if (w * 32 >= nbits) return nbits;
    inv = ~(bits[w] as number);
  }
  return Math.min(nbits, w * 32 + ctz(inv));
}

/** First set bit in [from, limit), or `limit` if none. */
export function nextSet(bits: Uint32Array, from: number, limit: number): number {
  if (from >= limit) return limit;
  let w = from >>> 5;
  let v = (bits[w] as number) & (0xffffffff << (from & 31));
  while (v === 0) {
    w++;
    if (w * 32 >= limit) return limit;
    v = bits[w] as number;
  }
  return Math.min(limit, w * 32 + ctz(v));
}

/** Start of the first run of `n` clear bits in [from, nbits), or -1 (`from`: a known lower bound). */
export function findZeroRun(bits: Uint32Array, nbits: number, n: number, from = 0): number {
  let pos = from;
  for (;;) {
    const start = nextZero(bits, pos, nbits);
    if (start + n > nbits) return -1;
    const set = nextSet(bits, start, start + n);
    if (set === start + n) return start;
    pos = set + 1;
  }
}

export function setBits(bits: Uint32Array, start: number, n: number): void {
  fillBits(bits, start, n, true);
}

export function clearBits(bits: Uint32Array, start: number, n: number): void {
  fillBits(bits, start, n, false);
}

function fillBits(bits: Uint32Array, start: number, n: number, value: boolean): void {
  let i = start;
  const end = start + n;
  while (i < end) {
    const w = i >>> 5;
    const lo = i & 31;
    const count = Math.min(32 - lo, end - i);
    const mask = count === 32 ? 0xffffffff : ((1 << count) - 1) << lo;
    bits[w] = value ? (bits[w] as number) | mask : (bits[w] as number) & ~mask;
    i += count;
  }
}

export function popcount(bits: Uint32Array): number {
  let n = 0;
  for (let i = 0; i < bits.length; i++) {
    let v = bits[i] as number;
    v = v - ((v >>> 1) & 0x55555555);
    v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
    n += (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) as number;
  }
  return n;
}
