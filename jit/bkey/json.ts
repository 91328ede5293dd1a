// JSON input for `jitbox unpack` (issue 7 CLI): formats as {"bits_per_field":[6 ints],
// "field_offset":[6 strings], "key_u64s"?: int} and keys as an array of objects with inode, offset,
// snapshot, size, version_hi, version_lo. Every 64-bit value is a decimal or 0x-prefixed hex
// string (safe non-negative JSON integers are accepted too). Errors are ParseError /
// BkeyFormatError naming the file, key index and field; nothing is returned partially.

import { ParseError } from '../../support/errors.js';
import { parseU64, type U64 } from '../../support/u64.js';
import { BKEY_FIELDS, type BkeyFormat, makeFormat } from './format.js';
import { type Bkey, makeBkey } from './pack.js';

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ParseError(`${what}: malformed JSON (${e instanceof Error ? e.message : String(e)})`, { file: what });
  }
}

function parseValue(v: unknown, where: string, width: 32 | 64, details: Record<string, string | number>): U64 {
  let p: U64 | null = null;
  if (typeof v === 'string' && !v.trim().startsWith('-')) p = parseU64(v);
  else if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) p = { lo: v >>> 0, hi: Math.floor(v / 0x100000000) >>> 0 };
  if (!p) throw new ParseError(`${where}: expected a decimal or 0x-hex string for an unsigned ${width}-bit value, got ${JSON.stringify(v)}`, details);
  if (width === 32 && p.hi !== 0) throw new ParseError(`${where}: ${JSON.stringify(v)} does not fit 32 bits`, details);
  return p;
}

export function parseFormatJson(text: string, file = 'format'): BkeyFormat {
  const j = parseJson(text, file);
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new ParseError(`${file}: expected an object with bits_per_field and field_offset`, { file });
  const o = j as Record<string, unknown>;
  const bits = o.bits_per_field;
  const offs = o.field_offset;
  if (!Array.isArray(bits) || bits.length !== 6 || !bits.every((b) => typeof b === 'number' && Number.isInteger(b))) {
    throw new ParseError(`${file}: bits_per_field must be an array of 6 integers`, { file, field: 'bits_per_field' });
  }
  if (!Array.isArray(offs) || offs.length !== 6) throw new ParseError(`${file}: field_offset must be an array of 6 strings`, { file, field: 'field_offset' });
  const offsets = offs.map((v, i) => parseValue(v, `${file}: field_offset[${i}] (${BKEY_FIELDS[i]?.name})`, 64, { file, field: BKEY_FIELDS[i]?.name ?? i }));
  let keyU64s: number | undefined;
  if (o.key_u64s !== undefined) {
    if (typeof o.key_u64s !== 'number' || !Number.isInteger(o.key_u64s)) throw new ParseError(`${file}: key_u64s must be an integer`, { file, field: 'key_u64s' });
    keyU64s = o.key_u64s;
  }
  return makeFormat(bits as number[], offsets, keyU64s);
}

const KEY_FIELDS = ['inode', 'offset', 'snapshot', 'size', 'version_hi', 'version_lo'] as const;

export function parseKeysJson(text: string, file = 'keys'): Bkey[] {
  const j = parseJson(text, file);
  if (!Array.isArray(j)) throw new ParseError(`${file}: expected an array of key objects`, { file });
  return j.map((k: unknown, i) => {
    if (typeof k !== 'object' || k === null || Array.isArray(k)) throw new ParseError(`${file}: key ${i} is not an object`, { file, key: i });
    const o = k as Record<string, unknown>;
    const v: U64[] = KEY_FIELDS.map((name, fi) => {
      if (!(name in o)) throw new ParseError(`${file}: key ${i} has no ${name}`, { file, key: i, field: name });
      return parseValue(o[name], `${file}: key ${i} ${name}`, (BKEY_FIELDS[fi] as { width: 32 | 64 }).width, { file, key: i, field: name });
    });
    return makeBkey({ inode: v[0] as U64, offset: v[1] as U64, snapshot: (v[2] as U64).lo, size: (v[3] as U64).lo, versionHi: (v[4] as U64).lo, versionLo: v[5] as U64 });
  });
}
