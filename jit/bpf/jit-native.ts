// Native-run cases for the BPF JITs (scripts/oracles/bpf-jit-harness.*: x86_64 on the host CPU,
// arm64 under qemu-aarch64): which programs can run outside the emulator, and their images. A
// program qualifies when it calls nothing (no helper, callx or local call: those reach kernel-text
// host functions or the call-depth check) and the interpreter runs it to an exit (no fault: native
// runs have no runtime memory checks). Its image is compiled with `memoryChecks: false`, so it has
// no relocations and is position independent.

import { BpfInterpreter } from './interp.js';
import { jitCompile, type JitArch } from './jit.js';
import { BpfJitHost } from './jit-host.js';
import type { BpfProgram } from './runtime.js';
import { encodeProgram } from './isa.js';
import { BpfJitError } from '../../codegen/bpf/common.js';

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

/** The image the native harness runs for `p` on the host's arch (deterministic for a program). */
export function nativeImage(p: BpfProgram, host: BpfJitHost): Uint8Array {
  const jp = jitCompile(p, { host, memoryChecks: false });
  try {
    if (jp.relocations.length > 0) throw new BpfJitError(0, p.name, `${host.space.arch} image has relocations, not position independent`);
    return jp.image;
  } finally {
    jp.free();
  }
}

/** The native-runnable ones of `programs` with their `arch` images (x86_64 unless given). */
export function nativeCases(programs: readonly { name: string; program: BpfProgram; mem: Uint8Array }[], arch: JitArch = 'x86_64'): NativeCase[] {
  const host = new BpfJitHost({ capstoneCheck: false, arch });
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
