// Typed errors of the arm64 encoders (support/errors.ts conventions).
//
// Every encoder validates all operands before it builds a word, so a throw leaves the buffer
// unchanged. `details` always names the instruction (`instruction`, as the x86 encoder does) and the operand (`operand`); the
// offending value is a decimal number or, for 64-bit values, a "0x..." hex string.

import { JitboxError, type ErrorDetails } from '../../support/errors.js';

/** An immediate does not fit its field or is not encodable (e.g. not a bitmask immediate). */
export class ImmediateRangeError extends JitboxError {
  constructor(insn: string, operand: string, value: number | string, expected: string, extra: ErrorDetails = {}) {
    super('arm64-immediate', `${insn}: ${operand} = ${value} is not encodable (${expected})`, { instruction: insn, operand, value, expected, ...extra });
  }
}

/** A register of the wrong class or width for the operand position (SP where XZR is meant, W where X is required...). */
export class RegisterClassError extends JitboxError {
  constructor(insn: string, operand: string, reg: string, expected: string) {
    super('arm64-register', `${insn}: ${operand} = ${reg} is not allowed here (expected ${expected})`, { instruction: insn, operand, reg, expected });
  }
}

/** A scaled offset or branch displacement that is not a multiple of its scale. */
export class MisalignedOffsetError extends JitboxError {
  constructor(insn: string, operand: string, value: number | string, scale: number) {
    super('arm64-alignment', `${insn}: ${operand} = ${value} is not a multiple of ${scale}`, { instruction: insn, operand, value, scale });
  }
}
