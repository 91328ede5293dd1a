// Native-run cases for the x86_64 JIT (scripts/oracles/bpf-jit-native.*): which programs can run on
// the host CPU, and their images. A program qualifies when it calls nothing (no helper, callx or
// local call: those reach kernel-text host functions or the call-depth check) and the interpreter
// runs it to an exit (no fault: native runs have no runtime memory checks). Its image is compiled
// with `memoryChecks: false`, so it has no relocations and is position independent.

import { BpfInterpreter } from './interp.js';
import { jitCompile } from './jit.js';
import { BpfJitHost } from './jit-host.js';
import type { BpfProgram } from './runtime.js';
import { encodeProgram } from './isa.js';

export interface NativeCase {
  name: string;
  /** Program bytes, input memory and image as hex. */
  program: string;
  mem: string;
  image: string;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export function isNativeRunnable(p: BpfProgram): boolean {
  return !p.insns.some((i) => i.opcode === 0x85 || i.opcode === 0x8d);
}

/** The x86_64 image the native harness runs for `p` (deterministic for a program). */
export function nativeImage(p: BpfProgram, host: BpfJitHost): Uint8Array {
  const jp = jitCompile(p, { host, memoryChecks: false });
  try {
    if (jp.relocations.length > 0) throw new Error(`${p.name}: image has relocations, not position independent`);
    return jp.image;
  } finally {
    jp.free();
  }
}

export function nativeCases(programs: readonly { name: string; program: BpfProgram; mem: Uint8Array }[]): NativeCase[] {
  const host = new BpfJitHost({ capstoneCheck: false });
  const out: NativeCase[] = [];
  for (const c of programs) {
    if (!isNativeRunnable(c.program)) continue;
    try {
      new BpfInterpreter(c.program).run({ mem: c.mem.slice(), budget: 1_000_000 });
    } catch {
      continue;
    }
    const bytes = encodeProgram(c.program.insns);
    out.push({ name: c.name, program: hex(bytes), mem: hex(c.mem), image: hex(nativeImage(c.program, host)) });
  }
  return out;
}
