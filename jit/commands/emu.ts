// `jitbox emu <code.bin | --hex "48 89 f8 c3"> --arch x86_64|arm64 [--args 1,2,3] [--mem-hex ...]
//  [--trace] [--budget N] [--json]`: places raw code the way a JIT does (execmemAlloc gives ROX
// memory, textPokeCopy writes it), calls it with integer arguments in the SysV / AAPCS64 argument
// registers and prints the return value, every general register and the counters. `--mem-hex` bytes
// go into RW (vmalloc) memory whose address becomes the first argument. `--trace` prints each
// executed instruction with Capstone's text. JSON: {"arch","entry","ret","regs":{...},"insns",
// "loads","stores","branches","trace"?:[{"pc","text"}]} with 64-bit values as "0x..." strings.
// `--model skylake|neoverse-n1 [--set l1d.sizeBytes=64k ...]` runs the call through the cache/TLB
// model (emulator/hierarchy, cold caches) and prints its statistics table and configuration with
// the source status of each value; JSON adds "model": {"config","confirmed","stats"}.

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AddressSpace } from '../../execmem/index.js';
import { createCpu, type TraceEvent } from '../../emulator/index.js';
import {
  CONFIRMED, describeConfig, formatStats, hierarchyConfigFor, isPresetName, MemoryHierarchy, parseSetList, statsJson,
} from '../../emulator/hierarchy/index.js';
import { initCapstone } from '../../support/capstone.js';
import { InvalidArgumentError } from '../../support/errors.js';
import { hex64, hexAddr, hexToBytes, parseU64, type U64, vaddrToPair } from '../../support/u64.js';
import { type GlobalOptions, action, emit } from '../cli-util.js';
import { parseArch } from './asm.js';

interface EmuOptions extends GlobalOptions {
  arch: string;
  hex?: string;
  args?: string;
  memHex?: string;
  trace?: boolean;
  budget: string;
  seed: string;
  model?: string;
  set: string[];
}

function parseArgs(text: string | undefined): U64[] {
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map((t) => {
    const p = parseU64(t);
    if (!p) throw new InvalidArgumentError(`--args: "${t}" is not a 64-bit integer`, { arg: t });
    return p;
  });
}

export function register(program: Command): void {
  program
    .command('emu')
    .description('run raw machine code on the emulator (placed ROX via execmem + text_poke)')
    .argument('[code]', 'file with raw code bytes (or use --hex)')
    .requiredOption('--arch <arch>', 'x86_64 or arm64')
    .option('--hex <bytes>', 'code bytes in hex ("48 89 f8 c3")')
    .option('--args <list>', 'integer arguments, comma separated (decimal or 0x hex)')
    .option('--mem-hex <bytes>', 'bytes placed in RW memory; their address is passed as the first argument')
    .option('--trace', 'print every executed instruction')
    .option('--budget <n>', 'instruction budget', '100000000')
    .option('--seed <n>', 'address-space layout seed', '1')
    .option('--model <preset>', 'run through the cache/TLB model: skylake or neoverse-n1')
    .option('--set <key=value>', 'model parameter override, repeatable (l1d.sizeBytes=64k, itlb.entries4k=64, cycles.walk=30, llc=none ...)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .action(
      action(async (file: string | undefined, _o: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<EmuOptions>();
        const arch = parseArch(o.arch);
        let code: Uint8Array | null;
        if (o.hex !== undefined) {
          if (file !== undefined) throw new InvalidArgumentError('give either a code file or --hex, not both');
          code = hexToBytes(o.hex);
          if (!code) throw new InvalidArgumentError(`--hex is not a list of hex bytes: "${o.hex}"`, { hex: o.hex });
        } else if (file !== undefined) {
          try {
            code = new Uint8Array(readFileSync(file));
          } catch (e) {
            throw new InvalidArgumentError(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`, { file });
          }
        } else throw new InvalidArgumentError('no code: give a file or --hex');
        if (code.length === 0) throw new InvalidArgumentError('the code is empty');
        const budget = Number(o.budget);
        if (!Number.isSafeInteger(budget) || budget <= 0) throw new InvalidArgumentError(`--budget must be a positive integer, got "${o.budget}"`);
        const seed = Number(o.seed);
        if (!Number.isInteger(seed)) throw new InvalidArgumentError(`--seed must be an integer, got "${o.seed}"`);
        const args = parseArgs(o.args);
        if (o.set.length > 0 && o.model === undefined) throw new InvalidArgumentError('--set needs --model');
        const overrides = parseSetList(o.set);
        const modelCfg = o.model !== undefined ? hierarchyConfigFor(o.model, overrides) : null;
        await initCapstone();
        const space = new AddressSpace({ arch, seed });
        const entry = space.execmemAlloc('BPF', code.length);
        space.textPokeCopy(entry, code);
        if (arch === 'arm64') space.flushIcacheRange(entry, code.length);
        if (o.memHex !== undefined) {
          const mem = hexToBytes(o.memHex);
          if (!mem) throw new InvalidArgumentError(`--mem-hex is not a list of hex bytes: "${o.memHex}"`);
          const addr = space.vmalloc(Math.max(mem.length, 1), 'emu --mem-hex');
          space.write(addr, mem);
          args.unshift(vaddrToPair(addr));
        }
        const cpu = createCpu(arch, space);
        const model = modelCfg ? new MemoryHierarchy(space, modelCfg) : null;
        const trace: TraceEvent[] = [];
        const r = cpu.call(entry, args, { budget, trace: o.trace ? (e) => trace.push(e) : undefined, observer: model ?? undefined });
        const stats = model?.stats() ?? null;
        const regs: Record<string, string> = {};
        for (const [name, v] of Object.entries(r.regs)) regs[name] = hex64(v.lo, v.hi);
        const json = {
          arch,
          entry: hexAddr(entry),
          ret: hex64(r.ret.lo, r.ret.hi),
          regs,
          insns: r.counters.insns,
          loads: r.counters.loads,
          stores: r.counters.stores,
          branches: r.counters.branches,
          ...(o.trace ? { trace: trace.map((t) => ({ pc: hexAddr(t.pc), text: t.text })) } : {}),
          ...(modelCfg && stats
            ? {
                model: {
                  config: modelCfg,
                  overrides,
                  confirmed: o.model !== undefined && isPresetName(o.model) ? CONFIRMED[o.model] : [],
                  stats: statsJson(stats),
                },
              }
            : {}),
        };
        emit(o, json, () => {
          const lines: string[] = [];
          for (const t of trace) lines.push(`${hexAddr(t.pc)}: ${t.text}`);
          lines.push(`ret ${json.ret}`);
          const names = Object.keys(regs);
          for (let i = 0; i < names.length; i += 4) {
            lines.push(names.slice(i, i + 4).map((n) => `${n.padStart(3)} ${regs[n]}`).join('  '));
          }
          lines.push(`insns ${r.counters.insns}  loads ${r.counters.loads}  stores ${r.counters.stores}  branches taken ${r.counters.branches}`);
          if (modelCfg && stats) lines.push('', formatStats(stats), '', describeConfig(modelCfg, o.model ?? null, overrides));
          return lines.join('\n');
        });
      }),
    );
}
