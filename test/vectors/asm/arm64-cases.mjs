// The committed list of arm64 golden-vector cases: each is a builder call (encoder name from
// codegen/arm64 + operands; register names become registers) and the assembly line that llvm-mc
// assembles to the reference bytes (scripts/oracles/asm-arm64.mjs writes arm64.json from this).
// Families are written as loops over boundary operands: imm12/imm9/imm7 edges, lsl #12, every
// register number incl. sp/wsp/xzr/wzr and x30, all conditions, largest/smallest branch offsets,
// bitmask immediates of every element size.

const X = (n) => (n === 31 ? 'xzr' : `x${n}`);
const W = (n) => (n === 31 ? 'wzr' : `w${n}`);
const hex = (v) => '0x' + v.toString(16);

export function arm64Cases() {
  const out = [];
  const add = (call, asm) => out.push({ call, asm });

  // Every register number in Rd/Rn/Rm positions of a 3-register form.
  for (let n = 0; n < 32; n++) {
    add(['encAddReg', X(n), X((n + 1) % 32), X((n + 2) % 32)], `add ${X(n)}, ${X((n + 1) % 32)}, ${X((n + 2) % 32)}`);
    add(['encSubReg', W(n), W((n + 5) % 32), W((n + 9) % 32)], `sub ${W(n)}, ${W((n + 5) % 32)}, ${W((n + 9) % 32)}`);
  }

  // Add/subtract immediate.
  for (const op of ['add', 'sub', 'adds', 'subs']) {
    for (const [sz, R, SPN] of [['x', X, 'sp'], ['w', W, 'wsp']]) {
      const rds = op.endsWith('s') ? [R(0), R(31), R(30)] : [R(0), SPN, R(30)];
      for (const rd of rds) for (const rn of [SPN, R(1), R(30)]) for (const imm of [0, 1, 4095]) for (const sh of [0, 12]) {
        if (rn === R(1) && rd === R(30) && imm === 1) continue;
        add(['encAddSubImm', op, rd, rn, imm, sh], `${op} ${rd}, ${rn}, #${imm}${sh ? ', lsl #12' : ''}`);
      }
      void sz;
    }
  }
  for (const [rn, imm, sh] of [['sp', 0, 0], ['x5', 4095, 12], ['x30', 1, 0]]) {
    add(['encCmpImm', rn, imm, sh], `cmp ${rn}, #${imm}${sh ? ', lsl #12' : ''}`);
    add(['encCmnImm', rn, imm, sh], `cmn ${rn}, #${imm}${sh ? ', lsl #12' : ''}`);
  }
  add(['encCmpImm', 'wsp', 7, 0], 'cmp wsp, #7');
  add(['encMovSp', 'sp', 'x3'], 'mov sp, x3');
  add(['encMovSp', 'x4', 'sp'], 'mov x4, sp');
  add(['encMovSp', 'wsp', 'w9'], 'mov wsp, w9');

  // Add/subtract shifted register.
  for (const op of ['add', 'sub', 'adds', 'subs']) {
    for (const [R, top] of [[X, 63], [W, 31]]) {
      for (const sh of ['lsl', 'lsr', 'asr']) for (const amt of [0, 1, top]) {
        add(['encAddSubReg', op, R(3), R(30), R(31), sh, amt], `${op} ${R(3)}, ${R(30)}, ${R(31)}, ${sh} #${amt}`);
      }
    }
  }
  add(['encCmpReg', 'x1', 'x2', 'lsl', 3], 'cmp x1, x2, lsl #3');
  add(['encCmnReg', 'w1', 'w2', 'asr', 31], 'cmn w1, w2, asr #31');
  add(['encNeg', 'x0', 'x1', 'lsl', 0], 'neg x0, x1');
  add(['encNeg', 'w7', 'w8', 'lsr', 4], 'neg w7, w8, lsr #4');

  // Add/subtract extended register.
  const exts = ['uxtb', 'uxth', 'uxtw', 'uxtx', 'sxtb', 'sxth', 'sxtw', 'sxtx'];
  for (const op of ['add', 'sub', 'adds', 'subs']) {
    const rd64 = op.endsWith('s') ? 'xzr' : 'sp';
    for (const ext of exts) for (const amt of [0, 4]) {
      const rm = ext.endsWith('x') ? 'x30' : 'w30';
      add(['encAddSubExt', op, rd64, 'sp', rm, ext, amt], `${op} ${rd64}, sp, ${rm}, ${ext}${amt ? ` #${amt}` : ''}`);
      add(['encAddSubExt', op, 'x2', 'x3', ext.endsWith('x') ? 'xzr' : 'wzr', ext, amt], `${op} x2, x3, ${ext.endsWith('x') ? 'xzr' : 'wzr'}, ${ext}${amt ? ` #${amt}` : ''}`);
    }
    for (const ext of ['uxtb', 'uxth', 'uxtw', 'sxtb', 'sxth', 'sxtw']) {
      add(['encAddSubExt', op, op.endsWith('s') ? 'w1' : 'wsp', 'wsp', 'w2', ext, 2], `${op} ${op.endsWith('s') ? 'w1' : 'wsp'}, wsp, w2, ${ext} #2`);
    }
  }

  // Logical immediate: every element size, run lengths and rotations at their edges.
  for (const [R, regBits] of [[X, 64], [W, 32]]) {
    for (let e = 2; e <= regBits; e *= 2) {
      for (const ones of new Set([1, e >> 1, e - 1])) for (const rot of new Set([0, 1, e - 1, e >> 1])) {
        let elt = (1n << BigInt(ones)) - 1n;
        const m = (1n << BigInt(e)) - 1n;
        elt = ((elt >> BigInt(rot)) | (elt << BigInt(e - rot))) & m;
        let v = 0n;
        for (let i = 0; i < regBits; i += e) v |= elt << BigInt(i);
        const lo = Number(v & 0xffffffffn), hi = Number(v >> 32n);
        const op = ['and', 'orr', 'eor', 'ands'][(e + ones + rot) % 4];
        const rd = op === 'ands' ? R(31) : (e === 8 ? (regBits === 64 ? 'sp' : 'wsp') : R(e % 31));
        add(['encLogicalImm', op, rd, R(30), lo, hi], `${op} ${rd}, ${R(30)}, #${hex(v)}`);
      }
    }
  }
  add(['encTstImm', 'x3', 0xff, 0], 'tst x3, #0xff');
  add(['encTstImm', 'w3', 0x80000000, 0], 'tst w3, #0x80000000');
  add(['encAndImm', 'x9', 'x9', 0xffffff, 0], 'and x9, x9, #0xffffff');
  add(['encAndImm', 'w9', 'w9', 0xffffff, 0], 'and w9, w9, #0xffffff');

  // Logical shifted register.
  for (const op of ['and', 'bic', 'orr', 'orn', 'eor', 'eon', 'ands', 'bics']) {
    for (const [R, top] of [[X, 63], [W, 31]]) for (const sh of ['lsl', 'lsr', 'asr', 'ror']) for (const amt of [0, top]) {
      add(['encLogicalReg', op, R(31), R(30), R(0), sh, amt], `${op} ${R(31)}, ${R(30)}, ${R(0)}, ${sh} #${amt}`);
    }
  }
  add(['encTstReg', 'x1', 'x2', 'lsl', 0], 'tst x1, x2');
  add(['encMovReg', 'x0', 'x30'], 'mov x0, x30');
  add(['encMovReg', 'w30', 'wzr'], 'mov w30, wzr');
  add(['encMovReg', 'x0', 'xzr'], 'mov x0, xzr');
  add(['encMvn', 'x5', 'x6', 'lsl', 0], 'mvn x5, x6');

  // Move wide.
  for (const op of ['movz', 'movn', 'movk']) {
    for (const sh of [0, 16, 32, 48]) for (const imm of [0, 1, 0x8000, 0xffff]) {
      if (op !== 'movk' && imm === 0 && sh !== 0) continue;
      add(['encMoveWide', op, 'x30', imm, sh], `${op} x30, #${hex(imm)}, lsl #${sh}`);
      if (sh <= 16) add(['encMoveWide', op, 'w1', imm, sh], `${op} w1, #${hex(imm)}, lsl #${sh}`);
    }
  }
  add(['encMovz', 'xzr', 0x1234, 16], 'movz xzr, #0x1234, lsl #16');

  // Bitfield and aliases.
  for (const [R, top] of [[X, 63], [W, 31]]) {
    for (const op of ['ubfm', 'sbfm', 'bfm']) for (const [r, s] of [[0, 0], [0, top], [top, 0], [top, top], [1, top - 1]]) {
      add(['encBitfield', op, R(0), R(30), r, s], `${op} ${R(0)}, ${R(30)}, #${r}, #${s}`);
    }
    for (const sh of [0, 1, top]) {
      add(['encLslImm', R(1), R(2), sh], `lsl ${R(1)}, ${R(2)}, #${sh}`);
      add(['encLsrImm', R(1), R(2), sh], `lsr ${R(1)}, ${R(2)}, #${sh}`);
      add(['encAsrImm', R(1), R(2), sh], `asr ${R(1)}, ${R(2)}, #${sh}`);
      add(['encRorImm', R(1), R(2), sh], `ror ${R(1)}, ${R(2)}, #${sh}`);
    }
    for (const [lsb, w] of [[0, 1], [0, top + 1], [top, 1], [13, 10], [1, top]]) {
      for (const f of ['ubfx', 'sbfx', 'bfi', 'bfxil', 'ubfiz', 'sbfiz']) {
        add([`enc${f[0].toUpperCase()}${f.slice(1)}`, R(3), R(4), lsb, w], `${f} ${R(3)}, ${R(4)}, #${lsb}, #${w}`);
      }
    }
    for (const lsb of [0, 1, top]) add(['encExtr', R(5), R(6), R(7), lsb], `extr ${R(5)}, ${R(6)}, ${R(7)}, #${lsb}`);
  }
  add(['encUxtb', 'w0', 'w30'], 'uxtb w0, w30');
  add(['encUxth', 'w30', 'wzr'], 'uxth w30, wzr');
  add(['encSxtb', 'x0', 'w1'], 'sxtb x0, w1');
  add(['encSxtb', 'w0', 'w1'], 'sxtb w0, w1');
  add(['encSxth', 'x2', 'w3'], 'sxth x2, w3');
  add(['encSxth', 'w2', 'w3'], 'sxth w2, w3');
  add(['encSxtw', 'x4', 'w30'], 'sxtw x4, w30');

  // Data processing 1/2/3 sources.
  for (const [R] of [[X], [W]]) {
    for (const op of ['udiv', 'sdiv', 'lslv', 'lsrv', 'asrv', 'rorv']) add(['encDp2', op, R(0), R(30), R(31)], `${op} ${R(0)}, ${R(30)}, ${R(31)}`);
    for (const op of ['rbit', 'rev16', 'rev', 'clz', 'cls']) add(['encDp1', op, R(1), R(30)], `${op} ${R(1)}, ${R(30)}`);
    add(['encMadd', R(0), R(1), R(2), R(3)], `madd ${R(0)}, ${R(1)}, ${R(2)}, ${R(3)}`);
    add(['encMsub', R(30), R(29), R(28), R(31)], `msub ${R(30)}, ${R(29)}, ${R(28)}, ${R(31)}`);
    add(['encMul', R(4), R(5), R(6)], `mul ${R(4)}, ${R(5)}, ${R(6)}`);
    add(['encMneg', R(4), R(5), R(6)], `mneg ${R(4)}, ${R(5)}, ${R(6)}`);
  }
  add(['encRev32', 'x3', 'x4'], 'rev32 x3, x4');
  add(['encUmulh', 'x0', 'x1', 'x30'], 'umulh x0, x1, x30');
  add(['encSmulh', 'x30', 'xzr', 'x2'], 'smulh x30, xzr, x2');
  add(['encUmull', 'x0', 'w1', 'w2'], 'umull x0, w1, w2');
  add(['encSmull', 'x0', 'w1', 'w2'], 'smull x0, w1, w2');
  add(['encDp3', 'umaddl', 'x0', 'w1', 'w2', 'x3'], 'umaddl x0, w1, w2, x3');
  add(['encDp3', 'smsubl', 'x0', 'w1', 'w2', 'x3'], 'smsubl x0, w1, w2, x3');

  // Conditional select: every condition.
  const conds = ['eq', 'ne', 'hs', 'lo', 'mi', 'pl', 'vs', 'vc', 'hi', 'ls', 'ge', 'lt', 'gt', 'le', 'al', 'nv'];
  conds.forEach((c, i) => {
    const op = ['csel', 'csinc', 'csinv', 'csneg'][i % 4];
    add(['encCondSel', op, X(i), X(30), X(31), c], `${op} ${X(i)}, ${X(30)}, ${X(31)}, ${c}`);
    add(['encCondSel', op, W(30 - i), W(i), W(1), c], `${op} ${W(30 - i)}, ${W(i)}, w1, ${c}`);
    if (i < 14) {
      add(['encCset', X(i), c], `cset ${X(i)}, ${c}`);
      add(['encCsetm', W(i), c], `csetm ${W(i)}, ${c}`);
      add(['encCinc', X(1), X(2), c], `cinc x1, x2, ${c}`);
      add(['encCneg', W(1), W(2), c], `cneg w1, w2, ${c}`);
    }
  });
  add(['encCsel', 'w0', 'w1', 'w2', 'cs'], 'csel w0, w1, w2, cs');
  add(['encCsinc', 'x0', 'x1', 'x2', 'cc'], 'csinc x0, x1, x2, cc');

  // Loads and stores.
  const rows = [
    ['strb', 'w', 1], ['ldrb', 'w', 1], ['ldrsb', 'w', 1], ['ldrsb', 'x', 1], ['strh', 'w', 2], ['ldrh', 'w', 2],
    ['ldrsh', 'w', 2], ['ldrsh', 'x', 2], ['str', 'w', 4], ['ldr', 'w', 4], ['str', 'x', 8], ['ldr', 'x', 8], ['ldrsw', 'x', 4],
  ];
  const unscaled = { strb: 'sturb', ldrb: 'ldurb', ldrsb: 'ldursb', strh: 'sturh', ldrh: 'ldurh', ldrsh: 'ldursh', str: 'stur', ldr: 'ldur', ldrsw: 'ldursw' };
  for (const [op, sz, scale] of rows) {
    const R = sz === 'x' ? X : W;
    for (const [rt, rn, off] of [[R(0), 'x1', 0], [R(30), 'sp', scale], [R(31), 'x30', 4095 * scale], [R(7), 'sp', 4094 * scale]]) {
      add(['encLdSt', op, rt, rn, off], `${op} ${rt}, [${rn}, #${off}]`);
    }
    for (const off of [-256, -1, 0, 255]) add(['encLdStUnscaled', op, R(2), 'sp', off], `${unscaled[op]} ${R(2)}, [sp, #${off}]`);
    for (const off of [-256, 255, 8]) {
      add(['encLdStIndexed', op, R(3), 'x4', off, 'pre'], `${op} ${R(3)}, [x4, #${off}]!`);
      add(['encLdStIndexed', op, R(3), 'sp', off, 'post'], `${op} ${R(3)}, [sp], #${off}`);
    }
    const amt = Math.log2(scale);
    add(['encLdStReg', op, R(5), 'x6', 'x7', 'lsl', false], `${op} ${R(5)}, [x6, x7]`);
    add(['encLdStReg', op, R(5), 'sp', 'x30', 'lsl', true], `${op} ${R(5)}, [sp, x30, lsl #${amt}]`);
    add(['encLdStReg', op, R(5), 'x6', 'w7', 'uxtw', false], `${op} ${R(5)}, [x6, w7, uxtw]`);
    add(['encLdStReg', op, R(5), 'x6', 'w7', 'sxtw', true], `${op} ${R(5)}, [x6, w7, sxtw #${amt}]`);
    add(['encLdStReg', op, R(5), 'x6', 'xzr', 'sxtx', false], `${op} ${R(5)}, [x6, xzr, sxtx]`);
  }
  for (const [p, off] of [['pldl1keep', 0], ['pldl1strm', 8], ['pldl3keep', 32760], ['pstl1keep', 16], ['pstl2strm', 8], ['plil1keep', 0]]) {
    add(['encPrfm', p, 'x0', off], `prfm ${p}, [x0, #${off}]`);
  }
  add(['encPrfmReg', 'pstl3strm', 'sp', 'x1', 'lsl', true], 'prfm pstl3strm, [sp, x1, lsl #3]');
  add(['encPrfmReg', 'pldl1keep', 'x2', 'w3', 'sxtw', false], 'prfm pldl1keep, [x2, w3, sxtw]');
  for (const off of [-1048576, -4, 0, 1048572]) {
    add(['encLdrLiteral', 'x0', off, false], `ldr x0, #${off}`);
    add(['encLdrLiteral', 'w30', off, false], `ldr w30, #${off}`);
  }
  add(['encLdrLiteral', 'x3', 8, true], 'ldrsw x3, #8');

  // Pairs.
  for (const [R, scale] of [[X, 8], [W, 4]]) {
    for (const load of [true, false]) {
      const op = load ? 'ldp' : 'stp';
      for (const off of [-64 * scale, 0, 63 * scale, scale]) {
        add(['encLdStPair', load, R(29), R(30), 'sp', off, 'offset'], `${op} ${R(29)}, ${R(30)}, [sp, #${off}]`);
        add(['encLdStPair', load, R(0), R(1), 'x2', off, 'pre'], `${op} ${R(0)}, ${R(1)}, [x2, #${off}]!`);
        add(['encLdStPair', load, R(0), R(1), 'sp', off, 'post'], `${op} ${R(0)}, ${R(1)}, [sp], #${off}`);
      }
    }
  }
  add(['encStp', 'xzr', 'xzr', 'x0', 16, 'offset'], 'stp xzr, xzr, [x0, #16]');

  // Exclusives and ordered.
  for (const R of [X, W]) {
    add(['encLdxr', R(0), 'x1'], `ldxr ${R(0)}, [x1]`);
    add(['encLdaxr', R(30), 'sp'], `ldaxr ${R(30)}, [sp]`);
    add(['encStxr', 'w2', R(3), 'x4'], `stxr w2, ${R(3)}, [x4]`);
    add(['encStlxr', 'w30', R(0), 'sp'], `stlxr w30, ${R(0)}, [sp]`);
    add(['encLdar', R(5), 'x6'], `ldar ${R(5)}, [x6]`);
    add(['encStlr', R(5), 'x6'], `stlr ${R(5)}, [x6]`);
  }

  // LSE atomics.
  for (const op of ['ldadd', 'ldclr', 'ldeor', 'ldset', 'swp']) for (const ord of ['', 'a', 'l', 'al']) {
    add(['encAtomic', op, ord, 'x0', 'x1', 'sp'], `${op}${ord} x0, x1, [sp]`);
    add(['encAtomic', op, ord, 'w30', 'w2', 'x3'], `${op}${ord} w30, w2, [x3]`);
  }
  for (const ord of ['', 'a', 'l', 'al']) {
    add(['encCas', ord, 'x0', 'x1', 'x2'], `cas${ord} x0, x1, [x2]`);
    add(['encCas', ord, 'w30', 'wzr', 'sp'], `cas${ord} w30, wzr, [sp]`);
  }

  // Branches with immediate displacements at their edges.
  for (const off of [-134217728, -4, 0, 4, 134217724]) {
    add(['encB', off], `b #${off}`);
    add(['encBl', off], `bl #${off}`);
  }
  conds.forEach((c, i) => {
    const off = [-1048576, 1048572, 0, 8][i % 4];
    add(['encBCond', c, off], `b.${c} #${off}`);
  });
  for (const off of [-1048576, 1048572, 12]) {
    add(['encCbz', 'x30', off, false], `cbz x30, #${off}`);
    add(['encCbz', 'w0', off, true], `cbnz w0, #${off}`);
  }
  for (const [r, bit] of [['x0', 0], ['x1', 31], ['x2', 32], ['x30', 63], ['w3', 0], ['w4', 31]]) {
    for (const off of [-32768, 32764]) {
      add(['encTbz', r, bit, off, false], `tbz ${r}, #${bit}, #${off}`);
      add(['encTbz', r, bit, off, true], `tbnz ${r}, #${bit}, #${off}`);
    }
  }
  for (const r of ['x0', 'x16', 'x30']) {
    add(['encBr', r], `br ${r}`);
    add(['encBlr', r], `blr ${r}`);
    add(['encRet', r], `ret ${r}`);
  }
  add(['encRet'], 'ret');
  for (const off of [-1048576, -1, 0, 1, 1048575]) add(['encAdr', 'x30', off], `adr x30, #${off}`);
  for (const pages of [-1048576, -1, 0, 1, 1048575]) add(['encAdrp', 'x0', pages], `adrp x0, #${pages * 4096}`);

  // System.
  add(['encNop'], 'nop');
  for (const t of ['', 'c', 'j', 'jc']) add(['encBti', t], t ? `bti ${t}` : 'bti');
  for (const imm of [0, 1, 0x3e8, 0xffff]) add(['encBrk', imm], `brk #${hex(imm)}`);
  for (const imm of [1, 2, 3, 4, 5, 127]) add(['encHint', imm], `hint #${imm}`);
  for (const o of ['oshld', 'oshst', 'osh', 'nshld', 'nshst', 'nsh', 'ishld', 'ishst', 'ish', 'ld', 'st', 'sy']) {
    add(['encDmb', o], `dmb ${o}`);
    add(['encDsb', o], `dsb ${o}`);
  }
  add(['encIsb'], 'isb');
  add(['encDcCvau', 'x0'], 'dc cvau, x0');
  add(['encDcCvau', 'x30'], 'dc cvau, x30');
  add(['encDcCvac', 'x1'], 'dc cvac, x1');
  add(['encDcCivac', 'x2'], 'dc civac, x2');
  add(['encIcIvau', 'x3'], 'ic ivau, x3');
  add(['encIcIallu'], 'ic iallu');
  return out;
}
