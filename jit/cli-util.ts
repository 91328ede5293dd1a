// Shared plumbing for CLI commands: output in text or JSON, typed errors as one clear line.
//
// Contract (DEVELOPERS.md): with --json a command prints exactly one JSON object and nothing else;
// 64-bit values are hex strings. Any error prints as one line on stderr (`jitbox: <message>`; the
// stack only with --debug) and the process exits non-zero; with --json the error is one object on
// stdout: `{"error": {"name", "kind", "message", "details"}, "kind", "message", "details"}`.
// `error` is the canonical record; the top-level `kind`/`message`/`details` mirror it for the
// scripts and tests written against the earlier flat shape.

import { InvalidArgumentError, isJitboxError } from '../support/errors.js';

export interface GlobalOptions {
  json?: boolean;
  debug?: boolean;
}

/** Print a command's result: JSON when asked, else the text renderer's lines. */
export function emit(opts: GlobalOptions, json: unknown, text: () => string): void {
  if (opts.json) process.stdout.write(JSON.stringify(json) + '\n');
  else process.stdout.write(text().replace(/\n?$/, '\n'));
}

/** `--set key=value` pairs as a settings map (a later key wins); a pair without a key throws. */
export function parseSettings(pairs: readonly string[]): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const kv of pairs) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new InvalidArgumentError(`--set expects key=value, got "${kv}"`);
    settings[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return settings;
}

export interface CliErrorRecord {
  name: string;
  kind: string;
  message: string;
  details: Record<string, unknown>;
}

/** The JSON printed for a failed command (see the contract above). */
export interface CliErrorJson {
  error: CliErrorRecord;
  kind: string;
  message: string;
  details: Record<string, unknown>;
}

/** A message on one line: embedded newlines become " | ". */
export function oneLine(message: string): string {
  return message.trim().replace(/\s*\n\s*/g, ' | ');
}

/** The record of any thrown value: typed errors keep their kind and details; the rest are "internal". */
export function cliErrorRecord(e: unknown): CliErrorRecord {
  if (isJitboxError(e)) return { name: e.name, kind: e.kind, message: oneLine(e.message), details: { ...e.details } };
  const err = e instanceof Error ? e : new Error(String(e));
  return { name: 'InternalError', kind: 'internal', message: oneLine(err.message), details: {} };
}

export function cliErrorJson(rec: CliErrorRecord): CliErrorJson {
  return { error: rec, kind: rec.kind, message: rec.message, details: rec.details };
}

/** Report an error per the contract above and set a failing exit code. */
export function reportError(e: unknown, opts: GlobalOptions): void {
  process.exitCode = 1;
  const rec = cliErrorRecord(e);
  if (opts.json === true) process.stdout.write(JSON.stringify(cliErrorJson(rec)) + '\n');
  else process.stderr.write(`jitbox: ${rec.kind === 'internal' ? 'internal error: ' : ''}${rec.message}\n`);
  const stack = e instanceof Error ? e.stack : undefined;
  if (opts.debug && stack) process.stderr.write(stack + '\n');
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
