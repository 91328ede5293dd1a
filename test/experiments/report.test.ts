// `jitbox report` writes report.md, report.html and its SVG charts from the experiments' data (tiny
// sizes, temporary directory); the benches and the report print one JSON object with --json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildReport, settingsFor } from '../../jit/commands/report.js';
import { writeReport } from '../../jit/experiments/report.js';
import { checkWellFormed, dataValues } from './xml.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'jit', 'cli.js');

const TINY: Record<string, string> = {
  'unpack.keys': '64',
  'unpack.ms': '1',
  'unpack.hotKeys': '4',
  'unpack.coldKeys': '2',
  'unpack.passes': '1',
  'unpack.arch': 'x86_64',
  'colocate.nodes': '1,2',
  'colocate.lookups': '6',
  'colocate.keys': '32',
  'colocate.pool': '2',
  'colocate.arch': 'arm64',
  'pack.programs': '3',
  'pack.rounds': '1',
  'pack.arch': 'x86_64',
};

describe('jitbox report', () => {
  it('settings are routed by prefix; unprefixed keys are refused', () => {
    expect(settingsFor({ 'pack.programs': '3', 'model.l1i.ways': '4', 'colocate.nodes': '1' }, 'pack')).toEqual({ programs: '3', 'model.l1i.ways': '4' });
    expect(() => settingsFor({ programs: '3' }, 'pack')).toThrow(/prefix it/);
  });

  it('writes report.md, report.html and well-formed SVGs holding the tables and data', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jitbox-report-'));
    const doc = buildReport({ seed: 3, quick: true, settings: TINY, progress: () => {} });
    const files = writeReport(dir, doc);
    expect(files.svgs.map((p) => p.slice(dir.length + 1)).sort()).toEqual(['colocate.svg', 'pack.svg', 'unpack.svg']);
    const md = readFileSync(files.markdown, 'utf8');
    const html = readFileSync(files.html, 'utf8');
    for (const s of doc.sections) {
      expect(md).toContain(`## ${s.title}`);
      expect(s.conclusions.length).toBeGreaterThan(0);
      for (const c of s.conclusions) expect(md).toContain(c);
      for (const t of s.tables) expect(md).toContain(`### ${t.title.replace(/\|/g, '\\|')}`);
    }
    expect(md).toContain('![Pack: BPF programs on 4 KiB pages, bpf_prog_pack and the ROX cache](pack.svg)');
    expect(md).toMatch(/"l1i": \{\n\s+"sizeBytes": 32768/);
    expect(md).toContain('programs = 3');
    const pack = doc.sections.find((s) => s.id === 'pack');
    const packRows = pack?.tables[1]?.rows ?? [];
    expect(packRows.map((r) => r[1])).toEqual(['page', 'pack-4k', 'pack-2m', 'rox-cache']);
    for (const f of files.svgs) checkWellFormed(readFileSync(f, 'utf8'));
    const packSvg = readFileSync(join(dir, 'pack.svg'), 'utf8');
    expect(dataValues(packSvg)).toEqual(packRows.map((r) => r[9] as number).concat(packRows.map((r) => r[6] as number)));
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect((html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(3);
    expect(html).toContain('<h2 id="colocate">');
    expect(html).not.toContain('<?xml');
  }, 120_000);

  it.runIf(existsSync(CLI))('CLI: bench pack and report print one JSON object with --json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jitbox-report-cli-'));
    const b = spawnSync(process.execPath, [CLI, '--json', 'bench', 'pack', '--quick', '--set', 'programs=2', 'arch=arm64', '--svg', join(dir, 'p.svg')], { encoding: 'utf8' });
    expect(b.status).toBe(0);
    const bj = JSON.parse(b.stdout) as { rows: { mode: string }[]; svg: string; runtime_s: number; conclusions: string[] };
    expect(b.stdout.trim().split('\n').length).toBe(1);
    expect(bj.rows.map((r) => r.mode)).toEqual(['page', 'pack-4k', 'pack-2m']);
    expect(bj.svg).toBe(join(dir, 'p.svg'));
    checkWellFormed(readFileSync(bj.svg, 'utf8'));
    const args = Object.entries(TINY).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
    const r = spawnSync(process.execPath, [CLI, '--json', 'report', '--quick', '--out', dir, '--seed', '4', ...args], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n').length).toBe(1);
    const rj = JSON.parse(r.stdout) as { report: { markdown: string }; sections: { id: string }[] };
    expect(rj.sections.map((s) => s.id)).toEqual(['unpack', 'colocate', 'pack']);
    expect(existsSync(rj.report.markdown)).toBe(true);
    const bad = spawnSync(process.execPath, [CLI, '--json', 'report', '--out', dir, '--set', 'programs=3'], { encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect((JSON.parse(bad.stdout) as { message: string }).message).toMatch(/prefix it/);
  }, 240_000);
});
