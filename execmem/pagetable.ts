// The virtual page table: 4 KiB entries keyed by address, stored two-level (4 GiB region, then page
// within it) so every key is a small integer and lookups on the emulator's slow path and in
// text_poke allocate nothing. A 2 MiB leaf is represented by its 512 entries flagged `huge`.

import type { VAddr } from '../support/u64.js';
import type { Perm } from './types.js';
import type { VmArea } from './vmap.js';

export interface Pte {
  frame: number;
  perm: Perm;
  /** Part of a 2 MiB leaf. */
  huge: boolean;
  area: VmArea;
}

const REGION = 0x100000000;

export class PageTable {
  private readonly regions = new Map<number, Map<number, Pte>>();
  size = 0;

  get(addr: VAddr): Pte | undefined {
    const hi = Math.floor(addr / REGION);
    const t = this.regions.get(hi);
    return t === undefined ? undefined : t.get(((addr - hi * REGION) / 4096) | 0);
  }

  set(addr: VAddr, pte: Pte): void {
    const hi = Math.floor(addr / REGION);
    let t = this.regions.get(hi);
    if (t === undefined) {
      t = new Map();
      this.regions.set(hi, t);
    }
    const before = t.size;
    t.set(((addr - hi * REGION) / 4096) | 0, pte);
    this.size += t.size - before;
  }

  delete(addr: VAddr): boolean {
    const hi = Math.floor(addr / REGION);
    const t = this.regions.get(hi);
    if (t === undefined) return false;
    const ok = t.delete(((addr - hi * REGION) / 4096) | 0);
    if (ok) this.size--;
    if (t.size === 0) this.regions.delete(hi);
    return ok;
  }

  /** Every mapped page as [page address, entry], in ascending address order. */
  sorted(): [VAddr, Pte][] {
    const out: [VAddr, Pte][] = [];
    for (const hi of [...this.regions.keys()].sort((a, b) => a - b)) {
      const t = this.regions.get(hi) as Map<number, Pte>;
      for (const k of [...t.keys()].sort((a, b) => a - b)) out.push([hi * REGION + k * 4096, t.get(k) as Pte]);
    }
    return out;
  }

  *entries(): IterableIterator<[VAddr, Pte]> {
    for (const [hi, t] of this.regions) for (const [k, pte] of t) yield [hi * REGION + k * 4096, pte];
  }
}
