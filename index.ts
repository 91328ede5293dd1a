// The typed library entry: `import { AddressSpace, jitCompile, ... } from 'jitbox'` (package.json
// "exports" -> dist/index.js + dist/index.d.ts). It exports the stable pieces, pipeline order:
// support (errors, Rng, hex helpers) -> execmem (address space, text_poke, auditor) -> assemblers
// (CodeBuffer, x86_64/arm64) -> emulator (createCpu, Machine, the cache/TLB model) -> BPF (load,
// verify, interpret, JIT, run) -> bcachefs (formats, pack, node, unpackers) -> experiments.
//
// Invariants: this file and jit/cli.ts are the only entries that import jit/ (DEVELOPERS.md;
// test/architecture.test.ts); nothing imports this file from inside the tree except examples/api,
// which use the package name, never a relative path. Each layer's full surface is also available
// as a namespace (`execmem`, `x86_64`, `arm64`, `emulator`); the names re-exported at the top
// level are the ones the examples and docs rely on, so renaming one is an API change.

// support
export { JitboxError, InvalidArgumentError, ParseError, UnsupportedError, InvariantError, isJitboxError, type ErrorDetails } from './support/errors.js';
export { Rng } from './support/rng.js';
export { type VAddr, type U64, u64, hexAddr, hex64, bytesToHex, hexToBytes, parseU64, vaddrFromPair, vaddrToPair } from './support/u64.js';
export { initCapstone, disasmOne, disasmAll, normaliseAsm, type IsaArch, type DecodedText } from './support/capstone.js';

// execmem: the simulated kernel address space; text_poke is AddressSpace.textPokeCopy/textPokeSet
// (and arm64 patchTextNosync/insnWriteRaw); the auditor is AddressSpace.audit()/auditor.
export * as execmem from './execmem/index.js';
export {
  AddressSpace, type Arch, ARCHES, PAGE_SIZE, HUGE_PAGE_SIZE, PERM_R, PERM_W, PERM_X, PERM_RW, PERM_RO, PERM_ROX, type Perm, permString,
  PageFault, StaleIcacheFault, type PageInfo, type GuestMemory, type MemoryListener,
  TextPokeError, WxViolationError, ModuleLoadError, ExecmemExhaustedError, DoubleFreeError,
  type AuditReport, type AuditViolation, type AuditCounters, type PokeOptions,
  type ModuleDescription, type ModuleSection, type LoadedModule, exampleModule,
  describeSpace, formatSpaceReport, type SpaceReport, type SpaceOptions,
} from './execmem/index.js';
export { TextPoker } from './execmem/poke.js';

// assemblers: one CodeBuffer for both arches; the encoders and emitters per arch as namespaces.
export { CodeBuffer, type CodeArch, type Label, type FinishedCode, type ResolvedRelocation, BranchRangeError, UnboundLabelError } from './codegen/buffer.js';
export * as x86_64 from './codegen/x86_64/index.js';
export * as arm64 from './codegen/arm64/index.js';
export { listing, formatListing, listingJson, type ListingLine } from './codegen/listing.js';

// emulator
export * as emulator from './emulator/index.js';
export {
  createCpu, Machine, X86Machine, Arm64Machine, type MachineOptions, type CallOptions, type CallResult, type CallArg, type Counters, type HostFunction,
  GuestTrap, BudgetExceededError, InvalidInstructionError, UnsupportedInstructionError,
} from './emulator/index.js';

// BPF: load (ELF / assembler / raw) -> verify -> interpret or JIT -> run
export { assemble, assembleInsns, BpfAsmError } from './jit/bpf/asm.js';
export { loadElf, ElfError, type LoadedObject, type LoadedProgram, type LoadElfOptions } from './jit/bpf/elf.js';
export { instantiate, createMaps, BpfMap } from './jit/bpf/maps.js';
export { decodeProgram, encodeProgram, type BpfInsn, BpfDecodeError } from './jit/bpf/isa.js';
export { disasm as disasmBpf, disasmProgram as disasmBpfProgram } from './jit/bpf/disasm.js';
export { verifyProgram, VerifierError, type VerifierResult, type VerifyOptions } from './jit/bpf/verifier.js';
export { loadProgram, BpfInterpreter, runBpf } from './jit/bpf/interp.js';
export { jitCompile, runJit, JitProgram, type JitArch, type JitOptions, type JitRunResult } from './jit/bpf/jit.js';
export { BpfJitHost } from './jit/bpf/jit-host.js';
export { jitListing, formatJitListing, type JitListingEntry } from './jit/bpf/jit-listing.js';
export { kernelProfile, makeKernelProfile } from './jit/bpf/helpers-kernel.js';
export { conformanceProfile } from './jit/bpf/helpers-conformance.js';
export { type BpfProgram, type RunOptions, type RunResult, type HelperProfile, BpfMemoryFault, BpfBudgetExceeded, u64ToHex } from './jit/bpf/runtime.js';

// bcachefs: key formats, pack/unpack, nodes, generated unpackers
export {
  type BkeyFormat, BKEY_BYTES, BKEY_FORMAT_CURRENT, makeFormat, computeFormat, validateFormat, formatToJson, formatToString, BkeyFormatError,
} from './jit/bkey/format.js';
export { type Bkey, makeBkey, packKey, unpackKey, unpackGeneric, readBkey, writeBkey, BkeyPackError } from './jit/bkey/pack.js';
export { BtreeNode, type BtreeNodeOptions, type NodeKey } from './jit/bkey/node.js';
export { genExtents, genInodes, genDirents, formatForKeySet, type KeySet } from './jit/bkey/keys.js';
export { parseFormatJson, parseKeysJson } from './jit/bkey/json.js';
export { genX86Unpacker, type MachineUnpacker } from './codegen/bkey/x86_64.js';
export { genArm64Unpacker } from './codegen/bkey/arm64.js';
export { buildWasmUnpacker, type WasmUnpacker } from './codegen/bkey/wasm.js';
export { instantiateWasmUnpacker, WasmUnpackArena } from './jit/bkey/wasm-run.js';
export {
  NodePlacer, BkeyPlacementError, PLACEMENT_MODES, type PlacementMode, type PlacedNode, type PlacedArea, type NodePlacerOptions, type LookupTouches,
} from './jit/bkey/placement.js';
export { EmuUnpackRunner, type EmuUnpackOptions, type EmuUnpackResult } from './jit/bkey/emu-run.js';

// cache/TLB/cycle model (emulator/hierarchy): pass a MemoryHierarchy as CallOptions.observer.
export * as hierarchy from './emulator/hierarchy/index.js';

// experiments (jit/experiments, the code behind `jitbox bench unpack|colocate|pack` and `jitbox report`).
export * as experiments from './jit/experiments/index.js';
