#!/usr/bin/env node
// `npm run bench -- NAME [options]` = `jitbox bench NAME [options]` on the built dist/.
// (For pure JSON output use `npm run -s bench -- NAME --json`; npm itself prints a banner otherwise.)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (!existsSync('dist/jit/cli.js')) {
  const b = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
const r = spawnSync(process.execPath, ['dist/jit/cli.js', 'bench', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
