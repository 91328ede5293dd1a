// Capstone (capstone-wasm 1.0.3 = Capstone 5.0) as the outside decoding oracle.
//
// Used by codegen listings, the assembler round-trip tests and the emulator's decode-cache check.
// Capstone is an oracle, not ground truth (reference/machine.md §3): its text differs from ours in
// aliases and number formatting, so every comparison goes through `normaliseAsm`, the single place
// where Capstone's and jitbox's assembly text are brought to one canonical form.
//
// The wasm module loads asynchronously: call `await initCapstone()` once (CLI entry, test setup,
// emulator construction helpers); afterwards every function here is synchronous.

import { Capstone, Const, loadCapstone } from 'capstone-wasm';
import { JitboxError } from './errors.js';
import { type VAddr, vaddrToPair } from './u64.js';

export type IsaArch = 'x86_64' | 'arm64';

export interface DecodedText {
  address: VAddr;
  size: number;
  bytes: Uint8Array;
  mnemonic: string;
  opStr: string;
  /** mnemonic + ' ' + opStr, trimmed */
  text: string;
}

export class CapstoneNotReadyError extends JitboxError {
  constructor() {
    super('capstone', 'Capstone is not initialised: await initCapstone() first');
  }
}

let ready: Promise<void> | null = null;
let loaded = false;
const handles = new Map<IsaArch, Capstone>();

export function initCapstone(): Promise<void> {
  ready ??= loadCapstone().then(() => {
    handles.set('x86_64', new Capstone(Const.CS_ARCH_X86, Const.CS_MODE_64));
    handles.set('arm64', new Capstone(Const.CS_ARCH_ARM64, Const.CS_MODE_ARM));
    loaded = true;
  });
  return ready;
}

export function capstoneReady(): boolean {
  return loaded;
}

export function capstoneVersion(): string {
  if (!loaded) throw new CapstoneNotReadyError();
  const v = Capstone.version();
  return `${v.major}.${v.minor}`;
}

function handle(arch: IsaArch): Capstone {
  const h = handles.get(arch);
  if (!h) throw new CapstoneNotReadyError();
  return h;
}

function toBigAddress(address: VAddr): bigint {
  const { lo, hi } = vaddrToPair(address);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/**
 * Decode the first instruction of `bytes` at `address`. Returns null when Capstone cannot decode
 * anything (capstone-wasm throws in that case; that is "invalid", not an error).
 */
export function disasmOne(arch: IsaArch, bytes: Uint8Array, address: VAddr): DecodedText | null {
  let insns;
  try {
    insns = handle(arch).disasm(bytes, { address: toBigAddress(address), count: 1 });
  } catch (e) {
    if (e instanceof CapstoneNotReadyError) throw e;
    return null;
  }
  const i = insns[0];
  if (!i) return null;
  return {
    address,
    size: i.size,
    bytes: Uint8Array.from(i.bytes),
    mnemonic: i.mnemonic,
    opStr: i.opStr,
    text: (i.mnemonic + ' ' + i.opStr).trim(),
  };
}

/**
 * Decode a whole code image. Undecodable bytes become a one-byte (x86) or four-byte (arm64)
 * `.byte`/`.inst` entry so listings never stop early.
 */
export function disasmAll(arch: IsaArch, bytes: Uint8Array, address: VAddr): DecodedText[] {
  const out: DecodedText[] = [];
  let off = 0;
  while (off < bytes.length) {
    const view = bytes.subarray(off, Math.min(bytes.length, off + 16));
    const d = disasmOne(arch, view, address + off);
    if (d) {
      out.push(d);
      off += d.size;
    } else {
      const n = arch === 'arm64' ? Math.min(4, bytes.length - off) : 1;
      const raw = bytes.slice(off, off + n);
      const word = Array.from(raw, (b) => b.toString(16).padStart(2, '0')).reverse().join('');
      const text = arch === 'arm64' ? `.inst 0x${word}` : `.byte 0x${word}`;
      out.push({ address: address + off, size: n, bytes: raw, mnemonic: text.split(' ')[0] as string, opStr: text.split(' ')[1] as string, text });
      off += n;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Normalisation: the one place where assembly text is made comparable.
// Rules (applied to both sides): lower case; single spaces; no space after commas; hex and
// decimal immediates both become decimal ("#0xd" and "#13" -> "#13"; "0x10" -> "16");
// per-arch alias rules below.

function normaliseNumbers(s: string): string {
  return s.replace(/(-?)0x([0-9a-f]+)/g, (_m, sign: string, hex: string) => {
    const v = BigInt('0x' + hex);
    return (sign ? '-' : '') + v.toString(10);
  });
}

function normaliseCommon(text: string): string {
  let s = text.toLowerCase().trim().replace(/\s+/g, ' ');
  s = s.replace(/\s*,\s*/g, ',');
  s = s.replace(/\[\s*/g, '[').replace(/\s*\]/g, ']');
  s = normaliseNumbers(s);
  return s;
}

/** x86_64 alias rules (Intel syntax). Extend here, nowhere else. */
// Rules (both sides are already lower case, decimal, no space after commas):
// - llvm-mc's encoding pseudo-prefixes "{disp32} "/"{disp8} " are dropped;
// - scaled index written either way: "2*rax" -> "rax*2", "rax*1" -> "rax"; absolute addresses "[-8]" as unsigned 64-bit;
// - implicit shift count: "shl cl" -> "shl cl,1" (llvm prints the D0/D1 form without the 1);
// - xchg is symmetric: register operands sorted; "xchg ax,ax" (66 90) is "nop";
// - immediates that are whole operands are reduced modulo 2^width, width = the destination's size
//   (register name or "<size> ptr"), 64 when none: "add al,-128" = "add al,128", "movabs rax,-1" =
//   "movabs rax,18446744073709551615". Memory displacements keep their sign.
const X86_REG_WIDTH: Record<string, number> = {};
for (const [w, names] of [
  [64, 'rax rcx rdx rbx rsp rbp rsi rdi r8 r9 r10 r11 r12 r13 r14 r15 rip'],
  [32, 'eax ecx edx ebx esp ebp esi edi r8d r9d r10d r11d r12d r13d r14d r15d'],
  [16, 'ax cx dx bx sp bp si di r8w r9w r10w r11w r12w r13w r14w r15w'],
  [8, 'al cl dl bl spl bpl sil dil r8b r9b r10b r11b r12b r13b r14b r15b ah ch dh bh'],
] as const) {
  for (const n of names.split(' ')) X86_REG_WIDTH[n] = w;
}
const X86_PTR_WIDTH: Record<string, number> = { byte: 8, word: 16, dword: 32, qword: 64, xmmword: 128 };
const X86_SHIFTS = new Set(['rol', 'ror', 'rcl', 'rcr', 'shl', 'sal', 'shr', 'sar']);

function normaliseX86(s: string): string {
  s = s.replace(/^\{disp(8|32)\} /, '');
  s = s.replace(/\b([1248])\*([a-z0-9]+)/g, '$2*$1').replace(/\*1\b/g, '');
  s = s.replace(/\[(-?[0-9]+)\]/g, (_m, v: string) => `[${BigInt.asUintN(64, BigInt(v)).toString(10)}]`);
  const sp = s.indexOf(' ');
  if (sp < 0) return s;
  let mnemonic = s.slice(0, sp);
  let rest = s.slice(sp + 1);
  // prefixes printed as separate words ("lock add ...", "rep stosb")
  while (/^(lock|rep|repe|repne|notrack) /.test(mnemonic + ' ') && rest.includes(' ') && !rest.startsWith('[')) {
    const sp2 = rest.indexOf(' ');
    const word = rest.slice(0, sp2);
    if (/[,[\]]/.test(word) || X86_REG_WIDTH[word] !== undefined || X86_PTR_WIDTH[word] !== undefined) break;
    mnemonic = mnemonic + ' ' + word;
    rest = rest.slice(sp2 + 1);
  }
  const ops = rest.split(',');
  const base = mnemonic.split(' ').pop() as string;
  if (X86_SHIFTS.has(base) && ops.length === 1) ops.push('1');
  const first = ops[0] as string;
  const ptr = /^(byte|word|dword|qword|xmmword) ptr /.exec(first);
  const width = X86_REG_WIDTH[first] ?? (ptr ? X86_PTR_WIDTH[ptr[1] as string] : undefined) ?? 64;
  for (let i = 1; i < ops.length; i++) {
    const op = ops[i] as string;
    if (/^-?[0-9]+$/.test(op)) {
      const m = 1n << BigInt(width);
      ops[i] = (((BigInt(op) % m) + m) % m).toString(10);
    }
  }
  if (ops.length === 1 && /^-?[0-9]+$/.test(first) && base !== 'ret') {
    const m = 1n << 64n;
    ops[0] = (((BigInt(first) % m) + m) % m).toString(10);
  }
  if (base === 'xchg' && ops.length === 2 && !(ops[0] as string).includes('[') && !(ops[1] as string).includes('[')) ops.sort();
  if (base === 'xchg' && ops.length === 2 && (ops[1] as string).includes('[')) ops.reverse();
  const out = mnemonic + ' ' + ops.join(',');
  return out === 'xchg ax,ax' ? 'nop' : out;
}

// ----- arm64 alias rules ------------------------------------------------------------------------
// Both sides are rewritten to the Arm ARM's *base* instruction (alias -> encoding form), with
// immediates as plain decimals: e.g. `cmp x1, #4` -> `subs xzr,x1,#4`; `lsl x0, x1, #3` ->
// `ubfm x0,x1,#61,#60`; `mov x0, #-2` / `movn x0, #1` -> `mov x0,#<unsigned value>`;
// `bti c` / `hint #0x22` -> `hint #34`; `[x1, #0]` -> `[x1]`; Capstone's 64-bit wrapped negatives
// (`#0xffffffffffffff00`) -> `#-256`; `tbz x0, #3` -> `tbz w0, #3` (b5 = 0 is the W form).

const A64_HINTS: Record<string, number> = { nop: 0, yield: 1, wfe: 2, wfi: 3, sev: 4, sevl: 5, bti: 32, 'bti c': 34, 'bti j': 36, 'bti jc': 38 };
const A64_INVERT: Record<string, string> = {
  eq: 'ne', ne: 'eq', hs: 'lo', lo: 'hs', mi: 'pl', pl: 'mi', vs: 'vc', vc: 'vs', hi: 'ls', ls: 'hi', ge: 'lt', lt: 'ge', gt: 'le', le: 'gt',
};

function a64Split(ops: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of ops) {
    if (ch === '[') depth++;
    if (ch === ']') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur !== '') out.push(cur);
  return out;
}

function a64Is64(reg: string): boolean {
  return reg.startsWith('x') || reg === 'sp';
}
function a64Zr(reg: string): string {
  return a64Is64(reg) ? 'xzr' : 'wzr';
}
function a64Imm(op: string | undefined): bigint | null {
  if (op === undefined || !/^#-?[0-9]+$/.test(op)) return null;
  return BigInt(op.slice(1));
}
function a64X(reg: string): string {
  return reg === 'wzr' ? 'xzr' : reg.startsWith('w') ? 'x' + reg.slice(1) : reg;
}

function normaliseArm64(text: string): string {
  // Capstone prints negative offsets and branch targets at address 0 as 64-bit unsigned values.
  let s = text.replace(/#([0-9]{19,20})/g, (m, d: string) => {
    const v = BigInt(d);
    return v >= 2n ** 63n && v < 2n ** 64n ? '#' + (v - 2n ** 64n).toString() : m;
  });
  s = s.replace(/\[([a-z0-9]+),#0\]/g, '[$1]');
  if (s in A64_HINTS) return s === 'nop' ? 'nop' : `hint #${A64_HINTS[s]}`;
  if (s === 'hint #0') return 'nop';
  if (s === 'ret x30') return 'ret';
  const sp = s.indexOf(' ');
  let mn = sp < 0 ? s : s.slice(0, sp);
  let ops = sp < 0 ? [] : a64Split(s.slice(sp + 1));
  const rd = ops[0] ?? '';
  const size = a64Is64(rd) ? 64 : 32;
  const mask = (1n << BigInt(size)) - 1n;
  const last = ops[ops.length - 1];
  const lastIsImm = last !== undefined && last.startsWith('#');
  // Condition aliases.
  ops = ops.map((o) => (o === 'cs' ? 'hs' : o === 'cc' ? 'lo' : o));
  mn = mn.replace(/^b\.cs$/, 'b.hs').replace(/^b\.cc$/, 'b.lo');
  // Shifted/extended operands: `lsl #0` is the default; uxtx (X) / uxtw (W) print as lsl beside sp.
  if (['add', 'adds', 'sub', 'subs', 'cmp', 'cmn', 'neg', 'negs'].includes(mn)) {
    ops = ops.map((o) => (o === (size === 64 ? 'uxtx' : 'uxtw') ? 'lsl #0' : o.replace(size === 64 ? /^uxtx #/ : /^uxtw #/, 'lsl #')));
  }
  if (ops[ops.length - 1] === 'lsl #0') ops.pop();
  ops = ops.map((o) => o.replace(/^([us]xt[bhwx]) #0$/, '$1'));
  switch (mn) {
    case 'bfc': {
      const lsb = Number(a64Imm(ops[1])), w = Number(a64Imm(ops[2]));
      ops = [rd, a64Zr(rd), `#${(size - lsb) % size}`, `#${w - 1}`];
      mn = 'bfm';
      break;
    }
    case 'cmp': case 'cmn': case 'tst':
      ops = [a64Zr(rd), ...ops];
      mn = mn === 'cmp' ? 'subs' : mn === 'cmn' ? 'adds' : 'ands';
      break;
    case 'neg': case 'negs':
      ops = [rd, a64Zr(rd), ...ops.slice(1)];
      mn = mn === 'neg' ? 'sub' : 'subs';
      break;
    case 'mvn':
      ops = [rd, a64Zr(rd), ...ops.slice(1)];
      mn = 'orn';
      break;
    case 'mov':
      if (ops.length === 2 && !(ops[1] as string).startsWith('#')) {
        if (rd === 'sp' || rd === 'wsp' || ops[1] === 'sp' || ops[1] === 'wsp') { mn = 'add'; ops = [rd, ops[1] as string, '#0']; }
        else { mn = 'orr'; ops = [rd, a64Zr(rd), ops[1] as string]; }
      }
      break;
    case 'movz': case 'movn': {
      const imm = a64Imm(ops[1]);
      const sh = ops[2] ? BigInt((ops[2] as string).replace('lsl #', '')) : 0n;
      if (imm !== null) {
        const v = imm << sh;
        return `mov ${rd},#${(mn === 'movz' ? v : ~v & mask).toString()}`;
      }
      break;
    }
    case 'movk':
      if (ops[2] === 'lsl #0') ops.pop();
      break;
    case 'lsl': case 'lsr': case 'asr': case 'ror':
      if (!lastIsImm) { mn += 'v'; break; }
      {
        const n = Number(a64Imm(last));
        const rn = ops[1] as string;
        if (mn === 'ror') { mn = 'extr'; ops = [rd, rn, rn, `#${n}`]; }
        else if (mn === 'lsl') { mn = 'ubfm'; ops = [rd, rn, `#${(size - n) % size}`, `#${size - 1 - n}`]; }
        else { mn = mn === 'lsr' ? 'ubfm' : 'sbfm'; ops = [rd, rn, `#${n}`, `#${size - 1}`]; }
      }
      break;
    case 'ubfx': case 'sbfx': case 'bfxil': case 'ubfiz': case 'sbfiz': case 'bfi': {
      const lsb = Number(a64Imm(ops[2])), w = Number(a64Imm(ops[3]));
      const base = mn.startsWith('u') ? 'ubfm' : mn.startsWith('s') ? 'sbfm' : 'bfm';
      const insert = mn.endsWith('iz') || mn === 'bfi';
      ops = [rd, ops[1] as string, `#${insert ? (size - lsb) % size : lsb}`, `#${insert ? w - 1 : lsb + w - 1}`];
      mn = base;
      break;
    }
    case 'uxtb': case 'uxth': case 'sxtb': case 'sxth': case 'sxtw': {
      const top = mn.endsWith('b') ? 7 : mn.endsWith('h') ? 15 : 31;
      ops = [rd, size === 64 ? a64X(ops[1] as string) : (ops[1] as string), '#0', `#${top}`];
      mn = mn.startsWith('u') ? 'ubfm' : 'sbfm';
      break;
    }
    case 'mul': case 'mneg':
      ops = [...ops, a64Zr(rd)];
      mn = mn === 'mul' ? 'madd' : 'msub';
      break;
    case 'umull': case 'smull':
      ops = [...ops, 'xzr'];
      mn = mn === 'umull' ? 'umaddl' : 'smaddl';
      break;
    case 'cset': case 'csetm':
      ops = [rd, a64Zr(rd), a64Zr(rd), A64_INVERT[ops[1] as string] ?? (ops[1] as string)];
      mn = mn === 'cset' ? 'csinc' : 'csinv';
      break;
    case 'cinc': case 'cinv': case 'cneg':
      ops = [rd, ops[1] as string, ops[1] as string, A64_INVERT[ops[2] as string] ?? (ops[2] as string)];
      mn = mn === 'cinc' ? 'csinc' : mn === 'cinv' ? 'csinv' : 'csneg';
      break;
    case 'tbz': case 'tbnz':
      if (Number(a64Imm(ops[1])) < 32 && rd.startsWith('x')) ops[0] = 'w' + rd.slice(1);
      break;
    case 'stadd': case 'staddl': case 'stclr': case 'stclrl': case 'steor': case 'steorl': case 'stset': case 'stsetl':
      ops = [rd, a64Zr(rd), ...ops.slice(1)];
      mn = 'ld' + mn.slice(2);
      break;
  }
  // Bitmask immediates (and MOV's ORR form): the unsigned value at the register width.
  if (['and', 'orr', 'eor', 'ands'].includes(mn) && lastIsImm) {
    const v = a64Imm(ops[ops.length - 1]);
    if (v !== null) {
      ops[ops.length - 1] = `#${(v & mask).toString()}`;
      if (mn === 'orr' && (ops[1] === 'xzr' || ops[1] === 'wzr')) return `mov ${rd},${ops[2] as string}`;
    }
  }
  if (mn === 'mov' && ops.length === 2) {
    const v = a64Imm(ops[1]);
    if (v !== null) ops[1] = `#${(v & mask).toString()}`;
  }
  return ops.length === 0 ? mn : `${mn} ${ops.join(',')}`;
}

export function normaliseAsm(arch: IsaArch, text: string): string {
  const s = normaliseCommon(text);
  return arch === 'x86_64' ? normaliseX86(s) : normaliseArm64(s);
}
