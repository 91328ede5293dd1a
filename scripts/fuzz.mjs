#!/usr/bin/env node
// `npm run fuzz -- NAME [COUNT] [SEED]`: runs jit/fuzz/NAME.ts (built into dist/) for COUNT cases.
// Each fuzzer throws on a finding (with the seed and case that reproduce it) and otherwise returns
// a one-line summary.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [name, countText, seedText] = process.argv.slice(2);
const b = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (b.status !== 0) process.exit(b.status ?? 1);
const available = existsSync('dist/jit/fuzz') ? readdirSync('dist/jit/fuzz').filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)) : [];
if (!name || !available.includes(name)) {
  console.error(`usage: npm run fuzz -- NAME [COUNT] [SEED]   (NAME: ${available.join(', ')})`);
  process.exit(2);
}
const count = countText ? Number(countText) : undefined;
const seed = seedText ? Number(seedText) : 1;
const mod = await import(pathToFileURL(`dist/jit/fuzz/${name}.js`).href);
const t0 = performance.now();
const summary = await mod.fuzz(count, seed);
console.log(`${summary} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
