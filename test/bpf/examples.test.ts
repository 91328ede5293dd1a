// The C examples under examples/bpf/: each committed clang-19 object loads through loadElf, passes
// the verifier (kernel profile, its maps) and gives on the reference interpreter the r0 (and the
// trace_printk output) that the same C compiled natively with gcc produced (expected.json, recorded
// by examples/bpf/record-expected.mjs).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadElf } from '../../jit/bpf/elf.js';
import { kernelProfile } from '../../jit/bpf/helpers-kernel.js';
import { BpfInterpreter } from '../../jit/bpf/interp.js';
import { OPCODE_INFO } from '../../jit/bpf/isa.js';
import { instantiate } from '../../jit/bpf/maps.js';
import { verifyProgram } from '../../jit/bpf/verifier.js';
import { hex64 } from '../../support/u64.js';

interface Run { input: string; r0: string; trace?: string }
interface Example { object: string; source: string; cpu: string; programs: Record<string, { section: string; runs: Run[] }> }

const dir = 'examples/bpf/';
const expected = JSON.parse(readFileSync(dir + 'expected.json', 'utf8')) as Record<string, Example>;

describe('examples/bpf', () => {
  it('has at least five C programs with committed objects', () => {
    expect(Object.keys(expected).length).toBeGreaterThanOrEqual(5);
    for (const ex of Object.values(expected)) {
      expect(readFileSync(dir + ex.source, 'utf8')).toContain('#include "native_main.h"');
      expect(new Uint8Array(readFileSync(dir + ex.object)).subarray(0, 4)).toEqual(Uint8Array.of(0x7f, 0x45, 0x4c, 0x46));
    }
  });

  for (const [objName, ex] of Object.entries(expected)) {
    describe(objName, () => {
      const obj = loadElf(new Uint8Array(readFileSync(dir + ex.object)));
      it('loads every program named in expected.json, in its section', () => {
        for (const [name, p] of Object.entries(ex.programs)) {
          const prog = obj.programs.find((x) => x.name === name);
          expect(prog?.section).toBe(p.section);
        }
      });
      for (const [name, p] of Object.entries(ex.programs)) {
        for (const run of p.runs) {
          it(`${name} on ${run.input} gives ${run.r0}`, () => {
            const { maps, programs } = instantiate(obj);
            const k = obj.programs.findIndex((x) => x.name === name);
            const prog = programs[k]!;
            const v = verifyProgram(prog.insns, { profile: kernelProfile, maps, strict: false });
            expect(v.reachable).toBeGreaterThan(0);
            const r = new BpfInterpreter(prog, kernelProfile).run({ mem: new Uint8Array(readFileSync(dir + run.input)) });
            expect(hex64(r.r0.lo, r.r0.hi)).toBe(run.r0);
            expect(r.trace.join('')).toBe(run.trace ?? '');
          });
        }
      }
    });
  }

  it('the v4 example really uses sdiv/smod, movsx, ldsx and bswap', () => {
    const p = loadElf(new Uint8Array(readFileSync(dir + 'signed_v4.o'))).programs[0]!;
    const kinds = new Set(p.insns.map((i) => {
      const info = OPCODE_INFO[i.opcode]!;
      if (info.kind === 'alu' && (info.op === 0x3 || info.op === 0x9) && i.off === 1) return 'sdivmod';
      if (info.kind === 'alu' && info.op === 0xb && info.srcX && i.off !== 0) return 'movsx';
      if (i.opcode === 0xd7) return 'bswap';
      return info.kind;
    }));
    for (const k of ['sdivmod', 'movsx', 'ldsx', 'bswap']) expect(kinds).toContain(k);
  });

  it('loop.o links its .text subprograms and proves its stack accesses', () => {
    const obj = loadElf(new Uint8Array(readFileSync(dir + 'loop.o')));
    const p = obj.programs[0]!;
    expect(p.subprograms).toEqual(['word_at', 'popcount']);
    const v = verifyProgram(p.insns, { profile: kernelProfile, maps: instantiate(obj).maps });
    expect(v.functions.length).toBe(3);
    expect(v.backEdges.length).toBeGreaterThan(0);
  });

  it('count_btf keeps map contents across runs of the same maps (like a pinned map)', () => {
    const obj = loadElf(new Uint8Array(readFileSync(dir + 'count_btf.o')));
    const { maps, programs } = instantiate(obj);
    const vm = new BpfInterpreter(programs[0]!, kernelProfile);
    const text = new Uint8Array(readFileSync(dir + 'inputs/text.bin'));
    vm.run({ mem: text });
    vm.run({ mem: text });
    const totals = maps.find((m) => m.name === 'totals')!;
    const total = new DataView(totals.lookup(Uint8Array.of(0, 0, 0, 0))!.buffer).getBigUint64(0, true);
    expect(total).toBe(BigInt(2 * text.length));
  });
});
