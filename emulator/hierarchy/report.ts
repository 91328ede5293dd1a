// Text and JSON views of a hierarchy configuration and its statistics, shared by `jitbox emu
// --model` and the experiments: one row per structure with accesses, misses, miss rate and misses
// per 1,000 instructions (the unit reference/machine.md §4 asks for), then cycles and walks, then
// the configuration with each preset value's source status (P primary, S secondary, C unconfirmed,
// A assumption; overridden values say "set").

import type { CacheConfig, HierarchyConfig } from './config.js';
import { applyOverrides, HierarchyConfigError } from './config.js';
import type { HierarchyStats, LevelStats } from './model.js';
import { isPresetName, PRESETS, type PresetName, VALUE_STATUS } from './presets.js';

/** A preset with `key=value` overrides applied (typed error on an unknown preset or key). */
export function hierarchyConfigFor(preset: string, overrides: Record<string, string | number> = {}): HierarchyConfig {
  if (!isPresetName(preset)) throw new HierarchyConfigError(`unknown model preset "${preset}" (skylake, neoverse-n1)`, 'model');
  return applyOverrides(PRESETS[preset], overrides);
}

/** ["l1d.sizeBytes=64k", ...] -> record; typed error on an entry without "=". */
export function parseSetList(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new HierarchyConfigError(`--set expects key=value, got "${kv}"`, kv);
    out[kv.slice(0, i).trim()] = kv.slice(i + 1).trim();
  }
  return out;
}

const per1k = (n: number, insns: number): number => (insns > 0 ? (1000 * n) / insns : 0);

function rows(s: HierarchyStats): [string, LevelStats][] {
  const r: [string, LevelStats][] = [['L1i', s.l1i], ['L1d', s.l1d], ['L2', s.l2]];
  if (s.llc) r.push(['LLC', s.llc]);
  r.push(['iTLB', s.itlb], ['dTLB', s.dtlb], ['STLB', s.stlb]);
  return r;
}

export function formatStats(s: HierarchyStats): string {
  const lines = [`${'level'.padEnd(6)} ${'accesses'.padStart(12)} ${'misses'.padStart(10)} ${'miss %'.padStart(7)} ${'MPKI'.padStart(8)}`];
  for (const [name, l] of rows(s)) {
    const rate = l.accesses > 0 ? ((100 * l.misses) / l.accesses).toFixed(2) : '-';
    lines.push(`${name.padEnd(6)} ${String(l.accesses).padStart(12)} ${String(l.misses).padStart(10)} ${rate.padStart(7)} ${per1k(l.misses, s.insns).toFixed(3).padStart(8)}`);
  }
  lines.push(`insns ${s.insns}  cycles ${s.cycles}  CPI ${s.insns > 0 ? (s.cycles / s.insns).toFixed(3) : '-'}  walks ${s.walks}  prefetches ${s.prefetches}`);
  return lines.join('\n');
}

export function statsJson(s: HierarchyStats): Record<string, unknown> {
  const mpki: Record<string, number> = {};
  for (const [name, l] of rows(s)) mpki[name] = Number(per1k(l.misses, s.insns).toFixed(4));
  return { ...s, mpki };
}

function statusOf(preset: PresetName | null, key: string, overridden: ReadonlySet<string>): string {
  if (overridden.has(key)) return 'set';
  if (preset === null) return '-';
  const st = VALUE_STATUS[preset];
  return st[key] ?? st[key.slice(0, key.indexOf('.')) + '.*'] ?? '-';
}

/** The configuration, one structure per line, each value followed by its source status. */
export function describeConfig(cfg: HierarchyConfig, preset: string | null, overrides: Record<string, unknown> = {}): string {
  const p = preset !== null && isPresetName(preset) ? preset : null;
  const set = new Set(Object.keys(overrides));
  const st = (k: string): string => statusOf(p, k, set);
  const cache = (n: string, c: CacheConfig): string =>
    `${n.padEnd(5)} ${c.sizeBytes / 1024} KiB [${st(`${n}.sizeBytes`)}] ${c.ways}-way [${st(`${n}.ways`)}] ${c.lineBytes} B lines` +
    (c.hitCycles !== undefined ? `, hit ${c.hitCycles} cyc [${st(`${n}.hitCycles`)}]` : '');
  const tlb = (n: 'itlb' | 'dtlb'): string => {
    const t = cfg[n];
    const big = t.entries2m > 0 ? `2M ${t.entries2m}/${t.ways2m}-way [${st(`${n}.entries2m`)}]` : '2M in the 4K array (mixed sizes)';
    return `${n.padEnd(5)} 4K ${t.entries4k}/${t.ways4k}-way [${st(`${n}.entries4k`)}], ${big}`;
  };
  const c = cfg.cycles;
  return [
    `model ${cfg.name}${p ? '' : ' (custom)'}; status: P primary source, S secondary, C unconfirmed, A assumption, set = --set`,
    cache('l1i', cfg.l1i),
    cache('l1d', cfg.l1d),
    cache('l2', cfg.l2),
    cfg.llc ? cache('llc', cfg.llc) : 'llc   none (L2 misses go to memory)',
    tlb('itlb'),
    tlb('dtlb'),
    `stlb  ${cfg.stlb.entries}/${cfg.stlb.ways}-way [${st('stlb.entries')}]`,
    `cycles base ${c.base} [${st('cycles.base')}], L1 miss +${c.l1Miss} [${st('cycles.l1Miss')}], L2 miss +${c.l2Miss} [${st('cycles.l2Miss')}], ` +
      `LLC miss +${c.llcMiss} [${st('cycles.llcMiss')}], STLB hit +${c.stlbHit} [${st('cycles.stlbHit')}], walk +${c.walk} [${st('cycles.walk')}]`,
  ].join('\n');
}
