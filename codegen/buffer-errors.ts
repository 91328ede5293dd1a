// The CodeBuffer's errors (buffer.ts re-exports them): a branch or relocation out of reach, a label
// used but never bound, bound twice or named twice, and a relocation to an unknown symbol. Each is a
// JitboxError whose details name the label or symbol and the offset.

import { JitboxError } from '../support/errors.js';
import type { Label } from './buffer.js';

export class BranchRangeError extends JitboxError {
  constructor(target: string, kind: string, distance: number, minDelta: number, maxDelta: number, at: number, align = 1) {
    const misaligned = align > 1 && distance % align !== 0;
    super(
      'branch-range',
      `${kind} use of ${target} at offset ${at}: distance ${distance} ` +
        (misaligned ? `is not a multiple of ${align}` : `is out of reach [${minDelta}, ${maxDelta}]`),
      { target, kind, distance, minDelta, maxDelta, offset: at, align },
    );
  }
}

export class UnboundLabelError extends JitboxError {
  constructor(label: Label, uses: number, firstBy: string, firstAt: number) {
    super('unbound-label', `label "${label.name}" is used ${uses} time(s) (first by ${firstBy} at linear offset ${firstAt}) but never bound`, {
      label: label.name,
      uses,
      instruction: firstBy,
      offset: firstAt,
    });
  }
}

export class LabelAlreadyBoundError extends JitboxError {
  constructor(label: Label, at: number) {
    super('label-bound', `label "${label.name}" is already bound (at linear offset ${at})`, { label: label.name, offset: at });
  }
}

export class DuplicateLabelError extends JitboxError {
  constructor(name: string) {
    super('duplicate-label', `label name "${name}" is already used in this buffer`, { label: name });
  }
}

export class UnresolvedSymbolError extends JitboxError {
  constructor(symbol: string, at: number) {
    super('unresolved-symbol', `relocation at offset ${at} refers to unknown symbol "${symbol}"`, { symbol, offset: at });
  }
}
