// Recorded qemu-aarch64 runs (test/vectors/jit/arm64-qemu.json, scripts/oracles/bpf-jit-arm64-qemu.*):
// the arm64 JIT still produces byte-identical images for those programs (helper-free, call-free,
// no runtime checks: position independent), and the same images run in the emulator give the r0 and
// memory that qemu-aarch64 gave. The interpreter agrees as well.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BpfInterpreter, loadProgram } from '../../jit/bpf/interp.js';
import { jitCompile } from '../../jit/bpf/jit.js';
import { BpfJitHost } from '../../jit/bpf/jit-host.js';
import { initCapstone } from '../../support/capstone.js';
import { hex64, hexToBytes } from '../../support/u64.js';

interface Vector { name: string; program: string; mem: string; image: string; r0: string; memAfter: string }
const file = JSON.parse(readFileSync('test/vectors/jit/arm64-qemu.json', 'utf8')) as { vectors: Vector[] };
const bytes = (h: string): Uint8Array => (h === '' ? new Uint8Array(0) : (hexToBytes(h) as Uint8Array));

let host: BpfJitHost;
beforeAll(async () => {
  await initCapstone();
  host = new BpfJitHost({ seed: 3, arch: 'arm64' });
});

describe('arm64 JIT vs qemu-aarch64 (recorded)', () => {
  it('has conformance and random programs', () => {
    expect(file.vectors.filter((v) => v.name.endsWith('.data')).length).toBeGreaterThan(100);
    expect(file.vectors.filter((v) => v.name.startsWith('random-')).length).toBeGreaterThan(50);
  });
  for (let chunk = 0; chunk * 50 < file.vectors.length; chunk++) {
    const vs = file.vectors.slice(chunk * 50, chunk * 50 + 50);
    it(`${vs[0]!.name} .. ${vs[vs.length - 1]!.name}`, () => {
      for (const v of vs) {
        const prog = loadProgram(bytes(v.program), v.name);
        const native = jitCompile(prog, { host, memoryChecks: false });
        expect(native.relocations, v.name).toEqual([]);
        expect(Buffer.from(native.image).toString('hex'), v.name).toBe(v.image);
        const rn = native.run({ mem: bytes(v.mem) });
        native.free();
        expect(hex64(rn.r0.lo, rn.r0.hi), v.name).toBe(v.r0);
        expect(Buffer.from(rn.mem).toString('hex'), v.name).toBe(v.memAfter);
        const jp = jitCompile(prog, { host });
        const r = jp.run({ mem: bytes(v.mem) });
        jp.free();
        expect(hex64(r.r0.lo, r.r0.hi), v.name).toBe(v.r0);
        const ri = new BpfInterpreter(prog).run({ mem: bytes(v.mem) });
        expect(hex64(ri.r0.lo, ri.r0.hi), v.name).toBe(v.r0);
      }
    });
  }
});
