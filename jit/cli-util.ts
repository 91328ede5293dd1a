// Shared plumbing for CLI commands: output in text or JSON, typed errors as one clear line.
//
// Contract (DEVELOPERS.md): with --json a command prints exactly one JSON object and nothing else;
// 64-bit values are hex strings. A JitboxError prints as one line (stack only with --debug) and the
// process exits non-zero; with --json the error is an object `{"error": ..., "kind": ..., ...}`.

import { isJitboxError } from '../support/errors.js';

export interface GlobalOptions {
  json?: boolean;
  debug?: boolean;
}

/** Print a command's result: JSON when asked, else the text renderer's lines. */
export function emit(opts: GlobalOptions, json: unknown, text: () => string): void {
  if (opts.json) process.stdout.write(JSON.stringify(json) + '\n');
  else process.stdout.write(text().replace(/\n?$/, '\n'));
}

/** Report an error per the contract above and set a failing exit code. */
export function reportError(e: unknown, opts: GlobalOptions): void {
  process.exitCode = 1;
  const asJson = opts.json === true;
  if (isJitboxError(e)) {
    if (asJson) process.stdout.write(JSON.stringify(e.toJSON()) + '\n');
    else process.stderr.write(`jitbox: ${e.message}\n`);
    if (opts.debug && e.stack) process.stderr.write(e.stack + '\n');
    return;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  if (asJson) process.stdout.write(JSON.stringify({ error: 'InternalError', kind: 'internal', message: err.message }) + '\n');
  else process.stderr.write(`jitbox: internal error: ${err.message}\n`);
  if (opts.debug && err.stack) process.stderr.write(err.stack + '\n');
}

/** Wrap a command action so every error goes through reportError. */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<void> | void,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const cmd = args[args.length - 1] as { optsWithGlobals?: () => GlobalOptions } | undefined;
    const opts: GlobalOptions = cmd && typeof cmd.optsWithGlobals === 'function' ? cmd.optsWithGlobals() : {};
    try {
      await fn(...args);
    } catch (e) {
      reportError(e, opts);
    }
  };
}
