// Per-arch configuration of the simulated kernel address space: where kernel text, the module area,
// vmalloc and the direct map live, and the execmem range of every consumer type.
//
// Imitates Linux's `execmem_arch_setup()` (arch/x86/mm/init.c, arch/arm64/mm/init.c) and the
// setup rules of mm/execmem.c, per reference/execmem.md §1:
// - Ranges are half-open [start, end); a fallback window exists only where the table gives one.
// - x86_64: one KASLR offset k·4 KiB (k uniform in [1, 1024] when KASLR is on, else 0) for all types;
//   alignment MODULE_ALIGN (4 KiB); ROX_CACHE on MODULE_TEXT/KPROBES/FTRACE when ROX is on (~v6.17),
//   on BPF only with `bpfFromRoxCache` (newest trees, not settled).
// - arm64 (48-bit VA, 4 KiB pages): 128 MiB direct window and 2 GiB PLT window below the image, or
//   seeded random bounding boxes around it with KASLR; KPROBES and BPF anywhere in vmalloc.
// - Missing types copy DEFAULT; MODULE_DATA always gets PAGE_KERNEL (RW, never X).
// The same options and seed always give the same layout.

import { InvalidArgumentError } from '../support/errors.js';
import { Rng } from '../support/rng.js';
import { type VAddr, hexAddr, vaddrFromPair } from '../support/u64.js';
import { type Arch, ARCHES, PAGE_SIZE, PERM_ROX, PERM_RW, type Perm, permString } from './types.js';

/** `enum execmem_type` (include/linux/execmem.h); DEFAULT = MODULE_TEXT. */
export const EXECMEM_TYPES = ['MODULE_TEXT', 'KPROBES', 'FTRACE', 'BPF', 'MODULE_DATA'] as const;
export type ExecmemType = (typeof EXECMEM_TYPES)[number];

/** Range flags (include/linux/execmem.h). */
export const EXECMEM_KASAN_SHADOW = 1;
export const EXECMEM_ROX_CACHE = 2;

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export interface ExecmemRange {
  type: ExecmemType;
  start: VAddr;
  end: VAddr;
  fallbackStart: VAddr | null;
  fallbackEnd: VAddr | null;
  pgprot: Perm;
  alignment: number;
  flags: number;
}

export interface SpaceOptions {
  arch: Arch;
  /** Seed of every random choice (KASLR offset, boxes, pack start offsets, poking address). */
  seed?: number;
  /** x86_64: KASLR build and KASLR active (default true). arm64: randomised module boxes (default true). */
  kaslr?: boolean;
  /** x86_64: ROX support built in and CPU PSE present, i.e. the ROX cache exists (default true). */
  roxCache?: boolean;
  /** x86_64: BPF also served from the ROX cache (newest bpf-next; default false). */
  bpfFromRoxCache?: boolean;
  /** arm64: CONFIG_RANDOMIZE_MODULE_REGION_FULL (no direct window; default false). */
  randomizeModuleRegionFull?: boolean;
  /** Map each 2 MiB bpf_prog_pack with one 2 MiB leaf (VM_ALLOW_HUGE_VMAP; default true). */
  hugePacks?: boolean;
}

export interface ArchConfig {
  arch: Arch;
  seed: number;
  kaslr: boolean;
  roxCache: boolean;
  bpfFromRoxCache: boolean;
  hugePacks: boolean;
  /** Start of the kernel text mapping window and its size. */
  kernelTextMap: VAddr;
  kernelTextMapSize: number;
  /** The modelled kernel image [kernelTextBase, kernelTextBase + kernelImageSize). */
  kernelTextBase: VAddr;
  kernelImageSize: number;
  modulesVaddr: VAddr;
  modulesEnd: VAddr;
  /** x86_64: the KASLR page count k (module base = MODULES_VADDR + k·4 KiB); 0 on arm64. */
  kaslrPages: number;
  vmallocStart: VAddr;
  vmallocEnd: VAddr;
  /** Direct map (x86 page_offset_base) / linear map (arm64 PAGE_OFFSET): frame n at base + n·4 KiB. */
  directMapBase: VAddr;
  /** x86_64 maps the direct map with 2 MiB pages (splits are counted); arm64 rodata_full uses 4 KiB. */
  directMapHuge: boolean;
  /** Trap filler: x86 INT3 0xCC bytes; arm64 BRK #0x100 words. */
  trapWord: number;
  trapUnit: 1 | 4;
  /** arm64 instruction-cache line (CTR_EL0 IminLine): 64 bytes; 0 on x86 (coherent fetch). */
  icacheLine: number;
  /** Address of the private text_poke alias (x86 poking_mm) or fixmap slot (arm64 FIX_TEXT_POKE0). */
  pokingAddr: VAddr;
  /** text_poke writes at most this many bytes per step (x86: 2 pages; arm64: 1 page). */
  pokePages: 1 | 2;
  ranges: Record<ExecmemType, ExecmemRange>;
}

/** A hex literal of a 64-bit kernel address as a VAddr (parsed once at startup). */
export function kaddr(hex: string): VAddr {
  const v = BigInt.asUintN(64, BigInt(hex));
  return vaddrFromPair(Number(v & 0xffffffffn), Number(v >> 32n));
}

export const X86_START_KERNEL_MAP = kaddr('0xffffffff80000000');
export const X86_KERNEL_TEXT = kaddr('0xffffffff81000000'); // CONFIG_PHYSICAL_START = 16 MiB
export const X86_MODULES_VADDR_KASLR = kaddr('0xffffffffc0000000');
export const X86_MODULES_VADDR_NOKASLR = kaddr('0xffffffffa0000000');
export const X86_MODULES_END = kaddr('0xffffffffff000000');
export const X86_VMALLOC_START = kaddr('0xffffc90000000000');
export const X86_VMALLOC_SIZE = 32 * 1024 * GiB;
export const X86_PAGE_OFFSET = kaddr('0xffff888000000000');
export const X86_TASK_SIZE = 0x7ffffffff000;

export const ARM64_MODULES_VADDR = kaddr('0xffff800000000000');
export const ARM64_KIMAGE_VADDR = kaddr('0xffff800080000000');
export const ARM64_VMALLOC_END = kaddr('0xfffffbfff0000000');
export const ARM64_PAGE_OFFSET = kaddr('0xffff000000000000');
export const ARM64_FIXADDR_TOP = kaddr('0xfffffbfffe000000');

/** Size of the modelled kernel image (what the arm64 module windows are placed around). */
export const KERNEL_IMAGE_SIZE = 32 * MiB;

export const X86_TRAP = 0xcc; // INT3
export const ARM64_TRAP = 0xd4202000; // BRK #0x100

export function isExecmemType(t: unknown): t is ExecmemType {
  return typeof t === 'string' && (EXECMEM_TYPES as readonly string[]).includes(t);
}

/** random_bounding_box() of arch/arm64/kernel/module.c: a box of `size` around [lo, hi), or null. */
function randomBoundingBox(rng: Rng, size: number, lo: VAddr, hi: VAddr): VAddr | null {
  if (hi - lo >= size) return null;
  const maxPgoff = (size - (hi - lo)) / PAGE_SIZE;
  return lo - rng.int(0, maxPgoff) * PAGE_SIZE;
}

function range(
  type: ExecmemType,
  start: VAddr,
  end: VAddr,
  pgprot: Perm,
  alignment: number,
  flags: number,
  fallback: [VAddr, VAddr] | null = null,
): ExecmemRange {
  return {
    type,
    start,
    end,
    fallbackStart: fallback ? fallback[0] : null,
    fallbackEnd: fallback ? fallback[1] : null,
    pgprot,
    alignment,
    flags,
  };
}

function x86Config(o: SpaceOptions, seed: number, rng: Rng): ArchConfig {
  const kaslr = o.kaslr ?? true;
  const roxCache = o.roxCache ?? true;
  const bpfFromRoxCache = roxCache && (o.bpfFromRoxCache ?? false);
  const modulesVaddr = kaslr ? X86_MODULES_VADDR_KASLR : X86_MODULES_VADDR_NOKASLR;
  const kaslrPages = kaslr ? rng.int(1, 1024) : 0;
  const base = modulesVaddr + kaslrPages * PAGE_SIZE;
  const end = X86_MODULES_END;
  const align = PAGE_SIZE; // MODULE_ALIGN without generic KASAN
  const codeProt = roxCache ? PERM_ROX : PERM_RW;
  const cacheFlags = roxCache ? EXECMEM_KASAN_SHADOW | EXECMEM_ROX_CACHE : EXECMEM_KASAN_SHADOW;
  // poking_init(): a random page in the user half above TASK_UNMAPPED_BASE, nudged so that the two
  // pages of a step share a PMD.
  const unmappedBase = Math.ceil(X86_TASK_SIZE / 3 / PAGE_SIZE) * PAGE_SIZE;
  const span = X86_TASK_SIZE - unmappedBase - 3 * PAGE_SIZE;
  const draw = (rng.u32() % 0x200000) * 0x100000000 + rng.u32();
  let pokingAddr = unmappedBase + (draw % Math.floor(span / PAGE_SIZE)) * PAGE_SIZE;
  if ((pokingAddr + PAGE_SIZE) % (2 * MiB) === 0) pokingAddr += PAGE_SIZE;
  return {
    arch: 'x86_64',
    seed,
    kaslr,
    roxCache,
    bpfFromRoxCache,
    hugePacks: o.hugePacks ?? true,
    kernelTextMap: X86_START_KERNEL_MAP,
    kernelTextMapSize: kaslr ? GiB : 512 * MiB,
    kernelTextBase: X86_KERNEL_TEXT,
    kernelImageSize: KERNEL_IMAGE_SIZE,
    modulesVaddr,
    modulesEnd: end,
    kaslrPages,
    vmallocStart: X86_VMALLOC_START,
    vmallocEnd: X86_VMALLOC_START + X86_VMALLOC_SIZE,
    directMapBase: X86_PAGE_OFFSET,
    directMapHuge: true,
    trapWord: X86_TRAP,
    trapUnit: 1,
    icacheLine: 0,
    pokingAddr,
    pokePages: 2,
    ranges: {
      MODULE_TEXT: range('MODULE_TEXT', base, end, codeProt, align, cacheFlags),
      KPROBES: range('KPROBES', base, end, PERM_ROX, align, cacheFlags),
      FTRACE: range('FTRACE', base, end, codeProt, align, cacheFlags),
      BPF: range('BPF', base, end, codeProt, align, bpfFromRoxCache ? cacheFlags : EXECMEM_KASAN_SHADOW),
      MODULE_DATA: range('MODULE_DATA', base, end, PERM_RW, align, EXECMEM_KASAN_SHADOW),
    },
  };
}

function arm64Config(o: SpaceOptions, seed: number, rng: Rng): ArchConfig {
  const kaslr = o.kaslr ?? true;
  if (o.roxCache === true || o.bpfFromRoxCache === true) {
    throw new InvalidArgumentError('the ROX cache exists only on x86_64 (arm64 never uses it)', { arch: 'arm64' });
  }
  const kernelStart = ARM64_KIMAGE_VADDR;
  const kernelEnd = kernelStart + KERNEL_IMAGE_SIZE;
  let directBase: VAddr | null = null;
  let pltBase: VAddr | null = null;
  if (!kaslr) {
    if (KERNEL_IMAGE_SIZE < 128 * MiB) directBase = kernelEnd - 128 * MiB;
    if (KERNEL_IMAGE_SIZE < 2 * GiB) pltBase = kernelEnd - 2 * GiB;
  } else {
    let lo = kernelStart;
    let hi = kernelEnd;
    if (!(o.randomizeModuleRegionFull ?? false)) {
      directBase = randomBoundingBox(rng, 128 * MiB, lo, hi);
      if (directBase !== null) {
        lo = directBase;
        hi = directBase + 128 * MiB;
      }
    }
    pltBase = randomBoundingBox(rng, 2 * GiB, lo, hi);
  }
  let start: VAddr;
  let end: VAddr;
  let fallback: [VAddr, VAddr] | null = null;
  if (directBase !== null) {
    start = directBase;
    end = directBase + 128 * MiB;
    if (pltBase !== null) fallback = [pltBase, pltBase + 2 * GiB];
  } else if (pltBase !== null) {
    start = pltBase;
    end = pltBase + 2 * GiB;
  } else {
    throw new InvalidArgumentError('arm64: no module window fits around the kernel image');
  }
  const vmallocStart = ARM64_KIMAGE_VADDR;
  const vmallocEnd = ARM64_VMALLOC_END;
  return {
    arch: 'arm64',
    seed,
    kaslr,
    roxCache: false,
    bpfFromRoxCache: false,
    hugePacks: o.hugePacks ?? true,
    kernelTextMap: kernelStart,
    kernelTextMapSize: KERNEL_IMAGE_SIZE,
    kernelTextBase: kernelStart,
    kernelImageSize: KERNEL_IMAGE_SIZE,
    modulesVaddr: ARM64_MODULES_VADDR,
    modulesEnd: ARM64_KIMAGE_VADDR,
    kaslrPages: 0,
    vmallocStart,
    vmallocEnd,
    directMapBase: ARM64_PAGE_OFFSET,
    directMapHuge: false,
    trapWord: ARM64_TRAP,
    trapUnit: 4,
    icacheLine: 64,
    pokingAddr: ARM64_FIXADDR_TOP - 4 * PAGE_SIZE,
    pokePages: 1,
    ranges: {
      MODULE_TEXT: range('MODULE_TEXT', start, end, PERM_RW, 1, 0, fallback),
      KPROBES: range('KPROBES', vmallocStart, vmallocEnd, PERM_ROX, 1, 0),
      FTRACE: range('FTRACE', start, end, PERM_RW, 1, 0, fallback),
      BPF: range('BPF', vmallocStart, vmallocEnd, PERM_RW, 1, 0),
      MODULE_DATA: range('MODULE_DATA', start, end, PERM_RW, 1, 0, fallback),
    },
  };
}

/** Build the configuration for one arch; same options and seed give the same layout. */
export function buildConfig(o: SpaceOptions): ArchConfig {
  if (!(ARCHES as readonly string[]).includes(o.arch)) {
    throw new InvalidArgumentError(`unknown arch "${String(o.arch)}" (expected ${ARCHES.join(' or ')})`, { arch: String(o.arch) });
  }
  const seed = o.seed ?? 1;
  if (!Number.isSafeInteger(seed)) throw new InvalidArgumentError(`seed must be an integer, got ${seed}`, { seed: String(seed) });
  const rng = new Rng(seed).fork();
  return o.arch === 'x86_64' ? x86Config(o, seed, rng) : arm64Config(o, seed, rng);
}

/** One line per range, as the CLI prints it. */
export function describeRange(r: ExecmemRange): string {
  const fb = r.fallbackStart !== null && r.fallbackEnd !== null ? ` fallback [${hexAddr(r.fallbackStart)}, ${hexAddr(r.fallbackEnd)})` : '';
  const flags = [r.flags & EXECMEM_KASAN_SHADOW ? 'KASAN_SHADOW' : '', r.flags & EXECMEM_ROX_CACHE ? 'ROX_CACHE' : ''].filter(Boolean).join('|') || '-';
  return `${r.type.padEnd(11)} [${hexAddr(r.start)}, ${hexAddr(r.end)})${fb} ${permString(r.pgprot)} align ${r.alignment} flags ${flags}`;
}
