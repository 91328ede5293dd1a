// `jitbox unpack`: JSON shapes, unrepresentable keys reported in place, --from-keys, --show, and
// clear errors for malformed input, and x86_64/arm64 run in every placement through the emulator. The command runs in-process on a fresh
// commander program (the CLI's start-up loads every command group, which is slow to spawn many
// times); one test runs the built dist/ CLI end to end (npm test builds dist/ first).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { register } from '../../jit/commands/unpack.js';
import { type CapturedRun, runCaptured } from '../cli-capture.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'jit', 'cli.js');
const EX = join(ROOT, 'examples', 'bkey');

/** Run `jitbox ARGS` in-process, capturing stdout/stderr and the exit code. */
async function jitbox(...args: string[]): Promise<CapturedRun> {
  const program = new Command().name('jitbox').option('--json').option('--debug').exitOverride();
  register(program);
  return runCaptured(program, args, 'exit-1');
}

function tmpFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'jitbox-unpack-'));
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

interface UnpackJson {
  format: { key_u64s: number; bits_per_field: number[]; field_offset: string[] };
  code_bytes: number;
  keys: ({ packed: string; unpacked: Record<string, string> } | { index: number; error: string })[];
}

describe('jitbox unpack', () => {
  it('runs end to end through the built CLI', () => {
    const r = spawnSync(process.execPath, [CLI, '--json', 'unpack', '--from-keys', join(EX, 'keys.json'), '--arch', 'byte-aligned'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as UnpackJson;
    expect(j.keys).toHaveLength(5);
    expect(j.format.key_u64s).toBe(1);
  });

  for (const arch of ['wasm', 'generic', 'byte-aligned']) {
    it(`--arch ${arch} --json packs and unpacks the example keys`, async () => {
      const r = await jitbox('--json', 'unpack', '--format', join(EX, 'format.json'), '--keys', join(EX, 'keys.json'), '--arch', arch);
      expect(r.status).toBe(0);
      const j = JSON.parse(r.stdout) as UnpackJson;
      expect(j.format.bits_per_field).toEqual([0, 24, 0, 8, 0, 0]);
      expect(j.keys).toHaveLength(5);
      expect(j.keys[0]).toEqual({
        packed: '01 00 01 00 08 00 10 00',
        unpacked: { inode: '0x0000000000001092', offset: '0x0000000000001000', snapshot: '0x00000000ffffffff', size: '0x0000000000000008', version_hi: '0x0000000000000000', version_lo: '0x0000000000000000' },
      });
      expect(j.keys[3]).toMatchObject({ index: 3 });
      expect((j.keys[3] as { error: string }).error).toMatch(/key 3 .*inode/);
      expect((j.keys[4] as { error: string }).error).toMatch(/key 4 .*offset/);
      if (arch === 'wasm') expect(j.code_bytes).toBeGreaterThan(0);
    });
  }

  it('--from-keys computes a format that represents every key', async () => {
    const r = await jitbox('--json', 'unpack', '--from-keys', join(EX, 'keys.json'), '--arch', 'wasm');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as UnpackJson;
    expect(j.format.bits_per_field).toEqual([8, 24, 0, 8, 0, 0]);
    expect(j.keys.every((k) => 'packed' in k)).toBe(true);
    expect((j.keys[4] as { unpacked: Record<string, string> }).unpacked.offset).toBe('0x0000000001000000');
  });

  it('--show prints the wasm text and size', async () => {
    const r = await jitbox('unpack', '--format', join(EX, 'format.json'), '--arch', 'wasm', '--show');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/wasm module: \d+ bytes/);
    expect(r.stdout).toContain('(func');
  });

  it('reports malformed JSON, bad values and invalid formats as one clear error', async () => {
    const bad = tmpFile('f.json', '{"bits_per_field": [1,2,3');
    let r = await jitbox('unpack', '--format', bad, '--keys', join(EX, 'keys.json'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/malformed JSON/);
    expect(r.stdout).toBe('');
    const wide = tmpFile('w.json', JSON.stringify({ bits_per_field: [0, 0, 33, 0, 0, 0], field_offset: ['0', '0', '0', '0', '0', '0'] }));
    r = await jitbox('--json', 'unpack', '--format', wide, '--keys', join(EX, 'keys.json'));
    expect(r.status).toBe(1);
    const e = JSON.parse(r.stdout) as { kind: string; details: { field: string } };
    expect(e.kind).toBe('bkey-format');
    expect(e.details.field).toBe('snapshot');
    const ku = tmpFile('k.json', JSON.stringify({ key_u64s: 2, bits_per_field: [0, 24, 0, 8, 0, 0], field_offset: ['0', '0', '0', '0', '0', '0'] }));
    r = await jitbox('unpack', '--format', ku, '--keys', join(EX, 'keys.json'));
    expect(r.stderr).toMatch(/key_u64s/);
    const keys = tmpFile('keys.json', JSON.stringify([{ inode: '1', offset: '0xZZ', snapshot: '0', size: '0', version_hi: '0', version_lo: '0' }]));
    r = await jitbox('--json', 'unpack', '--format', join(EX, 'format.json'), '--keys', keys);
    const pe = JSON.parse(r.stdout) as { kind: string; details: { key: number; field: string } };
    expect(pe.kind).toBe('parse');
    expect(pe.details).toMatchObject({ key: 0, field: 'offset' });
    const big = tmpFile('big.json', JSON.stringify([{ inode: '1', offset: '0', snapshot: '0x100000000', size: '0', version_hi: '0', version_lo: '0' }]));
    r = await jitbox('unpack', '--format', join(EX, 'format.json'), '--keys', big);
    expect(r.stderr).toMatch(/key 0 snapshot.*32 bits/);
  });

  it('--show lists x86_64 and arm64 code with Capstone decoding', async () => {
    const x = JSON.parse((await jitbox('--json', 'unpack', '--format', join(EX, 'format.json'), '--arch', 'x86_64', '--show')).stdout) as { code_bytes: number; instructions: { capstone: string | null }[]; capstone_rejects: number };
    expect(x.code_bytes).toBe(56);
    expect(x.instructions).toHaveLength(15);
    expect(x.capstone_rejects).toBe(0);
    const a = await jitbox('unpack', '--format', join(EX, 'format.json'), '--arch', 'arm64', '--show');
    expect(a.status).toBe(0);
    expect(a.stdout).toMatch(/arm64 unpacker: 64 bytes, 16 instructions, all decoded by Capstone/);
  });

  it('x86_64 and arm64 run the placed code in jitbox\'s emulator, in every placement, like the generic unpack', async () => {
    const want = JSON.parse((await jitbox('--json', 'unpack', '--format', join(EX, 'format.json'), '--keys', join(EX, 'keys.json'), '--arch', 'generic')).stdout) as UnpackJson;
    for (const arch of ['x86_64', 'arm64']) {
      for (const placement of ['colocated', 'shared-pack', 'own-page', 'generic']) {
        const r = await jitbox('--json', 'unpack', '--format', join(EX, 'format.json'), '--keys', join(EX, 'keys.json'), '--arch', arch, '--placement', placement);
        expect(r.status, r.stdout + r.stderr).toBe(0);
        const j = JSON.parse(r.stdout) as UnpackJson & { placement: string; code_address: string; insns_per_unpack: number; unpacker: string };
        expect(j.keys).toEqual(want.keys);
        expect(j.placement).toBe(placement);
        expect(j.unpacker).toContain('jitbox emulator');
        expect(j.code_address).toMatch(/^0xffff/);
        expect(j.insns_per_unpack).toBeGreaterThan(placement === 'generic' ? 60 : 5);
        expect(j.code_bytes).toBeGreaterThan(0);
      }
    }
    const t = await jitbox('unpack', '--format', join(EX, 'format.json'), '--keys', join(EX, 'keys.json'), '--arch', 'arm64');
    expect(t.status).toBe(0);
    expect(t.stdout).toMatch(/unpacker arm64 compiled \(colocated, jitbox emulator\)/);
    expect(t.stdout).toMatch(/emulated instructions per unpack/);
  });

  it('--show lists the placed code at its address; bad --placement is refused', async () => {
    for (const placement of ['colocated', 'own-page', 'shared-pack', 'generic']) {
      const r = await jitbox('--json', 'unpack', '--format', join(EX, 'format.json'), '--arch', 'x86_64', '--show', '--placement', placement);
      const j = JSON.parse(r.stdout) as { code_address: string; page_perm: string; capstone_rejects: number; instructions: { address: string }[]; areas: { what: string; perm: string }[] };
      expect(j.page_perm).toBe('r-x');
      expect(j.capstone_rejects).toBe(0);
      expect(j.instructions[0]?.address).toBe(j.code_address);
      if (placement === 'colocated') expect(j.areas.find((a) => a.what === 'code+tables')?.perm).toBe('r-x');
      else expect(j.areas.find((a) => a.what === 'keys')?.perm).toBe('rw-');
    }
    let r = await jitbox('unpack', '--format', join(EX, 'format.json'), '--arch', 'x86_64', '--placement', 'inline', '--show');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--placement must be one of colocated, shared-pack, own-page, generic/);
    r = await jitbox('unpack', '--format', join(EX, 'format.json'), '--keys', join(EX, 'keys.json'), '--arch', 'wasm', '--placement', 'own-page');
    expect(r.stderr).toMatch(/--placement applies to --arch x86_64 or arm64/);
    expect((await jitbox('unpack', '--format', join(EX, 'format.json'), '--arch', 'mips')).stderr).toMatch(/--arch must be one of/);
  });
});
