// examples/api/*.ts run as tests: each is compiled by the project's tsc (tsconfig.build.json, into
// dist/examples/api/) and executed with node, importing the library through the package name
// 'jitbox' (Node's self-reference through package.json "exports"). The examples check their own
// results and exit non-zero on a mismatch; here the printed figures are checked against facts
// computed independently. A second compile, with no path mapping, type-checks the examples against
// the emitted declarations (dist/index.d.ts) the way a consumer of the package sees them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const SRC = join(ROOT, 'examples', 'api');
const EXAMPLES = readdirSync(SRC).filter((f) => f.endsWith('.ts')).sort();

function runExample(name: string): { status: number | null; stdout: string; stderr: string } {
  const js = join(ROOT, 'dist', 'examples', 'api', name.replace(/\.ts$/, '.js'));
  const r = spawnSync(process.execPath, [js], { encoding: 'utf8', cwd: ROOT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const CHECKS: Record<string, (out: string) => void> = {
  'place-and-poke.ts': (out) => {
    expect(out).toMatch(/execmem_alloc\(BPF, 64\) -> 0x[0-9a-f]+, page r-x, born cc cc cc cc/);
    // mov eax, 42 (B8 id) ; ret
    expect(out).toContain('text_poke_copy wrote b8 2a 00 00 00 c3');
    expect(out).toMatch(/plain store: PageFault: page fault: write of 0x[0-9a-f]+ \(page r-x\)/);
    expect(out).toMatch(/-> 42\n/);
    expect(out).toContain('audit: OK, W+X pages 0, text_pokes 1, last write via text_poke');
  },
  'jit-a-bpf-program.ts': (out) => {
    const input = Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);
    const sum = input.reduce((a, b) => a + b, 0);
    expect(out).toContain(`interpreter: r0 = 0x${sum.toString(16)} (expected ${sum})`);
    for (const arch of ['x86_64', 'arm64']) expect(out).toMatch(new RegExp(`${arch}: \\d+ bytes at 0x[0-9a-f]+ \\(pack 0x[0-9a-f]+ \\+ \\d+\\), r0 = 0x${sum.toString(16)},`));
    expect(out).toContain('all engines agree');
  },
  'unpack-a-node.ts': (out) => {
    const m = /^(\d+) extent keys;/m.exec(out);
    expect(m).not.toBeNull();
    expect(out).toMatch(/x86_64 unpacker: \d+ bytes/);
    expect(out).toContain(`keys equal the generic unpack`);
    expect(out).toMatch(new RegExp(`: ${m?.[1]}/${m?.[1]} keys equal`));
  },
  'measure-colocation.ts': (out) => {
    // every mode placed, distinct addresses, every packed key checked, through the mode's allocator
    const lines = ['colocated', 'shared-pack', 'own-page', 'generic'].map((mode) => {
      const m = new RegExp(`^${mode}: unpack at (0x[0-9a-f]+), (\\d+) packed keys equal the generic unpack \\((.*)\\)$`, 'm').exec(out);
      expect(m, mode).not.toBeNull();
      expect(Number(m?.[2])).toBeGreaterThan(100);
      return { mode, addr: m?.[1], areas: m?.[3] ?? '' };
    });
    expect(new Set(lines.map((l) => l.addr)).size).toBe(4);
    expect(lines[0]?.areas).toMatch(/code\+tables 0x[0-9a-f]+ via execmem/);
    expect(lines[1]?.areas).toMatch(/code 0x[0-9a-f]+ via bpf_prog_pack/);
    expect(out).toContain('audit: OK');
    // the experiment's table has every mode at both sizes, and conclusions derived from it
    for (const mode of ['colocated', 'shared-pack', 'own-page', 'generic']) expect(out).toMatch(new RegExp(`^\\s+64\\s+${mode}\\s+none\\s+[\\d.]+`, 'm'));
    expect(out).toMatch(/^conclusion: x86_64: fewest cycles per lookup: .* at N=64\.$/m);
  },
};

describe('examples/api', () => {
  it('every example has a check here and imports the library only as "jitbox"', () => {
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(3);
    expect(Object.keys(CHECKS).sort()).toEqual(EXAMPLES);
    for (const f of EXAMPLES) {
      const src = readFileSync(join(SRC, f), 'utf8');
      const specs = [...src.matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]);
      expect(specs.length, f).toBeGreaterThan(0);
      for (const s of specs) expect(s === 'jitbox' || s?.startsWith('node:'), `${f} imports ${s}`).toBe(true);
    }
  });

  for (const f of EXAMPLES) {
    it(`${f} runs and prints what it claims`, () => {
      const r = runExample(f);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      CHECKS[f]?.(r.stdout);
    });
  }

  it('type-checks against the emitted declarations through package.json "exports"', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: { '.': { types: string; import: string } }; types: string };
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js' });
    expect(readFileSync(join(ROOT, 'dist', 'index.d.ts'), 'utf8')).toMatch(/export \{ AddressSpace/);
    const dir = mkdtempSync(join(tmpdir(), 'jitbox-examples-'));
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022', lib: ['ES2022', 'DOM'], module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true,
        types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')],
      },
      files: EXAMPLES.map((f) => join(SRC, f)),
    };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json'), '--traceResolution'], { encoding: 'utf8', cwd: ROOT, maxBuffer: 256 * 1024 * 1024 });
    const errors = r.stdout.split('\n').filter((l) => /error TS/.test(l));
    expect(errors).toEqual([]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Module name 'jitbox' was successfully resolved to '[^']*\/dist\/index\.d\.ts'/);
  });
});
