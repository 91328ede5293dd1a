// codegen/bpf on its own (pure: instructions + options in, bytes + tables out): helper reach decided
// over the whole image range (call rel32 near, movabs + call r11 far), the sizing pass and the final
// pass at the ROX address agree on the layout, relocations land on the helper, and constant
// blinding keeps every branch on the expansion of its original target.
import { beforeAll, describe, expect, it } from 'vitest';
import { assemble } from '../../jit/bpf/asm.js';
import { loadProgram } from '../../jit/bpf/interp.js';
import { compileBpfX86 } from '../../codegen/bpf/x86_64.js';
import { BPF_REG_AX, SYM, blindConstants, branchTargetSlot, withOrigins } from '../../codegen/bpf/common.js';
import { disasmAll, initCapstone } from '../../support/capstone.js';
import { Rng } from '../../support/rng.js';

beforeAll(async () => initCapstone());

const KTEXT = -0x80000000 + 0x1000000; // 0xffffffff81000000
const MODULES = { lo: -0x40000000, hi: -0x2000000 }; // 0xffffffffc0000000 .. 0xfffffffffe000000

function texts(bytes: Uint8Array, base: number): string[] {
  return disasmAll('x86_64', bytes, base).map((d) => d.text);
}

describe('x86_64 BPF codegen', () => {
  const prog = loadProgram(assemble('mov %r1, 1\ncall 3\njeq %r0, 1, +1\nmov %r0, 2\nexit'));
  const insns = withOrigins(prog.insns);

  it('helpers within ±2 GiB of every image address: call rel32 patched to the helper', () => {
    const helper = KTEXT + 0x40;
    const c = compileBpfX86(insns, { functions: [0], symbolAddress: (s) => (s === SYM.helper(3) ? helper : undefined), imageRange: MODULES });
    const base = MODULES.lo + 0x123440;
    const fin = c.at(base);
    const call = disasmAll('x86_64', fin.bytes, base).find((d) => d.text.startsWith('call'))!;
    expect(call.bytes.length).toBe(5);
    expect(BigInt.asUintN(64, BigInt(call.text.split(' ')[1]!))).toBe(BigInt.asUintN(64, BigInt(helper)));
    expect(fin.relocations).toEqual([{ kind: 'x86.rel32', symbol: SYM.helper(3), offset: call.address - base + 1, target: helper }]);
    expect(fin.sites.map((s) => s.kind)).toEqual(['helper']);
  });

  it('a helper out of reach of part of the range: movabs r11 + call r11, same layout at any base', () => {
    const far = 0x7f0000001000;
    const c = compileBpfX86(insns, { functions: [0], symbolAddress: (s) => (s === SYM.helper(3) ? far : undefined), imageRange: MODULES });
    const a = c.at(MODULES.lo + 0x1000);
    const b = c.at(MODULES.hi - 0x10000);
    expect(Array.from(a.insnOffsets)).toEqual(Array.from(b.insnOffsets));
    expect(a.bytes.length).toBe(b.bytes.length);
    const t = texts(a.bytes, MODULES.lo + 0x1000);
    expect(t).toContain('movabs r11, 0x7f0000001000');
    expect(t).toContain('call r11');
  });

  it('the per-instruction offset table is monotone and ends at the code end', () => {
    const c = compileBpfX86(insns, { functions: [0], symbolAddress: () => KTEXT, imageRange: MODULES });
    const o = Array.from(c.sized.insnOffsets);
    expect(o.length).toBe(insns.length + 1);
    for (let k = 1; k < o.length; k++) expect(o[k]!).toBeGreaterThanOrEqual(o[k - 1]!);
    expect(o[o.length - 1]).toBe(c.sized.codeSize);
  });

  it('blinding: every immediate goes through AX and branches land on their targets\' expansions', () => {
    const p = withOrigins(loadProgram(assemble('mov %r0, 5\nlddw %r1, 0x1122334455667788\nja +1\nadd %r0, 7\njgt %r0, 3, -3\nstw [%r10-4], 9\nexit')).insns);
    const b = blindConstants(p, new Rng(1));
    const firstOf = new Map<number, number>();
    for (const i of b) if (!firstOf.has(i.origin!)) firstOf.set(i.origin!, i.slot);
    for (const i of b) {
      const t = branchTargetSlot(i);
      if (t === null) continue;
      const orig = p[i.origin!]!;
      const origTarget = branchTargetSlot(orig)!;
      const targetIndex = p.findIndex((x) => x.slot === origTarget);
      expect(t).toBe(firstOf.get(targetIndex));
    }
    for (const i of b) {
      if (i.opcode === 0x18) throw new Error('lddw survived blinding');
      const isImmAlu = (i.opcode & 0x07) >= 4 && (i.opcode & 0x08) === 0 && i.opcode !== 0x95 && i.opcode !== 0x05;
      if (isImmAlu && i.dst !== BPF_REG_AX && (i.opcode & 0xf0) !== 0x60) throw new Error(`unblinded immediate: ${JSON.stringify(i)}`);
    }
  });
});
