// `jitbox unpack`: pack keys with a bcachefs key format and unpack them again with a chosen
// unpacker (issue 7; reference/bkey.md §2, §5, §6).
//
//   jitbox unpack --format FORMAT.json --keys KEYS.json --arch ARCH [--json]
//   jitbox unpack --from-keys KEYS.json --arch ...      (compute the format from the keys first)
//   jitbox unpack --format FORMAT.json --arch x86_64|arm64|wasm --show
//
// Every input is parsed and validated before anything is printed; unrepresentable keys are
// reported by index in place of their result. x86_64 and arm64 code is placed in a simulated
// kernel address space (jit/bkey/placement.ts, --placement colocated|shared-pack|own-page|generic)
// and run in jitbox's own emulator (jit/bkey/emu-run.ts), never a host CPU or Unicorn; --show
// lists the placed code at its guest address with Capstone's decoding of the bytes in memory.

import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, ParseError, UnsupportedError } from '../../support/errors.js';
import { bytesToHex, hex64, hexAddr } from '../../support/u64.js';
import { AddressSpace } from '../../execmem/space.js';
import { permString } from '../../execmem/types.js';
import { genArm64GenericUnpacker } from '../../codegen/bkey/generic-arm64.js';
import { genX86GenericUnpacker } from '../../codegen/bkey/generic-x86_64.js';
import { buildWasmUnpacker } from '../../codegen/bkey/wasm.js';
import { disasmOne, initCapstone } from '../../support/capstone.js';
import { EmuUnpackRunner } from '../bkey/emu-run.js';
import { NodePlacer, PLACEMENT_MODES, type PlacedNode, type PlacementMode } from '../bkey/placement.js';
import { byteAlignedPlan, unpackByteAligned } from '../bkey/byte-aligned.js';
import { BKEY_BYTES, BKEY_FIELDS, type BkeyFormat, computeFormat, formatToJson, formatToString } from '../bkey/format.js';
import { parseFormatJson, parseKeysJson } from '../bkey/json.js';
import { type Bkey, BkeyPackError, bkeyPos, compareBpos, packKey, readBkey, unpackGeneric } from '../bkey/pack.js';
import { instantiateWasmUnpacker, WasmUnpackArena } from '../bkey/wasm-run.js';
import { action, emit, type GlobalOptions } from '../cli-util.js';

export const UNPACK_ARCHES = ['x86_64', 'arm64', 'wasm', 'generic', 'byte-aligned'] as const;
export type UnpackArch = (typeof UNPACK_ARCHES)[number];

interface UnpackCliOptions extends GlobalOptions {
  format?: string;
  keys?: string;
  fromKeys?: string | boolean;
  arch: string;
  show?: boolean;
  sizeExtraBits?: boolean;
  placement?: string;
  seed: string;
}

interface MachineRun {
  placement: PlacementMode;
  codeAddress: string;
  insnsPerUnpack: number;
}

type KeyResult = { packed: string; unpacked: Record<string, string> } | { index: number; error: string };

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new InvalidArgumentError(`cannot read ${what} file "${path}": ${e instanceof Error ? e.message : String(e)}`, { file: path });
  }
}

/** The format from --format, or computed from the keys (--from-keys) with the keys' bounds as node bounds. */
function resolveInputs(o: UnpackCliOptions): { format: BkeyFormat; keys: Bkey[] | null; computed: boolean } {
  const keysPath = typeof o.fromKeys === 'string' ? o.fromKeys : o.keys;
  if (o.fromKeys !== undefined && o.format) throw new InvalidArgumentError('give either --format or --from-keys, not both');
  if (o.fromKeys !== undefined && typeof o.fromKeys === 'string' && o.keys && o.keys !== o.fromKeys) {
    throw new InvalidArgumentError('--from-keys FILE and --keys name different files');
  }
  const keys = keysPath ? parseKeysJson(readText(keysPath, 'keys'), keysPath) : null;
  if (o.fromKeys !== undefined) {
    if (!keys || keys.length === 0) throw new InvalidArgumentError('--from-keys needs a non-empty keys file (--from-keys KEYS.json)');
    const sorted = [...keys].sort((a, b) => compareBpos(bkeyPos(a), bkeyPos(b)));
    const format = computeFormat(keys, bkeyPos(sorted[0] as Bkey), bkeyPos(sorted[sorted.length - 1] as Bkey), { sizeExtraBits: o.sizeExtraBits === true });
    return { format, keys, computed: true };
  }
  if (!o.format) throw new InvalidArgumentError('missing --format FORMAT.json (or --from-keys KEYS.json)');
  return { format: parseFormatJson(readText(o.format, 'format'), o.format), keys, computed: false };
}

function unpackedJson(u: Bkey): Record<string, string> {
  const out: Record<string, string> = {};
  BKEY_FIELDS.forEach((info, i) => {
    const v = u.fields[i] as { lo: number; hi: number };
    out[info.name] = hex64(v.lo, v.hi);
  });
  return out;
}

/** Place the packed keys and the unpacker in a fresh address space and unpack each key in the emulator. */
function runMachineCode(arch: 'x86_64' | 'arm64', placement: PlacementMode, seed: number, format: BkeyFormat, good: Uint8Array[]): { outputs: Uint8Array[]; codeBytes: number; run: MachineRun } {
  const space = new AddressSpace({ arch, seed });
  const placer = new NodePlacer(space, arch, { seed });
  const runner = new EmuUnpackRunner(space, arch);
  const placed = placer.placeKeys(format, good, placement);
  let insns = 0;
  const outputs = good.map((_, i) => {
    const r = runner.unpack(placed, i);
    insns += r.counters.insns;
    return r.bytes;
  });
  const run = { placement, codeAddress: hexAddr(placed.unpackAddr), insnsPerUnpack: good.length ? insns / good.length : 0 };
  runner.dispose();
  placer.dispose();
  return { outputs, codeBytes: placed.codeBytes, run };
}

function runUnpacker(arch: UnpackArch, format: BkeyFormat, keys: Bkey[], placement: PlacementMode, seed: number): { results: KeyResult[]; codeBytes: number; unpacker: string; run: MachineRun | null } {
  const packed: (Uint8Array | string)[] = keys.map((k, i) => {
    try {
      return packKey(format, k, i);
    } catch (e) {
      if (e instanceof BkeyPackError) return e.message;
      throw e;
    }
  });
  const good = packed.filter((p): p is Uint8Array => typeof p !== 'string');
  let outputs: Uint8Array[] = [];
  let codeBytes = 0;
  let unpacker: string = arch;
  let run: MachineRun | null = null;
  if (arch === 'x86_64' || arch === 'arm64') {
    ({ outputs, codeBytes, run } = runMachineCode(arch, placement, seed, format, good));
    unpacker = `${arch} ${placement === 'generic' ? 'generic machine code' : 'compiled'} (${placement}, jitbox emulator)`;
  } else if (arch === 'wasm') {
    const arena = new WasmUnpackArena(format, Math.max(1, good.length));
    const fns = instantiateWasmUnpacker(format, arena.memory);
    codeBytes = fns.codeBytes;
    good.forEach((p, i) => arena.bytes().set(p, arena.keyAt(i)));
    fns.unpackBatch(arena.dstOf(0), arena.keyAt(0), good.length, arena.stride);
    for (let i = 0; i < good.length; i++) outputs.push(arena.output(i));
  } else {
    const plan = arch === 'byte-aligned' ? byteAlignedPlan(format) : null;
    if (arch === 'byte-aligned' && !plan) unpacker = 'generic (format is not byte-aligned; bcachefs falls back to the interpreter)';
    for (const p of good) {
      const src = new Uint8Array(8 + p.length);
      src.set(p, 8);
      const dst = new Uint8Array(BKEY_BYTES);
      if (plan) unpackByteAligned(plan, src, 8, dst, 0);
      else unpackGeneric(format, src, 8, dst, 0);
      outputs.push(dst);
    }
  }
  let g = 0;
  const results: KeyResult[] = packed.map((p, i) =>
    typeof p === 'string' ? { index: i, error: p } : { packed: bytesToHex(p), unpacked: unpackedJson(readBkey(outputs[g++] as Uint8Array, 0)) },
  );
  return { results, codeBytes, unpacker, run };
}

function renderText(format: BkeyFormat, computed: boolean, unpacker: string, codeBytes: number, results: KeyResult[], run: MachineRun | null): string {
  const lines = [`format ${computed ? '(computed) ' : ''}${formatToString(format)}`, `unpacker ${unpacker}, code ${codeBytes} bytes`];
  if (run) lines.push(`code at ${run.codeAddress}, ${run.insnsPerUnpack.toFixed(1)} emulated instructions per unpack`);
  results.forEach((r, i) => {
    if ('error' in r) lines.push(`key ${i}: ${r.error}`);
    else lines.push(`key ${i}: packed [${r.packed}]`, '  ' + Object.entries(r.unpacked).map(([k, v]) => `${k}=${v.replace(/^0x0+(?=.)/, '0x')}`).join(' '));
  });
  return lines.join('\n');
}

/** --show for the machine-code generators: the placed code, read back from guest memory at its address, next to Capstone's decoding. */
async function showMachineCode(o: UnpackCliOptions, arch: 'x86_64' | 'arm64', format: BkeyFormat, placement: PlacementMode, seed: number): Promise<void> {
  await initCapstone();
  const space = new AddressSpace({ arch, seed });
  const placer = new NodePlacer(space, arch, { seed });
  const placed: PlacedNode = placer.placeKeys(format, [], placement);
  const code = placement === 'generic' ? (arch === 'x86_64' ? genX86GenericUnpacker() : genArm64GenericUnpacker()) : placer.compile(format);
  const inMemory = space.read(placed.unpackAddr, placed.codeBytes);
  const page = space.pageInfo(placed.unpackAddr);
  let at = 0;
  const rows = code.instructions.map((ins) => {
    const addr = placed.unpackAddr + at;
    const bytes = inMemory.subarray(at, at + ins.bytes.length);
    const dec = disasmOne(arch, bytes, addr);
    const row = { offset: at, address: hexAddr(addr), bytes: bytesToHex(bytes), text: ins.text, capstone: dec && dec.size === ins.bytes.length ? dec.text : null };
    at += ins.bytes.length;
    return row;
  });
  const areas = placed.areas.map((a) => ({ what: a.what, address: hexAddr(a.addr), bytes: a.bytes, via: a.via, label: a.label, perm: permString(space.pageInfo(a.addr)?.perm ?? 0) }));
  placer.dispose();
  const bad = rows.filter((r) => r.capstone === null).length;
  const kind = placement === 'generic' ? 'generic unpacker (shared)' : 'unpacker';
  emit(o, { format: formatToJson(format), arch, placement, code_address: hexAddr(placed.unpackAddr), page_perm: page ? permString(page.perm) : 'unmapped', code_bytes: code.size, instructions: rows, capstone_rejects: bad, areas }, () =>
    [
      formatToString(format),
      `${arch} ${kind}: ${code.size} bytes, ${rows.length} instructions${bad ? `, ${bad} NOT decoded by Capstone` : ', all decoded by Capstone'}`,
      `placement ${placement}: code at ${hexAddr(placed.unpackAddr)} (${page ? permString(page.perm) : 'unmapped'})`,
      ...areas.map((a) => `  ${a.what.padEnd(11)} ${a.address} ${String(a.bytes).padStart(5)} B ${a.perm} ${a.via}: ${a.label}`),
      ...rows.map((r) => `  ${r.address}: ${r.bytes.padEnd(arch === 'x86_64' ? 30 : 12)} ${r.text.padEnd(30)} ; capstone: ${r.capstone ?? '??'}`),
    ].join('\n'),
  );
}

/** --placement applies to x86_64/arm64 only; default colocated. */
function resolvePlacement(o: UnpackCliOptions, arch: UnpackArch): PlacementMode {
  if (o.placement === undefined) return 'colocated';
  if (!(PLACEMENT_MODES as readonly string[]).includes(o.placement)) {
    throw new InvalidArgumentError(`--placement must be one of ${PLACEMENT_MODES.join(', ')}, got "${o.placement}"`, { placement: o.placement });
  }
  if (arch !== 'x86_64' && arch !== 'arm64') throw new InvalidArgumentError(`--placement applies to --arch x86_64 or arm64 (machine code), not ${arch}`, { arch });
  return o.placement as PlacementMode;
}

export function register(program: Command): void {
  program
    .command('unpack')
    .description('pack keys with a bcachefs key format and unpack them with a chosen unpacker')
    .option('--format <file>', 'format JSON: {"bits_per_field":[6 ints],"field_offset":[6 strings],"key_u64s"?}')
    .option('--keys <file>', 'keys JSON: [{"inode","offset","snapshot","size","version_hi","version_lo"}, ...]')
    .option('--from-keys [file]', 'compute the format from the keys first (node bounds = the keys\' min/max positions)')
    .option('--size-extra-bits', 'with --from-keys: the historical +4 bits of size')
    .option('--arch <arch>', `unpacker: ${UNPACK_ARCHES.join('|')}`, 'generic')
    .option('--show', 'print the generated code and its size (x86_64/arm64: placed, at its address, with Capstone disassembly; wasm: binaryen text)')
    .option('--placement <mode>', `x86_64/arm64: where the code lives: ${PLACEMENT_MODES.join('|')} (default colocated)`)
    .option('--seed <n>', 'x86_64/arm64: seed of the simulated address space (KASLR, pack offsets)', '1')
    .action(
      action(async (_o: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<UnpackCliOptions>();
        if (!(UNPACK_ARCHES as readonly string[]).includes(o.arch)) throw new InvalidArgumentError(`--arch must be one of ${UNPACK_ARCHES.join(', ')}, got "${o.arch}"`, { arch: o.arch });
        const arch = o.arch as UnpackArch;
        const placement = resolvePlacement(o, arch);
        const seed = Number(o.seed);
        if (!Number.isSafeInteger(seed)) throw new InvalidArgumentError(`--seed must be an integer, got "${o.seed}"`, { seed: o.seed });
        const { format, keys, computed } = resolveInputs(o);
        if (o.show) {
          if (arch === 'x86_64' || arch === 'arm64') {
            await showMachineCode(o, arch, format, placement, seed);
            return;
          }
          if (arch !== 'wasm') throw new UnsupportedError(`--show: --arch ${arch} generates no code (use wasm, x86_64 or arm64)`, { arch });
          const w = buildWasmUnpacker(format);
          emit(o, { format: formatToJson(format), arch, code_bytes: w.size, text: w.text }, () => `${formatToString(format)}\nwasm module: ${w.size} bytes\n${w.text}`);
          return;
        }
        if (!keys) throw new ParseError('missing --keys KEYS.json (or --from-keys KEYS.json)');
        if (arch === 'x86_64' || arch === 'arm64') await initCapstone();
        const { results, codeBytes, unpacker, run } = runUnpacker(arch, format, keys, placement, seed);
        const machine = run ? { placement: run.placement, code_address: run.codeAddress, insns_per_unpack: run.insnsPerUnpack } : {};
        emit(o, { format: formatToJson(format), arch, unpacker, code_bytes: codeBytes, ...machine, keys: results }, () => renderText(format, computed, unpacker, codeBytes, results, run));
      }),
    );
}
