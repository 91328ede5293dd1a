// Seeded BPF programs with the fleet's JIT-image size distribution, for the `pack` experiment
// (reference/execmem.md §6: "50% < 500 B, 75% < 2 KiB", LKML, Song Liu, Nov 2022).
//
// Invariants:
// - Every program passes the jitbox verifier with the conformance profile: registers r0 and r3-r9
//   are set before use, stack accesses are 8-byte slots inside the 512-byte frame (proven, so the
//   JIT emits no runtime checks), conditional jumps only go forward over ALU instructions, and the
//   program ends with `exit`. It touches no helper, map or input memory, so it runs from a bare
//   `machine.call(entry, [0, 0, stackTop])`.
// - Each program runs every instruction of its body once except the ones a taken forward jump
//   skips, so executing it fetches (almost) all of its code lines: the I-side footprint is the
//   image size.
// - Target image sizes are log-normal with median MEDIAN_BYTES and P75 P75_BYTES, clipped to
//   [MIN_BYTES, MAX_BYTES]; the instruction count is scaled by the measured bytes per instruction
//   of the arch (calibrated on the first programs), and the realised size distribution is reported
//   by the experiment, never assumed.

import type { Rng } from '../../support/rng.js';
import { assemble } from '../bpf/asm.js';
import { loadProgram } from '../bpf/interp.js';
import type { BpfProgram } from '../bpf/runtime.js';

export const MEDIAN_BYTES = 440;
export const P75_BYTES = 1800;
export const MIN_BYTES = 64;
export const MAX_BYTES = 16 * 1024;
const Z75 = 0.6745;

/** A target JIT-image size drawn from the fleet distribution. */
export function drawImageSize(rng: Rng): number {
  const mu = Math.log(MEDIAN_BYTES);
  const sigma = Math.log(P75_BYTES / MEDIAN_BYTES) / Z75;
  // Box-Muller with two uniform draws in (0, 1].
  const u1 = 1 - rng.float();
  const u2 = rng.float();
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  return Math.round(Math.min(MAX_BYTES, Math.max(MIN_BYTES, Math.exp(mu + sigma * z))));
}

const ALU_IMM = ['add', 'sub', 'xor', 'or', 'and', 'mul', 'mov'];
const ALU_REG = ['add', 'sub', 'xor', 'or', 'and', 'mov'];
const SHIFTS = ['lsh', 'rsh', 'arsh'];
const JUMPS = ['jeq', 'jne', 'jgt', 'jlt', 'jsgt', 'jset'];
const REGS = [0, 3, 4, 5, 6, 7, 8, 9];

function aluLine(rng: Rng): string {
  const d = rng.pick(REGS);
  const k = rng.below(10);
  const w = rng.bool(0.25) ? '32' : '';
  if (k < 5) return `${rng.pick(ALU_IMM)}${w} %r${d}, ${rng.int(-1000, 100000)}`;
  if (k < 8) return `${rng.pick(ALU_REG)}${w} %r${d}, %r${rng.pick(REGS)}`;
  return `${rng.pick(SHIFTS)}${w} %r${d}, ${rng.below(w ? 32 : 64)}`;
}

/** Assembly text of a valid program with `n` body instructions (plus set-up and exit). */
export function programSource(rng: Rng, n: number): string {
  const lines: string[] = [];
  for (const r of REGS) lines.push(`mov %r${r}, ${rng.int(0, 1 << 20)}`);
  let k = 0;
  while (k < n) {
    const c = rng.below(16);
    if (c < 3) {
      const off = 8 * rng.int(1, 64);
      lines.push(`stxdw [%r10-${off}], %r${rng.pick(REGS)}`);
      lines.push(`ldxdw %r${rng.pick(REGS)}, [%r10-${off}]`);
      k += 2;
    } else if (c < 5 && n - k > 4) {
      const skip = rng.int(1, 3);
      lines.push(`${rng.pick(JUMPS)} %r${rng.pick(REGS)}, ${rng.int(0, 64)}, +${skip}`);
      for (let s = 0; s < skip; s++) lines.push(aluLine(rng));
      k += 1 + skip;
    } else {
      lines.push(aluLine(rng));
      k++;
    }
  }
  lines.push('exit');
  return lines.join('\n');
}

export function makeProgram(rng: Rng, n: number, name: string): BpfProgram {
  return loadProgram(assemble(programSource(rng, Math.max(1, n))), name);
}
