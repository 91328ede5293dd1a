// `jitbox run`, `jitbox conformance` and `jitbox conformance-plugin` on the built CLI (npm test
// builds dist/ first): JSON shapes, the closing `N passed, N failed` line, the plugin protocol
// (program hex on stdin, memory as one argument, r0 hex on stdout) and clear errors.
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
function tmpFile(name: string, data: string | Uint8Array): string {
  const p = join(mkdtempSync(join(tmpdir(), 'jitbox-bpf-')), name);
  writeFileSync(p, data);
  return p;
}

describe('jitbox run', () => {
  it('runs a .data file and prints r0 in hex (JSON: one object)', () => {
    const r = jitbox(['--json', 'run', join(CONF, 'mem-len.data')]);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(j).toMatchObject({ r0: '0x0000000000000008', insns: 2, exitedBy: 'exit', expected: '0x0000000000000008' });
    const t = jitbox(['run', join(CONF, 'prime.data')]);
    expect(t.stdout).toMatch(/^r0 = 0x1\ninsns = \d+\nexpected = 0x1 \(match\)/);
  });
  it('runs .asm and .bin with --mem-hex / --mem', () => {
    const asm = tmpFile('p.asm', 'ldxh %r0, [%r1+1]\nadd %r0, %r2\nexit\n');
    expect(JSON.parse(jitbox(['--json', 'run', asm, '--mem-hex', '01 02 03']).stdout).r0).toBe('0x0000000000000305');
    const bin = tmpFile('p.bin', Uint8Array.from([0x71, 0x10, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]));
    const mem = tmpFile('m.bin', Uint8Array.from([0xab]));
    expect(JSON.parse(jitbox(['--json', 'run', bin, '--mem', mem]).stdout).r0).toBe('0x00000000000000ab');
  });
  it('runs a clang-compiled .o through the ELF loader with the kernel profile', () => {
    const r = jitbox(['--json', 'run', join(ROOT, 'examples', 'bpf', 'signed_v4.o')]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ profile: 'kernel', exitedBy: 'exit' });
  });
  it('errors are one clear line and a non-zero exit', () => {
    const bad = tmpFile('bad.bin', Uint8Array.from([0xff, 0, 0, 0, 0, 0, 0, 0]));
    const r = jitbox(['run', bad]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^jitbox: invalid BPF instruction at slot 0 \(opcode 0xff\): unknown opcode\n$/);
    const f = jitbox(['--json', 'run', tmpFile('f.asm', 'ldxw %r0, [%r1+0]\nexit')]);
    expect(JSON.parse(f.stdout)).toMatchObject({ kind: 'bpf-memory-fault', details: { pc: 0, address: '0x0000000000000000' } });
    // arm64 runs through its JIT backend now.
    const x = jitbox(['--json', 'run', join(CONF, 'add.data'), '--arch', 'arm64']);
    expect(JSON.parse(x.stdout)).toMatchObject({ arch: 'arm64', exitedBy: 'exit', r0: '0x0000000000000003', expected: '0x0000000000000003' });
    expect(jitbox(['run', join(CONF, 'add.data'), '--arch', 'mips']).stderr).toMatch(/--arch must be one of interp, x86_64, arm64/);
    // An endless loop with a reachable exit passes the default verifier; the budget stops it.
    expect(jitbox(['run', tmpFile('l.asm', 'mov %r0, 0\nl:\njeq %r0, 0, l\nexit'), '--budget', '100']).stderr).toMatch(/budget of 100 exceeded/);
    expect(jitbox(['run', tmpFile('l.asm', 'l:\nja l'), '--budget', '100', '--no-verify']).stderr).toMatch(/budget of 100 exceeded/);
  });
});

describe('jitbox conformance', () => {
  it('runs the whole directory: 313 passed, 0 failed', () => {
    const r = jitbox(['conformance', CONF]);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n').pop()).toBe('313 passed, 0 failed');
  });
  it('prints each failure with expected and actual; exits non-zero', () => {
    const wrong = tmpFile('wrong.data', '-- asm\nmov %r0, 3\nexit\n-- result\n0x4\n');
    const r = jitbox(['conformance', wrong, join(CONF, 'add.data')]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('FAIL wrong: expected 0x4, got 0x3\n1 passed, 1 failed\n');
    const j = JSON.parse(jitbox(['--json', 'conformance', wrong]).stdout) as { failures: unknown[] };
    expect(j).toMatchObject({ passed: 0, failed: 1, failures: [{ test: 'wrong', expected: '0x4', actual: '0x3' }] });
  });
  it('a malformed file is a failure naming file and line', () => {
    const bad = tmpFile('bad.data', '-- asm\nmov %r0, 1\nfrobnicate\n-- result\n1\n');
    expect(jitbox(['conformance', bad]).stdout).toMatch(/FAIL bad: expected \?, got error: .*bad\.data:3: unknown mnemonic "frobnicate"/);
  });
});

describe('jitbox conformance-plugin (bpf_conformance runner protocol)', () => {
  interface Vector { name: string; program: string; memory: string; expected_r0: string }
  const vectors = JSON.parse(readFileSync(join(CONF, 'vectors.json'), 'utf8')) as Vector[];
  for (const name of ['mem-len', 'ldxb', 'lock_cmpxchg', 'callx', 'subnet']) {
    it(name, () => {
      const v = vectors.find((x) => x.name === name) as Vector;
      const args = ['conformance-plugin', ...(v.memory ? [v.memory] : []), '--arch', 'interp'];
      const r = jitbox(args, v.program + '\n');
      expect(r.status).toBe(0);
      expect(BigInt(r.stdout.trim())).toBe(BigInt(v.expected_r0));
    });
  }
  it('--elf: the program on stdin is an ELF object (same r0 as `jitbox run`)', () => {
    const obj = join(ROOT, 'examples', 'bpf', 'checksum.o');
    const hex = Buffer.from(readFileSync(obj)).toString('hex');
    const r = jitbox(['conformance-plugin', '01 02 03 04', '--elf'], hex);
    expect(r.status).toBe(0);
    const viaRun = JSON.parse(jitbox(['--json', 'run', obj, '--mem-hex', '01 02 03 04', '--profile', 'conformance']).stdout) as { r0: string };
    expect(BigInt(r.stdout.trim())).toBe(BigInt(viaRun.r0));
  });
  it('bad program: message and non-zero exit', () => {
    const r = jitbox(['conformance-plugin'], 'ff 00 00 00 00 00 00 00\n');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/unknown opcode/);
  });
});
