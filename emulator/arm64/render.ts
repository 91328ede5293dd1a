// Our own assembly text for an A64 word (the emulator half of the Capstone decode check).
//
// Invariant: for every word decodeA64 accepts, normaliseAsm('arm64', renderA64(w, pc)) equals the
// normalised text of Capstone 5 (capstone-wasm 1.0.3), including its alias choices: mov for
// movz/movn/orr-register/add-sp, cmp/cmn/tst, neg/negs/ngc, lsl/lsr/asr/ubfx/sbfx/bfi/bfxil/bfc/
// ubfiz/sbfiz/uxt*/sxt*, mul/mneg/smull/umull, cset/csetm/cinc/cinv/cneg, st<op> for LSE with a
// zero destination, `hint #n` for BTI (Capstone 5 has no BTI names). Branch and literal targets are
// absolute (`#0x...`) as Capstone prints them. The text follows LLVM's AArch64InstPrinter.

import { decodeBitMasks } from './decode.js';

const bits = (w: number, hi: number, lo: number): number => (w >>> lo) & ((1 << (hi - lo + 1)) - 1);
const sext = (v: number, width: number): number => (v << (32 - width)) >> (32 - width);

const CONDS = ['eq', 'ne', 'hs', 'lo', 'mi', 'pl', 'vs', 'vc', 'hi', 'ls', 'ge', 'lt', 'gt', 'le', 'al', 'nv'];
const SHIFTS = ['lsl', 'lsr', 'asr', 'ror'];
const EXTENDS = ['uxtb', 'uxth', 'uxtw', 'uxtx', 'sxtb', 'sxth', 'sxtw', 'sxtx'];

/** Register name: 31 is sp when `sp`, else the zero register. */
function reg(r: number, x: boolean, sp = false): string {
  if (r === 31) return sp ? (x ? 'sp' : 'wsp') : x ? 'xzr' : 'wzr';
  return (x ? 'x' : 'w') + r;
}

function hex(v: bigint | number): string {
  const b = BigInt(v);
  return b < 0n ? `#-0x${(-b).toString(16)}` : `#0x${b.toString(16)}`;
}

function target(pc: number, off: number): string {
  return `#0x${BigInt.asUintN(64, BigInt(pc) + BigInt(off)).toString(16)}`;
}

export function renderA64(w: number, pc: number): string {
  w >>>= 0;
  const op0 = bits(w, 28, 25);
  if ((op0 & 0b1110) === 0b1000) return renderDpImm(w, pc);
  if ((op0 & 0b1110) === 0b1010) return renderBranchSys(w, pc);
  if ((op0 & 0b0101) === 0b0100) return renderLoadStore(w, pc);
  if ((op0 & 0b0111) === 0b0101) return renderDpReg(w);
  return `.inst ${hex(w)}`;
}

function renderDpImm(w: number, pc: number): string {
  const sf = (w >>> 31) === 1;
  const rd = bits(w, 4, 0), rn = bits(w, 9, 5);
  switch (bits(w, 25, 23)) {
    case 0b000:
    case 0b001: {
      const imm = sext((bits(w, 23, 5) << 2) | bits(w, 30, 29), 21);
      if (sf) return `adrp ${reg(rd, true)}, ${target(Math.floor(pc / 4096) * 4096, imm * 4096)}`;
      return `adr ${reg(rd, true)}, ${target(pc, imm)}`;
    }
    case 0b010: {
      const sub = bits(w, 30, 30), s = bits(w, 29, 29), sh = bits(w, 22, 22), imm = bits(w, 21, 10);
      const shift = sh ? ', lsl #12' : '';
      if (!sub && !s && !sh && imm === 0 && (rd === 31 || rn === 31)) return `mov ${reg(rd, sf, true)}, ${reg(rn, sf, true)}`;
      if (s && rd === 31) return `${sub ? 'cmp' : 'cmn'} ${reg(rn, sf, true)}, ${hex(imm)}${shift}`;
      return `${sub ? 'sub' : 'add'}${s ? 's' : ''} ${reg(rd, sf, !s)}, ${reg(rn, sf, true)}, ${hex(imm)}${shift}`;
    }
    case 0b100: {
      const opc = bits(w, 30, 29);
      const m = decodeBitMasks(bits(w, 22, 22), bits(w, 15, 10), bits(w, 21, 16), true, sf ? 64 : 32);
      const imm = hex(m ? m[0] : 0n);
      if (opc === 3 && rd === 31) return `tst ${reg(rn, sf)}, ${imm}`;
      return `${['and', 'orr', 'eor', 'ands'][opc]} ${reg(rd, sf, opc !== 3)}, ${reg(rn, sf)}, ${imm}`;
    }
    case 0b101: {
      const opc = bits(w, 30, 29), hw = bits(w, 22, 21), imm16 = bits(w, 20, 5);
      if (opc === 3) return `movk ${reg(rd, sf)}, ${hex(imm16)}${hw ? `, lsl #${hw * 16}` : ''}`;
      const v = BigInt(imm16) << BigInt(hw * 16);
      if (opc === 2) {
        if (imm16 === 0 && hw !== 0) return `movz ${reg(rd, sf)}, #0, lsl #${hw * 16}`;
        return `mov ${reg(rd, sf)}, ${hex(sf ? BigInt.asIntN(64, v) : BigInt.asIntN(32, v))}`;
      }
      if ((imm16 === 0 && hw !== 0) || (!sf && imm16 === 0xffff)) return `movn ${reg(rd, sf)}, ${hex(imm16)}${hw ? `, lsl #${hw * 16}` : ''}`;
      return `mov ${reg(rd, sf)}, ${hex(sf ? BigInt.asIntN(64, ~v) : BigInt.asIntN(32, ~v))}`;
    }
    case 0b110:
      return renderBitfield(w, sf, rd, rn);
    default: {
      const rm = bits(w, 20, 16), lsb = bits(w, 15, 10);
      if (rn === rm) return `ror ${reg(rd, sf)}, ${reg(rn, sf)}, ${hex(lsb)}`;
      return `extr ${reg(rd, sf)}, ${reg(rn, sf)}, ${reg(rm, sf)}, ${hex(lsb)}`;
    }
  }
}

function renderBitfield(w: number, sf: boolean, rd: number, rn: number): string {
  const opc = bits(w, 30, 29), immr = bits(w, 21, 16), imms = bits(w, 15, 10);
  const size = sf ? 64 : 32;
  const d = reg(rd, sf), n = reg(rn, sf);
  if (opc === 1) {
    if (imms < immr) {
      if (rn === 31) return `bfc ${d}, ${hex((size - immr) % size)}, ${hex(imms + 1)}`;
      return `bfi ${d}, ${n}, ${hex((size - immr) % size)}, ${hex(imms + 1)}`;
    }
    return `bfxil ${d}, ${n}, ${hex(immr)}, ${hex(imms - immr + 1)}`;
  }
  const u = opc === 2;
  if (imms === size - 1) return `${u ? 'lsr' : 'asr'} ${d}, ${n}, ${hex(immr)}`;
  if (immr === 0 && !(u && sf)) {
    const w32 = reg(rn, false);
    if (imms === 7) return `${u ? 'uxtb' : 'sxtb'} ${u ? reg(rd, false) : d}, ${w32}`;
    if (imms === 15) return `${u ? 'uxth' : 'sxth'} ${u ? reg(rd, false) : d}, ${w32}`;
    if (imms === 31 && !u) return `sxtw ${d}, ${w32}`;
  }
  if (u && imms + 1 === immr) return `lsl ${d}, ${n}, ${hex(size - 1 - imms)}`;
  if (imms < immr) return `${u ? 'ubfiz' : 'sbfiz'} ${d}, ${n}, ${hex((size - immr) % size)}, ${hex(imms + 1)}`;
  return `${u ? 'ubfx' : 'sbfx'} ${d}, ${n}, ${hex(immr)}, ${hex(imms - immr + 1)}`;
}

const HINTS: Record<number, string> = {
  0: 'nop', 1: 'yield', 2: 'wfe', 3: 'wfi', 4: 'sev', 5: 'sevl', 7: 'xpaclri', 8: 'pacia1716', 10: 'pacib1716',
  12: 'autia1716', 14: 'autib1716', 16: 'esb', 17: 'psb csync', 18: 'tsb csync', 20: 'csdb', 24: 'paciaz', 25: 'paciasp',
  26: 'pacibz', 27: 'pacibsp', 28: 'autiaz', 29: 'autiasp', 30: 'autibz', 31: 'autibsp',
};
const BARRIER_OPTS = ['#0x0', 'oshld', 'oshst', 'osh', '#0x4', 'nshld', 'nshst', 'nsh', '#0x8', 'ishld', 'ishst', 'ish', '#0xc', 'ld', 'st', 'sy'];

function renderBranchSys(w: number, pc: number): string {
  if (((w & 0x7c000000) >>> 0) === 0x14000000) return `${w >>> 31 ? 'bl' : 'b'} ${target(pc, sext(bits(w, 25, 0), 26) * 4)}`;
  if (((w & 0x7e000000) >>> 0) === 0x34000000) {
    return `${(w >>> 24) & 1 ? 'cbnz' : 'cbz'} ${reg(bits(w, 4, 0), w >>> 31 === 1)}, ${target(pc, sext(bits(w, 23, 5), 19) * 4)}`;
  }
  if (((w & 0x7e000000) >>> 0) === 0x36000000) {
    const bit = ((w >>> 31) << 5) | bits(w, 23, 19);
    return `${(w >>> 24) & 1 ? 'tbnz' : 'tbz'} ${reg(bits(w, 4, 0), bit >= 32)}, ${hex(bit)}, ${target(pc, sext(bits(w, 18, 5), 14) * 4)}`;
  }
  if (((w & 0xff000010) >>> 0) === 0x54000000) return `b.${CONDS[w & 0xf]} ${target(pc, sext(bits(w, 23, 5), 19) * 4)}`;
  if (((w & 0xffe0001f) >>> 0) === 0xd4200000) return `brk ${hex(bits(w, 20, 5))}`;
  if (((w & 0xfffff01f) >>> 0) === 0xd503201f) {
    const h = bits(w, 11, 5);
    return HINTS[h] ?? `hint ${hex(h)}`;
  }
  if (((w & 0xfffff01f) >>> 0) === 0xd503301f) {
    const crm = bits(w, 11, 8), op2 = bits(w, 7, 5);
    if (op2 === 2) return crm === 15 ? 'clrex' : `clrex ${hex(crm)}`;
    if (op2 === 6) return crm === 15 ? 'isb' : `isb ${hex(crm)}`;
    return `${op2 === 4 ? 'dsb' : 'dmb'} ${BARRIER_OPTS[crm]}`;
  }
  if (((w & 0xfff80000) >>> 0) === 0xd5080000) {
    const sys = w & 0x7ffe0;
    const rt = reg(bits(w, 4, 0), true);
    if (sys === 0x37520) return `ic ivau, ${rt}`;
    if (sys === 0x37b20) return `dc cvau, ${rt}`;
    if (sys === 0x37a20) return `dc cvac, ${rt}`;
    return `dc civac, ${rt}`;
  }
  const br = (w & 0xfffffc1f) >>> 0, rn = bits(w, 9, 5);
  if (br === 0xd65f0000) return rn === 30 ? 'ret' : `ret ${reg(rn, true)}`;
  return `${br === 0xd61f0000 ? 'br' : 'blr'} ${reg(rn, true)}`;
}

const PRFOPS = ['pldl1keep', 'pldl1strm', 'pldl2keep', 'pldl2strm', 'pldl3keep', 'pldl3strm', '#6', '#7', 'plil1keep', 'plil1strm',
  'plil2keep', 'plil2strm', 'plil3keep', 'plil3strm', '#14', '#15', 'pstl1keep', 'pstl1strm', 'pstl2keep', 'pstl2strm', 'pstl3keep',
  'pstl3strm'];
function prfop(rt: number): string {
  return PRFOPS[rt] ?? `#${rt}`;
}

function renderLoadStore(w: number, pc: number): string {
  const size = w >>> 30, rt = bits(w, 4, 0), rn = bits(w, 9, 5);
  const base = reg(rn, true, true);
  if (((w & 0x3f000000) >>> 0) === 0x08000000) return renderExclusive(w);
  if (((w & 0x3b000000) >>> 0) === 0x18000000) {
    const t = target(pc, sext(bits(w, 23, 5), 19) * 4);
    if (size === 3) return `prfm ${prfop(rt)}, ${t}`;
    return `${size === 2 ? 'ldrsw' : 'ldr'} ${reg(rt, size !== 0)}, ${t}`;
  }
  if (((w & 0x3a000000) >>> 0) === 0x28000000) {
    const mode = bits(w, 24, 23), l = bits(w, 22, 22);
    const x = size === 2 || size === 1;
    const sc = size === 2 ? 3 : 2;
    const off = sext(bits(w, 21, 15), 7) << sc;
    const mn = (mode === 0 ? (l ? 'ldnp' : 'stnp') : size === 1 ? 'ldpsw' : l ? 'ldp' : 'stp');
    const regs = `${reg(rt, x)}, ${reg(bits(w, 14, 10), x)}`;
    if (mode === 1) return `${mn} ${regs}, [${base}], ${hex(off)}`;
    if (mode === 3) return `${mn} ${regs}, [${base}, ${hex(off)}]!`;
    return `${mn} ${regs}, [${base}${off ? `, ${hex(off)}` : ''}]`;
  }
  const opc = bits(w, 23, 22);
  const prfm = size === 3 && opc === 2;
  const x = opc === 2 || size === 3;
  const suffix = size === 0 ? 'b' : size === 1 ? 'h' : '';
  const signed = opc >= 2 && !prfm;
  const name = (kind: 'r' | 'ur'): string => {
    if (prfm) return kind === 'r' ? 'prfm' : 'prfum';
    const core = opc === 0 ? 'st' : 'ld';
    return `${core}${kind}${signed ? 's' : ''}${size === 2 && signed ? 'w' : suffix}`;
  };
  const t = prfm ? prfop(rt) : reg(rt, x);
  if (bits(w, 24, 24)) {
    const off = bits(w, 21, 10) << size;
    return `${name('r')} ${t}, [${base}${off ? `, ${hex(off)}` : ''}]`;
  }
  const form = bits(w, 11, 10);
  if (bits(w, 21, 21) === 0) {
    const imm = sext(bits(w, 20, 12), 9);
    if (form === 0) return `${name('ur')} ${t}, [${base}${imm ? `, ${hex(imm)}` : ''}]`;
    if (form === 1) return `${name('r')} ${t}, [${base}], ${hex(imm)}`;
    return `${name('r')} ${t}, [${base}, ${hex(imm)}]!`;
  }
  if (form === 2) {
    const option = bits(w, 15, 13), s = bits(w, 12, 12);
    const m = reg(bits(w, 20, 16), (option & 1) === 1);
    const ext = option === 3 ? 'lsl' : EXTENDS[option];
    const amount = s ? ` #${size}` : '';
    const tail = option === 3 && !s ? '' : `, ${ext}${amount}`;
    return `${name('r')} ${t}, [${base}, ${m}${tail}]`;
  }
  // LSE atomics
  const o3 = bits(w, 15, 15), aop = bits(w, 14, 12), a = bits(w, 23, 23), r = bits(w, 22, 22);
  const x64 = size === 3;
  const rs = reg(bits(w, 20, 16), x64);
  const ord = (a ? 'a' : '') + (r ? 'l' : '');
  const sz = size === 0 ? 'b' : size === 1 ? 'h' : '';
  if (o3) return `swp${ord}${sz} ${rs}, ${reg(rt, x64)}, [${base}]`;
  const opn = ['add', 'clr', 'eor', 'set', 'smax', 'smin', 'umax', 'umin'][aop];
  if (rt === 31 && !a) return `st${opn}${r ? 'l' : ''}${sz} ${rs}, [${base}]`;
  return `ld${opn}${ord}${sz} ${rs}, ${reg(rt, x64)}, [${base}]`;
}

function renderExclusive(w: number): string {
  const size = w >>> 30, o2 = bits(w, 23, 23), l = bits(w, 22, 22), o1 = bits(w, 21, 21), o0 = bits(w, 15, 15);
  const rs = bits(w, 20, 16), rt = bits(w, 4, 0), rn = bits(w, 9, 5);
  const x = size === 3;
  const sz = size === 0 ? 'b' : size === 1 ? 'h' : '';
  const base = `[${reg(rn, true, true)}]`;
  if (o1) return `cas${l ? 'a' : ''}${o0 ? 'l' : ''}${sz} ${reg(rs, x)}, ${reg(rt, x)}, ${base}`;
  if (o2) return `${l ? 'ldar' : 'stlr'}${sz} ${reg(rt, x)}, ${base}`;
  if (l) return `${o0 ? 'ldaxr' : 'ldxr'}${sz} ${reg(rt, x)}, ${base}`;
  return `${o0 ? 'stlxr' : 'stxr'}${sz} ${reg(rs, false)}, ${reg(rt, x)}, ${base}`;
}

function renderDpReg(w: number): string {
  const sf = (w >>> 31) === 1;
  const rd = bits(w, 4, 0), rn = bits(w, 9, 5), rm = bits(w, 20, 16), imm6 = bits(w, 15, 10);
  const d = reg(rd, sf), n = reg(rn, sf), m = reg(rm, sf);
  if (bits(w, 28, 28) === 0) {
    const shift = bits(w, 23, 22);
    const sh = imm6 || shift ? `, ${SHIFTS[shift]} ${hex(imm6)}` : '';
    if (bits(w, 24, 24) === 0) {
      const opc = bits(w, 30, 29), inv = bits(w, 21, 21);
      if (opc === 1 && rn === 31 && !inv && imm6 === 0 && shift === 0) return `mov ${d}, ${m}`;
      if (opc === 1 && rn === 31 && inv) return `mvn ${d}, ${m}${sh}`;
      if (opc === 3 && rd === 31 && !inv) return `tst ${n}, ${m}${sh}`;
      const mn = inv ? ['bic', 'orn', 'eon', 'bics'][opc] : ['and', 'orr', 'eor', 'ands'][opc];
      return `${mn} ${d}, ${n}, ${m}${sh}`;
    }
    const sub = bits(w, 30, 30), s = bits(w, 29, 29);
    if (bits(w, 21, 21) === 0) {
      if (s && rd === 31) return `${sub ? 'cmp' : 'cmn'} ${n}, ${m}${sh}`;
      if (sub && rn === 31) return `neg${s ? 's' : ''} ${d}, ${m}${sh}`;
      return `${sub ? 'sub' : 'add'}${s ? 's' : ''} ${d}, ${n}, ${m}${sh}`;
    }
    const option = bits(w, 15, 13), imm3 = bits(w, 12, 10);
    const rmx = sf && (option & 3) === 3;
    const em = reg(rm, rmx);
    const useLsl = (rd === 31 && !s) || rn === 31 ? option === (sf ? 3 : 2) : false;
    const ext = useLsl ? (imm3 ? `, lsl #${imm3}` : '') : `, ${EXTENDS[option]}${imm3 ? ` #${imm3}` : ''}`;
    const nn = reg(rn, sf, true);
    if (s && rd === 31) return `${sub ? 'cmp' : 'cmn'} ${nn}, ${em}${ext}`;
    return `${sub ? 'sub' : 'add'}${s ? 's' : ''} ${reg(rd, sf, !s)}, ${nn}, ${em}${ext}`;
  }
  const op2 = bits(w, 24, 21);
  if (op2 === 0) {
    const sub = bits(w, 30, 30), s = bits(w, 29, 29);
    if (sub && rn === 31) return `ngc${s ? 's' : ''} ${d}, ${m}`;
    return `${sub ? 'sbc' : 'adc'}${s ? 's' : ''} ${d}, ${n}, ${m}`;
  }
  if (op2 === 2) {
    const mn = bits(w, 30, 30) ? 'ccmp' : 'ccmn';
    const second = bits(w, 11, 11) ? hex(rm) : m;
    return `${mn} ${n}, ${second}, ${hex(w & 0xf)}, ${CONDS[bits(w, 15, 12)]}`;
  }
  if (op2 === 4) {
    const cond = bits(w, 15, 12), v = (bits(w, 30, 30) << 1) | bits(w, 11, 10);
    const inv = CONDS[cond ^ 1];
    if (cond < 14 && rm === rn) {
      if (v === 1 && rn === 31) return `cset ${d}, ${inv}`;
      if (v === 2 && rn === 31) return `csetm ${d}, ${inv}`;
      if (v === 1) return `cinc ${d}, ${n}, ${inv}`;
      if (v === 2) return `cinv ${d}, ${n}, ${inv}`;
      if (v === 3) return `cneg ${d}, ${n}, ${inv}`;
    }
    return `${['csel', 'csinc', 'csinv', 'csneg'][v]} ${d}, ${n}, ${m}, ${CONDS[cond]}`;
  }
  if (op2 === 6) {
    if (bits(w, 30, 30) === 0) {
      const mn = imm6 === 2 ? 'udiv' : imm6 === 3 ? 'sdiv' : SHIFTS[imm6 - 8];
      return `${mn} ${d}, ${n}, ${m}`;
    }
    const mn = ['rbit', 'rev16', sf ? 'rev32' : 'rev', 'rev', 'clz', 'cls'][imm6];
    return `${mn} ${d}, ${n}`;
  }
  const op31 = bits(w, 23, 21), o0 = bits(w, 15, 15), ra = bits(w, 14, 10);
  if (op31 === 0) {
    if (ra === 31) return `${o0 ? 'mneg' : 'mul'} ${d}, ${n}, ${m}`;
    return `${o0 ? 'msub' : 'madd'} ${d}, ${n}, ${m}, ${reg(ra, sf)}`;
  }
  if (op31 === 2 || op31 === 6) return `${op31 === 2 ? 'smulh' : 'umulh'} ${d}, ${n}, ${m}`;
  const u = op31 === 5 ? 'u' : 's';
  const wn = reg(rn, false), wm = reg(rm, false);
  if (ra === 31) return `${u}${o0 ? 'mnegl' : 'mull'} ${d}, ${wn}, ${wm}`;
  return `${u}${o0 ? 'msubl' : 'maddl'} ${d}, ${wn}, ${wm}, ${reg(ra, true)}`;
}
