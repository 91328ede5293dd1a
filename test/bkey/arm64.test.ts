// The arm64 compiled unpacker (reference/bkey.md §5, our design): §5's check words, the extents
// example at 16 instructions / 64 bytes, every word decoded by Capstone, loads word-granular.
import { beforeAll, describe, expect, it } from 'vitest';
import { disasmAll, initCapstone, normaliseAsm } from '../../support/capstone.js';
import { Rng } from '../../support/rng.js';
import type { U64 } from '../../support/u64.js';
import { encArm64Unpack, genArm64Unpacker } from '../../codegen/bkey/arm64.js';
import { makeFormat } from '../../jit/bkey/format.js';
import { formatForKeySet, genFamily, KEY_FAMILIES, randomComputedFormat, randomFormat } from '../../jit/bkey/keys.js';

const z: U64 = { lo: 0, hi: 0 };
const n = (v: number): U64 => ({ lo: v >>> 0, hi: Math.floor(v / 2 ** 32) >>> 0 });
const ALIAS: Record<string, string> = { movz: 'mov', movn: 'mov' };

beforeAll(async () => {
  await initCapstone();
});

function capstoneCheck(code: { bytes: Uint8Array; instructions: { text: string }[] }): void {
  const dec = disasmAll('arm64', code.bytes, 0x1000);
  expect(dec).toHaveLength(code.instructions.length);
  dec.forEach((d, k) => {
    expect(d.mnemonic).not.toBe('.inst');
    const ours = code.instructions[k]!.text.split(' ')[0]!;
    expect(d.mnemonic).toBe(ALIAS[ours] ?? ours);
    if (!(ours in ALIAS)) expect(normaliseAsm('arm64', d.text)).toBe(normaliseAsm('arm64', code.instructions[k]!.text));
  });
}

describe('arm64 bkey unpacker', () => {
  it('encodes the §5 check words', () => {
    expect(encArm64Unpack.andW9Mask24()).toBe(0x12005d29);
    expect(encArm64Unpack.ret()).toBe(0xd65f03c0);
    expect(encArm64Unpack.btiC()).toBe(0xd503245f);
    expect(encArm64Unpack.ldrX(9, 1, 8)).toBe(0xf9400429);
  });

  it('unpacks the extents example in 16 instructions (64 bytes)', () => {
    const f = makeFormat([0, 24, 0, 8, 0, 0], [n(4242), z, n(0xffffffff), z, z, z]);
    const code = genArm64Unpacker(f);
    expect(code.instructions.length).toBe(16);
    expect(code.size).toBe(64);
    expect(code.instructions.map((i) => i.text)).toEqual([
      'ldr w9, [x1]', 'and w9, w9, #0xffffff', 'add w9, w9, #0x104', 'str w9, [x0]',
      'mov x10, #0x1092', 'str x10, [x0, #32]',
      'ldr w9, [x1, #4]', 'ubfx x9, x9, #8, #24', 'str x9, [x0, #24]',
      'mov w10, #-1', 'str w10, [x0, #20]',
      'ldrb w9, [x1, #4]', 'str w9, [x0, #16]',
      'str wzr, [x0, #12]', 'stur xzr, [x0, #4]', 'ret',
    ]);
    capstoneCheck(code);
    const dec = disasmAll('arm64', code.bytes, 0);
    expect(dec[1]!.text.replace(/\s+/g, ' ')).toBe('and w9, w9, #0xffffff');
    expect(genArm64Unpacker(f, { bti: true }).instructions[0]!.text).toBe('bti c');
  });

  it('typical formats take 14-20 instructions; random formats decode cleanly', () => {
    const rng = new Rng(21);
    for (const fam of KEY_FAMILIES) {
      const code = genArm64Unpacker(formatForKeySet(genFamily(fam, rng, 300)));
      expect(code.instructions.length).toBeGreaterThanOrEqual(14);
      expect(code.instructions.length).toBeLessThanOrEqual(20);
      capstoneCheck(code);
    }
    for (let k = 0; k < 200; k++) capstoneCheck(genArm64Unpacker(k % 2 ? randomFormat(rng) : randomComputedFormat(rng).format));
  });
});
