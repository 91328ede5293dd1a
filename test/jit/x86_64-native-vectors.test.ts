// Recorded native runs (test/vectors/jit/x86_64-native.json, scripts/oracles/bpf-jit-native.*): the
// x86_64 JIT still produces byte-identical images for those programs, and the same images run in
// the emulator give the r0 and memory the host CPU gave. Also checks they match the interpreter.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BpfInterpreter, loadProgram } from '../../jit/bpf/interp.js';
import { jitCompile } from '../../jit/bpf/jit.js';
import { BpfJitHost } from '../../jit/bpf/jit-host.js';
import { nativeImage } from '../../jit/bpf/jit-native.js';
import { initCapstone } from '../../support/capstone.js';
import { hex64, hexToBytes } from '../../support/u64.js';

interface Vector { name: string; program: string; mem: string; image: string; r0: string; memAfter: string }
const file = JSON.parse(readFileSync('test/vectors/jit/x86_64-native.json', 'utf8')) as { vectors: Vector[] };
const bytes = (h: string): Uint8Array => (h === '' ? new Uint8Array(0) : (hexToBytes(h) as Uint8Array));

let host: BpfJitHost;
beforeAll(async () => {
  await initCapstone();
  host = new BpfJitHost({ seed: 3 });
});

describe('x86_64 JIT vs the host CPU (recorded)', () => {
  it('has conformance and random programs', () => {
    expect(file.vectors.filter((v) => v.name.endsWith('.data')).length).toBeGreaterThan(100);
    expect(file.vectors.filter((v) => v.name.startsWith('random-')).length).toBeGreaterThan(50);
  });
  for (let chunk = 0; chunk * 40 < file.vectors.length; chunk++) {
    const vs = file.vectors.slice(chunk * 40, chunk * 40 + 40);
    it(`${vs[0]!.name} .. ${vs[vs.length - 1]!.name}`, () => {
      for (const v of vs) {
        const prog = loadProgram(bytes(v.program), v.name);
        expect(Buffer.from(nativeImage(prog, host)).toString('hex'), v.name).toBe(v.image);
        const jp = jitCompile(prog, { host });
        const r = jp.run({ mem: bytes(v.mem) });
        jp.free();
        expect(hex64(r.r0.lo, r.r0.hi), v.name).toBe(v.r0);
        expect(Buffer.from(r.mem).toString('hex'), v.name).toBe(v.memAfter);
        const ri = new BpfInterpreter(prog).run({ mem: bytes(v.mem) });
        expect(hex64(ri.r0.lo, ri.r0.hi), v.name).toBe(v.r0);
      }
    });
  }
});
