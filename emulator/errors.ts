// Typed faults and errors of the emulator (both cores).
//
// Invariants: every way guest code can stop other than returning to the sentinel is one of these
// classes (or execmem's PageFault / StaleIcacheFault with the guest pc attached); 64-bit values in
// `details` are hex strings. A hardware exception the guest raised (#DE, #BP, #UD, brk) is a
// GuestTrap; a disagreement between our decoder and Capstone is a DecoderMismatchError (a jitbox
// bug or a Capstone quirk, never silently ignored).

import { JitboxError } from '../support/errors.js';
import { type VAddr, hexAddr } from '../support/u64.js';

/** Bytes at pc do not form an instruction (neither Capstone nor our decoder accepts them). */
export class InvalidInstructionError extends JitboxError {
  readonly pc: VAddr;
  constructor(pc: VAddr, bytes: string, why: string) {
    super('invalid-instruction', `invalid instruction at ${hexAddr(pc)}: ${why} (bytes ${bytes})`, { pc: hexAddr(pc), bytes });
    this.pc = pc;
  }
}

/** Capstone decodes the bytes but this emulator does not implement the instruction. */
export class UnsupportedInstructionError extends JitboxError {
  readonly pc: VAddr;
  constructor(pc: VAddr, text: string, bytes: string) {
    super('unsupported-instruction', `unsupported instruction ${text} at ${hexAddr(pc)}`, { pc: hexAddr(pc), insn: text, bytes });
    this.pc = pc;
  }
}

/** Our decoding of an instruction disagrees with Capstone's (length, mnemonic or operands). */
export class DecoderMismatchError extends JitboxError {
  readonly pc: VAddr;
  constructor(pc: VAddr, bytes: string, ours: string, capstone: string, what: string) {
    super('decoder-mismatch', `decoder mismatch at ${hexAddr(pc)} (bytes ${bytes}): ${what}: emulator "${ours}" vs Capstone "${capstone}"`, {
      pc: hexAddr(pc),
      bytes,
      emulator: ours,
      capstone,
      what,
    });
    this.pc = pc;
  }
}

/** The instruction budget of a call ran out. */
export class BudgetExceededError extends JitboxError {
  readonly pc: VAddr;
  readonly insns: number;
  constructor(budget: number, insns: number, pc: VAddr) {
    super('budget-exceeded', `instruction budget of ${budget} exhausted after ${insns} instructions (next pc ${hexAddr(pc)})`, {
      budget,
      insns,
      pc: hexAddr(pc),
    });
    this.pc = pc;
    this.insns = insns;
  }
}

export type TrapKind = 'int3' | 'ud2' | 'divide-error' | 'brk' | 'udf';

/** A synchronous exception raised by the guest instruction at pc (#BP, #UD, #DE, arm64 brk/udf). */
export class GuestTrap extends JitboxError {
  readonly pc: VAddr;
  readonly trap: TrapKind;
  constructor(trap: TrapKind, pc: VAddr, insn: string, why?: string) {
    const name = trap === 'divide-error' ? 'divide error (#DE)' : `trap (${trap})`;
    super('guest-trap', `${name} at ${hexAddr(pc)}: ${insn}${why ? ` (${why})` : ''}`, { trap, pc: hexAddr(pc), insn });
    this.pc = pc;
    this.trap = trap;
  }
}

/** A registered host function threw or returned something that is not a 64-bit integer. */
export class HostFunctionError extends JitboxError {
  constructor(name: string, addr: VAddr, why: string) {
    super('host-function', `host function ${name} at ${hexAddr(addr)}: ${why}`, { name, address: hexAddr(addr) });
  }
}
