#!/usr/bin/env node
// Regenerate test/vectors/bkey/{x86_64,arm64}{,-generic}-unicorn.json: the compiled bkey unpackers
// (codegen/bkey/x86_64.ts, codegen/bkey/arm64.ts) and the generic ones (generic-*.ts, given the
// format in memory) for realistic and random formats, each executed
// under Unicorn (scripts/oracles/bkey-unicorn.py) on packed keys; a vector records the format, the
// code bytes, and Unicorn's 40-byte struct bkey per key. The unit test checks our generators still
// emit those bytes and that the reference unpack equals Unicorn's result. Needs the built dist/
// (npm run build) and /usr/bin/python3 with unicorn.
// Usage: node scripts/oracles/bkey-unicorn.mjs [--check]

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = (p) => import(join(ROOT, 'dist', p));
const { Rng } = await dist('support/rng.js');
const { genX86Unpacker } = await dist('codegen/bkey/x86_64.js');
const { genArm64Unpacker } = await dist('codegen/bkey/arm64.js');
const { genX86GenericUnpacker } = await dist('codegen/bkey/generic-x86_64.js');
const { genArm64GenericUnpacker } = await dist('codegen/bkey/generic-arm64.js');
const { encodeFormat } = await dist('jit/bkey/format.js');
const { formatToJson } = await dist('jit/bkey/format.js');
const { KEY_FAMILIES, genFamily, formatForKeySet, randomFormat, randomComputedFormat, randomKeyFor } = await dist('jit/bkey/keys.js');
const { packKey } = await dist('jit/bkey/pack.js');

const hex = (b) => Buffer.from(b).toString('hex');
const rng = new Rng(7);
const formats = [];
for (const fam of KEY_FAMILIES) for (let i = 0; i < 3; i++) formats.push(formatForKeySet(genFamily(fam, rng, 300)));
for (let i = 0; i < 150; i++) formats.push(i % 2 ? randomFormat(rng) : randomComputedFormat(rng).format);
const check = process.argv.includes('--check');
let failed = false;
for (const [name, arch, gen, call, generic] of [
  ['x86_64', 'x86_64', genX86Unpacker, 'SysV rdi=dst rsi=src', false],
  ['arm64', 'arm64', genArm64Unpacker, 'AAPCS64 x0=dst x1=src', false],
  ['x86_64-generic', 'x86_64', genX86GenericUnpacker, 'SysV rdi=dst rsi=src rdx=bkey_format', true],
  ['arm64-generic', 'arm64', genArm64GenericUnpacker, 'AAPCS64 x0=dst x1=src x2=bkey_format', true],
]) {
  const keyRng = new Rng({ x86_64: 11, arm64: 12, 'x86_64-generic': 13, 'arm64-generic': 14 }[name]);
  const cases = formats.map((f) => ({
    format: formatToJson(f),
    ...(generic ? { fmt: hex(encodeFormat(f)) } : {}),
    code: hex(gen(f).bytes),
    keys: [0, 1, 2].map(() => hex(packKey(f, randomKeyFor(keyRng, f)))),
  }));
  const r = spawnSync('/usr/bin/python3', [join(ROOT, 'scripts', 'oracles', 'bkey-unicorn.py')], {
    input: JSON.stringify({ arch, cases: cases.map((c) => ({ code: c.code, fmt: c.fmt ?? '', key_u64s: c.format.key_u64s, keys: c.keys })) }),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`unicorn runner failed:\n${r.stderr}`);
  const results = JSON.parse(r.stdout).results;
  const out = {
    oracle: `unicorn 2 (scripts/oracles/bkey-unicorn.py), ${name}, ${call}`,
    ...(generic ? { code: cases[0].code } : {}),
    cases: cases.map((c, i) => {
      const res = results[i];
      if (res.error || res.bad_reads) throw new Error(`${name} case ${i}: ${res.error ?? res.bad_reads + ' reads outside the key'}`);
      return { format: c.format, ...(c.fmt ? { fmt: c.fmt } : { code: c.code }), keys: c.keys.map((k, j) => ({ packed: k, unpacked: res.outputs[j] })) };
    }),
  };
  const file = join(ROOT, 'test', 'vectors', 'bkey', `${name}-unicorn.json`);
  const text = JSON.stringify(out, null, 1) + '\n';
  if (check) {
    if (readFileSync(file, 'utf8') !== text) {
      console.error(`${file} differs from a fresh oracle run`);
      failed = true;
    } else console.log(`ok: ${file} (${out.cases.length} cases)`);
  } else {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    console.log(`wrote ${file}: ${out.cases.length} cases`);
  }
}
if (failed) process.exit(1);
