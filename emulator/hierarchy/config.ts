// Configuration of the memory-hierarchy model: cache geometries (Cachegrind's size,assoc,line
// triple), per-page-size L1 TLB arrays, the shared second-level TLB and the cycle costs, plus
// `key=value` overrides for the CLI (`--set l1d.sizeBytes=65536`).
//
// Invariants:
// - A validated config has power-of-two line sizes and set counts (bit-selection set index, as in
//   Cachegrind's cg_sim.c; Cachegrind raises LL ways instead, here the user picks), integer ways
//   dividing the entry/line counts, and non-negative finite cycle costs.
// - `entries2m: 0` means the L1 TLB holds 2 MiB translations in its 4 KiB array (mixed page sizes
//   in one structure, as the fully associative Cortex-A76/Neoverse N1 L1 TLBs do).
// - applyOverrides never mutates its input and throws HierarchyConfigError (nothing applied) on an
//   unknown key, a non-number value or a resulting invalid geometry.

import { JitboxError } from '../../support/errors.js';

export interface CacheConfig {
  sizeBytes: number;
  ways: number;
  lineBytes: number;
  /** Load-to-use latency of a hit (informational: L1 hits are covered by cycles.base). */
  hitCycles?: number;
}

export interface TlbConfig {
  entries4k: number;
  ways4k: number;
  /** 0: 2 MiB translations share the 4 KiB array (mixed-size L1 TLB). */
  entries2m: number;
  ways2m: number;
}

export interface HierarchyConfig {
  name: string;
  l1i: CacheConfig;
  l1d: CacheConfig;
  l2: CacheConfig;
  llc?: CacheConfig;
  itlb: TlbConfig;
  dtlb: TlbConfig;
  stlb: { entries: number; ways: number };
  /**
   * base: per instruction. l1Miss: added when an access misses L1 (served by L2). l2Miss: added when
   * it also misses L2 (served by the LLC, or memory when there is none). llcMiss: added when it
   * also misses the LLC. stlbHit: an L1 TLB miss that hits the STLB. walk: an STLB miss.
   */
  cycles: { base: number; l1Miss: number; l2Miss: number; llcMiss: number; stlbHit: number; walk: number };
  /**
   * The kernel's TLB shootdown policy for a changed kernel range (flush_tlb_kernel_range): up to
   * `ceilingPages` 4 KiB pages are invalidated one by one, a larger range flushes every TLB.
   */
  shootdown: { ceilingPages: number };
}

/** A hierarchy configuration or override is malformed. */
export class HierarchyConfigError extends JitboxError {
  constructor(message: string, key: string) {
    super('hierarchy-config', message, { key });
  }
}

const isPow2 = (n: number): boolean => Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;

function checkCache(where: string, c: CacheConfig): void {
  for (const k of ['sizeBytes', 'ways', 'lineBytes'] as const) {
    if (!Number.isSafeInteger(c[k]) || c[k] <= 0) throw new HierarchyConfigError(`${where}.${k} must be a positive integer, got ${c[k]}`, `${where}.${k}`);
  }
  if (!isPow2(c.lineBytes) || c.lineBytes < 4) throw new HierarchyConfigError(`${where}.lineBytes must be a power of two >= 4, got ${c.lineBytes}`, `${where}.lineBytes`);
  const sets = c.sizeBytes / (c.ways * c.lineBytes);
  if (!isPow2(sets)) {
    throw new HierarchyConfigError(
      `${where}: ${c.sizeBytes} bytes / (${c.ways} ways x ${c.lineBytes} B) = ${sets} sets, not a power of two (bit-selection indexing)`,
      `${where}.sizeBytes`,
    );
  }
  if (c.hitCycles !== undefined && !(Number.isFinite(c.hitCycles) && c.hitCycles >= 0)) {
    throw new HierarchyConfigError(`${where}.hitCycles must be a non-negative number`, `${where}.hitCycles`);
  }
}

function checkArray(where: string, entries: number, ways: number, allowEmpty: boolean): void {
  if (!Number.isSafeInteger(entries) || entries < (allowEmpty ? 0 : 1)) throw new HierarchyConfigError(`${where}: entries must be a ${allowEmpty ? 'non-negative' : 'positive'} integer, got ${entries}`, where);
  if (entries === 0) return;
  if (!Number.isSafeInteger(ways) || ways <= 0 || entries % ways !== 0 || !isPow2(entries / ways)) {
    throw new HierarchyConfigError(`${where}: ${entries} entries / ${ways} ways must give a power-of-two set count`, where);
  }
}

export function validateConfig(cfg: HierarchyConfig): void {
  checkCache('l1i', cfg.l1i);
  checkCache('l1d', cfg.l1d);
  checkCache('l2', cfg.l2);
  if (cfg.llc) checkCache('llc', cfg.llc);
  for (const t of ['itlb', 'dtlb'] as const) {
    checkArray(`${t}.entries4k`, cfg[t].entries4k, cfg[t].ways4k, false);
    checkArray(`${t}.entries2m`, cfg[t].entries2m, cfg[t].ways2m, true);
  }
  checkArray('stlb.entries', cfg.stlb.entries, cfg.stlb.ways, false);
  const ceiling = cfg.shootdown.ceilingPages;
  if (!Number.isSafeInteger(ceiling) || ceiling < 0) throw new HierarchyConfigError(`shootdown.ceilingPages must be a non-negative integer, got ${ceiling}`, 'shootdown.ceilingPages');
  for (const [k, v] of Object.entries(cfg.cycles)) {
    if (!(Number.isFinite(v) && v >= 0)) throw new HierarchyConfigError(`cycles.${k} must be a non-negative number, got ${v}`, `cycles.${k}`);
  }
}

export function cloneConfig(c: HierarchyConfig): HierarchyConfig {
  return {
    name: c.name,
    l1i: { ...c.l1i },
    l1d: { ...c.l1d },
    l2: { ...c.l2 },
    ...(c.llc ? { llc: { ...c.llc } } : {}),
    itlb: { ...c.itlb },
    dtlb: { ...c.dtlb },
    stlb: { ...c.stlb },
    cycles: { ...c.cycles },
    shootdown: { ...c.shootdown },
  };
}

const CACHE_KEYS = ['sizeBytes', 'ways', 'lineBytes', 'hitCycles'];
const TLB_KEYS = ['entries4k', 'ways4k', 'entries2m', 'ways2m'];
const GROUP_KEYS: Record<string, string[]> = {
  l1i: CACHE_KEYS,
  l1d: CACHE_KEYS,
  l2: CACHE_KEYS,
  llc: CACHE_KEYS,
  itlb: TLB_KEYS,
  dtlb: TLB_KEYS,
  stlb: ['entries', 'ways'],
  cycles: ['base', 'l1Miss', 'l2Miss', 'llcMiss', 'stlbHit', 'walk'],
  shootdown: ['ceilingPages'],
};

/** Every key applyOverrides accepts ("l1d.sizeBytes", ..., "name", "llc" = "none"). */
export const OVERRIDE_KEYS: readonly string[] = [
  'name',
  'llc',
  ...Object.entries(GROUP_KEYS).flatMap(([g, ks]) => ks.map((k) => `${g}.${k}`)),
];

/** Parse "32k", "2m", "0x40", "1536" (k/m/g suffixes are binary). */
function parseValue(key: string, v: string | number): number {
  if (typeof v === 'number') return v;
  const m = /^\s*(0x[0-9a-f]+|\d+(?:\.\d+)?)\s*([kmg]i?b?)?\s*$/i.exec(v);
  if (!m) throw new HierarchyConfigError(`--set ${key}: "${v}" is not a number`, key);
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase()[0];
  return n * (unit === 'k' ? 1024 : unit === 'm' ? 1024 * 1024 : unit === 'g' ? 1024 ** 3 : 1);
}

/**
 * A copy of `base` with overrides applied. Keys: `group.field` (see OVERRIDE_KEYS), `name`, and
 * `llc=none` to drop the LLC; setting an `llc.*` field on a config without one starts from the L2.
 */
export function applyOverrides(base: HierarchyConfig, overrides: Record<string, string | number>): HierarchyConfig {
  const cfg = cloneConfig(base);
  for (const [key, raw] of Object.entries(overrides)) {
    if (key === 'name') {
      cfg.name = String(raw);
      continue;
    }
    if (key === 'llc') {
      if (String(raw) !== 'none') throw new HierarchyConfigError(`--set llc accepts only "none" (set llc.sizeBytes etc. to add one)`, key);
      delete cfg.llc;
      continue;
    }
    const dot = key.indexOf('.');
    const group = dot > 0 ? key.slice(0, dot) : '';
    const field = key.slice(dot + 1);
    const allowed = GROUP_KEYS[group];
    if (!allowed || !allowed.includes(field)) {
      throw new HierarchyConfigError(`unknown hierarchy parameter "${key}" (known: ${OVERRIDE_KEYS.join(', ')})`, key);
    }
    const value = parseValue(key, raw);
    if (!Number.isFinite(value)) throw new HierarchyConfigError(`--set ${key}: "${raw}" is not a finite number`, key);
    if (group === 'llc' && !cfg.llc) cfg.llc = { ...cfg.l2 };
    const target = (group === 'llc' ? cfg.llc : cfg[group as Exclude<keyof HierarchyConfig, 'name' | 'llc'>]) as unknown as Record<string, number>;
    target[field] = value;
  }
  validateConfig(cfg);
  return cfg;
}
