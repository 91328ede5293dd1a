// x86_64 register file and operand access shared by the executor (exec.ts, machine.ts): 16 lo/hi
// int32 register pairs, lazy flags (alu.ts), effective addresses of ModRM/SIB operands (records in
// ops.ts), loads/stores through the soft TLB, push/pop. Register writes follow the SDM: 32-bit
// results zero the upper half, 8/16-bit results merge; ah..bh are registers 16-19.

import { Machine } from '../machine.js';
import { trunc } from './alu.js';

const RSP = 4;
const TWO32 = 4294967296;

export abstract class X86Operands extends Machine {
  /** regs[2r] = low half, regs[2r+1] = high half of register r (rax..r15). */
  readonly regs = new Int32Array(32);
  /** Lazy flags (alu.ts). */
  readonly fl = new Int32Array(10);
  /** Flags before a read-modify-write whose store may fault (restored then). */
  protected readonly flSave = new Int32Array(10);
  protected eaLo = 0;
  protected eaHi = 0;
  protected vHi = 0;
  protected curB = 0;
  /** Record index of the instruction that may fault (-1 between blocks). */
  protected curI = -1;

  protected getReg(r: number, size: number): number {
    const regs = this.regs;
    this.vHi = 0;
    if (size === 8) {
      this.vHi = regs[2 * r + 1]!;
      return regs[2 * r]!;
    }
    if (size === 4) return regs[2 * r]!;
    if (size === 2) return regs[2 * r]! & 0xffff;
    return r >= 16 ? (regs[2 * (r - 16)]! >>> 8) & 0xff : regs[2 * r]! & 0xff;
  }

  protected setReg(r: number, size: number, lo: number, hi: number): void {
    const regs = this.regs;
    if (size === 8) {
      regs[2 * r] = lo;
      regs[2 * r + 1] = hi;
    } else if (size === 4) {
      regs[2 * r] = lo;
      regs[2 * r + 1] = 0;
    } else if (size === 2) regs[2 * r] = (regs[2 * r]! & ~0xffff) | (lo & 0xffff);
    else if (r >= 16) regs[2 * (r - 16)] = (regs[2 * (r - 16)]! & ~0xff00) | ((lo & 0xff) << 8);
    else regs[2 * r] = (regs[2 * r]! & ~0xff) | (lo & 0xff);
  }

  /** Effective address of the memory operand of record i into eaLo/eaHi. */
  protected ea(r: Int32Array, i: number): void {
    const base = r[i + 3]!;
    const c = r[i + 4]!;
    const disp = r[i + 5]!;
    if (base === 16) {
      const info = r[i + 1]!;
      const t = this.cache.blkPc[this.curB]! + (info >>> 16) + (info & 0xff) + disp;
      this.eaLo = t | 0;
      this.eaHi = Math.floor(t / TWO32) | 0;
      return;
    }
    let lo = disp;
    let hi = disp >> 31;
    const regs = this.regs;
    if (base >= 0) {
      const s = (lo >>> 0) + (regs[2 * base]! >>> 0);
      lo = s | 0;
      hi = (hi + regs[2 * base + 1]! + (s >= TWO32 ? 1 : 0)) | 0;
    }
    const idx = c & 0xff;
    if (idx < 16) {
      const sh = (c >> 8) & 3;
      let il = regs[2 * idx]!;
      let ih = regs[2 * idx + 1]!;
      if (sh) {
        ih = (ih << sh) | (il >>> (32 - sh));
        il <<= sh;
      }
      const s = (lo >>> 0) + (il >>> 0);
      lo = s | 0;
      hi = (hi + ih + (s >= TWO32 ? 1 : 0)) | 0;
    }
    this.eaLo = lo;
    this.eaHi = hi;
  }

  protected load(size: number): number {
    const p = this.port;
    if (size === 8) {
      const lo = p.ld64(this.eaLo, this.eaHi);
      this.vHi = p.hiOut;
      return lo;
    }
    this.vHi = 0;
    if (size === 4) return p.ld32(this.eaLo, this.eaHi);
    if (size === 2) return p.ld16(this.eaLo, this.eaHi);
    return p.ld8(this.eaLo, this.eaHi);
  }

  protected store(size: number, lo: number, hi: number): void {
    const p = this.port;
    if (size === 8) p.st64(this.eaLo, this.eaHi, lo, hi);
    else if (size === 4) p.st32(this.eaLo, this.eaHi, lo);
    else if (size === 2) p.st16(this.eaLo, this.eaHi, lo);
    else p.st8(this.eaLo, this.eaHi, lo);
  }

  /** Read the r/m operand (computing the EA for memory); hi half in vHi. */
  protected readRm(r: Int32Array, i: number, size: number): number {
    if (r[i + 4]! < 0) return this.getReg(r[i + 3]!, size);
    this.ea(r, i);
    return this.load(size);
  }

  /** Write the r/m operand; for memory the EA must already be computed (readRm or ea). */
  protected writeRm(r: Int32Array, i: number, size: number, lo: number, hi: number): void {
    if (r[i + 4]! < 0) this.setReg(r[i + 3]!, size, lo, hi);
    else this.store(size, lo, hi);
  }

  protected immLo(r: Int32Array, i: number, size: number): number {
    return size === 8 ? r[i + 6]! : trunc(r[i + 6]!, size);
  }

  protected push(lo: number, hi: number): void {
    const regs = this.regs;
    const s = (regs[2 * RSP]! >>> 0) - 8;
    const nlo = s | 0;
    const nhi = (regs[2 * RSP + 1]! - (s < 0 ? 1 : 0)) | 0;
    this.port.st64(nlo, nhi, lo, hi);
    regs[2 * RSP] = nlo;
    regs[2 * RSP + 1] = nhi;
  }

  /** Pop 8 bytes: returns lo, hi in vHi. */
  protected pop(): number {
    const regs = this.regs;
    const lo = regs[2 * RSP]!;
    const hi = regs[2 * RSP + 1]!;
    const v = this.port.ld64(lo, hi);
    this.vHi = this.port.hiOut;
    const s = (lo >>> 0) + 8;
    regs[2 * RSP] = s | 0;
    regs[2 * RSP + 1] = (hi + (s >= TWO32 ? 1 : 0)) | 0;
    return v;
  }

  protected nextPcPair(r: Int32Array, i: number): void {
    const info = r[i + 1]!;
    const t = this.cache.blkPc[this.curB]! + (info >>> 16) + (info & 0xff);
    this.eaLo = t | 0;
    this.eaHi = Math.floor(t / TWO32) | 0;
  }

}
