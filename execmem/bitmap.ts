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

/**
 * A summary tree over a bitmap's words answering first-fit queries in O(log words): each node
 * keeps the clear-bit run at its low end (`pre`), at its high end (`suf`) and its longest run
 * (`best`). `findFirst(n)` returns exactly what `findZeroRun(bits, nbits, n)` returns (the lowest
 * start of n clear bits); the bitmap stays the source of truth and `update` re-reads changed words.
 * The word count must be a power of two and every bit of every word must be in range.
 */
export class RunIndex {
  private readonly bits: Uint32Array;
  private readonly leaves: number;
  private readonly pre: Int32Array;
  private readonly suf: Int32Array;
  private readonly best: Int32Array;

  constructor(bits: Uint32Array) {
    const n = bits.length;
    if (n === 0 || (n & (n - 1)) !== 0) throw new RangeError(`RunIndex needs a power-of-two word count, got ${n}`);
    this.bits = bits;
    this.leaves = n;
    this.pre = new Int32Array(2 * n);
    this.suf = new Int32Array(2 * n);
    this.best = new Int32Array(2 * n);
    for (let w = 0; w < n; w++) this.setLeaf(w);
    for (let i = n - 1; i >= 1; i--) this.combine(i, (16 * n) >>> (31 - Math.clz32(i)));
  }

  /** Re-read words [from, to] of the bitmap after they changed. */
  update(fromWord: number, toWord: number): void {
    for (let w = fromWord; w <= toWord; w++) this.setLeaf(w);
    let lo = (fromWord + this.leaves) >>> 1;
    let hi = (toWord + this.leaves) >>> 1;
    let half = 32;
    while (lo >= 1) {
      for (let i = lo; i <= hi; i++) this.combine(i, half);
      lo >>>= 1;
      hi >>>= 1;
      half *= 2;
    }
  }

  /** Lowest start of a run of `n` (≥ 1) clear bits, or -1. */
  findFirst(n: number): number {
    if (this.best[1]! < n) return -1;
    let i = 1;
    let base = 0;
    let span = this.leaves * 32;
    while (i < this.leaves) {
      const half = span >>> 1;
      const l = 2 * i;
      if (this.best[l]! >= n) i = l;
      else if (this.suf[l]! + this.pre[l + 1]! >= n) return base + half - this.suf[l]!;
      else {
        i = l + 1;
        base += half;
      }
      span = half;
    }
    const free = ~this.bits[i - this.leaves]! >>> 0;
    let y = free;
    for (let k = 1; k < n; k++) y &= free >>> k;
    return base + ctz(y);
  }

  private setLeaf(w: number): void {
    const v = this.bits[w]! >>> 0;
    const i = w + this.leaves;
    if (v === 0) {
      this.pre[i] = this.suf[i] = this.best[i] = 32;
      return;
    }
    this.pre[i] = ctz(v);
    this.suf[i] = Math.clz32(v);
    let x = ~v;
    let run = 0;
    while (x !== 0) {
      x &= x << 1;
      run++;
    }
    this.best[i] = run;
  }

  /** Node i from its children, each covering `half` bits. */
  private combine(i: number, half: number): void {
    const l = 2 * i;
    const r = l + 1;
    const pl = this.pre[l]!;
    const sr = this.suf[r]!;
    this.pre[i] = pl === half ? half + this.pre[r]! : pl;
    this.suf[i] = sr === half ? half + this.suf[l]! : sr;
    this.best[i] = Math.max(this.best[l]!, this.best[r]!, this.suf[l]! + this.pre[r]!);
  }
}
