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
function normaliseX86(s: string): string {
  return s;
}

/** arm64 alias rules. Extend here, nowhere else. */
function normaliseArm64(s: string): string {
  return s;
}

export function normaliseAsm(arch: IsaArch, text: string): string {
  const s = normaliseCommon(text);
  return arch === 'x86_64' ? normaliseX86(s) : normaliseArm64(s);
}
