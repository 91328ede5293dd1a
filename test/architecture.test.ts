// Project-wide rules checked on the source tree (DEVELOPERS.md "Architecture rules" and "Style"):
// imports point one way (jit -> codegen/emulator/execmem; emulator -> execmem; codegen pure;
// execmem lowest; support is a leaf everyone may use), nothing below the entries imports jit/,
// no `any`, and files stay near 800 lines.
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

  it('source files use no `any`', () => {
    const bad: string[] = [];
    for (const layer of LAYERS) {
      for (const f of tsFiles(layer)) {
        const src = readFileSync(join(ROOT, f), 'utf8').replace(/\/\/.*$/gm, '').replace(/'[^'\n]*'|"[^"\n]*"|`[^`]*`/g, '""');
        if (/(:\s*any\b|\bas any\b|<any>|any\[\])/.test(src)) bad.push(f);
      }
    }
    expect(bad).toEqual([]);
  });

  it('source files stay under ~800 lines', () => {
    const big: string[] = [];
    for (const layer of LAYERS) {
      for (const f of tsFiles(layer)) {
        const n = readFileSync(join(ROOT, f), 'utf8').split('\n').length;
        if (n > 850) big.push(`${f} (${n})`);
      }
    }
    expect(big).toEqual([]);
  });
});
