// Differential fuzzing of the arm64 BPF JIT: the x86_64 fuzzer's seeded generator of valid programs
// (jit/fuzz/bpf-jit.ts: ALU, JMP/JMP32, memory within and out of bounds, atomics, helper calls,
// local calls) run on the interpreter and on the arm64 JIT in the emulator, plain and hardened; r0
// (or the error text) and input memory must agree. `npm run fuzz -- bpf-jit-arm64 [count] [seed]`.
import { BpfJitHost } from '../bpf/jit-host.js';
import { diffCase } from './bpf-jit.js';

export async function fuzz(count = 100_000, seed = 1): Promise<string> {
  const { initCapstone } = await import('../../support/capstone.js');
  await initCapstone();
  let host = new BpfJitHost({ seed, capstoneCheck: false, arch: 'arm64' });
  for (let k = 0; k < count; k++) {
    if (k > 0 && k % 2000 === 0) host = new BpfJitHost({ seed: seed + k, capstoneCheck: false, arch: 'arm64' });
    const s = (seed * 1_000_003 + k) >>> 0;
    const d = diffCase(host, s);
    if (d !== null) throw new Error(`bpf-jit-arm64 fuzz: disagreement\n${d}`);
  }
  return `bpf-jit-arm64: ${count} random programs, interpreter and arm64 JIT (plain and hardened) agree`;
}
