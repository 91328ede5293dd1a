#!/usr/bin/env node
// The `jitbox` command line. Each command lives in jit/commands/<name>.ts and registers itself;
// this entry only assembles them (DEVELOPERS.md: nothing imports jit/ but the CLI and library
// entries). `buildProgram()` is also used by scripts/gen-cli-docs.mjs (docs/cli.md, README), so the
// program is parsed only when this file is the process's entry point.
//
// Errors: typed errors are printed by cli-util.ts action(); commander's own usage errors go through
// `usageError` below: one line `jitbox: ...` on stderr, or with --json one error object on stdout.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { cliErrorJson, oneLine } from './cli-util.js';
import { register as registerTour } from './commands/tour.js';
import { register as registerWx } from './commands/wx.js';
import { register as registerExecmem } from './commands/execmem.js';
import { register as registerAsm } from './commands/asm.js';
import { register as registerEmu } from './commands/emu.js';
import { register as registerBpf } from './commands/bpf.js';
import { register as registerUnpack } from './commands/unpack.js';
import { register as registerBench } from './commands/bench.js';
import { register as registerReport } from './commands/report.js';

export interface ProgramOptions {
  /** --json was given: usage errors become one JSON object on stdout, without the help text. */
  json?: boolean;
}

function usageError(json: boolean): (str: string, write: (s: string) => void) => void {
  return (str, write) => {
    const message = oneLine(str.replace(/^error:\s*/, ''));
    if (json) process.stdout.write(JSON.stringify(cliErrorJson({ name: 'UsageError', kind: 'usage', message, details: {} })) + '\n');
    else write(`jitbox: ${message}\n`);
  };
}

export function buildProgram(opts: ProgramOptions = {}): Command {
  const program = new Command();
  program
    .name('jitbox')
    .description('W^X-safe JIT sandbox: execmem, text_poke, BPF JITs and bcachefs unpackers on emulated x86_64/arm64')
    .option('--json', 'print one JSON object (64-bit values as hex strings) and nothing else')
    .option('--debug', 'print stack traces with errors')
    .option('--tier <tier>', 'emulator tier for guest code: interp | translate | auto (default: env JITBOX_TIER, else auto)')
    .hook('preAction', (cmd) => {
      const tier: unknown = cmd.opts().tier;
      if (tier === undefined) return;
      if (tier !== 'interp' && tier !== 'translate' && tier !== 'auto') cmd.error(`--tier must be interp, translate or auto, got ${String(tier)}`);
      process.env.JITBOX_TIER = String(tier);
    })
    .configureOutput({ outputError: usageError(opts.json === true) })
    .showHelpAfterError(opts.json === true ? false : '(jitbox --help for usage)');
  registerTour(program);
  registerWx(program);
  registerExecmem(program);
  registerAsm(program);
  registerEmu(program);
  registerBpf(program);
  registerUnpack(program);
  registerBench(program);
  registerReport(program);
  return program;
}

function isEntryPoint(): boolean {
  const argv1 = process.argv[1];
  if (argv1 === undefined) return false;
  try {
    return pathToFileURL(realpathSync(argv1)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isEntryPoint()) await buildProgram({ json: process.argv.includes('--json') }).parseAsync(process.argv);
