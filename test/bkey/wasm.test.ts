// The binaryen-built unpackers (per-format and the shared generic one), run natively over an
// imported WebAssembly.Memory, equal the BigInt reference byte for byte (reference/bkey.md §5).
import { describe, expect, it } from 'vitest';
import { Rng } from '../../support/rng.js';
import { packInto } from '../../jit/bkey/pack.js';
import { refBkeyBytes, refUnpack } from '../../jit/bkey/reference.js';
import { randomComputedFormat, randomFormat, randomKeyFor } from '../../jit/bkey/keys.js';
import { instantiateWasmGeneric, instantiateWasmUnpacker, WasmUnpackArena } from '../../jit/bkey/wasm-run.js';
import { buildWasmUnpacker } from '../../codegen/bkey/wasm.js';
import { makeFormat } from '../../jit/bkey/format.js';

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('wasm unpackers', () => {
  it('per-format and generic wasm equal the reference for random formats (single and batch calls)', () => {
    const rng = new Rng(2024);
    for (let n = 0; n < 80; n++) {
      const f = rng.bool() ? randomFormat(rng) : randomComputedFormat(rng).format;
      const arena = new WasmUnpackArena(f, 8);
      const compiled = instantiateWasmUnpacker(f, arena.memory);
      const generic = instantiateWasmGeneric(arena.memory);
      const mem = arena.bytes();
      const want: string[] = [];
      for (let i = 0; i < 8; i++) {
        packInto(f, randomKeyFor(rng, f), mem, arena.keyAt(i));
        want.push(hexOf(refBkeyBytes(refUnpack(f, mem, arena.keyAt(i)))));
      }
      compiled.unpackBatch(arena.dstOf(0), arena.keyAt(0), 8, arena.stride);
      for (let i = 0; i < 8; i++) expect(hexOf(arena.output(i))).toBe(want[i]);
      arena.bytes().fill(0, arena.dstOf(0), arena.dstOf(8));
      for (let i = 0; i < 8; i++) compiled.unpack(arena.dstOf(i), arena.keyAt(i));
      for (let i = 0; i < 8; i++) expect(hexOf(arena.output(i))).toBe(want[i]);
      arena.bytes().fill(0, arena.dstOf(0), arena.dstOf(8));
      generic.unpackBatch(arena.fmtAt, arena.dstOf(0), arena.keyAt(0), 8, arena.stride);
      for (let i = 0; i < 8; i++) expect(hexOf(arena.output(i))).toBe(want[i]);
    }
  });

  it('the extents format compiles to a small module with i64 loads at memarg offsets', () => {
    const z = { lo: 0, hi: 0 };
    const f = makeFormat([0, 24, 0, 8, 0, 0], [{ lo: 4242, hi: 0 }, z, { lo: 0xffffffff, hi: 0 }, z, z, z]);
    const w = buildWasmUnpacker(f);
    expect(w.size).toBeLessThan(400);
    expect(w.text).toMatch(/i64\.load32_u offset=4|i64\.load32_u align=1 offset=4|offset=4/);
    expect(w.text).toContain('(export "unpack"');
  });
});
