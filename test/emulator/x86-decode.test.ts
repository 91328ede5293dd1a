// Our x86_64 decoder + renderer against Capstone on random encodings built around every opcode we
// implement (prefixes, REX bits, ModRM/SIB/disp forms, immediates): whenever both decode, length and
// normalised text agree; whatever we decode, Capstone decodes too.
import { beforeAll, describe, expect, it } from 'vitest';
import { disasmOne, initCapstone, normaliseAsm } from '../../support/capstone.js';
import { Rng } from '../../support/rng.js';
import { decodeX86, specialise } from '../../emulator/x86_64/decode.js';
import { renderX86 } from '../../emulator/x86_64/render.js';
import { bytesToHex } from '../../support/u64.js';

beforeAll(async () => {
  await initCapstone();
});

const ONE_BYTE = [
  ...Array.from({ length: 0x40 }, (_, i) => i).filter((i) => (i & 7) < 6),
  0x50, 0x53, 0x55, 0x57, 0x58, 0x5b, 0x5d, 0x5f, 0x63, 0x68, 0x69, 0x6a, 0x6b, 0x70, 0x72, 0x74, 0x75, 0x7c, 0x7f,
  0x80, 0x81, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8d, 0x8f, 0x90, 0x91, 0x97, 0x98, 0x99, 0xa8, 0xa9,
  0xb0, 0xb4, 0xb7, 0xb8, 0xbb, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc6, 0xc7, 0xc9, 0xcc, 0xd0, 0xd1, 0xd2, 0xd3, 0xe8, 0xe9,
  0xeb, 0xf6, 0xf7, 0xfe, 0xff,
];
const TWO_BYTE = [0x0b, 0x18, 0x1f, 0x40, 0x44, 0x45, 0x4f, 0x80, 0x84, 0x85, 0x8f, 0x90, 0x94, 0x95, 0x9f, 0xa4, 0xa5, 0xac, 0xad, 0xaf, 0xb0, 0xb1, 0xb6, 0xb7, 0xbe, 0xbf, 0xc0, 0xc1, 0xc8, 0xcb, 0xcf];

export function randomEncoding(rng: Rng): Uint8Array {
  const out: number[] = [];
  const p = rng.below(20);
  if (p === 0) out.push(0x66);
  else if (p === 1) out.push(0xf0);
  else if (p === 2) out.push(0xf3);
  else if (p === 3) out.push(0x2e);
  else if (p === 4) out.push(0x66, 0x2e);
  if (rng.bool(0.6)) out.push(0x40 | rng.below(16));
  if (rng.bool(0.25)) {
    out.push(0x0f, rng.pick(TWO_BYTE));
    if (rng.bool(0.05)) out[out.length - 1] = 0x1e;
  } else out.push(rng.pick(ONE_BYTE));
  const tail = rng.bytes(12);
  const mod = rng.below(4);
  tail[0] = (mod << 6) | (tail[0]! & 0x3f);
  if (rng.bool(0.3)) tail[0] = (tail[0]! & 0xc7) | (rng.below(8) << 3);
  for (const b of tail) out.push(b);
  return Uint8Array.from(out);
}

describe('x86_64 decoder vs Capstone', () => {
  it('agrees on length and text for random encodings of every implemented opcode', () => {
    const rng = new Rng(4);
    const recs = new Int32Array(8);
    let both = 0;
    const problems: string[] = [];
    for (let n = 0; n < 20000 && problems.length < 20; n++) {
      const bytes = randomEncoding(rng);
      const len = decodeX86(bytes, bytes.length, 0x401000, recs, 0);
      const cs = disasmOne('x86_64', bytes, 0x401000);
      if (len <= 0) continue;
      if (!cs) {
        problems.push(`we decode, Capstone does not: ${bytesToHex(bytes.subarray(0, len))} -> ${renderX86(recs, 0, 0x401000)}`);
        continue;
      }
      specialise(recs, 0);
      const ours = renderX86(recs, 0, 0x401000);
      if (cs.size !== len || normaliseAsm('x86_64', ours) !== normaliseAsm('x86_64', cs.text)) {
        problems.push(`${bytesToHex(bytes.subarray(0, Math.max(len, cs.size)))}: ours "${ours}" (${len}) vs Capstone "${cs.text}" (${cs.size})`);
      }
      both++;
    }
    expect(problems).toEqual([]);
    expect(both).toBeGreaterThan(10000);
  });
});
