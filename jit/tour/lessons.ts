// The W^X lessons of reference/execmem.md §7, each demonstrated live on the model for
// `jitbox wx [LESSON...]` and docs/wx-lessons.md (whose test runs every command in that page).
// This file holds the memory-level lessons (never W+X, born ROX, the one write path, the private
// alias, verify after copy); jit/tour/lessons-jit.ts the ones shown on JIT output.
//
// Invariants: every line printed reports the outcome of an operation just performed (the error
// object's own name and message, the auditor's own counters, bytes read back from the model); a
// lesson whose demonstration does not hold says so in its `holds` flag and its text ("NOT ...")
// rather than printing the expected story; refused operations are checked to leave the state
// digest unchanged.

import { AddressSpace } from '../../execmem/space.js';
import { PAGE_SIZE, permString } from '../../execmem/types.js';
import { createCpu } from '../../emulator/index.js';
import { bytesToHex, hexAddr } from '../../support/u64.js';
import { type ErrorRecord, type TourArch, errorRecord, expectThrow } from './types.js';

export interface LessonResult {
  /** Did the demonstration show what the lesson claims? */
  holds: boolean;
  lines: string[];
  record: Record<string, unknown>;
}

export interface Lesson {
  id: string;
  title: string;
  /** The kernel or runtime that embodies it (reference/execmem.md §7). */
  embodiedBy: string;
  run(seed: number): LessonResult;
}

export function errLine(e: ErrorRecord | null, none: string): string {
  return e === null ? none : `${e.name}: ${e.message}`;
}

/** Refuse-and-check: the error (or null) and whether the model state stayed the same. */
function refused(space: AddressSpace, fn: () => unknown): { error: ErrorRecord | null; unchanged: boolean } {
  const before = space.stateDigest();
  const e = expectThrow(fn);
  return { error: e === null ? null : errorRecord(e), unchanged: space.stateDigest() === before };
}

const X86_RET = Uint8Array.of(0xc3);
/** x86_64: mov byte ptr [rdi], 0x90; ret — a guest store through the CPU's own page walk. */
const X86_STORE_RDI = Uint8Array.of(0xc6, 0x07, 0x90, 0xc3);

const neverWx: Lesson = {
  id: 'never-wx',
  title: 'No page is ever writable and executable; the model refuses the transition',
  embodiedBy: 'OpenBSD W^X, PaX MPROTECT, STRICT_KERNEL_RWX / STRICT_MODULE_RWX',
  run(seed) {
    const space = new AddressSpace({ arch: 'x86_64', seed });
    const data = space.vmalloc(PAGE_SIZE, 'jit scratch (RW)');
    const makeExec = refused(space, () => space.setMemory(data, 1, 'x'));
    const code = space.execmemAlloc('BPF', PAGE_SIZE);
    const makeWritable = refused(space, () => space.setMemory(code, 1, 'rw'));
    const a = space.audit();
    const holds = makeExec.error?.name === 'WxViolationError' && makeWritable.error?.name === 'WxViolationError' &&
      makeExec.unchanged && makeWritable.unchanged && a.ok && a.wxPages.length === 0;
    return {
      holds,
      record: { vmalloc: hexAddr(data), setMemoryX: makeExec, execmem: hexAddr(code), setMemoryRw: makeWritable, audit: { ok: a.ok, wxPages: a.wxPages.length, executablePages: a.executablePages } },
      lines: [
        `set_memory_x on the RW vmalloc page ${hexAddr(data)}:`,
        `  -> ${errLine(makeExec.error, 'ALLOWED (W^X broken!)')}; state unchanged: ${makeExec.unchanged ? 'yes' : 'NO'}`,
        `set_memory_rw on the ROX execmem page ${hexAddr(code)}:`,
        `  -> ${errLine(makeWritable.error, 'ALLOWED (W^X broken!)')}; state unchanged: ${makeWritable.unchanged ? 'yes' : 'NO'}`,
        `audit: ${a.ok ? 'OK' : 'FAILED'}, W+X pages: ${a.wxPages.length}, executable pages: ${a.executablePages}`,
      ],
    };
  },
};

const bornRox: Lesson = {
  id: 'born-rox',
  title: 'Code memory is born read-only + executable and trap-filled; the writable view is a separate staging buffer',
  embodiedBy: 'bpf_prog_pack, the x86 execmem ROX cache',
  run(seed) {
    const lines: string[] = [];
    const rows: Record<string, unknown>[] = [];
    let holds = true;
    for (const arch of ['x86_64', 'arm64'] as TourArch[]) {
      const space = new AddressSpace({ arch, seed });
      const check = (what: string, addr: number, len: number): void => {
        const pi = space.pageInfo(addr);
        const perm = pi ? permString(pi.perm) : 'unmapped';
        const trap = space.isTrapFilled(addr, len);
        if (perm !== 'r-x' || !trap) holds = false;
        rows.push({ arch, what, address: hexAddr(addr), perm, trapFilled: trap });
        lines.push(`  ${arch.padEnd(6)} ${what.padEnd(42)} ${hexAddr(addr)}  page ${perm}  ${bytesToHex(space.read(addr, 8))}  trap-filled: ${trap ? 'yes' : 'NO'}`);
      };
      check('execmem_alloc(KPROBES, 4096)', space.execmemAlloc('KPROBES', PAGE_SIZE), PAGE_SIZE);
      if (space.execmemIsRox('MODULE_TEXT')) check('execmem_alloc(MODULE_TEXT) via ROX cache', space.execmemAlloc('MODULE_TEXT', PAGE_SIZE), PAGE_SIZE);
      const bin = space.packs.binaryPackAlloc(100);
      check('bpf_jit_binary_pack_alloc(100)', bin.image, 100);
      const staging = bin.rw instanceof Uint8Array && space.pageInfo(bin.image)?.perm !== undefined;
      lines.push(`  ${arch.padEnd(6)} ${''.padEnd(42)} the JIT writes into a ${bin.rw.length}-byte RW staging buffer (not guest memory: ${staging ? 'yes' : 'NO'}); displacements are computed against ${hexAddr(bin.image)}`);
      const a = space.audit();
      if (!a.ok) holds = false;
    }
    return { holds, record: { allocations: rows }, lines: ['Fresh executable memory, as returned by the allocators:', ...lines] };
  },
};

const narrowWrite: Lesson = {
  id: 'narrow-write',
  title: 'One narrow write path: only text_poke changes code; every other store faults',
  embodiedBy: 'text_poke_copy / text_poke_set, aarch64_insn_copy; JavaScriptCore performJITMemcpy',
  run(seed) {
    const space = new AddressSpace({ arch: 'x86_64', seed });
    const cpu = createCpu('x86_64', space);
    const code = space.execmemAlloc('BPF', PAGE_SIZE);
    const store = refused(space, () => space.write(code, Uint8Array.of(0x90)));
    const frame = space.pte(code)?.frame ?? 0;
    const alias = space.config.directMapBase + frame * PAGE_SIZE;
    const aliasPerm = space.pageInfo(alias);
    const aliasStore = refused(space, () => space.write(alias, Uint8Array.of(0x90)));
    const storer = space.execmemAlloc('BPF', PAGE_SIZE);
    space.textPokeCopy(storer, X86_STORE_RDI);
    const codeBefore = bytesToHex(space.read(code, 16));
    const guestErr = expectThrow(() => cpu.call(storer, [code]));
    const guest = { error: guestErr === null ? null : errorRecord(guestErr), unchanged: bytesToHex(space.read(code, 16)) === codeBefore };
    const data = space.vmalloc(PAGE_SIZE, 'data');
    const pokeData = refused(space, () => space.textPokeCopy(data, X86_RET));
    space.textPokeCopy(code, X86_RET);
    const a = space.audit();
    const codeWrites = a.recentWrites.filter((w) => w.addr === hexAddr(code) || w.addr === hexAddr(storer));
    const allPoke = codeWrites.length > 0 && codeWrites.every((w) => w.via === 'text_poke');
    const holds = [store, aliasStore, guest, pokeData].every((r) => r.error !== null && r.unchanged) && allPoke && a.ok;
    return {
      holds,
      record: { code: hexAddr(code), store, directMapAlias: hexAddr(alias), aliasStore, guestStore: guest, pokeIntoData: pokeData, codeWrites, audit: { ok: a.ok, pokes: a.pokes, violations: a.violations.length } },
      lines: [
        `ROX code page ${hexAddr(code)}; four ways to write it:`,
        `  a kernel store (space.write):          ${errLine(store.error, 'WROTE (W^X broken!)')}`,
        `  its direct-map alias ${hexAddr(alias)} (page ${aliasPerm ? permString(aliasPerm.perm) : 'unmapped'}): ${errLine(aliasStore.error, 'WROTE (W^X broken!)')}`,
        `  guest code "mov byte ptr [rdi], 0x90": ${errLine(guest.error, 'WROTE (W^X broken!)')}`,
        `  text_poke_copy into RW data ${hexAddr(data)}: ${errLine(pokeData.error, 'WROTE')}`,
        `  text_poke_copy into the code page: ok`,
        `every write the auditor saw on the code pages: ${codeWrites.map((w) => `${w.len} B via ${w.via}`).join(', ')}; violations ${a.violations.length}`,
      ],
    };
  },
};

const privateAlias: Lesson = {
  id: 'private-alias',
  title: 'text_poke writes through a private, short-lived RW alias that no other mapping can see',
  embodiedBy: 'x86 temporary mm (text_poke_mm / poking_addr), arm64 FIX_TEXT_POKE0 fixmap',
  run(seed) {
    const lines: string[] = [];
    const rows: Record<string, unknown>[] = [];
    let holds = true;
    for (const arch of ['x86_64', 'arm64'] as TourArch[]) {
      const space = new AddressSpace({ arch, seed });
      const alias = space.poker.aliasAddress;
      const len = 3 * PAGE_SIZE;
      const code = space.execmemAlloc('KPROBES', len);
      const bytes = new Uint8Array(len).fill(0x90);
      const steps0 = space.audit().pokeSteps;
      space.textPokeCopy(code, bytes);
      const a = space.audit();
      const steps = a.pokeSteps - steps0;
      const visible = space.pageInfo(alias);
      const read = refused(space, () => space.read(alias, 1));
      const mappedAfter = space.poker.aliasMappedPages();
      const maxPages = space.config.pokePages;
      const ok = visible === null && read.error !== null && mappedAfter === 0 && steps === Math.ceil(len / (maxPages * PAGE_SIZE)) && a.ok;
      if (!ok) holds = false;
      rows.push({ arch, alias: hexAddr(alias), bytes: len, steps, maxPagesPerStep: maxPages, visibleInPageTables: visible !== null, readAlias: read.error, aliasPagesAfter: mappedAfter });
      lines.push(
        `${arch}: alias slot ${hexAddr(alias)}; a ${len}-byte text_poke_copy took ${steps} alias steps (at most ${maxPages} page(s) mapped RW+NX per step, then unmapped)`,
        `  the alias in the kernel page tables: ${visible === null ? 'not mapped' : 'MAPPED'}; reading it: ${errLine(read.error, 'READ OK (alias leaked!)')}`,
        `  alias pages mapped after the poke: ${mappedAfter}; audit ${a.ok ? 'OK' : 'FAILED'}`,
      );
    }
    return { holds, record: { arches: rows }, lines };
  },
};

const verifyAfterCopy: Lesson = {
  id: 'verify-after-copy',
  title: 'Verify after the copy: text_poke re-reads the target; the auditor re-hashes every executable frame',
  embodiedBy: 'x86 text_poke post-copy compare, JavaScriptCore buffer signing',
  run(seed) {
    const space = new AddressSpace({ arch: 'x86_64', seed });
    const code = space.execmemAlloc('BPF', PAGE_SIZE);
    const body = Uint8Array.of(0xb8, 0x07, 0x00, 0x00, 0x00, 0xc3);
    space.textPokeCopy(code, body);
    const readBack = bytesToHex(space.read(code, body.length));
    const before = space.audit();
    // A store that bypasses the page tables (a stray DMA, a bug writing the host buffer directly).
    const frame = space.pte(code)?.frame ?? 0;
    const mem = new Uint8Array(space.memory.buffer);
    mem[frame * PAGE_SIZE + 1] = 0x2a;
    const after = space.audit();
    const v = after.violations[0];
    const holds = readBack === bytesToHex(body) && before.ok && !after.ok && v !== undefined && v.page === hexAddr(code);
    return {
      holds,
      record: { code: hexAddr(code), poked: bytesToHex(body), readBack, auditBefore: before.ok, auditAfter: after.ok, violations: after.violations },
      lines: [
        `text_poke_copy ${bytesToHex(body)} to ${hexAddr(code)}; read back through the ROX mapping: ${readBack} (${readBack === bytesToHex(body) ? 'verified' : 'MISMATCH'})`,
        `audit: ${before.ok ? 'OK' : 'FAILED'} (every executable frame equals the auditor's shadow of what text_poke wrote)`,
        `one byte changed behind the page tables (host buffer store at frame ${frame}, offset 1):`,
        `  audit: ${after.ok ? 'OK (tampering NOT detected!)' : 'FAILED'}: ${after.violations.map((x) => `violation on page ${x.page}: ${x.what}`).join('; ')}`,
      ],
    };
  },
};

export const MEMORY_LESSONS: readonly Lesson[] = [neverWx, bornRox, narrowWrite, privateAlias, verifyAfterCopy];
