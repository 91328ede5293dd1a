// The memory map of an address space as plain JSON (64-bit values as "0x..." strings) and as a text
// table: ranges, allocations, packs with utilisation, page-permission runs, ROX-cache blocks,
// modules, statistics and the audit summary. Used by `jitbox execmem map`.

import { hexAddr } from '../support/u64.js';
import { EXECMEM_KASAN_SHADOW, EXECMEM_ROX_CACHE, EXECMEM_TYPES } from './config.js';
import type { AddressSpace, SpaceStats } from './space.js';
import { permString } from './types.js';
import type { AuditReport } from './audit.js';
import { BPF_PROG_CHUNK_COUNT } from './pack.js';

export interface SpaceReport {
  arch: string;
  seed: number;
  kaslr: boolean;
  kaslrPages: number;
  kernelText: string;
  modulesVaddr: string;
  modulesEnd: string;
  directMapBase: string;
  ranges: { type: string; start: string; end: string; fallbackStart: string | null; fallbackEnd: string | null; pgprot: string; alignment: number; flags: string[] }[];
  allocations: { addr: string; size: number; type: string; source: string; label: string }[];
  vmalloc: { addr: string; size: number; label: string }[];
  packs: { base: string; usedChunks: number; totalChunks: number; programs: number; utilisation: number }[];
  roxCache: { start: string; size: number; huge: boolean; busy: { start: string; size: number }[]; free: { start: string; size: number }[] }[] | null;
  modules: { name: string; state: string; regions: { type: string; base: string; size: number; used: number; freed: boolean }[] }[];
  kernelSymbols: { name: string; address: string; size: number }[];
  permissionRuns: { start: string; end: string; perm: string; leaf: '4K' | '2M'; kind: string; label: string }[];
  stats: SpaceStats & { bpfBudgetUsed: number; bpfBudgetLimit: number };
  audit: Omit<AuditReport, 'recentTransitions' | 'recentWrites'>;
}

export function describeSpace(space: AddressSpace): SpaceReport {
  const c = space.config;
  const audit = space.audit();
  const { recentTransitions: _t, recentWrites: _w, ...auditSummary } = audit;
  return {
    arch: c.arch,
    seed: c.seed,
    kaslr: c.kaslr,
    kaslrPages: c.kaslrPages,
    kernelText: hexAddr(c.kernelTextBase),
    modulesVaddr: hexAddr(c.modulesVaddr),
    modulesEnd: hexAddr(c.modulesEnd),
    directMapBase: hexAddr(c.directMapBase),
    ranges: EXECMEM_TYPES.map((t) => {
      const r = c.ranges[t];
      return {
        type: t,
        start: hexAddr(r.start),
        end: hexAddr(r.end),
        fallbackStart: r.fallbackStart === null ? null : hexAddr(r.fallbackStart),
        fallbackEnd: r.fallbackEnd === null ? null : hexAddr(r.fallbackEnd),
        pgprot: permString(r.pgprot),
        alignment: r.alignment,
        flags: [r.flags & EXECMEM_KASAN_SHADOW ? 'KASAN_SHADOW' : '', r.flags & EXECMEM_ROX_CACHE ? 'ROX_CACHE' : ''].filter(Boolean),
      };
    }),
    allocations: space.execmem.allocations().map((a) => ({ addr: hexAddr(a.addr), size: a.size, type: a.type, source: a.source, label: a.label })),
    vmalloc: space.vmallocAreas().map((a) => ({ addr: hexAddr(a.start), size: a.size, label: a.label })),
    packs: space.packs.report().map((p) => ({
      base: hexAddr(p.base),
      usedChunks: p.usedChunks,
      totalChunks: BPF_PROG_CHUNK_COUNT,
      programs: p.programs,
      utilisation: Number(p.utilisation.toFixed(4)),
    })),
    roxCache: space.roxCache
      ? space.roxCache.report().map((a) => ({
          start: hexAddr(a.start),
          size: a.size,
          huge: a.huge,
          busy: a.busy.map((b) => ({ start: hexAddr(b.start), size: b.size })),
          free: a.free.map((b) => ({ start: hexAddr(b.start), size: b.size })),
        }))
      : null,
    modules: space.modules.loaded().map((m) => ({
      name: m.name,
      state: m.state,
      regions: Object.values(m.regions).map((r) => ({ type: r.type, base: hexAddr(r.base), size: r.size, used: r.used, freed: r.freed })),
    })),
    kernelSymbols: space.kernelSymbols().map((s) => ({ name: s.name, address: hexAddr(s.address), size: s.size })),
    permissionRuns: space.permissionRuns().map((r) => ({
      start: hexAddr(r.start),
      end: hexAddr(r.end),
      perm: permString(r.perm),
      leaf: r.huge ? '2M' : '4K',
      kind: r.kind,
      label: r.label,
    })),
    stats: { ...space.stats(), bpfBudgetUsed: space.packs.budgetUsed, bpfBudgetLimit: space.packs.budgetLimit },
    audit: auditSummary,
  };
}

function kib(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(n % (1024 * 1024) ? 2 : 0)} MiB` : `${(n / 1024).toFixed(n % 1024 ? 1 : 0)} KiB`;
}

/** The human-readable memory map. */
export function formatSpaceReport(r: SpaceReport): string {
  const out: string[] = [];
  out.push(`${r.arch} address space (seed ${r.seed}, KASLR ${r.kaslr ? `on, k=${r.kaslrPages}` : 'off'})`);
  out.push(`  kernel text ${r.kernelText}   modules [${r.modulesVaddr}, ${r.modulesEnd})   direct map ${r.directMapBase}`);
  out.push('', 'execmem ranges (half-open):');
  for (const g of r.ranges) {
    const fb = g.fallbackStart ? ` fallback [${g.fallbackStart}, ${g.fallbackEnd})` : '';
    out.push(`  ${g.type.padEnd(11)} [${g.start}, ${g.end})${fb} ${g.pgprot} align ${g.alignment} ${g.flags.join('|') || '-'}`);
  }
  out.push('', `execmem allocations (${r.allocations.length}):`);
  for (const a of r.allocations) out.push(`  ${a.addr} ${kib(a.size).padStart(10)} ${a.type.padEnd(11)} ${a.source.padEnd(9)} ${a.label}`);
  if (r.vmalloc.length) {
    out.push('', `vmalloc data areas (${r.vmalloc.length}):`);
    for (const a of r.vmalloc) out.push(`  ${a.addr} ${kib(a.size).padStart(10)} ${a.label}`);
  }
  out.push('', `bpf_prog_pack (${r.packs.length}):`);
  for (const p of r.packs) {
    out.push(`  ${p.base} ${p.programs} programs, ${p.usedChunks}/${p.totalChunks} chunks, ${(100 * p.utilisation).toFixed(2)}% used`);
  }
  if (r.roxCache) {
    out.push('', `ROX cache areas (${r.roxCache.length}):`);
    for (const a of r.roxCache) {
      out.push(`  ${a.start} ${kib(a.size)} ${a.huge ? '2M leaves' : '4K pages'}: ${a.busy.length} busy, ${a.free.length} free intervals`);
      for (const b of a.busy) out.push(`    busy ${b.start} ${kib(b.size)}`);
      for (const f of a.free) out.push(`    free ${f.start} ${kib(f.size)}`);
    }
  }
  if (r.modules.length) {
    out.push('', 'modules:');
    for (const m of r.modules) {
      out.push(`  ${m.name} (${m.state})`);
      for (const g of m.regions) out.push(`    ${g.type.padEnd(13)} ${g.base} ${kib(g.size).padStart(9)} used ${g.used}${g.freed ? ' (freed)' : ''}`);
    }
  }
  out.push('', 'page-permission runs:');
  for (const p of r.permissionRuns) out.push(`  [${p.start}, ${p.end}) ${p.perm} ${p.leaf} ${p.label}`);
  const s = r.stats;
  out.push(
    '',
    `stats: ${s.mappedPages} pages mapped (${s.executablePages} executable), ${s.usedFrames} frames used, ` +
      `splits vmap ${s.vmapSplits} / direct map ${s.directMapSplits}, collapses ${s.vmapCollapses} / ${s.directMapCollapses}, ` +
      `icache flushes ${s.icacheFlushes}, stale lines ${s.staleLines}, BPF budget ${s.bpfBudgetUsed}/${s.bpfBudgetLimit}`,
  );
  const a = r.audit;
  out.push(
    `audit: ${a.ok ? 'OK' : 'VIOLATIONS'} - ${a.transitions} transitions (${a.flips} flips in ${a.flipOps} ops), ${a.writes} writes, ` +
      `${a.pokes} pokes in ${a.pokeSteps} alias steps (${a.pokeBytes} bytes), W+X pages ${a.wxPages.length}, violations ${a.violations.length}`,
  );
  for (const v of a.violations) out.push(`  violation at ${v.page} during ${v.operation}: ${v.what}`);
  return out.join('\n');
}
