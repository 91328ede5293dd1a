// The interface between the translation tier (emulator/translate/tier.ts, region.ts) and one
// architecture's translator (x86_64.ts, arm64*.ts). A translator turns one pre-decoded guest block
// (the decode cache's records, emulator/decode-cache.ts; there is no second decoder) into binaryen
// IR through a `BlockEmitter`; the framework owns everything else: regions, budget, register file,
// soft TLB, exits, compilation, caching and invalidation.
//
// PROTOCOL (stable; later changes are additive and listed at the end of this comment)
//
// 1. Units. The framework compiles a *region*: a hot head block plus blocks already in the decode
//    cache that it reaches through direct branches/fall-through (v86 / QEMU-TB style), into one
//    wasm function; control between blocks of a region stays in wasm (binaryen's Relooper turns a
//    single-block self-loop into a wasm `loop`). Leaving the region returns to JavaScript, which
//    looks up the next pc and either enters another region or the interpreter.
//
// 2. Register file. Guest state lives in i64 *slots* numbered 0..slotCount-1 by the translator
//    (x86_64: 0-15 = rax..r15, then lazy-flag slots; arm64: the translator's own numbering, e.g.
//    x0-x30, sp, nzcv parts). Slots are stored in host-private scratch bytes of the guest's
//    WebAssembly.Memory (AddressSpace.allocHostScratch, never mapped into any page table). Inside a
//    translated function every slot the function touches is a wasm i64 local: loaded at entry,
//    written back at every exit. A translator names registers only by slot: `e.get(slot)` (an i64
//    expression) and `e.set(slot, value)` (a statement). Values are plain 64-bit patterns; a slot
//    holding a 32-bit quantity keeps it zero-extended unless the translator documents otherwise.
//    `loadState(machine, words)` / `storeState(machine, words)` copy the machine's JS register
//    file into / out of the slots (words[2*slot] = low 32 bits, words[2*slot+1] = high 32 bits) at
//    every entry / exit of translated code.
//
// 3. Guest memory. `e.load(size, signed, addr, insn)` and `e.store(size, addr, value, insn)` take
//    an i64 guest virtual address and go through the in-memory soft TLB (per access kind, 256
//    direct-mapped entries: page tag + host offset of the 4 KiB page, filled only for pages whose
//    permission allows that access, like emulator/memory.ts). A hit is the permission check; the
//    host offset is added and the access is one wasm load/store (little-endian, like the guest).
//    On a tag miss the translated code calls the host's fill (QEMU's tlb_fill: a page-table walk
//    that enters the page only when its permission allows the access) and retries once; a page
//    that does not allow it, or a page-crossing access, *exits before instruction `insn`* (see 4)
//    and the interpreter performs the access itself, raising exactly its fault.
//    Loads and stores are counted (Counters.loads/stores) by the framework. A translator must emit
//    the memory access(es) of an instruction BEFORE any `e.set` of that instruction (and stores of
//    a read-modify-write after its load), so that an exit leaves the state as before `insn`.
//    Fetch permission is never checked in translated code: blocks come from the decode cache,
//    which checked it, and a permission change or text_poke invalidates the block (5).
//
// 4. Exits. Every exit leaves the architectural state exactly as the interpreter would have it
//    at that point, and reports one of:
//    - resume (`e.exitResume(insn)`, or the terminator {kind:'resume', insn}): instructions
//      0..insn-1 of the block retired, the interpreter continues AT instruction `insn` of the same
//      decode-cache block (so helpers, host calls, traps, faults, unsupported instructions all run
//      in the interpreter, which produces the same fault objects, pc and counters as ever).
//    - block: the next thing to run is the start of a known block (the framework uses this when
//      the budget cannot cover the next block; the interpreter applies its own budget rule).
//    - pc: continue at a guest address (indirect branches, direct branches leaving the region).
//    A translator never returns to JavaScript any other way and never throws from wasm.
//
// 5. Block end, chaining. `translateBlock` returns its statements and a terminator:
//    {kind:'jump', target, count}        direct branch or fall-through to a constant pc
//    {kind:'cond', cond, taken, fall, count}  i32 condition != 0 -> taken
//    {kind:'indirect', target, count}    i64 target computed in wasm (ret, jmp reg, br); the
//                                        translator must have checked it is canonical / aligned
//                                        (else exitResume before the branch)
//    {kind:'resume', insn}               stop before instruction `insn` (unsupported, helper
//                                        needed, or the block's last record is left to the
//                                        interpreter); insn 0 means the block is not translated
//    `count` = the interpreter counts this control transfer in Counters.branches (taken edge for
//    'cond'). A 'jump'/'cond' target inside the region becomes a wasm branch, else a pc exit.
//    A text_poke (codeWritten) or mappingChanged over any byte of any block of a region, or a
//    decode-cache flush, drops the whole region (and so every chain through it).
//
// 6. Instruction counts and budget. The framework keeps `rem` = budget - insns in a local. At
//    every block entry it checks rem >= count (else a 'block' exit: the interpreter, which applies
//    its exact budget rule) and subtracts count; a resume exit at insn k adds back count - k. So
//    Counters.insns and BudgetExceededError are exactly the interpreter's. Translators do nothing.
//    (One entry gets at most 2^24 instructions of `rem`; running out of that slice is a 'block'
//    exit the run loop answers by entering again, so V8's optimised code takes over long loops.)
//    The interpreter side: a machine's dispatcher calls TranslationTier.run(b) before each block it
//    would interpret and, on a resume, starts that block at record `tier.resume` without counting
//    the records before it again (x86_64/machine.ts runBlocks, arm64/exec.ts execChain `from`).
//    The interpreter does not chain into a block that has translated code (TranslationTier.regionMap)
//    but returns to its dispatcher, so execution goes back to wasm after a resume exit.
//
// 7. Flags are the translator's business (slots of its own). x86_64 keeps the interpreter's lazy
//    flag record (kind, size, result, operands, carry-in, raw) in slots and evaluates conditions
//    only where a jcc/setcc/cmov consumes them; arm64 may keep NZCV as four slots.
//
// 8. Unsupported. A translator that meets an instruction it does not translate ends the block
//    there with {kind:'resume', insn}; nothing else is needed. Entry conditions the interpreter
//    checks at dispatch (arm64 BTI btype) go in `canEnter`: false = interpret this dispatch.
//
// Helper: `i64const(m, v)` builds an i64 constant from a bigint (binaryen.js 132 takes one bigint
// argument at run time while its typings still say number).
//
// Changes: added optional ArchTranslator.directTargets, setPc, and i64const/i64pair (additive);
// interpreters return to their dispatcher before chaining into translated blocks (§6).

import type binaryen from 'binaryen';
import type { Arch } from '../../execmem/types.js';
import { type VAddr, vaddrToPair } from '../../support/u64.js';
import type { Machine } from '../machine.js';

export type Expr = binaryen.ExpressionRef;

/** One decode-cache block as the translator sees it (read-only views of the cache). */
export interface GuestBlock {
  /** Decode-cache block id. */
  readonly id: number;
  /** Guest address of the first instruction. */
  readonly pc: VAddr;
  /** Index of the first record (word offset = (first + k) * REC_WORDS for instruction k). */
  readonly first: number;
  /** Number of instructions. */
  readonly count: number;
  /** Bytes covered; pc + bytes is the fall-through address. */
  readonly bytes: number;
  /** The decode cache's record array (do not write). */
  readonly recs: Int32Array;
  /** Guest address of instruction k (0-based within the block). */
  insnPc(k: number): VAddr;
}

/** Access sizes in bytes. */
export type AccessSize = 1 | 2 | 4 | 8;

/** What a translator uses to emit the body of one block. */
export interface BlockEmitter {
  /** The binaryen module being built (build expressions with it). */
  readonly m: binaryen.Module;
  /** The block being translated. */
  readonly block: GuestBlock;
  /** Current value of register slot `slot` (i64). */
  get(slot: number): Expr;
  /** Statement: slot := value (i64). */
  set(slot: number, value: Expr): Expr;
  /** A fresh scratch local of `type` (binaryen.i32 / i64) for this function; returns its index. */
  local(type: binaryen.Type): number;
  /**
   * i64 value loaded from guest memory (size bytes, zero- or sign-extended to 64 bits); on a TLB
   * miss, page crossing or permission problem: exits before instruction `insn` (resume).
   */
  load(size: AccessSize, signed: boolean, addr: Expr, insn: number): Expr;
  /** Statement: store the low `size` bytes of the i64 `value` at `addr` (else resume before insn). */
  store(size: AccessSize, addr: Expr, value: Expr, insn: number): Expr;
  /**
   * Statement: check that a `size`-byte store at `addr` would hit the write TLB (else resume
   * before insn), for instructions that must check every store before writing any (ldp/stp, push
   * of two words): it writes nothing.
   */
  probeStore(size: AccessSize, addr: Expr, insn: number): Expr;
  /** Statement (type unreachable): leave translated code so the interpreter runs instruction `insn` on. */
  exitResume(insn: number): Expr;
  /** Statement: Counters.branches += 1. */
  countBranch(): Expr;
}

export type Terminator =
  | { kind: 'jump'; target: VAddr; count: boolean }
  | { kind: 'cond'; cond: Expr; taken: VAddr; fall: VAddr; count: boolean }
  | { kind: 'indirect'; target: Expr; count: boolean }
  | { kind: 'resume'; insn: number };

export interface BlockTranslation {
  /** Statements of the block in order (before the terminator). */
  code: Expr[];
  end: Terminator;
}

/** One architecture's translator. */
export interface ArchTranslator {
  readonly arch: Arch;
  /** Number of i64 register slots (at most MAX_SLOTS). */
  readonly slotCount: number;
  /** Copy the machine's state into the slots (words[2s] = lo, words[2s+1] = hi). */
  loadState(machine: Machine, words: Int32Array): void;
  /** Copy the slots back into the machine's state. */
  storeState(machine: Machine, words: Int32Array): void;
  /** False: the interpreter must run this dispatch (e.g. a pending BTI check). */
  canEnter(machine: Machine): boolean;
  /**
   * Optional: the constant pcs block may continue at (direct branch targets, fall-through), used to
   * grow regions; without it the framework follows the interpreter's block links only.
   */
  directTargets?(block: GuestBlock): VAddr[];
  /**
   * Optional: record `pc` as the machine's current pc before the framework looks it up after a pc
   * exit (so a fetch fault there leaves the machine's pc where the interpreter would, e.g. arm64).
   */
  setPc?(machine: Machine, pc: VAddr): void;
  /** Translate one block (called once per block per region, in region order). */
  translateBlock(block: GuestBlock, e: BlockEmitter): BlockTranslation;
}

export const MAX_SLOTS = 64;

/** An i64 constant (v is taken modulo 2^64). */
export function i64const(m: binaryen.Module, v: bigint): Expr {
  const make = m.i64.const as unknown as (x: bigint) => Expr;
  return make.call(m.i64, BigInt.asIntN(64, v));
}

/** An i64 constant from a lo/hi int32 pair. */
export function i64pair(m: binaryen.Module, lo: number, hi: number): Expr {
  return i64const(m, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
}

/** An i64 constant holding guest address `a`. */
export function vaddrConst(m: binaryen.Module, a: VAddr): Expr {
  const p = vaddrToPair(a);
  return i64pair(m, p.lo, p.hi);
}

/** Exit kinds reported by translated code (tier.ts reads them from the exit record). */
export const EXIT_PC = 0;
export const EXIT_BLOCK = 1;
export const EXIT_RESUME = 2;

/** Tier selection (MachineOptions.tier / CallOptions.tier / JITBOX_TIER). */
export type Tier = 'interp' | 'translate' | 'auto';
