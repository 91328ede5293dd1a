// Listings of code images: one line per instruction with its final address, bytes and Capstone's
// disassembly (like `objdump -d`). Used by `jitbox listing`, the JIT commands and tests.
//
// Invariants: Capstone must be initialised (`await initCapstone()`); addresses are the final (ROX)
// addresses, computed from `base` (never the staging buffer's offsets); undecodable bytes appear
// as `.byte`/`.inst` lines so a listing always covers the whole image.

import { type IsaArch, disasmAll } from '../support/capstone.js';
import { type VAddr, bytesToHex, hexAddr } from '../support/u64.js';

export interface ListingLine {
  address: VAddr;
  bytes: Uint8Array;
  text: string;
}

export function listing(arch: IsaArch, bytes: Uint8Array, base: VAddr): ListingLine[] {
  return disasmAll(arch, bytes, base).map((d) => ({ address: d.address, bytes: d.bytes, text: d.text }));
}

/** Text form: "ffffffffa0000000:  48 89 f8                 mov rax, rdi". */
export function formatListing(lines: readonly ListingLine[], labels?: ReadonlyMap<string, number>, base?: VAddr): string {
  const byOffset = new Map<number, string[]>();
  if (labels && base !== undefined) {
    for (const [name, off] of labels) {
      const list = byOffset.get(base + off) ?? [];
      list.push(name);
      byOffset.set(base + off, list);
    }
  }
  const width = Math.max(11, ...lines.map((l) => l.bytes.length * 3 - 1));
  const out: string[] = [];
  for (const l of lines) {
    for (const name of byOffset.get(l.address) ?? []) out.push(`${name}:`);
    out.push(`${hexAddr(l.address).slice(2)}:  ${bytesToHex(l.bytes).padEnd(width)}  ${l.text}`);
  }
  return out.join('\n');
}

/** JSON form: addresses as "0x..." hex strings, bytes as "48 89 f8". */
export function listingJson(lines: readonly ListingLine[]): { address: string; bytes: string; text: string }[] {
  return lines.map((l) => ({ address: hexAddr(l.address), bytes: bytesToHex(l.bytes), text: l.text }));
}
