// The experiments' side of the cache/TLB/cycle model (emulator/hierarchy): which preset an arch
// uses, `--set model.KEY=VALUE` overrides, and per-unit views of HierarchyStats.
//
// Invariants: x86_64 runs use the `skylake` preset and arm64 `neoverse-n1` unless `model.preset`
// says otherwise; overrides are applied by the model's own applyOverrides (validated there, typed
// error on a bad key), and the resulting configuration is reported with every result, so a table
// always states the parameters it came from.

import { InvalidArgumentError } from '../../support/errors.js';
import type { GuestMemory } from '../../execmem/types.js';
import { applyOverrides, type HierarchyConfig, type HierarchyStats, MemoryHierarchy, PRESETS } from '../../emulator/hierarchy/index.js';

export type ModelArch = 'x86_64' | 'arm64';
export type PresetName = keyof typeof PRESETS;

export interface ModelParams {
  /** Preset per arch (default skylake / neoverse-n1). */
  preset: Record<ModelArch, PresetName>;
  /** Overrides applied to both presets (`model.l1i.sizeBytes=65536` becomes `l1i.sizeBytes`). */
  overrides: Record<string, string>;
}

export function defaultModelParams(): ModelParams {
  return { preset: { x86_64: 'skylake', arm64: 'neoverse-n1' }, overrides: {} };
}

/** Model parameters from bench `--set` settings: `model.preset=NAME`, `model.<key>=<value>`. */
export function modelParamsFromSettings(settings: Record<string, string>): ModelParams {
  const p = defaultModelParams();
  for (const [k, v] of Object.entries(settings)) {
    if (!k.startsWith('model.')) continue;
    const key = k.slice('model.'.length);
    if (key === 'preset') {
      if (!(v in PRESETS)) throw new InvalidArgumentError(`--set model.preset: unknown preset "${v}" (known: ${Object.keys(PRESETS).join(', ')})`, { value: v });
      p.preset = { x86_64: v as PresetName, arm64: v as PresetName };
    } else p.overrides[key] = v;
  }
  configFor('x86_64', p);
  return p;
}

export function configFor(arch: ModelArch, p: ModelParams): HierarchyConfig {
  return applyOverrides(PRESETS[p.preset[arch]], p.overrides);
}

export function makeHierarchy(space: GuestMemory, arch: ModelArch, p: ModelParams): MemoryHierarchy {
  return new MemoryHierarchy(space, configFor(arch, p));
}

/** The model counters an experiment reports, totals over a measured interval. */
export interface ModelCounts {
  insns: number;
  cycles: number;
  l1iMisses: number;
  l1dMisses: number;
  l2Misses: number;
  /** 0 when the configuration has no LLC. */
  llcMisses: number;
  itlbMisses: number;
  dtlbMisses: number;
  stlbMisses: number;
  walks: number;
}

export function counts(s: HierarchyStats): ModelCounts {
  return {
    insns: s.insns,
    cycles: s.cycles,
    l1iMisses: s.l1i.misses,
    l1dMisses: s.l1d.misses,
    l2Misses: s.l2.misses,
    llcMisses: s.llc?.misses ?? 0,
    itlbMisses: s.itlb.misses,
    dtlbMisses: s.dtlb.misses,
    stlbMisses: s.stlb.misses,
    walks: s.walks,
  };
}

export function diffCounts(after: ModelCounts, before: ModelCounts): ModelCounts {
  const out = { ...after };
  for (const k of Object.keys(out) as (keyof ModelCounts)[]) out[k] = after[k] - before[k];
  return out;
}

export function addCounts(a: ModelCounts, b: ModelCounts): ModelCounts {
  const out = { ...a };
  for (const k of Object.keys(out) as (keyof ModelCounts)[]) out[k] = a[k] + b[k];
  return out;
}

/** A compact, JSON-safe record of the configuration used (for reports). */
export function describeConfig(c: HierarchyConfig): Record<string, unknown> {
  return JSON.parse(JSON.stringify(c)) as Record<string, unknown>;
}
