// `jitbox run`, `jitbox conformance`, `jitbox conformance-plugin`: running BPF programs.
//
// - run <prog.o|.data|.asm|.bin>: loads the program (ELF via elf.ts, a conformance file, assembler
//   text or raw slots), runs it and prints r0 in hex. The verifier (verifier.ts) checks it first,
//   as the kernel's bpf_check does before any engine sees a program: the default rules always
//   (`--no-verify` skips them), `--strict` adds the pre-5.3 rules (no back-edges, no unreachable
//   code, no recursion, no constant zero divisor). A rejection is one line / one JSON object.
// - conformance <files or dirs>: runs .data files, prints each failure with expected and actual and
//   ends with `N passed, N failed`; exits non-zero on any failure.
// - conformance-plugin [MEMORY-HEX]: the bpf_conformance runner's plugin protocol (tools/
//   bpf_conformance.cc, ubpf_plugin): program hex on stdin, r0 hex on stdout, exit 0; on error the
//   message on stderr and a non-zero exit.
// - disasm <prog> --arch x86_64: the JIT listing (jit/bpf/jit-listing.ts).
// `--arch` selects the engine: interp, or x86_64 (JIT in the emulator, jit/bpf/jit.ts); arm64 is an
// UnsupportedError until its backend lands.

import type { Command } from 'commander';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join, basename } from 'node:path';
import { InvalidArgumentError, ParseError, UnsupportedError } from '../../support/errors.js';
import { type U64, hex64, hexToBytes } from '../../support/u64.js';
import { assemble } from '../bpf/asm.js';
import { type ConformanceEngine, type ConformanceOutcome, parseConformance, runConformanceTest } from '../bpf/conformance.js';
import { loadElf } from '../bpf/elf.js';
import { conformanceProfile } from '../bpf/helpers-conformance.js';
import { kernelProfile } from '../bpf/helpers-kernel.js';
import { BpfInterpreter, loadProgram } from '../bpf/interp.js';
import { instantiate } from '../bpf/maps.js';
import { type BpfProgram, type HelperProfile, type RunResult, DEFAULT_BUDGET, u64ToHex } from '../bpf/runtime.js';
import { action, emit, type GlobalOptions } from '../cli-util.js';
import { jitCompile, runJit } from '../bpf/jit.js';
import { BpfJitHost } from '../bpf/jit-host.js';
import { formatJitListing, jitListingJson } from '../bpf/jit-listing.js';
import { initCapstone } from '../../support/capstone.js';
import { verifyProgram } from '../bpf/verifier.js';

const sharedHosts = new Map<'x86_64' | 'arm64', BpfJitHost>();
/** One JIT host per process and arch: programs share its packs as the kernel's share bpf_prog_pack. */
function jitHost(arch: 'x86_64' | 'arm64' = 'x86_64'): BpfJitHost {
  let h = sharedHosts.get(arch);
  if (!h) {
    h = new BpfJitHost({ arch });
    sharedHosts.set(arch, h);
  }
  return h;
}

export const BPF_ARCHES = ['interp', 'x86_64', 'arm64'] as const;
export type BpfArch = (typeof BPF_ARCHES)[number];

export function parseArch(a: string): BpfArch {
  if (!(BPF_ARCHES as readonly string[]).includes(a)) throw new InvalidArgumentError(`--arch must be one of ${BPF_ARCHES.join(', ')}, got "${a}"`, { arch: a });
  return a as BpfArch;
}

export function profileByName(name: string): HelperProfile {
  if (name === 'conformance') return conformanceProfile;
  if (name === 'kernel') return kernelProfile;
  throw new InvalidArgumentError(`--profile must be conformance or kernel, got "${name}"`, { profile: name });
}

/** Run a program on the selected engine. The JIT issue replaces the x86_64/arm64 branch. */
export function runOnArch(arch: BpfArch, prog: BpfProgram, profile: HelperProfile, mem: Uint8Array, budget: number, harden = false): RunResult {
  if (arch === 'x86_64' || arch === 'arm64') return runJit(prog, { arch, profile, mem, budget, harden, host: jitHost(arch) });
  if (arch !== 'interp') throw new UnsupportedError(`--arch ${arch}: the BPF JIT is not built yet (use --arch interp)`, { arch });
  return new BpfInterpreter(prog, profile).run({ mem, budget });
}

export function conformanceEngine(arch: BpfArch, budget = DEFAULT_BUDGET): ConformanceEngine {
  if (arch === 'x86_64' || arch === 'arm64') return (program, mem) => runOnArch(arch, loadProgram(program), conformanceProfile, mem, budget).r0;
  if (arch !== 'interp') throw new UnsupportedError(`--arch ${arch}: the BPF JIT is not built yet (use --arch interp)`, { arch });
  return (program, mem) => runOnArch(arch, loadProgram(program), conformanceProfile, mem, budget).r0;
}

function parseBudget(t: string | undefined): number {
  if (t === undefined) return DEFAULT_BUDGET;
  const n = Number(t);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`--budget must be a positive integer, got "${t}"`);
  return n;
}

function memHex(text: string, what: string): Uint8Array {
  const b = hexToBytes(text);
  if (!b) throw new ParseError(`${what}: not hex bytes: "${text.length > 60 ? text.slice(0, 60) + '...' : text}"`);
  return b;
}

function readInput(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new InvalidArgumentError(`cannot read "${path}": ${(e as Error).message}`, { path });
  }
}

interface RunCliOptions extends GlobalOptions {
  arch: string;
  section?: string;
  mem?: string;
  memHex?: string;
  profile?: string;
  budget?: string;
  harden?: boolean;
  strict?: boolean;
  /** undefined (the default) or true: verify; false (`--no-verify`): skip. */
  verify?: boolean;
}

type VerifyMode = 'default' | 'strict' | 'off';

function verifyMode(o: RunCliOptions): VerifyMode {
  if (o.strict === true) {
    if (o.verify === false) throw new InvalidArgumentError('--strict verifies: it cannot be combined with --no-verify');
    return 'strict';
  }
  return o.verify === false ? 'off' : 'default';
}

function runCommand(file: string, o: RunCliOptions): void {
  const arch = parseArch(o.arch);
  const budget = parseBudget(o.budget);
  const mode = verifyMode(o);
  if (o.mem !== undefined && o.memHex !== undefined) throw new InvalidArgumentError('give --mem or --mem-hex, not both');
  const bytes = readInput(file);
  const ext = extname(file).toLowerCase();
  let prog: BpfProgram;
  let mem: Uint8Array = new Uint8Array(0);
  let profileName = o.profile;
  let expected: U64 | null = null;
  let section: string | null = null;
  if (ext === '.o') {
    const obj = loadElf(bytes, o.section !== undefined ? { section: o.section } : {});
    const inst = instantiate(obj);
    const first = inst.programs[0];
    if (!first) throw new InvalidArgumentError(`"${file}" holds no BPF program`, { file });
    prog = first;
    section = obj.programs[0]?.section ?? null;
    profileName ??= 'kernel';
  } else if (ext === '.data') {
    const t = parseConformance(new TextDecoder().decode(bytes), file);
    if (t.program.length === 0) throw new ParseError(`${file}: no program (${t.skip ?? 'empty'})`, { file });
    prog = loadProgram(t.program, t.name);
    mem = t.mem;
    if (t.expect?.kind === 'result') expected = t.expect.r0;
  } else if (ext === '.asm' || ext === '.s') {
    prog = loadProgram(assemble(new TextDecoder().decode(bytes)), basename(file));
  } else if (ext === '.bin') {
    prog = loadProgram(bytes, basename(file));
  } else throw new InvalidArgumentError(`unknown program type "${ext}" (expected .o, .data, .asm or .bin)`, { file });
  if (o.section !== undefined && ext !== '.o') throw new InvalidArgumentError('--section applies to .o files only');
  if (o.mem !== undefined) mem = readInput(o.mem);
  if (o.memHex !== undefined) mem = memHex(o.memHex, '--mem-hex');
  const profile = profileByName(profileName ?? 'conformance');
  if (mode !== 'off') verifyProgram(prog.insns, { profile, strict: mode === 'strict', ...(prog.maps ? { maps: prog.maps } : {}) });
  const r = runOnArch(arch, prog, profile, mem, budget, o.harden === true);
  const json: Record<string, unknown> = {
    r0: hex64(r.r0.lo, r.r0.hi),
    insns: r.insns,
    exitedBy: r.exitedBy,
    program: prog.name,
    arch,
    profile: profile.name,
    verifier: mode,
    trace: r.trace,
  };
  if (section !== null) json.section = section;
  if (expected !== null) json.expected = hex64(expected.lo, expected.hi);
  emit(o, json, () => {
    const lines = [`r0 = ${u64ToHex(r.r0)}`, `insns = ${r.insns}${r.exitedBy === 'unwind' ? ' (ended by the unwind helper)' : ''}`];
    if (expected !== null) lines.push(`expected = ${u64ToHex(expected)} (${expected.lo === r.r0.lo && expected.hi === r.r0.hi ? 'match' : 'MISMATCH'})`);
    for (const t of r.trace) lines.push(`trace: ${t}`);
    return lines.join('\n');
  });
}

interface DisasmCliOptions extends GlobalOptions {
  arch: string;
  section?: string;
  profile?: string;
  harden?: boolean;
  checks?: boolean;
}

/** The program a file holds and its default profile (as `run` reads it). */
function loadForDisasm(file: string, section: string | undefined): { prog: BpfProgram; profile: string } {
  const bytes = readInput(file);
  const ext = extname(file).toLowerCase();
  if (ext === '.o') {
    const first = instantiate(loadElf(bytes, section !== undefined ? { section } : {})).programs[0];
    if (!first) throw new InvalidArgumentError(`"${file}" holds no BPF program`, { file });
    return { prog: first, profile: 'kernel' };
  }
  if (section !== undefined) throw new InvalidArgumentError('--section applies to .o files only');
  if (ext === '.data') {
    const t = parseConformance(new TextDecoder().decode(bytes), file);
    if (t.program.length === 0) throw new ParseError(`${file}: no program (${t.skip ?? 'empty'})`, { file });
    return { prog: loadProgram(t.program, t.name), profile: 'conformance' };
  }
  if (ext === '.asm' || ext === '.s') return { prog: loadProgram(assemble(new TextDecoder().decode(bytes)), basename(file)), profile: 'conformance' };
  if (ext === '.bin') return { prog: loadProgram(bytes, basename(file)), profile: 'conformance' };
  throw new InvalidArgumentError(`unknown program type "${ext}" (expected .o, .data, .asm or .bin)`, { file });
}

async function disasmCommand(file: string, o: DisasmCliOptions): Promise<void> {
  const arch = parseArch(o.arch);
  if (arch === 'interp') throw new InvalidArgumentError('disasm needs a JIT --arch (x86_64 or arm64)');
  await initCapstone();
  const { prog, profile } = loadForDisasm(file, o.section);
  const jp = jitCompile(prog, { arch, profile: profileByName(o.profile ?? profile), harden: o.harden === true, memoryChecks: o.checks !== false, host: jitHost(arch) });
  emit(o, jitListingJson(jp), () => formatJitListing(jp));
}

/** .data files named by the arguments (directories are searched one level, sorted). */
export function collectDataFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new InvalidArgumentError(`no such file or directory: "${p}"`, { path: p });
    }
    if (st.isDirectory()) out.push(...readdirSync(p).filter((f) => f.endsWith('.data')).sort().map((f) => join(p, f)));
    else out.push(p);
  }
  return out;
}

function conformanceCommand(paths: string[], o: GlobalOptions & { arch: string; budget?: string }): void {
  const engine = conformanceEngine(parseArch(o.arch), parseBudget(o.budget));
  const files = collectDataFiles(paths);
  const outcomes: ConformanceOutcome[] = [];
  for (const f of files) {
    try {
      outcomes.push(runConformanceTest(parseConformance(new TextDecoder().decode(readInput(f)), f), engine));
    } catch (e) {
      outcomes.push({ name: basename(f, '.data'), file: f, status: 'fail', expected: null, actual: `error: ${(e as Error).message}` });
    }
  }
  const passed = outcomes.filter((x) => x.status === 'pass').length;
  const failed = outcomes.filter((x) => x.status === 'fail');
  const skipped = outcomes.filter((x) => x.status === 'skip').length;
  if (failed.length > 0) process.exitCode = 1;
  emit(o, { arch: o.arch, passed, failed: failed.length, skipped, failures: failed.map((x) => ({ test: x.name, file: x.file, expected: x.expected, actual: x.actual })) }, () => {
    const lines = failed.map((x) => `FAIL ${x.name}: expected ${x.expected ?? '?'}, got ${x.actual ?? '?'}`);
    lines.push(`${passed} passed, ${failed.length} failed${skipped ? `, ${skipped} skipped` : ''}`);
    return lines.join('\n');
  });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** One plugin invocation: returns r0 as the runner expects it, or throws. */
export function pluginRun(programHex: string, memoryHex: string | undefined, arch: BpfArch, elf: boolean): string {
  const program = memHex(programHex.trim(), 'program on stdin');
  const mem = memoryHex !== undefined && memoryHex.trim() !== '' ? memHex(memoryHex, 'memory argument') : new Uint8Array(0);
  let prog: BpfProgram;
  if (elf) {
    const first = instantiate(loadElf(program)).programs[0];
    if (!first) throw new InvalidArgumentError('conformance-plugin: the ELF object holds no program');
    prog = first;
  } else prog = loadProgram(program);
  const r = runOnArch(arch, prog, conformanceProfile, mem, DEFAULT_BUDGET);
  return u64ToHex(r.r0);
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run a BPF program (.o, .data, .asm or .bin) and print r0')
    .argument('<program>', 'program file')
    .option('--arch <arch>', `engine: ${BPF_ARCHES.join(', ')}`, 'interp')
    .option('--section <name>', 'ELF section of the program to run (.o)')
    .option('--mem <file>', 'input memory from a file (r1 = its address, r2 = its length)')
    .option('--mem-hex <hex>', 'input memory as hex bytes, e.g. "aa bb cc"')
    .option('--profile <name>', 'helper profile: conformance or kernel (default: kernel for .o, else conformance)')
    .option('--budget <n>', 'maximum instructions executed', String(DEFAULT_BUDGET))
    .option('--harden', 'JIT: constant blinding and landing pads')
    .option('--verify', 'run the verifier before executing (the default)')
    .option('--no-verify', 'skip the verifier')
    .option('--strict', 'strict verifier: also reject back-edges (loops), unreachable code, recursion, constant zero divisors')
    .action(action((file: string, _o: unknown, cmd: Command) => runCommand(file, cmd.optsWithGlobals<RunCliOptions>())));

  program
    .command('disasm')
    .description('JIT a BPF program and list each BPF instruction with the native code it produced')
    .argument('<program>', 'program file (.o, .data, .asm or .bin)')
    .option('--arch <arch>', 'JIT: x86_64', 'x86_64')
    .option('--section <name>', 'ELF section of the program (.o)')
    .option('--profile <name>', 'helper profile: conformance or kernel (default: kernel for .o, else conformance)')
    .option('--harden', 'constant blinding and landing pads')
    .option('--no-checks', 'omit runtime memory checks')
    .action(action(async (file: string, _o: unknown, cmd: Command) => disasmCommand(file, cmd.optsWithGlobals<DisasmCliOptions>())));

  program
    .command('conformance')
    .description('run bpf_conformance .data files; prints failures and "N passed, N failed"')
    .argument('<paths...>', '.data files or directories')
    .option('--arch <arch>', `engine: ${BPF_ARCHES.join(', ')}`, 'interp')
    .option('--budget <n>', 'maximum instructions per test')
    .action(action((paths: string[], _o: unknown, cmd: Command) => conformanceCommand(paths, cmd.optsWithGlobals<GlobalOptions & { arch: string; budget?: string }>())));

  program
    .command('conformance-plugin')
    .description('bpf_conformance plugin: program hex on stdin, r0 hex on stdout')
    .argument('[memory-hex]', 'input memory as one argument of hex bytes')
    .option('--arch <arch>', `engine: ${BPF_ARCHES.join(', ')}`, 'interp')
    .option('--elf', 'the program on stdin is an ELF object (first program, conformance helpers)')
    .allowUnknownOption(true)
    .action(async (memory: string | undefined, _o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<{ arch: string; elf?: boolean }>();
      try {
        const out = pluginRun(await readStdin(), memory, parseArch(o.arch), o.elf === true);
        process.stdout.write(out + '\n');
      } catch (e) {
        process.stderr.write(`${(e as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
