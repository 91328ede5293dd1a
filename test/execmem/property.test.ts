import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ARCHES } from '../../execmem/index.js';
import { OpDriver } from '../../execmem/op-driver.js';

const op = fc.record({ kind: fc.nat(9), a: fc.nat(0xffff), b: fc.nat(0xfffff) });

for (const arch of ARCHES) {
  describe(`random operation sequences (${arch})`, () => {
    it('keep allocations disjoint and in range, freed space trapped, counts consistent, no W+X', () => {
      fc.assert(
        fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), fc.nat(1000), (ops, seed) => {
          const d = new OpDriver(arch, seed);
          for (const o of ops) {
            d.apply(o);
            d.check(true);
          }
        }),
        { numRuns: 25, seed: 20260 },
      );
    });

    it('hold as well with other configurations (x86: BPF from the ROX cache; no KASLR; 4 KiB packs)', () => {
      const options = arch === 'x86_64' ? { bpfFromRoxCache: true, kaslr: false, hugePacks: false } : { kaslr: false, hugePacks: false };
      fc.assert(
        fc.property(fc.array(op, { minLength: 1, maxLength: 30 }), fc.nat(1000), (ops, seed) => {
          const d = new OpDriver(arch, seed, options);
          for (const o of ops) {
            d.apply(o);
            d.check(true);
          }
        }),
        { numRuns: 12, seed: 777 },
      );
    });

    it('the checker notices a program byte changed behind the page tables', () => {
      const d = new OpDriver(arch, 3);
      d.apply({ kind: 4, a: 1, b: 300 });
      d.check(true);
      const prog = d.s.packs.packList()[0]!;
      const host = d.s.translate(prog.base + 8, 'read');
      new Uint8Array(d.s.memory.buffer)[host] ^= 0xff;
      expect(() => d.check(true)).toThrow(/changed/);
    });
  });
}
