// The execmem layer's public surface: the address space and everything built on it.
export * from './types.js';
export * from './config.js';
export * from './errors.js';
export { AddressSpace, type Pte, type PermRun, type SpaceStats, type KernelSymbol, type SetMemoryOp, type MapRequest } from './space.js';
export { type ExecmemAllocation, type AllocOptions } from './execmem.js';
export { RoxCache, type Interval, type CacheAreaReport } from './rox-cache.js';
export * from './pack.js';
export * from './module.js';
export { type PokeOptions } from './poke.js';
export { type AuditReport, type AuditViolation, type AuditCounters, type WriteVia } from './audit.js';
export { type VmArea, type AreaKind } from './vmap.js';
export { describeSpace, formatSpaceReport, type SpaceReport } from './report.js';
