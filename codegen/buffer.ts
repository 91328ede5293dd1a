// CodeBuffer: the one buffer both assemblers write into. It owns bytes, labels, label uses (fixups),
// x86 relaxable branches, arm64 veneers and relocations against external symbols. Modelled on
// Cranelift's MachBuffer (cranelift/codegen/src/machinst/buffer.rs); this header is its design doc.
//
// Streams and offsets
// - Bytes are appended to a growing Uint8Array (the *linear stream*). `put8/16/32/64pair/putBytes`
//   never allocate per call. Encoders write straight into it (no per-instruction arrays).
// - An x86 jmp/jcc to a label is not written into the linear stream: `emitRelaxable` records a
//   *relaxable item* at the current linear position. Its size (2 or 5/6 bytes) is decided at
//   `finish`. Every label binding, label use and relocation remembers how many relaxable items came
//   before it, so its final offset is `linear offset + sizes of the items before it`.
// - `length` is the final size of everything emitted so far when no relaxable item is pending (always
//   so on arm64); otherwise it counts each item at its minimum size (2, or 5/6 if forced rel32): a
//   lower bound. `linearLength` is the offset in the linear stream, which `field`/`at` refer to.
// - Encoders on the hot path write through `writable(n)` + `commit(end)`; `truncate` undoes a failed
//   emit but refuses to cut anything a label, use or item refers to.
//
// Labels
// - `newLabel(name?)` creates an unbound label; names are unique per buffer (a duplicate is an error).
//   An anonymous label is named `L<id>`, built only when asked for: generated code (the BPF JITs)
//   makes thousands, so label state lives in typed arrays indexed by id, not in per-label objects.
//   `bind(label)` binds it at the current position (after every item emitted so far); binding twice
//   throws LabelAlreadyBoundError. A label still unbound at `finish` throws UnboundLabelError naming it.
// - `markHere()` remembers a position without a label (per-instruction offset tables, call sites);
//   `finish` reports final offsets in `marks[token]`, and label offsets by id in `offsets[id]`. The
//   name -> offset map `labels` is built only when read.
//
// Label uses (fixups)
// - `useLabel(label, kind, opts)` records that a PC-relative field refers to `label`. The field lives at
//   linear offset `opts.field` (default: `linearLength`, i.e. call it *before* writing the placeholder
//   field; pass `linearLength - size` to attach it to a field just written). The distance is
//   measured from `origin` = field + `kind.originFromField` unless `opts.origin` is given (x86: the end
//   of the instruction, which for rel8/rel32 is the end of the field unless an immediate follows;
//   arm64: the instruction itself, originFromField = 0).
// - A `LabelUseKind` declares its reach as data: `minDelta..maxDelta`, `align` (the distance must be
//   a multiple), the field size, and `patch(bytes, fieldOffset, useAddress, targetAddress)` writing the
//   resolved field into the final image (arm64 kinds OR their immediate into the placeholder word).
//   `distance(useAddress, targetAddress)` defaults to target - use; ADRP overrides it with the page
//   difference. Checks and patching use FINAL addresses: `base + final offset`.
// - Out of reach: BranchRangeError naming the label (or symbol), kind, distance and reach, unless the
//   use asked for a veneer (below). Nothing is ever silently truncated.
//
// x86 branch relaxation (finish, step 1)
//   Every relaxable item starts short (rel8: `eb cb` / `7x cb`) unless forced long. Repeat: lay out all
//   items with their current sizes; every short item whose rel8 distance (target - end of the item)
//   lies outside [-128, 127] grows to rel32 (`e9 cd` / `0f 8x cd`); until a pass grows nothing. Sizes
//   only grow, and growing an item never shortens any distance, so an item that needed rel32 keeps
//   needing it: the loop ends after at most (items + 1) passes at the least fixed point. (Linux's
//   bpf_jit_comp.c runs the mirror image: start long, shrink until stable, pad with NOPs from pass 15;
//   starting short avoids the padding because growth is monotone.) Items forced `rel8` that do not fit
//   throw BranchRangeError. Distances between labels do not depend on `base`, so the layout does not.
//
// Short forward branches (x86)
//   `shortForward(opcode)` writes a jmp/jcc rel8 whose target is bound later by `bindShortForward`
//   at the current position: for fixed sequences (a memory check's slow path, a division's special
//   cases) that are known to be short and contain no relaxable item. It writes the bytes relaxation
//   would choose for a label there (rel8 in reach) without a label or item; binding refuses a
//   distance over 127 (BranchRangeError) and a relaxable item emitted in between (whose size would
//   change the distance).
//
// Veneers (arm64, finish step 3)
//   A use or relocation created with `veneer: emitter` that is out of reach is redirected: the buffer
//   calls `emitter(buffer, targetAddress)` once per distinct target with the buffer positioned at the
//   end of the code (aligned to 4), the emitter appends a sequence that reaches the absolute target
//   (e.g. movz/movk x16 + br x16), and the original field is patched to reach the veneer instead. The
//   veneer is appended to the buffer for good; if even the veneer is out of reach, BranchRangeError.
//   Emitters may add label uses and relocations but no relaxable items. Because veneers sit after
//   the code, they serve targets outside the image (kernel helpers beyond ±128 MiB) and targets
//   behind the use; an in-image forward target out of reach needs an island emitted by the caller.
//
// Relocations
//   `addReloc({kind, symbol, addend, at})` patches the field at linear offset `at` (default:
//   linearLength) with `resolve(symbol) + addend` measured by `kind` from the field's origin. `finish`
//   returns every relocation with its final field offset and resolved address, so a loader can audit
//   or re-apply them (the kernel's x86 BPF JIT emits `call rel32` to helpers in kernel text this way).
//
// finish({ base, resolve }) -> { bytes, labels, relocations, offsets, marks }: bytes is a new staging
// array (RW view); every displacement in it is already correct for code that will run at `base` (the
// ROX address). Calling finish again with nothing emitted in between (the JITs' final pass at the
// ROX address after a sizing pass) reuses the relaxation and the last image and re-patches only the
// fields that depend on `base` (symbol uses and kinds with their own `distance`), each from its
// placeholder bytes; when such a field would need a new veneer it runs in full.

import { InvalidArgumentError, UnsupportedError } from '../support/errors.js';
import { BranchRangeError, DuplicateLabelError, LabelAlreadyBoundError, UnboundLabelError, UnresolvedSymbolError } from './buffer-errors.js';
import { writeLE32 } from './buffer-kinds.js';
import { type VAddr, hexAddr } from '../support/u64.js';

export { BranchRangeError, DuplicateLabelError, LabelAlreadyBoundError, UnboundLabelError, UnresolvedSymbolError };
export { ABS32S, ABS64 } from './buffer-kinds.js';

export type CodeArch = 'x86_64' | 'arm64';

export interface Label {
  readonly id: number;
  readonly name: string;
}

export interface LabelUseKind {
  /** Stable name used in errors, e.g. "x86.rel32", "arm64.imm26". */
  readonly name: string;
  /** Bytes of the field that `patch` writes (x86 rel8 = 1, rel32 = 4, arm64 instruction word = 4). */
  readonly fieldSize: number;
  /** Where distances are measured from, relative to the field start (x86: fieldSize; arm64: 0). */
  readonly originFromField: number;
  /** Smallest and largest distance the field can hold (bytes, after `distance`). */
  readonly minDelta: number;
  readonly maxDelta: number;
  /** The distance must be a multiple of this (arm64 branches: 4; x86: 1). */
  readonly align: number;
  /** Distance to check and encode; default target - use. ADRP: page(target) - page(use). */
  distance?(useAddress: VAddr, targetAddress: VAddr): number;
  /** Write the resolved field. `useAddress` is base + origin; both addresses are final. */
  patch(bytes: Uint8Array, fieldOffset: number, useAddress: VAddr, targetAddress: VAddr): void;
}

/** Appends a sequence that reaches `targetAddress` from anywhere (arm64 long-branch veneer). */
export type VeneerEmitter = (buf: CodeBuffer, targetAddress: VAddr) => void;

export interface LabelUseOptions {
  /** Linear offset of the field (default: linearLength). */
  field?: number;
  /** Linear offset distances are measured from (default: field + kind.originFromField). */
  origin?: number;
  /** Redirect through a veneer instead of failing when out of reach. */
  veneer?: VeneerEmitter;
  /** The instruction using the label, for error messages (default: the kind's name). */
  insn?: string;
}

export interface RelocSpec {
  kind: LabelUseKind;
  symbol: string;
  addend?: number;
  /** Linear offset of the field (default: linearLength). */
  at?: number;
  origin?: number;
  veneer?: VeneerEmitter;
}

export interface ResolvedRelocation {
  kind: string;
  symbol: string;
  addend: number;
  /** Final offset of the field in `bytes`. */
  offset: number;
  /** resolve(symbol) + addend. */
  target: VAddr;
  /** Set when the field was redirected through a veneer at this final offset. */
  veneer?: number;
}

export interface FinishOptions {
  /** Final (ROX) address of byte 0. */
  base: VAddr;
  /** Address of an external symbol; return undefined when unknown. */
  resolve?(symbol: string): VAddr | undefined;
}

export interface FinishedCode {
  bytes: Uint8Array;
  /** Final offset of every bound label by name (anonymous ones as `L<id>`); built on first access. */
  readonly labels: Map<string, number>;
  relocations: ResolvedRelocation[];
  /** Final offset of each label by `label.id` (-1 if unbound). */
  offsets: Int32Array;
  /** Final offset of each `markHere()` token. */
  marks: Int32Array;
}

/** A relaxable x86 branch: opcode bytes for the rel8 and rel32 forms (the field follows them). */
export interface RelaxableBranch {
  /** Mnemonic for errors, e.g. "jmp", "jne". */
  readonly name: string;
  readonly short: readonly number[];
  readonly long: readonly number[];
}

export type RelaxForce = 'auto' | 'rel8' | 'rel32';

// ---------------------------------------------------------------------------------------------

/** Label state lives in parallel typed arrays indexed by label id (no object per label state). */
class LabelImpl implements Label {
  constructor(
    readonly id: number,
    readonly given: string | undefined,
  ) {}

  /** The given name, or `L<id>` for an anonymous label (built only when asked for). */
  get name(): string {
    return this.given ?? `L${this.id}`;
  }
}

interface Use {
  label: number; // label id, -1 for a symbol
  symbol: string | null;
  addend: number;
  kind: LabelUseKind;
  field: number;
  origin: number;
  items: number;
  veneer: VeneerEmitter | null;
  veneerAt: number; // final offset of the veneer serving this use, -1 if none
}

interface LastImage {
  bytes: Uint8Array;
  prefix: Int32Array;
  key: string;
  offsets: Int32Array;
  marks: Int32Array;
  /** Uses whose field depends on the base: symbol uses and kinds with their own `distance`. */
  baseUses: Use[];
}

/** The result of finish; the name map is built on first access. */
class Finished implements FinishedCode {
  private names: Map<string, number> | null = null;

  constructor(
    readonly bytes: Uint8Array,
    readonly relocations: ResolvedRelocation[],
    readonly offsets: Int32Array,
    readonly marks: Int32Array,
    private readonly objs: readonly Label[],
  ) {}

  get labels(): Map<string, number> {
    if (this.names === null) {
      const names = new Map<string, number>();
      for (let id = 0; id < this.objs.length; id++) if ((this.offsets[id] as number) >= 0) names.set((this.objs[id] as Label).name, this.offsets[id] as number);
      this.names = names;
    }
    return this.names;
  }
}

interface Item {
  pos: number;
  branch: RelaxableBranch;
  label: number;
  force: RelaxForce;
  long: boolean;
}

const INITIAL_CAPACITY = 256;
const ANON_NAME = /^L(\d+)$/;

/** The field of kind `k` cannot hold distance `d` (out of range or misaligned). */
function outOfReach(k: LabelUseKind, d: number): boolean {
  return d < k.minDelta || d > k.maxDelta || (k.align > 1 && d % k.align !== 0);
}

function grow(a: Int32Array, n: number): Int32Array {
  if (n <= a.length) return a;
  const next = new Int32Array(Math.max(n, a.length * 2));
  next.set(a);
  return next;
}

export class CodeBuffer {
  readonly arch: CodeArch;
  private data: Uint8Array;
  private len = 0;
  private readonly labelObjs: LabelImpl[] = [];
  /** Per label id: linear offset (-1 while unbound), relaxable items before the binding, uses, first use. */
  private labelPos: Int32Array;
  private labelItems: Int32Array;
  private labelUses: Int32Array;
  private labelFirstAt: Int32Array;
  private readonly labelFirstBy: string[] = [];
  /** Given names; `anonNames` counts given names of the anonymous form `L<n>`. */
  private readonly names = new Set<string>();
  private anonNames = 0;
  private readonly uses: Use[] = [];
  private readonly items: Item[] = [];
  /** Short forward branches: (rel8 field offset, relaxable items before it) per token / 2. */
  private readonly shortFixups: number[] = [];
  /** Marks: positions whose final offsets `finish` reports (linear offset, items before). */
  private markPos: Int32Array;
  private markItems: Int32Array;
  private markCount = 0;
  private shortItemBytes = 0;
  private readonly veneers = new Map<string, number>();
  /** Highest linear offset referenced by a label, use, relocation or relaxable item. */
  private mark = 0;
  /** Relaxation result of the last finish and the buffer state it was computed for. */
  private relaxed: { sizes: number[]; key: string } | null = null;
  /** The last finish's image, item prefix sums, tables and state key, and the uses `refinish` re-patches. */
  private lastImage: LastImage | null = null;
  private binds = 0;

  /**
   * `capacity`: initial bytes; `tables`: expected label and mark counts (generated code knows them
   * roughly), so the per-label and per-mark arrays are sized once instead of doubling.
   */
  constructor(arch: CodeArch, capacity = INITIAL_CAPACITY, tables?: { labels?: number; marks?: number }) {
    this.arch = arch;
    this.data = new Uint8Array(Math.max(16, capacity));
    const nl = Math.max(64, tables?.labels ?? 0);
    this.labelPos = new Int32Array(nl);
    this.labelItems = new Int32Array(nl);
    this.labelUses = new Int32Array(nl);
    this.labelFirstAt = new Int32Array(nl);
    const nm = Math.max(64, tables?.marks ?? 0);
    this.markPos = new Int32Array(nm);
    this.markItems = new Int32Array(nm);
  }

  /** Bytes emitted so far (pending relaxable items counted at their minimum size). */
  get length(): number {
    return this.len + this.shortItemBytes;
  }

  /** Linear offset: position in the byte stream that excludes pending relaxable items. */
  get linearLength(): number {
    return this.len;
  }

  get relaxableCount(): number {
    return this.items.length;
  }

  // ----- raw bytes ------------------------------------------------------------------------------

  /** Make room for `n` more bytes. */
  reserve(n: number): void {
    if (this.len + n <= this.data.length) return;
    let cap = this.data.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.data.subarray(0, this.len));
    this.data = next;
  }

  /**
   * Encoder hot path: the backing array, with room for `n` more bytes at `linearLength`. Write the
   * bytes there, then `commit(end)`. The array is only valid until the next call that appends.
   */
  writable(n: number): Uint8Array {
    if (this.len + n > this.data.length) this.reserve(n);
    return this.data;
  }

  /** Set the linear length after writing through `writable` (end <= linearLength + n). */
  commit(end: number): void {
    this.len = end;
  }

  put8(v: number): void {
    if (this.len + 1 > this.data.length) this.reserve(1);
    this.data[this.len++] = v;
  }

  put16(v: number): void {
    if (this.len + 2 > this.data.length) this.reserve(2);
    const d = this.data;
    const p = this.len;
    d[p] = v;
    d[p + 1] = v >>> 8;
    this.len = p + 2;
  }

  put32(v: number): void {
    if (this.len + 4 > this.data.length) this.reserve(4);
    const d = this.data;
    const p = this.len;
    d[p] = v;
    d[p + 1] = v >>> 8;
    d[p + 2] = v >>> 16;
    d[p + 3] = v >>> 24;
    this.len = p + 4;
  }

  put64pair(lo: number, hi: number): void {
    this.put32(lo);
    this.put32(hi);
  }

  putBytes(bytes: ArrayLike<number>): void {
    const n = bytes.length;
    if (this.len + n > this.data.length) this.reserve(n);
    const d = this.data;
    for (let i = 0; i < n; i++) d[this.len + i] = bytes[i] as number;
    this.len += n;
  }

  /** Pad with `fill` to a multiple of `n` (only exact when no relaxable item is pending). */
  align(n: number, fill = 0): void {
    if (!Number.isInteger(n) || n <= 0 || (n & (n - 1)) !== 0) throw new InvalidArgumentError(`align: ${n} is not a power of two`, { align: n });
    if (this.items.length > 0) throw new UnsupportedError('align after relaxable branches: the final offset is not known until finish', { align: n });
    while (this.len % n !== 0) this.put8(fill);
  }

  /** Byte at a linear offset (already written). */
  read8(at: number): number {
    this.checkLinear(at, 1);
    return this.data[at] as number;
  }

  read32(at: number): number {
    this.checkLinear(at, 4);
    const d = this.data;
    return ((d[at] as number) | ((d[at + 1] as number) << 8) | ((d[at + 2] as number) << 16) | ((d[at + 3] as number) << 24)) >>> 0;
  }

  /** Overwrite already-emitted bytes (e.g. a stack size known only at the end of a JIT pass). */
  set8(at: number, v: number): void {
    this.checkLinear(at, 1);
    this.data[at] = v;
    this.lastImage = null;
  }

  set32(at: number, v: number): void {
    this.checkLinear(at, 4);
    writeLE32(this.data, at, v);
    this.lastImage = null;
  }

  /** Copy of the linear stream so far (no relaxable items; for tests and pure-encoder helpers). */
  linearBytes(): Uint8Array {
    return this.data.slice(0, this.len);
  }

  /** Drop everything after linear offset `n` (undo a failed emit, reuse a scratch buffer). */
  truncate(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > this.len) throw new InvalidArgumentError(`truncate(${n}) outside [0, ${this.len}]`);
    if (n < this.mark) throw new InvalidArgumentError(`truncate(${n}) would cut a label, label use or branch recorded at ${this.mark}`);
    this.len = n;
  }

  private checkLinear(at: number, n: number): void {
    if (!Number.isInteger(at) || at < 0 || at + n > this.len) {
      throw new InvalidArgumentError(`offset ${at} (+${n}) is outside the ${this.len} bytes emitted`, { offset: at, length: this.len });
    }
  }

  // ----- labels ---------------------------------------------------------------------------------

  /**
   * A new unbound label. Names are unique per buffer; an anonymous label is named `L<id>` (its name
   * is only built when asked for, so anonymous labels are the cheap kind for generated code).
   */
  newLabel(name?: string): Label {
    const id = this.labelObjs.length;
    if (name !== undefined) {
      const m = ANON_NAME.exec(name);
      if (this.names.has(name) || (m && Number(m[1]) < id && this.isAnonymous(Number(m[1])))) throw new DuplicateLabelError(name);
      this.names.add(name);
      if (m) this.anonNames++;
    } else if (this.anonNames > 0 && this.names.has(`L${id}`)) throw new DuplicateLabelError(`L${id}`);
    const label = new LabelImpl(id, name);
    this.labelObjs.push(label);
    if (id >= this.labelPos.length) {
      const n = id + 1;
      this.labelPos = grow(this.labelPos, n);
      this.labelItems = grow(this.labelItems, n);
      this.labelUses = grow(this.labelUses, n);
      this.labelFirstAt = grow(this.labelFirstAt, n);
    }
    this.labelPos[id] = -1;
    this.labelItems[id] = 0;
    this.labelUses[id] = 0;
    this.labelFirstAt[id] = -1;
    this.labelFirstBy.push('');
    return label;
  }

  private isAnonymous(id: number): boolean {
    const l = this.labelObjs[id];
    return l !== undefined && l.given === undefined;
  }

  bind(label: Label): void {
    const id = this.state(label);
    const at = this.labelPos[id] as number;
    if (at >= 0) throw new LabelAlreadyBoundError(label, at);
    this.labelPos[id] = this.len;
    this.labelItems[id] = this.items.length;
    this.binds++;
    if (this.len > this.mark) this.mark = this.len;
  }

  isBound(label: Label): boolean {
    return (this.labelPos[this.state(label)] as number) >= 0;
  }

  /** Linear offset of a bound label on a buffer without relaxable items before it, else null. */
  boundOffset(label: Label): number | null {
    const id = this.state(label);
    const at = this.labelPos[id] as number;
    if (at < 0 || (this.labelItems[id] as number) > 0) return null;
    return at;
  }

  /**
   * x86: `opcode` (0xEB jmp, or 0x70 + cc) and a rel8 placeholder now; `bindShortForward(token)`
   * points it at the position then current (see the header).
   */
  shortForward(opcode: number): number {
    const token = this.shortFixups.length;
    this.shortFixups.push(this.len + 1, this.items.length);
    this.put8(opcode);
    this.put8(0);
    if (this.len > this.mark) this.mark = this.len;
    return token;
  }

  bindShortForward(token: number): void {
    const at = this.shortFixups[token] as number;
    const items = this.shortFixups[token + 1] as number;
    if (at === undefined || items === undefined || token % 2 !== 0) throw new InvalidArgumentError(`unknown short branch ${token}`);
    if (items !== this.items.length) throw new UnsupportedError('a relaxable branch lies inside a short forward branch');
    const d = this.len - (at + 1);
    if (d > 127) throw new BranchRangeError('the end of a short sequence', 'x86.rel8', d, -128, 127, at);
    this.data[at] = d;
    this.lastImage = null;
  }

  /**
   * Remember the current position (after every item emitted so far) without a label: `finish`
   * reports its final offset as `marks[token]`. For per-instruction offset tables.
   */
  markHere(): number {
    const k = this.markCount++;
    if (k >= this.markPos.length) {
      this.markPos = grow(this.markPos, k + 1);
      this.markItems = grow(this.markItems, k + 1);
    }
    this.markPos[k] = this.len;
    this.markItems[k] = this.items.length;
    if (this.len > this.mark) this.mark = this.len;
    return k;
  }

  /** The label's id after checking it belongs to this buffer. */
  private state(label: Label): number {
    const id = label.id;
    if (this.labelObjs[id] !== label) throw new InvalidArgumentError(`label "${label.name}" belongs to another buffer`, { label: label.name });
    return id;
  }

  private noteUse(id: number, by: string, at: number): void {
    if ((this.labelUses[id] as number) === 0) {
      this.labelFirstBy[id] = by;
      this.labelFirstAt[id] = at;
    }
    this.labelUses[id] = (this.labelUses[id] as number) + 1;
  }

  useLabel(label: Label, kind: LabelUseKind, opts: LabelUseOptions = {}): void {
    const id = this.state(label);
    const field = opts.field ?? this.len;
    this.noteUse(id, opts.insn ?? kind.name, field);
    if (field > this.mark) this.mark = field;
    this.uses.push({
      label: id,
      symbol: null,
      addend: 0,
      kind,
      field,
      origin: opts.origin ?? field + kind.originFromField,
      items: this.items.length,
      veneer: opts.veneer ?? null,
      veneerAt: -1,
    });
  }

  addReloc(spec: RelocSpec): void {
    const field = spec.at ?? this.len;
    if (field > this.mark) this.mark = field;
    if (spec.addend !== undefined && !Number.isInteger(spec.addend)) throw new InvalidArgumentError(`relocation addend ${spec.addend} is not an integer`);
    this.uses.push({
      label: -1,
      symbol: spec.symbol,
      addend: spec.addend ?? 0,
      kind: spec.kind,
      field,
      origin: spec.origin ?? field + spec.kind.originFromField,
      items: this.items.length,
      veneer: spec.veneer ?? null,
      veneerAt: -1,
    });
  }

  /** x86: a jmp/jcc to `label` whose size is chosen at finish (see the header). */
  emitRelaxable(branch: RelaxableBranch, label: Label, force: RelaxForce = 'auto'): void {
    const id = this.state(label);
    this.noteUse(id, branch.name, this.len);
    const long = force === 'rel32';
    this.items.push({ pos: this.len, branch, label: id, force, long });
    if (this.len > this.mark) this.mark = this.len;
    this.shortItemBytes += long ? branch.long.length + 4 : branch.short.length + 1;
  }

  // ----- finish ---------------------------------------------------------------------------------

  finish(opts: FinishOptions): FinishedCode {
    const nLabels = this.labelObjs.length;
    const pos = this.labelPos;
    for (let id = 0; id < nLabels; id++) {
      if ((pos[id] as number) < 0 && (this.labelUses[id] as number) > 0) {
        throw new UnboundLabelError(this.labelObjs[id] as Label, this.labelUses[id] as number, this.labelFirstBy[id] as string, this.labelFirstAt[id] as number);
      }
    }
    const base = opts.base;
    const again = this.refinish(opts);
    if (again !== null) return again;
    const sizes = this.relax();
    // prefix[i] = total size of items[0..i)
    const prefix = new Int32Array(this.items.length + 1);
    for (let i = 0; i < this.items.length; i++) prefix[i + 1] = (prefix[i] as number) + (sizes[i] as number);

    for (let round = 0; ; round++) {
      const itemCount = this.items.length;
      const total = this.len + (prefix[itemCount] as number);
      const bytes = new Uint8Array(total);
      // The linear stream goes in whole; then, from the last item back, each segment after an item
      // moves up by the sizes of the items before it (memmove, no views) and the item is written.
      bytes.set(this.len === this.data.length ? this.data : this.data.subarray(0, this.len));
      let segEnd = this.len;
      for (let i = itemCount - 1; i >= 0; i--) {
        const it = this.items[i] as Item;
        const shift = prefix[i + 1] as number;
        if (shift !== 0 && segEnd > it.pos) bytes.copyWithin(it.pos + shift, it.pos, segEnd);
        segEnd = it.pos;
        const dst = it.pos + (prefix[i] as number);
        const opc = it.long ? it.branch.long : it.branch.short;
        for (let k = 0; k < opc.length; k++) bytes[dst + k] = opc[k] as number;
        const end = dst + (sizes[i] as number);
        const delta = this.labelFinal(it.label, prefix) - end;
        if (it.long) writeLE32(bytes, end - 4, delta);
        else bytes[end - 1] = delta & 0xff;
      }

      const relocations: ResolvedRelocation[] = [];
      const pending: Use[] = [];
      for (const u of this.uses) {
        const shift = prefix[u.items] as number;
        const fieldOff = u.field + shift;
        const useAddr = base + u.origin + shift;
        const target = this.useTarget(u, base, prefix, opts.resolve, fieldOff);
        const via = u.veneerAt >= 0 ? base + u.veneerAt : target;
        const k = u.kind;
        const d = k.distance ? k.distance(useAddr, via) : via - useAddr;
        if (outOfReach(k, d)) {
          if (u.veneer && u.veneerAt < 0) {
            pending.push(u);
            continue;
          }
          const targetName = u.label >= 0 ? `label "${(this.labelObjs[u.label] as Label).name}"` : `symbol "${u.symbol as string}"`;
          const what = u.veneerAt >= 0 ? `${targetName} (via veneer at offset ${u.veneerAt})` : targetName;
          throw new BranchRangeError(what, k.name, d, k.minDelta, k.maxDelta, fieldOff, k.align);
        }
        k.patch(bytes, fieldOff, useAddr, via);
        if (u.symbol !== null) {
          const rel: ResolvedRelocation = { kind: k.name, symbol: u.symbol, addend: u.addend, offset: fieldOff, target };
          if (u.veneerAt >= 0) rel.veneer = u.veneerAt;
          relocations.push(rel);
        }
      }
      if (pending.length === 0) {
        const done = this.finished(bytes, relocations, prefix);
        const baseUses: Use[] = [];
        for (const u of this.uses) if (u.label < 0 || u.kind.distance !== undefined) baseUses.push(u);
        this.lastImage = { bytes: bytes.slice(), prefix, key: this.stateKey(), offsets: done.offsets, marks: done.marks, baseUses };
        return done;
      }
      if (round > 8) throw new UnsupportedError('veneers did not converge (a veneer emitter keeps producing out-of-reach uses)');
      for (const u of pending) {
        const target = u.label >= 0 ? base + this.labelFinal(u.label, prefix) : (opts.resolve?.(u.symbol as string) as number) + u.addend;
        const key = `${u.kind.name}:${hexAddr(target)}`;
        let at = this.veneers.get(key);
        if (at === undefined) {
          while (this.len % 4 !== 0) this.put8(0);
          at = this.len + (prefix[itemCount] as number);
          (u.veneer as VeneerEmitter)(this, target);
          if (this.items.length !== itemCount) throw new UnsupportedError('a veneer emitter may not emit relaxable branches');
          this.veneers.set(key, at);
        }
        u.veneerAt = at;
      }
      // New uses added by veneer emitters were recorded with items = itemCount; prefix still valid.
    }
  }

  /** The finish result: label offsets by id and marks eagerly, the name map when first asked for. */
  private finished(bytes: Uint8Array, relocations: ResolvedRelocation[], prefix: Int32Array): Finished {
    const nLabels = this.labelObjs.length;
    const offsets = new Int32Array(nLabels);
    const labelPos = this.labelPos;
    const labelItems = this.labelItems;
    for (let id = 0; id < nLabels; id++) {
      const at = labelPos[id] as number;
      offsets[id] = at < 0 ? -1 : at + (prefix[labelItems[id] as number] as number);
    }
    const n = this.markCount;
    const marks = new Int32Array(n);
    const markPos = this.markPos;
    const markItems = this.markItems;
    for (let k = 0; k < n; k++) marks[k] = (markPos[k] as number) + (prefix[markItems[k] as number] as number);
    return new Finished(bytes, relocations, offsets, marks, this.labelObjs.slice());
  }

  private stateKey(): string {
    return `${this.items.length}:${this.len}:${this.binds}:${this.labelObjs.length}:${this.uses.length}`;
  }

  /**
   * finish again at another base after nothing was emitted: the layout and every label distance are
   * the same, so copy the last image and re-patch only the fields that depend on `base` (symbol
   * uses, and kinds with their own `distance`, e.g. ADRP pages), each from its placeholder bytes.
   * Null when the buffer changed or a field would need a new veneer (then finish runs in full).
   */
  private refinish(opts: FinishOptions): FinishedCode | null {
    const last = this.lastImage;
    if (last === null || last.key !== this.stateKey()) return null;
    const { prefix } = last;
    const bytes = last.bytes.slice();
    const relocations: ResolvedRelocation[] = [];
    const base = opts.base;
    const uses = last.baseUses;
    for (let i = 0; i < uses.length; i++) {
      const u = uses[i] as Use;
      const shift = prefix[u.items] as number;
      const fieldOff = u.field + shift;
      const useAddr = base + u.origin + shift;
      const target = this.useTarget(u, base, prefix, opts.resolve, fieldOff);
      const via = u.veneerAt >= 0 ? base + u.veneerAt : target;
      const k = u.kind;
      const d = k.distance ? k.distance(useAddr, via) : via - useAddr;
      if (outOfReach(k, d)) return null;
      for (let j = 0; j < k.fieldSize; j++) bytes[fieldOff + j] = this.data[u.field + j] as number;
      k.patch(bytes, fieldOff, useAddr, via);
      if (u.symbol !== null) {
        const rel: ResolvedRelocation = { kind: k.name, symbol: u.symbol, addend: u.addend, offset: fieldOff, target };
        if (u.veneerAt >= 0) rel.veneer = u.veneerAt;
        relocations.push(rel);
      }
    }
    return new Finished(bytes, relocations, last.offsets.slice(), last.marks.slice(), this.labelObjs.slice());
  }

  /** Relaxation to the least fixed point; returns the final size of each item. */
  private relax(): number[] {
    const n = this.items.length;
    const key = this.stateKey();
    if (this.relaxed !== null && this.relaxed.key === key) return this.relaxed.sizes;
    const sizes = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const it = this.items[i] as Item;
      it.long = it.force === 'rel32';
      sizes[i] = it.long ? it.branch.long.length + 4 : it.branch.short.length + 1;
    }
    const prefix = new Int32Array(n + 1);
    for (let changed = true; changed; ) {
      changed = false;
      for (let i = 0; i < n; i++) prefix[i + 1] = (prefix[i] as number) + (sizes[i] as number);
      for (let i = 0; i < n; i++) {
        const it = this.items[i] as Item;
        if (it.long) continue;
        const end = it.pos + (prefix[i + 1] as number);
        const delta = this.labelFinal(it.label, prefix) - end;
        if (delta < -128 || delta > 127) {
          if (it.force === 'rel8') {
            throw new BranchRangeError(`label "${(this.labelObjs[it.label] as Label).name}"`, `x86.rel8 (${it.branch.name})`, delta, -128, 127, end - 1);
          }
          it.long = true;
          sizes[i] = it.branch.long.length + 4;
          changed = true;
        }
      }
    }
    this.relaxed = { sizes, key };
    return sizes;
  }

  private labelFinal(id: number, prefix: Int32Array): number {
    return (this.labelPos[id] as number) + (prefix[this.labelItems[id] as number] as number);
  }

  /** The address a use refers to: its label's final address, or its symbol resolved plus addend. */
  private useTarget(u: Use, base: VAddr, prefix: Int32Array, resolve: ((symbol: string) => VAddr | undefined) | undefined, fieldOff: number): VAddr {
    if (u.label >= 0) return base + this.labelFinal(u.label, prefix);
    const r = resolve?.(u.symbol as string);
    if (r === undefined) throw new UnresolvedSymbolError(u.symbol as string, fieldOff);
    return r + u.addend;
  }
}
