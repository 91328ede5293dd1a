// A minimal GuestMemory for the hierarchy tests: every canonical page is mapped (RWX, 4 KiB) except
// the 2 MiB regions listed as huge and the pages listed as unmapped; `remap` changes that and
// announces mappingChanged, as execmem does. The model only reads pageInfo and subscribes.

import type { GuestMemory, MemoryListener, PageInfo } from '../../execmem/types.js';
import type { VAddr } from '../../support/u64.js';
import { applyOverrides, type HierarchyConfig, PRESETS } from '../../emulator/hierarchy/index.js';

export class FixtureSpace implements GuestMemory {
  readonly arch = 'x86_64' as const;
  readonly memory = new WebAssembly.Memory({ initial: 1 });
  hugeRegions = new Set<number>();
  unmapped = new Set<number>();
  pageInfoCalls = 0;
  private listeners: MemoryListener[] = [];

  pageInfo(addr: VAddr): PageInfo | null {
    this.pageInfoCalls++;
    if (this.unmapped.has(Math.floor(addr / 4096))) return null;
    return { hostOffset: 0, perm: 7, huge: this.hugeRegions.has(Math.floor(addr / 0x200000)) };
  }
  translate(): number {
    throw new Error('not used by the model');
  }
  read(): Uint8Array {
    throw new Error('not used by the model');
  }
  write(): void {
    throw new Error('not used by the model');
  }
  staleIcacheLine(): VAddr | null {
    return null;
  }
  subscribe(l: MemoryListener): () => void {
    this.listeners.push(l);
    return () => (this.listeners = this.listeners.filter((x) => x !== l));
  }
  remap(addr: VAddr, len: number, huge: boolean): void {
    const r = Math.floor(addr / 0x200000);
    if (huge) this.hugeRegions.add(r);
    else this.hugeRegions.delete(r);
    for (const l of this.listeners) l.mappingChanged?.(addr, len);
  }
}

/** Skylake with every geometry given by overrides (small caches for hand-computed sequences). */
export function small(over: Record<string, string | number>): HierarchyConfig {
  return applyOverrides(PRESETS.skylake, { llc: 'none', ...over });
}
