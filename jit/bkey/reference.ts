// BigInt reference model of pack/unpack, written straight from reference/bkey.md §2's pseudo-code:
// K is the key part as one integer, field(K,F,i) = (K >> lsb(i)) & mask(bits[i]). Used by tests
// and the fuzzer as the oracle every unpacker (generic, byte-aligned, wasm, machine code) must
// match; never on a hot path.

import { BKEY_FIELDS, BKEY_NR_FIELDS, BKEY_U64S, type BkeyFormat, fieldLsb } from './format.js';

export interface RefKey {
  u64s: number;
  format: number;
  needsWhiteout: boolean;
  type: number;
  fields: bigint[];
}

const mask = (b: number): bigint => (1n << BigInt(b)) - 1n;

export function keyPartToBigInt(f: BkeyFormat, bytes: Uint8Array, at = 0): bigint {
  let k = 0n;
  for (let i = 8 * f.keyU64s - 1; i >= 0; i--) k = (k << 8n) | BigInt(bytes[at + i] as number);
  return k;
}

export function refUnpack(f: BkeyFormat, bytes: Uint8Array, at = 0): RefKey {
  const k = keyPartToBigInt(f, bytes, at);
  const fields: bigint[] = [];
  for (let i = 0; i < BKEY_NR_FIELDS; i++) {
    const b = f.bits[i] as number;
    const raw = b ? (k >> BigInt(fieldLsb(f, i))) & mask(b) : 0n;
    const o = f.offsets[i] as { lo: number; hi: number };
    const off = (BigInt(o.hi) << 32n) | BigInt(o.lo);
    fields.push(BigInt.asUintN((BKEY_FIELDS[i] as { width: number }).width, raw + off));
  }
  const hdr = Number(k & 0xffffffn);
  return {
    u64s: ((hdr & 0xff) + BKEY_U64S - f.keyU64s) & 0xff,
    format: 1,
    needsWhiteout: ((hdr >> 15) & 1) === 1,
    type: (hdr >> 16) & 0xff,
    fields,
  };
}

/** Pack per §2, or null when a field is not representable. */
export function refPack(f: BkeyFormat, key: RefKey): Uint8Array | null {
  let k = 0n;
  for (let i = 0; i < BKEY_NR_FIELDS; i++) {
    const o = f.offsets[i] as { lo: number; hi: number };
    const off = (BigInt(o.hi) << 32n) | BigInt(o.lo);
    const v = key.fields[i] as bigint;
    if (v < off) return null;
    const d = v - off;
    if (d > mask(f.bits[i] as number)) return null;
    k |= d << BigInt(fieldLsb(f, i));
  }
  k |= BigInt((key.u64s - BKEY_U64S + f.keyU64s) & 0xff) | (BigInt(key.needsWhiteout ? 0x80 : 0) << 8n) | (BigInt(key.type & 0xff) << 16n);
  const out = new Uint8Array(8 * f.keyU64s);
  for (let i = 0; i < out.length; i++) out[i] = Number((k >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** The reference's 40-byte struct bkey for an unpacked key. */
export function refBkeyBytes(key: RefKey): Uint8Array {
  const out = new Uint8Array(40);
  out[0] = key.u64s;
  out[1] = (key.format & 0x7f) | (key.needsWhiteout ? 0x80 : 0);
  out[2] = key.type;
  for (let i = 0; i < BKEY_NR_FIELDS; i++) {
    const info = BKEY_FIELDS[i] as { dstOffset: number; store: number };
    const v = key.fields[i] as bigint;
    for (let b = 0; b < info.store; b++) out[info.dstOffset + b] = Number((v >> BigInt(8 * b)) & 0xffn);
  }
  return out;
}
