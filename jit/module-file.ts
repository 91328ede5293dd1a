// Module descriptions as JSON files (examples/modules/*.json), for `jitbox execmem map --module FILE`:
// the shape of execmem/module.ts ModuleDescription (the sections a kernel module's ELF file holds,
// with readelf-style flags), plus whether its init has run (kernel/module/main.c do_init_module:
// COMING -> LIVE frees the init regions and seals ro_after_init).
//
// Format: {"name": "...", "init": "run" | "pending" (default "run"), "sections": [{"name": ".text",
// "flags": "ax", "size": 1536, "align": 16, "data": "c3" | {"x86_64": "c3", "arm64": "c0 03 5f d6"}}]}.
// Invariants: the whole file is validated before anything is loaded; every problem is a ParseError
// naming the file and the JSON path; the loader's own rules (no W+X section, ...) stay in execmem.

import { readFileSync } from 'node:fs';
import { ParseError } from '../support/errors.js';
import { hexToBytes } from '../support/u64.js';
import type { Arch, LoadedModule, ModuleDescription, ModuleSection } from '../execmem/index.js';
import type { AddressSpace } from '../execmem/space.js';

export interface ModuleFile {
  description: ModuleDescription;
  /** Run the module's init (finishInit: LIVE) after loading; false leaves it COMING. */
  runInit: boolean;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseData(file: string, where: string, v: unknown, arch: Arch): Uint8Array | undefined {
  if (v === undefined) return undefined;
  const text = isObject(v) ? v[arch] : v;
  if (text === undefined) return undefined;
  if (typeof text !== 'string') throw new ParseError(`${file}: ${where}.data must be a hex string or {"x86_64": hex, "arm64": hex}`, { file, field: `${where}.data` });
  const bytes = hexToBytes(text);
  if (bytes === null) throw new ParseError(`${file}: ${where}.data is not hex bytes: "${text}"`, { file, field: `${where}.data` });
  return bytes;
}

/** Parse and validate a module description (JSON text) for `arch`. */
export function parseModuleFile(text: string, arch: Arch, file = 'module'): ModuleFile {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new ParseError(`${file}: malformed JSON: ${e instanceof Error ? e.message : String(e)}`, { file });
  }
  if (!isObject(j)) throw new ParseError(`${file}: expected an object {"name", "sections"}`, { file });
  if (typeof j.name !== 'string' || j.name.length === 0) throw new ParseError(`${file}: "name" must be a non-empty string`, { file, field: 'name' });
  const init = j.init ?? 'run';
  if (init !== 'run' && init !== 'pending') throw new ParseError(`${file}: "init" must be "run" or "pending", got ${JSON.stringify(init)}`, { file, field: 'init' });
  if (!Array.isArray(j.sections) || j.sections.length === 0) throw new ParseError(`${file}: "sections" must be a non-empty array`, { file, field: 'sections' });
  const sections: ModuleSection[] = j.sections.map((s: unknown, i: number): ModuleSection => {
    const where = `sections[${i}]`;
    if (!isObject(s)) throw new ParseError(`${file}: ${where} must be an object`, { file, field: where });
    if (typeof s.name !== 'string' || s.name.length === 0) throw new ParseError(`${file}: ${where}.name must be a non-empty string`, { file, field: `${where}.name` });
    if (typeof s.flags !== 'string' && typeof s.flags !== 'number') throw new ParseError(`${file}: ${where}.flags must be letters ("ax") or a number`, { file, field: `${where}.flags` });
    if (typeof s.size !== 'number' || !Number.isSafeInteger(s.size) || s.size < 0) throw new ParseError(`${file}: ${where}.size must be a non-negative integer`, { file, field: `${where}.size` });
    if (s.align !== undefined && (typeof s.align !== 'number' || !Number.isSafeInteger(s.align) || s.align < 0)) {
      throw new ParseError(`${file}: ${where}.align must be a non-negative integer`, { file, field: `${where}.align` });
    }
    const data = parseData(file, where, s.data, arch);
    if (data !== undefined && data.length > s.size) throw new ParseError(`${file}: ${where}.data (${data.length} bytes) is larger than size ${s.size}`, { file, field: `${where}.data` });
    return { name: s.name, flags: s.flags, size: s.size, ...(s.align !== undefined ? { align: s.align as number } : {}), ...(data !== undefined ? { data } : {}) };
  });
  return { description: { name: j.name, sections }, runInit: init === 'run' };
}

/** Read a module file, load it into `space` and (unless "init": "pending") finish its init. */
export function loadModuleFile(space: AddressSpace, path: string): LoadedModule {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ParseError(`cannot read module file ${path}: ${e instanceof Error ? e.message : String(e)}`, { file: path });
  }
  const m = parseModuleFile(text, space.arch, path);
  const mod = space.modules.load(m.description);
  if (m.runInit) space.modules.finishInit(mod);
  return mod;
}
