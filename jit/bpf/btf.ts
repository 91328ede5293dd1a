// Just enough of BTF (the kernel's BPF Type Format, include/uapi/linux/btf.h) to read map
// definitions from a `.maps` section the way libbpf does (bpf_object__init_user_btf_maps):
// each variable of the `.maps` DATASEC is a struct whose members encode the map's attributes
// (`__uint(type, N)` is a pointer to an array of N elements; `__type(key, T)` a pointer to T).
//
// Invariants:
// - Parsing never throws a host exception: every read is bounds-checked and every malformed or
//   uninterpretable construct is an ElfError naming the type id / member / map.
// - Type resolution follows at most MAX_CHAIN modifier links (typedef/const/volatile/restrict/
//   type_tag), so cyclic type graphs are errors, not hangs.

import { ElfError } from './elf-error.js';

const BTF_MAGIC = 0xeb9f;
const MAX_CHAIN = 32;

export const BTF_KIND = {
  INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10,
  RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19,
} as const;

export interface BtfMember {
  name: string;
  type: number;
  offset: number;
}

export interface BtfType {
  id: number;
  kind: number;
  name: string;
  /** size (INT, STRUCT, UNION, ENUM, DATASEC, FLOAT) or referenced type id (PTR, TYPEDEF, VAR, ...). */
  sizeOrType: number;
  members: BtfMember[];
  /** ARRAY only. */
  array?: { type: number; indexType: number; nelems: number };
}

export interface BtfMapAttrs {
  name: string;
  /** byte offset of the variable inside `.maps` */
  offset: number;
  type?: number;
  keySize?: number;
  valueSize?: number;
  maxEntries?: number;
  mapFlags?: number;
}

export class Btf {
  readonly types: BtfType[] = [];

  constructor(readonly section: string, bytes: Uint8Array) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const u32 = (off: number, what: string): number => {
      if (off < 0 || off + 4 > bytes.length) throw new ElfError(`BTF truncated reading ${what} at offset ${off}`, { section });
      return view.getUint32(off, true);
    };
    if (bytes.length < 24) throw new ElfError(`BTF header truncated (${bytes.length} bytes)`, { section });
    if (view.getUint16(0, true) !== BTF_MAGIC) throw new ElfError('bad BTF magic (expected 0xeb9f little-endian)', { section });
    const hdrLen = u32(4, 'hdr_len');
    const typeOff = u32(8, 'type_off');
    const typeLen = u32(12, 'type_len');
    const strOff = u32(16, 'str_off');
    const strLen = u32(20, 'str_len');
    const typesStart = hdrLen + typeOff;
    const stringsStart = hdrLen + strOff;
    if (hdrLen < 24 || typesStart + typeLen > bytes.length || stringsStart + strLen > bytes.length) {
      throw new ElfError('BTF header points outside the section', { section, hdrLen, typeOff, typeLen, strOff, strLen });
    }
    const str = (off: number, what: string): string => {
      if (off >= strLen) throw new ElfError(`BTF string offset ${off} out of range for ${what}`, { section, offset: off });
      let end = stringsStart + off;
      const limit = stringsStart + strLen;
      while (end < limit && bytes[end] !== 0) end++;
      if (end >= limit) throw new ElfError(`BTF string at ${off} is not terminated (${what})`, { section, offset: off });
      return new TextDecoder().decode(bytes.subarray(stringsStart + off, end));
    };
    let p = typesStart;
    const end = typesStart + typeLen;
    this.types.push({ id: 0, kind: 0, name: 'void', sizeOrType: 0, members: [] });
    while (p < end) {
      const id = this.types.length;
      const where = `type ${id}`;
      if (p + 12 > end) throw new ElfError(`BTF ${where} header truncated`, { section, type: id });
      const nameOff = u32(p, where);
      const info = u32(p + 4, where);
      const sizeOrType = u32(p + 8, where);
      p += 12;
      const vlen = info & 0xffff;
      const kind = (info >>> 24) & 0x1f;
      const t: BtfType = { id, kind, name: str(nameOff, where), sizeOrType, members: [] };
      const need = (n: number): void => {
        if (p + n > end) throw new ElfError(`BTF ${where} (kind ${kind}) truncated`, { section, type: id });
      };
      switch (kind) {
        case BTF_KIND.INT:
        case BTF_KIND.VAR:
        case BTF_KIND.DECL_TAG:
          need(4);
          p += 4;
          break;
        case BTF_KIND.PTR:
        case BTF_KIND.FWD:
        case BTF_KIND.TYPEDEF:
        case BTF_KIND.VOLATILE:
        case BTF_KIND.CONST:
        case BTF_KIND.RESTRICT:
        case BTF_KIND.FUNC:
        case BTF_KIND.FLOAT:
        case BTF_KIND.TYPE_TAG:
          break;
        case BTF_KIND.ARRAY:
          need(12);
          t.array = { type: u32(p, where), indexType: u32(p + 4, where), nelems: u32(p + 8, where) };
          p += 12;
          break;
        case BTF_KIND.STRUCT:
        case BTF_KIND.UNION:
          need(12 * vlen);
          for (let k = 0; k < vlen; k++, p += 12) {
            t.members.push({ name: str(u32(p, where), `${where} member ${k}`), type: u32(p + 4, where), offset: u32(p + 8, where) });
          }
          break;
        case BTF_KIND.ENUM:
        case BTF_KIND.FUNC_PROTO:
          need(8 * vlen);
          p += 8 * vlen;
          break;
        case BTF_KIND.DATASEC:
          need(12 * vlen);
          for (let k = 0; k < vlen; k++, p += 12) {
            t.members.push({ name: '', type: u32(p, where), offset: u32(p + 4, where) });
          }
          break;
        case BTF_KIND.ENUM64:
          need(12 * vlen);
          p += 12 * vlen;
          break;
        default:
          throw new ElfError(`BTF ${where} has unknown kind ${kind}`, { section, type: id, kind });
      }
      this.types.push(t);
    }
  }

  type(id: number, what: string): BtfType {
    const t = this.types[id];
    if (id === 0 || !t) throw new ElfError(`BTF type id ${id} out of range (${what})`, { section: this.section, type: id });
    return t;
  }

  /** Skip typedef/const/volatile/restrict/type_tag. */
  resolve(id: number, what: string): BtfType {
    let t = this.type(id, what);
    for (let n = 0; n < MAX_CHAIN; n++) {
      if (t.kind === BTF_KIND.TYPEDEF || t.kind === BTF_KIND.VOLATILE || t.kind === BTF_KIND.CONST || t.kind === BTF_KIND.RESTRICT || t.kind === BTF_KIND.TYPE_TAG) {
        t = this.type(t.sizeOrType, what);
      } else return t;
    }
    throw new ElfError(`BTF type chain too long or cyclic (${what})`, { section: this.section, type: id });
  }

  /** Byte size of a type (as libbpf's btf__resolve_size). */
  sizeOf(id: number, what: string, depth = 0): number {
    if (depth > MAX_CHAIN) throw new ElfError(`BTF type nesting too deep (${what})`, { section: this.section, type: id });
    const t = this.resolve(id, what);
    switch (t.kind) {
      case BTF_KIND.INT:
      case BTF_KIND.STRUCT:
      case BTF_KIND.UNION:
      case BTF_KIND.ENUM:
      case BTF_KIND.ENUM64:
      case BTF_KIND.FLOAT:
      case BTF_KIND.DATASEC:
        return t.sizeOrType;
      case BTF_KIND.PTR:
        return 8;
      case BTF_KIND.ARRAY: {
        const a = t.array;
        if (!a) throw new ElfError(`BTF array ${t.id} without element info (${what})`, { section: this.section, type: t.id });
        const total = this.sizeOf(a.type, what, depth + 1) * a.nelems;
        if (!Number.isSafeInteger(total) || total > 0xffffffff) throw new ElfError(`BTF array ${t.id} too large (${what})`, { section: this.section, type: t.id });
        return total;
      }
      default:
        throw new ElfError(`BTF type ${t.id} (kind ${t.kind}) has no size (${what})`, { section: this.section, type: t.id });
    }
  }

  /** The attributes of every variable in the `.maps` DATASEC. */
  mapDefinitions(): BtfMapAttrs[] {
    const sec = this.types.find((t) => t.kind === BTF_KIND.DATASEC && t.name === '.maps');
    if (!sec) throw new ElfError('BTF has no DATASEC ".maps" describing the .maps section', { section: this.section });
    const out: BtfMapAttrs[] = [];
    for (const v of sec.members) {
      const variable = this.type(v.type, '.maps variable');
      if (variable.kind !== BTF_KIND.VAR) throw new ElfError(`.maps entry type ${variable.id} is not a variable`, { section: this.section, type: variable.id });
      const mapName = variable.name;
      const st = this.resolve(variable.sizeOrType, `map ${mapName}`);
      if (st.kind !== BTF_KIND.STRUCT) throw new ElfError(`map "${mapName}" is not a struct in BTF`, { section: this.section, symbol: mapName, type: st.id });
      const attrs: BtfMapAttrs = { name: mapName, offset: v.offset };
      for (const m of st.members) {
        const what = `map ${mapName} member ${m.name}`;
        switch (m.name) {
          case 'type':
            attrs.type = this.uintAttr(m.type, what);
            break;
          case 'max_entries':
            attrs.maxEntries = this.uintAttr(m.type, what);
            break;
          case 'key_size':
            attrs.keySize = this.uintAttr(m.type, what);
            break;
          case 'value_size':
            attrs.valueSize = this.uintAttr(m.type, what);
            break;
          case 'map_flags':
            attrs.mapFlags = this.uintAttr(m.type, what);
            break;
          case 'key':
            attrs.keySize = this.sizeOf(this.pointee(m.type, what), what);
            break;
          case 'value':
            attrs.valueSize = this.sizeOf(this.pointee(m.type, what), what);
            break;
          default:
            throw new ElfError(`map "${mapName}": unsupported BTF map attribute "${m.name}"`, { section: this.section, symbol: mapName, member: m.name });
        }
      }
      out.push(attrs);
    }
    return out;
  }

  private pointee(id: number, what: string): number {
    const p = this.resolve(id, what);
    if (p.kind !== BTF_KIND.PTR) throw new ElfError(`${what}: expected a pointer type, got kind ${p.kind}`, { section: this.section, type: p.id });
    return p.sizeOrType;
  }

  /** `__uint(name, N)`: `int (*name)[N]`, so N is the nelems of the pointee array. */
  private uintAttr(id: number, what: string): number {
    const arr = this.resolve(this.pointee(id, what), what);
    if (arr.kind !== BTF_KIND.ARRAY || !arr.array) throw new ElfError(`${what}: expected a pointer to an array (__uint)`, { section: this.section, type: arr.id });
    return arr.array.nelems;
  }
}
