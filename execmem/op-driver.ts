// A driver of random operation sequences over an AddressSpace, with a reference model of what is
// live, and the invariants of issue 2 checked after any step: live allocations never overlap and
// stay inside their ranges, freed pack space reads as traps, statistics agree with a recount,
// contents written by text_poke read back, and the W^X audit is clean. Used by the fast-check
// property test (test/execmem/property.test.ts) and `npm run fuzz -- execmem`.

import { Buffer } from 'node:buffer';
import type { Arch } from './types.js';
import { PAGE_SIZE, PERM_W, PERM_X } from './types.js';
import type { ExecmemType, SpaceOptions } from './config.js';
import { AddressSpace } from './space.js';
import { BPF_PROG_CHUNK_SIZE, type PackedBinary } from './pack.js';
import { exampleModule, type LoadedModule } from './module.js';
import { popcount } from './bitmap.js';

export interface Op {
  kind: number;
  a: number;
  b: number;
}

interface LiveCode {
  addr: number;
  size: number;
  type: ExecmemType;
  expect: Map<number, number>;
}

export class OpDriver {
  readonly s: AddressSpace;
  private readonly code: LiveCode[] = [];
  private readonly progs: { bin: PackedBinary; bytes: Uint8Array }[] = [];
  private readonly pages: number[] = [];
  private readonly data: number[] = [];
  private readonly mods: LoadedModule[] = [];
  private readonly freedChunks: { addr: number; len: number }[] = [];
  private modSeq = 0;
  steps = 0;

  constructor(arch: Arch, seed: number, options: Omit<SpaceOptions, 'arch' | 'seed'> = {}) {
    this.s = new AddressSpace({ ...options, arch, seed });
  }

  apply(input: Op): void {
    let op = input;
    const s = this.s;
    const arm = s.arch === 'arm64';
    this.steps++;
    let kind = op.kind % 10;
    // Keep live state bounded: past a cap, an allocation turns into the matching free.
    if ((kind === 0 || kind === 1) && this.code.length >= 64) kind = 2;
    if ((kind === 4 || kind === 5) && this.progs.length >= 256) kind = 6;
    if (kind === 7 && this.mods.length >= 6) op = { ...op, a: 0 };
    if (kind === 8 && this.pages.length >= 32) op = { ...op, a: 1 };
    if (kind === 9 && this.data.length >= 32) op = { ...op, a: 1 };
    switch (kind) {
      case 0: {
        const types: ExecmemType[] = ['MODULE_TEXT', 'KPROBES', 'FTRACE', 'BPF'];
        const type = types[op.a % 4] as ExecmemType;
        const size = 1 + (op.b % (5 * PAGE_SIZE));
        const addr = s.execmemAlloc(type, size);
        this.code.push({ addr, size: Math.ceil(size / PAGE_SIZE) * PAGE_SIZE, type, expect: new Map() });
        break;
      }
      case 1: {
        const type = op.a % 2 ? 'MODULE_TEXT' : 'FTRACE';
        const size = 1 + (op.b % (3 * PAGE_SIZE));
        const addr = s.execmemAllocRw(type, size);
        const rounded = Math.ceil(size / PAGE_SIZE) * PAGE_SIZE;
        const bytes = Uint8Array.of(op.a & 0xff, op.b & 0xff, 0x11, 0x22);
        s.write(addr, bytes);
        s.execmemRestoreRox(addr, rounded);
        const expect = new Map<number, number>();
        bytes.forEach((v, i) => expect.set(i, v));
        this.code.push({ addr, size: rounded, type, expect });
        break;
      }
      case 2: {
        if (this.code.length === 0) return;
        const i = op.a % this.code.length;
        const c = this.code[i] as LiveCode;
        s.execmemFree(c.addr);
        this.code.splice(i, 1);
        break;
      }
      case 3: {
        if (this.code.length === 0) return;
        const c = this.code[op.a % this.code.length] as LiveCode;
        let off = op.b % c.size;
        if (arm) off &= ~3;
        const len = Math.max(arm ? 4 : 1, Math.min(c.size - off, 1 + ((op.a >>> 3) % 700)) & (arm ? ~3 : ~0));
        const bytes = new Uint8Array(len);
        for (let k = 0; k < len; k++) bytes[k] = (op.a + op.b * 7 + k * 13) & 0xff;
        s.textPokeCopy(c.addr + off, bytes);
        bytes.forEach((v, k) => c.expect.set(off + k, v));
        break;
      }
      case 4:
      case 5: {
        const len = 1 + (op.b % (op.a % 8 === 0 ? 40000 : 1500));
        const bin = s.packs.binaryPackAlloc(len);
        for (let k = 0; k < len; k++) bin.rw[bin.rwImageOffset + k] = (k * 31 + op.a) & 0xff;
        const bytes = bin.rw.slice();
        s.packs.binaryPackFinalize(bin);
        this.progs.push({ bin, bytes });
        break;
      }
      case 6: {
        if (this.progs.length === 0) return;
        const i = op.a % this.progs.length;
        const p = this.progs[i] as { bin: PackedBinary };
        s.packs.binaryPackFree(p.bin.image);
        this.freedChunks.push({ addr: p.bin.header, len: p.bin.size });
        this.progs.splice(i, 1);
        break;
      }
      case 7: {
        if (op.a % 3 === 0 && this.mods.length > 0) {
          const m = this.mods.splice(op.b % this.mods.length, 1)[0] as LoadedModule;
          s.modules.unload(m);
        } else {
          const m = s.modules.load(exampleModule(s.arch, `m${this.modSeq++}`));
          if (op.b % 2 === 0) s.modules.finishInit(m);
          this.mods.push(m);
        }
        break;
      }
      case 8: {
        if (op.a % 2 === 0 || this.pages.length === 0) {
          const b = s.packs.binaryAlloc(1 + (op.b % 6000));
          s.write(b.image, Uint8Array.of(1, 2, 3, 4));
          s.packs.binaryLockRo(b.header);
          this.pages.push(b.image);
        } else {
          s.packs.binaryFree(this.pages.splice(op.b % this.pages.length, 1)[0] as number);
        }
        break;
      }
      case 9: {
        if (op.a % 2 === 0 || this.data.length === 0) this.data.push(s.vmalloc(1 + (op.b % 20000)));
        else s.vfree(this.data.splice(op.b % this.data.length, 1)[0] as number);
        break;
      }
    }
  }

  /** Throws an Error describing the first broken invariant (`full`: also contents and audit). */
  check(full: boolean): void {
    const s = this.s;
    const fail = (what: string): never => {
      throw new Error(`after step ${this.steps}: ${what}`);
    };
    if (s.packs.livePrograms() !== this.progs.length + this.pages.length) fail(`live programs ${s.packs.livePrograms()} vs model ${this.progs.length + this.pages.length}`);
    if (!full) return;
    // Live allocations never overlap and stay in their ranges.
    const spans: [number, number, string][] = [];
    for (const a of s.execmem.allocations()) {
      spans.push([a.addr, a.addr + a.size, `${a.type} ${a.label}`]);
      const r = s.execmem.range(a.type);
      const inMain = a.addr >= r.start && a.addr + a.size <= r.end;
      const inFallback = r.fallbackStart !== null && a.addr >= r.fallbackStart && a.addr + a.size <= (r.fallbackEnd as number);
      if (!inMain && !inFallback) fail(`${a.type} allocation at ${a.addr} outside its range`);
    }
    for (const d of s.vmallocAreas()) spans.push([d.start, d.start + d.size, 'vmalloc']);
    spans.sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < spans.length; i++) {
      if ((spans[i] as [number, number, string])[0] < (spans[i - 1] as [number, number, string])[1]) fail(`overlap: ${spans[i - 1]} / ${spans[i]}`);
    }
    const progSpans = this.progs.map((p) => [p.bin.header, p.bin.header + p.bin.size] as [number, number]).sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < progSpans.length; i++) if ((progSpans[i] as number[])[0]! < (progSpans[i - 1] as number[])[1]!) fail('pack programs overlap');
    // Statistics agree with a recount.
    const runs = s.permissionRuns();
    const pagesInRuns = runs.reduce((n, r) => n + (r.end - r.start) / PAGE_SIZE, 0);
    const st = s.stats();
    if (pagesInRuns !== st.mappedPages) fail(`mapped pages ${st.mappedPages} vs recount ${pagesInRuns}`);
    const execInRuns = runs.filter((r) => r.perm & PERM_X).reduce((n, r) => n + (r.end - r.start) / PAGE_SIZE, 0);
    if (execInRuns !== st.executablePages) fail('executable page count disagrees');
    if (runs.some((r) => r.perm & PERM_W && r.perm & PERM_X)) fail('a W+X run exists');
    let chunks = 0;
    for (const p of s.packs.packList()) {
      const used = popcount(p.bits);
      if (used !== 32768 - p.freeChunks) fail('pack free-chunk count disagrees with its bitmap');
      chunks += used;
    }
    const modelChunks = this.progs.filter((p) => p.bin.size <= 2 * 1024 * 1024).reduce((n, p) => n + p.bin.size / BPF_PROG_CHUNK_SIZE, 0);
    if (chunks !== modelChunks) fail(`pack chunks ${chunks} vs model ${modelChunks}`);
    const budget = this.progs.reduce((n, p) => n + p.bin.size, 0) + s.packs.pageProgramList().reduce((n, p) => n + p.size, 0);
    if (budget !== s.packs.budgetUsed) fail(`budget ${s.packs.budgetUsed} vs model ${budget}`);
    // Contents: programs and poked code read back; freed chunks still in a pack read as traps.
    for (const p of this.progs) {
      const got = s.read(p.bin.header, p.bin.size);
      if (Buffer.compare(got, p.bytes) !== 0) fail(`program at ${p.bin.header} changed`);
    }
    for (const c of this.code) for (const [off, v] of c.expect) if ((s.read(c.addr + off, 1)[0] as number) !== v) fail(`code byte ${c.addr}+${off} changed`);
    const trap = s.config.trapWord;
    for (const f of this.freedChunks.splice(0)) {
      for (let c = f.addr; c < f.addr + f.len; c += BPF_PROG_CHUNK_SIZE) {
        if (s.packs.programBounds(c) !== null) continue; // reused, or its pack was released
        const b = s.read(c, BPF_PROG_CHUNK_SIZE);
        for (let k = 0; k < b.length; k++) {
          const want = s.config.trapUnit === 1 ? trap : (trap >>> (8 * (k & 3))) & 0xff;
          if (b[k] !== want) fail(`freed chunk at ${c} does not read as traps`);
        }
      }
    }
    const audit = s.audit();
    if (!audit.ok) fail(`audit: ${JSON.stringify(audit.violations.slice(0, 3))} wx ${audit.wxPages.length}`);
  }
}
