// Live oracles for the x86_64 emulator: fresh seeded random programs (jit/fuzz/emu-x86-cases.ts,
// built with codegen/x86_64) run natively on the host CPU (scripts/oracles/x86-native-harness.c,
// compiled here with cc) and on Unicorn 2.0.1 (/usr/bin/python3), compared with the emulator; the
// anchor loops assembled by llvm-mc right now; loopB for 1e8 iterations = 0xbc6af92d0.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateX86Cases } from '../../jit/fuzz/emu-x86-cases.js';
import { initCapstone } from '../../support/capstone.js';
import { hex64, hexToBytes } from '../../support/u64.js';
import { rig } from '../emulator/helpers.js';
import { compareOutcome, type DiffCase, type Outcome, X86DiffRunner } from '../emulator/x86-diff.js';
import { requirePythonModule, requireTool } from './tools.js';

const ROOT = join(import.meta.dirname, '..', '..');
const haveCc = requireTool('cc', ['--version'], 'gcc');
const haveUnicorn = requirePythonModule('unicorn', 'python3-unicorn');
const haveLlvm = requireTool('llvm-mc', ['--version'], 'llvm');

function toLine(c: DiffCase): string {
  return `${c.code} ${c.regs.join(' ')} ${c.flags.toString(16)} ${c.data}`;
}

function parse(line: string): Outcome {
  const t = line.trim().split(/\s+/);
  if (t[0] !== 'ok') return { fault: t.slice(1).join(' ') };
  return { regs: t.slice(1, 17), flags: parseInt(t[17]!, 16), data: t[18] };
}

let harness = '';

beforeAll(async () => {
  await initCapstone();
  if (haveCc) {
    const dir = mkdtempSync(join(tmpdir(), 'jitbox-x86h-'));
    harness = join(dir, 'x86h');
    execFileSync('cc', ['-O1', '-o', harness, join(ROOT, 'scripts', 'oracles', 'x86-native-harness.c')]);
  }
});

const cases: DiffCase[] = generateX86Cases(777, 120).map((c) => ({
  name: c.name,
  code: Buffer.from(c.code).toString('hex'),
  regs: c.regs,
  flags: c.flags,
  flagMask: c.flagMask,
  data: Buffer.from(c.data).toString('hex'),
}));

function check(cmd: string, args: string[]): string[] {
  const out = execFileSync(cmd, args, { input: cases.map(toLine).join('\n') + '\n', maxBuffer: 1 << 26 }).toString().trim().split('\n');
  const runner = new X86DiffRunner();
  const failures: string[] = [];
  cases.forEach((c, i) => {
    const bad = compareOutcome(c, runner.run(c), parse(out[i]!));
    if (bad.length) failures.push(`${c.name} (${c.code}): ${bad.join('; ')}`);
  });
  return failures;
}

describe('x86_64 emulator, live oracles', () => {
  it.skipIf(!haveCc)('agrees with the host CPU on 120 fresh random programs', () => {
    expect(check(harness, []).slice(0, 5)).toEqual([]);
  });

  it.skipIf(!haveUnicorn)('agrees with Unicorn 2.0.1 on the same programs', () => {
    expect(check('/usr/bin/python3', [join(ROOT, 'scripts', 'oracles', 'emu-x86_64.py')]).slice(0, 5)).toEqual([]);
  });

  it.skipIf(!haveLlvm || !haveCc)('anchor loops assembled by llvm-mc match the committed bytes and the host CPU', () => {
    const anchors = JSON.parse(readFileSync(join(ROOT, 'test', 'vectors', 'emulator', 'x86_64-anchors.json'), 'utf8')) as {
      loops: { name: string; code: string }[];
    };
    for (const l of anchors.loops) {
      const dir = mkdtempSync(join(tmpdir(), 'jitbox-asm-'));
      execFileSync('llvm-mc', ['-triple=x86_64', '-x86-asm-syntax=intel', '-filetype=obj', join(ROOT, '..', 'shared', 'bench', `${l.name}.x86.s`), '-o', join(dir, 'a.o')]);
      execFileSync('llvm-objcopy', ['-O', 'binary', '--only-section=.text', join(dir, 'a.o'), join(dir, 'a.bin')]);
      expect(readFileSync(join(dir, 'a.bin')).toString('hex')).toBe(l.code);
      const n = 12345;
      const native = execFileSync(harness, ['loop', l.code, String(n)]).toString().trim();
      const { cpu, code } = rig('x86_64', hexToBytes(l.code)!);
      const r = cpu.call(code, [n]);
      expect(hex64(r.ret.lo, r.ret.hi)).toBe(native);
    }
  });

  it('loopB for 1e8 iterations returns 0xbc6af92d0 (reference value; built CLI, `npm run test:oracles` builds dist/)', () => {
    const anchors = JSON.parse(readFileSync(join(ROOT, 'test', 'vectors', 'emulator', 'x86_64-anchors.json'), 'utf8')) as {
      loops: { name: string; code: string }[];
    };
    const l = anchors.loops.find((x) => x.name === 'loopB')!;
    const out = execFileSync('node', [join(ROOT, 'dist', 'jit', 'cli.js'), '--json', 'emu', '--hex', l.code, '--arch', 'x86_64', '--args', '100000000', '--budget', '2000000000'], { maxBuffer: 1 << 20 }).toString();
    const j = JSON.parse(out) as { ret: string; insns: number };
    expect(j.ret).toBe('0x0000000bc6af92d0');
    expect(j.insns).toBe(4 + 11 * 100_000_000 + 1);
  });
});
