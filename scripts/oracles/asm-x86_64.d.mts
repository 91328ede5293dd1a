// Types for asm-x86_64.mjs (used by test/oracles/asm-x86_64.test.ts).
export interface GoldenTriple {
  call: string;
  asm: string;
  bytes: string;
  llvm: string | null;
}
export function mcVersion(): string;
export function encodeLines(lines: string[]): { bytes: string; llvm: string }[];
export function encodeBlock(asm: string, dir: string): string;
export function generate(): { generator: string; oracle: string; cases: GoldenTriple[] };
