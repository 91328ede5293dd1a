#!/usr/bin/env node
// Records examples/bpf/expected.json: compiles each example's C natively with gcc (-DNATIVE, the
// native_maps.h helper models and native_main.h harness), runs every program on its committed
// inputs (a fresh process, so fresh maps, per run) and stores the returned 64-bit value as r0 and
// what bpf_trace_printk printed (to stderr natively) as trace.
// Usage: node examples/bpf/record-expected.mjs [--check]  (--check compares instead of writing).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** object -> { cpu, programs: { name: { section, inputs } } } */
export const EXAMPLES = {
  checksum: { cpu: 'v3', programs: {
    checksum: { section: 'socket', inputs: ['empty.bin', 'ipv4-header.bin', 'random-101.bin', 'random-256.bin', 'tcp-80.bin'] },
    header_checksum: { section: 'socket/header', inputs: ['ipv4-header.bin', 'random-101.bin', 'empty.bin'] },
    byte_sum: { section: 'socket', inputs: ['random-256.bin', 'text.bin'] } } },
  filter: { cpu: 'v3', programs: {
    filter: { section: 'xdp', inputs: ['tcp-80.bin', 'tcp-443.bin', 'tcp-22-options.bin', 'udp-53.bin', 'arp.bin', 'tcp-truncated.bin', 'empty.bin', 'random-101.bin'] },
    tcp_dport: { section: 'tc', inputs: ['tcp-80.bin', 'tcp-22-options.bin', 'udp-53.bin', 'tcp-truncated.bin'] } } },
  count_btf: { cpu: 'v3', programs: {
    count_nibbles: { section: 'socket', inputs: ['text.bin', 'random-256.bin', 'empty.bin', 'tcp-80.bin'] } } },
  count_legacy: { cpu: 'v3', programs: {
    histogram_sum: { section: 'socket', inputs: ['text.bin', 'random-256.bin', 'empty.bin'] } } },
  loop: { cpu: 'v3', programs: {
    sum_popcount: { section: 'socket', inputs: ['random-256.bin', 'random-101.bin', 'text.bin', 'empty.bin'] } } },
  signed_v4: { cpu: 'v4', programs: {
    signed_mix: { section: 'socket', inputs: ['signed-pairs.bin', 'random-256.bin', 'random-101.bin', 'empty.bin'] } } },
};

export function runNative(cc = 'gcc') {
  const work = mkdtempSync(join(tmpdir(), 'jitbox-bpf-native-'));
  const out = {};
  try {
    for (const [obj, ex] of Object.entries(EXAMPLES)) {
      const exe = join(work, obj);
      const c = spawnSync(cc, ['-O2', '-DNATIVE', '-w', '-o', exe, join(here, `${obj}.c`)], { encoding: 'utf8' });
      if (c.status !== 0) throw new Error(`${cc} failed on ${obj}.c:\n${c.stderr}`);
      const programs = {};
      for (const [name, p] of Object.entries(ex.programs)) {
        const runs = [];
        for (const input of p.inputs) {
          const r = spawnSync(exe, [name, join(here, 'inputs', input)], { encoding: 'utf8' });
          if (r.status !== 0) throw new Error(`${obj} ${name} ${input}: exit ${r.status}\n${r.stderr}`);
          runs.push(r.stderr ? { input: `inputs/${input}`, r0: r.stdout.trim(), trace: r.stderr } : { input: `inputs/${input}`, r0: r.stdout.trim() });
        }
        programs[name] = { section: p.section, runs };
      }
      out[obj] = { object: `${obj}.o`, source: `${obj}.c`, cpu: ex.cpu, programs };
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = JSON.stringify(runNative(process.env.CC ?? 'gcc'), null, 2) + '\n';
  const file = join(here, 'expected.json');
  if (process.argv.includes('--check')) {
    if (readFileSync(file, 'utf8') !== text) { console.error('expected.json differs from a fresh gcc run'); process.exit(1); }
    console.log('expected.json matches gcc');
  } else {
    writeFileSync(file, text);
    console.log(`wrote ${file}`);
  }
}
