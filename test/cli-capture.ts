// Runs a commander program in this process with stdout and stderr captured and process.exitCode
// isolated (the CLI's typed-error paths set exitCode instead of exiting): the one in-process CLI
// runner of the test suites. `onThrow` decides what an exception out of parseAsync becomes.
import type { Command } from 'commander';

export interface CapturedRun {
  status: number;
  stdout: string;
  stderr: string;
}

export async function runCaptured(program: Command, args: readonly string[], onThrow: 'rethrow' | 'exit-1' = 'rethrow'): Promise<CapturedRun> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const before = process.exitCode;
  process.exitCode = 0;
  process.stdout.write = ((c: string | Uint8Array) => ((stdout += String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => ((stderr += String(c)), true)) as typeof process.stderr.write;
  try {
    await program.parseAsync(['node', 'jitbox', ...args]);
  } catch (e) {
    if (onThrow === 'rethrow') throw e;
    process.exitCode = 1;
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  const status = Number(process.exitCode ?? 0);
  process.exitCode = before;
  return { status, stdout, stderr };
}
