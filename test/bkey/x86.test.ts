// The x86_64 compiled unpacker (reference/bkey.md §4): byte-exact with bcachefs's extents example,
// the observed size/instruction table, every instruction decoded by Capstone at the same length
// and mnemonic, and sizes of realistic and random formats in the reference's ranges.
import { beforeAll, describe, expect, it } from 'vitest';
import { disasmAll, initCapstone } from '../../support/capstone.js';
import { Rng } from '../../support/rng.js';
import { genX86Unpacker } from '../../codegen/bkey/x86_64.js';
import { makeFormat } from '../../jit/bkey/format.js';
import { formatForKeySet, genFamily, KEY_FAMILIES, randomComputedFormat, randomFormat } from '../../jit/bkey/keys.js';
import type { U64 } from '../../support/u64.js';

const z: U64 = { lo: 0, hi: 0 };
const n = (v: number): U64 => ({ lo: v >>> 0, hi: Math.floor(v / 2 ** 32) >>> 0 });
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

beforeAll(async () => {
  await initCapstone();
});

function capstoneCheck(code: { bytes: Uint8Array; instructions: { bytes: Uint8Array; text: string }[] }): void {
  const dec = disasmAll('x86_64', code.bytes, 0x1000);
  expect(dec.map((d) => d.size)).toEqual(code.instructions.map((i) => i.bytes.length));
  dec.forEach((d, k) => {
    expect(d.mnemonic.startsWith('.byte')).toBe(false);
    expect(d.mnemonic).toBe(code.instructions[k]!.text.split(' ')[0]);
  });
}

describe('x86_64 bkey unpacker', () => {
  it('reproduces the extents example byte for byte', () => {
    const f = makeFormat([0, 24, 0, 8, 0, 0], [n(4242), z, n(0xffffffff), z, z, z]);
    const code = genX86Unpacker(f);
    const want = '8b06|0504010000|25ffffff00|8907|48c7472092100000|8b4604|c1e808|48894718|c74714ffffffff|0fb64604|894710|31c0|89470c|48894704|c3';
    expect(hexOf(code.bytes)).toBe(want.replace(/\|/g, ''));
    expect(code.instructions.length).toBe(15);
    expect(code.size).toBe(56);
    capstoneCheck(code);
    const ibt = genX86Unpacker(f, { endbr64: true });
    expect(hexOf(ibt.bytes)).toBe('f30f1efa' + want.replace(/\|/g, ''));
  });

  // §4 "Observed outputs": bytes and instructions per format shape (offsets chosen as the shapes imply).
  it.each([
    ['extents, 64 inodes', [8, 24, 0, 8, 0, 0], [n(4096), n(0x1000), n(0xffffffff), z, z, z], 68, 18],
    ['inodes', [0, 24, 0, 0, 0, 0], [z, n(4096), n(0xffffffff), z, z, z], 55, 16],
    ['alloc (not snapshotted)', [8, 24, 0, 0, 0, 0], [n(0x10), z, z, z, z, z], 55, 16],
    ['dirents', [8, 64, 0, 0, 0, 0], [n(4096), z, n(0xffffffff), z, z, z], 61, 16],
    ['full width', [64, 64, 32, 32, 32, 64], [z, z, z, z, z, z], 75, 20],
  ] as const)('%s: bits %j offsets %j -> %i bytes, %i instructions', (_name, bits, offsets, bytes, instrs) => {
    const code = genX86Unpacker(makeFormat(bits, offsets));
    expect(code.size).toBe(bytes);
    expect(code.instructions.length).toBe(instrs);
    capstoneCheck(code);
  });

  it('keeps the `add rax,0` quirk for offset 0 and bits >= 33', () => {
    const code = genX86Unpacker(makeFormat([0, 40, 0, 0, 0, 0], [z, z, z, z, z, z]));
    expect(code.instructions.map((i) => i.text)).toContain('add rax,0x0');
    expect(hexOf(code.bytes)).toContain('480500000000');
  });

  it('realistic formats give 50-80 bytes; random formats stay <= 255 and decode cleanly', () => {
    const rng = new Rng(12);
    for (const fam of KEY_FAMILIES) {
      for (let k = 0; k < 5; k++) {
        const code = genX86Unpacker(formatForKeySet(genFamily(fam, rng, 400)));
        expect(code.size).toBeGreaterThanOrEqual(50);
        expect(code.size).toBeLessThanOrEqual(80);
        capstoneCheck(code);
      }
    }
    let max = 0;
    for (let k = 0; k < 300; k++) {
      const f = k % 2 ? randomFormat(rng) : randomComputedFormat(rng).format;
      const code = genX86Unpacker(f);
      max = Math.max(max, code.size);
      capstoneCheck(code);
    }
    expect(max).toBeLessThanOrEqual(216);
  });
});
