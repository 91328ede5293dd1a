// Random instruction streams through the verifier and the interpreter: the verifier only ever
// throws VerifierError, accepted programs fail at run time only with typed errors, and what the
// verifier proves holds: a load/store it lists in provenStackAccesses never faults. (Loosening the
// verifier's frame bounds by 64 bytes makes this test fail.)
import { describe, expect, it } from 'vitest';
import { kernelProfile } from '../../jit/bpf/helpers-kernel.js';
import { BpfInterpreter } from '../../jit/bpf/interp.js';
import { type BpfInsn, type BpfInsnFields, OPCODE_INFO, decodeProgram, encodeProgram } from '../../jit/bpf/isa.js';
import { VerifierError, verifyProgram } from '../../jit/bpf/verifier.js';
import { isJitboxError } from '../../support/errors.js';
import { Rng } from '../../support/rng.js';

const OPCODES = OPCODE_INFO.map((info, op) => (info && info.kind !== 'ldabs' && info.kind !== 'ldind' ? op : -1)).filter((op) => op >= 0);

/** A stack-heavy random program: mostly r10-relative memory ops and fp-derived pointers. */
function randomProgram(rng: Rng): Uint8Array {
  const n = 2 + rng.below(24);
  const out: BpfInsnFields[] = Array.from({ length: 10 }, (_, r) => ({ opcode: 0xb7, dst: r, src: 0, off: 0, imm: rng.below(64) }));
  for (let k = 0; k < n; k++) {
    const r = rng.below(10);
    if (r < 3) {
      const kind = rng.pick([0x7b, 0x63, 0x6b, 0x73, 0x79, 0x61, 0x69, 0x71, 0x7a, 0x62]);
      const info = OPCODE_INFO[kind]!;
      const base = rng.bool(0.7) ? 10 : rng.below(10);
      const off = rng.pick([-8 * rng.below(66), -8 * rng.below(66), 8 * rng.below(6), -rng.below(530)]);
      if (info.kind === 'ldx') out.push({ opcode: kind, dst: rng.below(10), src: base, off, imm: 0 });
      else if (info.kind === 'st') out.push({ opcode: kind, dst: base, src: 0, off, imm: rng.u32() | 0 });
      else out.push({ opcode: kind, dst: base, src: rng.below(10), off, imm: 0 });
    } else if (r < 5) {
      out.push({ opcode: 0xbf, dst: rng.below(10), src: 10, off: 0, imm: 0 });
      out.push({ opcode: 0x07, dst: rng.below(10), src: 0, off: 0, imm: rng.bool(0.8) ? -8 * rng.below(40) : -rng.below(600) });
    } else if (r < 6) {
      out.push({ opcode: rng.pick([0x15, 0x55, 0x25, 0x05]), dst: rng.below(10), src: 0, off: rng.int(-4, 4), imm: rng.below(4) });
    } else if (r < 9) {
      out.push({ opcode: rng.pick([0x07, 0x0f, 0xbf, 0xb7, 0x17, 0x1f]), dst: rng.below(10), src: rng.below(11), off: 0, imm: -rng.below(16) });
    } else {
      const op = rng.pick(OPCODES);
      const info = OPCODE_INFO[op]!;
      const f: BpfInsnFields = { opcode: op, dst: rng.below(11), src: rng.below(11), off: rng.int(-3, 3), imm: rng.pick([0, 1, 16, 32, 64, -1, rng.u32() | 0]) };
      if (info.kind === 'call') f.imm = rng.pick([1, 5, 7, 8]);
      if (info.kind === 'lddw') f.imm2 = rng.u32() | 0;
      out.push(f);
    }
  }
  out.push({ opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 });
  return encodeProgram(out);
}

describe('verifier fuzz', () => {
  it('6000 random programs: only VerifierErrors, and proven stack accesses never fault', () => {
    const rng = new Rng(2024);
    let accepted = 0;
    let provenRun = 0;
    for (let n = 0; n < 6000; n++) {
      const bytes = randomProgram(rng);
      let insns: BpfInsn[];
      try {
        insns = decodeProgram(bytes);
      } catch {
        continue;
      }
      let proven: Set<number>;
      try {
        proven = new Set(verifyProgram(insns, { profile: kernelProfile }).provenStackAccesses.keys());
      } catch (e) {
        expect(e, `case ${n}`).toBeInstanceOf(VerifierError);
        continue;
      }
      accepted++;
      try {
        new BpfInterpreter({ name: 'f', insns }, kernelProfile).run({ mem: new Uint8Array(16), budget: 5000 });
      } catch (e) {
        expect(isJitboxError(e), `case ${n}: ${String(e)}`).toBe(true);
        if (isJitboxError(e) && e.kind === 'bpf-memory-fault') expect(proven.has(Number(e.details.pc)), `case ${n} pc ${e.details.pc}`).toBe(false);
      }
      if (proven.size > 0) provenRun++;
    }
    expect(accepted).toBeGreaterThan(100);
    expect(provenRun).toBeGreaterThan(50);
  });
});
