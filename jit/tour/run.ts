// `jitbox tour`: the guided end-to-end run (issue 9). Runs the sections in order (BPF -> W^X ->
// bcachefs), each a real operation on the model, then a summary table and pointers to the deeper
// commands — only those the running program provides (TourFeatures, read from the commander
// program) — and whatever a section reports as not existing yet.
//
// Invariants: a section that throws is reported (its error record and message) and the tour goes
// on, so the command never crashes; the record is JSON-ready (hex strings for 64-bit values).

import { initCapstone } from '../../support/capstone.js';
import { bpfSection } from './bpf.js';
import { bkeySection } from './bkey.js';
import { wxSection } from './wx.js';
import { type ErrorRecord, type TourFeatures, type TourOptions, type TourSection, errorRecord } from './types.js';
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

interface Pointer {
  command: string;
  what: string;
  /** Shown only when the running program has this command path, option ("cmd --opt") or benchmark. */
  needs?: { command?: string; option?: string; bench?: string };
}

const POINTERS: Pointer[] = [
  { command: 'jitbox wx', what: 'every W^X lesson, demonstrated (docs/wx-lessons.md)', needs: { command: 'wx' } },
  { command: 'jitbox run examples/bpf/filter.o --section xdp --mem examples/bpf/inputs/tcp-80.bin --arch x86_64', what: 'run any BPF object (interp, x86_64 or arm64 JIT)' },
  { command: 'jitbox disasm examples/bpf/checksum.o --arch x86_64 --harden', what: 'the full JIT listing, BPF next to native' },
  { command: 'jitbox conformance <bpf_conformance tests dir> --arch x86_64', what: 'the bpf_conformance suite on an engine' },
  { command: 'jitbox execmem map --arch x86_64 --scenario bpf', what: 'the address space: ranges, packs, permissions' },
  { command: 'jitbox execmem map --arch x86_64 --module examples/modules/jitbox_demo.json', what: 'a module description loaded into module_memory', needs: { option: 'execmem map --module' } },
  { command: 'jitbox emu --arch x86_64 --hex "48 89 f8 c3" --args 42 --trace', what: 'run machine code placed ROX via execmem + text_poke' },
  { command: 'jitbox emu --help', what: '--model: run code under the cache/TLB model', needs: { option: 'emu --model' } },
  { command: 'jitbox unpack --from-keys examples/bkey/keys.json --arch x86_64 --show', what: 'a generated unpacker next to Capstone' },
  { command: 'jitbox bench unpack', what: 'unpacker throughput, ratios against a baseline', needs: { bench: 'unpack' } },
  { command: 'jitbox bench colocate --quick', what: 'unpacker placement (co-located, shared pack, own page, generic) under the cache/TLB model', needs: { bench: 'colocate' } },
  { command: 'jitbox bench pack --quick', what: 'bpf_prog_pack vs one page per program: flips, TLB and I-cache', needs: { bench: 'pack' } },
  { command: 'jitbox report --help', what: 'the measurement report', needs: { command: 'report' } },
  { command: 'jitbox --help', what: 'every command' },
];

function available(p: Pointer, f: TourFeatures): boolean {
  const n = p.needs;
  if (n === undefined) return true;
  return (n.command === undefined || f.commands.has(n.command)) && (n.option === undefined || f.options.has(n.option)) && (n.bench === undefined || f.benchmarks.includes(n.bench));
}

/** The command path of the first option `--tier` found, if any (the translation tier). */
function tierOption(f: TourFeatures): string | null {
  for (const o of f.options) if (o.endsWith(' --tier')) return o;
  return null;
}

/** A section's "still to come" item, unless the running program now provides it. */
function stillMissing(item: string, f: TourFeatures): boolean {
  if (/cache\/TLB|locality|placement-mode/i.test(item)) return !(f.options.has('emu --model') || f.benchmarks.includes('colocate'));
  if (/translation tier/i.test(item)) return tierOption(f) === null;
  return true;
}

function heading(title: string): string {
  return `\n== ${title} ${'='.repeat(Math.max(3, 76 - title.length))}`;
}

export async function runTour(opts: TourOptions, features: TourFeatures): Promise<TourResult> {
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
    for (const x of s.stillToCome ?? []) if (stillMissing(x, features) && !stillToCome.includes(x)) stillToCome.push(x);
  };

  const b = guard('bpf', '1. BPF: load, verify, JIT, place, run', () => bpfSection(opts));
  if (b) show(b.section);
  const w = guard('wx', '2. W^X: the fault, text_poke, the auditor, icache, trap fill', () => wxSection(opts, b?.x86 ?? null));
  if (w) show(w);
  const k = guard('bkey', '3. bcachefs: a node, its format, its compiled unpackers', () => bkeySection(opts));
  if (k) show(k);

  out.push(heading('4. Summary'));
  const width = Math.max(...summary.map((s) => s.section.length));
  for (const s of summary) out.push(`${s.section.padEnd(width)} | ${s.result}`);
  const deeper = POINTERS.filter((p) => available(p, features)).map((p) => ({ command: p.command, what: p.what }));
  const tier = tierOption(features);
  if (tier !== null) deeper.splice(deeper.length - 1, 0, { command: `jitbox ${tier} ...`, what: 'the same run on the emulator\'s translation tier' });
  out.push('', 'Go deeper:');
  const width2 = Math.max(...deeper.map((d) => d.what.length));
  for (const d of deeper) out.push(`  ${d.what.padEnd(width2)}  ${d.command}`);
  if (stillToCome.length > 0) {
    out.push('', 'Not in jitbox yet:');
    for (const s of stillToCome) out.push(`  - ${s}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  out.push('', `Tour finished in ${seconds.toFixed(1)} s${errors.length ? ` with ${errors.length} failed section(s)` : ''}.`);
  const record: TourRecord = {
    options: { arches: [...opts.arches], seed: opts.seed, quick: opts.quick },
    bpf: b?.section.record ?? null, wx: w?.record ?? null, bkey: k?.record ?? null,
    errors, summary, deeper, stillToCome, seconds,
  };
  return { record, text: out.join('\n') };
}
