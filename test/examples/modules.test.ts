// examples/modules/*.json run as tests through `jitbox execmem map --module FILE` (built CLI): the
// demo module ends LIVE with the kernel's permission timeline (text ROX, rodata and ro_after_init
// RO, data RW+NX, init regions freed) on both arches; the module with a writable+executable section
// is refused with one typed error. The parser (jit/module-file.ts) rejects malformed descriptions
// before anything is loaded.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AddressSpace } from '../../execmem/space.js';
import { parseModuleFile, loadModuleFile } from '../../jit/module-file.js';
import { isJitboxError } from '../../support/errors.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = join(ROOT, 'examples', 'modules');

function jitbox(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'jit', 'cli.js'), ...args], { encoding: 'utf8', cwd: ROOT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface MapJson {
  modules: { name: string; state: string; regions: { type: string; base: string; size: number; used: number; freed: boolean }[] }[];
  permissionRuns: { start: string; end: string; perm: string; label: string }[];
  audit: { ok: boolean; wxPages: string[] };
}

describe('examples/modules', () => {
  it('every module example is covered below', () => {
    expect(readdirSync(DIR).filter((f) => f.endsWith('.json')).sort()).toEqual(['jitbox_demo.json', 'wx_section.json']);
  });

  for (const arch of ['x86_64', 'arm64']) {
    it(`jitbox_demo.json loads LIVE on ${arch} with the kernel's permissions`, () => {
      const r = jitbox(['--json', 'execmem', 'map', '--arch', arch, '--module', 'examples/modules/jitbox_demo.json']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const j = JSON.parse(r.stdout) as MapJson;
      expect(j.audit.ok).toBe(true);
      expect(j.audit.wxPages).toEqual([]);
      const m = j.modules.find((x) => x.name === 'jitbox_demo');
      expect(m?.state).toBe('LIVE');
      const region = (t: string) => m?.regions.find((x) => x.type === t);
      // .text 1536 (align 16) + .exit.text 64 = 1600; .init.text 320.
      expect(region('TEXT')?.used).toBe(1600);
      expect(region('INIT_TEXT')?.freed).toBe(true);
      expect(region('INIT_DATA')?.freed).toBe(true);
      expect(region('TEXT')?.freed).toBe(false);
      const permAt = (base: string | undefined): string | undefined => {
        if (base === undefined) return undefined;
        const a = BigInt(base);
        return j.permissionRuns.find((p) => BigInt(p.start) <= a && a < BigInt(p.end))?.perm;
      };
      expect(permAt(region('TEXT')?.base)).toBe('r-x');
      expect(permAt(region('RODATA')?.base)).toBe('r--');
      expect(permAt(region('RO_AFTER_INIT')?.base)).toBe('r--');
      expect(permAt(region('DATA')?.base)).toBe('rw-');
      // Freed init data is vfreed; freed init text on x86_64 goes back to the ROX cache (still r-x).
      expect(permAt(region('INIT_DATA')?.base)).toBeUndefined();
    });
  }

  it('wx_section.json is refused: one line, exit 1, typed JSON error', () => {
    const t = jitbox(['execmem', 'map', '--arch', 'x86_64', '--module', 'examples/modules/wx_section.json']);
    expect(t.status).toBe(1);
    expect(t.stdout).toBe('');
    expect(t.stderr).toBe('jitbox: module jitbox_wx: section .text.selfmod is writable and executable (ENOEXEC under STRICT_MODULE_RWX)\n');
    const j = jitbox(['--json', 'execmem', 'map', '--arch', 'x86_64', '--module', 'examples/modules/wx_section.json']);
    expect(j.status).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ error: { name: 'ModuleLoadError', kind: 'module-load' } });
  });

  it('the parser rejects malformed descriptions with a ParseError naming the field, loading nothing', () => {
    const bad: [string, string][] = [
      ['{', 'malformed JSON'],
      ['[]', 'expected an object'],
      ['{"name": "", "sections": []}', '"name"'],
      ['{"name": "m", "sections": []}', '"sections"'],
      ['{"name": "m", "init": "later", "sections": [{"name": ".text", "flags": "ax", "size": 4}]}', '"init"'],
      ['{"name": "m", "sections": [{"name": ".text", "flags": "ax", "size": -1}]}', 'sections[0].size'],
      ['{"name": "m", "sections": [{"name": ".text", "flags": "ax", "size": 4, "align": 1.5}]}', 'sections[0].align'],
      ['{"name": "m", "sections": [{"name": ".text", "flags": "ax", "size": 1, "data": "c3 c3"}]}', 'larger than size'],
      ['{"name": "m", "sections": [{"name": ".text", "flags": "ax", "size": 4, "data": "zz"}]}', 'not hex'],
      ['{"name": "m", "sections": [{"name": ".text", "flags": true, "size": 4}]}', 'sections[0].flags'],
    ];
    for (const [text, want] of bad) {
      let err: unknown = null;
      try {
        parseModuleFile(text, 'x86_64', 'bad.json');
      } catch (e) {
        err = e;
      }
      expect(isJitboxError(err) && err.kind, text).toBe('parse');
      expect((err as Error).message, text).toContain(want);
      expect((err as Error).message).toMatch(/^bad\.json: /);
    }
    const space = new AddressSpace({ arch: 'x86_64', seed: 1 });
    const before = space.stateDigest();
    expect(() => loadModuleFile(space, join(DIR, 'no-such-file.json'))).toThrow(/cannot read module file/);
    expect(() => loadModuleFile(space, join(DIR, 'wx_section.json'))).toThrow(/writable and executable/);
    expect(space.stateDigest()).toBe(before);
  });

  it('per-arch data picks the arch\'s bytes; "init": "pending" leaves the module COMING', () => {
    const text = '{"name": "m", "init": "pending", "sections": [{"name": ".text", "flags": "ax", "size": 8, "data": {"x86_64": "c3", "arm64": "c0 03 5f d6"}}, {"name": ".init.text", "flags": "ax", "size": 4}]}';
    const x = parseModuleFile(text, 'x86_64');
    const a = parseModuleFile(text, 'arm64');
    expect(Array.from(x.description.sections[0]?.data ?? [])).toEqual([0xc3]);
    expect(Array.from(a.description.sections[0]?.data ?? [])).toEqual([0xc0, 0x03, 0x5f, 0xd6]);
    expect(x.runInit).toBe(false);
    const space = new AddressSpace({ arch: 'arm64', seed: 2 });
    const m = space.modules.load(a.description);
    expect(m.state).toBe('COMING');
    const text0 = m.sections.find((s) => s.name === '.text');
    expect(Array.from(space.read(text0?.address ?? 0, 4))).toEqual([0xc0, 0x03, 0x5f, 0xd6]);
  });
});
