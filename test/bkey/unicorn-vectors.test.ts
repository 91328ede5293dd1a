// Golden vectors from Unicorn (scripts/oracles/bkey-unicorn.mjs): for each recorded format our
// x86_64 and arm64 generators (and the generic x86_64/arm64 interpreters, given the format in memory)
// still emit the recorded bytes, and Unicorn's execution of them on each packed key equals the
// BigInt reference unpack (reference/bkey.md §2, §4, §5).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { genArm64Unpacker } from '../../codegen/bkey/arm64.js';
import { genX86Unpacker } from '../../codegen/bkey/x86_64.js';
import { genX86GenericUnpacker } from '../../codegen/bkey/generic-x86_64.js';
import { genArm64GenericUnpacker } from '../../codegen/bkey/generic-arm64.js';
import { encodeFormat } from '../../jit/bkey/format.js';
import { parseFormatJson } from '../../jit/bkey/json.js';
import { refBkeyBytes, refUnpack } from '../../jit/bkey/reference.js';

interface Vector {
  format: { key_u64s: number; bits_per_field: number[]; field_offset: string[] };
  code?: string;
  /** The bkey_format bytes passed to the generic unpacker. */
  fmt?: string;
  keys: { packed: string; unpacked: string }[];
}

/** Per-format files carry code per case; the generic file carries its one function at the top. */
const load = (arch: string): Vector[] => {
  const j = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'vectors', 'bkey', `${arch}-unicorn.json`), 'utf8')) as { code?: string; cases: Vector[] };
  return j.cases.map((c) => ({ ...c, code: c.code ?? (j.code as string) }));
};

describe.each([
  ['x86_64', genX86Unpacker],
  ['arm64', genArm64Unpacker],
  ['x86_64-generic', () => genX86GenericUnpacker()],
  ['arm64-generic', () => genArm64GenericUnpacker()],
] as const)('%s unpacker golden vectors (Unicorn)', (arch, gen) => {
  const vectors = load(arch);
  it('has realistic and random cases', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(150);
  });
  it('emits the recorded bytes, and Unicorn ran them to the reference result', () => {
    for (const v of vectors) {
      const f = parseFormatJson(JSON.stringify(v.format));
      expect(Buffer.from(gen(f).bytes).toString('hex')).toBe(v.code as string);
      if (v.fmt !== undefined) expect(Buffer.from(encodeFormat(f)).toString('hex')).toBe(v.fmt);
      for (const k of v.keys) {
        const want = Buffer.from(refBkeyBytes(refUnpack(f, Buffer.from(k.packed, 'hex')))).toString('hex');
        expect(k.unpacked).toBe(want);
      }
    }
  });
});
