// Random-operand generators per arm64 form (fast-check), shared by the Capstone round-trip test
// and the live llvm-mc oracle test: each yields the builder call and the assembly text expected.
import fc from 'fast-check';
import type { BuilderCall } from './arm64-support.js';
import type { CodeBuffer } from '../../codegen/buffer.js';
import * as a64 from '../../codegen/arm64/index.js';

export type Case = { call: BuilderCall; asm: string };

const rn = (n: number, is64: boolean, r31: 'zr' | 'sp'): string =>
  n === 31 ? (r31 === 'sp' ? (is64 ? 'sp' : 'wsp') : is64 ? 'xzr' : 'wzr') : `${is64 ? 'x' : 'w'}${n}`;
const regNum = fc.integer({ min: 0, max: 31 });
const gpNum = fc.integer({ min: 0, max: 30 });
const conds = ['eq', 'ne', 'hs', 'lo', 'mi', 'pl', 'vs', 'vc', 'hi', 'ls', 'ge', 'lt', 'gt', 'le', 'al', 'nv'];
const cond14 = fc.constantFrom(...conds.slice(0, 14));

function bitmaskValue(e: number, ones: number, rot: number, regBits: number): bigint {
  let elt = (1n << BigInt(ones)) - 1n;
  const m = (1n << BigInt(e)) - 1n;
  elt = rot === 0 ? elt : ((elt >> BigInt(rot)) | (elt << BigInt(e - rot))) & m;
  let v = 0n;
  for (let i = 0; i < regBits; i += e) v |= elt << BigInt(i);
  return v;
}

export const families: Record<string, fc.Arbitrary<Case>> = {
  addSubImm: fc.tuple(fc.constantFrom('add', 'sub', 'adds', 'subs'), fc.boolean(), regNum, regNum, fc.integer({ min: 0, max: 4095 }), fc.constantFrom(0, 12)).map(([op, is64, d, n, imm, sh]) => {
    const rd = rn(d, is64, op.endsWith('s') ? 'zr' : 'sp'), rs = rn(n, is64, 'sp');
    return { call: ['encAddSubImm', op, rd, rs, imm, sh], asm: `${op} ${rd}, ${rs}, #${imm}${sh ? ', lsl #12' : ''}` };
  }),
  addSubReg: fc.tuple(fc.constantFrom('add', 'sub', 'adds', 'subs'), fc.boolean(), regNum, regNum, regNum, fc.constantFrom('lsl', 'lsr', 'asr'), fc.integer({ min: 0, max: 63 })).map(([op, is64, d, n, m, sh, amt]) => {
    const a = is64 ? amt : amt & 31;
    const [rd, r1, r2] = [rn(d, is64, 'zr'), rn(n, is64, 'zr'), rn(m, is64, 'zr')];
    return { call: ['encAddSubReg', op, rd, r1, r2, sh, a], asm: `${op} ${rd}, ${r1}, ${r2}, ${sh} #${a}` };
  }),
  addSubExt: fc.tuple(fc.constantFrom('add', 'sub', 'adds', 'subs'), regNum, regNum, regNum, fc.constantFrom('uxtb', 'uxth', 'uxtw', 'uxtx', 'sxtb', 'sxth', 'sxtw', 'sxtx'), fc.integer({ min: 0, max: 4 })).map(([op, d, n, m, ext, amt]) => {
    const rd = rn(d, true, op.endsWith('s') ? 'zr' : 'sp'), r1 = rn(n, true, 'sp'), r2 = rn(m, ext.endsWith('x'), 'zr');
    return { call: ['encAddSubExt', op, rd, r1, r2, ext, amt], asm: `${op} ${rd}, ${r1}, ${r2}, ${ext} #${amt}` };
  }),
  logicalImm: fc.tuple(fc.constantFrom('and', 'orr', 'eor', 'ands'), fc.boolean(), regNum, regNum, fc.integer({ min: 1, max: 6 }), fc.nat(), fc.nat()).map(([op, is64, d, n, lg, a, b]) => {
    const e = Math.min(2 ** lg, is64 ? 64 : 32);
    const v = bitmaskValue(e, 1 + (a % (e - 1)), b % e, is64 ? 64 : 32);
    const rd = rn(d, is64, op === 'ands' ? 'zr' : 'sp'), r1 = rn(n, is64, 'zr');
    return { call: ['encLogicalImm', op, rd, r1, Number(v & 0xffffffffn), Number(v >> 32n)], asm: `${op} ${rd}, ${r1}, #0x${v.toString(16)}` };
  }),
  logicalReg: fc.tuple(fc.constantFrom('and', 'bic', 'orr', 'orn', 'eor', 'eon', 'ands', 'bics'), fc.boolean(), regNum, regNum, regNum, fc.constantFrom('lsl', 'lsr', 'asr', 'ror'), fc.integer({ min: 0, max: 63 })).map(([op, is64, d, n, m, sh, amt]) => {
    const a = is64 ? amt : amt & 31;
    const [rd, r1, r2] = [rn(d, is64, 'zr'), rn(n, is64, 'zr'), rn(m, is64, 'zr')];
    return { call: ['encLogicalReg', op, rd, r1, r2, sh, a], asm: `${op} ${rd}, ${r1}, ${r2}, ${sh} #${a}` };
  }),
  moveWide: fc.tuple(fc.constantFrom('movz', 'movn', 'movk'), fc.boolean(), regNum, fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 3 })).map(([op, is64, d, imm, hw]) => {
    const sh = (is64 ? hw : hw & 1) * 16;
    const rd = rn(d, is64, 'zr');
    return { call: ['encMoveWide', op, rd, imm, sh], asm: `${op} ${rd}, #${imm}, lsl #${sh}` };
  }),
  bitfield: fc.tuple(fc.constantFrom('ubfm', 'sbfm', 'bfm'), fc.boolean(), regNum, regNum, fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 63 })).map(([op, is64, d, n, r, s]) => {
    const [a, b] = is64 ? [r, s] : [r & 31, s & 31];
    const [rd, r1] = [rn(d, is64, 'zr'), rn(n, is64, 'zr')];
    return { call: ['encBitfield', op, rd, r1, a, b], asm: `${op} ${rd}, ${r1}, #${a}, #${b}` };
  }),
  bitfieldAlias: fc.tuple(fc.constantFrom('ubfx', 'sbfx', 'bfi', 'bfxil', 'ubfiz', 'sbfiz'), fc.boolean(), regNum, regNum, fc.nat(), fc.nat()).map(([f, is64, d, n, a, b]) => {
    const size = is64 ? 64 : 32;
    const lsb = a % size, w = 1 + (b % (size - lsb));
    const [rd, r1] = [rn(d, is64, 'zr'), rn(n, is64, 'zr')];
    return { call: [`enc${(f[0] as string).toUpperCase()}${f.slice(1)}`, rd, r1, lsb, w], asm: `${f} ${rd}, ${r1}, #${lsb}, #${w}` };
  }),
  shiftImm: fc.tuple(fc.constantFrom('Lsl', 'Lsr', 'Asr', 'Ror'), fc.boolean(), regNum, regNum, fc.integer({ min: 0, max: 63 })).map(([f, is64, d, n, sh]) => {
    const a = is64 ? sh : sh & 31;
    const [rd, r1] = [rn(d, is64, 'zr'), rn(n, is64, 'zr')];
    return { call: [`enc${f}Imm`, rd, r1, a], asm: `${f.toLowerCase()} ${rd}, ${r1}, #${a}` };
  }),
  extr: fc.tuple(fc.boolean(), regNum, regNum, regNum, fc.integer({ min: 0, max: 63 })).map(([is64, d, n, m, l]) => {
    const lsb = is64 ? l : l & 31;
    const [rd, r1, r2] = [rn(d, is64, 'zr'), rn(n, is64, 'zr'), rn(m, is64, 'zr')];
    return { call: ['encExtr', rd, r1, r2, lsb], asm: `extr ${rd}, ${r1}, ${r2}, #${lsb}` };
  }),
  dp: fc.tuple(fc.constantFrom('udiv', 'sdiv', 'lslv', 'lsrv', 'asrv', 'rorv', 'madd', 'msub', 'rev', 'rev16', 'rbit', 'clz'), fc.boolean(), regNum, regNum, regNum, regNum).map(([op, is64, d, n, m, a]) => {
    const [rd, r1, r2, r3] = [rn(d, is64, 'zr'), rn(n, is64, 'zr'), rn(m, is64, 'zr'), rn(a, is64, 'zr')];
    if (op === 'madd' || op === 'msub') return { call: ['encDp3', op, rd, r1, r2, r3], asm: `${op} ${rd}, ${r1}, ${r2}, ${r3}` };
    if (['rev', 'rev16', 'rbit', 'clz'].includes(op)) return { call: ['encDp1', op, rd, r1], asm: `${op} ${rd}, ${r1}` };
    return { call: ['encDp2', op, rd, r1, r2], asm: `${op} ${rd}, ${r1}, ${r2}` };
  }),
  mulh: fc.tuple(fc.constantFrom('umulh', 'smulh', 'umull', 'smull'), regNum, regNum, regNum).map(([op, d, n, m]) => {
    const wide = op.endsWith('l');
    const [rd, r1, r2] = [rn(d, true, 'zr'), rn(n, !wide, 'zr'), rn(m, !wide, 'zr')];
    return { call: [`enc${(op[0] as string).toUpperCase()}${op.slice(1)}`, rd, r1, r2], asm: `${op} ${rd}, ${r1}, ${r2}` };
  }),
  csel: fc.tuple(fc.constantFrom('csel', 'csinc', 'csinv', 'csneg'), fc.boolean(), regNum, regNum, regNum, fc.constantFrom(...conds)).map(([op, is64, d, n, m, c]) => {
    const [rd, r1, r2] = [rn(d, is64, 'zr'), rn(n, is64, 'zr'), rn(m, is64, 'zr')];
    return { call: ['encCondSel', op, rd, r1, r2, c], asm: `${op} ${rd}, ${r1}, ${r2}, ${c}` };
  }),
  cset: fc.tuple(fc.boolean(), regNum, cond14).map(([is64, d, c]) => {
    const rd = rn(d, is64, 'zr');
    return { call: ['encCset', rd, c], asm: `cset ${rd}, ${c}` };
  }),
  ldstImm: fc.tuple(fc.constantFrom('strb', 'ldrb', 'ldrsb', 'strh', 'ldrh', 'ldrsh', 'str', 'ldr', 'ldrsw'), fc.boolean(), regNum, regNum, fc.integer({ min: 0, max: 4095 }), fc.constantFrom('uimm', 'unscaled', 'pre', 'post'), fc.integer({ min: -256, max: 255 })).map(([op, x, t, n, u, mode, s9]) => {
    const is64 = op === 'ldrsw' ? true : op === 'ldr' || op === 'str' || op === 'ldrsb' || op === 'ldrsh' ? x : false;
    const scale = op.endsWith('b') ? 1 : op.endsWith('h') ? 2 : op === 'ldrsw' ? 4 : is64 ? 8 : 4;
    const rt = rn(t, is64, 'zr'), base = rn(n, true, 'sp');
    const un: Record<string, string> = { strb: 'sturb', ldrb: 'ldurb', ldrsb: 'ldursb', strh: 'sturh', ldrh: 'ldurh', ldrsh: 'ldursh', str: 'stur', ldr: 'ldur', ldrsw: 'ldursw' };
    if (mode === 'uimm') return { call: ['encLdSt', op, rt, base, u * scale], asm: `${op} ${rt}, [${base}, #${u * scale}]` };
    if (mode === 'unscaled') return { call: ['encLdStUnscaled', op, rt, base, s9], asm: `${un[op] as string} ${rt}, [${base}, #${s9}]` };
    const safeRt = t === n && t !== 31 ? rn((t + 1) % 31, is64, 'zr') : rt;
    return mode === 'pre'
      ? { call: ['encLdStIndexed', op, safeRt, base, s9, 'pre'], asm: `${op} ${safeRt}, [${base}, #${s9}]!` }
      : { call: ['encLdStIndexed', op, safeRt, base, s9, 'post'], asm: `${op} ${safeRt}, [${base}], #${s9}` };
  }),
  ldstReg: fc.tuple(fc.constantFrom('strb', 'ldrb', 'strh', 'ldrh', 'ldrsh', 'str', 'ldr', 'ldrsw'), regNum, regNum, regNum, fc.constantFrom('lsl', 'uxtw', 'sxtw', 'sxtx'), fc.boolean()).map(([op, t, n, m, ext, shifted]) => {
    const is64 = op === 'ldrsw' || op === 'ldr';
    const scale = op.endsWith('b') ? 0 : op.endsWith('h') ? 1 : op === 'ldrsw' || !is64 ? 2 : 3;
    const rt = rn(t, is64, 'zr'), base = rn(n, true, 'sp'), rm = rn(m, ext === 'lsl' || ext === 'sxtx', 'zr');
    const suffix = ext === 'lsl' ? (shifted ? `, lsl #${scale}` : '') : shifted ? `, ${ext} #${scale}` : `, ${ext}`;
    return { call: ['encLdStReg', op, rt, base, rm, ext, shifted], asm: `${op} ${rt}, [${base}, ${rm}${suffix}]` };
  }),
  pair: fc.tuple(fc.boolean(), fc.boolean(), gpNum, gpNum, regNum, fc.integer({ min: -64, max: 63 }), fc.constantFrom('offset', 'pre', 'post')).map(([load, is64, t, t2, n, k, mode]) => {
    const scale = is64 ? 8 : 4;
    let a = t, b = t2 === t ? (t + 1) % 31 : t2;
    if (mode !== 'offset' && (a === n || b === n)) { a = (n + 1) % 31; b = (n + 2) % 31; }
    const [r1, r2, base] = [rn(a, is64, 'zr'), rn(b, is64, 'zr'), rn(n, true, 'sp')];
    const op = load ? 'ldp' : 'stp';
    const off = k * scale;
    const mem = mode === 'offset' ? `[${base}, #${off}]` : mode === 'pre' ? `[${base}, #${off}]!` : `[${base}], #${off}`;
    return { call: ['encLdStPair', load, r1, r2, base, off, mode], asm: `${op} ${r1}, ${r2}, ${mem}` };
  }),
  atomic: fc.tuple(fc.constantFrom('ldadd', 'ldclr', 'ldeor', 'ldset', 'swp', 'cas'), fc.constantFrom('', 'a', 'l', 'al'), fc.boolean(), regNum, regNum, regNum).map(([op, ord, is64, s, t, n]) => {
    const [rs, rt, base] = [rn(s, is64, 'zr'), rn(t, is64, 'zr'), rn(n, true, 'sp')];
    if (op === 'cas') return { call: ['encCas', ord, rs, rt, base], asm: `cas${ord} ${rs}, ${rt}, [${base}]` };
    return { call: ['encAtomic', op, ord, rs, rt, base], asm: `${op}${ord} ${rs}, ${rt}, [${base}]` };
  }),
  exclusive: fc.tuple(fc.constantFrom('ldxr', 'ldaxr', 'ldar', 'stlr', 'stxr', 'stlxr'), fc.boolean(), gpNum, gpNum, regNum).map(([op, is64, s, t, n]) => {
    const base = rn(n, true, 'sp');
    if (op === 'stxr' || op === 'stlxr') {
      let st = s;
      while (st === t || st === n) st = (st + 1) % 31;
      const ws = rn(st, false, 'zr'), rt = rn(t, is64, 'zr');
      return { call: ['encExclusive', op, rt, base, ws], asm: `${op} ${ws}, ${rt}, [${base}]` };
    }
    const rt = rn(t, is64, 'zr');
    return { call: ['encExclusive', op, rt, base], asm: `${op} ${rt}, [${base}]` };
  }),
  branch: fc.tuple(fc.constantFrom('b', 'bl', 'bcond', 'cbz', 'cbnz', 'tbz', 'tbnz', 'adr', 'adrp'), fc.integer({ min: -(2 ** 25), max: 2 ** 25 - 1 }), regNum, fc.integer({ min: 0, max: 63 }), fc.constantFrom(...conds)).map(([op, k, r, bit, c]) => {
    if (op === 'b' || op === 'bl') return { call: [op === 'b' ? 'encB' : 'encBl', k * 4], asm: `${op} #${k * 4}` };
    const k19 = k >> 7, k14 = k >> 12;
    if (op === 'bcond') return { call: ['encBCond', c, k19 * 4], asm: `b.${c} #${k19 * 4}` };
    const is64 = bit >= 32 || (bit & 1) === 1;
    const rt = rn(r, is64, 'zr');
    if (op === 'cbz' || op === 'cbnz') return { call: ['encCbz', rt, k19 * 4, op === 'cbnz'], asm: `${op} ${rt}, #${k19 * 4}` };
    if (op === 'tbz' || op === 'tbnz') {
      const b = is64 ? bit : bit & 31;
      return { call: ['encTbz', rt, b, k14 * 4, op === 'tbnz'], asm: `${op} ${rt}, #${b}, #${k14 * 4}` };
    }
    const rd = rn(r % 31, true, 'zr');
    if (op === 'adr') return { call: ['encAdr', rd, k >> 5], asm: `adr ${rd}, #${k >> 5}` };
    return { call: ['encAdrp', rd, k >> 5], asm: `adrp ${rd}, #${(k >> 5) * 4096}` };
  }),
  system: fc.tuple(fc.constantFrom('dmb', 'dsb', 'brk', 'bti', 'br', 'blr', 'ret', 'dc', 'ic', 'prfm'), fc.constantFrom('oshld', 'oshst', 'osh', 'nshld', 'nshst', 'nsh', 'ishld', 'ishst', 'ish', 'ld', 'st', 'sy'), fc.integer({ min: 0, max: 0xffff }), regNum, fc.integer({ min: 0, max: 4095 })).map(([op, opt, imm, r, u]) => {
    const x = rn(r, true, 'zr');
    switch (op) {
      case 'dmb': case 'dsb': return { call: [op === 'dmb' ? 'encDmb' : 'encDsb', opt], asm: `${op} ${opt}` };
      case 'brk': return { call: ['encBrk', imm], asm: `brk #${imm}` };
      case 'bti': { const t = ['', 'c', 'j', 'jc'][imm & 3] as string; return { call: ['encBti', t], asm: t ? `bti ${t}` : 'bti' }; }
      case 'br': return { call: ['encBr', x], asm: `br ${x}` };
      case 'blr': return { call: ['encBlr', x], asm: `blr ${x}` };
      case 'ret': return { call: ['encRet', x], asm: `ret ${x}` };
      case 'dc': return { call: ['encDcCvau', x], asm: `dc cvau, ${x}` };
      case 'ic': return { call: ['encIcIvau', x], asm: `ic ivau, ${x}` };
      default: {
        const p = ['pldl1keep', 'pldl2strm', 'pldl3keep', 'pstl1keep', 'pstl2keep', 'plil1strm'][imm % 6] as string;
        return { call: ['encPrfm', p, rn(r, true, 'sp'), u * 8], asm: `prfm ${p}, [${rn(r, true, 'sp')}, #${u * 8}]` };
      }
    }
  }),
};


const { X0, X1, X2, X3, X4, X5, X6, X7, W1, W2, W4, W8 } = a64;

/** The same programs as test/vectors/asm/arm64-programs.mjs, written with the buffer API. */
export const programBuilders: Record<string, (buf: CodeBuffer) => void> = {
  branches(buf) {
    const start = buf.newLabel('start'), fwd = buf.newLabel('fwd'), lit = buf.newLabel('lit');
    buf.bind(start);
    a64.emitB(buf, fwd);
    a64.emitBl(buf, fwd);
    a64.emitBCond(buf, 'ne', start);
    a64.emitCbz(buf, X1, fwd);
    a64.emitCbnz(buf, W2, start);
    a64.emitTbz(buf, X3, 40, fwd);
    a64.emitTbnz(buf, W4, 7, start);
    a64.emitAdr(buf, X5, fwd);
    a64.emitAdr(buf, X6, start);
    a64.emitLdrLiteral(buf, X7, lit);
    a64.emitLdrLiteral(buf, W8, lit);
    a64.emitBCond(buf, 'al', start);
    buf.bind(fwd);
    a64.emitRet(buf);
    a64.emitNop(buf);
    buf.bind(lit);
    buf.put64pair(0x55667788, 0x11223344);
  },
  'imm19-edge'(buf) {
    const start = buf.newLabel('start'), far = buf.newLabel('far');
    buf.bind(start);
    a64.emitBCond(buf, 'eq', far);
    a64.emitLdrLiteral(buf, X2, far);
    buf.putBytes(new Uint8Array(1048564));
    buf.bind(far);
    a64.emitNop(buf);
    a64.emitCbz(buf, X0, start);
  },
  'imm14-edge'(buf) {
    const start = buf.newLabel('start'), far = buf.newLabel('far');
    buf.bind(start);
    a64.emitTbz(buf, X0, 1, far);
    buf.putBytes(new Uint8Array(32760));
    buf.bind(far);
    a64.emitNop(buf);
    a64.emitTbnz(buf, a64.W1, 31, start);
  },
  'adr-edge'(buf) {
    const start = buf.newLabel('start'), far = buf.newLabel('far');
    buf.bind(start);
    a64.emitAdr(buf, X0, far);
    buf.putBytes(new Uint8Array(1048571));
    buf.bind(far);
    buf.put8(0);
    a64.emitAdr(buf, X1, start);
  },
};
