// `jitbox execmem map --arch x86_64|arm64 [--scenario NAME] [--seed N] [--no-kaslr]`: build an
// address space, run a scenario on it and print its memory map (ranges, allocations, packs with
// utilisation, page-permission runs, ROX-cache blocks, modules, audit summary); `--json` prints the
// same as one JSON object.

import type { Command } from 'commander';
import { InvalidArgumentError } from '../../support/errors.js';
import { AddressSpace, ARCHES, type Arch, describeSpace, exampleModule, formatSpaceReport } from '../../execmem/index.js';
import { action, emit, type GlobalOptions } from '../cli-util.js';
import { placeBkeyScenario } from '../bkey/scenario.js';
import type { PlacementMode } from '../bkey/placement.js';
import { loadModuleFile } from '../module-file.js';

export const SCENARIOS = ['empty', 'bpf', 'modules', 'rox-cache', 'all', 'bkey', 'bkey-colocated', 'bkey-shared-pack', 'bkey-own-page', 'bkey-generic'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** A few packed BPF programs (two freed again, leaving trap-filled holes) and one page-path image. */
function bpfScenario(space: AddressSpace): void {
  const sizes = [96, 180, 333, 420, 610, 1024, 1800, 2500, 4000, 7000, 300, 64];
  const bins = sizes.map((n) => {
    const b = space.packs.binaryPackAlloc(n);
    const n4 = n & ~3;
    if (space.arch === 'x86_64') b.rw.fill(0x90, b.rwImageOffset, b.rwImageOffset + n);
    else for (let i = 0; i < n4; i += 4) new DataView(b.rw.buffer, b.rw.byteOffset).setUint32(b.rwImageOffset + i, 0xd503201f, true);
    space.packs.binaryPackFinalize(b);
    return b;
  });
  space.packs.binaryPackFree((bins[2] as (typeof bins)[number]).image);
  space.packs.binaryPackFree((bins[6] as (typeof bins)[number]).image);
  const page = space.packs.binaryAlloc(900);
  space.packs.binaryLockRo(page.header);
  space.defineKernelSymbol('bpf_map_lookup_elem', 64);
  space.defineKernelSymbol('bpf_ktime_get_ns', 32);
  space.vmalloc(16 * 1024, 'bpf stack');
}

function modulesScenario(space: AddressSpace): void {
  const m = space.modules.load(exampleModule(space.arch));
  space.modules.finishInit(m);
  const coming = space.modules.load(exampleModule(space.arch, 'jitbox_coming'));
  void coming;
}

/** x86 ROX cache: blocks for every cache consumer, some freed so free intervals merge. */
function roxCacheScenario(space: AddressSpace): void {
  if (space.roxCache === null) {
    throw new InvalidArgumentError(`the rox-cache scenario needs x86_64 with the ROX cache (arch ${space.arch})`);
  }
  const a = space.execmemAlloc('MODULE_TEXT', 3 * 4096);
  const b = space.execmemAlloc('KPROBES', 4096);
  const c = space.execmemAlloc('FTRACE', 2 * 4096);
  space.execmemAlloc('MODULE_TEXT', 5 * 4096);
  space.execmemFree(b);
  space.execmemFree(c);
  const big = space.execmemAlloc('MODULE_TEXT', 3 * 1024 * 1024);
  void a;
  void big;
}

export function runScenario(space: AddressSpace, scenario: Scenario, seed: number): void {
  void seed;
  if (scenario === 'bpf' || scenario === 'all') bpfScenario(space);
  if (scenario === 'modules' || scenario === 'all') modulesScenario(space);
  if (scenario === 'rox-cache' || (scenario === 'all' && space.roxCache !== null)) roxCacheScenario(space);
  if (scenario === 'bkey') placeBkeyScenario(space, seed);
  else if (scenario.startsWith('bkey-')) placeBkeyScenario(space, seed, [scenario.slice(5) as PlacementMode]);
}

interface MapOptions extends GlobalOptions {
  arch: string;
  scenario: string;
  seed: string;
  kaslr: boolean;
  module?: string[];
}

export function register(program: Command): void {
  const group = program.command('execmem').description('the simulated kernel executable-memory subsystem');
  group
    .command('map')
    .description(`print the memory map after a scenario (${SCENARIOS.join(', ')})`)
    .requiredOption('--arch <arch>', `architecture: ${ARCHES.join(' or ')}`)
    .option('--scenario <name>', `scenario: ${SCENARIOS.join(', ')}`, 'empty')
    .option('--seed <n>', 'random seed (KASLR offset, pack start offsets)', '1')
    .option('--no-kaslr', 'non-KASLR build (x86_64) / fixed module windows (arm64)')
    .option('--module <file...>', 'also load module descriptions (JSON, see examples/modules/) after the scenario')
    .action(
      action((_o: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<MapOptions>();
        if (!(ARCHES as readonly string[]).includes(o.arch)) {
          throw new InvalidArgumentError(`--arch must be ${ARCHES.join(' or ')}, got "${o.arch}"`, { arch: o.arch });
        }
        if (!(SCENARIOS as readonly string[]).includes(o.scenario)) {
          throw new InvalidArgumentError(`unknown scenario "${o.scenario}" (available: ${SCENARIOS.join(', ')})`, { scenario: o.scenario });
        }
        const seed = Number(o.seed);
        if (!Number.isSafeInteger(seed)) throw new InvalidArgumentError(`--seed must be an integer, got "${o.seed}"`);
        const space = new AddressSpace({ arch: o.arch as Arch, seed, kaslr: o.kaslr });
        runScenario(space, o.scenario as Scenario, seed);
        for (const file of o.module ?? []) loadModuleFile(space, file);
        const report = describeSpace(space);
        emit(o, { scenario: o.scenario, ...report }, () => `scenario ${o.scenario}\n${formatSpaceReport(report)}`);
      }),
    );
}
