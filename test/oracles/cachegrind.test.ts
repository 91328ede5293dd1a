// Live Cachegrind oracle for the memory-hierarchy model: builds scripts/oracles/cachegrind-kernel.S
// with cc now, runs every case under `valgrind --tool=cachegrind --cache-sim=yes` with the case's
// --I1/--D1/--LL, and compares cg_kernel's counts with the model driven by the x86_64 emulator on
// the freshly built bytes (and with the recorded vectors).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCapstone } from '../../support/capstone.js';
import { type CgCase, type CgVectors, runCase } from '../emulator/cachegrind-harness.js';
import { buildNative, type NativeBuild, runValgrind, valgrindVersion } from '../../scripts/oracles/cachegrind.mjs';
import { CASES } from '../../scripts/oracles/cachegrind.cases.mjs';
import { requireTool } from './tools.js';

const ROOT = join(import.meta.dirname, '..', '..');
const haveTools = requireTool('valgrind', ['--version'], 'valgrind') && requireTool('cc', ['--version'], 'gcc');
const recorded = JSON.parse(readFileSync(join(ROOT, 'test', 'vectors', 'emulator', 'cachegrind.json'), 'utf8')) as CgVectors;

describe.skipIf(!haveTools)('Cachegrind (live)', () => {
  let native: NativeBuild;
  let live: CgVectors;
  beforeAll(async () => {
    await initCapstone();
    native = buildNative();
    live = { ...recorded, tool: valgrindVersion(), kernelHex: native.kernelHex, kernelAddr: '0x' + native.kernelAddr.toString(16) };
  });

  it('the kernel built now has the recorded bytes and address', () => {
    expect(native.kernelHex).toBe(recorded.kernelHex);
    expect('0x' + native.kernelAddr.toString(16)).toBe(recorded.kernelAddr);
  });

  for (const c of CASES) {
    it(`${c.name}: model = valgrind = recorded`, () => {
      const counts = runValgrind(native, c);
      expect(runCase(live, c as CgCase)).toEqual(counts);
      expect(recorded.cases.find((r) => r.name === c.name)?.counts).toEqual(counts);
    });
  }
});
