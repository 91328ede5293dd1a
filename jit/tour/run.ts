// `jitbox tour`: the guided end-to-end run (issue 9). Runs the sections in order (BPF -> W^X ->
// bcachefs), each a real operation on the model, then a summary table, pointers to the deeper
// commands and the list of what does not exist yet.
//
// Invariants: a section that throws is reported (its error record and message) and the tour goes
// on, so the command never crashes; the record is JSON-ready (hex strings for 64-bit values).

import { initCapstone } from '../../support/capstone.js';
import { bpfSection } from './bpf.js';
import { bkeySection } from './bkey.js';
import { wxSection } from './wx.js';
import { type ErrorRecord, type TourOptions, type TourSection, errorRecord } from './types.js';
import type { BpfRecord } from './bpf.js';
import type { WxRecord } from './wx.js';
import type { BkeyRecord } from './bkey.js';

export interface TourRecord {
  options: { arches: string[]; seed: number; quick: boolean };
  bpf: BpfRecord | null;
  wx: WxRecord | null;
  bkey: BkeyRecord | null;
  errors: { section: string; error: ErrorRecord }[];
  summary: { section: string; result: string }[];
  deeper: { command: string; what: string }[];
  stillToCome: string[];
  seconds: number;
}

export interface TourResult {
  record: TourRecord;
  text: string;
}

const DEEPER: { command: string; what: string }[] = [
  { command: 'jitbox run examples/bpf/filter.o --section xdp --mem examples/bpf/inputs/tcp-80.bin --arch x86_64', what: 'run any BPF object (interp, x86_64 or arm64 JIT)' },
  { command: 'jitbox conformance <bpf_conformance tests dir> --arch x86_64', what: 'the bpf_conformance suite on an engine' },
  { command: 'jitbox disasm examples/bpf/checksum.o --arch x86_64 --harden', what: 'the full JIT listing, BPF next to native' },
  { command: 'jitbox emu --arch x86_64 --hex "48 89 f8 c3" --args 42 --trace', what: 'run machine code placed ROX via execmem + text_poke' },
  { command: 'jitbox execmem map --arch x86_64 --scenario bpf', what: 'the address space: ranges, packs, permissions' },
  { command: 'jitbox unpack --from-keys examples/bkey/keys.json --arch x86_64 --show', what: 'a generated unpacker next to Capstone' },
  { command: 'jitbox listing --arch arm64 --hex "e0 03 01 aa c0 03 5f d6"', what: 'disassemble any code image' },
  { command: 'jitbox bench unpack', what: 'unpacker throughput, ratios against a baseline' },
];

const STILL_TO_COME_ALWAYS = [
  'cache/TLB model and the locality experiments (issue 8)',
  'the emulator translation tier (issue 10)',
  'placement-mode experiments (co-located vs shared pack vs separate, measured with the cache/TLB model)',
];

function heading(title: string): string {
  return `\n== ${title} ${'='.repeat(Math.max(3, 76 - title.length))}`;
}

export async function runTour(opts: TourOptions): Promise<TourResult> {
  const t0 = performance.now();
  await initCapstone();
  const out: string[] = [
    'jitbox tour: every figure below is computed now, on the model, with seed ' + opts.seed + (opts.quick ? ' (quick)' : '') + '.',
    `Architectures: ${opts.arches.join(', ')}.`,
  ];
  const errors: TourRecord['errors'] = [];
  const summary: TourRecord['summary'] = [];
  const stillToCome: string[] = [];
  const sections: TourSection<unknown>[] = [];

  const guard = <T>(name: string, title: string, fn: () => T): T | null => {
    try {
      return fn();
    } catch (e) {
      const er = errorRecord(e);
      errors.push({ section: name, error: er });
      out.push(heading(title), `FAILED: ${er.name}: ${er.message}`);
      summary.push({ section: title, result: `failed: ${er.message}` });
      return null;
    }
  };
  const show = (s: TourSection<unknown>): void => {
    sections.push(s);
    out.push(heading(s.title), ...s.lines);
    summary.push({ section: s.title, result: s.summary });
    for (const x of s.stillToCome) if (!stillToCome.includes(x)) stillToCome.push(x);
  };

  const b = guard('bpf', '1. BPF: load, verify, JIT, place, run', () => bpfSection(opts));
  if (b) show(b.section);
  const w = guard('wx', '2. W^X: the fault, text_poke, the auditor, icache, trap fill', () => wxSection(opts, b?.x86 ?? null));
  if (w) show(w);
  const k = guard('bkey', '3. bcachefs: a node, its format, its compiled unpackers', () => bkeySection(opts));
  if (k) show(k);
  for (const x of STILL_TO_COME_ALWAYS) if (!stillToCome.some((s) => s.startsWith(x.slice(0, 14)))) stillToCome.push(x);

  out.push(heading('4. Summary'));
  const width = Math.max(...summary.map((s) => s.section.length));
  for (const s of summary) out.push(`${s.section.padEnd(width)} | ${s.result}`);
  out.push('', 'Go deeper:');
  const width2 = Math.max(...DEEPER.map((d) => d.command.length)) + 2;
  for (const d of DEEPER) out.push(`  ${d.command.padEnd(width2)} ${d.what}`);
  out.push('', 'Still to come:');
  for (const s of stillToCome) out.push(`  - ${s}`);
  const seconds = (performance.now() - t0) / 1000;
  out.push('', `Tour finished in ${seconds.toFixed(1)} s${errors.length ? ` with ${errors.length} failed section(s)` : ''}.`);
  const record: TourRecord = {
    options: { arches: [...opts.arches], seed: opts.seed, quick: opts.quick },
    bpf: b?.section.record ?? null, wx: w?.record ?? null, bkey: k?.record ?? null,
    errors, summary, deeper: DEEPER, stillToCome, seconds,
  };
  return { record, text: out.join('\n') };
}
