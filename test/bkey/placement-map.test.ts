// The `bkey` scenarios of `jitbox execmem map` (jit/bkey/scenario.ts): every placed area appears in
// the map under its label with the permission its mode promises: code ROX (colocated: code and
// tables in one ROX region), tables and keys RW elsewhere; the W^X audit stays clean.
import { describe, expect, it } from 'vitest';
import { AddressSpace, describeSpace, formatSpaceReport } from '../../execmem/index.js';
import { type Arch } from '../../execmem/types.js';
import { hexAddr } from '../../support/u64.js';
import { BKEY_SCENARIO_NODES, placeBkeyScenario } from '../../jit/bkey/scenario.js';
import { PLACEMENT_MODES } from '../../jit/bkey/placement.js';
import { runScenario, SCENARIOS } from '../../jit/commands/execmem.js';

function permAt(runs: { start: string; end: string; perm: string }[], addr: number): string | undefined {
  const a = BigInt.asUintN(64, BigInt(addr));
  return runs.find((r) => BigInt(r.start) <= a && a < BigInt(r.end))?.perm;
}

describe.each(['x86_64', 'arm64'] as Arch[])('execmem map, bkey scenario on %s', (arch) => {
  it('shows every mode\'s areas with the right labels and permissions', () => {
    const space = new AddressSpace({ arch, seed: 5 });
    const placed = placeBkeyScenario(space, 5);
    expect(placed).toHaveLength(BKEY_SCENARIO_NODES * PLACEMENT_MODES.length);
    const map = describeSpace(space);
    expect(map.audit.ok).toBe(true);
    expect(map.audit.wxPages).toEqual([]);
    const labels = new Map<string, string>();
    for (const a of map.allocations) labels.set(a.addr, a.label);
    for (const a of map.vmalloc) labels.set(a.addr, a.label);
    for (const p of placed) {
      expect(permAt(map.permissionRuns, p.unpackAddr)).toBe('r-x');
      expect(permAt(map.permissionRuns, p.keysAddr)).toBe('rw-');
      expect(permAt(map.permissionRuns, p.auxAddr)).toBe(p.mode === 'colocated' ? 'r-x' : 'rw-');
      for (const area of p.areas) {
        if (area.via === 'bpf_prog_pack') {
          expect(map.packs.some((k) => BigInt(k.base) <= BigInt.asUintN(64, BigInt(area.addr)) && BigInt.asUintN(64, BigInt(area.addr)) < BigInt(k.base) + 2n * 1024n * 1024n)).toBe(true);
        } else expect(labels.get(hexAddr(area.addr))).toBe(area.label);
      }
    }
    expect(map.packs.reduce((s, k) => s + k.programs, 0)).toBe(BKEY_SCENARIO_NODES);
    expect(map.allocations.filter((a) => a.label.includes('generic unpack'))).toHaveLength(1);
    expect(map.allocations.filter((a) => a.label.includes('(colocated)'))).toHaveLength(BKEY_SCENARIO_NODES);
    expect(map.allocations.filter((a) => a.label.includes('(own page)'))).toHaveLength(BKEY_SCENARIO_NODES);
    const text = formatSpaceReport(map);
    expect(text).toMatch(/aux_data: code \+ tables \(colocated\)/);
    expect(text).toMatch(/aux tables \(shared-pack\)/);
  });

  it('runs through the execmem map scenarios by name, one mode each', () => {
    for (const mode of PLACEMENT_MODES) {
      const name = `bkey-${mode}` as (typeof SCENARIOS)[number];
      expect(SCENARIOS).toContain(name);
      const space = new AddressSpace({ arch, seed: 2 });
      runScenario(space, name, 2);
      const map = describeSpace(space);
      const ours = [...map.allocations, ...map.vmalloc].filter((a) => a.label.startsWith('bkey'));
      expect(ours.length).toBeGreaterThanOrEqual(BKEY_SCENARIO_NODES);
      for (const a of map.vmalloc) expect(a.label).toContain(`(${mode})`);
      expect(map.audit.ok).toBe(true);
    }
  });
});
