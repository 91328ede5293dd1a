// text_poke: the only writer of executable memory (arch/x86/kernel/alternative.c text_poke_copy /
// text_poke_set; arch/arm64/kernel/patching.c aarch64_insn_copy / _set / patch_text_nosync).
//
// Invariants (reference/execmem.md §3):
// - The target must be mapped, executable, not core kernel text, and inside one live allocation
//   (a pack program, a busy ROX-cache block, or an execmem area). arm64 needs 4-byte alignment
//   (and whole words for `set`). Everything is checked before the first byte changes.
// - Each step maps the target's frames at a private alias (x86: the poking mm's random user-half
//   address, at most 2 pages; arm64: the FIX_TEXT_POKE0 fixmap slot, 1 page) with RW+NX, writes
//   through it, and removes it. The alias lives in its own table: `translate` never sees it.
// - Copies are verified afterwards through the real mapping; a mismatch is an InvariantError.
// - arm64: a write leaves its instruction-cache lines stale; aarch64_insn_copy/_set end with
//   flush_icache_range (unless `flush: false`), patch_text_nosync flushes its line, and the raw
//   aarch64_insn_write does not. Every write is announced with `codeWritten`.

import { Buffer } from 'node:buffer';
import { InvalidArgumentError, InvariantError, UnsupportedError } from '../support/errors.js';
import { type VAddr, hexAddr } from '../support/u64.js';
import { SHADOW_CHUNK } from './audit.js';
import { type PokeRefusal, TextPokeError } from './errors.js';
import { fillUnits } from './fill.js';
import type { AddressSpace } from './space.js';
import { PAGE_SIZE, PERM_RW, PERM_X, permString } from './types.js';
import { checkAddress } from './validate.js';

export interface PokeOptions {
  /** arm64: end with flush_icache_range (default true, as aarch64_insn_copy/_set do). */
  flush?: boolean;
  /** Operation name for the audit log. */
  op?: string;
}

export class TextPoker {
  private readonly space: AddressSpace;
  /** The poking mm / fixmap slot: frame mapped at alias page i (-1 = none), only during a step. */
  private readonly alias = new Int32Array(2).fill(-1);
  private aliasPages = 0;

  constructor(space: AddressSpace) {
    this.space = space;
  }

  /** Pages currently mapped in the private alias (0 outside a poke). */
  aliasMappedPages(): number {
    return this.aliasPages;
  }

  /** Where the private alias lives (x86 poking_addr / arm64 FIX_TEXT_POKE0 slot). */
  get aliasAddress(): VAddr {
    return this.space.config.pokingAddr;
  }

  /** text_poke_copy (x86) / aarch64_insn_copy (arm64): write `bytes` at `addr`, verify them. */
  textPokeCopy(addr: VAddr, bytes: Uint8Array, opts: PokeOptions = {}): void {
    const op = opts.op ?? 'text_poke_copy';
    if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError(`${op}: bytes must be a Uint8Array`);
    this.validate(op, addr, bytes.length, false);
    this.steps(addr, bytes.length, op, (mem, host, off, n) => mem.set(n === bytes.length ? bytes : bytes.subarray(off, off + n), host));
    if (!this.matches(addr, bytes)) throw new InvariantError(`${op}: verification after the copy failed`, { op });
    this.finish(addr, bytes.length, opts.flush ?? true);
  }

  /**
   * text_poke_set (x86: `value` is a byte) / aarch64_insn_set (arm64: `value` is a 32-bit
   * instruction repeated; `len` a multiple of 4).
   */
  textPokeSet(addr: VAddr, value: number, len: number, opts: PokeOptions = {}): void {
    const op = opts.op ?? 'text_poke_set';
    const arm = this.space.config.trapUnit === 4;
    if (!Number.isInteger(value) || value < 0 || value > (arm ? 0xffffffff : 0xff)) {
      throw new InvalidArgumentError(`${op}: value must be ${arm ? 'a 32-bit instruction word' : 'a byte'}, got ${value}`, { value });
    }
    this.validate(op, addr, len, arm);
    this.steps(addr, len, op, (mem, host, _off, n) => {
      fillUnits(mem, value, arm ? 4 : 1, host, n);
    });
    this.finish(addr, len, opts.flush ?? true);
  }

  /** arm64 aarch64_insn_write: one raw instruction, no cache maintenance (lines stay stale). */
  insnWriteRaw(addr: VAddr, insn: number): void {
    this.singleInsn('aarch64_insn_write', addr, insn);
    this.finish(addr, 4, false);
  }

  /** arm64 patch_text_nosync: one instruction, then clean+invalidate of its line. */
  patchTextNosync(addr: VAddr, insn: number): void {
    this.singleInsn('patch_text_nosync', addr, insn);
    this.finish(addr, 4, true);
  }

  private singleInsn(op: string, addr: VAddr, insn: number): void {
    if (this.space.arch !== 'arm64') {
      throw new UnsupportedError(`${op} is arm64 only (x86 live patching uses the INT3 protocol of smp_text_poke_single, not modelled)`);
    }
    if (!Number.isInteger(insn) || insn < 0 || insn > 0xffffffff) throw new InvalidArgumentError(`${op}: instruction must be a 32-bit word, got ${insn}`);
    this.validate(op, addr, 4, true);
    const word = new Uint8Array(4);
    new DataView(word.buffer).setUint32(0, insn, true);
    this.steps(addr, 4, op, (mem, host) => mem.set(word, host), 'insn-raw');
  }

  /** Compare the target, read through its real mapping (read permission), with the source. */
  private matches(addr: VAddr, bytes: Uint8Array): boolean {
    const s = this.space;
    const mem = s.frames.bytes();
    for (let off = 0; off < bytes.length; ) {
      const a = addr + off;
      const host = s.translate(a, 'read');
      const n = Math.min(bytes.length - off, PAGE_SIZE - (a - Math.floor(a / PAGE_SIZE) * PAGE_SIZE));
      if (Buffer.compare(mem.subarray(host, host + n), n === bytes.length ? bytes : bytes.subarray(off, off + n)) !== 0) return false;
      off += n;
    }
    return true;
  }

  private refuse(op: string, addr: VAddr, len: number, reason: PokeRefusal, why: string): never {
    throw new TextPokeError(op, addr, len, reason, why);
  }

  /** Check the whole target before anything changes. */
  private validate(op: string, addr: VAddr, len: number, wholeWords: boolean): void {
    checkAddress(addr, `${op} address`);
    if (!Number.isSafeInteger(len) || len <= 0) this.refuse(op, addr, Number(len) || 0, 'empty', `length must be a positive integer, got ${len}`);
    const s = this.space;
    if (s.arch === 'arm64' && (addr % 4 !== 0 || (wholeWords && len % 4 !== 0))) {
      this.refuse(op, addr, len, 'unaligned', wholeWords ? 'arm64 needs a 4-byte aligned address and whole 4-byte words' : 'arm64 needs a 4-byte aligned address');
    }
    for (let p = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE; p < addr + len; p += PAGE_SIZE) {
      const pte = s.pte(p);
      if (pte === undefined) this.refuse(op, addr, len, 'unmapped', `page ${hexAddr(p)} is not mapped`);
      if (pte.area.kind === 'kernel-image') this.refuse(op, addr, len, 'kernel-text', 'core kernel text is never poked by text_poke_copy/set');
      if (!(pte.perm & PERM_X)) this.refuse(op, addr, len, 'not-executable', `page ${hexAddr(p)} is ${permString(pte.perm)}, not executable`);
    }
    const area = s.vmap.containing(addr);
    if (area === null) this.refuse(op, addr, len, 'unmapped', 'no allocation there');
    let start = area.start;
    let end = area.start + area.size;
    let what = 'allocation';
    if (area.kind === 'rox-cache') {
      const block = s.roxCache?.busyBlockContaining(addr) ?? null;
      if (block === null) this.refuse(op, addr, len, 'out-of-bounds', 'free ROX-cache memory belongs to no allocation');
      start = block.start;
      end = block.start + block.size;
      what = 'ROX-cache block';
    }
    const prog = s.packs.programBounds(addr);
    if (prog === null) this.refuse(op, addr, len, 'out-of-bounds', 'free bpf_prog_pack chunks belong to no program');
    if (prog !== undefined) {
      start = prog.start;
      end = prog.end;
      what = 'BPF program';
    }
    if (addr < start || addr + len > end) {
      this.refuse(op, addr, len, 'across-allocations', `the range leaves its ${what} [${hexAddr(start)}, ${hexAddr(end)})`);
    }
  }

  /** Write through the private alias, ≤ pokePages pages per step. */
  private steps(
    addr: VAddr,
    len: number,
    op: string,
    put: (mem: Uint8Array, host: number, off: number, n: number) => void,
    via: 'text_poke' | 'insn-raw' = 'text_poke',
  ): void {
    const s = this.space;
    const stepBytes = s.config.pokePages * PAGE_SIZE;
    s.auditor.poke(len);
    for (let off = 0; off < len; ) {
      const a = addr + off;
      const pageStart = Math.floor(a / PAGE_SIZE) * PAGE_SIZE;
      const inPage = a - pageStart;
      const n = Math.min(stepBytes - inPage, len - off);
      const pages = Math.ceil((inPage + n) / PAGE_SIZE);
      for (let i = 0; i < pages; i++) {
        const pte = s.pte(pageStart + i * PAGE_SIZE);
        if (pte === undefined) throw new InvariantError(`text_poke: page vanished during ${op}`);
        this.alias[i] = pte.frame;
      }
      this.aliasPages = pages;
      s.auditor.pokeStep();
      const mem = s.frames.bytes();
      for (let done = 0; done < n; ) {
        const inAlias = inPage + done;
        const slot = inAlias >= PAGE_SIZE ? 1 : 0;
        const k = Math.min(n - done, (slot + 1) * PAGE_SIZE - inAlias);
        const host = (this.alias[slot] as number) * PAGE_SIZE + inAlias - slot * PAGE_SIZE;
        s.auditor.write(a + done, k, via, op, PERM_RW);
        put(mem, host, off + done, k);
        put(s.auditor.shadowChunk(host), host % SHADOW_CHUNK, off + done, k);
        done += k;
      }
      this.alias.fill(-1);
      this.aliasPages = 0;
      off += n;
    }
  }

  private finish(addr: VAddr, len: number, flush: boolean): void {
    const s = this.space;
    // Marking the lines stale and flushing them at once leaves them clean: only the flush is done.
    if (flush && s.config.icacheLine > 0) s.flushIcacheRange(addr, len);
    else s.markIcacheStale(addr, len);
    s.notifyCode(addr, len);
  }
}
