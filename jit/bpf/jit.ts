// The BPF JIT pipeline shared by both architectures (Linux bpf_int_jit_compile + bpf_prog_pack):
//   verify -> resolve lddw map references -> (blind constants) -> codegen sizing pass ->
//   bpf_jit_binary_pack_alloc (RW staging buffer + final ROX address) -> final pass against the ROX
//   address -> bpf_jit_binary_pack_finalize (text_poke_copy; arm64 later: flush the I-cache) ->
//   JitProgram. `free()` is bpf_jit_binary_pack_free: the chunk is poked back to traps.
//
// Invariants:
// - Codegen never sees an address it has to guess: helpers, region tables and the stack limit are
//   symbols resolved by the host; reach decisions use the whole BPF execmem range, so the sizing
//   pass and the final pass have the same layout (checked by the backend).
// - A run places the interpreter's regions (stack of 8 x 512 bytes with r10 at its top, input,
//   maps) in the host's arena at the same addresses the interpreter gets from `newAllocator()`,
//   calls the image with r1 = input, r2 = its length, rdx = r10, and returns the interpreter's
//   RunResult shape (insns = native instructions executed).
// - Errors are the interpreter's: BpfMemoryFault, BpfRuntimeError (call depth, callx),
//   BpfBudgetExceeded (native instruction budget), VerifierError at load.

import { BudgetExceededError } from '../../emulator/index.js';
import { type PackedBinary } from '../../execmem/pack.js';
import { Rng } from '../../support/rng.js';
import { type U64, type VAddr, vaddrToPair, u64 } from '../../support/u64.js';
import { UnsupportedError } from '../../support/errors.js';
import { blindConstants, withOrigins, type BpfCodegenResult, type JitInsn, type JitSite } from '../../codegen/bpf/common.js';
import { compileBpfX86 } from '../../codegen/bpf/x86_64.js';
import { compileBpfArm64 } from '../../codegen/bpf/arm64.js';
import { conformanceProfile } from './helpers-conformance.js';
import { BPF_MAX_CALL_DEPTH, BPF_STACK_SIZE, LDDW_SRC, slotIndex, type BpfInsn } from './isa.js';
import {
  BpfAddressSpace, BpfBudgetExceeded, BpfLoadError, DEFAULT_BUDGET, makeHelperContext, type BpfMapLike, type BpfProgram, type HelperContext,
  type HelperProfile, type RunOptions, type RunResult,
} from './runtime.js';
import { verifyProgram } from './verifier.js';
import { disasm } from './disasm.js';
import { type ArenaRegionAllocator, BpfJitHost, BpfUnwind } from './jit-host.js';

export type JitArch = 'x86_64' | 'arm64';

export interface JitOptions {
  arch?: JitArch;
  profile?: HelperProfile;
  /** Constant blinding + landing pads (bpf_jit_harden). */
  harden?: boolean;
  /** Seed of the blinding constants. */
  seed?: number;
  /** Runtime checks for accesses the verifier did not prove (default true). */
  memoryChecks?: boolean;
  /** Inline fast-window test before the out-of-line checker (default true; false: checker only). */
  inlineChecks?: boolean;
  /** ENDBR64 at the entry and tail-call landing (default: = harden). */
  landingPads?: boolean;
  /** The host to place the program in (default: a new one for `arch`). */
  host?: BpfJitHost;
  /** arm64 only, for tests: skip the I-cache flush after text_poke_copy (fetches then fault as stale). */
  skipIcacheFlush?: boolean;
}

export interface JitRunResult extends RunResult {
  nativeInsns: number;
}

/** Map a program's lddw map references to their (arena) addresses; everything else unchanged. */
function resolveLddw(prog: BpfProgram, alloc: ArenaRegionAllocator): JitInsn[] {
  const maps = prog.maps ?? [];
  const memory = new BpfAddressSpace();
  memory.add(alloc.allocate(BPF_STACK_SIZE * BPF_MAX_CALL_DEPTH, 'stack', true, 'stack'));
  for (const m of maps) m.attach(memory, alloc);
  const insns = withOrigins(prog.insns);
  for (let k = 0; k < insns.length; k++) {
    const i = insns[k] as JitInsn;
    if (i.opcode === 0x18 && i.src !== LDDW_SRC.IMM64) insns[k] = resolveMapRef(i, maps);
  }
  return insns;
}

/** An lddw map reference as the plain 64-bit constant of the map object or value address. */
function resolveMapRef(i: JitInsn, maps: readonly BpfMapLike[]): JitInsn {
  const m: BpfMapLike | undefined = i.src === LDDW_SRC.MAP_IDX || i.src === LDDW_SRC.MAP_IDX_VALUE ? maps[i.imm] : maps.find((x) => x.fd === i.imm);
  if (!m) throw new BpfLoadError(i.slot, disasm(i), `no map with ${i.src >= 5 ? 'index' : 'fd'} ${i.imm} in the program's map table`);
  const addr = i.src === LDDW_SRC.MAP_FD || i.src === LDDW_SRC.MAP_IDX ? m.objectAddr : m.valueAddr(i.imm2 ?? 0);
  const p = vaddrToPair(addr);
  return { opcode: i.opcode, dst: i.dst, src: 0, off: i.off, imm: p.lo | 0, imm2: p.hi | 0, slot: i.slot, origin: i.origin as number };
}

export class JitProgram {
  readonly arch: JitArch;
  readonly program: BpfProgram;
  readonly profile: HelperProfile;
  readonly host: BpfJitHost;
  /** Entry address (ROX). */
  readonly entry: VAddr;
  /** Header (chunk start) of the packed binary, the pack it lives in and its offset there. */
  readonly chunk: VAddr;
  readonly pack: VAddr;
  readonly offset: number;
  /** Landing point of tail calls into this program (after its counter init and frame setup). */
  readonly tailCallEntry: VAddr;
  /** Bytes of the image (code + out-of-line checkers). */
  readonly size: number;
  readonly image: Uint8Array;
  /** Image offset of each original instruction; [n] = end of the instructions' code. */
  readonly insnOffsets: Int32Array;
  readonly sites: readonly JitSite[];
  readonly relocations: BpfCodegenResult['relocations'];
  readonly harden: boolean;
  /** The program's allocator: its maps keep their (lddw-baked) regions across runs. */
  readonly allocator: ArenaRegionAllocator;
  private freed = false;

  constructor(init: {
    arch: JitArch; program: BpfProgram; profile: HelperProfile; host: BpfJitHost; bin: PackedBinary; code: BpfCodegenResult; harden: boolean;
    allocator: ArenaRegionAllocator;
  }) {
    this.allocator = init.allocator;
    this.arch = init.arch;
    this.program = init.program;
    this.profile = init.profile;
    this.host = init.host;
    this.entry = init.bin.image;
    this.chunk = init.bin.header;
    const pack = init.host.space.packs.packContaining(init.bin.header);
    this.pack = pack ? pack.base : init.bin.header;
    this.offset = init.bin.image - this.pack;
    this.size = init.code.bytes.length;
    this.tailCallEntry = this.entry + (init.code.labels.get('tail-call-landing') as number);
    this.image = init.code.bytes;
    this.insnOffsets = init.code.insnOffsets;
    this.sites = init.code.sites;
    this.relocations = init.code.relocations;
    this.harden = init.harden;
    init.host.addSites(this.entry, this.sites, this.program.insns);
  }

  get isFreed(): boolean {
    return this.freed;
  }

  /**
   * A fresh allocator over the host's arena laid out like this program's: an interpreter run with
   * it (calling `resetRun()` before each run) sees the JIT run's regions at the same addresses.
   */
  newAllocator(): ArenaRegionAllocator {
    const a = this.host.newAllocator();
    a.allocate(BPF_STACK_SIZE * BPF_MAX_CALL_DEPTH, 'stack', true, 'stack');
    return a.resetRun();
  }

  run(opts: RunOptions = {}): JitRunResult {
    const host = this.host;
    const alloc = opts.allocator ?? this.allocator.resetRun();
    const memory = new BpfAddressSpace();
    const stack = memory.add(alloc.allocate(BPF_STACK_SIZE * BPF_MAX_CALL_DEPTH, 'stack', true, 'stack'));
    const memBytes = opts.mem ?? new Uint8Array(0);
    const input = memory.add(alloc.allocate(memBytes.length, 'input', true, 'input'));
    input.bytes.set(memBytes);
    const maps = this.program.maps ?? [];
    for (const m of maps) m.attach(memory, alloc);
    const ctx: HelperContext = makeHelperContext(memory, alloc, this.program, maps);
    const trace = ctx.trace;
    const args: U64[] = [u64(0, 0), u64(0, 0)];
    if (memBytes.length > 0) {
      args[0] = vaddrToPair(input.base);
      args[1] = u64(memBytes.length, 0);
    }
    if (opts.args) opts.args.forEach((v, k) => (args[k] = v));
    while (args.length < 2) args.push(u64(0, 0));
    const top = vaddrToPair(stack.base + stack.bytes.length);
    host.pushRegions(memory);
    host.active = { profile: this.profile, memory, ctx };
    const budget = opts.budget ?? DEFAULT_BUDGET;
    let r0: U64;
    let exitedBy: 'exit' | 'unwind' = 'exit';
    const callArgs: U64[] = [args[0] as U64, args[1] as U64, top];
    const regs: Record<string, U64> = {};
    if (opts.args && opts.args.length > 2) {
      // r3..r5 = rdx / x2 (taken by r10 at entry), rcx / x3, r8 / x4: only r4/r5 can be passed beside the frame.
      const [r4, r5] = this.arch === 'arm64' ? ['x3', 'x4'] : ['rcx', 'r8'];
      if (opts.args[3]) regs[r4] = opts.args[3];
      if (opts.args[4]) regs[r5] = opts.args[4];
    }
    try {
      const res = host.machine.call(this.entry, callArgs, { budget, regs });
      r0 = res.ret;
      host.pullRegions(memory);
      return { r0, insns: res.counters.insns, nativeInsns: res.counters.insns, exitedBy, trace, mem: input.bytes };
    } catch (e) {
      if (e instanceof BpfUnwind) {
        exitedBy = 'unwind';
        host.pullRegions(memory);
        const n = host.machine.counters().insns;
        return { r0: u64(0, 0), insns: n, nativeInsns: n, exitedBy, trace, mem: input.bytes };
      }
      if (e instanceof BudgetExceededError) throw new BpfBudgetExceeded(budget, this.slotAt(e.pc));
      throw e;
    } finally {
      host.active = null;
    }
  }

  /** BPF slot whose native code contains `pc` (or -1). */
  slotAt(pc: VAddr): number {
    const off = pc - this.entry;
    const n = this.program.insns.length;
    for (let k = n - 1; k >= 0; k--) if ((this.insnOffsets[k] as number) <= off && off < (this.insnOffsets[n] as number)) return (this.program.insns[k] as BpfInsn).slot;
    return -1;
  }

  /** bpf_jit_binary_pack_free: the chunk goes back to traps; calling the entry afterwards traps. */
  free(): void {
    if (this.freed) return;
    this.host.space.packs.binaryPackFree(this.chunk);
    this.host.removeSites(this.entry, this.sites);
    this.freed = true;
  }
}

/** Compile a program into the host's bpf_prog_pack memory. */
export function jitCompile(program: BpfProgram, opts: JitOptions = {}): JitProgram {
  const arch: JitArch = opts.arch ?? opts.host?.space.arch ?? 'x86_64';
  const profile = opts.profile ?? conformanceProfile;
  const host = opts.host ?? new BpfJitHost({ arch });
  if (host.space.arch !== arch) throw new UnsupportedError(`a ${host.space.arch} JIT host cannot run ${arch} code`, { arch });
  const harden = opts.harden === true;
  const verdict = verifyProgram(program.insns, { profile, ...(program.maps ? { maps: program.maps } : {}) });
  const indexOfSlot = slotIndex(program.insns);
  const functions = verdict.functions.map((s) => indexOfSlot[s] as number);
  const proven = new Set<number>();
  for (const slot of verdict.provenStackAccesses.keys()) {
    const k = indexOfSlot[slot];
    if (k !== undefined && k >= 0) proven.add(k);
  }
  const allocator = host.newAllocator();
  let insns = resolveLddw(program, allocator);
  allocator.resetRun();
  let fnStarts = functions;
  if (harden) {
    insns = blindConstants(insns, new Rng(opts.seed ?? 0x0b11d));
    const first = new Int32Array(program.insns.length).fill(-1);
    for (let k = insns.length - 1; k >= 0; k--) first[(insns[k] as JitInsn).origin as number] = k;
    fnStarts = functions.map((f) => first[f] as number);
  }
  const cfg = host.space.config;
  let tailCallHelper: number | undefined;
  for (const [id, h] of profile.helpers) if (h.name === 'tail_call' || h.name === 'bpf_tail_call') tailCallHelper = id;
  const compile = arch === 'arm64' ? compileBpfArm64 : compileBpfX86;
  const codegen = compile(insns, {
    ...(tailCallHelper !== undefined ? { tailCallHelper } : {}),
    functions: fnStarts,
    proven,
    memoryChecks: opts.memoryChecks !== false,
    inlineChecks: opts.inlineChecks !== false,
    landingPads: opts.landingPads ?? harden,
    symbolAddress: host.resolver(profile),
    imageRange: { lo: cfg.modulesVaddr, hi: cfg.modulesEnd },
  });
  const bin = host.space.packs.binaryPackAlloc(codegen.sized.bytes.length);
  let code: BpfCodegenResult;
  try {
    code = codegen.at(bin.image);
    bin.rw.set(code.bytes, bin.rwImageOffset);
    // arm64: text_poke_copy without its own flush, then flush_icache_range over the chunk (the step
    // `skipIcacheFlush` leaves out, so the stale-fetch fault can be shown).
    host.space.packs.binaryPackFinalize(bin, arch === 'arm64' ? { flush: false } : {});
    if (arch === 'arm64' && opts.skipIcacheFlush !== true) host.space.flushIcacheRange(bin.header, bin.size);
  } catch (e) {
    host.space.packs.binaryPackFree(bin);
    throw e;
  }
  return new JitProgram({ arch, program, profile, host, bin, code, harden, allocator });
}

/** Compile and run once (the `--arch x86_64` engine of `jitbox run` and the conformance runner). */
export function runJit(program: BpfProgram, opts: RunOptions & JitOptions = {}): JitRunResult {
  const jp = jitCompile(program, opts);
  try {
    return jp.run(opts);
  } finally {
    jp.free();
  }
}
