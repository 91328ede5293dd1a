// Placement and measurement with the library API: build one btree node from realistic extent keys,
// place its unpacker in each of the four modes through execmem (co-located with the lookup tables
// as ROX, a shared bpf_prog_pack chunk, its own ROX page, the shared generic unpacker), unpack
// every key in the emulator and check it against the generic unpack; then run the colocate
// experiment at a small size under the skylake model and print its table and conclusions.
// Run: `npm run build && node dist/examples/api/measure-colocation.js`.
import {
  AddressSpace, BKEY_BYTES, BtreeNode, EmuUnpackRunner, NodePlacer, PLACEMENT_MODES, Rng, bytesToHex, experiments, formatForKeySet, genExtents, hexAddr,
  initCapstone, unpackGeneric,
} from 'jitbox';

await initCapstone();

const ks = genExtents(new Rng(5), 200);
const format = formatForKeySet(ks);
const space = new AddressSpace({ arch: 'x86_64', seed: 5 });
const placer = new NodePlacer(space, 'x86_64');
const runner = new EmuUnpackRunner(space, 'x86_64');
const codeLen = placer.compile(format).size;
const node = BtreeNode.build(
  { format, minKey: ks.minKey, maxKey: ks.maxKey, nodeBytes: 64 * 1024, codeLen },
  [ks.keys.map((key, i) => ({ key, value: ks.values[i] as Uint8Array }))],
);

for (const mode of PLACEMENT_MODES) {
  const placed = placer.place(node, mode);
  let equal = 0;
  for (let i = 0; i < placed.keyCount; i++) {
    if (!placed.isPacked(i)) continue;
    const got = runner.unpack(placed, i).bytes;
    const want = new Uint8Array(BKEY_BYTES);
    unpackGeneric(format, space.read(placed.keyAddr(i), format.keyU64s * 8), 0, want, 0);
    if (bytesToHex(got) !== bytesToHex(want)) throw new Error(`${mode}: key ${i} unpacked to ${bytesToHex(got)}, generic gives ${bytesToHex(want)}`);
    equal++;
  }
  const areas = placed.areas.map((a) => `${a.what} ${hexAddr(a.addr)} via ${a.via}`).join('; ');
  console.log(`${mode}: unpack at ${hexAddr(placed.unpackAddr)}, ${equal} packed keys equal the generic unpack (${areas})`);
}
console.log(`audit: ${space.audit().ok ? 'OK' : 'FAILED'}`);

const params: experiments.ColocateParams = {
  nodes: [1, 64], lookups: 100, unpacksPerLookup: 1, keysPerNode: 128, pool: 4, prefetchKind: 'code', arches: ['x86_64'],
  model: experiments.defaultModelParams(),
};
const ctx = experiments.makeContext(7, true, experiments.colocateSteps(params), () => {});
const result = experiments.runColocate(ctx, params);
for (const t of experiments.colocateTables(result)) console.log(experiments.renderTableText(t));
for (const c of experiments.colocateConclusions(result)) console.log(`conclusion: ${c}`);
