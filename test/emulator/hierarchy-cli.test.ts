// `jitbox emu --model` end to end on the built CLI (npm test builds dist/ first): the statistics
// table, the configuration with source status, --set overrides and their typed errors.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'jit', 'cli.js');

function emu(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('node', [CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// loop 16 times: mov [rdi+rcx*8], rcx; add rax, [rdi+rcx*8]; dec rcx; jnz; ret
const LOOP = ['--hex', '48 89 0c cf 48 03 04 cf 48 ff c9 75 f4 c3', '--arch', 'x86_64', '--mem-hex', Array(256).fill('00').join(' '), '--args', '0,0,16'];

describe.skipIf(!existsSync(CLI))('jitbox emu --model', () => {
  it('prints the model table and the configuration with source status', () => {
    const r = emu(['emu', ...LOOP, '--model', 'skylake', '--set', 'l1d.sizeBytes=16k']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^L1i\s+65\s+1\s/m);
    expect(r.stdout).toMatch(/^L1d\s+33\s+4\s/m);
    expect(r.stdout).toMatch(/l1d\s+16 KiB \[set\] 8-way \[S\]/);
    expect(r.stdout).toMatch(/itlb\s+4K 128\/8-way \[P\]/);
  });

  it('adds config, confirmed keys and stats to the JSON object', () => {
    const r = emu(['--json', 'emu', ...LOOP, '--model', 'neoverse-n1', '--set', 'cycles.walk=40']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as { model: { config: { name: string; cycles: { walk: number } }; confirmed: string[]; stats: { insns: number; l1d: { accesses: number }; llc: null; mpki: Record<string, number> } } };
    expect(j.model.config.name).toBe('neoverse-n1');
    expect(j.model.config.cycles.walk).toBe(40);
    expect(j.model.confirmed).toContain('stlb.*');
    expect(j.model.stats.insns).toBe(65);
    expect(j.model.stats.l1d.accesses).toBe(33);
    expect(j.model.stats.llc).toBeNull();
    expect(j.model.stats.mpki.L1d).toBeCloseTo((1000 * 4) / 65, 3);
  });

  it('rejects unknown presets and keys with typed errors', () => {
    const a = emu(['--json', 'emu', ...LOOP, '--model', 'haswell']);
    expect(a.status).toBe(1);
    expect(JSON.parse(a.stdout)).toMatchObject({ kind: 'hierarchy-config' });
    const b = emu(['emu', ...LOOP, '--model', 'skylake', '--set', 'l1d.size=1']);
    expect(b.stderr).toMatch(/unknown hierarchy parameter "l1d.size"/);
    expect(emu(['emu', ...LOOP, '--set', 'l1d.sizeBytes=1']).stderr).toMatch(/--set needs --model/);
  });
});
