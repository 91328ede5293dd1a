// Trap-unit fills shared by the writers of trap-filled memory (AddressSpace.trapFillHost, text_poke_set,
// the BPF pack staging buffers): unit 1 fills bytes; unit 4 fills 32-bit words through one cached
// word view per ArrayBuffer (guest memory, a staging slab), never a fresh view per call.
//
// Invariant: with unit 4, `at` is 4-aligned in the underlying buffer; a partial last word is filled
// whole when the buffer holds it (a staging slab's alignment padding), and dropped at a buffer's end.

/** 32-bit views of whole buffers, made once per buffer (a grown wasm memory has a new buffer). */
const wordViews = new WeakMap<ArrayBufferLike, Uint32Array>();

/** Fill bytes [at, at+n) of `u8` with `value` as bytes (unit 1) or little-endian 32-bit words (unit 4). */
export function fillUnits(u8: Uint8Array, value: number, unit: number, at: number, n: number): void {
  if (unit === 1) {
    u8.fill(value, at, at + n);
    return;
  }
  const buf = u8.buffer;
  let w = wordViews.get(buf);
  if (w === undefined || w.length === 0) {
    w = new Uint32Array(buf, 0, buf.byteLength >>> 2);
    wordViews.set(buf, w);
  }
  const from = u8.byteOffset + at;
  w.fill(value, from >>> 2, (from + n + 3) >>> 2);
}
