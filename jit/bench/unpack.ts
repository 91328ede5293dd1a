// `jitbox bench unpack`: bkey unpack cost per key family (issue 7 benchmark; issue 8 experiment 1;
// reference/bkey.md §9 "Per unpack").
// Host-native: the generic TypeScript interpreter (baseline), the byte-aligned precomputed-constants
// unpacker, the per-format wasm unpacker (batch loop inside wasm, and one JS->wasm call per key) and
// the shared generic wasm unpacker; target: wasm compiled (batch) >= 2.5x generic TS.
// Emulator (jit/experiments/unpack-emu.ts): cycles, instructions and misses per unpacked key of the
// x86_64 / arm64 compiled and generic machine-code unpackers under the cache/TLB/cycle model, hot
// and cold (the byte-aligned unpacker has no machine-code form, so no emulator row).
//
// Invariants: every variant's output is checked against the generic TypeScript unpack before it
// is timed or counted; ratios are against the generic TypeScript unpack measured in the same run;
// emulator figures are deterministic for a seed (only the host-native ns vary run to run).
// `--set unicorn=1` also counts the instructions under Unicorn (/usr/bin/python3) as a cross-check.

import { loadavg } from 'node:os';
import { Rng } from '../../support/rng.js';
import { bytesToHex } from '../../support/u64.js';
import { genArm64Unpacker } from '../../codegen/bkey/arm64.js';
import { genArm64GenericUnpacker } from '../../codegen/bkey/generic-arm64.js';
import { genX86GenericUnpacker } from '../../codegen/bkey/generic-x86_64.js';
import { genX86Unpacker } from '../../codegen/bkey/x86_64.js';
import { byteAlignedPlan, unpackByteAligned } from '../bkey/byte-aligned.js';
import { BKEY_BYTES, type BkeyFormat, encodeFormat, formatToJson, formatToString } from '../bkey/format.js';
import { runUnicornUnpack, unicornAvailable } from '../bkey/unicorn-run.js';
import { formatForKeySet, genFamily, KEY_FAMILIES, type KeyFamily } from '../bkey/keys.js';
import { packInto, unpackGeneric } from '../bkey/pack.js';
import { instantiateWasmGeneric, instantiateWasmUnpacker, WasmUnpackArena } from '../bkey/wasm-run.js';
import type { Benchmark, BenchOptions, BenchReport } from './types.js';
import { InvalidArgumentError } from '../../support/errors.js';
import { archesSetting, svgPathFor, writeCharts } from '../experiments/bench-util.js';
import { modelParamsFromSettings } from '../experiments/model.js';
import { deriveSeed, intSetting, round } from '../experiments/runner.js';
import { barChartSvg, type BarChart } from '../experiments/svg.js';
import { renderText, type Table } from '../experiments/table.js';
import { emulatorRows, type EmuUnpackParams, type EmuUnpackRow } from '../experiments/unpack-emu.js';

const REFERENCE_NS = { compiled: '2.8-3.2', generic: '7.5-9.1', byte_aligned: '3.6-5.0' };

interface Variant {
  name: string;
  ns: number | null;
  note?: string;
}

/** ns per key: the fastest of three timed runs of `body` (each at least minMs / 3), after a warm-up. */
function timeLoop(minMs: number, keys: number, body: () => void): number {
  body();
  let rounds = 1;
  for (;;) {
    const t0 = performance.now();
    for (let r = 0; r < rounds; r++) body();
    const ms = performance.now() - t0;
    if (ms >= minMs / 3) break;
    rounds = Math.max(rounds * 2, Math.ceil((rounds * minMs) / 3 / Math.max(ms, 0.01)));
  }
  let best = Infinity;
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    for (let r = 0; r < rounds; r++) body();
    best = Math.min(best, performance.now() - t0);
  }
  return (best * 1e6) / (rounds * keys);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface DynamicCounts {
  name: string;
  static_bytes: number;
  insns_per_unpack: number;
}

/**
 * Instructions executed per unpack by the x86_64/arm64 code, compiled vs generic, counted under
 * Unicorn on up to 64 of the family's keys (outputs checked against the generic TS unpack).
 */
function dynamicCounts(f: BkeyFormat, keys: Uint8Array[], want: string[]): DynamicCounts[] {
  const out: DynamicCounts[] = [];
  const fmt = bytesToHex(encodeFormat(f), '');
  const hexKeys = keys.map((k) => bytesToHex(k, ''));
  for (const arch of ['x86_64', 'arm64'] as const) {
    for (const generic of [false, true]) {
      const code = generic ? (arch === 'x86_64' ? genX86GenericUnpacker() : genArm64GenericUnpacker()) : arch === 'x86_64' ? genX86Unpacker(f) : genArm64Unpacker(f);
      const [res] = runUnicornUnpack(arch, [{ code: bytesToHex(code.bytes, ''), fmt: generic ? fmt : '', keyU64s: f.keyU64s, keys: hexKeys }]);
      if (!res || res.error || res.outputs.some((o, i) => o !== want[i])) throw new Error(`${arch}${generic ? ' generic' : ''} unpack under Unicorn disagrees with the generic TS unpack`);
      const mean = res.insns.reduce((a, b) => a + b, 0) / res.insns.length;
      out.push({ name: `${arch} ${generic ? 'generic' : 'compiled'}`, static_bytes: code.size, insns_per_unpack: Number(mean.toFixed(1)) });
    }
  }
  return out;
}

interface FamilyResult {
  format: BkeyFormat;
  keys: number;
  variants: Variant[];
  dynamic: DynamicCounts[] | null;
  emulator: EmuUnpackRow[];
}

function benchFamily(family: KeyFamily, rng: Rng, nKeys: number, minMs: number, emu: EmuUnpackParams, unicorn: boolean): FamilyResult {
  const ks = genFamily(family, rng, nKeys);
  const f = formatForKeySet(ks);
  const n = ks.keys.length;
  const arena = new WasmUnpackArena(f, n);
  const mem = arena.bytes();
  for (let i = 0; i < n; i++) packInto(f, ks.keys[i]!, mem, arena.keyAt(i));
  const src = mem.slice(0, arena.keyAt(n));
  const out = new Uint8Array(n * BKEY_BYTES);
  const want = new Uint8Array(n * BKEY_BYTES);
  const stride = arena.stride;
  const k0 = arena.keyAt(0);
  for (let i = 0; i < n; i++) unpackGeneric(f, src, k0 + i * stride, want, i * BKEY_BYTES);
  const variants: Variant[] = [];

  variants.push({
    name: 'generic TS',
    ns: timeLoop(minMs, n, () => {
      for (let i = 0; i < n; i++) unpackGeneric(f, src, k0 + i * stride, out, i * BKEY_BYTES);
    }),
  });

  const plan = byteAlignedPlan(f);
  if (plan) {
    out.fill(0);
    for (let i = 0; i < n; i++) unpackByteAligned(plan, src, k0 + i * stride, out, i * BKEY_BYTES);
    if (!sameBytes(out, want)) throw new Error(`byte-aligned unpack disagrees with the generic unpack (${family})`);
    variants.push({
      name: 'byte-aligned TS',
      ns: timeLoop(minMs, n, () => {
        for (let i = 0; i < n; i++) unpackByteAligned(plan, src, k0 + i * stride, out, i * BKEY_BYTES);
      }),
    });
  } else {
    variants.push({ name: 'byte-aligned TS', ns: null, note: 'format not byte-aligned' });
  }

  const compiled = instantiateWasmUnpacker(f, arena.memory);
  const generic = instantiateWasmGeneric(arena.memory);
  const wasmOut = (): Uint8Array => arena.bytes().subarray(arena.dstOf(0), arena.dstOf(n));
  const check = (what: string): void => {
    if (!sameBytes(wasmOut(), want)) throw new Error(`${what} disagrees with the generic unpack (${family})`);
    arena.bytes().fill(0, arena.dstOf(0), arena.dstOf(n));
  };
  compiled.unpackBatch(arena.dstOf(0), k0, n, stride);
  check('wasm compiled');
  variants.push({ name: 'wasm compiled (batch)', ns: timeLoop(minMs, n, () => compiled.unpackBatch(arena.dstOf(0), k0, n, stride)) });
  const dst0 = arena.dstOf(0);
  const one = compiled.unpack;
  for (let i = 0; i < n; i++) one(dst0 + i * BKEY_BYTES, k0 + i * stride);
  check('wasm compiled (per call)');
  variants.push({
    name: 'wasm compiled (JS call per key)',
    ns: timeLoop(minMs, n, () => {
      for (let i = 0; i < n; i++) one(dst0 + i * BKEY_BYTES, k0 + i * stride);
    }),
  });
  generic.unpackBatch(arena.fmtAt, arena.dstOf(0), k0, n, stride);
  check('wasm generic');
  variants.push({ name: 'wasm generic (batch)', ns: timeLoop(minMs, n, () => generic.unpackBatch(arena.fmtAt, arena.dstOf(0), k0, n, stride)) });
  const sample = Math.min(64, n);
  const emuKeys = Math.min(n, Math.max(emu.hotKeys, emu.coldKeys));
  const emulator = emulatorRows(
    family,
    f,
    Array.from({ length: emuKeys }, (_, i) => src.slice(k0 + i * stride, k0 + i * stride + 8 * f.keyU64s)),
    Array.from({ length: emuKeys }, (_, i) => want.slice(i * BKEY_BYTES, (i + 1) * BKEY_BYTES)),
    emu,
  );
  const dynamic = unicorn && unicornAvailable()
    ? dynamicCounts(
        f,
        Array.from({ length: sample }, (_, i) => src.slice(k0 + i * stride, k0 + i * stride + 8 * f.keyU64s)),
        Array.from({ length: sample }, (_, i) => bytesToHex(want.subarray(i * BKEY_BYTES, (i + 1) * BKEY_BYTES), '')),
      )
    : null;
  return { format: f, keys: n, variants, dynamic, emulator };
}

export interface UnpackRun {
  json: Record<string, unknown>;
  tables: Table[];
  conclusions: string[];
  charts: string[];
  /** Free-form lines (host load, reference figures, target). */
  notes: string[];
}

/** Reference instructions per unpack (bkey.md §9: extents / dirents / full width). */
const REFERENCE_INSNS_RANGE = { compiled: [15, 20] as const };
const REFERENCE_INSNS = { compiled: '15 / 16 / 20', interpreter: '125 / 133 / 158', byte_aligned: '50 / 50 / 66' };

/** Conclusions from the emulator rows and the host-native variants (no fixed prose). */
export function unpackConclusions(families: readonly { family: string; variants: readonly Variant[]; emulator: readonly EmuUnpackRow[] }[], ghz: number): string[] {
  const lines: string[] = [];
  for (const fam of families) {
    const base = fam.variants[0]?.ns ?? null;
    const wasm = fam.variants.find((v) => v.name === 'wasm compiled (batch)')?.ns ?? null;
    if (base !== null && wasm !== null) lines.push(`${fam.family}: wasm compiled ${round(base / wasm, 2)}x generic TS (target >= 2.5x: ${base / wasm >= 2.5 ? 'met' : 'NOT met'}).`);
    for (const arch of [...new Set(fam.emulator.map((r) => r.arch))]) {
      const get = (v: string, t: string): EmuUnpackRow | undefined => fam.emulator.find((r) => r.arch === arch && r.variant === v && r.temperature === t);
      const ch = get('compiled', 'hot');
      const gh = get('generic', 'hot');
      const cc = get('compiled', 'cold');
      const gc = get('generic', 'cold');
      if (ch && arch === 'x86_64') {
        const [lo, hi] = REFERENCE_INSNS_RANGE.compiled;
        lines.push(`${fam.family} x86_64 compiled: ${ch.insns} instructions per unpack, ${ch.insns >= lo && ch.insns <= hi ? 'inside' : 'outside'} the reference's ${lo}-${hi} for bcachefs's compiled unpackers.`);
      }
      if (ch && gh) {
        lines.push(
          `${fam.family} ${arch} hot: compiled ${ch.insns} insns / ${ch.cycles} cycles (${round(ch.cycles / ghz, 2)} ns at ${ghz} GHz) vs generic ${gh.insns} / ${gh.cycles} (${round(gh.cycles / ghz, 2)} ns): ${round(gh.cycles / Math.max(1e-9, ch.cycles), 2)}x fewer cycles compiled.`,
        );
      }
      if (cc && gc) {
        const missC = cc.cycles - cc.insns;
        const missG = gc.cycles - gc.insns;
        lines.push(
          `${fam.family} ${arch} cold: compiled ${cc.cycles} cycles (${round((100 * missC) / Math.max(1e-9, cc.cycles), 0)}% miss penalties, ${cc.l1iMisses} L1i + ${cc.l1dMisses} L1d misses) vs generic ${gc.cycles} (${round((100 * missG) / Math.max(1e-9, gc.cycles), 0)}% miss penalties): ` +
            (cc.cycles < gc.cycles ? `compiled stays ${round(gc.cycles / cc.cycles, 2)}x cheaper cold.` : `generic is ${round(cc.cycles / gc.cycles, 2)}x cheaper cold.`),
        );
      }
    }
  }
  return lines;
}

export function unpackCharts(families: readonly { family: string; variants: readonly Variant[]; emulator: readonly EmuUnpackRow[] }[]): BarChart[] {
  const groups = families.map((f) => f.family);
  const names = [...new Set(families.flatMap((f) => f.variants.map((v) => v.name)))];
  const native: BarChart = {
    title: 'unpack: host-native ns per unpacked key',
    yLabel: 'ns / unpack',
    groups,
    series: names.map((n) => ({ name: n, values: families.map((f) => f.variants.find((v) => v.name === n)?.ns ?? null).map((v) => (v === null ? null : round(v, 2))) })),
  };
  const keys = [...new Set(families.flatMap((f) => f.emulator.map((r) => `${r.arch} ${r.variant} ${r.temperature}`)))];
  const emu: BarChart = {
    title: 'unpack: model cycles per unpacked key (emulator)',
    yLabel: 'cycles / unpack',
    groups,
    series: keys.map((k) => ({ name: k, values: families.map((f) => f.emulator.find((r) => `${r.arch} ${r.variant} ${r.temperature}` === k)?.cycles ?? null) })),
  };
  return [native, emu];
}

/** The whole unpack experiment (the bench and `jitbox report` share it); `moderate` = report size. */
export function runUnpack(opts: Pick<BenchOptions, 'seed' | 'quick' | 'settings' | 'progress'>, moderate = false): UnpackRun {
  const rng = new Rng(opts.seed);
  const s = opts.settings;
  const nKeys = intSetting(s, 'keys', opts.quick ? 1024 : 8192, 16, 1 << 20);
  const minMs = intSetting(s, 'ms', opts.quick ? 20 : moderate ? 120 : 250, 1, 60000);
  const ghz = Number(s['ghz'] ?? 3);
  if (!(ghz > 0 && ghz < 100)) throw new InvalidArgumentError(`--set ghz must be a clock in GHz, got "${s['ghz']}"`, { value: String(s['ghz']) });
  const emu: EmuUnpackParams = {
    arches: archesSetting(s),
    hotKeys: intSetting(s, 'hotKeys', opts.quick ? 32 : 256, 1, 1 << 16),
    passes: intSetting(s, 'passes', opts.quick ? 2 : 4, 1, 1000),
    coldKeys: intSetting(s, 'coldKeys', opts.quick ? 16 : 64, 1, 1 << 16),
    model: modelParamsFromSettings(s),
    seed: deriveSeed(opts.seed, 'unpack/space'),
  };
  const unicorn = s['unicorn'] === '1';
  const results: (FamilyResult & { family: KeyFamily })[] = [];
  const runtime: Record<string, number> = {};
  KEY_FAMILIES.forEach((fam, fi) => {
    opts.progress(fi, KEY_FAMILIES.length, `unpack ${fam}`);
    const t0 = performance.now();
    results.push({ family: fam, ...benchFamily(fam, rng, nKeys, minMs, emu, unicorn) });
    runtime[`unpack ${fam}`] = round((performance.now() - t0) / 1000, 3);
  });
  opts.progress(KEY_FAMILIES.length, KEY_FAMILIES.length, 'unpack');
  const native: Table = {
    title: `unpack: host-native, ${nKeys} keys per family`,
    columns: ['family', 'unpacker', 'ns/unpack', 'Mkeys/s', 'vs generic TS'],
    rows: results.flatMap((r) => {
      const base = r.variants[0]?.ns as number;
      return r.variants.map((v) => [r.family, v.name, v.ns === null ? null : round(v.ns, 2), v.ns === null ? null : round(1e3 / v.ns, 1), v.ns === null ? null : round(base / v.ns, 2)]);
    }),
    notes: [
      ...results.map((r) => `${r.family} format: ${formatToString(r.format)}`),
      `reference (native C, bkey.md §9): compiled ${REFERENCE_NS.compiled} ns, interpreter ${REFERENCE_NS.generic} ns, byte-aligned ${REFERENCE_NS.byte_aligned} ns per unpack`,
      ...results.flatMap((r) => r.variants.filter((v) => v.ns === null).map((v) => `${r.family} ${v.name}: ${v.note ?? 'n/a'}`)),
    ],
  };
  const emuTable: Table = {
    title: `unpack: emulator under the model, per unpacked key (hot: ${emu.hotKeys} keys x ${emu.passes} passes after a warm-up; cold: ${emu.coldKeys} unpacks, caches and TLBs flushed before each)`,
    columns: ['family', 'arch', 'unpacker', 'temp', 'code B', 'insns', 'cycles', `ns @${ghz}GHz`, 'ref ns', 'L1i miss', 'L1d miss', 'iTLB miss', 'dTLB miss'],
    rows: results.flatMap((r) =>
      r.emulator.map((e) => [e.family, e.arch, e.variant, e.temperature, e.codeBytes, e.insns, e.cycles, round(e.cycles / ghz, 2), e.variant === 'compiled' ? REFERENCE_NS.compiled : REFERENCE_NS.generic, e.l1iMisses, e.l1dMisses, e.itlbMisses, e.dtlbMisses]),
    ),
    notes: [
      `reference instructions per unpack (extents / dirents / full width): compiled ${REFERENCE_INSNS.compiled}, interpreter ${REFERENCE_INSNS.interpreter}, byte-aligned ${REFERENCE_INSNS.byte_aligned}`,
      'byte-aligned: no machine-code form exists (codegen/bkey has none; bcachefs 2026 ships it as C), so it is measured host-native only',
      `"ref ns" = the native C figure of the same unpacker kind; "ns @${ghz}GHz" = model cycles / clock (set with --set ghz=)`,
    ],
  };
  const tables: Table[] = [native, emuTable];
  for (const r of results) {
    if (!r.dynamic) continue;
    tables.push({ title: `unpack: ${r.family}: instructions per unpack under Unicorn (cross-check)`, columns: ['code', 'bytes', 'insns/unpack'], rows: r.dynamic.map((d) => [d.name, d.static_bytes, d.insns_per_unpack]) });
  }
  const target = results.every((r) => {
    const base = r.variants[0]?.ns;
    const v = r.variants.find((x) => x.name === 'wasm compiled (batch)')?.ns;
    return base !== undefined && base !== null && v !== undefined && v !== null && base / v >= 2.5;
  });
  const load = loadavg()[0] ?? 0;
  const conclusions = unpackConclusions(results, ghz);
  const notes = [
    `host load average ${load.toFixed(2)} (other processes share the CPU: absolute ns are noisy, ratios less so)`,
    `target wasm compiled (batch) >= 2.5x generic TS: ${target ? 'met' : 'NOT met'} in every family`,
  ];
  const json: Record<string, unknown> = {
    families: results.map((r) => ({
      family: r.family,
      keys: r.keys,
      format: formatToJson(r.format),
      dynamic_instructions_unicorn: r.dynamic,
      emulator: r.emulator,
      variants: r.variants.map((v) => ({
        name: v.name,
        ns_per_unpack: v.ns === null ? null : Number(v.ns.toFixed(3)),
        keys_per_s: v.ns === null ? null : Math.round(1e9 / v.ns),
        ratio_vs_generic_ts: v.ns === null || !r.variants[0]?.ns ? null : Number((r.variants[0].ns / v.ns).toFixed(3)),
        ...(v.note ? { note: v.note } : {}),
      })),
    })),
    params: { keys: nKeys, min_ms: minMs, ghz, hot_keys: emu.hotKeys, passes: emu.passes, cold_keys: emu.coldKeys, arches: emu.arches, presets: emu.model.preset, overrides: emu.model.overrides },
    reference_ns: REFERENCE_NS,
    reference_insns: REFERENCE_INSNS,
    target_wasm_vs_generic_ts: 2.5,
    target_met: target,
    host_loadavg_1m: Number(load.toFixed(2)),
    conclusions,
    phase_runtime_s: runtime,
  };
  return { json, tables, conclusions, charts: unpackCharts(results).map(barChartSvg), notes };
}

export const bench: Benchmark = {
  name: 'unpack',
  description: 'bkey unpack: host-native generic TS vs byte-aligned TS vs wasm, and emulator cycles/misses per key (compiled vs generic machine code, x86_64/arm64, hot/cold)',
  async run(opts: BenchOptions): Promise<BenchReport> {
    const r = runUnpack(opts);
    const svg = writeCharts(svgPathFor(opts.settings, opts.outDir, 'unpack'), r.charts);
    const lines: string[] = [];
    for (const t of r.tables) lines.push(renderText(t), '');
    lines.push('Conclusions (computed from the rows above):', ...r.conclusions.map((c) => `  - ${c}`), '', ...r.notes, `chart: ${svg}`);
    return { json: { ...r.json, svg }, text: lines.join('\n') };
  },
};
