// `jitbox disasm --arch x86_64`: each BPF instruction followed by the native instructions it
// produced (Capstone text via codegen/listing.ts) at their final execmem addresses, then the
// out-of-line checkers; the header names the pack, the chunk and the image's offset in the pack
// (bpftool's `prog dump jited`, plus the placement).
//
// Invariant: addresses are ROX addresses (entry + image offset), never staging-buffer offsets.
// Capstone must be initialised.

import { listing, type ListingLine } from '../../codegen/listing.js';
import { bytesToHex, hexAddr } from '../../support/u64.js';
import { disasm } from './disasm.js';
import type { JitProgram } from './jit.js';

export interface JitListingEntry {
  /** BPF instruction index and slot, or -1 for the out-of-line tail. */
  index: number;
  slot: number;
  bpf: string;
  native: ListingLine[];
}

export function jitListing(jp: JitProgram): JitListingEntry[] {
  const insns = jp.program.insns;
  const out: JitListingEntry[] = [];
  const offs = jp.insnOffsets;
  const prologueEnd = offs[0] as number;
  if (prologueEnd > 0) out.push({ index: -1, slot: -1, bpf: '<prologue>', native: listing(jp.arch, jp.image.subarray(0, prologueEnd), jp.entry) });
  insns.forEach((i, k) => {
    const a = offs[k] as number;
    const b = offs[k + 1] as number;
    out.push({ index: k, slot: i.slot, bpf: disasm(i), native: listing(jp.arch, jp.image.subarray(a, b), jp.entry + a) });
  });
  const end = offs[insns.length] as number;
  if (end < jp.image.length) out.push({ index: -1, slot: -1, bpf: '<out-of-line checks>', native: listing(jp.arch, jp.image.subarray(end), jp.entry + end) });
  return out;
}

export function jitListingHeader(jp: JitProgram): Record<string, string | number | boolean> {
  return {
    program: jp.program.name,
    arch: jp.arch,
    entry: hexAddr(jp.entry),
    pack: hexAddr(jp.pack),
    chunk: hexAddr(jp.chunk),
    offset: jp.offset,
    size: jp.size,
    bpfInsns: jp.program.insns.length,
    hardened: jp.harden,
  };
}

export function formatJitListing(jp: JitProgram): string {
  const h = jitListingHeader(jp);
  const lines = [`${h.program}: ${jp.arch} image of ${jp.size} bytes at ${h.entry} (pack ${h.pack}, chunk ${h.chunk}, offset ${jp.offset} in the pack)${jp.harden ? ', hardened' : ''}`];
  for (const e of jitListing(jp)) {
    lines.push(e.index >= 0 ? `; ${String(e.slot).padStart(4)}: ${e.bpf}` : `; ${e.bpf}`);
    for (const n of e.native) lines.push(`  ${hexAddr(n.address)}:  ${bytesToHex(n.bytes).padEnd(30)} ${n.text}`);
  }
  return lines.join('\n');
}

export function jitListingJson(jp: JitProgram): Record<string, unknown> {
  return {
    ...jitListingHeader(jp),
    insns: jitListing(jp).map((e) => ({
      index: e.index,
      slot: e.slot,
      bpf: e.bpf,
      native: e.native.map((n) => ({ address: hexAddr(n.address), bytes: bytesToHex(n.bytes), text: n.text })),
    })),
  };
}
