// The x86_64 assembler's public surface: registers, memory operands, emitters, and `enc`, the pure
// form of any emitter (bytes of one instruction, no buffer state). Generators import from here.

import { CodeBuffer } from '../buffer.js';

export * from './regs.js';
export * from './encode.js';
export * from './table.js';
export * from './emit.js';
export * from './control.js';

/** Pure encoder: the bytes `emit(buf, ...args)` appends to an empty buffer (no labels allowed). */
export function enc<A extends unknown[]>(emit: (buf: CodeBuffer, ...args: A) => void, ...args: A): Uint8Array {
  const b = new CodeBuffer('x86_64', 32);
  emit(b, ...args);
  return b.linearBytes();
}
