// The cache / TLB / cycle model (issue 8): configuration and overrides, the two presets with the
// source status of their values, and MemoryHierarchy, the AccessObserver to pass as
// CallOptions.observer.

export * from './config.js';
export * from './presets.js';
export { type HierarchyStats, type LevelStats, MemoryHierarchy } from './model.js';
export { CacheLevel, LruArray } from './cache.js';
export { SharedTlb, TlbLevel } from './tlb.js';
export { describeConfig, formatStats, hierarchyConfigFor, parseSetList, statsJson } from './report.js';
