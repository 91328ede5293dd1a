// Fuzzer for the BPF front end: random byte strings, random well-formed programs (gen.ts) and
// byte-mutated programs go through the decoder, the structural checks, the assembler/disassembler
// round trip and the interpreter (small budget, conformance helpers, random input memory).
// Findings (thrown): a host exception (anything not a JitboxError), or a round trip that changes
// bytes (encode(decode(b)) !== b, or assemble(disasm(decode(b))) !== b).
// `npm run fuzz -- bpf [count=100000] [seed=1]`.

import { isJitboxError } from '../../support/errors.js';
import { Rng } from '../../support/rng.js';
import { bytesToHex } from '../../support/u64.js';
import { assemble } from '../bpf/asm.js';
import { disasmProgram } from '../bpf/disasm.js';
import { randomProgram } from '../bpf/gen.js';
import { BpfInterpreter } from '../bpf/interp.js';
import { checkTargets, decodeProgram, encodeProgram } from '../bpf/isa.js';

export interface FuzzStats {
  cases: number;
  decoded: number;
  ran: number;
  completed: number;
  typedErrors: Map<string, number>;
}

export function newStats(): FuzzStats {
  return { cases: 0, decoded: 0, ran: 0, completed: 0, typedErrors: new Map() };
}

function caseBytes(rng: Rng): Uint8Array {
  const k = rng.below(10);
  if (k === 0) return rng.bytes(rng.below(64));
  if (k === 1) return rng.bytes(8 * rng.int(1, 8));
  const prog = encodeProgram(randomProgram(rng, rng.int(1, 40)));
  if (k <= 3) {
    for (let m = rng.int(1, 3); m > 0; m--) prog[rng.below(prog.length)] = rng.u32() & 0xff;
  }
  if (k === 4 && prog.length > 8) return prog.subarray(0, prog.length - rng.int(1, 8));
  return prog;
}

/** One case; throws an Error describing a finding. */
export function fuzzOne(rng: Rng, stats: FuzzStats): void {
  stats.cases++;
  const bytes = caseBytes(rng);
  const mem = rng.bool(0.7) ? rng.bytes(rng.below(64)) : undefined;
  const where = (): string => `program ${bytesToHex(bytes)}${mem ? ` mem ${bytesToHex(mem)}` : ''}`;
  let roundTrip: string | null = null;
  try {
    const insns = decodeProgram(bytes);
    stats.decoded++;
    if (bytesToHex(encodeProgram(insns)) !== bytesToHex(bytes)) roundTrip = 'encode(decode(b))';
    else if (bytesToHex(assemble(disasmProgram(insns))) !== bytesToHex(bytes)) roundTrip = 'assemble(disasm(decode(b)))';
    if (roundTrip) throw new Error(roundTrip);
    checkTargets(insns);
    const vm = new BpfInterpreter({ name: 'fuzz', insns });
    stats.ran++;
    vm.run({ budget: 2000, ...(mem ? { mem } : {}) });
    stats.completed++;
  } catch (e) {
    if (roundTrip) throw new Error(`BPF fuzz finding (seed ${rng.seed}, case ${stats.cases}): ${roundTrip} changes the bytes of ${where()}`);
    if (!isJitboxError(e)) {
      const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      throw new Error(`BPF fuzz finding (seed ${rng.seed}, case ${stats.cases}): host exception ${msg} for ${where()}`);
    }
    stats.typedErrors.set(e.kind, (stats.typedErrors.get(e.kind) ?? 0) + 1);
  }
}

export function summarize(stats: FuzzStats): string {
  const kinds = [...stats.typedErrors.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  return `bpf: ${stats.cases} cases, ${stats.decoded} decoded, ${stats.ran} loaded, ${stats.completed} ran to exit; typed errors: ${kinds}; no findings`;
}

export async function fuzz(count = 100_000, seed = 1): Promise<string> {
  const rng = new Rng(seed);
  const stats = newStats();
  for (let i = 0; i < count; i++) fuzzOne(rng, stats);
  return summarize(stats);
}
