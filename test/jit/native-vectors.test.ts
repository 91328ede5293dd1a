// Recorded native runs of both JITs (scripts/oracles/bpf-jit-harness.*: x86_64 on the host CPU,
// test/vectors/jit/x86_64-native.json; arm64 under qemu-aarch64, test/vectors/jit/arm64-qemu.json):
// each JIT still produces byte-identical images for those programs (helper-free, call-free, no
// runtime checks: position independent), the same images run in the emulator give the r0 and
// memory the native run gave, and so do the checked images and the interpreter.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BpfInterpreter, loadProgram } from '../../jit/bpf/interp.js';
import { jitCompile } from '../../jit/bpf/jit.js';
import { BpfJitHost } from '../../jit/bpf/jit-host.js';
import { nativeImage } from '../../jit/bpf/jit-native.js';
import { initCapstone } from '../../support/capstone.js';
import { hex64, hexToBytes } from '../../support/u64.js';

interface Vector { name: string; program: string; mem: string; image: string; r0: string; memAfter: string }
const bytes = (h: string): Uint8Array => (h === '' ? new Uint8Array(0) : (hexToBytes(h) as Uint8Array));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

beforeAll(async () => initCapstone());

for (const [arch, path, tool] of [['x86_64', 'test/vectors/jit/x86_64-native.json', 'the host CPU'], ['arm64', 'test/vectors/jit/arm64-qemu.json', 'qemu-aarch64']] as const) {
  const file = JSON.parse(readFileSync(path, 'utf8')) as { vectors: Vector[] };
  let host: BpfJitHost;
  beforeAll(() => {
    host = new BpfJitHost({ seed: 3, arch });
  });

  describe(`${arch} JIT vs ${tool} (recorded)`, () => {
    it('has conformance and random programs', () => {
      expect(file.vectors.filter((v) => v.name.endsWith('.data')).length).toBeGreaterThan(100);
      expect(file.vectors.filter((v) => v.name.startsWith('random-')).length).toBeGreaterThan(50);
    });
    for (let chunk = 0; chunk * 50 < file.vectors.length; chunk++) {
      const vs = file.vectors.slice(chunk * 50, chunk * 50 + 50);
      it(`${vs[0]!.name} .. ${vs[vs.length - 1]!.name}`, () => {
        for (const v of vs) {
          const prog = loadProgram(bytes(v.program), v.name);
          expect(hex(nativeImage(prog, host)), v.name).toBe(v.image);
          const native = jitCompile(prog, { host, memoryChecks: false });
          const rn = native.run({ mem: bytes(v.mem) });
          native.free();
          expect(hex64(rn.r0.lo, rn.r0.hi), v.name).toBe(v.r0);
          expect(hex(rn.mem), v.name).toBe(v.memAfter);
          const jp = jitCompile(prog, { host });
          const r = jp.run({ mem: bytes(v.mem) });
          jp.free();
          expect(hex64(r.r0.lo, r.r0.hi), v.name).toBe(v.r0);
          expect(hex(r.mem), v.name).toBe(v.memAfter);
          const ri = new BpfInterpreter(prog).run({ mem: bytes(v.mem) });
          expect(hex64(ri.r0.lo, ri.r0.hi), v.name).toBe(v.r0);
        }
      });
    }
  });
}
