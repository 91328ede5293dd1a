// Fuzzes the BPF ELF path: random mutations of the committed example objects (bit flips, random
// bytes, 32-bit field overwrites aimed at the ELF/section headers, symbol and relocation tables,
// truncation, pure random strings) go through loadElf; whatever loads is instantiated, verified and
// run on the interpreter with a small budget under the kernel profile. Only JitboxErrors may
// come out; any other exception is a finding (thrown with the seed and case number).

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isJitboxError } from '../../support/errors.js';
import { Rng } from '../../support/rng.js';
import { loadElf } from '../bpf/elf.js';
import { kernelProfile } from '../bpf/helpers-kernel.js';
import { BpfInterpreter } from '../bpf/interp.js';
import { instantiate } from '../bpf/maps.js';
import { verifyProgram } from '../bpf/verifier.js';

const OBJECTS = ['checksum.o', 'filter.o', 'count_btf.o', 'count_legacy.o', 'loop.o', 'signed_v4.o'];

function findExamples(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let k = 0; k < 6; k++) {
    const cand = join(d, 'examples', 'bpf');
    try {
      readFileSync(join(cand, OBJECTS[0] as string));
      return cand;
    } catch {
      d = dirname(d);
    }
  }
  throw new Error('examples/bpf not found');
}

export function loadSeedObjects(): Uint8Array[] {
  const dir = findExamples();
  return OBJECTS.map((f) => new Uint8Array(readFileSync(join(dir, f))));
}

/** One mutated byte string from a seed object. */
export function mutateElf(rng: Rng, seeds: readonly Uint8Array[]): Uint8Array {
  const base = rng.pick(seeds);
  const mode = rng.below(7);
  if (mode === 0) return rng.bytes(rng.below(300));
  if (mode === 1) return base.slice(0, rng.below(base.length));
  const b = base.slice();
  const view = new DataView(b.buffer);
  const shoff = b.length >= 48 ? view.getUint32(40, true) : 0;
  const edits = 1 + rng.below(4);
  for (let e = 0; e < edits; e++) {
    let at: number;
    if (mode === 2) at = rng.below(64); // ELF header
    else if (mode === 3 && shoff > 0 && shoff < b.length) at = shoff + rng.below(Math.max(1, b.length - shoff)); // section headers
    else at = rng.below(b.length);
    if (at >= b.length) continue;
    const kind = rng.below(4);
    if (kind === 0) b[at] = (b[at] as number) ^ (1 << rng.below(8));
    else if (kind === 1) b[at] = rng.below(256);
    else if (at + 4 <= b.length) view.setUint32(at, rng.pick([0, 1, 0xffffffff, 0x7fffffff, rng.u32(), rng.below(64), 0x10000]), true);
  }
  return b;
}

/** Run one input through loader, verifier and interpreter; throws only on a non-Jitbox error. */
export function exerciseElf(bytes: Uint8Array): 'loaded' | 'rejected' {
  try {
    const obj = loadElf(bytes);
    const { maps, programs } = instantiate(obj);
    for (const p of programs) {
      try {
        verifyProgram(p.insns, { profile: kernelProfile, maps });
        new BpfInterpreter(p, kernelProfile).run({ mem: Uint8Array.from({ length: 64 }, (_, i) => i), budget: 20_000 });
      } catch (e) {
        if (!isJitboxError(e)) throw e;
      }
    }
    return 'loaded';
  } catch (e) {
    if (isJitboxError(e)) return 'rejected';
    throw e;
  }
}

export async function fuzz(count = 100_000, seed = 1): Promise<string> {
  const rng = new Rng(seed);
  const seeds = loadSeedObjects();
  let loaded = 0;
  let rejected = 0;
  for (let n = 0; n < count; n++) {
    const input = mutateElf(rng, seeds);
    try {
      if (exerciseElf(input) === 'loaded') loaded++;
      else rejected++;
    } catch (e) {
      throw new Error(`elf fuzz finding (seed ${seed}, case ${n}, ${input.length} bytes): ${(e as Error).stack ?? String(e)}`);
    }
  }
  return `elf: ${count} cases, ${loaded} loaded, ${rejected} rejected with typed errors (seed ${seed})`;
}
