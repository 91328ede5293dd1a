// `jitbox emu` end to end on the built CLI (npm test builds dist/ first).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'jit', 'cli.js');

function emu(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('node', [CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!existsSync(CLI))('jitbox emu', () => {
  it('runs hex code with arguments and prints one JSON object', () => {
    const r = emu(['--json', 'emu', '--hex', '48 89 f8 48 01 f0 c3', '--arch', 'x86_64', '--args', '5,0x10']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as { ret: string; regs: Record<string, string>; insns: number; branches: number };
    expect(j.ret).toBe('0x0000000000000015');
    expect(j.regs.rsi).toBe('0x0000000000000010');
    expect(Object.keys(j.regs)).toHaveLength(16);
    expect(j.insns).toBe(3);
  });

  it('passes --mem-hex memory as the first argument and traces with Capstone text', () => {
    const r = emu(['emu', '--hex', '48 8b 07 c3', '--arch', 'x86_64', '--mem-hex', '11 22 33 44 55 66 77 88', '--trace']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/: mov rax, qword ptr \[rdi\]\n.*: ret\nret 0x8877665544332211/);
  });

  it('reports typed faults as one line (text) or one object (JSON) with a failing status', () => {
    const bad = emu(['emu', '--hex', '06', '--arch', 'x86_64']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^jitbox: invalid instruction at 0x[0-9a-f]+/);
    const loop = emu(['--json', 'emu', '--hex', 'eb fe', '--arch', 'x86_64', '--budget', '500']);
    expect(loop.status).toBe(1);
    expect(JSON.parse(loop.stdout)).toMatchObject({ kind: 'budget-exceeded' });
    expect(emu(['emu', '--hex', 'zz', '--arch', 'x86_64']).stderr).toMatch(/--hex is not a list of hex bytes/);
  });
});
