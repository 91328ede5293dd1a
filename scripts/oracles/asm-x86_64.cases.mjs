// The committed list of x86_64 golden cases: pairs of (builder call, Intel-syntax assembly).
// `asm-x86_64.mjs` feeds the assembly to llvm-mc and records the bytes; test/codegen/x86_64-golden
// replays the builder calls (parsed by test/codegen/x86_64-dsl.ts) and compares.
//
// Two shapes:
// - single instructions: bytes from `llvm-mc -show-encoding`;
// - blocks (several statements joined by ';', labels L0.., `bind(b, L)`): bytes from
//   `llvm-mc -filetype=obj` + `llvm-objcopy -O binary` so llvm-mc's own branch relaxation and
//   fixups are the oracle for ours.
// Coverage: every form of codegen/x86_64/table.ts, every register 0-15 (incl. rsp/rbp/r12/r13 as
// base and index), imm8/imm32 and disp8/disp32 edges, largest/smallest branch displacements.

export const R64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
export const R32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'];
export const R16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di', 'r8w', 'r9w', 'r10w', 'r11w', 'r12w', 'r13w', 'r14w', 'r15w'];
export const R8 = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil', 'r8b', 'r9b', 'r10b', 'r11b', 'r12b', 'r13b', 'r14b', 'r15b'];
const BY_SIZE = { 8: R8, 16: R16, 32: R32, 64: R64 };
const PTR = { 8: 'byte', 16: 'word', 32: 'dword', 64: 'qword' };
const CONDS = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

/** A memory operand as builder text and as assembly text. */
function m({ base = null, index = null, scale = 1, disp = 0, size = 0, disp32 = false }) {
  let call;
  if (index) call = `memIndex(${base ?? 'null'}, ${index}, ${scale}, ${disp}${disp32 ? ', true' : ''})`;
  else call = `mem(${base ?? 'null'}, ${disp}${disp32 ? ', { disp32: true }' : ''})`;
  if (size) call = `${PTR[size]}(${call})`;
  const parts = [];
  if (base) parts.push(base);
  if (index) parts.push(`${index}*${scale}`);
  let text = parts.join(' + ');
  if (disp !== 0 || parts.length === 0) text += parts.length === 0 ? `${disp}` : disp < 0 ? ` - ${-disp}` : ` + ${disp}`;
  const asm = `${size ? PTR[size] + ' ptr ' : ''}[${text}]`;
  return { call, asm, prefix: disp32 ? '{disp32} ' : '' };
}

export function cases() {
  const out = [];
  const add = (call, asm) => out.push({ call, asm });

  // ----- addressing: every base and index, displacement edges (as mov r64,[m] and mov [m],r32)
  const DISPS = [0, 1, -1, 127, -128, 128, -129, 0x7fffffff, -0x80000000];
  for (const base of R64) {
    for (const disp of DISPS) {
      const x = m({ base, disp });
      add(`emitMov(b, rax, ${x.call})`, `mov rax, ${x.asm}`);
    }
    const y = m({ base, disp: 8 });
    add(`emitMov(b, ${y.call}, r9d)`, `mov ${y.asm}, r9d`);
    const z = m({ base, disp: 8, disp32: true });
    add(`emitMov(b, rdx, ${z.call})`, `${z.prefix}mov rdx, ${z.asm}`);
  }
  for (const index of R64.filter((r) => r !== 'rsp')) {
    for (const scale of [1, 2, 4, 8]) {
      const x = m({ base: 'rsi', index, scale, disp: 16 });
      add(`emitMov(b, ${x.call}, eax)`, `mov ${x.asm}, eax`);
    }
    for (const base of ['rbp', 'r13', 'rsp', 'r12', 'rax', 'r15']) {
      for (const disp of [0, -128, 0x1000]) {
        const x = m({ base, index, scale: 8, disp });
        add(`emitMov(b, r11, ${x.call})`, `mov r11, ${x.asm}`);
      }
    }
    const noBase = m({ index, scale: 4, disp: 0x10 });
    add(`emitMov(b, rcx, ${noBase.call})`, `mov rcx, ${noBase.asm}`);
  }
  add(`emitMov(b, rax, mem(null, 4096))`, `mov rax, qword ptr [4096]`);
  add(`emitMov(b, rax, mem(null, -8))`, `mov rax, qword ptr [-8]`);
  for (const d of [0, 16, -16, 0x7fffffff, -0x80000000]) add(`emitLea(b, rax, memRip(${d}))`, `lea rax, [rip ${d < 0 ? '-' : '+'} ${Math.abs(d)}]`);
  add(`emitMov(b, r12d, memRip(8))`, `mov r12d, dword ptr [rip + 8]`);

  // ----- mov in every size
  for (const size of [8, 16, 32, 64]) {
    const R = BY_SIZE[size];
    for (let i = 0; i < 16; i++) {
      const d = R[i];
      const s = R[(i * 7 + 3) % 16];
      add(`emitMov(b, ${d}, ${s})`, `mov ${d}, ${s}`);
      const x = m({ base: R64[(i + 5) % 16], disp: 4 * i - 20 });
      add(`emitMov(b, ${d}, ${x.call})`, `mov ${d}, ${x.asm}`);
      add(`emitMov(b, ${x.call}, ${d})`, `mov ${x.asm}, ${d}`);
    }
    const imms = size === 8 ? [0, 127, -128, 255] : size === 16 ? [0, -1, 32767, -32768, 65535] : size === 32 ? [0, -1, 0x7fffffff, -0x80000000, 0xffffffff] : [0, -1, 0x7fffffff, -0x80000000, 127];
    for (const imm of imms) {
      add(`emitMov(b, ${R[size === 8 ? 3 : 9]}, ${imm})`, `mov ${R[size === 8 ? 3 : 9]}, ${imm}`);
      const x = m({ base: 'rdi', disp: 8, size });
      add(`emitMov(b, ${x.call}, ${imm})`, `mov ${x.asm}, ${imm}`);
    }
  }
  for (const [d, s] of [['al', 'ah'], ['bh', 'cl'], ['ch', 'dh']]) add(`emitMov(b, ${d}, ${s})`, `mov ${d}, ${s}`);
  for (const [lo, hi, text] of [[0, 0, '0'], [0x9abcdef0, 0x12345678, '0x123456789abcdef0'], [0xffffffff, 0xffffffff, '0xffffffffffffffff'], [5, 0, '5']]) {
    for (const r of ['rax', 'rdx', 'r15']) add(`emitMovabs(b, ${r}, ${lo}, ${hi})`, `movabs ${r}, ${text}`);
  }

  // ----- movzx / movsx / movsxd
  for (const [fn, mn] of [['emitMovzx', 'movzx'], ['emitMovsx', 'movsx']]) {
    for (const [d, s] of [['eax', 'bl'], ['r9', 'sil'], ['ax', 'r15b'], ['r12d', 'r13w'], ['rax', 'cx'], ['ecx', 'ah']]) add(`${fn}(b, ${d}, ${s})`, `${mn} ${d}, ${s}`);
    for (const [d, size] of [['eax', 8], ['r8', 8], ['edx', 16], ['r14', 16]]) {
      const x = m({ base: 'rsi', disp: 4, size });
      add(`${fn}(b, ${d}, ${x.call})`, `${mn} ${d}, ${x.asm}`);
    }
  }
  add(`emitMovsxd(b, rax, ebx)`, `movsxd rax, ebx`);
  add(`emitMovsxd(b, r10, r11d)`, `movsxd r10, r11d`);
  add(`emitMovsxd(b, rcx, ${m({ base: 'r12', disp: -4 }).call})`, `movsxd rcx, dword ptr ${m({ base: 'r12', disp: -4 }).asm}`);

  // ----- ALU: add or adc sbb and sub xor cmp
  for (const op of ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp']) {
    for (const size of [8, 16, 32, 64]) {
      const R = BY_SIZE[size];
      add(`emitAlu(b, '${op}', ${R[1]}, ${R[10]})`, `${op} ${R[1]}, ${R[10]}`);
      add(`emitAlu(b, '${op}', ${R[0]}, ${R[15]})`, `${op} ${R[0]}, ${R[15]}`);
      const x = m({ base: 'rbx', disp: 8 });
      add(`emitAlu(b, '${op}', ${R[7]}, ${x.call})`, `${op} ${R[7]}, ${x.asm}`);
      add(`emitAlu(b, '${op}', ${x.call}, ${R[12]})`, `${op} ${x.asm}, ${R[12]}`);
      const imms = size === 8 ? [1, 127, -128, 255] : size === 16 ? [1, 127, -128, 128, -129, 32767, 65535] : size === 32 ? [1, 127, -128, 128, -129, 0x7fffffff, -0x80000000, 0xffffffff] : [1, 127, -128, 128, -129, 0x7fffffff, -0x80000000];
      for (const imm of imms) {
        for (const r of [R[0], R[5], R[13]]) add(`emitAlu(b, '${op}', ${r}, ${imm})`, `${op} ${r}, ${imm}`);
        const y = m({ base: 'r13', disp: 0, size });
        add(`emitAlu(b, '${op}', ${y.call}, ${imm})`, `${op} ${y.asm}, ${imm}`);
      }
    }
  }
  // named wrappers
  add(`emitAdd(b, rax, rdx)`, `add rax, rdx`);
  add(`emitSub(b, rsp, 8)`, `sub rsp, 8`);
  add(`emitXor(b, eax, eax)`, `xor eax, eax`);
  add(`emitCmp(b, r11, 0x1000)`, `cmp r11, 4096`);
  add(`emitAnd(b, eax, 1023)`, `and eax, 1023`);
  add(`emitOr(b, rax, rdx)`, `or rax, rdx`);
  add(`emitAdc(b, ecx, 1)`, `adc ecx, 1`);
  add(`emitSbb(b, ecx, 1)`, `sbb ecx, 1`);
  // lock forms
  for (const op of ['add', 'and', 'or', 'xor', 'sub']) {
    add(`emitAlu(b, '${op}', ${m({ base: 'rdi', disp: 16 }).call}, rax, { lock: true })`, `lock ${op} ${m({ base: 'rdi', disp: 16 }).asm}, rax`);
    add(`emitAlu(b, '${op}', ${m({ base: 'r9', disp: 0, size: 32 }).call}, 1, { lock: true })`, `lock ${op} ${m({ base: 'r9', size: 32 }).asm}, 1`);
    add(`emitAlu(b, '${op}', ${m({ base: 'r9', disp: 0 }).call}, r10w, { lock: true })`, `lock ${op} ${m({ base: 'r9' }).asm}, r10w`);
  }

  // ----- test
  for (const size of [8, 16, 32, 64]) {
    const R = BY_SIZE[size];
    add(`emitTest(b, ${R[2]}, ${R[11]})`, `test ${R[2]}, ${R[11]}`);
    add(`emitTest(b, ${m({ base: 'rsp', disp: 8 }).call}, ${R[6]})`, `test ${m({ base: 'rsp', disp: 8 }).asm}, ${R[6]}`);
    for (const imm of size === 8 ? [1, 255] : [1, size === 16 ? 65535 : -1]) {
      add(`emitTest(b, ${R[0]}, ${imm})`, `test ${R[0]}, ${imm}`);
      add(`emitTest(b, ${R[14]}, ${imm})`, `test ${R[14]}, ${imm}`);
      add(`emitTest(b, ${m({ base: 'rax', size }).call}, ${imm})`, `test ${m({ base: 'rax', size }).asm}, ${imm}`);
    }
  }

  // ----- unary group, imul
  for (const op of ['not', 'neg', 'mul', 'imul', 'div', 'idiv', 'inc', 'dec']) {
    for (const size of [8, 16, 32, 64]) {
      const R = BY_SIZE[size];
      for (const r of [R[0], R[7], R[12]]) add(`emitUnary(b, '${op}', ${r})`, `${op} ${r}`);
      add(`emitUnary(b, '${op}', ${m({ base: 'rbp', disp: -8, size }).call})`, `${op} ${m({ base: 'rbp', disp: -8, size }).asm}`);
    }
  }
  add(`emitUnary(b, 'inc', ${m({ base: 'rdi', size: 64 }).call}, { lock: true })`, `lock inc qword ptr [rdi]`);
  add(`emitNeg(b, r8)`, `neg r8`);
  add(`emitNot(b, eax)`, `not eax`);
  add(`emitDiv(b, rcx)`, `div rcx`);
  add(`emitIdiv(b, r11d)`, `idiv r11d`);
  add(`emitMul(b, rsi)`, `mul rsi`);
  for (const size of [16, 32, 64]) {
    const R = BY_SIZE[size];
    add(`emitImul(b, ${R[0]}, ${R[15]})`, `imul ${R[0]}, ${R[15]}`);
    add(`emitImul(b, ${R[9]}, ${m({ base: 'rsi', disp: 8 }).call})`, `imul ${R[9]}, ${m({ base: 'rsi', disp: 8 }).asm}`);
    for (const imm of [1, 127, -128, 128, -129, size === 16 ? 32767 : 0x7fffffff]) {
      add(`emitImul3(b, ${R[3]}, ${R[13]}, ${imm})`, `imul ${R[3]}, ${R[13]}, ${imm}`);
    }
    add(`emitImul3(b, ${R[1]}, ${m({ base: 'r12', disp: 0 }).call}, 10)`, `imul ${R[1]}, ${m({ base: 'r12' }).asm}, 10`);
  }

  // ----- shifts and rotates
  for (const op of ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sar']) {
    for (const size of [8, 16, 32, 64]) {
      const R = BY_SIZE[size];
      const max = size === 64 ? 63 : 31;
      for (const c of [1, 2, max]) add(`emitShift(b, '${op}', ${R[c % 16]}, ${c})`, `${op} ${R[c % 16]}, ${c}`);
      add(`emitShift(b, '${op}', ${R[10]}, cl)`, `${op} ${R[10]}, cl`);
      add(`emitShift(b, '${op}', ${m({ base: 'rdx', disp: 4, size }).call}, 3)`, `${op} ${m({ base: 'rdx', disp: 4, size }).asm}, 3`);
      add(`emitShift(b, '${op}', ${m({ base: 'rdx', size }).call}, cl)`, `${op} ${m({ base: 'rdx', size }).asm}, cl`);
    }
  }
  add(`emitShl(b, rax, 13)`, `shl rax, 13`);
  add(`emitShr(b, rax, 13)`, `shr rax, 13`);
  add(`emitSar(b, r9d, cl)`, `sar r9d, cl`);
  add(`emitRol(b, r9w, 8)`, `rol r9w, 8`);
  add(`emitRor(b, rbx, 1)`, `ror rbx, 1`);
  for (const [fn, mn] of [['emitShld', 'shld'], ['emitShrd', 'shrd']]) {
    for (const size of [16, 32, 64]) {
      const R = BY_SIZE[size];
      add(`${fn}(b, ${R[0]}, ${R[3]}, 5)`, `${mn} ${R[0]}, ${R[3]}, 5`);
      add(`${fn}(b, ${R[13]}, ${R[8]}, cl)`, `${mn} ${R[13]}, ${R[8]}, cl`);
      add(`${fn}(b, ${m({ base: 'rdi', disp: 8 }).call}, ${R[2]}, ${size - 1})`, `${mn} ${m({ base: 'rdi', disp: 8 }).asm}, ${R[2]}, ${size === 16 ? 15 : size - 1}`);
    }
  }

  // ----- bswap, xchg, xadd, cmpxchg
  for (const r of [...R32, ...R64]) add(`emitBswap(b, ${r})`, `bswap ${r}`);
  for (const size of [8, 16, 32, 64]) {
    const R = BY_SIZE[size];
    add(`emitXchg(b, ${R[1]}, ${R[2]})`, `xchg ${R[1]}, ${R[2]}`);
    add(`emitXchg(b, ${R[0]}, ${R[9]})`, `xchg ${R[0]}, ${R[9]}`);
    add(`emitXchg(b, ${R[14]}, ${R[0]})`, `xchg ${R[14]}, ${R[0]}`);
    add(`emitXchg(b, ${m({ base: 'rdi' }).call}, ${R[5]})`, `xchg ${m({ base: 'rdi' }).asm}, ${R[5]}`);
    add(`emitXchg(b, ${R[5]}, ${m({ base: 'r13', disp: 8 }).call})`, `xchg ${R[5]}, ${m({ base: 'r13', disp: 8 }).asm}`);
    for (const fn of ['Xadd', 'Cmpxchg']) {
      const x = m({ base: 'rdi', disp: 8 });
      add(`emit${fn}(b, ${x.call}, ${R[0]}, { lock: true })`, `lock ${fn.toLowerCase()} ${x.asm}, ${R[0]}`);
      add(`emit${fn}(b, ${x.call}, ${R[11]})`, `${fn.toLowerCase()} ${x.asm}, ${R[11]}`);
      add(`emit${fn}(b, ${R[3]}, ${R[12]})`, `${fn.toLowerCase()} ${R[3]}, ${R[12]}`);
    }
  }
  add(`emitXchg(b, eax, eax)`, `xchg eax, eax`);
  add(`emitXchg(b, ax, ax)`, `xchg ax, ax`);
  add(`emitXchg(b, rax, rax)`, `xchg rax, rax`);
  add(`emitXchg(b, al, al)`, `xchg al, al`);

  // ----- lea, push, pop
  for (const r of [...R64, 'eax', 'r9d', 'ax']) {
    const x = m({ base: r === 'rsp' ? 'rbp' : 'rsp', index: 'rcx', scale: 2, disp: -3 });
    add(`emitLea(b, ${r}, ${x.call})`, `lea ${r}, ${x.asm}`);
  }
  add(`emitLea(b, rax, mem(rax, 1))`, `lea rax, [rax + 1]`);
  for (const r of R64) {
    add(`emitPush(b, ${r})`, `push ${r}`);
    add(`emitPop(b, ${r})`, `pop ${r}`);
  }
  for (const imm of [0, 127, -128, 128, -129, 0x7fffffff, -0x80000000]) add(`emitPush(b, ${imm})`, `push ${imm}`);
  add(`emitPush(b, ${m({ base: 'r12', disp: 8 }).call})`, `push qword ptr ${m({ base: 'r12', disp: 8 }).asm}`);
  add(`emitPop(b, ${m({ base: 'rax' }).call})`, `pop qword ptr ${m({ base: 'rax' }).asm}`);

  // ----- setcc, cmovcc
  for (let i = 0; i < 16; i++) {
    const c = CONDS[i];
    add(`emitSetcc(b, '${c}', ${R8[i]})`, `set${c} ${R8[i]}`);
    add(`emitCmov(b, '${c}', ${R64[i]}, ${R64[15 - i]})`, `cmov${c} ${R64[i]}, ${R64[15 - i]}`);
    add(`emitCmov(b, '${c}', ${R32[i]}, ${m({ base: 'rdi', disp: 4 }).call})`, `cmov${c} ${R32[i]}, ${m({ base: 'rdi', disp: 4 }).asm}`);
  }
  add(`emitSetcc(b, 'e', ah)`, `sete ah`);
  add(`emitSetcc(b, 'ne', ${m({ base: 'r8', size: 8 }).call})`, `setne byte ptr [r8]`);
  add(`emitCmov(b, 'ge', ax, r15w)`, `cmovge ax, r15w`);

  // ----- indirect control transfer, raw displacements
  for (const r of ['rax', 'r11', 'rsp', 'r13']) {
    add(`emitCallIndirect(b, ${r})`, `call ${r}`);
    add(`emitJmpIndirect(b, ${r})`, `jmp ${r}`);
  }
  add(`emitCallIndirect(b, ${m({ base: 'rax', disp: 8 }).call})`, `call qword ptr ${m({ base: 'rax', disp: 8 }).asm}`);
  add(`emitJmpIndirect(b, memIndex(null, rax, 8, 4096))`, `jmp qword ptr [rax*8 + 4096]`);
  add(`emitCallIndirect(b, memRip(8))`, `call qword ptr [rip + 8]`);

  // ----- misc
  add(`emitRet(b)`, `ret`);
  add(`emitRet(b, 16)`, `ret 16`);
  add(`emitLeave(b)`, `leave`);
  add(`emitCwd(b)`, `cwd`);
  add(`emitCdq(b)`, `cdq`);
  add(`emitCqo(b)`, `cqo`);
  add(`emitCwde(b)`, `cwde`);
  add(`emitCdqe(b)`, `cdqe`);
  add(`emitInt3(b)`, `int3`);
  add(`emitUd2(b)`, `ud2`);
  add(`emitEndbr64(b)`, `endbr64`);
  add(`emitPause(b)`, `pause`);
  add(`emitLfence(b)`, `lfence`);
  add(`emitMfence(b)`, `mfence`);
  add(`emitSfence(b)`, `sfence`);
  for (const h of ['t0', 't1', 't2', 'nta']) {
    add(`emitPrefetch(b, ${m({ base: 'rdi', disp: 64 }).call}, '${h}')`, `prefetch${h} byte ptr ${m({ base: 'rdi', disp: 64 }).asm}`);
  }
  add(`emitPrefetch(b, memIndex(r12, r13, 8, 0))`, `prefetcht0 byte ptr [r12 + r13*8]`);
  return out;
}

/** Multi-statement blocks: labels, relaxation, raw branch displacements, nops. */
export function blocks() {
  const out = [];
  const add = (call, asm) => out.push({ call, asm: asm.replace(/\.nops 0\n/g, '') });
  // raw displacements: `H` marks the instruction start, `{disp32}` keeps llvm-mc from shortening
  const at = (n) => (n < 0 ? `H-${-n}` : `H+${n}`);
  for (const rel of [0, 127, -128]) add(`emitJmpRel(b, ${rel}, 8)`, `H: jmp ${at(rel + 2)}`);
  for (const rel of [0, 128, -129, 0x7fffffff, -0x80000000]) add(`emitJmpRel(b, ${rel}, 32)`, `H: {disp32} jmp ${at(rel + 5)}`);
  for (const c of CONDS) {
    add(`emitJccRel(b, '${c}', 127, 8)`, `H: j${c} ${at(129)}`);
    add(`emitJccRel(b, '${c}', -128, 8)`, `H: j${c} ${at(-126)}`);
    add(`emitJccRel(b, '${c}', 0x7fffffff, 32)`, `H: {disp32} j${c} ${at(0x7fffffff + 6)}`);
    add(`emitJccRel(b, '${c}', -0x80000000, 32)`, `H: {disp32} j${c} ${at(-0x80000000 + 6)}`);
  }
  for (const rel of [0, 0x7fffffff, -0x80000000]) add(`emitCallRel(b, ${rel})`, `H: call ${at(rel + 5)}`);
  // forward and backward label branches at and beyond rel8 reach
  for (const gap of [0, 1, 126, 127, 128, 129, 300]) {
    add(`emitJmp(b, L0); emitNops(b, ${gap}); bind(b, L0); emitRet(b)`, `jmp L0\n.nops ${gap}\nL0: ret`);
    add(`emitJcc(b, 'ne', L0); emitNops(b, ${gap}); bind(b, L0); emitRet(b)`, `jne L0\n.nops ${gap}\nL0: ret`);
    add(`bind(b, L0); emitNops(b, ${gap}); emitJmp(b, L0)`, `L0:\n.nops ${gap}\njmp L0`);
    add(`bind(b, L0); emitNops(b, ${gap}); emitJcc(b, 'l', L0)`, `L0:\n.nops ${gap}\njl L0`);
  }
  // cascade: growing the inner branch pushes the outer one out of rel8 reach
  add(
    `emitJmp(b, L0); emitJcc(b, 'e', L1); emitNops(b, 124); bind(b, L0); emitNops(b, 4); bind(b, L1); emitRet(b)`,
    `jmp L0\nje L1\n.nops 124\nL0:\n.nops 4\nL1: ret`,
  );
  add(
    `emitJcc(b, 'a', L0); emitJcc(b, 'b', L0); emitJcc(b, 'e', L0); emitNops(b, 121); bind(b, L0); emitInt3(b)`,
    `ja L0\njb L0\nje L0\n.nops 121\nL0: int3`,
  );
  // calls and rip-relative references to labels, forced rel32 jumps
  add(`emitCall(b, L0); emitRet(b); bind(b, L0); emitRet(b)`, `call L0\nret\nL0: ret`);
  add(`bind(b, L0); emitNops(b, 3); emitCall(b, L0)`, `L0:\n.nops 3\ncall L0`);
  add(`emitLea(b, rax, memRipLabel(L0)); emitRet(b); bind(b, L0); emitInt3(b)`, `lea rax, [rip + L0]\nret\nL0: int3`);
  add(`emitMov(b, qword(memRipLabel(L0)), 5); bind(b, L0); emitInt3(b)`, `mov qword ptr [rip + L0], 5\nL0: int3`);
  add(`emitJmp(b, L0, 'rel32'); bind(b, L0); emitRet(b)`, `{disp32} jmp L0\nL0: ret`);
  add(`bind(b, L0); emitJcc(b, 'ge', L0, 'rel32')`, `L0: {disp32} jge L0`);
  add(`emitJmp(b, L0, 'rel8'); bind(b, L0)`, `jmp L0\nL0:`);
  // nops of every length
  for (let n = 1; n <= 16; n++) add(`emitNops(b, ${n})`, `.nops ${n}`);
  add(`emitNops(b, 37)`, `.nops 37`);
  return out;
}
