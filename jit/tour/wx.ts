// Tour section 2: W^X on the model (reference/execmem.md checklist): executable memory is never
// writable, the one write path is text_poke (through a private RW alias, audited), arm64 needs
// instruction-cache maintenance after a write, and freed code is trap-filled so calling it traps.
//
// Invariants: every outcome printed is the outcome of the operation just performed (the fault
// object's own message, the auditor's own counters); a refused write must leave the model state
// digest unchanged; the code poked and run is a tiny "return K" routine with K derived from --seed.

import { AddressSpace } from '../../execmem/space.js';
import { permString } from '../../execmem/types.js';
import { createCpu } from '../../emulator/index.js';
import { hexAddr, bytesToHex } from '../../support/u64.js';
import { Rng } from '../../support/rng.js';
import { type JitProgram, jitCompile } from '../bpf/jit.js';
import { type ErrorRecord, type TourOptions, type TourSection, errorRecord, expectThrow } from './types.js';

export interface WxRecord {
  x86: {
    program: string;
    entry: string;
    pagePerm: string;
    directWrite: { faulted: boolean; error: ErrorRecord | null; stateUnchanged: boolean };
    poke: { address: string; bytes: string; returned: number; expected: number; auditRecord: { addr: string; len: number; via: string; op: string }[] };
    audit: { ok: boolean; executablePages: number; wxPages: number; violations: number; pokes: number; pokeBytes: number; flips: number; transitions: number; writes: number };
    free: { trapFilled: boolean; firstBytes: string; callAfterFree: ErrorRecord | null };
  } | null;
  arm64: {
    address: string;
    rawWrite: string;
    staleFetch: ErrorRecord | null;
    afterFlush: { returned: number; expected: number } | null;
    directWrite: ErrorRecord | null;
    audit: { ok: boolean; wxPages: number; pokes: number; rawInsnWrites: number };
    packImage: string;
    packRun: number;
    freedTrapFilled: boolean;
    freedWords: string;
    callAfterFree: ErrorRecord | null;
  } | null;
}

const X86_MOV_EAX_IMM32 = 0xb8;
const X86_RET = 0xc3;
const ARM64_RET = 0xd65f03c0;
/** movz w0, #imm16 */
const encArm64MovzW0 = (imm: number): number => (0x52800000 | ((imm & 0xffff) << 5)) >>> 0;

function x86Part(jp: JitProgram, k: number): NonNullable<WxRecord['x86']> {
  const space = jp.host.space;
  const machine = jp.host.machine;
  const pi = space.pageInfo(jp.entry);
  const pagePerm = pi ? permString(pi.perm) : 'unmapped';
  const before = space.stateDigest();
  const err = expectThrow(() => space.write(jp.entry, Uint8Array.of(0x90, 0x90)));
  const directWrite = { faulted: err !== null, error: err === null ? null : errorRecord(err), stateUnchanged: space.stateDigest() === before };

  const addr = space.execmemAlloc('BPF', 64);
  const code = Uint8Array.of(X86_MOV_EAX_IMM32, k & 0xff, (k >>> 8) & 0xff, 0, 0, X86_RET);
  space.textPokeCopy(addr, code);
  const returned = machine.call(addr).ret.lo;
  const a = space.audit();
  const auditRecord = a.recentWrites.filter((w) => w.addr === hexAddr(addr));
  const audit = {
    ok: a.ok, executablePages: a.executablePages, wxPages: a.wxPages.length, violations: a.violations.length,
    pokes: a.pokes, pokeBytes: a.pokeBytes, flips: a.flips, transitions: a.transitions, writes: a.writes,
  };
  space.execmemFree(addr);

  const entry = jp.entry;
  const size = jp.size;
  // A second live program keeps the shared pack mapped (the kernel frees a pack with its last chunk).
  const keeper = jitCompile(jp.program, { arch: jp.arch, profile: jp.profile, harden: jp.harden, host: jp.host });
  jp.free();
  const after = space.read(entry, size);
  const trapFilled = after.every((b) => b === 0xcc);
  const callErr = expectThrow(() => machine.call(entry, [], { budget: 1000 }));
  keeper.free();
  return {
    program: jp.program.name, entry: hexAddr(entry), pagePerm, directWrite,
    poke: { address: hexAddr(addr), bytes: bytesToHex(code), returned, expected: k, auditRecord },
    audit,
    free: { trapFilled, firstBytes: bytesToHex(after.subarray(0, 8)), callAfterFree: callErr === null ? null : errorRecord(callErr) },
  };
}

function arm64Part(seed: number, k: number): NonNullable<WxRecord['arm64']> {
  const space = new AddressSpace({ arch: 'arm64', seed });
  const cpu = createCpu('arm64', space);
  const addr = space.execmemAlloc('BPF', 64);
  const ret = new Uint8Array(4);
  new DataView(ret.buffer).setUint32(0, ARM64_RET, true);
  space.textPokeCopy(addr + 4, ret);
  const insn = encArm64MovzW0(k);
  space.insnWriteRaw(addr, insn);
  const stale = expectThrow(() => cpu.call(addr, [], { budget: 1000 }));
  const direct = expectThrow(() => space.write(addr, ret));
  space.flushIcacheRange(addr, 8);
  let afterFlush: { returned: number; expected: number } | null = null;
  try {
    afterFlush = { returned: cpu.call(addr, [], { budget: 1000 }).ret.lo, expected: k };
  } catch {
    afterFlush = null;
  }
  space.execmemFree(addr);

  // bpf_prog_pack on arm64: stage "movz w0, #k; ret" in a chunk (a second chunk keeps the pack
  // alive), finalize (text_poke_copy + flush), run it, free it: the chunk goes back to brk.
  const code = new Uint8Array(8);
  const dv = new DataView(code.buffer);
  dv.setUint32(0, insn, true);
  dv.setUint32(4, ARM64_RET, true);
  const bin = space.packs.binaryPackAlloc(code.length);
  const keeper = space.packs.binaryPackAlloc(code.length);
  bin.rw.set(code, bin.rwImageOffset);
  space.packs.binaryPackFinalize(bin);
  space.flushIcacheRange(bin.header, bin.size);
  const packRun = cpu.call(bin.image, [], { budget: 1000 }).ret.lo;
  space.packs.binaryPackFree(bin);
  const words = new DataView(space.read(bin.image, 8).slice().buffer);
  const freedTrapFilled = words.getUint32(0, true) === space.config.trapWord && words.getUint32(4, true) === space.config.trapWord;
  const callAfterFree = expectThrow(() => cpu.call(bin.image, [], { budget: 1000 }));
  space.packs.binaryPackFree(keeper);
  const a = space.audit();
  return {
    address: hexAddr(addr), rawWrite: `movz w0, #${k} (0x${insn.toString(16)}) via aarch64_insn_write, no flush_icache_range`,
    staleFetch: stale === null ? null : errorRecord(stale), afterFlush,
    directWrite: direct === null ? null : errorRecord(direct), audit: { ok: a.ok, wxPages: a.wxPages.length, pokes: a.pokes, rawInsnWrites: a.rawInsnWrites },
    packImage: hexAddr(bin.image), packRun, freedTrapFilled, freedWords: bytesToHex(new Uint8Array(words.buffer)),
    callAfterFree: callAfterFree === null ? null : errorRecord(callAfterFree),
  };
}

export function wxSection(opts: TourOptions, x86: JitProgram | null): TourSection<WxRecord> {
  const k = 1 + new Rng(opts.seed).below(0xfff0);
  const record: WxRecord = { x86: null, arm64: null };
  const lines: string[] = [];
  const stillToCome: string[] = [];
  if (x86) {
    const r = (record.x86 = x86Part(x86, k));
    lines.push(
      `The JIT image of ${r.program} at ${r.entry} sits on a ${r.pagePerm} page.`,
      `Writing two bytes there directly (space.write, the path every ordinary store takes):`,
      `  -> ${r.directWrite.error ? `${r.directWrite.error.name}: ${r.directWrite.error.message}` : 'NO FAULT (W^X broken!)'}`,
      `  model state unchanged by the refused write: ${r.directWrite.stateUnchanged ? 'yes' : 'NO'}`,
      `The right way: text_poke_copy of "mov eax, ${k}; ret" (${r.poke.bytes}) into a fresh ROX execmem block at ${r.poke.address}`,
      `  (written through a private RW alias, verified, then the alias is torn down); calling it returns ${r.poke.returned}.`,
      `  the auditor's record of that write: ${r.poke.auditRecord.map((w) => `${w.len} bytes at ${w.addr} via ${w.via} (${w.op})`).join('; ') || 'NONE'}`,
      `Auditor: ${r.audit.ok ? 'OK' : 'VIOLATIONS'}: ${r.audit.wxPages} W+X pages, ${r.audit.violations} violations over ${r.audit.executablePages} executable pages; ` +
        `${r.audit.pokes} text_pokes (${r.audit.pokeBytes} bytes), ${r.audit.flips} permission flips, ${r.audit.transitions} transitions, ${r.audit.writes} writes to RW memory.`,
      `Freeing the program (bpf_jit_binary_pack_free): its chunk now reads ${r.free.firstBytes}... (${r.free.trapFilled ? 'all int3' : 'NOT trap-filled'}).`,
      `Calling the freed entry: ${r.free.callAfterFree ? `${r.free.callAfterFree.name}: ${r.free.callAfterFree.message}` : 'ran (NOT trapped)'}`,
    );
  } else if (opts.arches.includes('x86_64')) lines.push('x86_64: no JIT program to demonstrate on (see section 1).');
  if (opts.arches.includes('arm64')) {
    const r = (record.arm64 = arm64Part(opts.seed, k));
    if (lines.length > 0) lines.push('');
    lines.push(
      `arm64 (a separate address space): ROX execmem block at ${r.address}; wrote ${r.rawWrite}.`,
      `Executing it: ${r.staleFetch ? `${r.staleFetch.name}: ${r.staleFetch.message}` : 'ran without a fault (stale fetch NOT detected)'}`,
      `After flush_icache_range: ${r.afterFlush ? `returns ${r.afterFlush.returned}` : 'still failing'}.`,
      `A direct write there: ${r.directWrite ? `${r.directWrite.name}: ${r.directWrite.message}` : 'NO FAULT (W^X broken!)'}`,
      `The same code finalized into a bpf_prog_pack chunk at ${r.packImage} returns ${r.packRun}; after bpf_jit_binary_pack_free the chunk reads ${r.freedWords} (${r.freedTrapFilled ? 'brk' : 'NOT trap-filled'}).`,
      `Calling the freed arm64 code: ${r.callAfterFree ? `${r.callAfterFree.name}: ${r.callAfterFree.message}` : 'ran (NOT trapped)'}`,
      `Auditor (arm64 space): ${r.audit.ok ? 'OK' : 'VIOLATIONS'}: ${r.audit.wxPages} W+X pages; ${r.audit.pokes} text_pokes, ${r.audit.rawInsnWrites} raw instruction write(s).`,
    );
  }
  const parts: string[] = [];
  if (record.x86) parts.push(`direct write ${record.x86.directWrite.faulted ? 'faulted' : 'NOT faulted'} (${record.x86.pagePerm}), audit ${record.x86.audit.ok ? 'ok' : 'FAILED'} (${record.x86.audit.wxPages} W+X), freed code ${record.x86.free.callAfterFree ? 'trapped' : 'RAN'}`);
  if (record.arm64) parts.push(`arm64 stale fetch ${record.arm64.staleFetch ? 'faulted' : 'NOT detected'}, flush fixed it: ${record.arm64.afterFlush?.returned === k ? 'yes' : 'no'}, freed code ${record.arm64.callAfterFree ? 'trapped' : 'RAN'}, audit ${record.arm64.audit.ok ? 'ok' : 'FAILED'}`);
  return { title: '2. W^X: the fault, text_poke, the auditor, icache, trap fill', record, lines, summary: parts.join('; '), stillToCome };
}
