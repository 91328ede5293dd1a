// Which translator serves which architecture (emulator/machine.ts asks here when a machine first
// uses the translation tier). An architecture without an entry is always interpreted.

import type { Arch } from '../../execmem/types.js';
import type { ArchTranslator } from './types.js';
import { X86Translator } from './x86_64.js';
import { Arm64Translator } from './arm64.js';

export function translatorFor(arch: Arch): ArchTranslator | null {
  switch (arch) {
    case 'x86_64':
      return new X86Translator();
    case 'arm64':
      return new Arm64Translator();
    default:
      return null;
  }
}
