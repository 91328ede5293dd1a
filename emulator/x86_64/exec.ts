// Generic x86_64 instruction semantics (everything but the specialised fast forms that
// machine.ts executes inline): one method per record, returning how control continues. Read-modify-
// write forms compute before they store and restore the lazy flags if the store faults, so a faulting
// instruction leaves the architectural state unchanged.

import { GuestTrap } from '../errors.js';
import { alu, cond, divide, divQR, incDec, mul32, mul64, mulFlags, out, shift, shiftDouble, trunc } from './alu.js';
import { ALU_CMP, NOP_PREFETCH, UN_DEC, UN_DIV, UN_IDIV, UN_IMUL, UN_INC, UN_MUL, UN_NEG, UN_NOT, X } from './ops.js';
import { isCanonicalPair, vaddrFromPair } from '../../support/u64.js';
import { X86Operands } from './operands.js';

const RSP = 4;
const RBP = 5;
const TWO32 = 4294967296;

export abstract class X86Exec extends X86Operands {
  /** Generic instruction semantics. Returns 1 (fall through), 0 (direct jump), 2 (indirect). */
  protected exec(r: Int32Array, i: number): number {
    const regs = this.regs;
    const fl = this.fl;
    const op = r[i]!;
    const info = r[i + 1]!;
    const size = (info >>> 8) & 0xf;
    const aux = (info >>> 12) & 0xf;
    const a = r[i + 2]!;
    switch (op) {
      case X.NOP: {
        const obs = this.port.observer;
        if (obs !== null && obs.prefetch !== undefined && r[i + 7]! >= NOP_PREFETCH) {
          this.ea(r, i);
          if (isCanonicalPair(this.eaLo, this.eaHi)) obs.prefetch(vaddrFromPair(this.eaLo, this.eaHi), 'data');
        }
        return 1;
      }
      case X.MOV_R_RM: {
        const lo = this.readRm(r, i, size);
        this.setReg(a, size, lo, this.vHi);
        return 1;
      }
      case X.MOV_RM_R: {
        const lo = this.getReg(a, size);
        const hi = this.vHi;
        if (r[i + 4]! >= 0) this.ea(r, i);
        this.writeRm(r, i, size, lo, hi);
        return 1;
      }
      case X.MOV_RM_I:
        if (r[i + 4]! >= 0) this.ea(r, i);
        this.writeRm(r, i, size, this.immLo(r, i, size), r[i + 7]!);
        return 1;
      case X.MOV_R_I:
        this.setReg(a, size, this.immLo(r, i, size), r[i + 7]!);
        return 1;
      case X.MOVZX:
      case X.MOVSX: {
        let lo = this.readRm(r, i, aux);
        let hi = 0;
        if (op === X.MOVSX) {
          lo = aux === 1 ? (lo << 24) >> 24 : aux === 2 ? (lo << 16) >> 16 : lo | 0;
          hi = lo >> 31;
        }
        this.setReg(a, size, size === 8 ? lo : trunc(lo, size), hi);
        return 1;
      }
      case X.LEA:
        this.ea(r, i);
        this.setReg(a, size, this.eaLo, this.eaHi);
        return 1;
      case X.ALU_R_RM: {
        const bLo = this.readRm(r, i, size);
        const bHi = this.vHi;
        const aLo = this.getReg(a, size);
        const res = alu(fl, aux, size, aLo, this.vHi, bLo, bHi);
        if (aux !== ALU_CMP) this.setReg(a, size, res, out.hi);
        return 1;
      }
      case X.ALU_RM_R:
      case X.ALU_RM_I:
      case X.ADD64_RI:
      case X.SUB64_RI:
      case X.AND64_RI:
      case X.AND32_RI:
      case X.CMP64_RI: {
        const aLo = this.readRm(r, i, size);
        const aHi = this.vHi;
        let bLo: number;
        let bHi: number;
        if (op === X.ALU_RM_R) {
          bLo = this.getReg(a, size);
          bHi = this.vHi;
        } else {
          bLo = this.immLo(r, i, size);
          bHi = r[i + 7]!;
        }
        this.flSave.set(fl);
        const res = alu(fl, aux, size, aLo, aHi, bLo, bHi);
        if (aux !== ALU_CMP) {
          try {
            this.writeRm(r, i, size, res, out.hi);
          } catch (e) {
            fl.set(this.flSave);
            throw e;
          }
        }
        return 1;
      }
      case X.TEST_RM_R:
      case X.TEST_RM_I: {
        const aLo = this.readRm(r, i, size);
        const aHi = this.vHi;
        const bLo = op === X.TEST_RM_R ? this.getReg(a, size) : this.immLo(r, i, size);
        const bHi = op === X.TEST_RM_R ? this.vHi : r[i + 7]!;
        alu(fl, 4, size, aLo, aHi, bLo, bHi);
        return 1;
      }
      case X.UNARY:
        return this.unary(r, i, size, aux);
      case X.IMUL_R_RM:
      case X.IMUL_R_RM_I: {
        const bLo = this.readRm(r, i, size);
        const bHi = this.vHi;
        let aLo: number;
        let aHi: number;
        if (op === X.IMUL_R_RM) {
          aLo = this.getReg(a, size);
          aHi = this.vHi;
        } else {
          aLo = r[i + 6]!;
          aHi = r[i + 7]!;
        }
        const [lo, hi] = this.imulTrunc(size, aLo, aHi, bLo, bHi);
        this.setReg(a, size, lo, hi);
        return 1;
      }
      case X.SHIFT_I:
      case X.SHIFT_CL:
      case X.SHR64_I:
      case X.SHL64_I: {
        const cnt = (op === X.SHIFT_CL ? regs[2]! : r[i + 6]!) & (size === 8 ? 63 : 31);
        const vLo = this.readRm(r, i, size);
        const vHi = this.vHi;
        if (cnt === 0) {
          this.writeRm(r, i, size, vLo, vHi);
          return 1;
        }
        this.flSave.set(fl);
        const res = shift(fl, aux, size, vLo, vHi, cnt);
        try {
          this.writeRm(r, i, size, res, out.hi);
        } catch (e) {
          fl.set(this.flSave);
          throw e;
        }
        return 1;
      }
      case X.SHXD_I:
      case X.SHXD_CL: {
        const cnt = (op === X.SHXD_CL ? regs[2]! : r[i + 6]!) & (size === 8 ? 63 : 31);
        const dLo = this.readRm(r, i, size);
        const dHi = this.vHi;
        const sLo = this.getReg(a, size);
        const sHi = this.vHi;
        if (cnt === 0) {
          this.writeRm(r, i, size, dLo, dHi);
          return 1;
        }
        this.flSave.set(fl);
        const res = shiftDouble(fl, aux === 1, size, dLo, dHi, sLo, sHi, cnt);
        try {
          this.writeRm(r, i, size, res, out.hi);
        } catch (e) {
          fl.set(this.flSave);
          throw e;
        }
        return 1;
      }
      case X.BSWAP: {
        const bs = (v: number): number => ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
        if (size === 8) {
          const lo = regs[2 * a]!;
          regs[2 * a] = bs(regs[2 * a + 1]!);
          regs[2 * a + 1] = bs(lo);
        } else this.setReg(a, 4, bs(regs[2 * a]!), 0);
        return 1;
      }
      case X.XCHG: {
        const mLo = this.readRm(r, i, size);
        const mHi = this.vHi;
        const rLo = this.getReg(a, size);
        const rHi = this.vHi;
        this.writeRm(r, i, size, rLo, rHi);
        this.setReg(a, size, mLo, mHi);
        return 1;
      }
      case X.XADD: {
        const dLo = this.readRm(r, i, size);
        const dHi = this.vHi;
        const sLo = this.getReg(a, size);
        const sHi = this.vHi;
        if (r[i + 4]! >= 0) this.port.probeWrite(this.eaLo, this.eaHi, size);
        const res = alu(fl, 0, size, dLo, dHi, sLo, sHi);
        const resHi = out.hi;
        this.setReg(a, size, dLo, dHi);
        this.writeRm(r, i, size, res, resHi);
        return 1;
      }
      case X.CMPXCHG: {
        const dLo = this.readRm(r, i, size);
        const dHi = this.vHi;
        const accLo = this.getReg(0, size);
        const accHi = this.vHi;
        if (r[i + 4]! >= 0) this.port.probeWrite(this.eaLo, this.eaHi, size);
        alu(fl, ALU_CMP, size, accLo, accHi, dLo, dHi);
        if (accLo === dLo && (size !== 8 || accHi === dHi)) {
          const sLo = this.getReg(a, size);
          this.writeRm(r, i, size, sLo, this.vHi);
        } else {
          this.writeRm(r, i, size, dLo, dHi);
          this.setReg(0, size, dLo, dHi);
        }
        return 1;
      }
      case X.PUSH_R:
        this.push(regs[2 * a]!, regs[2 * a + 1]!);
        return 1;
      case X.POP_R: {
        const lo = this.pop();
        this.setReg(a, 8, lo, this.vHi);
        return 1;
      }
      case X.PUSH_I:
        this.push(r[i + 6]!, r[i + 7]!);
        return 1;
      case X.PUSH_RM: {
        const lo = this.readRm(r, i, 8);
        this.push(lo, this.vHi);
        return 1;
      }
      case X.POP_RM: {
        const spLo = regs[2 * RSP]!;
        const spHi = regs[2 * RSP + 1]!;
        const lo = this.pop();
        const hi = this.vHi;
        try {
          if (r[i + 4]! >= 0) this.ea(r, i);
          this.writeRm(r, i, 8, lo, hi);
        } catch (e) {
          regs[2 * RSP] = spLo;
          regs[2 * RSP + 1] = spHi;
          throw e;
        }
        return 1;
      }
      case X.CALL:
      case X.CALL_RM: {
        let tLo = r[i + 6]!;
        let tHi = r[i + 7]!;
        if (op === X.CALL_RM) {
          tLo = this.readRm(r, i, 8);
          tHi = this.vHi;
        }
        this.nextPcPair(r, i);
        this.push(this.eaLo, this.eaHi);
        this.eaLo = tLo;
        this.eaHi = tHi;
        return op === X.CALL ? 0 : 2;
      }
      case X.JMP:
        this.eaLo = r[i + 6]!;
        this.eaHi = r[i + 7]!;
        return 0;
      case X.JMP_RM: {
        const lo = this.readRm(r, i, 8);
        this.eaLo = lo;
        this.eaHi = this.vHi;
        return 2;
      }
      case X.JCC:
        if (!cond(fl, aux)) return 1;
        this.eaLo = r[i + 6]!;
        this.eaHi = r[i + 7]!;
        return 0;
      case X.SETCC: {
        const v = cond(fl, aux) ? 1 : 0;
        if (r[i + 4]! >= 0) this.ea(r, i);
        this.writeRm(r, i, 1, v, 0);
        return 1;
      }
      case X.CMOV: {
        const lo = this.readRm(r, i, size);
        const hi = this.vHi;
        if (cond(fl, aux)) this.setReg(a, size, lo, hi);
        else if (size === 4) regs[2 * a + 1] = 0;
        return 1;
      }
      case X.RET: {
        const lo = this.pop();
        this.eaLo = lo;
        this.eaHi = this.vHi;
        if (r[i + 7] === 1) {
          const s = (regs[2 * RSP]! >>> 0) + r[i + 6]!;
          regs[2 * RSP] = s | 0;
          regs[2 * RSP + 1] = (regs[2 * RSP + 1]! + (s >= TWO32 ? 1 : 0)) | 0;
        }
        return 2;
      }
      case X.LEAVE: {
        const spLo = regs[2 * RSP]!;
        const spHi = regs[2 * RSP + 1]!;
        regs[2 * RSP] = regs[2 * RBP]!;
        regs[2 * RSP + 1] = regs[2 * RBP + 1]!;
        try {
          const lo = this.pop();
          regs[2 * RBP] = lo;
          regs[2 * RBP + 1] = this.vHi;
        } catch (e) {
          regs[2 * RSP] = spLo;
          regs[2 * RSP + 1] = spHi;
          throw e;
        }
        return 1;
      }
      case X.CONVERT:
        this.convert(aux, size);
        return 1;
      case X.INT3:
      case X.UD2: {
        const pc = this.cache.blkPc[this.curB]! + (info >>> 16);
        throw new GuestTrap(op === X.INT3 ? 'int3' : 'ud2', pc, op === X.INT3 ? 'int3' : 'ud2');
      }
      default:
        throw new RangeError(`x86 op ${op} has no semantics`);
    }
  }

  protected convert(aux: number, size: number): void {
    const regs = this.regs;
    if (aux === 0) {
      if (size === 8) regs[1] = regs[0]! >> 31;
      else if (size === 4) this.setReg(0, 4, (regs[0]! << 16) >> 16, 0);
      else this.setReg(0, 2, ((regs[0]! << 24) >> 24) & 0xffff, 0);
      return;
    }
    if (size === 8) {
      const s = regs[1]! >> 31;
      regs[4] = s;
      regs[5] = s;
    } else if (size === 4) this.setReg(2, 4, regs[0]! >> 31, 0);
    else this.setReg(2, 2, ((regs[0]! << 16) >> 31) & 0xffff, 0);
  }

  /** Truncated signed product for imul r, r/m[, imm] (flags CF = OF = overflow). */
  protected imulTrunc(size: number, aLo: number, aHi: number, bLo: number, bHi: number): [number, number] {
    if (size === 8) {
      const lo = mul64(true, aLo, aHi, bLo, bHi);
      const hi = out.hi;
      const sx = hi >> 31;
      mulFlags(this.fl, out.xlo !== sx || out.xhi !== sx, lo, hi, 8);
      return [lo, hi];
    }
    const sa = size === 4 ? aLo | 0 : size === 2 ? (aLo << 16) >> 16 : (aLo << 24) >> 24;
    const sb = size === 4 ? bLo | 0 : size === 2 ? (bLo << 16) >> 16 : (bLo << 24) >> 24;
    const lo = trunc(Math.imul(sa, sb), size);
    let overflow: boolean;
    if (size === 4) {
      const plo = mul64(true, sa, sa >> 31, sb, sb >> 31);
      overflow = out.hi !== plo >> 31;
    } else {
      const p = sa * sb;
      const t = size === 2 ? (p << 16) >> 16 : (p << 24) >> 24;
      overflow = t !== p;
    }
    mulFlags(this.fl, overflow, lo, 0, size);
    return [lo, 0];
  }

  protected unary(r: Int32Array, i: number, size: number, kind: number): number {
    const regs = this.regs;
    const fl = this.fl;
    const vLo = this.readRm(r, i, size);
    const vHi = this.vHi;
    switch (kind) {
      case UN_NOT:
        this.writeRm(r, i, size, size === 8 ? ~vLo : trunc(~vLo, size), size === 8 ? ~vHi : 0);
        return 1;
      case UN_NEG:
      case UN_INC:
      case UN_DEC: {
        this.flSave.set(fl);
        const res = kind === UN_NEG ? alu(fl, 5, size, 0, 0, vLo, vHi) : incDec(fl, kind === UN_DEC, size, vLo, vHi);
        try {
          this.writeRm(r, i, size, res, out.hi);
        } catch (e) {
          fl.set(this.flSave);
          throw e;
        }
        return 1;
      }
      case UN_MUL:
      case UN_IMUL: {
        const signed = kind === UN_IMUL;
        if (size === 8) {
          const lo = mul64(signed, regs[0]!, regs[1]!, vLo, vHi);
          const hi = out.hi;
          const xlo = out.xlo;
          const xhi = out.xhi;
          const sx = signed ? hi >> 31 : 0;
          mulFlags(fl, xlo !== sx || xhi !== sx, lo, hi, 8);
          regs[0] = lo;
          regs[1] = hi;
          regs[4] = xlo;
          regs[5] = xhi;
        } else if (size === 4) {
          const a = regs[0]!;
          let lo: number;
          let hi: number;
          if (signed) {
            lo = mul64(true, a, a >> 31, vLo, vLo >> 31);
            hi = out.hi;
          } else {
            lo = mul32(a, vLo);
            hi = out.hi;
          }
          mulFlags(fl, signed ? hi !== lo >> 31 : hi !== 0, lo, 0, 4);
          this.setReg(0, 4, lo, 0);
          this.setReg(2, 4, hi, 0);
        } else {
          const a = this.getReg(0, size);
          const sx = (v: number): number => (size === 2 ? (v << 16) >> 16 : (v << 24) >> 24);
          const p = signed ? sx(a) * sx(vLo) : a * vLo;
          const low = trunc(p, size);
          const ov = signed ? sx(low) !== p : p >>> (size * 8) !== 0;
          mulFlags(fl, ov, low, 0, size);
          if (size === 2) {
            this.setReg(0, 2, p & 0xffff, 0);
            this.setReg(2, 2, (p >> 16) & 0xffff, 0);
          } else this.setReg(0, 2, p & 0xffff, 0);
        }
        return 1;
      }
      case UN_DIV:
      case UN_IDIV: {
        const signed = kind === UN_IDIV;
        if (!divide(signed, size, regs[0]!, regs[1]!, regs[4]!, regs[5]!, vLo, size === 8 ? vHi : 0)) {
          const pc = this.cache.blkPc[this.curB]! + (r[i + 1]! >>> 16);
          throw new GuestTrap('divide-error', pc, this.renderInsn(r, i, pc), trunc(vLo, size) === 0 && (size < 8 || vHi === 0) ? 'division by zero' : 'quotient overflow');
        }
        const qLo = divQR.qLo;
        const qHi = divQR.qHi;
        const rLo = divQR.rLo;
        const rHi = divQR.rHi;
        if (size === 1) this.setReg(0, 2, (qLo & 0xff) | ((rLo & 0xff) << 8), 0);
        else {
          this.setReg(0, size, qLo, qHi);
          this.setReg(2, size, rLo, rHi);
        }
        return 1;
      }
      default:
        throw new RangeError(`unary kind ${kind}`);
    }
  }
}
