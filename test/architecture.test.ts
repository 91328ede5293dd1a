// Project-wide rules checked on the source tree (DEVELOPERS.md "Architecture rules" and "Style"):
// imports point one way (jit -> codegen/emulator/execmem; emulator -> execmem; codegen pure;
// execmem lowest; support is a leaf everyone may use), nothing below the entries imports jit/,
// no `any`, and files stay near 800 lines. The two entries are jit/cli.ts (the CLI) and index.ts
// (the typed library, `import ... from 'jitbox'`): index.ts may import every layer, nothing in the
// layers imports it, and examples/api use the library only through the package name.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const p = join(dir, name);
    const st = statSync(join(ROOT, p));
    if (st.isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

const LAYERS = ['support', 'execmem', 'codegen', 'emulator', 'jit'] as const;
type Layer = (typeof LAYERS)[number];
const ALLOWED: Record<Layer, Layer[]> = {
  support: ['support'],
  execmem: ['support', 'execmem'],
  codegen: ['support', 'codegen'],
  emulator: ['support', 'execmem', 'emulator'],
  jit: ['support', 'execmem', 'codegen', 'emulator', 'jit'],
};

/** Every source file the rules cover: the layers, the library entry and the API examples. */
function sources(): string[] {
  return [...LAYERS.flatMap((l) => tsFiles(l)), 'index.ts', ...tsFiles('examples/api')];
}

function importsOf(file: string): string[] {
  const src = readFileSync(join(ROOT, file), 'utf8');
  const re = /(?:^|\n)\s*(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  const out: string[] = [];
  for (let m = re.exec(src); m; m = re.exec(src)) out.push((m[1] ?? m[2]) as string);
  return out;
}

function layerOfTarget(file: string, spec: string): Layer | null {
  if (!spec.startsWith('.')) return null;
  const target = relative(ROOT, join(ROOT, file, '..', spec));
  const top = target.split(/[\\/]/)[0] as string;
  return (LAYERS as readonly string[]).includes(top) ? (top as Layer) : null;
}

describe('architecture', () => {
  for (const layer of LAYERS) {
    it(`${layer}/ imports only ${ALLOWED[layer].join(', ')}`, () => {
      const bad: string[] = [];
      for (const f of tsFiles(layer)) {
        for (const spec of importsOf(f)) {
          const t = layerOfTarget(f, spec);
          if (t && !ALLOWED[layer].includes(t)) bad.push(`${f} -> ${spec}`);
        }
      }
      expect(bad).toEqual([]);
    });
  }

  it('index.ts (the library entry) imports only the layers, and no layer imports it', () => {
    const bad: string[] = [];
    for (const spec of importsOf('index.ts')) {
      if (!spec.startsWith('./') || layerOfTarget('index.ts', spec) === null) bad.push(`index.ts -> ${spec}`);
    }
    for (const layer of LAYERS) {
      for (const f of tsFiles(layer)) {
        for (const spec of importsOf(f)) {
          if (spec.startsWith('.') && relative(ROOT, join(ROOT, f, '..', spec)).replace(/\.js$/, '') === 'index') bad.push(`${f} -> ${spec}`);
          if (spec === 'jitbox') bad.push(`${f} -> ${spec}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('examples/api use the library only as "jitbox" (and node: built-ins)', () => {
    const bad: string[] = [];
    for (const f of tsFiles('examples/api')) {
      for (const spec of importsOf(f)) if (spec !== 'jitbox' && !spec.startsWith('node:')) bad.push(`${f} -> ${spec}`);
    }
    expect(bad).toEqual([]);
  });

  it('source files use no `any`', () => {
    const bad: string[] = [];
    for (const f of sources()) {
      const src = readFileSync(join(ROOT, f), 'utf8').replace(/\/\/.*$/gm, '').replace(/'[^'\n]*'|"[^"\n]*"|`[^`]*`/g, '""');
      if (/(:\s*any\b|\bas any\b|<any>|any\[\])/.test(src)) bad.push(f);
    }
    expect(bad).toEqual([]);
  });

  it('source files stay under ~800 lines', () => {
    const big: string[] = [];
    for (const f of sources()) {
      const n = readFileSync(join(ROOT, f), 'utf8').split('\n').length;
      if (n > 850) big.push(`${f} (${n})`);
    }
    expect(big).toEqual([]);
  });
});
