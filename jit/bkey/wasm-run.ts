// Running the binaryen-built unpackers (codegen/bkey/wasm.ts) natively in the host's WebAssembly
// engine, over an imported WebAssembly.Memory so the same memory can later be shared with execmem.
//
// Invariants: modules are instantiated synchronously (they are a few hundred bytes); callers pass
// byte addresses inside `memory`; the generic module reads the 56-byte bkey_format encoding
// (jit/bkey/format.ts encodeFormat) from memory.

import { buildWasmGenericUnpacker, buildWasmUnpacker } from '../../codegen/bkey/wasm.js';
import type { BkeyFormat } from './format.js';
import { BKEY_BYTES, encodeFormat } from './format.js';

export interface WasmUnpackFns {
  unpack(dst: number, src: number): void;
  unpackBatch(dst: number, src: number, n: number, stride: number): void;
  codeBytes: number;
}

export interface WasmGenericFns {
  unpack(fmt: number, dst: number, src: number): void;
  unpackBatch(fmt: number, dst: number, src: number, n: number, stride: number): void;
  codeBytes: number;
}

function instantiate(bytes: Uint8Array, memory: WebAssembly.Memory): Record<string, unknown> {
  const mod = new WebAssembly.Module(new Uint8Array(bytes));
  return new WebAssembly.Instance(mod, { env: { memory } }).exports as Record<string, unknown>;
}

type Fn = (...a: number[]) => void;

export function instantiateWasmUnpacker(f: BkeyFormat, memory: WebAssembly.Memory): WasmUnpackFns {
  const built = buildWasmUnpacker(f);
  const ex = instantiate(built.bytes, memory);
  return { unpack: ex.unpack as Fn, unpackBatch: ex.unpack_batch as Fn, codeBytes: built.size };
}

let genericBytes: Uint8Array | null = null;

export function instantiateWasmGeneric(memory: WebAssembly.Memory): WasmGenericFns {
  genericBytes ??= buildWasmGenericUnpacker().bytes;
  const ex = instantiate(genericBytes, memory);
  return { unpack: ex.unpack_generic as Fn, unpackBatch: ex.unpack_generic_batch as Fn, codeBytes: genericBytes.length };
}

/**
 * A small arena: [0, 64) the format, then `n` packed keys at `stride` bytes (8 readable bytes
 * before each), then n 40-byte outputs. For tests, the fuzzer and the CLI.
 */
export class WasmUnpackArena {
  readonly memory: WebAssembly.Memory;
  readonly fmtAt = 0;
  readonly srcAt = 64;
  readonly stride: number;
  readonly dstAt: number;

  constructor(readonly format: BkeyFormat, readonly capacity: number) {
    this.stride = 8 + 8 * format.keyU64s;
    this.dstAt = this.srcAt + 8 + capacity * this.stride + 64;
    const need = this.dstAt + capacity * BKEY_BYTES;
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(need / 65536) + 1 });
    encodeFormat(format, this.bytes(), this.fmtAt);
  }

  bytes(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }

  /** Address of key slot i (8 bytes after the slot start). */
  keyAt(i: number): number {
    return this.srcAt + 8 + i * this.stride;
  }

  dstOf(i: number): number {
    return this.dstAt + i * BKEY_BYTES;
  }

  output(i: number): Uint8Array {
    return this.bytes().slice(this.dstOf(i), this.dstOf(i) + BKEY_BYTES);
  }
}
