// Differential fuzzing of the arm64 BPF JIT: the x86_64 fuzzer's seeded generator of valid programs
// (jit/fuzz/bpf-jit.ts: ALU, JMP/JMP32, memory within and out of bounds, atomics, helper calls,
// local calls) run on the interpreter and on the arm64 JIT in the emulator, plain and hardened; r0
// (or the error text) and input memory must agree. `npm run fuzz -- bpf-jit-arm64 [count] [seed]`.
import { fuzzJit } from './bpf-jit.js';

export async function fuzz(count = 100_000, seed = 1): Promise<string> {
  await fuzzJit('arm64', count, seed);
  return `bpf-jit-arm64: ${count} random programs, interpreter and arm64 JIT (plain and hardened) agree`;
}
