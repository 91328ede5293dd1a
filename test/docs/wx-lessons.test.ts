// docs/wx-lessons.md is executable: every `sh` block's commands run through the built CLI and their
// output must show the lesson (the markers under the block); every lesson of the issue's list has
// a section with at least one command and one marker; `jitbox wx --json` agrees that each holds.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, docBlocks, jitbox, jitboxAsync } from './run-doc.js';

const PAGE = readFileSync(join(ROOT, 'docs', 'wx-lessons.md'), 'utf8');
const BLOCKS = docBlocks(PAGE);

const REQUIRED = [
  'Never W+X', 'Born ROX', 'One narrow write path', 'Write through a private alias', 'Verify after the copy',
  'Trap fill and invalidate on free', 'Random start offset', 'Constant blinding', 'Landing pads',
  'arm64 instruction-cache maintenance', 'Keep a no-JIT fallback',
];

describe('docs/wx-lessons.md', () => {
  it('has a section with a command and a marker for every lesson of the checklist', () => {
    for (const title of REQUIRED) {
      const blocks = BLOCKS.filter((b) => b.section.replace(/^\d+\.\s*/, '') === title);
      expect(blocks.length, title).toBeGreaterThan(0);
      for (const b of blocks) {
        expect(b.commands.length, title).toBeGreaterThan(0);
        expect(b.expects.length + b.expectRes.length, title).toBeGreaterThan(0);
      }
    }
  });

  for (const [i, b] of BLOCKS.entries()) {
    it.concurrent(`block ${i + 1} (${b.section}): ${b.commands.map((c) => `jitbox ${c.join(' ')}`).join(' && ')}`, async ({ expect }) => {
      let out = '';
      for (const args of b.commands) {
        const r = await jitboxAsync(args);
        expect(r.status, `${args.join(' ')}\n${r.stderr}`).toBe(b.exit);
        if (b.exit === 0) expect(r.stderr).toBe('');
        out += r.stdout + r.stderr;
      }
      out = out.trimEnd();
      for (const e of b.expects) expect(out, e).toContain(e);
      for (const re of b.expectRes) expect(out, String(re)).toMatch(re);
    });
  }

  it('jitbox wx --json: one object, every lesson holds, the text markers come from real records', () => {
    const r = jitbox(['--json', 'wx', '--seed', '5']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const j = JSON.parse(r.stdout) as { failed: string[]; lessons: ({ id: string; holds: boolean } & Record<string, unknown>)[] };
    expect(j.failed).toEqual([]);
    expect(j.lessons.map((l) => l.id)).toEqual([
      'never-wx', 'born-rox', 'narrow-write', 'private-alias', 'verify-after-copy', 'trap-fill', 'random-offset', 'constant-blinding', 'landing-pads', 'icache', 'no-jit',
    ]);
    for (const l of j.lessons) expect(l.holds, l.id).toBe(true);
    const never = j.lessons.find((l) => l.id === 'never-wx') as unknown as { setMemoryX: { error: { name: string; details: { page: string } } | null; unchanged: boolean } };
    expect(never.setMemoryX.error?.name).toBe('WxViolationError');
    expect(never.setMemoryX.unchanged).toBe(true);
    const blind = j.lessons.find((l) => l.id === 'constant-blinding') as unknown as { interpreterR0: string; runs: { harden: boolean; constantsInImage: string[]; r0: string }[] };
    // 0x5eed1234 + 0x0badf00d, ^ 0x13572468, & 0x7fffffff, computed here independently.
    const want = (((0x5eed1234 + 0x0badf00d) ^ 0x13572468) & 0x7fffffff) >>> 0;
    expect(BigInt(blind.interpreterR0)).toBe(BigInt(want));
    expect(blind.runs.map((x) => x.constantsInImage.length)).toEqual([4, 0]);
    for (const x of blind.runs) expect(x.r0).toBe(blind.interpreterR0);
  });

  it('rejects an unknown lesson with one line and exit 1', () => {
    const r = jitbox(['wx', 'no-such-lesson']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^jitbox: unknown lesson "no-such-lesson" \(available: never-wx, /);
  });
});
