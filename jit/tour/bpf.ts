// Tour section 1: a clang-built BPF object loaded, verified, JIT-compiled into bpf_prog_pack memory
// and run both in the emulator and in the interpreter (Linux bpf_prog_load -> bpf_check ->
// bpf_int_jit_compile; reference/bpf.md). Every figure printed comes from the objects built here.
//
// Invariants: the JIT runs with constant blinding on (bpf_jit_harden=2 style) and the seed given;
// the arm64 JIT is attempted and reported as "still to come" only when jitCompile throws
// UnsupportedError; the x86_64 JitProgram is returned live so the W^X section can use it.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UnsupportedError } from '../../support/errors.js';
import { BPF_BINARY_HEADER_SIZE, BPF_PROG_CHUNK_SIZE } from '../../execmem/pack.js';
import { hexAddr, bytesToHex } from '../../support/u64.js';
import { loadElf } from '../bpf/elf.js';
import { instantiate } from '../bpf/maps.js';
import { verifyProgram } from '../bpf/verifier.js';
import { kernelProfile } from '../bpf/helpers-kernel.js';
import { BpfInterpreter } from '../bpf/interp.js';
import { type JitProgram, jitCompile } from '../bpf/jit.js';
import { BpfJitHost } from '../bpf/jit-host.js';
import { jitListing } from '../bpf/jit-listing.js';
import { u64ToHex, type BpfProgram } from '../bpf/runtime.js';
import { type ErrorRecord, type TourArch, type TourOptions, type TourSection, errorRecord } from './types.js';

/** examples/ relative to this file, both from the sources (jit/tour) and the build (dist/jit/tour). */
export function examplesDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['../..', '../../..']) {
    const d = join(here, up, 'examples');
    try {
      readFileSync(join(d, 'bpf', 'checksum.o'));
      return d;
    } catch {
      /* try the next candidate */
    }
  }
  return join(process.cwd(), 'examples');
}

/** The tour's BPF example: examples/bpf/checksum.o (clang-built) and its TCP input. */
export function loadChecksumExample(): { prog: BpfProgram; section: string; input: Uint8Array; object: string; inputName: string } {
  const dir = examplesDir();
  const obj = loadElf(new Uint8Array(readFileSync(join(dir, 'bpf', 'checksum.o'))), { section: 'socket' });
  const prog = instantiate(obj).programs[0] as BpfProgram;
  const input = new Uint8Array(readFileSync(join(dir, 'bpf', 'inputs', 'tcp-80.bin')));
  return { prog, section: obj.programs[0]?.section ?? 'socket', input, object: 'examples/bpf/checksum.o', inputName: 'examples/bpf/inputs/tcp-80.bin' };
}

export interface JitRecord {
  arch: TourArch;
  status: 'ok' | 'still to come' | 'error';
  error?: ErrorRecord;
  entry?: string;
  pack?: string;
  chunk?: string;
  offsetInPack?: number;
  /** Bytes from the chunk start to the entry: header + the random start offset. */
  offsetInChunk?: number;
  size?: number;
  hardened?: boolean;
  nativeInsnsRun?: number;
  r0?: string;
  agreesWithInterpreter?: boolean;
  listing?: { bpf: string; native: { address: string; bytes: string; text: string }[] }[];
}

export interface BpfRecord {
  object: string;
  section: string;
  program: string;
  input: string;
  inputBytes: number;
  bpfInsns: number;
  verifier: { insns: number; functions: number; reachable: number; loops: number };
  interpreter: { r0: string; insns: number };
  jit: JitRecord[];
}

export interface BpfSectionResult {
  section: TourSection<BpfRecord>;
  /** The live x86_64 program (for the W^X section), or null when it could not be built. */
  x86: JitProgram | null;
}

const LISTING_INSNS = 6;

function jitOne(arch: TourArch, prog: BpfProgram, input: Uint8Array, seed: number, interpR0: string): { rec: JitRecord; jp: JitProgram | null } {
  let jp: JitProgram;
  try {
    const host = new BpfJitHost({ arch, seed });
    jp = jitCompile(prog, { arch, profile: kernelProfile, harden: true, seed, host });
  } catch (e) {
    if (e instanceof UnsupportedError) return { rec: { arch, status: 'still to come', error: errorRecord(e) }, jp: null };
    return { rec: { arch, status: 'error', error: errorRecord(e) }, jp: null };
  }
  const listing = jitListing(jp)
    .filter((l) => l.index >= 0)
    .slice(0, LISTING_INSNS)
    .map((l) => ({ bpf: l.bpf, native: l.native.map((n) => ({ address: hexAddr(n.address), bytes: bytesToHex(n.bytes), text: n.text })) }));
  const rec: JitRecord = {
    arch, status: 'ok', entry: hexAddr(jp.entry), pack: hexAddr(jp.pack), chunk: hexAddr(jp.chunk), offsetInPack: jp.offset, offsetInChunk: jp.entry - jp.chunk, size: jp.size, hardened: jp.harden, listing,
  };
  try {
    const r = jp.run({ mem: input });
    rec.r0 = u64ToHex(r.r0);
    rec.nativeInsnsRun = r.nativeInsns;
    rec.agreesWithInterpreter = rec.r0 === interpR0;
  } catch (e) {
    rec.status = 'error';
    rec.error = errorRecord(e);
  }
  return { rec, jp };
}

export function bpfSection(opts: TourOptions): BpfSectionResult {
  const { prog, section, input, object, inputName } = loadChecksumExample();
  const v = verifyProgram(prog.insns, { profile: kernelProfile, ...(prog.maps ? { maps: prog.maps } : {}) });
  const ir = new BpfInterpreter(prog, kernelProfile).run({ mem: input });
  const interpR0 = u64ToHex(ir.r0);
  const jits: JitRecord[] = [];
  let x86: JitProgram | null = null;
  for (const arch of opts.arches) {
    const { rec, jp } = jitOne(arch, prog, input, opts.seed, interpR0);
    jits.push(rec);
    if (arch === 'x86_64') x86 = jp;
    else jp?.free();
  }
  const record: BpfRecord = {
    object, section, program: prog.name, input: inputName, inputBytes: input.length,
    bpfInsns: prog.insns.length,
    verifier: { insns: v.insns, functions: v.functions.length, reachable: v.reachable, loops: v.backEdges.length },
    interpreter: { r0: interpR0, insns: ir.insns }, jit: jits,
  };
  const lines = [
    `Loaded ${record.object} (section "${section}", program ${prog.name}): ${prog.insns.length} BPF instructions.`,
    `Verifier: accepted; ${v.reachable} reachable instructions, ${v.functions.length} function(s), ${v.backEdges.length} bounded loop back-edge(s).`,
    `Interpreter on ${record.input} (${input.length} bytes): r0 = ${interpR0} after ${ir.insns} BPF instructions.`,
  ];
  const stillToCome: string[] = [];
  for (const j of jits) {
    if (j.status === 'still to come') {
      lines.push('', `${j.arch} JIT: still to come (${j.error?.message ?? ''})`);
      stillToCome.push(`${j.arch} BPF JIT`);
      continue;
    }
    if (j.status === 'error' && j.entry === undefined) {
      lines.push('', `${j.arch} JIT: failed: ${j.error?.message ?? ''}`);
      continue;
    }
    lines.push(
      '',
      `${j.arch} JIT (hardened: constant blinding + landing pads): ${j.size} bytes placed by execmem in a shared bpf_prog_pack`,
      `  pack ${j.pack}, chunk ${j.chunk} (chunk ${((j.offsetInPack ?? 0) - (j.offsetInChunk ?? 0)) / BPF_PROG_CHUNK_SIZE} of the pack), image at ${j.entry} = chunk + ${j.offsetInChunk} (${BPF_BINARY_HEADER_SIZE}-byte header + random start offset)`,
      `  first ${LISTING_INSNS} BPF instructions next to their native code:`,
    );
    for (const l of j.listing ?? []) {
      lines.push(`    ; ${l.bpf}`);
      for (const n of l.native) lines.push(`      ${n.address}:  ${n.bytes.padEnd(24)} ${n.text}`);
    }
    if (j.status === 'error') lines.push(`  run: failed: ${j.error?.message ?? ''}`);
    else lines.push(`  emulator run: r0 = ${j.r0} after ${j.nativeInsnsRun} native instructions; interpreter r0 = ${interpR0}: ${j.agreesWithInterpreter ? 'agree' : 'DISAGREE'}`);
  }
  const ok = jits.filter((j) => j.status === 'ok');
  const summary = `${prog.name}: ${prog.insns.length} insns verified; ` +
    (ok.length ? ok.map((j) => `${j.arch} ${j.size} B r0 ${j.r0} ${j.agreesWithInterpreter ? 'agrees' : 'DISAGREES'}`).join(', ') : 'no JIT available') +
    ` (interp r0 ${interpR0})`;
  return { section: { title: '1. BPF: load, verify, JIT, place, run', record, lines, summary, stillToCome }, x86 };
}
