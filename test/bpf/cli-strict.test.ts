// `jitbox run --strict / --verify / --no-verify` on the built CLI (npm test builds dist/ first): the
// verifier runs before any engine; strict mode rejects back-edges (loops) as pre-5.3 kernels did,
// as one stderr line or one JSON object, and the default mode runs the same loop.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'jit', 'cli.js');

function jitbox(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
function tmpFile(name: string, text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'jitbox-strict-')), name);
  writeFileSync(p, text);
  return p;
}

// r0 = 10 + 9 + ... + 1 = 55; the jne at slot 4 jumps back to slot 2.
const LOOP = tmpFile('loop.asm', 'mov %r0, 0\nmov %r1, 10\nl:\nadd %r0, %r1\nsub %r1, 1\njne %r1, 0, l\nexit\n');
const STRAIGHT = tmpFile('straight.asm', 'mov %r0, 7\nadd %r0, 5\nexit\n');
const UNINIT = tmpFile('uninit.asm', 'mov %r0, %r7\nexit\n');

describe('jitbox run --strict', () => {
  it('rejects a looping program with one line naming the back-edge, and runs nothing', () => {
    const r = jitbox(['run', LOOP, '--strict']);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^jitbox: BPF verifier: pc 4 \(jne %r1, 0, -3\): back-edge to slot 2 .*\[back-edge\]\n$/);
  });
  it('with --json the rejection is exactly one JSON object', () => {
    const r = jitbox(['--json', 'run', LOOP, '--strict']);
    expect(r.status).not.toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'bpf-verifier', details: { pc: 4, rule: 'back-edge' } });
  });
  it('the same loop runs without --strict (default verifier) and with --no-verify', () => {
    for (const extra of [[], ['--verify'], ['--no-verify']]) {
      const r = jitbox(['--json', 'run', LOOP, ...extra]);
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ r0: '0x0000000000000037', exitedBy: 'exit', verifier: extra[0] === '--no-verify' ? 'off' : 'default' });
    }
  });
  it('a loop-free program passes --strict and runs', () => {
    const r = jitbox(['--json', 'run', STRAIGHT, '--strict']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ r0: '0x000000000000000c', verifier: 'strict' });
  });
  it('the default verifier runs before executing: an uninitialised register is rejected unless --no-verify', () => {
    const r = jitbox(['--json', 'run', UNINIT]);
    expect(r.status).not.toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'bpf-verifier', details: { rule: 'uninit-register' } });
    expect(jitbox(['--json', 'run', UNINIT, '--no-verify']).status).toBe(0);
  });
  it('the default verifier rejects a loop that can never exit (no reachable exit)', () => {
    const r = jitbox(['--json', 'run', tmpFile('spin.asm', 'l:\nja l\n')]);
    expect(r.status).not.toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'bpf-verifier', details: { rule: 'no-exit' } });
  });
  it('--strict with --no-verify is a clear error', () => {
    const r = jitbox(['run', STRAIGHT, '--strict', '--no-verify']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^jitbox: --strict verifies: it cannot be combined with --no-verify\n$/);
  });
  it('a clang-compiled looping .o is rejected by --strict and runs by default', () => {
    const o = join(ROOT, 'examples', 'bpf', 'loop.o');
    expect(JSON.parse(jitbox(['--json', 'run', o, '--strict']).stdout)).toMatchObject({ kind: 'bpf-verifier', details: { rule: 'back-edge' } });
    expect(jitbox(['--json', 'run', o]).status).toBe(0);
  });
});
