#!/usr/bin/env node
// `npm test`: build dist/ (the CLI tests run the built command), run vitest, and end with the plain
// line `N passed, N failed` that CI reads. `npm run test:oracles` runs test/oracles/** instead:
// live checks against llvm-mc, clang-19, qemu-aarch64, Unicorn, cc and valgrind (they fail, not
// skip, under CI=true when a tool is missing). `npm run test:translate` runs every suite that executes
// guest code with the emulator's translation tier forced on (JITBOX_TIER=translate), every region
// checked by binaryen's validator and translator errors raised instead of falling back
// (JITBOX_TRANSLATE_VALIDATE=1). Extra arguments go to vitest.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, existsSync } from 'node:fs';

const args = process.argv.slice(2);
const oracles = args.includes('--oracles');
const translate = args.includes('--translate');
const rest = args.filter((a) => a !== '--oracles' && a !== '--translate');
const resultsFile = oracles ? '.vitest-oracles.json' : translate ? '.vitest-translate.json' : '.vitest-results.json';
/** Suites that run guest code (the tier has nothing to do in the others). */
const GUEST_SUITES = ['test/emulator', 'test/jit', 'test/bkey', 'test/bpf', 'test/examples', 'test/experiments', 'test/docs', 'test/tour.test.ts'];
if (translate) {
  process.env.JITBOX_TIER = 'translate';
  process.env.JITBOX_TRANSLATE_VALIDATE = '1';
}

const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (build.status !== 0) {
  console.log('build failed');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

rmSync(resultsFile, { force: true });
const vitestArgs = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${resultsFile}`];
if (oracles) vitestArgs.push('--config', 'vitest.oracles.config.ts');
if (translate && rest.length === 0) vitestArgs.push(...GUEST_SUITES);
const run = spawnSync('npx', [...vitestArgs, ...rest], { stdio: 'inherit' });

let passed = 0;
let failed = 0;
if (existsSync(resultsFile)) {
  const r = JSON.parse(readFileSync(resultsFile, 'utf8'));
  passed = r.numPassedTests ?? 0;
  failed = (r.numFailedTests ?? 0) + (r.numFailedTestSuites ?? 0) + (r.numRuntimeErrorTestSuites ?? 0);
  rmSync(resultsFile, { force: true });
} else {
  failed = 1;
}
if (run.status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
