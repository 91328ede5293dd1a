// Live: llvm-objdump-19 still prints the recorded golden listing, and disasmLlvm agrees with it on
// freshly generated random well-formed instructions (every opcode kind, random fields).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { disasmLlvm } from '../../jit/bpf/disasm.js';
import { decodeProgram, encodeProgram } from '../../jit/bpf/isa.js';
import { Rng } from '../../support/rng.js';
import { bytesToHex, hexToBytes } from '../../support/u64.js';
import { randomInsn } from '../../jit/bpf/gen.js';
import { requireTool } from './tools.js';

const SCRIPT = new URL('../../scripts/oracles/bpf-objdump.mjs', import.meta.url).pathname;
const have = requireTool('llvm-objdump-19') && requireTool('llvm-mc-19');

interface Golden { vectors: { bytes: string; text: string }[] }

function objdump(args: string[]): Golden {
  const r = spawnSync(process.execPath, [SCRIPT, '--stdout', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as Golden;
}

describe.skipIf(!have)('llvm-objdump-19 live', () => {
  it('reproduces the committed golden vectors', () => {
    const committed = JSON.parse(readFileSync(new URL('../vectors/bpf/objdump.json', import.meta.url), 'utf8')) as Golden;
    expect(objdump([]).vectors).toEqual(committed.vectors);
  });
  it('agrees with disasmLlvm on 3000 random instructions', () => {
    const rng = new Rng(19);
    const list: string[] = [];
    while (list.length < 3000) {
      const i = randomInsn(rng, 64);
      if ((i.opcode === 0x18 && i.src !== 0) || (i.opcode === 0x85 && i.src === 2)) continue;
      list.push(bytesToHex(encodeProgram([i])));
    }
    const dir = mkdtempSync(join(tmpdir(), 'bpf-od-'));
    writeFileSync(join(dir, 'in.json'), JSON.stringify(list));
    const bad: string[] = [];
    for (const v of objdump(['--inputs', join(dir, 'in.json')]).vectors) {
      const [insn] = decodeProgram(hexToBytes(v.bytes) as Uint8Array);
      const ours = insn ? disasmLlvm(insn) : '';
      if (ours !== v.text) bad.push(`${v.bytes}: ours "${ours}" objdump "${v.text}"`);
    }
    expect(bad.slice(0, 20)).toEqual([]);
  });
});
