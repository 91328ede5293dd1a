// `jitbox execmem map` on the built CLI (npm test builds dist/ first).
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'jit', 'cli.js');

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('jitbox execmem map', () => {
  it('prints one JSON object with packs, runs and a clean audit (bpf scenario, arm64)', () => {
    const out = execFileSync(process.execPath, [CLI, '--json', 'execmem', 'map', '--arch', 'arm64', '--scenario', 'bpf', '--seed', '3'], { encoding: 'utf8' });
    const j = JSON.parse(out) as {
      arch: string;
      packs: { programs: number; utilisation: number }[];
      permissionRuns: { perm: string; start: string }[];
      audit: { ok: boolean; wxPages: string[] };
      ranges: { type: string; start: string }[];
    };
    expect(j.arch).toBe('arm64');
    expect(j.packs.length).toBe(1);
    expect(j.packs[0]!.programs).toBe(10);
    expect(j.packs[0]!.utilisation).toBeGreaterThan(0);
    expect(j.audit.ok).toBe(true);
    expect(j.permissionRuns.every((r) => r.perm !== 'rwx' && /^0x[0-9a-f]{16}$/.test(r.start))).toBe(true);
    expect(j.ranges.map((r) => r.type)).toEqual(['MODULE_TEXT', 'KPROBES', 'FTRACE', 'BPF', 'MODULE_DATA']);
  });

  it('renders the x86 ROX cache and module scenarios as text; same seed, same map', () => {
    const a = run(['execmem', 'map', '--arch', 'x86_64', '--scenario', 'all', '--seed', '5']);
    expect(a.status).toBe(0);
    expect(a.stdout).toMatch(/ROX cache areas \(2\)/);
    expect(a.stdout).toMatch(/jitbox_demo \(LIVE\)/);
    expect(a.stdout).toMatch(/audit: OK/);
    expect(run(['execmem', 'map', '--arch', 'x86_64', '--scenario', 'all', '--seed', '5']).stdout).toBe(a.stdout);
  });

  it('bad arguments are one clear error line and a failing exit code', () => {
    const r = run(['execmem', 'map', '--arch', 'mips']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--arch must be x86_64 or arm64/);
    const j = run(['--json', 'execmem', 'map', '--arch', 'arm64', '--scenario', 'rox-cache']);
    expect(j.status).not.toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ kind: 'invalid-argument' });
  });
});
