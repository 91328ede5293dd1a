// README.md stays true: the tour excerpt between <!-- tour:begin --> and <!-- tour:end --> has the
// shape of a live `jitbox tour --quick --arch x86_64` (each excerpt line, with its numbers and hex
// values as wildcards, matches a line of the real output in order), and every relative link in the
// README points at a file that exists.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, jitbox } from './run-doc.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

function shape(line: string): RegExp {
  const parts = line.trimEnd().split(/(0x[0-9a-f]+|\b[0-9a-f]{2}(?: [0-9a-f]{2})+\b|\d+)/);
  const re = parts.map((p, i) => (i % 2 === 1 ? '(?:0x[0-9a-f]+|[0-9a-f]{2}(?: [0-9a-f]{2})*|\\d+)' : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ +/g, ' +'))).join('');
  return new RegExp(`^${re}$`);
}

describe('README.md', () => {
  it('the tour excerpt has the shape of a live run', () => {
    const m = /<!-- tour:begin -->\n```text\n([\s\S]*?)\n```\n<!-- tour:end -->/.exec(README);
    expect(m).not.toBeNull();
    const excerpt = (m?.[1] ?? '').split('\n').filter((l) => l.trim() !== '');
    expect(excerpt.length).toBeGreaterThan(10);
    const r = jitbox(['tour', '--quick', '--arch', 'x86_64']);
    expect(r.status).toBe(0);
    const out = r.stdout.split('\n').map((l) => l.trimEnd());
    let at = 0;
    for (const line of excerpt) {
      const re = shape(line);
      const found = out.findIndex((l, i) => i >= at && re.test(l));
      expect(found, `README tour line not in the live output (in order): ${line}`).toBeGreaterThanOrEqual(0);
      at = found + 1;
    }
  });

  it('relative links point at existing files', () => {
    const links = [...README.matchAll(/\]\(([^)#]+)(?:#[^)]*)?\)/g)].map((x) => x[1] as string).filter((l) => !/^[a-z]+:/.test(l));
    expect(links.length).toBeGreaterThan(3);
    for (const l of links) expect(existsSync(join(ROOT, l)), l).toBe(true);
  });
});
