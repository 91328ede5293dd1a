// Types for cachegrind.mjs (used by test/oracles/cachegrind.test.ts).
export interface NativeBuild {
  dir: string;
  exe: string;
  kernelAddr: number;
  kernelHex: string;
}
export interface CaseArgs {
  name: string;
  n: number;
  stride: number;
  reps: number;
  mode: number;
  dataOffset: number;
  I1: [number, number, number];
  D1: [number, number, number];
  LL: [number, number, number];
}
export function buildNative(): NativeBuild;
export function runValgrind(native: NativeBuild, c: CaseArgs): Record<'Ir' | 'I1mr' | 'ILmr' | 'Dr' | 'D1mr' | 'DLmr' | 'Dw' | 'D1mw' | 'DLmw', number>;
export function valgrindVersion(): string;
