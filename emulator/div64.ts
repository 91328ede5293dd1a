// Exact 128/64-bit unsigned division on 32-bit words, for the x86 div/idiv and arm64 udiv/sdiv
// executors (no BigInt on the hot path). Knuth's algorithm D (TAOCP vol. 2, 4.3.1; the `divmnu`
// form of Hacker's Delight 9-2) on 16-bit digits, so every intermediate value (digit products,
// two-digit numerators, the qhat test) stays an exact integer below 2^34 in a double.
//
// Invariants:
// - udiv128 leaves the full 128-bit quotient in `divOut.q0..q3` and the 64-bit remainder in
//   `divOut.r0, r1` (32-bit words, low first, as int32); callers decide what overflows.
// - udiv128 and its helpers read and write only their arguments and `divOut`; no allocation.

/** Results of udiv128 (int32 words, low first). */
export const divOut = { q0: 0, q1: 0, q2: 0, q3: 0, r0: 0, r1: 0 };

const B = 0x10000;
/** Dividend digits (normalised, one spare), divisor digits, quotient digits (16-bit each). */
const un = new Int32Array(9);
const vn = new Int32Array(4);
const qd = new Int32Array(8);

function digitsOf(dst: Int32Array, w0: number, w1: number, w2: number, w3: number): void {
  dst[0] = w0 & 0xffff;
  dst[1] = w0 >>> 16;
  dst[2] = w1 & 0xffff;
  dst[3] = w1 >>> 16;
  if (dst.length > 4) {
    dst[4] = w2 & 0xffff;
    dst[5] = w2 >>> 16;
    dst[6] = w3 & 0xffff;
    dst[7] = w3 >>> 16;
  }
}

/**
 * Unsigned (n3:n2:n1:n0) / (d1:d0), all 32-bit words (any int32 bit pattern). Returns false when
 * the divisor is zero (divOut untouched), else true with quotient and remainder in divOut.
 */
export function udiv128(n0: number, n1: number, n2: number, n3: number, d0: number, d1: number): boolean {
  if ((d0 | d1) === 0) return false;
  digitsOf(un, n0, n1, n2, n3);
  un[8] = 0;
  digitsOf(vn, d0, d1, 0, 0);
  let n = 4;
  while (vn[n - 1] === 0) n--;
  let len = 8;
  while (len > 0 && un[len - 1] === 0) len--;
  qd.fill(0);
  if (len < n) {
    // Dividend below the divisor: quotient 0, remainder the dividend.
    divOut.q0 = divOut.q1 = divOut.q2 = divOut.q3 = 0;
    divOut.r0 = n0 | 0;
    divOut.r1 = n1 | 0;
    return true;
  }
  if (n === 1) {
    const v = vn[0]!;
    let rem = 0;
    for (let j = len - 1; j >= 0; j--) {
      const num = rem * B + un[j]!;
      const q = Math.floor(num / v);
      qd[j] = q;
      rem = num - q * v;
    }
    packQuotient();
    divOut.r0 = rem | 0;
    divOut.r1 = 0;
    return true;
  }
  // Normalise so the divisor's top digit has its high bit set (shift s in 0..15).
  const s = Math.clz32(vn[n - 1]!) - 16;
  if (s > 0) {
    for (let i = n - 1; i > 0; i--) vn[i] = ((vn[i]! << s) | (vn[i - 1]! >>> (16 - s))) & 0xffff;
    vn[0] = (vn[0]! << s) & 0xffff;
    un[len] = un[len - 1]! >>> (16 - s);
    for (let i = len - 1; i > 0; i--) un[i] = ((un[i]! << s) | (un[i - 1]! >>> (16 - s))) & 0xffff;
    un[0] = (un[0]! << s) & 0xffff;
  } else un[len] = 0;
  const vTop = vn[n - 1]!;
  const vNext = vn[n - 2]!;
  for (let j = len - n; j >= 0; j--) {
    const num = un[j + n]! * B + un[j + n - 1]!;
    let qhat = Math.floor(num / vTop);
    let rhat = num - qhat * vTop;
    while (qhat >= B || qhat * vNext > rhat * B + un[j + n - 2]!) {
      qhat--;
      rhat += vTop;
      if (rhat >= B) break;
    }
    // Multiply and subtract qhat * v from the dividend window u[j .. j+n].
    let borrow = 0;
    for (let i = 0; i < n; i++) {
      const p = qhat * vn[i]!;
      const t = un[i + j]! - borrow - (p & 0xffff);
      un[i + j] = t & 0xffff;
      borrow = Math.floor(p / B) - (t >> 16);
    }
    const t = un[j + n]! - borrow;
    un[j + n] = t & 0xffff;
    if (t < 0) {
      // qhat was one too large (probability ~2/B): add the divisor back once.
      qhat--;
      let carry = 0;
      for (let i = 0; i < n; i++) {
        const sum = un[i + j]! + vn[i]! + carry;
        un[i + j] = sum & 0xffff;
        carry = sum >>> 16;
      }
      un[j + n] = (un[j + n]! + carry) & 0xffff;
    }
    qd[j] = qhat;
  }
  packQuotient();
  // Remainder: the low n digits of u, shifted back right by s.
  let r0 = 0;
  let r1 = 0;
  for (let i = n - 1; i >= 0; i--) {
    const d = s > 0 ? ((un[i]! >>> s) | (un[i + 1]! << (16 - s))) & 0xffff : un[i]!;
    if (i >= 2) r1 |= d << (16 * (i - 2));
    else r0 |= d << (16 * i);
  }
  divOut.r0 = r0 | 0;
  divOut.r1 = r1 | 0;
  return true;
}

function packQuotient(): void {
  divOut.q0 = qd[0]! | (qd[1]! << 16);
  divOut.q1 = qd[2]! | (qd[3]! << 16);
  divOut.q2 = qd[4]! | (qd[5]! << 16);
  divOut.q3 = qd[6]! | (qd[7]! << 16);
}
