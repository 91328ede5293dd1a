// The `bkey` scenarios of `jitbox execmem map` (issue 7 "Every mode goes through execmem and is
// visible in jitbox execmem map"): a few btree nodes of realistic extent keys placed in each
// placement mode (placement.ts), so the map shows the co-located ROX aux_data regions, the pack
// chunks, the per-node code pages, the shared generic unpacker and the RW tables and keys.
//
// Invariants: seeded (keys and formats from Rng(seed)); nodes differ in key count, so formats and
// code sizes differ; nothing is freed, so every area is in the map.

import type { AddressSpace } from '../../execmem/space.js';
import { Rng } from '../../support/rng.js';
import { formatForKeySet, genExtents } from './keys.js';
import { BtreeNode } from './node.js';
import { NodePlacer, PLACEMENT_MODES, type PlacedNode, type PlacementMode } from './placement.js';

export const BKEY_SCENARIO_NODES = 3;
const NODE_BYTES = 64 * 1024;

/** Place BKEY_SCENARIO_NODES nodes in each of `modes` (default: all four). */
export function placeBkeyScenario(space: AddressSpace, seed: number, modes: readonly PlacementMode[] = PLACEMENT_MODES): PlacedNode[] {
  const rng = new Rng(seed);
  const placer = new NodePlacer(space, space.arch, { seed });
  const out: PlacedNode[] = [];
  for (let n = 0; n < BKEY_SCENARIO_NODES; n++) {
    const ks = genExtents(rng, 200 + 150 * n, 4 + 20 * n);
    const node = BtreeNode.build(
      { format: formatForKeySet(ks), minKey: ks.minKey, maxKey: ks.maxKey, nodeBytes: NODE_BYTES },
      [ks.keys.map((key, i) => ({ key, value: ks.values[i] as Uint8Array }))],
    );
    for (const mode of modes) out.push(placer.place(node, mode));
  }
  return out;
}
