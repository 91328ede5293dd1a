import { describe, expect, it } from 'vitest';
import { ARCHES, PAGE_SIZE, TextPokeError, type PokeRefusal } from '../../execmem/index.js';
import { UnsupportedError } from '../../support/errors.js';
import { expectThrow, space, trapBytes, words } from './helpers.js';

function refusal(fn: () => unknown): PokeRefusal {
  return expectThrow(fn, TextPokeError).reason;
}

for (const arch of ARCHES) {
  describe(`text_poke (${arch})`, () => {
    it('copy writes through a private alias that never appears in the page tables', () => {
      const s = space(arch);
      const a = s.execmemAlloc('KPROBES', 3 * PAGE_SIZE);
      const bytes = words(arch, 3 * PAGE_SIZE - 64);
      const seen: number[] = [];
      s.subscribe({ codeWritten: () => seen.push(s.poker.aliasMappedPages()) });
      s.textPokeCopy(a + 32, bytes);
      expect(s.read(a + 32, bytes.length)).toEqual(bytes);
      expect(s.read(a, 32)).toEqual(trapBytes(arch, 32));
      expect(s.poker.aliasMappedPages()).toBe(0);
      expect(seen).toEqual([0]);
      expect(s.pageInfo(s.poker.aliasAddress)).toBeNull();
      const audit = s.audit();
      // x86: steps of min(8192 - pageOffset, remaining); arm64: one page per step.
      expect(audit.pokeSteps).toBe(arch === 'x86_64' ? 2 : 3);
      expect(audit.pokes).toBe(1);
      expect(audit.pokeBytes).toBe(bytes.length);
      expect(audit.ok).toBe(true);
    });

    it('set fills with a byte (x86) or a repeated instruction word (arm64)', () => {
      const s = space(arch);
      const a = s.execmemAlloc('KPROBES', PAGE_SIZE);
      if (arch === 'x86_64') {
        s.textPokeSet(a + 5, 0x90, 7);
        expect(Array.from(s.read(a + 4, 9))).toEqual([0xcc, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xcc]);
      } else {
        s.textPokeSet(a + 8, 0xd503201f, 8);
        expect(Array.from(s.read(a + 8, 8))).toEqual([0x1f, 0x20, 0x03, 0xd5, 0x1f, 0x20, 0x03, 0xd5]);
        expect(refusal(() => s.textPokeSet(a + 8, 0xd503201f, 6))).toBe('unaligned');
      }
      expect(s.audit().ok).toBe(true);
    });

    it('refuses unmapped, non-executable, kernel text, free pack space, and ranges crossing allocations', () => {
      const s = space(arch);
      const data = s.vmalloc(PAGE_SIZE);
      expect(refusal(() => s.textPokeCopy(data, Uint8Array.of(1, 2, 3, 4)))).toBe('not-executable');
      expect(refusal(() => s.textPokeCopy(data + 2 * PAGE_SIZE, Uint8Array.of(1, 2, 3, 4)))).toBe('unmapped');
      const sym = s.defineKernelSymbol('helper', 16);
      expect(refusal(() => s.textPokeCopy(sym, Uint8Array.of(1, 2, 3, 4)))).toBe('kernel-text');
      const a = s.execmemAlloc('KPROBES', PAGE_SIZE);
      // x86: the next page is free ROX-cache memory; arm64: the guard page.
      expect(refusal(() => s.textPokeCopy(a + PAGE_SIZE - 4, new Uint8Array(8)))).toBe(s.roxCache ? 'across-allocations' : 'unmapped');
      const p1 = s.packs.binaryPackAlloc(100);
      const p2 = s.packs.binaryPackAlloc(100);
      expect(p2.header).toBe(p1.header + p1.size);
      expect(refusal(() => s.textPokeCopy(p1.header + p1.size - 4, new Uint8Array(8)))).toBe('across-allocations');
      expect(refusal(() => s.textPokeCopy(p2.header + p2.size, new Uint8Array(4)))).toBe('out-of-bounds');
      expect(refusal(() => s.textPokeCopy(a, new Uint8Array(0)))).toBe('empty');
      if (arch === 'arm64') expect(refusal(() => s.textPokeCopy(a + 2, new Uint8Array(4)))).toBe('unaligned');
      else s.textPokeCopy(a + 3, Uint8Array.of(0x90));
    });

    it('raw single-instruction patching exists on arm64 only', () => {
      const s = space(arch);
      const a = s.execmemAlloc('KPROBES', PAGE_SIZE);
      if (arch === 'x86_64') {
        expectThrow(() => s.patchTextNosync(a, 0x90909090), UnsupportedError);
        return;
      }
      s.patchTextNosync(a + 4, 0x14000001);
      expect(Array.from(s.read(a + 4, 4))).toEqual([0x01, 0x00, 0x00, 0x14]);
      expect(refusal(() => s.insnWriteRaw(a + 2, 0))).toBe('unaligned');
    });
  });
}

describe('audit catches code changed outside text_poke', () => {
  for (const arch of ARCHES) {
    it(arch, () => {
      const s = space(arch);
      const a = s.execmemAlloc('KPROBES', PAGE_SIZE);
      expect(s.audit().ok).toBe(true);
      const host = s.translate(a + 16, 'fetch');
      new Uint8Array(s.memory.buffer)[host] = 0x90; // a stray store that bypassed the page tables
      const report = s.audit();
      expect(report.ok).toBe(false);
      expect(report.violations[0]?.page).toBe(`0x${BigInt.asUintN(64, BigInt(a)).toString(16)}`);
      expect(report.violations[0]?.what).toMatch(/outside text_poke/);
    });
  }
});

describe('audit of trap-filled pages shadowed without a copy', () => {
  for (const arch of ARCHES) {
    it(`${arch}: a stray store into a never-poked pack page or next to a poke is caught`, () => {
      const s = space(arch);
      const bin = s.packs.binaryPackAlloc(100);
      const far = bin.header + 64 * PAGE_SIZE;
      expect(s.audit().ok).toBe(true);
      new Uint8Array(s.memory.buffer)[s.translate(far + 8, 'fetch')] = 0x90;
      const stray = s.audit();
      expect(stray.ok).toBe(false);
      expect(stray.violations.map((v) => v.page)).toEqual([`0x${BigInt.asUintN(64, BigInt(far)).toString(16)}`]);

      const t = space(arch);
      const b2 = t.packs.binaryPackAlloc(100);
      b2.rw.set(words(arch, 64), b2.rwImageOffset);
      t.packs.binaryPackFinalize(b2);
      expect(t.audit().ok).toBe(true);
      new Uint8Array(t.memory.buffer)[t.translate(b2.header + b2.size + 4, 'fetch')] = 0x90;
      expect(t.audit().ok).toBe(false);
    });
  }
});
