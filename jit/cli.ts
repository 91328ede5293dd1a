#!/usr/bin/env node
// The `jitbox` command line. Each command lives in jit/commands/<name>.ts and registers itself;
// this entry only assembles them (DEVELOPERS.md: nothing imports jit/ but the CLI and library entries).

import { Command } from 'commander';
import { register as registerTour } from './commands/tour.js';
import { register as registerExecmem } from './commands/execmem.js';
import { register as registerAsm } from './commands/asm.js';
import { register as registerEmu } from './commands/emu.js';
import { register as registerBpf } from './commands/bpf.js';
import { register as registerUnpack } from './commands/unpack.js';
import { register as registerBench } from './commands/bench.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('jitbox')
    .description('W^X-safe JIT sandbox: execmem, text_poke, BPF JITs and bcachefs unpackers on emulated x86_64/arm64')
    .option('--json', 'print one JSON object (64-bit values as hex strings) and nothing else')
    .option('--debug', 'print stack traces with errors')
    .showHelpAfterError();
  registerTour(program);
  registerExecmem(program);
  registerAsm(program);
  registerEmu(program);
  registerBpf(program);
  registerUnpack(program);
  registerBench(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
