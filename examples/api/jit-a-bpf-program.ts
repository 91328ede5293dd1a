// A BPF program through the whole pipeline with the library API: assemble (bpf_conformance text
// dialect), verify, interpret, JIT for x86_64 and arm64 into bpf_prog_pack memory, run the native
// code in the emulator and compare with the interpreter. Run:
// `npm run build && node dist/examples/api/jit-a-bpf-program.js`.
import { type JitArch, BpfInterpreter, assembleInsns, conformanceProfile, hexAddr, jitCompile, jitListing, loadProgram, u64ToHex, verifyProgram, encodeProgram, initCapstone } from 'jitbox';

await initCapstone();

// Sum of the bytes of the input (r1 = address, r2 = length), a bounded loop.
const source = `
  mov %r0, 0
  mov %r3, 0
loop:
  jge %r3, %r2, done
  mov %r4, %r1
  add %r4, %r3
  ldxb %r5, [%r4]
  add %r0, %r5
  add %r3, 1
  ja loop
done:
  exit
`;
const insns = assembleInsns(source);
const prog = loadProgram(encodeProgram(insns), 'sum_bytes');
const v = verifyProgram(prog.insns, { profile: conformanceProfile });
console.log(`verifier: ${v.reachable} reachable instructions, ${v.backEdges.length} loop back-edge(s)`);

const input = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);
const expected = input.reduce((a, b) => a + b, 0);
const ir = new BpfInterpreter(prog, conformanceProfile).run({ mem: input });
console.log(`interpreter: r0 = ${u64ToHex(ir.r0)} (expected ${expected})`);
if (ir.r0.lo !== expected || ir.r0.hi !== 0) throw new Error('interpreter disagrees with the expected sum');

for (const arch of ['x86_64', 'arm64'] as JitArch[]) {
  const jp = jitCompile(prog, { arch, profile: conformanceProfile, harden: true, seed: 5 });
  const r = jp.run({ mem: input });
  console.log(`${arch}: ${jp.size} bytes at ${hexAddr(jp.entry)} (pack ${hexAddr(jp.pack)} + ${jp.offset}), r0 = ${u64ToHex(r.r0)}, ${r.nativeInsns} native instructions`);
  if (u64ToHex(r.r0) !== u64ToHex(ir.r0)) throw new Error(`${arch} JIT disagrees with the interpreter`);
  const first = jitListing(jp).find((l) => l.index >= 0);
  if (first) console.log(`  ; ${first.bpf}\n${first.native.map((n) => `    ${hexAddr(n.address)}: ${n.text}`).join('\n')}`);
  jp.free();
}
console.log('all engines agree');
