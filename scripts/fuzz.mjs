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
// A fuzzer is a module in dist/jit/fuzz/ exporting `fuzz(count, seed)`; other modules there are
// helpers (e.g. emu-x86-cases.js) and are not listed.
const modules = existsSync('dist/jit/fuzz') ? readdirSync('dist/jit/fuzz').filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)).sort() : [];
const loaded = new Map();
for (const m of modules) {
  try {
    loaded.set(m, await import(pathToFileURL(`dist/jit/fuzz/${m}.js`).href));
  } catch (e) {
    if (m === name) {
      console.error(`fuzz: cannot load dist/jit/fuzz/${m}.js: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(2);
    }
  }
}
const available = [...loaded].filter(([, mod]) => typeof mod.fuzz === 'function').map(([m]) => m);
const usage = `usage: npm run fuzz -- NAME [COUNT] [SEED]   (NAME: ${available.join(', ')})`;
if (!name) {
  console.error(usage);
  process.exit(2);
}
if (!available.includes(name)) {
  const why = loaded.has(name)
    ? `"${name}" (dist/jit/fuzz/${name}.js) is a helper module, not a fuzzer: it has no \`fuzz(count, seed)\` export`
    : `no fuzzer named "${name}"`;
  console.error(`fuzz: ${why}\n${usage}`);
  process.exit(2);
}
const count = countText ? Number(countText) : undefined;
const seed = seedText ? Number(seedText) : 1;
const mod = loaded.get(name);
const t0 = performance.now();
const summary = await mod.fuzz(count, seed);
console.log(`${summary} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
