// Live oracles for the arm64 core: Unicorn 2.0.1 (python3-unicorn) on the committed random programs
// and on fresh programs built with codegen/arm64 encoders; qemu-aarch64 on gcc -O2 leaf functions;
// the loopB anchor at 1e8 iterations (0xbc6af92d0). Fails (not skips) under CI=true when a tool is
// missing (tools.ts). The recorded versions of these checks run in test/emulator/arm64-*.test.ts.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  encAddSubImm, encAddSubReg, encBitfield, encCondSel, encDp1, encDp2, encDp3, encExtr, encLdSt, encLdStIndexed,
  encLdStPair, encLdStUnscaled, encLogicalReg, encMoveWide, encAtomic, WREGS, XREGS, XZR, WZR, CONDS,
  type AddSubOp, type Dp1Op, type Dp2Op, type Dp3Op, type LogicalOp, type RZr, type AtomicOp, type Order,
} from '../../codegen/arm64/index.js';
import { initCapstone } from '../../support/capstone.js';
import { Rng } from '../../support/rng.js';
import { pairToBigInt } from '../../support/u64.js';
import { type DiffCase, type DiffResult, makeRig, runCase } from '../emulator/arm64-harness.js';
import { requirePythonModule, requireTool } from './tools.js';

const SCRIPT = 'scripts/oracles/emu-arm64.py';
const haveUnicorn = requirePythonModule('unicorn', 'python3-unicorn');
const haveQemu = requireTool('qemu-aarch64', ['--version'], 'qemu-user') && requireTool('aarch64-linux-gnu-gcc', ['--version'], 'gcc-aarch64-linux-gnu') && requireTool('llvm-mc', ['--version'], 'llvm');

function python(args: string[], input?: string): string {
  const r = spawnSync('/usr/bin/python3', [SCRIPT, ...args], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.below(xs.length)]!;
}

/** One random instruction built with our encoders, in the oracle's machine model (x20/x22 bases). */
function randomInsn(rng: Rng): number {
  const sf = rng.below(2) === 1;
  const R = (): RZr => (rng.below(8) === 0 ? (sf ? XZR : WZR) : (sf ? XREGS : WREGS)[rng.below(16)]!);
  const X = (): RZr<64> => (rng.below(8) === 0 ? XZR : XREGS[rng.below(16)]!);
  const width = sf ? 64 : 32;
  switch (rng.below(12)) {
    case 0: return encAddSubImm(pick(rng, ['add', 'sub'] as AddSubOp[]), (sf ? XREGS : WREGS)[rng.below(16)]!, (sf ? XREGS : WREGS)[rng.below(16)]!, rng.below(4096), rng.below(2) ? 12 : 0);
    case 1: return encAddSubReg(pick(rng, ['add', 'adds', 'sub', 'subs'] as AddSubOp[]), R(), R(), R(), pick(rng, ['lsl', 'lsr', 'asr'] as const), rng.below(width));
    case 2: return encLogicalReg(pick(rng, ['and', 'bic', 'orr', 'orn', 'eor', 'eon', 'ands', 'bics'] as LogicalOp[]), R(), R(), R(), pick(rng, ['lsl', 'lsr', 'asr', 'ror'] as const), rng.below(width));
    case 3: return encMoveWide(pick(rng, ['movz', 'movn', 'movk'] as const), R(), rng.below(65536), 16 * rng.below(sf ? 4 : 2));
    case 4: { const r = rng.below(width), s = rng.below(width); return encBitfield(pick(rng, ['sbfm', 'bfm', 'ubfm'] as const), R(), R(), r, s); }
    case 5: return encExtr(R(), R(), R(), rng.below(width));
    case 6: return encDp2(pick(rng, ['udiv', 'sdiv', 'lslv', 'lsrv', 'asrv', 'rorv'] as Dp2Op[]), R(), R(), R());
    case 7: return encDp1(pick(rng, sf ? ['rbit', 'rev16', 'rev32', 'rev', 'clz', 'cls'] as Dp1Op[] : ['rbit', 'rev16', 'rev', 'clz', 'cls'] as Dp1Op[]), R(), R());
    case 8: { const op = pick(rng, ['madd', 'msub', 'smaddl', 'umaddl', 'smulh', 'umulh'] as Dp3Op[]); const wide = op === 'smaddl' || op === 'umaddl'; const n = wide ? WREGS[rng.below(16)]! : X(); return encDp3(op, X(), n, wide ? WREGS[rng.below(16)]! : X(), op.endsWith('mulh') ? XZR : X()); }
    case 9: return encCondSel(pick(rng, ['csel', 'csinc', 'csinv', 'csneg'] as const), R(), R(), R(), pick(rng, CONDS.filter((c) => c !== 'al' && c !== 'nv')));
    case 10: {
      const op = pick(rng, ['ldr', 'str', 'ldrb', 'strb', 'ldrh', 'strh', 'ldrsb', 'ldrsh', 'ldrsw'] as const);
      const rt = op === 'ldrsw' ? XREGS[rng.below(16)]! : op.endsWith('b') || op.endsWith('h') ? (op.startsWith('ldrs') ? pick(rng, [XREGS, WREGS])[rng.below(16)]! : WREGS[rng.below(16)]!) : pick(rng, [XREGS, WREGS])[rng.below(16)]!;
      const size = op.endsWith('b') ? 1 : op.endsWith('h') ? 2 : op === 'ldrsw' ? 4 : rt.size / 8;
      const form = rng.below(3);
      if (form === 0) return encLdSt(op, rt, XREGS[20]!, size * rng.below(16));
      if (form === 1) return encLdStUnscaled(op, rt, XREGS[20]!, rng.below(64) - 32);
      return encLdStIndexed(op, rt, XREGS[20]!, rng.below(32) - 16, rng.below(2) ? 'pre' : 'post');
    }
    default: {
      if (rng.below(2)) {
        const a = XREGS[rng.below(16)]!;
        let b = XREGS[rng.below(16)]!;
        while (b === a) b = XREGS[rng.below(16)]!;
        return encLdStPair(rng.below(2) === 1, a, b, XREGS[20]!, 8 * (rng.below(8) - 4), pick(rng, ['offset', 'pre', 'post'] as const));
      }
      return encAtomic(pick(rng, ['ldadd', 'ldclr', 'ldeor', 'ldset', 'swp'] as AtomicOp[]), pick(rng, ['', 'a', 'l', 'al'] as Order[]), X(), X(), XREGS[22]!);
    }
  }
}

function compare(got: DiffResult, want: DiffResult): string[] {
  const d: string[] = [];
  for (let i = 0; i < 23; i++) if (got.regs[i] !== want.regs[i]) d.push(`x${i} ${got.regs[i]} != ${want.regs[i]}`);
  if (got.nzcv !== want.nzcv) d.push(`nzcv ${got.nzcv} != ${want.nzcv}`);
  if (JSON.stringify(got.stores) !== JSON.stringify(want.stores)) d.push('stores differ');
  return d;
}

describe('arm64 core vs Unicorn (live)', () => {
  beforeAll(async () => {
    await initCapstone();
  });

  it.skipIf(!haveUnicorn)('regenerating the Unicorn vectors gives the committed file', () => {
    const live = JSON.parse(python(['generate', '2026']));
    const committed = JSON.parse(readFileSync('test/vectors/emulator/arm64-unicorn.json', 'utf8'));
    expect(live).toEqual(committed);
  });

  it.skipIf(!haveUnicorn)('random programs built with codegen/arm64 encoders agree with Unicorn', () => {
    const rng = new Rng(0xa64e);
    const cases: DiffCase[] = [];
    for (let k = 0; k < 200; k++) {
      const words = Array.from({ length: 10 + rng.below(30) }, () => randomInsn(rng) >>> 0);
      words.push(0xd65f03c0);
      const regs = Array.from({ length: 16 }, () => '0x' + (BigInt(rng.u32()) << 32n | BigInt(rng.u32())).toString(16));
      regs.push('0x0', '0x0', '0x0', '0x0', '0x100', '0x' + rng.below(16).toString(16), '0x40');
      const data = Buffer.from(Array.from({ length: 512 }, () => rng.below(256))).toString('hex');
      cases.push({ words, regs, nzcv: rng.below(16), data });
    }
    const results = JSON.parse(python(['run'], JSON.stringify(cases))) as Array<DiffResult & { error?: string }>;
    const rig = makeRig(41);
    const bad: string[] = [];
    let compared = 0;
    cases.forEach((c, k) => {
      const want = results[k]!;
      if (want.error !== undefined) return;
      compared++;
      const d = compare(runCase(rig, c), want);
      if (d.length) bad.push(`case ${k}: ${d.join('; ')}`);
    });
    expect(bad).toEqual([]);
    expect(compared).toBeGreaterThan(150);
  });
});

describe('arm64 core vs qemu-aarch64 (live)', () => {
  beforeAll(async () => {
    await initCapstone();
  });

  it.skipIf(!haveQemu)('recompiled leaf functions give the recorded registers', () => {
    const live = JSON.parse(python(['qemu']));
    const committed = JSON.parse(readFileSync('test/vectors/emulator/arm64-qemu.json', 'utf8'));
    expect(live).toEqual(committed);
  });

  it.skipIf(!haveQemu)('loopB, 1e8 iterations, returns 0xbc6af92d0 on our core', () => {
    const anchors = JSON.parse(python(['anchors'])) as { loops: Array<{ name: string; code: string }> };
    const loopB = anchors.loops.find((l) => l.name === 'loopB')!;
    const b = Buffer.from(loopB.code, 'hex');
    const rig = makeRig(43);
    const entry = rig.place(Array.from({ length: b.length / 4 }, (_, i) => b.readUInt32LE(4 * i)));
    const r = rig.m.call(entry, [100_000_000], { budget: 1e9 });
    expect('0x' + pairToBigInt(r.ret.lo, r.ret.hi).toString(16)).toBe('0xbc6af92d0');
    expect(r.counters.insns).toBe(8 + 7 * 100_000_000 + 1);
  }, 600_000);
});
