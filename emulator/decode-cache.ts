// The pre-decoded instruction cache: guest basic blocks as runs of fixed-size Int32 records.
//
// Record format (REC_WORDS = 8 int32 per instruction, one flat Int32Array `recs`):
//   word 0  R_OP    arch-specific operation id (emulator/x86_64/ops.ts, emulator/arm64/...)
//   word 1  R_INFO  bits 0-7: length in bytes; bits 8-15: arch-specific (x86: operand size in
//                   bytes); bits 16-31: byte offset of the instruction from its block's start
//   words 2-7       arch-specific operands (documented in each core's ops file)
// Block tables (indexed by block id, ids are never reused until a full flush):
//   blkPc[b]        guest address of the first instruction (a VAddr number)
//   blkFirst[b]     index of the first record (instruction index; word offset = index * REC_WORDS)
//   blkCount[b]     number of instructions; blkBytes[b]: bytes covered
//   blkValid[b]     1 while the block may run; 0 after invalidation
//   blkLink[2b+k]   chained successor block for exit slot k (0 = taken / only exit, 1 = fall
//                   through), -1 when not linked yet; followed only if that block is still valid
// A later translation tier walks recs[blkFirst[b]*8 .. (blkFirst[b]+blkCount[b])*8) of a hot block.
//
// Invariants (QEMU's TranslationBlock rules, accel/tcg/tb-maint.c): a block never extends past the
// 4 KiB page of its first byte except for one last instruction that straddles; every page a block
// touches lists the block, and a text_poke into (codeWritten) or a permission change over
// (mappingChanged) any of its bytes invalidates it. When the record pool is full the whole cache is
// flushed (Bochs does the same) and `generation` is bumped so callers drop stale block ids.

import type { VAddr } from '../support/u64.js';

export const REC_WORDS = 8;
export const R_OP = 0;
export const R_INFO = 1;
export const R_A = 2;
export const R_B = 3;
export const R_C = 4;
export const R_D = 5;
export const R_E = 6;
export const R_F = 7;

export const MAX_BLOCK_INSNS = 64;
const MAX_INSNS = 1 << 20;
const MAX_BLOCKS = 1 << 18;
const JC_BITS = 12;
const JC_MASK = (1 << JC_BITS) - 1;

function pageOf(addr: VAddr): number {
  return Math.floor(addr / 4096);
}

export function jcIndex(pc: VAddr): number {
  const l = pc | 0;
  return (l ^ (l >>> JC_BITS)) & JC_MASK;
}

export class DecodeCache {
  recs = new Int32Array(4096 * REC_WORDS);
  /** Capstone's (or our) text per instruction index, for traces and fault messages. */
  texts: string[] = [];
  nInsns = 0;

  blkPc = new Float64Array(1024);
  blkFirst = new Int32Array(1024);
  blkCount = new Int32Array(1024);
  blkBytes = new Int32Array(1024);
  blkValid = new Uint8Array(1024);
  blkLink = new Int32Array(2048).fill(-1);
  nBlocks = 0;
  generation = 0;

  /** Direct-mapped jump cache (QEMU tb_jmp_cache): pc hash -> block id. */
  readonly jc = new Int32Array(1 << JC_BITS).fill(-1);
  private readonly byPc = new Map<number, number>();
  private readonly byPage = new Map<number, number[]>();

  /** Valid block starting at pc, or -1. */
  find(pc: VAddr): number {
    const h = jcIndex(pc);
    const b = this.jc[h]!;
    if (b >= 0 && this.blkPc[b] === pc && this.blkValid[b] === 1) return b;
    const m = this.byPc.get(pc);
    if (m === undefined) return -1;
    this.jc[h] = m;
    return m;
  }

  /** Room for `n` more instruction records; false means the caller must flush first. */
  reserve(n: number): boolean {
    const need = (this.nInsns + n) * REC_WORDS;
    if (need <= this.recs.length) return true;
    if (this.nInsns + n > MAX_INSNS) return false;
    let size = this.recs.length;
    while (size < need) size *= 2;
    const r = new Int32Array(size);
    r.set(this.recs);
    this.recs = r;
    return true;
  }

  /** Register the block made of records [first, first + count); returns its id or -1 if full. */
  addBlock(pc: VAddr, first: number, count: number, bytes: number): number {
    if (this.nBlocks >= MAX_BLOCKS) return -1;
    if (this.nBlocks === this.blkPc.length) this.growBlocks();
    const b = this.nBlocks++;
    this.blkPc[b] = pc;
    this.blkFirst[b] = first;
    this.blkCount[b] = count;
    this.blkBytes[b] = bytes;
    this.blkValid[b] = 1;
    this.blkLink[2 * b] = -1;
    this.blkLink[2 * b + 1] = -1;
    this.byPc.set(pc, b);
    this.jc[jcIndex(pc)] = b;
    for (let p = pageOf(pc); p <= pageOf(pc + bytes - 1); p++) {
      let list = this.byPage.get(p);
      if (!list) this.byPage.set(p, (list = []));
      list.push(b);
    }
    return b;
  }

  private growBlocks(): void {
    const n = this.blkPc.length * 2;
    const grow = <T extends Float64Array | Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const r = make(n);
      r.set(a);
      return r;
    };
    this.blkPc = grow(this.blkPc, (k) => new Float64Array(k));
    this.blkFirst = grow(this.blkFirst, (k) => new Int32Array(k));
    this.blkCount = grow(this.blkCount, (k) => new Int32Array(k));
    this.blkBytes = grow(this.blkBytes, (k) => new Int32Array(k));
    this.blkValid = grow(this.blkValid, (k) => new Uint8Array(k));
    const links = new Int32Array(2 * n).fill(-1);
    links.set(this.blkLink);
    this.blkLink = links;
  }

  /** Invalidate every block with a byte in [addr, addr + len). Returns how many were dropped. */
  invalidateRange(addr: VAddr, len: number): number {
    if (len <= 0) return 0;
    let dropped = 0;
    const end = addr + len;
    for (let p = pageOf(addr); p <= pageOf(end - 1); p++) {
      const list = this.byPage.get(p);
      if (!list) continue;
      const keep: number[] = [];
      for (const b of list) {
        if (this.blkValid[b] === 0) continue;
        const s = this.blkPc[b]!;
        if (s < end && s + this.blkBytes[b]! > addr) {
          this.blkValid[b] = 0;
          if (this.byPc.get(s) === b) this.byPc.delete(s);
          dropped++;
        } else keep.push(b);
      }
      if (keep.length) this.byPage.set(p, keep);
      else this.byPage.delete(p);
    }
    return dropped;
  }

  flush(): void {
    this.nInsns = 0;
    this.texts = [];
    this.nBlocks = 0;
    this.byPc.clear();
    this.byPage.clear();
    this.jc.fill(-1);
    this.blkValid.fill(0);
    this.blkLink.fill(-1);
    this.generation++;
  }

  /** Guest address of instruction `insn` of block `b`. */
  insnPc(b: number, insn: number): VAddr {
    return this.blkPc[b]! + (this.recs[insn * REC_WORDS + R_INFO]! >>> 16);
  }
}
