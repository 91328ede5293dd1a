// Live oracle: the x86_64 and arm64 bkey unpackers (compiled and generic) run under Unicorn (/usr/bin/python3 + unicorn) for fresh
// seeded formats, compared with the BigInt reference. (The committed vectors are regenerated or
// checked with `node scripts/oracles/bkey-unicorn.mjs [--check]` after `npm run build`.)
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../support/rng.js';
import { genArm64Unpacker } from '../../codegen/bkey/arm64.js';
import { genX86Unpacker } from '../../codegen/bkey/x86_64.js';
import { genArm64GenericUnpacker } from '../../codegen/bkey/generic-arm64.js';
import { genX86GenericUnpacker } from '../../codegen/bkey/generic-x86_64.js';
import { encodeFormat } from '../../jit/bkey/format.js';
import { randomComputedFormat, randomFormat, randomKeyFor } from '../../jit/bkey/keys.js';
import { packKey } from '../../jit/bkey/pack.js';
import { refBkeyBytes, refUnpack } from '../../jit/bkey/reference.js';
import { requireTool } from './tools.js';

const ROOT = join(import.meta.dirname, '..', '..');
const hasUnicorn = requireTool('/usr/bin/python3', ['-c', 'import unicorn'], 'python3-unicorn');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe.each([
  ['x86_64', 'x86_64', genX86Unpacker, false],
  ['arm64', 'arm64', genArm64Unpacker, false],
  ['x86_64 generic', 'x86_64', () => genX86GenericUnpacker(), true],
  ['arm64 generic', 'arm64', () => genArm64GenericUnpacker(), true],
] as const)('bkey %s unpackers under Unicorn', (_name, arch, gen, generic) => {
  it.skipIf(!hasUnicorn)('1000 fresh formats unpack to the reference result with loads inside the key', () => {
    const rng = new Rng(4242);
    const cases = Array.from({ length: 1000 }, (_, i) => {
      const f = i % 2 ? randomFormat(rng) : randomComputedFormat(rng).format;
      const keys = [0, 1].map(() => packKey(f, randomKeyFor(rng, f)));
      return { f, code: hex(gen(f).bytes), keys };
    });
    const input = JSON.stringify({ arch, cases: cases.map((c) => ({ code: c.code, fmt: generic ? hex(encodeFormat(c.f)) : '', key_u64s: c.f.keyU64s, keys: c.keys.map(hex) })) });
    const r = spawnSync('/usr/bin/python3', [join(ROOT, 'scripts', 'oracles', 'bkey-unicorn.py')], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(r.status, r.stderr).toBe(0);
    const res = (JSON.parse(r.stdout) as { results: { outputs: string[]; bad_reads: number; error: string | null }[] }).results;
    res.forEach((out, i) => {
      expect(out.error).toBeNull();
      expect(out.bad_reads).toBe(0);
      out.outputs.forEach((o, k) => expect(o).toBe(hex(refBkeyBytes(refUnpack(cases[i]!.f, cases[i]!.keys[k]!)))));
    });
  });
});
