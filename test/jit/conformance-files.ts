// The bpf_conformance suite as the JIT tests see it: its .data files (../shared/conformance) and
// one comparable outcome string per run, r0 or the error text, so an engine and the interpreter
// can be compared as strings.
import { readdirSync } from 'node:fs';

export const CONFORMANCE_DIR = new URL('../../../shared/conformance/', import.meta.url).pathname;
export const conformanceFiles: readonly string[] = readdirSync(CONFORMANCE_DIR).filter((f) => f.endsWith('.data')).sort();

export function outcome(f: () => { lo: number; hi: number }): string {
  try {
    const r = f();
    return `r0 ${(r.hi >>> 0).toString(16)}:${(r.lo >>> 0).toString(16)}`;
  } catch (e) {
    return `error ${(e as Error).message}`;
  }
}
