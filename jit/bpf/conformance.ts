// Reader for bpf_conformance `.data` test files (bpf_conformance lib/src/bpf_test_parser.cc) and the
// runner that checks one against an engine.
//
// Format (reference/bpf.md §3.1): `#` lines are comments; CR is removed; a line containing `--` picks
// a section by substring: `asm`, `result`, `mem`, `raw`, `error`; `no register offset` and ` c` are
// ignored sections; any other directive skips the whole file. `-- raw` holds one 64-bit word per
// token (hex `0x...` or decimal) and replaces the assembled asm. `-- mem` holds whitespace-separated
// hex bytes. `-- result` is the last non-empty line (0x = hex, else decimal), compared as u64 with r0.
// `-- error` is the last non-empty line: the test passes iff the run fails and the message (right-trimmed)
// equals it. With neither result nor error the test is skipped.
// Invariant: malformed input is a ConformanceFormatError naming file and line, never a host error.

import { ParseError } from '../../support/errors.js';
import { type U64, bigIntToPair, hex64Short } from '../../support/u64.js';
import { assemble } from './asm.js';

export class ConformanceFormatError extends ParseError {
  constructor(file: string, line: number, reason: string) {
    super(`${file}:${line}: ${reason}`, { file, line, reason });
  }
}

export type Expectation = { kind: 'result'; r0: U64 } | { kind: 'error'; message: string };

export interface ConformanceTest {
  name: string;
  file: string;
  asm: string | null;
  /** Program bytes: the `-- raw` words if present, else the assembled `-- asm`. */
  program: Uint8Array;
  mem: Uint8Array;
  expect: Expectation | null;
  /** Set when the file must be skipped (unknown directive, nothing to compare). */
  skip: string | null;
}

type Section = 'asm' | 'result' | 'mem' | 'raw' | 'error' | 'ignored';

function sectionOf(line: string): Section | null {
  if (line.includes('asm')) return 'asm';
  if (line.includes('result')) return 'result';
  if (line.includes('mem')) return 'mem';
  if (line.includes('raw')) return 'raw';
  if (line.includes('error')) return 'error';
  if (line.includes('no register offset') || line.includes(' c')) return 'ignored';
  return null;
}

/** Parse one `.data` file. `file` is used in messages; `name` defaults to its basename sans `.data`. */
export function parseConformance(text: string, file: string, name?: string): ConformanceTest {
  const base = name ?? (file.split(/[\\/]/).pop() ?? file).replace(/\.data$/, '');
  const buf: Record<Section, { line: number; text: string }[]> = { asm: [], result: [], mem: [], raw: [], error: [], ignored: [] };
  const seen = new Set<Section>();
  let cur: Section | null = null;
  let skip: string | null = null;
  const lines = text.replace(/\r/g, '').split('\n');
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k] as string;
    if (line.startsWith('#')) continue;
    if (line.includes('--')) {
      const s = sectionOf(line);
      if (s === null) {
        skip = `unsupported directive "${line.trim()}"`;
        break;
      }
      cur = s;
      seen.add(s);
      continue;
    }
    if (cur === null) {
      if (line.trim() !== '') throw new ConformanceFormatError(file, k + 1, `text outside any section: "${line.trim()}"`);
      continue;
    }
    buf[cur].push({ line: k + 1, text: line });
  }
  let program: Uint8Array = new Uint8Array(0);
  const asmText = seen.has('asm') ? buf.asm.map((l) => l.text).join('\n') : null;
  if (skip === null && seen.has('raw')) program = parseRaw(file, buf.raw);
  else if (skip === null && asmText !== null) {
    try {
      program = assemble(asmText);
    } catch (e) {
      const inner = e instanceof ParseError ? e : null;
      const at = inner && typeof inner.details.line === 'number' ? buf.asm[inner.details.line - 1] : buf.asm[0];
      const line = at?.line ?? 0;
      throw new ConformanceFormatError(file, line, inner ? String(inner.details.reason ?? inner.message) + `: "${String(inner.details.text ?? '')}"` : String(e));
    }
  } else if (skip === null) skip = 'no -- asm or -- raw section';
  const mem = seen.has('mem') ? parseMem(file, buf.mem) : new Uint8Array(0);
  let expect: Expectation | null = null;
  if (seen.has('result')) {
    const last = [...buf.result].reverse().find((l) => l.text.trim() !== '');
    if (!last) throw new ConformanceFormatError(file, lines.length, 'empty -- result section');
    const t = last.text.trim();
    const v = /^0x[0-9a-fA-F]{1,16}$/i.test(t) ? BigInt(t) : /^-?[0-9]+$/.test(t) ? BigInt(t) : null;
    if (v === null || v > 0xffffffffffffffffn || v < -0x8000000000000000n) throw new ConformanceFormatError(file, last.line, `bad result "${t}"`);
    expect = { kind: 'result', r0: bigIntToPair(v) };
  } else if (seen.has('error')) {
    const last = [...buf.error].reverse().find((l) => l.text.trim() !== '');
    expect = { kind: 'error', message: last ? last.text.trimEnd() : '' };
  }
  if (skip === null && expect === null) skip = 'neither -- result nor -- error';
  return { name: base, file, asm: asmText, program, mem, expect, skip };
}

function parseRaw(file: string, lines: { line: number; text: string }[]): Uint8Array {
  const words: bigint[] = [];
  for (const l of lines) {
    for (const tok of l.text.split(/\s+/).filter((t) => t !== '')) {
      const v = /^0x[0-9a-fA-F]{1,16}$/i.test(tok) ? BigInt(tok) : /^[0-9]+$/.test(tok) ? BigInt(tok) : null;
      if (v === null || v > 0xffffffffffffffffn) throw new ConformanceFormatError(file, l.line, `bad raw word "${tok}"`);
      words.push(v);
    }
  }
  const out = new Uint8Array(words.length * 8);
  const dv = new DataView(out.buffer);
  words.forEach((w, k) => dv.setBigUint64(k * 8, w, true));
  return out;
}

function parseMem(file: string, lines: { line: number; text: string }[]): Uint8Array {
  const bytes: number[] = [];
  for (const l of lines) {
    for (const tok of l.text.split(/\s+/).filter((t) => t !== '')) {
      if (!/^[0-9a-fA-F]{2}$/.test(tok)) throw new ConformanceFormatError(file, l.line, `bad memory byte "${tok}"`);
      bytes.push(parseInt(tok, 16));
    }
  }
  return Uint8Array.from(bytes);
}

// ---- Running --------------------------------------------------------------------------------------

export interface ConformanceOutcome {
  name: string;
  file: string;
  status: 'pass' | 'fail' | 'skip';
  expected: string | null;
  actual: string | null;
  reason?: string;
}

/** Runs a program on some engine: returns r0 or throws (a JitboxError message is the "error output"). */
export type ConformanceEngine = (program: Uint8Array, mem: Uint8Array) => U64;

export function runConformanceTest(t: ConformanceTest, engine: ConformanceEngine): ConformanceOutcome {
  const base = { name: t.name, file: t.file };
  if (t.skip !== null || t.expect === null) return { ...base, status: 'skip', expected: null, actual: null, reason: t.skip ?? 'no expectation' };
  const exp = t.expect;
  const expected = exp.kind === 'result' ? hex64Short(exp.r0.lo, exp.r0.hi) : `error: ${exp.message}`;
  let r0: U64;
  try {
    r0 = engine(t.program, t.mem);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (exp.kind === 'error' && msg.trimEnd() === exp.message) return { ...base, status: 'pass', expected, actual: `error: ${msg}` };
    return { ...base, status: 'fail', expected, actual: `error: ${msg}` };
  }
  const actual = hex64Short(r0.lo, r0.hi);
  const ok = exp.kind === 'result' && r0.lo >>> 0 === exp.r0.lo >>> 0 && r0.hi >>> 0 === exp.r0.hi >>> 0;
  return { ...base, status: ok ? 'pass' : 'fail', expected, actual };
}
