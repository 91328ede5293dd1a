// disasmLlvm against llvm-objdump-19's own listing of 1060 distinct instructions (golden vectors
// recorded by scripts/oracles/bpf-objdump.mjs into test/vectors/bpf/objdump.json).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { disasmLlvm } from '../../jit/bpf/disasm.js';
import { decodeProgram } from '../../jit/bpf/isa.js';
import { hexToBytes } from '../../support/u64.js';

interface Golden { tool: string; vectors: { bytes: string; text: string }[] }
const golden = JSON.parse(readFileSync(new URL('../vectors/bpf/objdump.json', import.meta.url), 'utf8')) as Golden;

describe('disasmLlvm matches llvm-objdump-19', () => {
  it('has the recorded vectors', () => {
    expect(golden.vectors.length).toBeGreaterThan(1000);
  });
  it('prints every recorded instruction exactly as llvm-objdump does', () => {
    const bad: string[] = [];
    for (const v of golden.vectors) {
      const [insn] = decodeProgram(hexToBytes(v.bytes) as Uint8Array);
      const ours = insn ? disasmLlvm(insn) : '<none>';
      if (ours !== v.text) bad.push(`${v.bytes}: ours "${ours}" objdump "${v.text}"`);
    }
    expect(bad.slice(0, 20)).toEqual([]);
  });
});
