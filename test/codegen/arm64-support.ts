// Shared by the arm64 assembler tests: turn a recorded builder call (["encAddImm", "x0", "sp", 4])
// into a call of the real encoder, and word <-> byte helpers.
import * as a64 from '../../codegen/arm64/index.js';
import { regByName } from '../../codegen/arm64/regs.js';

export type CallArg = string | number | boolean;
export type BuilderCall = [string, ...CallArg[]];

type Encoder = (...args: unknown[]) => number;

export function runCall(call: BuilderCall): number {
  const [name, ...args] = call;
  const fn = (a64 as unknown as Record<string, unknown>)[name];
  if (typeof fn !== 'function') throw new Error(`no encoder ${name}`);
  const mapped = args.map((a) => (typeof a === 'string' && regByName(a) !== null && a !== 'lr' && a !== 'fp' ? regByName(a) : a));
  return (fn as Encoder)(...mapped);
}

export function wordToHex(w: number): string {
  const b = [w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, (w >>> 24) & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(' ');
}

export function wordBytes(w: number): Uint8Array {
  return Uint8Array.of(w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, (w >>> 24) & 0xff);
}

export function readWord(bytes: Uint8Array, at: number): number {
  return ((bytes[at] as number) | ((bytes[at + 1] as number) << 8) | ((bytes[at + 2] as number) << 16) | ((bytes[at + 3] as number) << 24)) >>> 0;
}

/** Non-zero words of an image by offset (the sparse form arm64.json stores for programs). */
export function sparseWords(bytes: Uint8Array): { length: number; words: Record<string, string> } {
  const words: Record<string, string> = {};
  for (let i = 0; i + 4 <= bytes.length; i += 4) {
    const w = readWord(bytes, i);
    if (w !== 0) words[String(i)] = w.toString(16).padStart(8, '0');
  }
  return { length: bytes.length, words };
}
