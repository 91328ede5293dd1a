// Typed errors shared by every layer.
//
// Invariants:
// - Every error a user can provoke is a subclass of JitboxError with a stable `kind` string and a
//   `details` record naming the place that caused it (address, pc, instruction, field, key...).
// - 64-bit values in `details` are hex strings ("0x..."), never BigInt, so `toJSON()` is plain JSON.
// - An operation that throws a JitboxError leaves the model unchanged (callers validate before they
//   mutate); tests check this explicitly.
// The CLI prints `message` as one line (stack only with --debug) and `toJSON()` with --json.

export type ErrorDetails = Record<string, string | number | boolean | null | undefined | string[] | number[]>;

export class JitboxError extends Error {
  readonly kind: string;
  readonly details: ErrorDetails;

  constructor(kind: string, message: string, details: ErrorDetails = {}) {
    super(message);
    this.kind = kind;
    this.details = details;
    this.name = new.target.name;
  }

  toJSON(): { error: string; kind: string; message: string; details: ErrorDetails } {
    return { error: this.name, kind: this.kind, message: this.message, details: this.details };
  }
}

/** A user-supplied argument is malformed (wrong type, out of range, not an integer...). */
export class InvalidArgumentError extends JitboxError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('invalid-argument', message, details);
  }
}

/** Input text or bytes could not be parsed (JSON, hex, .data files, ELF...). */
export class ParseError extends JitboxError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('parse', message, details);
  }
}

/** A feature that exists in the real system but is deliberately not modelled. */
export class UnsupportedError extends JitboxError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('unsupported', message, details);
  }
}

/** An internal invariant did not hold: a bug in jitbox, never a user error. */
export class InvariantError extends JitboxError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('invariant', message, details);
  }
}

export function isJitboxError(e: unknown): e is JitboxError {
  return e instanceof JitboxError;
}
