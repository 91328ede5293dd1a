// The contract between execmem (the simulated kernel address space) and its users, above all the
// emulator. Everything the emulator needs to fetch, load and store through the page tables, to keep
// its caches coherent, and to report faults is declared here; execmem/space.ts implements it.
//
// Invariants the implementation guarantees (and the W^X auditor checks):
// - No page is ever mapped writable and executable at the same time.
// - Bytes of an executable page change only through text_poke (execmem/poke.ts); every such write
//   is announced to listeners with `codeWritten` before the poke returns.
// - Every change of a mapping or a permission is announced with `mappingChanged`, so cached
//   translations (an emulator soft TLB) can be dropped.
// - Physical memory is one growable WebAssembly.Memory; frame n occupies bytes [n*4096, n*4096+4096).
//   Growing it detaches the old ArrayBuffer, so listeners get `memoryGrown` and must re-read
//   `memory.buffer`.

import { JitboxError } from '../support/errors.js';
import { type VAddr, hexAddr } from '../support/u64.js';

export type Arch = 'x86_64' | 'arm64';
export const ARCHES: readonly Arch[] = ['x86_64', 'arm64'];

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;
export const HUGE_PAGE_SIZE = 2 * 1024 * 1024;

/** Permission bits of a page-table entry. */
export const PERM_R = 1;
export const PERM_W = 2;
export const PERM_X = 4;
export type Perm = number;

export const PERM_RW = PERM_R | PERM_W; // PAGE_KERNEL
export const PERM_RO = PERM_R; // PAGE_KERNEL_RO
export const PERM_ROX = PERM_R | PERM_X; // PAGE_KERNEL_ROX

/** "rwx" style text: "r-x", "rw-", "---". */
export function permString(p: Perm): string {
  return (p & PERM_R ? 'r' : '-') + (p & PERM_W ? 'w' : '-') + (p & PERM_X ? 'x' : '-');
}

export type Access = 'read' | 'write' | 'fetch';

export interface PageFaultInfo {
  address: VAddr;
  access: Access;
  /** Permissions of the page, or null when nothing is mapped there. */
  perm: Perm | null;
  /** Guest pc and the faulting instruction's text, filled in by the emulator. */
  pc?: VAddr;
  insn?: string;
}

/** An access the page tables do not allow (unmapped, or missing R/W/X). */
export class PageFault extends JitboxError {
  readonly address: VAddr;
  readonly access: Access;
  readonly perm: Perm | null;
  readonly pc: VAddr | undefined;
  readonly insn: string | undefined;

  constructor(info: PageFaultInfo, reason?: string) {
    const permText = info.perm === null ? 'unmapped' : permString(info.perm);
    const where = info.pc !== undefined ? ` at pc ${hexAddr(info.pc)}${info.insn ? ` (${info.insn})` : ''}` : '';
    super(
      'page-fault',
      `page fault: ${info.access} of ${hexAddr(info.address)} (page ${permText})${where}${reason ? `: ${reason}` : ''}`,
      {
        address: hexAddr(info.address),
        access: info.access,
        perm: permText,
        pc: info.pc !== undefined ? hexAddr(info.pc) : undefined,
        insn: info.insn,
      },
    );
    this.address = info.address;
    this.access = info.access;
    this.perm = info.perm;
    this.pc = info.pc;
    this.insn = info.insn;
  }

  /** The same fault with the guest pc and instruction text attached (used by the emulator). */
  withContext(pc: VAddr, insn: string): PageFault {
    return new PageFault({ address: this.address, access: this.access, perm: this.perm, pc, insn });
  }
}

/**
 * arm64 only: an instruction was fetched from a line written (by text_poke or a raw patch) since the
 * last instruction-cache maintenance for it. Real hardware may execute the old bytes; jitbox stops.
 */
export class StaleIcacheFault extends JitboxError {
  readonly address: VAddr;
  readonly lineAddress: VAddr;
  readonly pc: VAddr | undefined;

  constructor(address: VAddr, lineAddress: VAddr, pc?: VAddr) {
    super(
      'stale-icache',
      `stale instruction fetch at ${hexAddr(address)}: line ${hexAddr(lineAddress)} was written after the last ` +
        `instruction-cache flush (missing flush_icache_range after the write)`,
      { address: hexAddr(address), line: hexAddr(lineAddress), pc: pc !== undefined ? hexAddr(pc) : undefined },
    );
    this.address = address;
    this.lineAddress = lineAddress;
    this.pc = pc;
  }
}

/** Result of a page-table walk for one 4 KiB page (a 2 MiB leaf is reported per 4 KiB page). */
export interface PageInfo {
  /** Byte offset in `memory.buffer` of the start of the 4 KiB page that contains the address. */
  hostOffset: number;
  perm: Perm;
  /** True when the page is mapped by a 2 MiB leaf (one TLB entry covers 2 MiB). */
  huge: boolean;
}

export interface MemoryListener {
  /** Mappings or permissions changed somewhere in [addr, addr + len): drop cached translations. */
  mappingChanged?(addr: VAddr, len: number): void;
  /** Bytes of executable memory changed at [addr, addr + len): drop decoded instructions there. */
  codeWritten?(addr: VAddr, len: number): void;
  /** The backing WebAssembly.Memory grew: views of the old buffer are detached. */
  memoryGrown?(): void;
}

/** What the emulator (and the experiments) need from the address space. */
export interface GuestMemory {
  readonly arch: Arch;
  readonly memory: WebAssembly.Memory;
  /** Page-table walk without a permission check; null when unmapped. */
  pageInfo(addr: VAddr): PageInfo | null;
  /** Translate and check: host byte offset of `addr`, or throws PageFault. */
  translate(addr: VAddr, access: Access): number;
  /** Checked copy out of guest memory (read permission on every byte). */
  read(addr: VAddr, len: number): Uint8Array;
  /** Checked copy into guest memory (write permission on every byte; never reaches code pages). */
  write(addr: VAddr, bytes: Uint8Array): void;
  /**
   * arm64: the first stale instruction-cache line in [addr, addr + len), or null. Always null on
   * x86_64, whose instruction fetch is coherent with stores.
   */
  staleIcacheLine(addr: VAddr, len: number): VAddr | null;
  subscribe(listener: MemoryListener): () => void;
  /**
   * Optional: `bytes` of contiguous host-private memory in `memory` (never mapped, invisible to the
   * guest), for the emulator's translated code (register file, soft TLB). Returns its byte offset.
   */
  allocHostScratch?(bytes: number): number;
}
