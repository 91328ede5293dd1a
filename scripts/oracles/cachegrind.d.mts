// Types for cachegrind.mjs (used by test/oracles/cachegrind.test.ts).
export interface NativeBuild {
  dir: string;
  exe: string;
  kernelAddr: number;
  kernelHex: string;
}
/** Cachegrind's per-function columns the agreement check compares. */
export type CgColumn = 'Ir' | 'I1mr' | 'ILmr' | 'Dr' | 'D1mr' | 'DLmr' | 'Dw' | 'D1mw' | 'DLmw';
export type CgCounts = Record<CgColumn, number>;
/** size, associativity, line size (Cachegrind's --I1/--D1/--LL triple). */
export type Geometry = [size: number, assoc: number, line: number];
export interface CaseArgs {
  name: string;
  n: number;
  stride: number;
  reps: number;
  mode: number;
  dataOffset: number;
  I1: Geometry;
  D1: Geometry;
  LL: Geometry;
}
export function buildNative(): NativeBuild;
export function runValgrind(native: NativeBuild, c: CaseArgs): CgCounts;
export function valgrindVersion(): string;
