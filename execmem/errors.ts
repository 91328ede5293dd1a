// Typed errors of the execmem layer. Each names the address (hex) and the operation that failed.
// Every operation that throws one of these has validated its input before changing anything, so
// the address space is exactly as it was before the call (tests check this with `stateDigest()`).

import { JitboxError, type ErrorDetails } from '../support/errors.js';
import { type VAddr, hexAddr } from '../support/u64.js';

/** No room left in a range (and its fallback window): execmem_alloc() would return NULL. */
export class ExecmemExhaustedError extends JitboxError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('execmem-exhausted', message, details);
  }
}

/** Freeing an address that was allocated and already freed. */
export class DoubleFreeError extends JitboxError {
  readonly address: VAddr;
  constructor(address: VAddr, what: string) {
    super('double-free', `double free of ${what} at ${hexAddr(address)}`, { address: hexAddr(address), what });
    this.address = address;
  }
}

/** Freeing an address this allocator never handed out (or not the start of an allocation). */
export class ForeignFreeError extends JitboxError {
  readonly address: VAddr;
  constructor(address: VAddr, what: string, hint = '') {
    super('foreign-free', `free of ${hexAddr(address)}: not the start of a live ${what}${hint ? ` (${hint})` : ''}`, {
      address: hexAddr(address),
      what,
    });
    this.address = address;
  }
}

export type PokeRefusal =
  | 'unmapped'
  | 'not-executable'
  | 'across-allocations'
  | 'out-of-bounds'
  | 'unaligned'
  | 'kernel-text'
  | 'empty';

/** text_poke_copy / text_poke_set / instruction patching refused the target range. */
export class TextPokeError extends JitboxError {
  readonly address: VAddr;
  readonly reason: PokeRefusal;
  constructor(op: string, address: VAddr, len: number, reason: PokeRefusal, explanation: string) {
    super('text-poke', `${op} of ${len} bytes at ${hexAddr(address)} refused: ${explanation}`, {
      address: hexAddr(address),
      len,
      op,
      reason,
    });
    this.address = address;
    this.reason = reason;
  }
}

/** A page would become (or was found) writable and executable, or code changed outside text_poke. */
export class WxViolationError extends JitboxError {
  readonly page: VAddr;
  readonly operation: string;
  constructor(page: VAddr, operation: string, what: string) {
    super('wx-violation', `W^X violation at page ${hexAddr(page)} during ${operation}: ${what}`, {
      page: hexAddr(page),
      operation,
    });
    this.page = page;
    this.operation = operation;
  }
}

/** A module description the loader refuses (ENOEXEC and friends). */
export class ModuleLoadError extends JitboxError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('module-load', message, details);
  }
}

/** BPF JIT memory over budget for an unprivileged loader (EPERM from bpf_jit_charge_modmem). */
export class BpfJitBudgetError extends JitboxError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('bpf-jit-budget', message, details);
  }
}
