// Glue between the experiments and `jitbox bench NAME`: common settings (arches, chart path) and
// one text layout (tables, then conclusions, then where the chart went and the phase runtimes).
//
// Invariant: a chart path is always reported (text and JSON), so a run never writes a file silently.

import { join } from 'node:path';
import { InvalidArgumentError } from '../../support/errors.js';
import type { ModelArch } from './model.js';
import { renderText, type Table } from './table.js';
import { stackSvg, writeSvg } from './svg.js';

export const DEFAULT_OUT_DIR = 'jitbox-out';

export function archesSetting(settings: Record<string, string>): ModelArch[] {
  const raw = settings['arch'] ?? settings['arches'];
  if (raw === undefined || raw === 'both' || raw === 'all') return ['x86_64', 'arm64'];
  const list = raw.split(',').map((s) => s.trim());
  for (const a of list) if (a !== 'x86_64' && a !== 'arm64') throw new InvalidArgumentError(`--set arch: "${a}" is not x86_64 or arm64`, { value: raw });
  return [...new Set(list)] as ModelArch[];
}

export function svgPathFor(settings: Record<string, string>, outDir: string, name: string): string {
  return settings['svg'] ?? join(outDir || DEFAULT_OUT_DIR, `${name}.svg`);
}

/** Write the charts (stacked into one file) and return its path. */
export function writeCharts(path: string, docs: readonly string[]): string {
  return writeSvg(path, stackSvg(docs));
}

export function benchText(tables: readonly Table[], conclusions: readonly string[], svg: string, runtime: Record<string, number>, extra: readonly string[] = []): string {
  const out: string[] = [];
  for (const t of tables) out.push(renderText(t), '');
  if (conclusions.length > 0) out.push('Conclusions (computed from the rows above):', ...conclusions.map((c) => `  - ${c}`), '');
  out.push(...extra);
  out.push(`chart: ${svg}`);
  out.push(runtimeLine(runtime));
  return out.join('\n');
}

/** The phase runtimes of one experiment context, as one line. */
export function runtimeLine(runtime: Record<string, number>): string {
  return `phase runtimes (s): ${Object.entries(runtime).map(([k, v]) => `${k} ${v}`).join(', ')}`;
}
