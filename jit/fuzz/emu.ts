// `npm run fuzz -- emu [count] [seed]`: random byte strings and random well-formed programs through
// the x86_64 core. Finding = anything but a typed JitboxError (a host exception, a hang past the
// budget, a non-typed throw), or a well-formed program (jit/fuzz/emu-x86-cases.ts) that faults.
// Code is placed like JIT output (execmemAlloc + textPokeCopy), so every run also exercises decode-
// cache invalidation by text_poke and the Capstone check of every decoded instruction.

import { AddressSpace } from '../../execmem/index.js';
import { createCpu } from '../../emulator/index.js';
import { initCapstone } from '../../support/capstone.js';
import { isJitboxError } from '../../support/errors.js';
import { Rng } from '../../support/rng.js';
import { bytesToHex } from '../../support/u64.js';
import { generateX86Case } from './emu-x86-cases.js';

export interface EmuFuzzStats {
  cases: number;
  returned: number;
  faults: Record<string, number>;
}

export async function fuzzX86(count: number, seed: number): Promise<EmuFuzzStats> {
  await initCapstone();
  const rng = new Rng(seed);
  const space = new AddressSpace({ arch: 'x86_64', seed });
  const cpu = createCpu('x86_64', space);
  const code = space.execmemAlloc('BPF', 8192);
  const data = space.vmalloc(4096, 'fuzz data');
  const stats: EmuFuzzStats = { cases: 0, returned: 0, faults: {} };
  for (let n = 0; n < count; n++) {
    const wellFormed = n % 8 === 7;
    let bytes: Uint8Array;
    let regs: Record<string, bigint> = {};
    if (wellFormed) {
      const c = generateX86Case(rng, `fuzz-${n}`, rng.int(1, 12), rng.bool(0.5));
      bytes = c.code;
      c.regs.forEach((h, i) => {
        if (i !== 4 && i !== 7) regs[['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'][i]!] = BigInt('0x' + h);
      });
      space.write(data, c.data);
    } else {
      bytes = rng.bytes(rng.int(1, 48));
      regs = { rsi: BigInt(data) & 0xffffffffffffffffn };
    }
    space.textPokeSet(code, 0xcc, 64);
    space.textPokeCopy(code, bytes);
    stats.cases++;
    try {
      cpu.call(code, [BigInt.asUintN(64, BigInt(data))], { budget: 20000, regs });
      stats.returned++;
    } catch (e) {
      if (!isJitboxError(e)) {
        throw new Error(`emu fuzz finding (seed ${seed}, case ${n}, bytes ${bytesToHex(bytes)}): host exception ${e instanceof Error ? e.stack : String(e)}`);
      }
      if (wellFormed) throw new Error(`emu fuzz finding (seed ${seed}, case ${n}, bytes ${bytesToHex(bytes)}): well-formed program faulted: ${e.message}`);
      stats.faults[e.kind] = (stats.faults[e.kind] ?? 0) + 1;
    }
  }
  return stats;
}

export async function fuzz(count = 100_000, seed = 1): Promise<string> {
  const s = await fuzzX86(count, seed);
  const kinds = Object.entries(s.faults)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return `emu x86_64: ${s.cases} cases (seed ${seed}), ${s.returned} returned, typed faults: ${kinds}; no host exceptions`;
}
