// Runs one differential case (jit/fuzz/emu-x86-cases.ts) on the emulator over a real execmem
// AddressSpace: code placed with execmemAlloc + textPokeCopy, the data buffer in vmalloc memory,
// rdi pointing at it. Returns the same shape the native/Unicorn oracles print.
import { AddressSpace } from '../../execmem/index.js';
import { createCpu, type Machine } from '../../emulator/index.js';
import type { X86Machine } from '../../emulator/x86_64/machine.js';
import { hexToBytes, vaddrToPair } from '../../support/u64.js';

export interface Outcome {
  regs?: string[];
  flags?: number;
  data?: string;
  fault?: string;
}

export interface DiffCase {
  name: string;
  code: string;
  regs: string[];
  flags: number;
  flagMask: number;
  data: string;
}

const NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

export class X86DiffRunner {
  readonly space = new AddressSpace({ arch: 'x86_64', seed: 7 });
  readonly cpu: Machine = createCpu('x86_64', this.space);
  readonly data = this.space.vmalloc(4096, 'diff data');

  run(c: DiffCase): Outcome {
    const code = hexToBytes(c.code) as Uint8Array;
    const data = hexToBytes(c.data) as Uint8Array;
    const addr = this.space.execmemAlloc('BPF', code.length);
    try {
      this.space.textPokeCopy(addr, code);
      this.space.write(this.data, data);
      const regs: Record<string, bigint> = {};
      c.regs.forEach((h, i) => {
        if (i !== 4) regs[NAMES[i]!] = BigInt('0x' + h);
      });
      const d = vaddrToPair(this.data);
      regs.rdi = (BigInt(d.hi) << 32n) | BigInt(d.lo);
      let res;
      try {
        res = this.cpu.call(addr, [], { regs, flags: c.flags, budget: 1_000_000 });
      } catch (e) {
        return { fault: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
      }
      const out = NAMES.map((n, i) => {
        const p = res.regs[n]!;
        let v = (BigInt(p.hi) << 32n) | BigInt(p.lo);
        if (i === 4) v = 0n;
        if (i === 7) v = BigInt.asUintN(64, v - regs.rdi!);
        return v.toString(16).padStart(16, '0');
      });
      const flags = (this.cpu as X86Machine).flags() & 0x8d5;
      return { regs: out, flags, data: Buffer.from(this.space.read(this.data, data.length)).toString('hex') };
    } finally {
      this.space.execmemFree(addr);
    }
  }
}

/** Differences between an outcome and the expected one (flags compared under the case's mask). */
export function compareOutcome(c: DiffCase, got: Outcome, want: Outcome): string[] {
  const bad: string[] = [];
  if (want.fault || got.fault) {
    if (!want.fault || !got.fault) bad.push(`fault: got ${got.fault ?? 'none'}, want ${want.fault ?? 'none'}`);
    return bad;
  }
  want.regs!.forEach((w, i) => {
    if (got.regs![i] !== w) bad.push(`${NAMES[i]}: got ${got.regs![i]}, want ${w}`);
  });
  if (((got.flags ?? 0) & c.flagMask) !== ((want.flags ?? 0) & c.flagMask)) {
    bad.push(`flags (mask ${c.flagMask.toString(16)}): got ${got.flags!.toString(16)}, want ${want.flags!.toString(16)}`);
  }
  if (got.data !== want.data) bad.push('data buffer differs');
  return bad;
}
