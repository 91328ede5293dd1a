// arm64-specific synchronous faults (the shared ones live in emulator/errors.ts).
//
// Each carries the guest pc and the instruction text; 64-bit values in `details` are hex strings.
// Imitates the Arm exception classes a Linux user would see as SIGBUS/SIGILL: alignment faults of
// exclusive and atomic accesses (EC 0x24 DFSC alignment), PC alignment (EC 0x22), and Branch Target
// exceptions (EC 0x0d) when BTI enforcement is on.

import { JitboxError } from '../../support/errors.js';
import { type VAddr, hexAddr } from '../../support/u64.js';

/** An exclusive, acquire/release or LSE atomic access not aligned to its size. */
export class AlignmentFault extends JitboxError {
  readonly address: VAddr;
  readonly pc: VAddr;
  constructor(address: VAddr, size: number, pc: VAddr, insn: string) {
    super('alignment-fault', `alignment fault: ${size}-byte atomic/exclusive access to ${hexAddr(address)} at pc ${hexAddr(pc)} (${insn})`, {
      address: hexAddr(address),
      size,
      pc: hexAddr(pc),
      insn,
    });
    this.address = address;
    this.pc = pc;
  }
}

/** A branch to an address that is not 4-byte aligned (br/blr/ret with low bits set). */
export class PcAlignmentFault extends JitboxError {
  readonly target: VAddr;
  readonly pc: VAddr;
  constructor(target: VAddr, pc: VAddr) {
    super('pc-alignment-fault', `pc alignment fault: branch to ${hexAddr(target)} from ${hexAddr(pc)}`, {
      target: hexAddr(target),
      pc: hexAddr(pc),
    });
    this.target = target;
    this.pc = pc;
  }
}

/** BTI enforcement: an indirect branch landed on an instruction that is not a compatible BTI. */
export class BranchTargetFault extends JitboxError {
  readonly target: VAddr;
  readonly pc: VAddr;
  constructor(target: VAddr, pc: VAddr, branch: string, landing: string) {
    super('branch-target-fault', `branch target exception: ${branch} at ${hexAddr(pc)} landed on "${landing}" at ${hexAddr(target)} (not a compatible bti)`, {
      target: hexAddr(target),
      pc: hexAddr(pc),
      branch,
      landing,
    });
    this.target = target;
    this.pc = pc;
  }
}
