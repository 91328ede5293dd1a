// The error every ELF/BTF loading failure becomes: a typed JitboxError naming the section, symbol
// or relocation at fault (details carry offsets as numbers, 64-bit values as hex strings).
import { type ErrorDetails, JitboxError } from '../../support/errors.js';

export class ElfError extends JitboxError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('elf', message, details);
  }
}
