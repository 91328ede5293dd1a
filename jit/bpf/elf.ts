// ELF64 little-endian loader for BPF relocatable objects (`clang -target bpf -O2 -c`), imitating
// libbpf's bpf_object__open: executable sections hold programs (one per function symbol, or the
// whole section when it has none), static functions in `.text` are subprograms appended to each
// program that calls them, and relocations are resolved as libbpf does:
// - R_BPF_64_64 on an lddw against a map symbol (legacy `maps` section, struct bpf_map_def; or
//   BTF-defined `.maps`) -> lddw src 5 (PSEUDO_MAP_IDX), imm = map index;
// - R_BPF_64_64 against a symbol in .data/.rodata*/.bss* (global data) -> lddw src 6
//   (PSEUDO_MAP_IDX_VALUE), imm = index of that section's one-entry array map, imm2 = offset;
// - R_BPF_64_32 on a `call` src 1 -> target = sym.value/8 + imm + 1 in the symbol's section
//   (libbpf's sub_insn_idx), re-pointed at the appended copy of the callee.
// Relocations of debug/BTF sections are ignored; any relocation of global data itself (pointers in
// .data) is unsupported.
//
// Invariants:
// - No host exception on any byte string: every read goes through bounds-checked accessors and
//   every failure is an ElfError naming the section / symbol / relocation (or a BpfDecodeError
//   wrapped into one).
// - The input bytes are never modified; programs get fresh instruction arrays.

import { type BpfInsn, BpfDecodeError, CALL_SRC, LDDW_SRC, OP, checkTargets, decodeProgram, encodeProgram } from './isa.js';
import { Btf } from './btf.js';
import { ElfError } from './elf-error.js';

export { ElfError } from './elf-error.js';

const EM_BPF = 247;
const ET_REL = 1;
const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
const SHT_REL = 9;
const SHT_NOBITS = 8;
const SHT_PROGBITS = 1;
const SHF_EXECINSTR = 0x4;
const SHN_UNDEF = 0;
const SHN_LORESERVE = 0xff00;
const STT_FUNC = 2;
const STT_SECTION = 3;

export const R_BPF = { NONE: 0, R64_64: 1, ABS64: 2, ABS32: 3, NODYLD32: 4, R64_32: 10 } as const;
const MAP_TYPE_NAMES: Record<number, 'hash' | 'array'> = { 1: 'hash', 2: 'array' };

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  entsize: number;
}

export interface ElfSymbol {
  index: number;
  name: string;
  type: number;
  bind: number;
  shndx: number;
  value: number;
  size: number;
}

export interface ElfReloc {
  offset: number;
  type: number;
  sym: number;
}

export interface MapDef {
  name: string;
  type: 'array' | 'hash';
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  /** where the definition came from */
  source: 'legacy' | 'btf' | 'global-data';
  /** global data: the section's initial bytes (zeros for .bss) */
  initial?: Uint8Array;
  /** global data in .rodata: values are read-only to the program */
  readonly?: boolean;
}

export interface MapRef {
  /** slot of the lddw in the linked program */
  slot: number;
  mapIndex: number;
  kind: 'map' | 'value';
  /** value offset (kind 'value') */
  offset: number;
  symbol: string;
}

export interface LoadedProgram {
  name: string;
  section: string;
  insns: BpfInsn[];
  /** the linked program's bytes (relocations applied, subprograms appended) */
  bytes: Uint8Array;
  mapRefs: MapRef[];
  /** names of the subprograms appended after the entry function, in order */
  subprograms: string[];
}

export interface LoadedObject {
  programs: LoadedProgram[];
  maps: MapDef[];
  sections: ElfSection[];
  symbols: ElfSymbol[];
}

export interface LoadElfOptions {
  /** only load programs in this section (by exact name) */
  section?: string;
}

// ---- Bounds-checked reading --------------------------------------------------------------------

class Reader {
  private view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  check(off: number, len: number, what: string, details: Record<string, string | number> = {}): void {
    if (!(off >= 0 && len >= 0 && off + len <= this.bytes.length)) {
      throw new ElfError(`truncated ELF: ${what} at offset ${off} (+${len}) is beyond the file's ${this.bytes.length} bytes`, { ...details, offset: off, length: len });
    }
  }
  u8(off: number, what: string): number {
    this.check(off, 1, what);
    return this.view.getUint8(off);
  }
  u16(off: number, what: string): number {
    this.check(off, 2, what);
    return this.view.getUint16(off, true);
  }
  u32(off: number, what: string): number {
    this.check(off, 4, what);
    return this.view.getUint32(off, true);
  }
  /** A 64-bit field that must fit in 2^53 (offsets, sizes, symbol values). */
  u64(off: number, what: string): number {
    const lo = this.u32(off, what);
    const hi = this.u32(off + 4, what);
    if (hi >= 0x200000) throw new ElfError(`${what} value 0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')} too large`, { offset: off });
    return hi * 0x100000000 + lo;
  }
}

function cstring(bytes: Uint8Array, start: number, limit: number): string | null {
  let end = start;
  while (end < limit && bytes[end] !== 0) end++;
  if (end >= limit) return null;
  return new TextDecoder().decode(bytes.subarray(start, end));
}

// ---- Headers, sections, symbols ----------------------------------------------------------------

function readSections(r: Reader): ElfSection[] {
  const b = r.bytes;
  if (b.length < 64) throw new ElfError(`truncated ELF header: ${b.length} bytes (need 64)`, { field: 'e_ident' });
  if (b[0] !== 0x7f || b[1] !== 0x45 || b[2] !== 0x4c || b[3] !== 0x46) throw new ElfError('not an ELF file (bad magic)', { field: 'e_ident' });
  if (b[4] !== 2) throw new ElfError(`wrong ELF class ${b[4]} (need ELFCLASS64 = 2)`, { field: 'EI_CLASS' });
  if (b[5] !== 1) throw new ElfError(`wrong ELF data encoding ${b[5]} (need little-endian ELFDATA2LSB = 1)`, { field: 'EI_DATA' });
  const type = r.u16(16, 'e_type');
  if (type !== ET_REL) throw new ElfError(`wrong ELF type ${type} (need a relocatable object, ET_REL = 1)`, { field: 'e_type' });
  const machine = r.u16(18, 'e_machine');
  if (machine !== EM_BPF) throw new ElfError(`wrong ELF machine ${machine} (need EM_BPF = 247)`, { field: 'e_machine' });
  const shoff = r.u64(40, 'e_shoff');
  const shentsize = r.u16(58, 'e_shentsize');
  const shnum = r.u16(60, 'e_shnum');
  const shstrndx = r.u16(62, 'e_shstrndx');
  if (shnum === 0) throw new ElfError('ELF has no section headers', { field: 'e_shnum' });
  if (shentsize !== 64) throw new ElfError(`bad section header size ${shentsize} (need 64)`, { field: 'e_shentsize' });
  r.check(shoff, shnum * 64, 'section header table', { field: 'e_shoff' });
  if (shstrndx >= shnum) throw new ElfError(`section name table index ${shstrndx} out of range (${shnum} sections)`, { field: 'e_shstrndx' });
  const raw: ElfSection[] = [];
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * 64;
    const sec: ElfSection = {
      index: i,
      name: '',
      type: r.u32(h + 4, 'sh_type'),
      flags: r.u64(h + 8, 'sh_flags'),
      offset: r.u64(h + 24, 'sh_offset'),
      size: r.u64(h + 32, 'sh_size'),
      link: r.u32(h + 40, 'sh_link'),
      info: r.u32(h + 44, 'sh_info'),
      entsize: r.u64(h + 56, 'sh_entsize'),
    };
    if (sec.type !== SHT_NOBITS) r.check(sec.offset, sec.size, `section ${i} contents`, { section: i });
    raw.push(sec);
  }
  const strtab = raw[shstrndx] as ElfSection;
  if (strtab.type !== SHT_STRTAB) throw new ElfError(`section name table (section ${shstrndx}) is not a string table`, { section: shstrndx });
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * 64;
    const nameOff = r.u32(h, 'sh_name');
    const sec = raw[i] as ElfSection;
    if (nameOff >= strtab.size) throw new ElfError(`section ${i}: name offset ${nameOff} outside the section name table`, { section: i, offset: nameOff });
    const name = cstring(b, strtab.offset + nameOff, strtab.offset + strtab.size);
    if (name === null) throw new ElfError(`section ${i}: unterminated name`, { section: i });
    sec.name = name;
  }
  return raw;
}

function sectionBytes(r: Reader, s: ElfSection): Uint8Array {
  if (s.type === SHT_NOBITS) return new Uint8Array(s.size > 0x10000000 ? 0 : s.size);
  return r.bytes.subarray(s.offset, s.offset + s.size);
}

function readSymbols(r: Reader, sections: ElfSection[]): { symtab: ElfSection | null; symbols: ElfSymbol[] } {
  const symtab = sections.find((s) => s.type === SHT_SYMTAB) ?? null;
  if (!symtab) return { symtab: null, symbols: [] };
  if (symtab.entsize !== 24) throw new ElfError(`symbol table "${symtab.name}" has entry size ${symtab.entsize} (need 24)`, { section: symtab.name });
  const strtab = sections[symtab.link];
  if (!strtab || strtab.type !== SHT_STRTAB) throw new ElfError(`symbol table's string table (section ${symtab.link}) is missing or not a string table`, { section: symtab.name });
  const n = Math.floor(symtab.size / 24);
  const symbols: ElfSymbol[] = [];
  for (let i = 0; i < n; i++) {
    const p = symtab.offset + i * 24;
    const nameOff = r.u32(p, 'st_name');
    if (nameOff >= strtab.size && nameOff !== 0) throw new ElfError(`symbol ${i}: name offset ${nameOff} outside "${strtab.name}"`, { section: symtab.name, symbol: i });
    const name = strtab.size === 0 ? '' : cstring(r.bytes, strtab.offset + nameOff, strtab.offset + strtab.size);
    if (name === null) throw new ElfError(`symbol ${i}: unterminated name`, { section: symtab.name, symbol: i });
    const info = r.u8(p + 4, 'st_info');
    symbols.push({ index: i, name, type: info & 0xf, bind: info >> 4, shndx: r.u16(p + 6, 'st_shndx'), value: r.u64(p + 8, 'st_value'), size: r.u64(p + 16, 'st_size') });
  }
  return { symtab, symbols };
}

function symbolName(sym: ElfSymbol, sections: ElfSection[]): string {
  if (sym.name !== '') return sym.name;
  if (sym.type === STT_SECTION) return sections[sym.shndx]?.name ?? `section#${sym.shndx}`;
  return `symbol#${sym.index}`;
}

function readRelocs(r: Reader, rel: ElfSection, target: ElfSection, nsyms: number): ElfReloc[] {
  if (rel.entsize !== 16) throw new ElfError(`relocation section "${rel.name}" has entry size ${rel.entsize} (need 16)`, { section: rel.name });
  const out: ElfReloc[] = [];
  for (let i = 0; i < Math.floor(rel.size / 16); i++) {
    const p = rel.offset + i * 16;
    const offset = r.u64(p, 'r_offset');
    const type = r.u32(p + 8, 'r_info');
    const sym = r.u32(p + 12, 'r_info');
    const where = { section: target.name, relocation: i, offset };
    if (sym >= nsyms) throw new ElfError(`relocation ${i} of "${target.name}" at offset ${offset} names unknown symbol ${sym}`, where);
    out.push({ offset, type, sym });
  }
  return out;
}

// ---- Maps --------------------------------------------------------------------------------------

function isGlobalData(name: string): boolean {
  return name === '.data' || name === '.bss' || name === '.rodata' || /^\.(data|bss|rodata)\./.test(name);
}

function mapTypeName(type: number | undefined, symbol: string, section: string): 'hash' | 'array' {
  const t = type === undefined ? undefined : MAP_TYPE_NAMES[type];
  if (!t) throw new ElfError(`map "${symbol}": unsupported map type ${type ?? '(missing)'} (supported: 1 hash, 2 array)`, { section, symbol, mapType: type ?? null });
  return t;
}

function checkMapShape(d: MapDef, section: string): MapDef {
  const bad = (why: string): never => {
    throw new ElfError(`map "${d.name}": ${why}`, { section, symbol: d.name });
  };
  if (!(d.keySize > 0) || d.keySize > 512) bad(`bad key size ${d.keySize}`);
  if (!(d.valueSize > 0) || d.valueSize > 1 << 20) bad(`bad value size ${d.valueSize}`);
  if (!(d.maxEntries > 0) || d.maxEntries > 1 << 16) bad(`bad max_entries ${d.maxEntries}`);
  if (d.type === 'array' && d.keySize !== 4) bad(`array map key size must be 4, got ${d.keySize}`);
  if (d.type === 'array' && d.valueSize * d.maxEntries > 1 << 24) bad('array map too large');
  return d;
}

interface MapTable {
  maps: MapDef[];
  /** symbol index -> map index (map symbols) */
  bySymbol: Map<number, number>;
  /** section index -> map index (global data sections) */
  bySection: Map<number, number>;
}

function collectMaps(r: Reader, sections: ElfSection[], symbols: ElfSymbol[]): MapTable {
  const table: MapTable = { maps: [], bySymbol: new Map(), bySection: new Map() };
  const legacy = sections.find((s) => s.name === 'maps');
  if (legacy) {
    const syms = symbols.filter((s) => s.shndx === legacy.index && s.type !== STT_SECTION && s.name !== '').sort((a, b) => a.value - b.value);
    if (syms.length === 0 && legacy.size > 0) throw new ElfError('legacy "maps" section has no map symbols', { section: 'maps' });
    const bytes = sectionBytes(r, legacy);
    const defSize = syms.length > 0 ? Math.floor(legacy.size / syms.length) : 0;
    for (const s of syms) {
      if (defSize < 16 || s.value % 4 !== 0 || s.value + 16 > bytes.length) {
        throw new ElfError(`map "${s.name}": struct bpf_map_def at offset ${s.value} truncated or misaligned in "maps"`, { section: 'maps', symbol: s.name, offset: s.value });
      }
      const v = new DataView(bytes.buffer, bytes.byteOffset + s.value, 16 + (s.value + 20 <= bytes.length ? 4 : 0));
      const def: MapDef = {
        name: s.name,
        type: mapTypeName(v.getUint32(0, true), s.name, 'maps'),
        keySize: v.getUint32(4, true),
        valueSize: v.getUint32(8, true),
        maxEntries: v.getUint32(12, true),
        flags: v.byteLength >= 20 ? v.getUint32(16, true) : 0,
        source: 'legacy',
      };
      table.bySymbol.set(s.index, table.maps.length);
      table.maps.push(checkMapShape(def, 'maps'));
    }
  }
  const btfMaps = sections.find((s) => s.name === '.maps');
  if (btfMaps) {
    const btfSec = sections.find((s) => s.name === '.BTF');
    if (!btfSec) throw new ElfError('section ".maps" needs BTF to describe its maps, but there is no .BTF section (build with -g)', { section: '.maps' });
    const btf = new Btf('.BTF', sectionBytes(r, btfSec));
    const defs = btf.mapDefinitions();
    const syms = symbols.filter((s) => s.shndx === btfMaps.index && s.type !== STT_SECTION && s.name !== '');
    for (const s of syms) {
      const a = defs.find((d) => d.name === s.name);
      if (!a) throw new ElfError(`map "${s.name}" in .maps has no BTF description`, { section: '.maps', symbol: s.name });
      const def: MapDef = {
        name: s.name,
        type: mapTypeName(a.type, s.name, '.maps'),
        keySize: a.keySize ?? 0,
        valueSize: a.valueSize ?? 0,
        maxEntries: a.maxEntries ?? 0,
        flags: a.mapFlags ?? 0,
        source: 'btf',
      };
      table.bySymbol.set(s.index, table.maps.length);
      table.maps.push(checkMapShape(def, '.maps'));
    }
  }
  for (const s of sections) {
    if (!isGlobalData(s.name) || s.size === 0) continue;
    if (s.size > 1 << 20) throw new ElfError(`global data section "${s.name}" too large (${s.size} bytes)`, { section: s.name });
    table.bySection.set(s.index, table.maps.length);
    table.maps.push({
      name: s.name,
      type: 'array',
      keySize: 4,
      valueSize: s.size,
      maxEntries: 1,
      flags: 0,
      source: 'global-data',
      initial: sectionBytes(r, s).slice(),
      readonly: s.name.startsWith('.rodata'),
    });
  }
  return table;
}

// ---- Programs and linking ----------------------------------------------------------------------

interface FuncRange {
  section: ElfSection;
  name: string;
  start: number; // byte offset in the section
  end: number;
}

interface Obj {
  r: Reader;
  sections: ElfSection[];
  symbols: ElfSymbol[];
  relocs: Map<number, ElfReloc[]>; // target section index -> relocations
  funcs: Map<number, FuncRange[]>; // section index -> functions sorted by start
  table: MapTable;
}

function functionsOf(obj: Pick<Obj, 'symbols' | 'sections'>, sec: ElfSection): FuncRange[] {
  const fs = obj.symbols
    .filter((s) => s.shndx === sec.index && s.type === STT_FUNC)
    .map((s) => {
      if (s.value % 8 !== 0 || s.size % 8 !== 0 || s.value + s.size > sec.size) {
        throw new ElfError(`function "${s.name}" [${s.value}, +${s.size}) is misaligned or outside section "${sec.name}"`, { section: sec.name, symbol: s.name });
      }
      return { section: sec, name: s.name, start: s.value, end: s.value + (s.size > 0 ? s.size : sec.size - s.value) };
    })
    .sort((a, b) => a.start - b.start);
  if (fs.length === 0 && sec.size > 0) {
    if (sec.size % 8 !== 0) throw new ElfError(`code section "${sec.name}" size ${sec.size} is not a multiple of 8`, { section: sec.name });
    fs.push({ section: sec, name: sec.name, start: 0, end: sec.size });
  }
  return fs;
}

function decodeRange(obj: Obj, f: FuncRange): BpfInsn[] {
  const bytes = sectionBytes(obj.r, f.section).subarray(f.start, f.end);
  try {
    return decodeProgram(bytes);
  } catch (e) {
    if (e instanceof BpfDecodeError) {
      throw new ElfError(`section "${f.section.name}" function "${f.name}": ${e.message}`, { section: f.section.name, symbol: f.name, slot: e.slot, offset: f.start + e.slot * 8 });
    }
    throw e;
  }
}

function linkProgram(obj: Obj, entry: FuncRange): LoadedProgram {
  const out: BpfInsn[] = [];
  const mapRefs: MapRef[] = [];
  const placed = new Map<string, number>(); // "secIndex:start" -> slot in the linked program
  const queue: FuncRange[] = [];
  const subprograms: string[] = [];
  let nextSlot = 0;
  const place = (f: FuncRange): number => {
    const key = `${f.section.index}:${f.start}`;
    const have = placed.get(key);
    if (have !== undefined) return have;
    const at = nextSlot;
    placed.set(key, at);
    nextSlot += (f.end - f.start) / 8;
    queue.push(f);
    if (f !== entry) subprograms.push(f.name);
    return at;
  };
  place(entry);
  for (let qi = 0; qi < queue.length; qi++) {
    const f = queue[qi] as FuncRange;
    const base = placed.get(`${f.section.index}:${f.start}`) as number;
    const insns = decodeRange(obj, f);
    const relocs = new Map<number, ElfReloc>();
    for (const rel of obj.relocs.get(f.section.index) ?? []) {
      if (rel.offset >= f.start && rel.offset < f.end) {
        if ((rel.offset - f.start) % 8 !== 0) throw new ElfError(`relocation at offset ${rel.offset} of "${f.section.name}" is not on an instruction boundary`, { section: f.section.name, offset: rel.offset });
        relocs.set((rel.offset - f.start) / 8, rel);
      }
    }
    for (const ins of insns) {
      const rel = relocs.get(ins.slot);
      relocs.delete(ins.slot);
      const fixed: BpfInsn = { ...ins, slot: base + ins.slot };
      const where = { section: f.section.name, symbol: f.name, offset: f.start + ins.slot * 8 };
      if (rel) applyReloc(obj, fixed, ins, rel, f, where, mapRefs, place);
      else if (ins.opcode === OP.CALL && ins.src === CALL_SRC.LOCAL) {
        const t = ins.slot + 1 + ins.imm;
        if (t < 0 || t * 8 >= f.end - f.start) {
          throw new ElfError(`local call at offset ${where.offset} of "${f.section.name}" leaves function "${f.name}" without a relocation`, where);
        }
      }
      out.push(fixed);
    }
    for (const [slot, rel] of relocs) {
      throw new ElfError(`relocation at offset ${f.start + slot * 8} of "${f.section.name}" points into the second slot of an lddw`, { section: f.section.name, offset: f.start + slot * 8, type: rel.type });
    }
  }
  try {
    checkTargets(out);
  } catch (e) {
    if (e instanceof BpfDecodeError) throw new ElfError(`program "${entry.name}" in "${entry.section.name}": ${e.message}`, { section: entry.section.name, symbol: entry.name, slot: e.slot });
    throw e;
  }
  return { name: entry.name, section: entry.section.name, insns: out, bytes: encodeProgram(out), mapRefs, subprograms };
}

function applyReloc(
  obj: Obj,
  fixed: BpfInsn,
  ins: BpfInsn,
  rel: ElfReloc,
  f: FuncRange,
  where: { section: string; symbol: string; offset: number },
  mapRefs: MapRef[],
  place: (f: FuncRange) => number,
): void {
  const sym = obj.symbols[rel.sym] as ElfSymbol;
  const sname = symbolName(sym, obj.sections);
  const details = { ...where, relocation: rel.type, target: sname };
  if (sym.shndx === SHN_UNDEF) throw new ElfError(`relocation at offset ${where.offset} of "${where.section}" against undefined symbol "${sname}" (externs and kfuncs are not supported)`, details);
  if (sym.shndx >= SHN_LORESERVE || !obj.sections[sym.shndx]) throw new ElfError(`relocation at offset ${where.offset} of "${where.section}" against symbol "${sname}" in special section ${sym.shndx}`, details);
  const tsec = obj.sections[sym.shndx] as ElfSection;
  if (rel.type === R_BPF.R64_64) {
    if (ins.opcode !== OP.LDDW) throw new ElfError(`R_BPF_64_64 relocation at offset ${where.offset} of "${where.section}" is not on an lddw`, details);
    if (ins.src !== LDDW_SRC.IMM64) throw new ElfError(`R_BPF_64_64 relocation at offset ${where.offset} on an lddw with src ${ins.src}`, details);
    const mapIdx = obj.table.bySymbol.get(sym.index);
    if (mapIdx !== undefined) {
      fixed.src = LDDW_SRC.MAP_IDX;
      fixed.imm = mapIdx;
      fixed.imm2 = 0;
      mapRefs.push({ slot: fixed.slot, mapIndex: mapIdx, kind: 'map', offset: 0, symbol: sname });
      return;
    }
    const dataIdx = obj.table.bySection.get(tsec.index);
    if (dataIdx !== undefined) {
      const offset = ins.imm + sym.value;
      if (offset < 0 || offset > tsec.size) throw new ElfError(`global data reference "${sname}"+${ins.imm} outside "${tsec.name}"`, details);
      fixed.src = LDDW_SRC.MAP_IDX_VALUE;
      fixed.imm = dataIdx;
      fixed.imm2 = offset;
      mapRefs.push({ slot: fixed.slot, mapIndex: dataIdx, kind: 'value', offset, symbol: sname });
      return;
    }
    if (tsec.flags & SHF_EXECINSTR) throw new ElfError(`function pointer to "${sname}" (lddw src 4, PSEUDO_FUNC) is not supported`, details);
    throw new ElfError(`lddw relocation against "${sname}" in section "${tsec.name}", which is neither a map nor global data`, details);
  }
  if (rel.type === R_BPF.R64_32) {
    if (ins.opcode !== OP.CALL || ins.src !== CALL_SRC.LOCAL) throw new ElfError(`R_BPF_64_32 relocation at offset ${where.offset} of "${where.section}" is not on a local call`, details);
    if (!(tsec.flags & SHF_EXECINSTR)) throw new ElfError(`call relocation against "${sname}" in non-code section "${tsec.name}"`, details);
    if (sym.value % 8 !== 0) throw new ElfError(`call target "${sname}" is not instruction-aligned`, details);
    const targetByte = sym.value + (ins.imm + 1) * 8;
    const callee = (obj.funcs.get(tsec.index) ?? []).find((g) => g.start === targetByte);
    if (!callee) throw new ElfError(`call at offset ${where.offset} of "${where.section}" targets offset ${targetByte} of "${tsec.name}", which is not a function start`, details);
    const at = place(callee);
    fixed.imm = at - (fixed.slot + 1);
    return;
  }
  if (rel.type === R_BPF.NONE) return;
  throw new ElfError(`unsupported relocation type ${rel.type} at offset ${where.offset} of "${where.section}" (symbol "${sname}")`, details);
}

/** Load every program (or those of `opts.section`) and the maps of a BPF ELF object. */
export function loadElf(bytes: Uint8Array, opts: LoadElfOptions = {}): LoadedObject {
  const r = new Reader(bytes);
  const sections = readSections(r);
  const { symbols } = readSymbols(r, sections);
  const relocs = new Map<number, ElfReloc[]>();
  for (const s of sections) {
    if (s.type !== SHT_REL) continue;
    const target = sections[s.info];
    if (!target) throw new ElfError(`relocation section "${s.name}" applies to missing section ${s.info}`, { section: s.name });
    if (target.flags & SHF_EXECINSTR) {
      if (symbols.length === 0) throw new ElfError(`relocation section "${s.name}" but no symbol table`, { section: s.name });
      relocs.set(target.index, readRelocs(r, s, target, symbols.length));
    } else if (isGlobalData(target.name) && s.size > 0) {
      throw new ElfError(`relocations in global data section "${target.name}" (pointers in initialised data) are not supported`, { section: s.name });
    }
  }
  const code = sections.filter((s) => s.type === SHT_PROGBITS && (s.flags & SHF_EXECINSTR) !== 0 && s.size > 0);
  const objBase = { sections, symbols };
  const funcs = new Map<number, FuncRange[]>();
  for (const s of code) funcs.set(s.index, functionsOf(objBase, s));
  const table = collectMaps(r, sections, symbols);
  const obj: Obj = { r, sections, symbols, relocs, funcs, table };
  const entrySections = code.filter((s) => s.name !== '.text');
  const pickFrom = entrySections.length > 0 ? entrySections : code;
  const programs: LoadedProgram[] = [];
  for (const s of pickFrom) {
    if (opts.section !== undefined && s.name !== opts.section) continue;
    for (const f of funcs.get(s.index) ?? []) programs.push(linkProgram(obj, f));
  }
  if (opts.section !== undefined && programs.length === 0) {
    throw new ElfError(`no program in section "${opts.section}" (code sections: ${code.map((s) => s.name).join(', ') || 'none'})`, { section: opts.section });
  }
  return { programs, maps: table.maps, sections, symbols };
}
