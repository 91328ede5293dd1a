// `npm run fuzz -- execmem [COUNT] [SEED]`: random alloc / free / poke / pack alloc+finalize+free /
// module load+unload / page-path / vmalloc sequences (execmem/op-driver.ts) on both arches, three
// configurations each, 1,000,000 operations by default. The live-program count is checked after
// every operation; overlap, ranges, recounted statistics, contents and the W^X audit every 500. A
// fresh address space starts every 5,000 operations so live state stays bounded. Throws with the
// arch, seed and step on the first broken invariant.

import { Rng } from '../../support/rng.js';
import { ARCHES } from '../../execmem/index.js';
import { OpDriver } from '../../execmem/op-driver.js';

const EPOCH = 5_000;
const FULL_CHECK = 500;

export async function fuzz(count = 1_000_000, seed = 1): Promise<string> {
  const rng = new Rng(seed);
  let done = 0;
  let epochs = 0;
  while (done < count) {
    const arch = ARCHES[epochs % ARCHES.length]!;
    const epochSeed = rng.u32();
    const variant = Math.floor(epochs / ARCHES.length) % 3;
    const options = variant === 0 ? {} : variant === 1 ? { kaslr: false, hugePacks: false } : arch === 'x86_64' ? { bpfFromRoxCache: true } : { randomizeModuleRegionFull: true };
    const d = new OpDriver(arch, epochSeed, options);
    const n = Math.min(EPOCH, count - done);
    for (let i = 0; i < n; i++) {
      const op = { kind: rng.below(10), a: rng.below(0x10000), b: rng.below(0x100000) };
      try {
        d.apply(op);
      } catch (e) {
        throw new Error(`execmem fuzz: ${arch} epoch seed ${epochSeed}, step ${i} ${JSON.stringify(op)}: ${e instanceof Error ? e.message : String(e)}`);
      }
      try {
        d.check(i % FULL_CHECK === FULL_CHECK - 1 || i === n - 1);
      } catch (e) {
        throw new Error(`execmem fuzz: ${arch} epoch seed ${epochSeed}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    done += n;
    epochs++;
  }
  return `execmem fuzz: ${done} operations in ${epochs} address spaces (seed ${seed}), all invariants held`;
}
