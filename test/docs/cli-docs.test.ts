// README.md's CLI block and docs/cli.md are generated from the commander program
// (scripts/gen-cli-docs.mjs); this fails when a command or option changed without regenerating
// them (`npm run docs:cli`). It also checks the generator against the program independently:
// every command path of the built program has its own section in docs/cli.md.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram } from '../../jit/cli.js';
import { ROOT } from './run-doc.js';

describe('generated CLI docs', () => {
  it('README.md and docs/cli.md match the program (npm run docs:cli regenerates them)', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'gen-cli-docs.mjs'), '--check'], { encoding: 'utf8', cwd: ROOT });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('docs/cli.md has a section, with that command\'s own usage line, for every command path', () => {
    const md = readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const paths: [string, Command][] = [];
    const walk = (c: Command, path: string): void => {
      for (const sub of c.commands) {
        if (sub.name() === 'help') continue;
        const p = path ? `${path} ${sub.name()}` : sub.name();
        paths.push([p, sub]);
        walk(sub, p);
      }
    };
    walk(buildProgram(), '');
    expect(paths.length).toBeGreaterThan(8);
    for (const [p, cmd] of paths) {
      expect(md).toContain(`\n## jitbox ${p}\n`);
      const usage = cmd.helpInformation().split('\n')[0] as string;
      expect(usage).toMatch(new RegExp(`^Usage: jitbox ${p}\\b`));
      expect(md).toContain(usage);
      expect(readme).toContain(`(docs/cli.md#jitbox-${p.replace(/ /g, '-')})`);
    }
  });
});
