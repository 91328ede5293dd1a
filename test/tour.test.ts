// `jitbox tour` through the built CLI (dist/jit/cli.js, built by `npm test` / `npm run build`):
// the --json record of a quick run is checked against independent facts (the gcc-recorded result
// of the example in examples/bpf/expected.json, the key set regenerated from the same seed), and a
// text run must show every section heading, the summary and pointers that name real commands.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../support/rng.js';
import { genExtents } from '../jit/bkey/keys.js';
import { readBkey } from '../jit/bkey/pack.js';
import { hexToBytes } from '../support/u64.js';
import type { TourRecord } from '../jit/tour/run.js';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'jit', 'cli.js');

function jitbox(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function bytes(hex: string): Uint8Array {
  const b = hexToBytes(hex.replace(/ /g, ''));
  if (!b) throw new Error(`bad hex ${hex}`);
  return b;
}

describe('jitbox tour --quick --json', () => {
  let rec: TourRecord;
  beforeAll(() => {
    const r = jitbox(['--json', 'tour', '--quick', '--seed', '3']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    rec = JSON.parse(r.stdout) as TourRecord;
  });

  it('ran every section without errors', () => {
    expect(rec.errors).toEqual([]);
    expect(rec.options).toEqual({ arches: ['x86_64', 'arm64'], seed: 3, quick: true });
    expect(rec.summary).toHaveLength(3);
  });

  it('BPF: the JIT result equals the interpreter and the natively compiled C', () => {
    const expected = JSON.parse(readFileSync(join(ROOT, 'examples', 'bpf', 'expected.json'), 'utf8')) as {
      checksum: { programs: { checksum: { runs: { input: string; r0: string }[] } } };
    };
    const run = expected.checksum.programs.checksum.runs.find((x) => x.input === 'inputs/tcp-80.bin');
    expect(run).toBeDefined();
    const bpf = rec.bpf;
    expect(bpf).not.toBeNull();
    if (!bpf || !run) return;
    expect(BigInt(bpf.interpreter.r0)).toBe(BigInt(run.r0));
    const x86 = bpf.jit.find((j) => j.arch === 'x86_64');
    expect(x86?.status).toBe('ok');
    expect(x86?.r0).toBe(bpf.interpreter.r0);
    expect(x86?.agreesWithInterpreter).toBe(true);
    expect(x86?.hardened).toBe(true);
    expect(BigInt(x86?.entry ?? 0)).toBe(BigInt(x86?.pack ?? -1) + BigInt(x86?.offsetInPack ?? -1));
    expect(BigInt(x86?.entry ?? 0)).toBe(BigInt(x86?.chunk ?? -1) + BigInt(x86?.offsetInChunk ?? -1));
    // bpf_jit_binary_pack_alloc: 8-byte header, then a random start offset below one chunk (64 B).
    expect(x86?.offsetInChunk).toBeGreaterThanOrEqual(8);
    expect(x86?.offsetInChunk).toBeLessThan(8 + 64);
    expect(x86?.listing?.length).toBeGreaterThan(0);
    const arm = bpf.jit.find((j) => j.arch === 'arm64');
    expect(arm).toBeDefined();
    if (arm?.status === 'ok') expect(arm.r0).toBe(bpf.interpreter.r0);
    else expect(arm?.status).toBe('still to come');
  });

  it('W^X: the direct write faults on an r-x page, text_poke works, no W+X, freed code traps', () => {
    const x = rec.wx?.x86;
    expect(x).toBeTruthy();
    if (!x) return;
    expect(x.pagePerm).toBe('r-x');
    expect(x.directWrite.faulted).toBe(true);
    expect(x.directWrite.error?.name).toBe('PageFault');
    expect(x.directWrite.error?.message).toContain('r-x');
    expect(x.directWrite.error?.details?.access).toBe('write');
    expect(x.directWrite.stateUnchanged).toBe(true);
    expect(x.poke.returned).toBe(x.poke.expected);
    expect(x.poke.auditRecord).toEqual([{ addr: x.poke.address, len: 6, via: 'text_poke', op: 'text_poke_copy' }]);
    expect(x.audit.ok).toBe(true);
    expect(x.audit.wxPages).toBe(0);
    expect(x.audit.violations).toBe(0);
    expect(x.audit.pokes).toBeGreaterThanOrEqual(2);
    expect(x.free.trapFilled).toBe(true);
    expect(x.free.callAfterFree?.name).toBe('GuestTrap');
    expect(x.free.callAfterFree?.details?.trap).toBe('int3');
  });

  it('W^X on arm64: a raw write without flush is a stale fetch, the flush fixes it, freed code traps', () => {
    const a = rec.wx?.arm64;
    expect(a).toBeTruthy();
    if (!a) return;
    expect(a.staleFetch?.name).toBe('StaleIcacheFault');
    expect(a.afterFlush?.returned).toBe(a.afterFlush?.expected);
    expect(a.packRun).toBe(a.afterFlush?.expected);
    expect(a.directWrite?.name).toBe('PageFault');
    expect(a.directWrite?.message).toContain('(page r-x)');
    expect(a.audit.ok).toBe(true);
    expect(a.audit.wxPages).toBe(0);
    expect(a.audit.rawInsnWrites).toBe(1);
    expect(a.freedTrapFilled).toBe(true);
    expect(a.freedWords).toBe('00 20 20 d4 00 20 20 d4');
    expect(a.callAfterFree?.name).toBe('GuestTrap');
    expect(a.callAfterFree?.details?.trap).toBe('brk');
  });

  it('bcachefs: every key unpacked by the placed x86 code equals the generic unpack and the original key', () => {
    const b = rec.bkey;
    expect(b).toBeTruthy();
    if (!b) return;
    const ks = genExtents(new Rng(3), 256);
    expect(b.keys).toBe(ks.keys.length);
    expect(b.placements.map((p) => p.mode)).toEqual(['co-located aux (ROX)', 'shared pack']);
    for (const p of b.placements) {
      expect(p.pagePerm).toBe('r-x');
      expect(p.keys.length).toBeGreaterThan(0);
      expect(p.allEqual).toBe(true);
      for (const k of p.keys) {
        expect(k.native).toBe(k.generic);
        const got = readBkey(bytes(k.native), 0);
        expect(got.fields).toEqual(ks.keys[k.index]?.fields);
      }
      expect(p.counters.insns).toBeGreaterThan(0);
      expect(p.counters.stores).toBeGreaterThan(0);
    }
    const colo = b.placements[0];
    expect(BigInt(colo?.tablesAt ?? 0) - BigInt(colo?.entry ?? 0)).toBe(BigInt(Math.ceil(b.sizes.x86_64 / 64) * 64));
    expect(b.x86Listing.at(-1)?.text).toBe('ret');
    expect(b.throughput.wasmKeysPerSec).toBeGreaterThan(0);
    expect(b.throughput.genericKeysPerSec).toBeGreaterThan(0);
    // locality under the model: every placement mode at 1 node and at many, derived conclusions
    const loc = b.locality;
    expect(loc.rows.map((r) => `${r.mode}@${r.nodes}`).sort()).toEqual(
      ['colocated', 'shared-pack', 'own-page', 'generic'].flatMap((m) => loc.nodes.map((n) => `${m}@${n}`)).sort(),
    );
    const at = (mode: string, n: number) => loc.rows.find((r) => r.mode === mode && r.nodes === n)!;
    const many = Math.max(...loc.nodes);
    // one node: everything warm after the first lookups, far cheaper than many nodes
    for (const m of ['colocated', 'shared-pack', 'own-page', 'generic']) expect(at(m, 1).cycles).toBeLessThan(at(m, many).cycles);
    // the generic unpacker runs more instructions than compiled code on the same lookups
    expect(at('generic', 1).cycles).toBeGreaterThan(at('colocated', 1).cycles);
    // co-located code shares the tables' page: fewer dTLB misses than code kept apart
    expect(at('colocated', many).dtlbMisses).toBeLessThan(at('own-page', many).dtlbMisses);
    expect(loc.conclusions.some((c) => c.includes(`at N=${many}`))).toBe(true);
  });

  it('points only at commands the program has, and lists nothing as missing that exists', () => {
    const help = jitbox(['--help']).stdout;
    const commands = new Set([...help.matchAll(/^ {2}([a-z][a-z0-9-]*) /gm)].map((m) => m[1]));
    expect(commands.has('tour')).toBe(true);
    expect(rec.deeper.length).toBeGreaterThan(3);
    for (const d of rec.deeper) {
      const words = d.command.split(' ');
      expect(words[0]).toBe('jitbox');
      if (words[1]?.startsWith('--')) continue;
      expect(commands.has(words[1] as string), d.command).toBe(true);
    }
    expect(rec.deeper.some((d) => d.command === 'jitbox wx')).toBe(true);
    if (/run a benchmark: .*colocate/.test(help)) {
      expect(rec.deeper.some((d) => d.command.startsWith('jitbox bench colocate'))).toBe(true);
      expect(rec.stillToCome.some((s) => /cache\/TLB/.test(s))).toBe(false);
    }
  });
});

describe('jitbox tour (text)', () => {
  it('prints every section heading, the summary and the deeper commands', () => {
    const r = jitbox(['tour', '--quick', '--arch', 'x86_64']);
    expect(r.status).toBe(0);
    for (const h of ['== 1. BPF', '== 2. W^X', '== 3. bcachefs', '== 4. Summary', 'Go deeper:']) expect(r.stdout).toContain(h);
    expect(r.stdout).toMatch(/image at 0x[0-9a-f]+ = chunk \+ \d+ \(8-byte header \+ random start offset\)/);
    expect(r.stdout).toContain('agree');
    expect(r.stdout).toMatch(/PageFault: page fault: write of 0x[0-9a-f]+ \(page r-x\)/);
    expect(r.stdout).not.toContain('FAILED');
    expect(r.stdout).not.toContain('arm64 (a separate address space)');
  });

  it('rejects a bad --arch with one clear line and a non-zero exit', () => {
    const r = jitbox(['tour', '--arch', 'sparc']);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim()).toBe('jitbox: --arch must be x86_64, arm64 or both, got "sparc"');
    expect(r.stdout).toBe('');
  });
});
