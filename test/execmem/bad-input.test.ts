// Issue 2 "Bad input": every refused operation is a typed error and leaves the model exactly as it
// was (stateDigest covers page tables, frames, memory contents, allocators, statistics and audit).
import { describe, expect, it } from 'vitest';
import {
  AddressSpace,
  ARCHES,
  DoubleFreeError,
  ExecmemExhaustedError,
  ForeignFreeError,
  PAGE_SIZE,
  TextPokeError,
  exampleModule,
} from '../../execmem/index.js';
import { InvalidArgumentError, JitboxError } from '../../support/errors.js';
import { space } from './helpers.js';

interface Fixture {
  s: AddressSpace;
  code: number;
  freed: number;
  prog: number;
  data: number;
}

function fixture(arch: 'x86_64' | 'arm64'): Fixture {
  const s = space(arch);
  const code = s.execmemAlloc('KPROBES', 2 * PAGE_SIZE);
  const b = s.packs.binaryPackAlloc(100);
  s.packs.binaryPackFinalize(b);
  const data = s.vmalloc(PAGE_SIZE);
  const m = s.modules.load(exampleModule(arch));
  s.modules.finishInit(m);
  const freed = s.execmemAlloc('FTRACE', PAGE_SIZE);
  s.execmemFree(freed);
  return { s, code, freed, prog: b.image, data };
}

const CASES: [string, (f: Fixture) => unknown, new (...a: never[]) => JitboxError][] = [
  ['size zero', (f) => f.s.execmemAlloc('BPF', 0), InvalidArgumentError],
  ['size negative', (f) => f.s.execmemAlloc('MODULE_TEXT', -4096), InvalidArgumentError],
  ['size fractional', (f) => f.s.execmemAllocRw('MODULE_DATA', 10.5), InvalidArgumentError],
  ['size larger than the range', (f) => f.s.execmemAlloc('KPROBES', 2 ** 47), InvalidArgumentError],
  ['size larger than physical memory', (f) => f.s.vmalloc(2 ** 33), ExecmemExhaustedError],
  ['pack program of zero bytes', (f) => f.s.packs.binaryPackAlloc(0), InvalidArgumentError],
  ['vmalloc of a fraction', (f) => f.s.vmalloc(0.5), InvalidArgumentError],
  ['poke out of bounds (guard page)', (f) => f.s.textPokeCopy(f.code + 2 * PAGE_SIZE - 4, new Uint8Array(8)), TextPokeError],
  ['poke across allocations', (f) => f.s.textPokeSet(f.prog - 64, f.s.config.trapWord, 256), TextPokeError],
  ['poke into non-executable memory', (f) => f.s.textPokeCopy(f.data, new Uint8Array(4)), TextPokeError],
  ['poke into unmapped memory', (f) => f.s.textPokeCopy(f.s.config.vmallocEnd - PAGE_SIZE, new Uint8Array(4)), TextPokeError],
  ['poke into kernel text', (f) => f.s.textPokeCopy(f.s.kernelTextBase, new Uint8Array(4)), TextPokeError],
  ['double free', (f) => f.s.execmemFree(f.freed), DoubleFreeError],
  ['free of a foreign address', (f) => f.s.execmemFree(f.code + PAGE_SIZE), ForeignFreeError],
  ['free of a data area as code', (f) => f.s.execmemFree(f.data), ForeignFreeError],
  ['pack free of a foreign address', (f) => f.s.packs.binaryPackFree(f.prog + 4096), ForeignFreeError],
  ['vfree of code', (f) => f.s.vfree(f.code), ForeignFreeError],
  ['restore_rox beyond the allocation', (f) => f.s.execmemRestoreRox(f.code, 3 * PAGE_SIZE), InvalidArgumentError],
  ['unknown type', (f) => f.s.execmemAlloc('TEXT' as 'BPF', 10), InvalidArgumentError],
];

for (const arch of ARCHES) {
  describe(`bad input leaves the model unchanged (${arch})`, () => {
    for (const [name, op, cls] of CASES) {
      it(name, () => {
        const f = fixture(arch);
        const before = f.s.stateDigest();
        let caught: unknown = null;
        try {
          op(f);
        } catch (e) {
          caught = e;
        }
        expect(caught).toBeInstanceOf(cls);
        expect((caught as JitboxError).message.length).toBeGreaterThan(10);
        expect(f.s.stateDigest()).toBe(before);
        expect(f.s.audit().ok).toBe(true);
      });
    }
    if (arch === 'arm64') {
      it('unaligned arm64 poke', () => {
        const f = fixture(arch);
        const before = f.s.stateDigest();
        expect(() => f.s.textPokeCopy(f.code + 2, new Uint8Array(4))).toThrow(TextPokeError);
        expect(() => f.s.textPokeSet(f.code, f.s.config.trapWord, 6)).toThrow(TextPokeError);
        expect(f.s.stateDigest()).toBe(before);
      });
    }
  });
}
