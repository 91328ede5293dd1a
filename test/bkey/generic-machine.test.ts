// The generic (interpreted) unpack as x86_64 and arm64 machine code (codegen/bkey/generic-*.ts):
// every instruction decodes in Capstone at its length with our mnemonic, branches stay inside the
// function, and the per-field body is the interpreter's ~25 instructions (reference/bkey.md §2, §9).
// Execution against the reference is covered by the Unicorn vectors and the fuzzer.
import { beforeAll, describe, expect, it } from 'vitest';
import { disasmAll, initCapstone, normaliseAsm } from '../../support/capstone.js';
import { genArm64GenericUnpacker } from '../../codegen/bkey/generic-arm64.js';
import { genX86GenericUnpacker } from '../../codegen/bkey/generic-x86_64.js';

beforeAll(async () => {
  await initCapstone();
});

describe('generic unpack machine code', () => {
  it('x86_64: decodes cleanly, branches land on instruction starts', () => {
    const code = genX86GenericUnpacker();
    const dec = disasmAll('x86_64', code.bytes, 0);
    expect(dec.map((d) => d.size)).toEqual(code.instructions.map((i) => i.bytes.length));
    const starts = new Set(dec.map((d) => d.address));
    dec.forEach((d, k) => {
      expect(d.mnemonic).toBe(code.instructions[k]!.text.split(' ')[0]);
      if (/^j/.test(d.mnemonic)) {
        const target = Number(d.opStr);
        expect(starts.has(target)).toBe(true);
        expect(code.instructions[k]!.text).toBe(`${d.mnemonic} 0x${target.toString(16)}`);
      }
    });
    const perField = (code.instructions.length - 10) / 6;
    expect(perField).toBeGreaterThanOrEqual(20);
    expect(perField).toBeLessThanOrEqual(32);
  });

  it('arm64: decodes cleanly and matches our text', () => {
    const code = genArm64GenericUnpacker();
    const dec = disasmAll('arm64', code.bytes, 0);
    expect(dec).toHaveLength(code.instructions.length);
    dec.forEach((d, k) => {
      expect(d.mnemonic).not.toBe('.inst');
      expect(normaliseAsm('arm64', d.text)).toBe(normaliseAsm('arm64', code.instructions[k]!.text));
    });
    expect(code.instructions.length).toBeLessThan(200);
  });
});
