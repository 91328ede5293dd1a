// Live oracle: llvm-mc (LLVM 14) re-assembles the committed arm64 golden lines, a fresh set of
// random-operand lines per form, and the label programs (-filetype=obj + llvm-objcopy); our
// encoders and CodeBuffer must produce the same bytes. Fails (not skips) under CI=true when
// llvm-mc is missing (tools.ts).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CodeBuffer } from '../../codegen/buffer.js';
import { requirePythonModule, requireTool } from './tools.js';
import { Rng } from '../../support/rng.js';
import * as a64 from '../../codegen/arm64/index.js';
import { type BuilderCall, runCall, sparseWords, wordToHex } from '../codegen/arm64-support.js';
import { families, programBuilders } from '../codegen/arm64-forms.js';

const MC = 'llvm-mc';
const haveMc = requireTool(MC, ['--version'], 'llvm') && requireTool('llvm-objcopy', ['--version'], 'llvm');

interface Vectors {
  cases: { call: BuilderCall; asm: string; bytes: string }[];
  programs: { name: string; asm: string; image: { length: number; words: Record<string, string> } }[];
}
const vectors = JSON.parse(readFileSync(join(import.meta.dirname, '../vectors/asm/arm64.json'), 'utf8')) as Vectors;

function mcEncode(lines: string[]): string[] {
  const r = spawnSync(MC, ['-triple=aarch64', '-mattr=+lse,+bti', '-show-encoding'], { input: lines.join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(r.stderr);
  const out = [...r.stdout.matchAll(/encoding: \[([^\]]*)\]/g)].map((m) => (m[1] as string).split(',').map((b) => b.trim().replace(/^0x/, '')).join(' '));
  expect(out.length).toBe(lines.length);
  return out;
}

function mcProgram(text: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'jitbox-a64-'));
  const s = join(dir, 'p.s'), o = join(dir, 'p.o'), bin = join(dir, 'p.bin');
  writeFileSync(s, text);
  for (const [cmd, args] of [[MC, ['-triple=aarch64', '-mattr=+lse,+bti', '-filetype=obj', s, '-o', o]], ['llvm-objcopy', ['-O', 'binary', '--only-section=.text', o, bin]]] as const) {
    const r = spawnSync(cmd, [...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
  }
  return new Uint8Array(readFileSync(bin));
}

describe.skipIf(!haveMc)('arm64 assembler vs live llvm-mc', () => {
  it('the committed golden lines', () => {
    const fresh = mcEncode(vectors.cases.map((c) => c.asm));
    const bad = vectors.cases.filter((c, i) => wordToHex(runCall(c.call)) !== fresh[i]).map((c) => c.asm);
    expect(bad).toEqual([]);
  });

  it('fresh random operands for every form (seeded)', () => {
    const cases = Object.values(families).flatMap((arb) => fc.sample(arb, { seed: 20261122, numRuns: 300 }));
    const fresh = mcEncode(cases.map((c) => c.asm));
    const bad = cases.filter((c, i) => wordToHex(runCall(c.call)) !== fresh[i]).map((c, i) => `${c.asm}: ${fresh[i]}`);
    expect(bad).toEqual([]);
    expect(cases.length).toBeGreaterThan(5000);
  });

  for (const p of vectors.programs) {
    it(`label program ${p.name} (resolved by llvm-mc -filetype=obj)`, () => {
      const buf = new CodeBuffer('arm64');
      (programBuilders[p.name] as (b: CodeBuffer) => void)(buf);
      expect(sparseWords(buf.finish({ base: 0 }).bytes)).toEqual(sparseWords(mcProgram(p.asm)));
    });
  }
});

// ------------------------------------------------------------------------------------------------
// Execution under Unicorn (python3-unicorn 2.0.1): constant synthesis and veneers do what they say.

const haveUnicorn = requirePythonModule('unicorn', 'python3-unicorn');

const RUNNER = `
import sys, json
from unicorn import *
from unicorn.arm64_const import *
req = json.load(sys.stdin)
mu = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
for r in req['regions']:
    mu.mem_map(r['addr'], r['size'])
    mu.mem_write(r['addr'], bytes.fromhex(r['hex']))
mu.reg_write(UC_ARM64_REG_SP, req['sp'])
mu.reg_write(UC_ARM64_REG_X28, req['data'])
mu.reg_write(UC_ARM64_REG_X30, req['until'])
mu.emu_start(req['entry'], req['until'], count=100000)
out = {'x0': mu.reg_read(UC_ARM64_REG_X0), 'data': mu.mem_read(req['data'], req['dataSize']).hex(),
       'extra': mu.mem_read(req['extra'], req['extraSize']).hex()}
print(json.dumps(out))
`;

function hexOf(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

describe.skipIf(!haveUnicorn)('arm64 code executed by Unicorn', () => {
  it('constant synthesis and emitAddConst compute their values; STUR stores unaligned; a veneered BL reaches a helper 200 MiB away', () => {
    const BASE = 0x40000000, HELPER = BASE + 200 * 1024 * 1024, DATA = 0x20000000, STOP = 0x30000000;
    const rng = new Rng(99);
    const consts: bigint[] = [0n, 1n, 0xffffffffffffffffn, 0x123456789abcdef0n, 0x5555555555551234n, 0xffff0000ffff0000n, 0x00000000deadbeefn, 0xfffffffffffff000n];
    for (let i = 0; i < 40; i++) {
      const halves = [0, 1, 2, 3].map(() => BigInt([0, 0xffff, rng.u32() & 0xffff][rng.below(3)] as number));
      consts.push((halves[0] as bigint) | ((halves[1] as bigint) << 16n) | ((halves[2] as bigint) << 32n) | ((halves[3] as bigint) << 48n));
    }
    const buf = new CodeBuffer('arm64');
    a64.emitStp(buf, a64.FP, a64.LR, a64.SP, -16, 'pre');
    consts.forEach((v, k) => {
      a64.emitMovImm(buf, a64.X9, Number(v & 0xffffffffn), Number(v >> 32n));
      a64.emitStr(buf, a64.X9, a64.X28, 8 * k);
    });
    // emitAddConst / emitLdStOffset: x27 = data + 0x1000; results at x27 + 8k + 4 (STUR, unaligned).
    const ADD_BASE = 0x0123456789abcdefn;
    const addVals = [0, 4095, -16, 0x5000, 0xfff123, -0x10001, 0x12345678, -(2 ** 40), 2 ** 45 + 3];
    a64.emitAddConst(buf, a64.X27, a64.X28, 0x1000);
    a64.emitMovImm(buf, a64.X12, Number(ADD_BASE & 0xffffffffn), Number(ADD_BASE >> 32n));
    addVals.forEach((v, k) => {
      a64.emitAddConst(buf, a64.X11, a64.X12, v, a64.X10);
      a64.emitLdStOffset(buf, 'str', a64.X11, a64.X27, 8 * k + 4);
    });
    a64.emitMovz(buf, a64.X0, 41);
    a64.emitBl(buf, { symbol: 'helper' }, { veneer: true });
    a64.emitLdp(buf, a64.FP, a64.LR, a64.SP, 16, 'post');
    a64.emitRet(buf);
    const { bytes, relocations } = buf.finish({ base: BASE, resolve: (s) => (s === 'helper' ? HELPER : undefined) });
    expect(relocations[0]?.veneer).toBeDefined();
    const helper = new CodeBuffer('arm64');
    a64.emitAddImm(helper, a64.X0, a64.X0, 1);
    a64.emitRet(helper);
    const req = {
      regions: [
        { addr: BASE, size: 0x10000, hex: hexOf(bytes) },
        { addr: HELPER, size: 0x1000, hex: hexOf(helper.finish({ base: HELPER }).bytes) },
        { addr: DATA, size: 0x10000, hex: '' },
        { addr: STOP, size: 0x1000, hex: '' },
      ],
      sp: DATA + 0x8000, data: DATA, dataSize: consts.length * 8, extra: DATA + 0x1004, extraSize: addVals.length * 8, entry: BASE, until: STOP,
    };
    const r = spawnSync('/usr/bin/python3', ['-c', RUNNER], { input: JSON.stringify(req), encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    const out = JSON.parse(r.stdout) as { x0: number; data: string; extra: string };
    expect(out.x0).toBe(42);
    addVals.forEach((v, k) => {
      const le = out.extra.slice(k * 16, k * 16 + 16);
      const got = BigInt('0x' + (le.match(/../g) as string[]).reverse().join(''));
      expect(got, `add ${v}`).toBe(BigInt.asUintN(64, ADD_BASE + BigInt(v)));
    });
    consts.forEach((v, k) => {
      const le = out.data.slice(k * 16, k * 16 + 16);
      const got = BigInt('0x' + (le.match(/../g) as string[]).reverse().join(''));
      expect(got, `constant ${k}`).toBe(v);
    });
  });
});

// ------------------------------------------------------------------------------------------------
// Constant synthesis vs LLVM's AArch64 expandMOVImm (clang-19 -O2): never longer.

const haveClang = requireTool('clang-19', ['--version'], 'clang-19');

describe.skipIf(!haveClang)('arm64 constant synthesis vs clang-19', () => {
  it('our sequence is never longer than clang-19 -O2 for 400 seeded constants', () => {
    const rng = new Rng(4242);
    const values: bigint[] = [0x123456789abcdef0n, 0x5555555555551234n, 0xffffffffc0000000n, 0x00ff00ff00ff00ffn, 0x1234ffffffff5678n];
    while (values.length < 400) {
      const halves = [0, 1, 2, 3].map(() => BigInt([0, 0xffff, rng.u32() & 0xffff, 0x5555, 0x00ff][rng.below(5)] as number));
      values.push((halves[0] as bigint) | ((halves[1] as bigint) << 16n) | ((halves[2] as bigint) << 32n) | ((halves[3] as bigint) << 48n));
    }
    const src = values.map((v, i) => `unsigned long f${i}(void){return 0x${v.toString(16)}UL;}`).join('\n');
    const dir = mkdtempSync(join(tmpdir(), 'jitbox-a64c-'));
    writeFileSync(join(dir, 'c.c'), src);
    const r = spawnSync('clang-19', ['--target=aarch64-linux-gnu', '-O2', '-S', '-o', '-', join(dir, 'c.c')], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(r.stderr);
    const counts = new Map<number, number>();
    let cur = -1;
    for (const line of r.stdout.split('\n')) {
      const m = /^f(\d+):/.exec(line);
      if (m) { cur = Number(m[1]); counts.set(cur, 0); continue; }
      if (cur >= 0 && /^\s+(mov|movk|movn|movz|orr)\s/.test(line)) counts.set(cur, (counts.get(cur) as number) + 1);
    }
    let shorter = 0;
    values.forEach((v, i) => {
      const ours = a64.movImmWords(a64.X0, Number(v & 0xffffffffn), Number(v >> 32n)).length;
      const llvm = counts.get(i) as number;
      expect(ours, `0x${v.toString(16)}: ours ${ours}, clang ${llvm}`).toBeLessThanOrEqual(llvm);
      if (ours < llvm) shorter++;
    });
    expect(counts.size).toBe(values.length);
    void shorter;
  });
});
