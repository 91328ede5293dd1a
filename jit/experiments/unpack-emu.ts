// Experiment `unpack`, emulator half (issue 8 experiment 1, issue 7 benchmark): cycles,
// instructions and misses per unpacked key when the x86_64 / arm64 unpackers run in jitbox's
// emulator under the cache/TLB/cycle model, per key family, hot and cold.
//
// Variants: `compiled` = the per-format unpacker (bcachefs bch2_compile_bkey_format bytes on x86_64,
// the reference/bkey.md §5 mapping on arm64) on its own ROX page; `generic` = the shared generic
// machine-code unpacker reading the node's bkey_format. The 2026 byte-aligned unpacker has no
// machine-code form in codegen/bkey (it exists as TypeScript only), so it has no emulator row.
//
// Method: keys are placed with NodePlacer.placeKeys (keys in RW vmalloc, code in execmem) and run
// through EmuUnpackRunner with the model as observer. Hot: one warm-up pass over the sample, reset,
// then `passes` measured passes. Cold: the model is flushed (every cache and TLB empty) before each
// measured unpack. Every output is checked against the TypeScript generic unpack.
//
// Invariant: results depend only on (format, keys, model parameters); no wall-clock value enters.

import { AddressSpace } from '../../execmem/space.js';
import { InvariantError } from '../../support/errors.js';
import { EmuUnpackRunner } from '../bkey/emu-run.js';
import type { BkeyFormat } from '../bkey/format.js';
import { NodePlacer, type PlacementMode } from '../bkey/placement.js';
import { addCounts, counts, diffCounts, makeHierarchy, type ModelArch, type ModelCounts, type ModelParams } from './model.js';
import { round } from './runner.js';

export type EmuVariant = 'compiled' | 'generic';
export const EMU_VARIANTS: readonly EmuVariant[] = ['compiled', 'generic'];

/** The counts are per unpacked key. */
export interface EmuUnpackRow extends Pick<ModelCounts, 'cycles' | 'insns' | 'l1iMisses' | 'l1dMisses' | 'itlbMisses' | 'dtlbMisses'> {
  family: string;
  arch: ModelArch;
  variant: EmuVariant;
  temperature: 'hot' | 'cold';
  codeBytes: number;
  unpacks: number;
}

export interface EmuUnpackParams {
  arches: ModelArch[];
  /** Keys in the hot sample, measured passes over it, and cold unpacks. */
  hotKeys: number;
  passes: number;
  coldKeys: number;
  model: ModelParams;
  seed: number;
}

function row(family: string, arch: ModelArch, variant: EmuVariant, temperature: 'hot' | 'cold', codeBytes: number, c: ModelCounts, unpacks: number): EmuUnpackRow {
  const n = Math.max(1, unpacks);
  return {
    family, arch, variant, temperature, codeBytes, unpacks,
    cycles: round(c.cycles / n, 2),
    insns: round(c.insns / n, 2),
    l1iMisses: round(c.l1iMisses / n, 3),
    l1dMisses: round(c.l1dMisses / n, 3),
    itlbMisses: round(c.itlbMisses / n, 3),
    dtlbMisses: round(c.dtlbMisses / n, 3),
  };
}

/**
 * Emulator rows for one family: `packed` are the key parts (8 * key_u64s bytes, format 0) and
 * `want` the 40-byte struct bkeys the generic TypeScript unpack produced for them.
 */
export function emulatorRows(family: string, format: BkeyFormat, packed: readonly Uint8Array[], want: readonly Uint8Array[], p: EmuUnpackParams): EmuUnpackRow[] {
  const rows: EmuUnpackRow[] = [];
  const hot = Math.min(p.hotKeys, packed.length);
  const cold = Math.min(p.coldKeys, packed.length);
  for (const arch of p.arches) {
    for (const variant of EMU_VARIANTS) {
      const mode: PlacementMode = variant === 'compiled' ? 'own-page' : 'generic';
      const space = new AddressSpace({ arch, seed: p.seed });
      const placer = new NodePlacer(space, arch, { seed: p.seed });
      const runner = new EmuUnpackRunner(space, arch, { capstoneCheck: false });
      const placed = placer.placeKeys(format, packed.slice(0, Math.max(hot, cold)), mode);
      const model = makeHierarchy(space, arch, p.model);
      const check = (i: number, bytes: Uint8Array): void => {
        const w = want[i] as Uint8Array;
        if (!bytes.every((b, j) => b === w[j])) throw new InvariantError(`unpack: ${arch} ${variant} unpack of ${family} key ${i} in the emulator disagrees with the TypeScript unpack`);
      };
      for (let i = 0; i < hot; i++) check(i, runner.unpack(placed, i, { observer: model }).bytes);
      model.resetStats();
      for (let r = 0; r < p.passes; r++) for (let i = 0; i < hot; i++) runner.unpack(placed, i, { observer: model });
      rows.push(row(family, arch, variant, 'hot', placed.codeBytes, counts(model.stats()), hot * p.passes));
      let total: ModelCounts | null = null;
      for (let i = 0; i < cold; i++) {
        model.flush();
        const before = counts(model.stats());
        check(i, runner.unpack(placed, i, { observer: model }).bytes);
        const d = diffCounts(counts(model.stats()), before);
        total = total === null ? d : addCounts(total, d);
      }
      rows.push(row(family, arch, variant, 'cold', placed.codeBytes, total ?? counts(model.stats()), cold));
      model.dispose();
      runner.dispose();
      placer.dispose();
    }
  }
  return rows;
}
