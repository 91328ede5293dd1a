// The JIT through the built CLI: `run --arch x86_64` (same JSON shape as interp, same faults),
// `conformance --arch x86_64` (313 passed), the plugin with --arch x86_64, and `disasm` (each BPF
// instruction followed by its native code at ROX addresses, with pack/chunk/offset).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'jit', 'cli.js');
const CONF = join(ROOT, '..', 'shared', 'conformance');

function jitbox(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
function tmpFile(name: string, data: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'jitbox-jit-')), name);
  writeFileSync(p, data);
  return p;
}

describe('jitbox with --arch x86_64', () => {
  it('run: same r0 and JSON shape as the interpreter; faults are the interpreter\'s', () => {
    for (const f of ['prime.data', 'mem-len.data', 'call_local.data']) {
      const a = JSON.parse(jitbox(['--json', 'run', join(CONF, f)]).stdout) as Record<string, unknown>;
      const b = JSON.parse(jitbox(['--json', 'run', join(CONF, f), '--arch', 'x86_64']).stdout) as Record<string, unknown>;
      expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
      expect({ ...b, insns: 0, arch: '' }).toEqual({ ...a, insns: 0, arch: '' });
      expect(b.arch).toBe('x86_64');
    }
    const o = JSON.parse(jitbox(['--json', 'run', join(ROOT, 'examples', 'bpf', 'loop.o'), '--arch', 'x86_64', '--harden']).stdout) as Record<string, unknown>;
    const oi = JSON.parse(jitbox(['--json', 'run', join(ROOT, 'examples', 'bpf', 'loop.o')]).stdout) as Record<string, unknown>;
    expect(o.r0).toBe(oi.r0);
    const f = tmpFile('f.asm', 'ldxw %r0, [%r1+0]\nexit');
    expect(JSON.parse(jitbox(['--json', 'run', f, '--arch', 'x86_64']).stdout)).toEqual(JSON.parse(jitbox(['--json', 'run', f]).stdout));
  });

  it('conformance: 313 passed, 0 failed', () => {
    const r = jitbox(['conformance', CONF, '--arch', 'x86_64']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n').pop()).toBe('313 passed, 0 failed');
  });

  it('conformance-plugin --arch x86_64 answers like the runner expects', () => {
    interface Vector { name: string; program: string; memory: string; expected_r0: string }
    const vectors = JSON.parse(readFileSync(join(CONF, 'vectors.json'), 'utf8')) as Vector[];
    for (const name of ['mem-len', 'lock_cmpxchg', 'callx', 'subnet']) {
      const v = vectors.find((x) => x.name === name) as Vector;
      const r = jitbox(['conformance-plugin', ...(v.memory ? [v.memory] : []), '--arch', 'x86_64'], v.program + '\n');
      expect(r.status, r.stderr).toBe(0);
      expect(BigInt(r.stdout.trim())).toBe(BigInt(v.expected_r0));
    }
  });

  it('disasm --json: every BPF instruction with native code at execmem addresses', () => {
    const j = JSON.parse(jitbox(['--json', 'disasm', join(CONF, 'call_local.data'), '--arch', 'x86_64']).stdout) as {
      entry: string; pack: string; offset: number; size: number; insns: { index: number; bpf: string; native: { address: string; bytes: string; text: string }[] }[];
    };
    expect(BigInt(j.entry) - BigInt(j.pack)).toBe(BigInt(j.offset));
    const bpf = j.insns.filter((e) => e.index >= 0);
    expect(bpf[0]!.bpf).toBe('mov %r0, 0');
    expect(bpf.find((e) => e.bpf.startsWith('call'))!.native.map((n) => n.text)).toContain('sub rbp, 0x200');
    const bytes = j.insns.flatMap((e) => e.native).reduce((s, n) => s + n.bytes.split(' ').length, 0);
    expect(bytes).toBe(j.size);
    const t = jitbox(['disasm', join(CONF, 'add.data'), '--harden']);
    expect(t.stdout).toMatch(/^add: x86_64 image of \d+ bytes at 0x[0-9a-f]{16} \(pack 0x[0-9a-f]{16}, chunk 0x[0-9a-f]{16}, offset \d+ in the pack\), hardened\n/);
    expect(t.stdout).toContain('endbr64');
  });
});
