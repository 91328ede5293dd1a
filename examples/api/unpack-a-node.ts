// bcachefs key unpacking with the library API: generate realistic extent keys, compute the node's
// key format, pack the keys, generate the format's x86_64 unpacker, place it ROX through execmem
// and text_poke, and unpack every key by calling the placed code in the emulator; each result must
// equal the generic unpack. Run: `npm run build && node dist/examples/api/unpack-a-node.js`.
import { AddressSpace, BKEY_BYTES, Rng, bytesToHex, createCpu, formatForKeySet, formatToString, genExtents, genX86Unpacker, hexAddr, packKey, unpackGeneric, initCapstone } from 'jitbox';

await initCapstone();

const ks = genExtents(new Rng(11), 64);
const format = formatForKeySet(ks);
console.log(`${ks.keys.length} extent keys; format ${formatToString(format)}`);
const packed = ks.keys.map((k, i) => packKey(format, k, i));
const unpacker = genX86Unpacker(format);
console.log(`x86_64 unpacker: ${unpacker.size} bytes`);

const space = new AddressSpace({ arch: 'x86_64', seed: 11 });
const code = space.execmemAlloc('MODULE_TEXT', 4096);
space.textPokeCopy(code, unpacker.bytes);
const src = space.vmalloc(4096, 'packed key');
const dst = space.vmalloc(4096, 'struct bkey');
const cpu = createCpu('x86_64', space);

let equal = 0;
for (const p of packed) {
  space.write(src, p);
  cpu.call(code, [dst, src]);
  const native = space.read(dst, BKEY_BYTES);
  const generic = new Uint8Array(BKEY_BYTES);
  unpackGeneric(format, p, 0, generic, 0);
  if (bytesToHex(native) !== bytesToHex(generic)) throw new Error(`key ${equal}: native ${bytesToHex(native)} != generic ${bytesToHex(generic)}`);
  equal++;
}
console.log(`unpacker at ${hexAddr(code)}: ${equal}/${packed.length} keys equal the generic unpack`);
