// The arm64 JIT through the built CLI: `run --arch arm64` (same JSON as the interpreter),
// `conformance --arch arm64` (313 passed), and `disasm --arch arm64` (the kernel register map in
// the listing, the prologue's frame record, pack/chunk/offset in the header).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'jit', 'cli.js');
const CONF = join(ROOT, '..', 'shared', 'conformance');

function jitbox(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('jitbox with --arch arm64', () => {
  it('run: same r0 and JSON shape as the interpreter', () => {
    for (const f of ['prime.data', 'call_local.data']) {
      const a = JSON.parse(jitbox(['--json', 'run', join(CONF, f)]).stdout) as Record<string, unknown>;
      const b = JSON.parse(jitbox(['--json', 'run', join(CONF, f), '--arch', 'arm64']).stdout) as Record<string, unknown>;
      expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
      expect({ ...b, insns: 0, arch: '' }).toEqual({ ...a, insns: 0, arch: '' });
      expect(b.arch).toBe('arm64');
    }
  }, 60_000);

  it('conformance: 313 passed, 0 failed', () => {
    const r = JSON.parse(jitbox(['--json', 'conformance', CONF, '--arch', 'arm64']).stdout) as { passed: number; failed: number };
    expect(r).toMatchObject({ passed: 313, failed: 0 });
  }, 60_000);

  it('disasm: BPF instructions followed by arm64 code at ROX addresses', () => {
    const r = jitbox(['disasm', join(CONF, 'prime.data'), '--arch', 'arm64']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^prime: arm64 image of \d+ bytes at 0xffff[0-9a-f]+ \(pack 0x[0-9a-f]+, chunk 0x[0-9a-f]+, offset \d+ in the pack\)/);
    expect(r.stdout).toMatch(/stp x29, x30, \[sp, #-0x10\]!/);
    expect(r.stdout).toMatch(/; +0: mov %r1, 67\n +0x[0-9a-f]+: +(?:[0-9a-f]{2} ){4} +mov w0, #0x43/);
  }, 60_000);
});
