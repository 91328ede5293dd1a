// The module loader's memory side (kernel/module/main.c, kernel/module/strict_rwx.c): sections go
// into the seven module_memory types, each type gets its own execmem_alloc_rw region, and the
// permissions follow the kernel's timeline.
//
// Invariants (reference/execmem.md §2.4):
// - Each ALLOC section goes to the first row of the table whose required flags are all set and
//   forbidden flags all clear; `.init*` sections go to the init column. A section that is both
//   WRITE and EXEC fails the load (ENOEXEC under STRICT_MODULE_RWX); so does an init section
//   with RO_AFTER_INIT. Nothing is allocated before the description is fully validated.
// - Layout: off = alignUp(cur, align || 1); cur = off + size; each type is page-rounded. Text
//   types come from MODULE_TEXT, the rest from MODULE_DATA, all RW+NX and zeroed while UNFORMED.
// - COMING: rodata -> RO, then data -> NX, then text -> ROX (execmem_restore_rox).
//   LIVE (finishInit): ro_after_init -> RO, init regions freed. Unload frees DATA last.

import { InvalidArgumentError } from '../support/errors.js';
import { type VAddr } from '../support/u64.js';
import type { ExecmemType } from './config.js';
import { ModuleLoadError } from './errors.js';
import type { AddressSpace } from './space.js';
import { type Arch, PAGE_SIZE, permString } from './types.js';
import { checkLength } from './validate.js';

export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
/** Loader-internal flag given to `.data..ro_after_init` (include/linux/module.h SHF_RO_AFTER_INIT). */
export const SHF_RO_AFTER_INIT = 0x00200000;

export const MOD_MEM_TYPES = ['TEXT', 'DATA', 'RODATA', 'RO_AFTER_INIT', 'INIT_TEXT', 'INIT_DATA', 'INIT_RODATA'] as const;
export type ModMemType = (typeof MOD_MEM_TYPES)[number];

export interface ModuleSection {
  name: string;
  /** SHF_* bits, or readelf-style letters: "a" alloc, "w" write, "x" exec. */
  flags: number | string;
  size: number;
  align?: number;
  /** Contents (at most `size` bytes; the rest is zero). Omit for NOBITS sections such as .bss. */
  data?: Uint8Array;
}

export interface ModuleDescription {
  name: string;
  sections: ModuleSection[];
}

export type ModuleState = 'COMING' | 'LIVE' | 'GONE';

export interface PlacedSection {
  name: string;
  type: ModMemType;
  offset: number;
  address: VAddr;
  size: number;
}

export interface ModuleRegion {
  type: ModMemType;
  base: VAddr;
  /** Page-rounded size of the region. */
  size: number;
  /** Bytes used by sections. */
  used: number;
  freed: boolean;
}

export interface TimelineEvent {
  state: 'UNFORMED' | 'COMING' | 'LIVE' | 'GOING';
  type: ModMemType;
  perm: string;
}

export interface LoadedModule {
  name: string;
  state: ModuleState;
  regions: Partial<Record<ModMemType, ModuleRegion>>;
  sections: PlacedSection[];
  timeline: TimelineEvent[];
}

interface Row {
  requires: number;
  forbids: number;
  core: ModMemType;
  init: ModMemType | null;
}

const ARCH_SHF_SMALL = 0;

/** The mod_mem_type table of module_memory layout (kernel/module/main.c layout_sections). */
const ROWS: readonly Row[] = [
  { requires: SHF_EXECINSTR | SHF_ALLOC, forbids: ARCH_SHF_SMALL, core: 'TEXT', init: 'INIT_TEXT' },
  { requires: SHF_ALLOC, forbids: SHF_WRITE | ARCH_SHF_SMALL, core: 'RODATA', init: 'INIT_RODATA' },
  { requires: SHF_RO_AFTER_INIT | SHF_ALLOC, forbids: ARCH_SHF_SMALL, core: 'RO_AFTER_INIT', init: null },
  { requires: SHF_WRITE | SHF_ALLOC, forbids: ARCH_SHF_SMALL, core: 'DATA', init: 'INIT_DATA' },
  { requires: ARCH_SHF_SMALL | SHF_ALLOC, forbids: 0, core: 'DATA', init: 'INIT_DATA' },
];

const TEXT_TYPES: readonly ModMemType[] = ['TEXT', 'INIT_TEXT'];
const INIT_TYPES: readonly ModMemType[] = ['INIT_TEXT', 'INIT_DATA', 'INIT_RODATA'];

export function parseSectionFlags(flags: number | string, section: string): number {
  if (typeof flags === 'number') {
    if (!Number.isInteger(flags) || flags < 0) throw new InvalidArgumentError(`section ${section}: bad flags ${flags}`, { section });
    return flags;
  }
  let f = 0;
  for (const ch of flags) {
    if (ch === 'a') f |= SHF_ALLOC;
    else if (ch === 'w') f |= SHF_WRITE;
    else if (ch === 'x') f |= SHF_EXECINSTR;
    else throw new InvalidArgumentError(`section ${section}: unknown flag letter "${ch}" (use a, w, x)`, { section });
  }
  return f;
}

function isInitSection(name: string): boolean {
  return name.startsWith('.init');
}

export class ModuleLoader {
  private readonly space: AddressSpace;
  private readonly mods = new Map<string, LoadedModule>();

  constructor(space: AddressSpace) {
    this.space = space;
  }

  /** Validate and lay out a description: the type and offset of every ALLOC section (pure). */
  layout(desc: ModuleDescription): { placed: Omit<PlacedSection, 'address'>[]; sizes: Record<ModMemType, number> } {
    if (typeof desc !== 'object' || desc === null || typeof desc.name !== 'string' || desc.name === '' || !Array.isArray(desc.sections)) {
      throw new InvalidArgumentError('a module description needs a name and a list of sections');
    }
    const sizes = Object.fromEntries(MOD_MEM_TYPES.map((t) => [t, 0])) as Record<ModMemType, number>;
    const placed: Omit<PlacedSection, 'address'>[] = [];
    const seen = new Set<string>();
    for (const sec of desc.sections) {
      if (typeof sec.name !== 'string' || sec.name === '') throw new InvalidArgumentError(`module ${desc.name}: a section has no name`);
      if (seen.has(sec.name)) throw new ModuleLoadError(`module ${desc.name}: duplicate section ${sec.name}`, { section: sec.name });
      seen.add(sec.name);
      checkLength(sec.size, `section ${sec.name} size`, true);
      const align = sec.align ?? 1;
      if (!Number.isInteger(align) || align < 0 || (align > 0 && (align & (align - 1)) !== 0) || align > PAGE_SIZE) {
        throw new InvalidArgumentError(`section ${sec.name}: alignment must be 0 or a power of two up to 4096, got ${align}`, { section: sec.name });
      }
      if (sec.data !== undefined && (!(sec.data instanceof Uint8Array) || sec.data.length > sec.size)) {
        throw new InvalidArgumentError(`section ${sec.name}: data must be a Uint8Array of at most ${sec.size} bytes`, { section: sec.name });
      }
      let flags = parseSectionFlags(sec.flags, sec.name);
      if (!(flags & SHF_ALLOC)) continue;
      if (flags & SHF_WRITE && flags & SHF_EXECINSTR) {
        throw new ModuleLoadError(`module ${desc.name}: section ${sec.name} is writable and executable (ENOEXEC under STRICT_MODULE_RWX)`, {
          section: sec.name,
        });
      }
      if (sec.name === '.data..ro_after_init') flags |= SHF_RO_AFTER_INIT;
      const init = isInitSection(sec.name);
      const row = ROWS.find((r) => (flags & r.requires) === r.requires && (flags & r.forbids) === 0) as Row;
      const type = init ? row.init : row.core;
      if (type === null) throw new ModuleLoadError(`module ${desc.name}: init section ${sec.name} cannot be ro_after_init`, { section: sec.name });
      const offset = Math.ceil(sizes[type] / (align || 1)) * (align || 1);
      sizes[type] = offset + sec.size;
      placed.push({ name: sec.name, type, offset, size: sec.size });
    }
    return { placed, sizes };
  }

  /** Load: allocate, copy (UNFORMED), then form (COMING). Call `finishInit` after init ran. */
  load(desc: ModuleDescription): LoadedModule {
    const { placed, sizes } = this.layout(desc);
    if (this.mods.has(desc.name)) throw new ModuleLoadError(`module ${desc.name} is already loaded (EEXIST)`, { module: desc.name });
    const s = this.space;
    const mod: LoadedModule = { name: desc.name, state: 'COMING', regions: {}, sections: [], timeline: [] };
    try {
      for (const type of MOD_MEM_TYPES) {
        if (sizes[type] === 0) continue;
        const size = Math.ceil(sizes[type] / PAGE_SIZE) * PAGE_SIZE;
        const exec: ExecmemType = TEXT_TYPES.includes(type) ? 'MODULE_TEXT' : 'MODULE_DATA';
        const base = s.execmem.allocRw(exec, size, { label: `${desc.name} ${type}` });
        mod.regions[type] = { type, base, size, used: sizes[type], freed: false };
      }
    } catch (e) {
      for (const r of Object.values(mod.regions)) s.execmem.free(r.base);
      throw e;
    }
    const event = (state: TimelineEvent['state'], type: ModMemType): void => {
      const r = mod.regions[type];
      if (r === undefined) return;
      const pte = s.pte(r.base);
      mod.timeline.push({ state, type, perm: r.freed || pte === undefined ? 'freed' : permString(pte.perm) });
    };
    for (const r of Object.values(mod.regions)) {
      s.fillWritable(r.base, r.size, 'zero', `module ${desc.name}: zero ${r.type}`);
      event('UNFORMED', r.type);
    }
    for (const p of placed) {
      const r = mod.regions[p.type] as ModuleRegion;
      const address = r.base + p.offset;
      mod.sections.push({ ...p, address });
      const data = desc.sections.find((x) => x.name === p.name)?.data;
      if (data !== undefined && data.length > 0) s.write(address, data);
    }
    for (const t of TEXT_TYPES) {
      const r = mod.regions[t];
      if (r) s.flushIcacheRange(r.base, r.size);
    }
    // module_enable_rodata_ro, module_enable_data_nx, module_enable_text_rox.
    for (const t of ['RODATA', 'INIT_RODATA'] as const) this.setRegion(mod, t, 'ro');
    for (const t of ['DATA', 'RODATA', 'RO_AFTER_INIT', 'INIT_DATA', 'INIT_RODATA'] as const) this.setRegion(mod, t, 'nx');
    for (const t of TEXT_TYPES) {
      const r = mod.regions[t];
      if (r) s.execmem.restoreRox(r.base, r.size);
    }
    for (const t of MOD_MEM_TYPES) event('COMING', t);
    this.mods.set(desc.name, mod);
    return mod;
  }

  /** After the module's init returned: ro_after_init -> RO, free the init regions (LIVE). */
  finishInit(mod: LoadedModule): void {
    this.checkLive(mod, 'COMING');
    this.setRegion(mod, 'RO_AFTER_INIT', 'ro');
    for (const t of INIT_TYPES) this.freeRegion(mod, t);
    mod.state = 'LIVE';
    for (const t of MOD_MEM_TYPES) {
      const r = mod.regions[t];
      if (r) {
        const pte = this.space.pte(r.base);
        mod.timeline.push({ state: 'LIVE', type: t, perm: r.freed || pte === undefined ? 'freed' : permString(pte.perm) });
      }
    }
  }

  /** free_module: every region, DATA last (it holds struct module). */
  unload(mod: LoadedModule): void {
    this.checkLive(mod, null);
    for (const t of MOD_MEM_TYPES) if (t !== 'DATA') this.freeRegion(mod, t);
    this.freeRegion(mod, 'DATA');
    for (const t of MOD_MEM_TYPES) if (mod.regions[t]) mod.timeline.push({ state: 'GOING', type: t, perm: 'freed' });
    mod.state = 'GONE';
    this.mods.delete(mod.name);
  }

  loaded(): LoadedModule[] {
    return [...this.mods.values()];
  }

  sectionAddress(mod: LoadedModule, name: string): VAddr | null {
    return mod.sections.find((p) => p.name === name)?.address ?? null;
  }

  digest(): string {
    return [...this.mods.values()].map((m) => `${m.name}:${m.state}:${Object.values(m.regions).map((r) => `${r.base}${r.freed ? 'F' : ''}`).join('/')}`).join(',');
  }

  private checkLive(mod: LoadedModule, want: ModuleState | null): void {
    if (this.mods.get(mod.name) !== mod) throw new InvalidArgumentError(`module ${mod.name} is not loaded`, { module: mod.name });
    if (want !== null && mod.state !== want) throw new InvalidArgumentError(`module ${mod.name} is ${mod.state}, expected ${want}`, { module: mod.name });
  }

  private setRegion(mod: LoadedModule, t: ModMemType, op: 'ro' | 'nx'): void {
    const r = mod.regions[t];
    if (r && !r.freed) this.space.setMemory(r.base, r.size / PAGE_SIZE, op, `module ${mod.name}: ${t} -> ${op.toUpperCase()}`);
  }

  private freeRegion(mod: LoadedModule, t: ModMemType): void {
    const r = mod.regions[t];
    if (!r || r.freed) return;
    this.space.execmem.free(r.base);
    r.freed = true;
  }
}

/** A small module with every kind of section, for the memory map and the tests. */
export function exampleModule(arch: Arch, name = 'jitbox_demo'): ModuleDescription {
  const ret = arch === 'x86_64' ? Uint8Array.of(0xc3) : Uint8Array.of(0xc0, 0x03, 0x5f, 0xd6);
  return {
    name,
    sections: [
      { name: '.text', flags: 'ax', size: 1536, align: 16, data: ret },
      { name: '.exit.text', flags: 'ax', size: 64, align: 16, data: ret },
      { name: '.init.text', flags: 'ax', size: 320, align: 16, data: ret },
      { name: '.rodata', flags: 'a', size: 700, align: 8, data: new TextEncoder().encode('jitbox demo module\n') },
      { name: '.data', flags: 'aw', size: 200, align: 8 },
      { name: '.bss', flags: 'aw', size: 4096, align: 64 },
      { name: '.data..ro_after_init', flags: 'aw', size: 64, align: 8 },
      { name: '.init.data', flags: 'aw', size: 128, align: 8 },
      { name: '.init.rodata', flags: 'a', size: 96, align: 8 },
      { name: '.comment', flags: '', size: 40 },
    ],
  };
}
