// loadElf on the committed clang-19 objects (sections, symbols, maps, relocations, linking) and on
// malformed variants: each failure is an ElfError naming the place; random mutations never raise a
// host exception (more cases in `npm run fuzz -- elf`).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Btf } from '../../jit/bpf/btf.js';
import { ElfError, loadElf } from '../../jit/bpf/elf.js';
import { fuzz } from '../../jit/fuzz/elf.js';
import { LDDW_SRC } from '../../jit/bpf/isa.js';

const obj = (name: string): Uint8Array => new Uint8Array(readFileSync(`examples/bpf/${name}.o`));

function elfError(bytes: Uint8Array, pattern: RegExp): ElfError {
  let err: unknown;
  try {
    loadElf(bytes);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ElfError);
  expect((err as ElfError).message).toMatch(pattern);
  return err as ElfError;
}

/** Section header fields of a real object, for targeted corruption. */
function sectionHeader(b: Uint8Array, name: string): { hdr: number; offset: number; size: number } {
  const o = loadElf(b);
  const s = o.sections.find((x) => x.name === name);
  if (!s) throw new Error(`no section ${name}`);
  const shoff = new DataView(b.buffer, b.byteOffset).getUint32(40, true);
  return { hdr: shoff + s.index * 64, offset: s.offset, size: s.size };
}

function setU32(b: Uint8Array, at: number, v: number): Uint8Array {
  const c = b.slice();
  new DataView(c.buffer).setUint32(at, v, true);
  return c;
}

describe('loadElf: real objects', () => {
  it('finds one program per function, in its section, with several programs per object', () => {
    const o = loadElf(obj('filter'));
    expect(o.programs.map((p) => [p.name, p.section])).toEqual([['filter', 'xdp'], ['tcp_dport', 'tc']]);
    expect(o.maps).toEqual([]);
    expect(loadElf(obj('filter'), { section: 'tc' }).programs.map((p) => p.name)).toEqual(['tcp_dport']);
    const c = loadElf(obj('checksum'));
    expect(c.programs.map((p) => [p.name, p.section, p.insns.length])).toEqual([
      ['checksum', 'socket', 0x100 / 8], ['byte_sum', 'socket', 0x58 / 8], ['header_checksum', 'socket/header', 0xd0 / 8],
    ]);
    expect(() => loadElf(obj('checksum'), { section: 'nope' })).toThrow(/no program in section "nope" \(code sections: socket, socket\/header\)/);
  });

  it('reads BTF-defined maps from .maps (__uint/__type) and rewrites lddw to map indices', () => {
    const o = loadElf(obj('count_btf'));
    expect(o.maps.slice(0, 2)).toEqual([
      { name: 'nibbles', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 16, flags: 0, source: 'btf' },
      { name: 'totals', type: 'array', keySize: 4, valueSize: 8, maxEntries: 2, flags: 0, source: 'btf' },
    ]);
    const p = o.programs[0]!;
    expect(p.mapRefs.map((r) => r.symbol)).toEqual(['nibbles', 'nibbles', 'totals', 'nibbles', 'nibbles', 'totals']);
    for (const r of p.mapRefs) {
      const ins = p.insns.find((i) => i.slot === r.slot)!;
      expect(ins.opcode).toBe(0x18);
      expect(ins.src).toBe(LDDW_SRC.MAP_IDX);
      expect(ins.imm).toBe(r.mapIndex);
    }
  });

  it('reads legacy struct bpf_map_def maps and global data as map-value references', () => {
    const o = loadElf(obj('count_legacy'));
    expect(o.maps.map((m) => [m.name, m.type, m.keySize, m.valueSize, m.maxEntries, m.source, m.readonly ?? null])).toEqual([
      ['histogram', 'array', 4, 8, 8, 'legacy', null],
      ['.rodata', 'array', 4, 64, 1, 'global-data', true],
      ['.data', 'array', 4, 8, 1, 'global-data', false],
    ]);
    // .data holds `runs = 100`, .rodata the weights table {1, 3, 7, ...}
    expect(new DataView(o.maps[2]!.initial!.buffer).getUint32(0, true)).toBe(100);
    expect(new DataView(o.maps[1]!.initial!.buffer).getUint32(8, true)).toBe(3);
    const valueRefs = o.programs[0]!.mapRefs.filter((r) => r.kind === 'value');
    expect(valueRefs.map((r) => r.symbol)).toEqual(['.rodata', '.data']);
    for (const r of valueRefs) expect(o.programs[0]!.insns.find((i) => i.slot === r.slot)!.src).toBe(LDDW_SRC.MAP_IDX_VALUE);
  });

  it('appends .text subprograms and re-points R_BPF_64_32 calls (against a function symbol and against .text) at them', () => {
    const o = loadElf(obj('loop'));
    const p = o.programs[0]!;
    const fnSyms = o.symbols.filter((s) => s.type === 2).map((s) => [s.name, s.bind]);
    expect(fnSyms).toContainEqual(['word_at', 1]);
    expect(fnSyms).toContainEqual(['popcount', 0]);
    expect(p.subprograms).toEqual(['word_at', 'popcount']);
    const calls = p.insns.filter((i) => i.opcode === 0x85 && i.src === 1);
    const mainSlots = 0xf8 / 8;
    const targets = calls.map((c) => c.slot + 1 + c.imm);
    // word_at (0x58 bytes) goes right after the entry function, popcount after it
    expect(targets).toEqual([mainSlots, mainSlots + 0x58 / 8]);
  });
});

describe('loadElf: malformed objects are ElfErrors naming the place', () => {
  const good = obj('loop');
  it('wrong magic, class, endianness, type and machine', () => {
    elfError(setU32(good, 0, 0x464c457e), /bad magic/);
    const c = good.slice(); c[4] = 1; elfError(c, /ELFCLASS64/);
    const d = good.slice(); d[5] = 2; elfError(d, /little-endian/);
    const t = good.slice(); t[16] = 2; elfError(t, /ET_REL/);
    const m = good.slice(); m[18] = 62; m[19] = 0;
    expect(elfError(m, /machine 62.*EM_BPF/).details.field).toBe('e_machine');
  });
  it('truncated headers, section table and section contents', () => {
    elfError(good.slice(0, 40), /truncated ELF header/);
    elfError(good.slice(0, good.length - 10), /truncated ELF: section header table/);
    const { hdr } = sectionHeader(good, '.text');
    const e = elfError(setU32(good, hdr + 32, 0x100000), /truncated ELF: section \d+ contents/);
    expect(e.details.section).toBeTypeOf('number');
  });
  it('bad string offsets in section names and symbols', () => {
    const { hdr } = sectionHeader(good, '.text');
    elfError(setU32(good, hdr, 0x7fff0000), /name offset 2147418112 outside the section name table/);
    const sym = sectionHeader(good, '.symtab');
    elfError(setU32(good, sym.offset + 24, 0x7fff0000), /symbol 1: name offset .* outside/);
  });
  it('relocation against an unknown symbol, of an unsupported type, or not on an lddw/call', () => {
    const rel = sectionHeader(good, '.relsocket');
    const unknownSym = setU32(good, rel.offset + 12, 999);
    const e = elfError(unknownSym, /relocation 0 of "socket" at offset 88 names unknown symbol 999/);
    expect(e.details).toMatchObject({ section: 'socket', relocation: 0, offset: 88 });
    elfError(setU32(good, rel.offset + 8, 7), /unsupported relocation type 7 at offset 88 of "socket"/);
    elfError(setU32(good, rel.offset, 0), /R_BPF_64_32 relocation at offset 0 of "socket" is not on a local call/);
  });
  it('relocation against an undefined symbol (extern)', () => {
    const b = loadElf(good);
    const sym = sectionHeader(good, '.symtab');
    const textSym = b.symbols.find((s) => s.name === '' && s.type === 3 && s.shndx === b.sections.find((x) => x.name === '.text')!.index)!;
    const c = good.slice();
    new DataView(c.buffer).setUint16(sym.offset + textSym.index * 24 + 6, 0, true);
    elfError(c, /undefined symbol ".*" \(externs and kfuncs are not supported\)/);
  });
  it('unsupported map types and BTF the loader cannot interpret', () => {
    const legacy = obj('count_legacy');
    const maps = sectionHeader(legacy, 'maps');
    expect(elfError(setU32(legacy, maps.offset, 27), /map "histogram": unsupported map type 27/).details.symbol).toBe('histogram');
    const btfObj = obj('count_btf');
    const btf = sectionHeader(btfObj, '.BTF');
    elfError(setU32(btfObj, btf.offset, 0x12345678), /bad BTF magic/);
  });
  it('code that does not decode names section and function', () => {
    const f = obj('filter');
    const xdp = sectionHeader(f, 'xdp');
    const c = f.slice(); c[xdp.offset + 8] = 0xff;
    const e = elfError(c, /section "xdp" function "filter": invalid BPF instruction at slot 1 \(opcode 0xff\)/);
    expect(e.details).toMatchObject({ section: 'xdp', symbol: 'filter', slot: 1 });
  });
  it('random mutations give only typed errors (moderate count; npm run fuzz -- elf for more)', async () => {
    expect(await fuzz(2000, 7)).toMatch(/^elf: 2000 cases/);
  });
});

describe('Btf', () => {
  function btfBlob(types: number[], strings: string): Uint8Array {
    const str = new TextEncoder().encode(strings);
    const b = new Uint8Array(24 + types.length * 4 + str.length);
    const v = new DataView(b.buffer);
    v.setUint16(0, 0xeb9f, true); b[2] = 1; v.setUint32(4, 24, true);
    v.setUint32(8, 0, true); v.setUint32(12, types.length * 4, true);
    v.setUint32(16, types.length * 4, true); v.setUint32(20, str.length, true);
    types.forEach((t, i) => v.setUint32(24 + i * 4, t, true));
    b.set(str, 24 + types.length * 4);
    return b;
  }
  it('decodes __uint as pointer-to-array nelems and __type as pointee size', () => {
    // strings: 0 "", 1 "int", 5 "m", 7 ".maps", 13 "type", 18 "key", 22 "max_entries"
    const s = '\0int\0m\0.maps\0type\0key\0max_entries\0';
    const info = (kind: number, vlen = 0): number => ((kind << 24) | vlen) >>> 0;
    const types = [
      1, info(1), 4, 0x20, // 1: int (4 bytes)
      0, info(3), 0, 1, 1, 7, // 2: int[7]
      0, info(2), 2, // 3: ptr -> int[7]
      0, info(2), 1, // 4: ptr -> int
      0, info(4, 3), 24, 13, 3, 0, 18, 4, 64, 22, 3, 128, // 5: struct {type; key; max_entries}
      5, info(14), 5, 1, // 6: var m
      7, info(15, 1), 24, 6, 0, 24, // 7: datasec .maps
    ];
    const btf = new Btf('.BTF', btfBlob(types, s));
    expect(btf.mapDefinitions()).toEqual([{ name: 'm', offset: 0, type: 7, keySize: 4, maxEntries: 7 }]);
  });
  it('rejects unknown kinds, cyclic typedefs and truncated types', () => {
    const info = (kind: number): number => (kind << 24) >>> 0;
    expect(() => new Btf('.BTF', btfBlob([0, info(31), 0], '\0'))).toThrow(/unknown kind 31/);
    const cyc = new Btf('.BTF', btfBlob([0, info(8), 1], '\0'));
    expect(() => cyc.resolve(1, 'x')).toThrow(/cyclic/);
    expect(() => new Btf('.BTF', btfBlob([0, info(3), 0, 1], '\0'))).toThrow(/truncated/);
  });
});
