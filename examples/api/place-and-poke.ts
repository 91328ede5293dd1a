// Place code the W^X way with the library API: assemble `mov eax, 42; ret` with the x86_64
// assembler, get a ROX block from execmem (born trap-filled), write it with text_poke_copy (the only
// writer of executable memory), show that a plain store into it faults, call it in the emulator,
// and ask the auditor for its record. Run: `npm run build && node dist/examples/api/place-and-poke.js`.
import { AddressSpace, CodeBuffer, PageFault, bytesToHex, createCpu, hexAddr, permString, x86_64, initCapstone } from 'jitbox';

await initCapstone();

const space = new AddressSpace({ arch: 'x86_64', seed: 7 });
const buf = new CodeBuffer('x86_64');
x86_64.emitMov(buf, x86_64.GPR32[0] as x86_64.Reg32, 42);
x86_64.emitRet(buf);

const addr = space.execmemAlloc('BPF', 64);
const info = space.pageInfo(addr);
console.log(`execmem_alloc(BPF, 64) -> ${hexAddr(addr)}, page ${info ? permString(info.perm) : 'unmapped'}, born ${bytesToHex(space.read(addr, 4))}`);

const code = buf.finish({ base: addr }).bytes;
space.textPokeCopy(addr, code);
console.log(`text_poke_copy wrote ${bytesToHex(code)}`);

try {
  space.write(addr, Uint8Array.of(0x90));
  throw new Error('a plain store into ROX code did not fault');
} catch (e) {
  if (!(e instanceof PageFault)) throw e;
  console.log(`plain store: ${e.name}: ${e.message}`);
}

const cpu = createCpu('x86_64', space);
const r = cpu.call(addr);
console.log(`call ${hexAddr(addr)} -> ${r.ret.lo}`);
if (r.ret.lo !== 42) throw new Error(`expected 42, got ${r.ret.lo}`);

const audit = space.audit();
console.log(`audit: ${audit.ok ? 'OK' : 'FAILED'}, W+X pages ${audit.wxPages.length}, text_pokes ${audit.pokes}, last write via ${audit.recentWrites.at(-1)?.via ?? '-'}`);
if (!audit.ok || audit.wxPages.length !== 0) throw new Error('the auditor found a W^X violation');
