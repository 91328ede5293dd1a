// Tail calls on the x86_64 and arm64 JITs (the interpreter has none): a prog array of JIT'd programs, the
// kernel's limit of 33 tail calls (MAX_TAIL_CALL_CNT), out-of-range and empty slots falling
// through, a bogus prog-array pointer stopped by the generated check, hardened images alike.
import { beforeAll, describe, expect, it } from 'vitest';
import { assemble } from '../../jit/bpf/asm.js';
import { conformanceProfile } from '../../jit/bpf/helpers-conformance.js';
import { loadProgram } from '../../jit/bpf/interp.js';
import { jitCompile } from '../../jit/bpf/jit.js';
import { BpfJitHost } from '../../jit/bpf/jit-host.js';
import { ProgArray, withTailCalls } from '../../jit/bpf/jit-tailcall.js';
import { initCapstone } from '../../support/capstone.js';

const profile = withTailCalls(conformanceProfile);

describe.each(['x86_64', 'arm64'] as const)('%s', (arch) => {
  let host: BpfJitHost;
  beforeAll(async () => {
    await initCapstone();
    host = new BpfJitHost({ seed: 21, ...(arch === 'arm64' ? { arch } : {}) });
  });

  // Counts its runs in the input's first word, then tail-calls slot r3 = [input+4].
  const SELF = `
  mov %r6, %r1
  ldxw %r0, [%r6+0]
  add %r0, 1
  stxw [%r6+0], %r0
  mov %r1, %r6
  lddw %r2, map_fd 100
  ldxw %r3, [%r6+4]
  call 12
  ldxw %r0, [%r6+0]
  add %r0, 1000
  exit
  `;

  describe('tail calls through a prog array', () => {
    for (const harden of [false, true]) {
      it(`${harden ? 'hardened: ' : ''}a program tail-calling itself runs 1 + 33 times`, () => {
        const arr = new ProgArray('jmp_table', 4);
        const prog = loadProgram(assemble(SELF), 'self', [arr]);
        const jp = jitCompile(prog, { host, profile, harden, seed: 4 });
        arr.set(0, jp);
        const r = jp.run({ mem: new Uint8Array(8) });
        expect(new DataView(r.mem.buffer).getUint32(0, true)).toBe(34);
        expect(r.r0).toEqual({ lo: 1034, hi: 0 });
        jp.free();
      });
    }

    it('jumps into another program (which keeps r1 and the BPF stack top), empty/out-of-range slots fall through', () => {
      const arr = new ProgArray('jmp_table', 4);
      const target = jitCompile(loadProgram(assemble('ldxw %r0, [%r1+0]\nmul %r0, 100\nexit')), { host, profile });
      const prog = loadProgram(assemble(SELF), 'self', [arr]);
      const jp = jitCompile(prog, { host, profile });
      arr.set(2, target);
      const mem = (slot: number): Uint8Array => Uint8Array.of(0, 0, 0, 0, slot, 0, 0, 0);
      expect(jp.run({ mem: mem(2) }).r0).toEqual({ lo: 100, hi: 0 });
      expect(jp.run({ mem: mem(1) }).r0).toEqual({ lo: 1001, hi: 0 });
      expect(jp.run({ mem: mem(9) }).r0).toEqual({ lo: 1001, hi: 0 });
      expect(jp.tailCallEntry).toBeGreaterThan(jp.entry);
      jp.free();
      target.free();
    });

    it('r2 that is not a prog array is refused before any read through it', () => {
      const jp = jitCompile(loadProgram(assemble('mov %r2, %r1\nmov %r3, 0\ncall 12\nmov %r0, 5\nexit')), { host, profile });
      expect(() => jp.run({ mem: new Uint8Array(64) })).toThrow(/tail call at pc 2 \(call 12\): r2 = 0x[0-9a-f]+ is not a prog array/);
      jp.free();
    });
  });
});
