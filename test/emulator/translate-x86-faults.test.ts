// Faults, budgets, self-modifying code and host calls under the x86_64 translation tier: every
// scenario runs on two identical address spaces (same seed, same code), once interpreted and once
// with every block translated, and both runs must report the same thing: results, counters, and
// fault class, address, access, pc and instruction. The translated run must really have run
// translated code (TierStats.translatedInsns > 0).
import { beforeAll, describe, expect, it } from 'vitest';
import { PageFault } from '../../execmem/types.js';
import { BudgetExceededError } from '../../emulator/errors.js';
import type { Machine } from '../../emulator/index.js';
import { initCapstone } from '../../support/capstone.js';
import { hexAddr } from '../../support/u64.js';
import { big, hex, rig, type Rig } from './helpers.js';

beforeAll(async () => {
  process.env.JITBOX_TRANSLATE_VALIDATE = '1';
  await initCapstone();
});

function outcome(f: () => string, cpu: Machine): string {
  try {
    return f();
  } catch (e) {
    const c = JSON.stringify(cpu.counters());
    if (e instanceof PageFault) return `PageFault ${e.access} ${hexAddr(e.address)} perm=${e.perm} pc=${e.pc === undefined ? '-' : hexAddr(e.pc)} ${e.insn} ${c}`;
    if (e instanceof BudgetExceededError) return `Budget ${e.insns} ${hexAddr(e.pc)} ${c}`;
    return `${e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e)} ${c}`;
  }
}

/** Run `scenario` interpreted and translated on identical rigs; both outcomes must match. */
function twin(code: string, scenario: (r: Rig) => string): { text: string; translated: number } {
  const runs = (['interp', 'translate'] as const).map((tier) => {
    const r = rig('x86_64', hex(code), { seed: 5 });
    r.cpu.tier = tier;
    return { text: outcome(() => scenario(r), r.cpu), stats: r.cpu.translationStats() };
  });
  expect(runs[1]!.text).toBe(runs[0]!.text);
  return { text: runs[0]!.text, translated: runs[1]!.stats?.translatedInsns ?? 0 };
}

const callRet = (r: Rig, args: number[] = [], budget?: number): string => {
  const res = r.cpu.call(r.code, args, budget ? { budget } : {});
  return `${big(res.ret).toString(16)} ${JSON.stringify(res.counters)}`;
};

describe('x86_64 translation tier: faults are the interpreter\'s', () => {
  it('a store to read-only executable code (W^X) faults at the store with the same count', () => {
    // mov ecx, 5; L: add rax, rcx; sub rcx, 1; jnz L; mov [rdi], rax; ret   (rdi = the code itself)
    const t = twin('b9 05 00 00 00 48 01 c8 48 83 e9 01 75 f7 48 89 07 c3', (r) => callRet(r, [r.code]));
    expect(t.text).toMatch(/^PageFault write .* perm=5 .*mov qword ptr \[rdi\], rax .*"insns":16/);
    expect(t.translated).toBeGreaterThan(0);
  });

  it('a jump to non-executable data faults as a fetch at the target', () => {
    // add rax, 1; jmp rdi
    const t = twin('48 83 c0 01 ff e7', (r) => callRet(r, [r.space.vmalloc(4096, 'nx data')]));
    expect(t.text).toMatch(/^PageFault fetch .* perm=3 /);
    expect(t.translated).toBeGreaterThan(0);
  });

  it('a page-crossing store into the guard page faults before writing any byte', () => {
    // add rax, 1; mov [rdi], rax; ret
    const t = twin('48 83 c0 01 48 89 07 c3', (r) => {
      const d = r.space.vmalloc(4096, 'one page');
      r.space.write(d + 4088, hex('11 22 33 44 55 66 77 88'));
      const o = outcome(() => callRet(r, [d + 4092]), r.cpu);
      return `${o} ${Buffer.from(r.space.read(d + 4088, 8)).toString('hex')}`;
    });
    expect(t.text).toMatch(/^PageFault write .* 1122334455667788$/);
  });

  it('a page-crossing store between two writable pages succeeds', () => {
    // mov rax, rsi; mov [rdi], rax; add rax, 1; ret
    const t = twin('48 89 f0 48 89 07 48 83 c0 01 c3', (r) => {
      const d = r.space.vmalloc(8192, 'two pages');
      const o = callRet(r, [d + 4093, 0x01020304050607]);
      return `${o} ${Buffer.from(r.space.read(d + 4093, 8)).toString('hex')}`;
    });
    expect(t.text).toMatch(/07060504030201..$/);
    expect(t.translated).toBeGreaterThan(0);
  });

  it('an exhausted budget stops at the same block boundary with the same count', () => {
    // loopA: xor eax, eax; mov rcx, rdi; L: add rax, rcx; sub rcx, 1; jnz L; ret
    const t = twin('31 c0 48 89 f9 48 01 c8 48 83 e9 01 75 f7 c3', (r) => {
      const a = callRet(r, [1000]);
      const b = outcome(() => callRet(r, [1000], 1234), r.cpu);
      return `${a} | ${b}`;
    });
    expect(t.text).toMatch(/\| Budget 1232 /);
    expect(t.translated).toBeGreaterThan(1000);
  });
});

describe('x86_64 translation tier: self-modifying code and host calls', () => {
  it('a text_poke between calls replaces the translated code', () => {
    // mov ecx, 200; L: add rax, 3; sub rcx, 1; jnz L; ret  -> poke `add rax, 3` to `add rax, 5`
    const t = twin('b9 c8 00 00 00 48 83 c0 03 48 83 e9 01 75 f6 c3', (r) => {
      const a = callRet(r);
      const b = callRet(r);
      r.space.textPokeCopy(r.code + 8, hex('05'));
      const c = callRet(r);
      return `${a} | ${b} | ${c}`;
    });
    expect(t.text).toMatch(/^258 .* \| 258 .* \| 3e8 /);
    expect(t.translated).toBeGreaterThan(400);
  });

  it('a text_poke from a host function into the running loop is seen at the next entry', () => {
    const t = twin('c3', (r) => {
      const helper = r.space.defineKernelSymbol('poke_helper', 16);
      const h = BigInt.asUintN(64, BigInt(helper));
      const imm = Array.from({ length: 8 }, (_, i) => Number((h >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, '0')).join(' ');
      const code = r.space.execmemAlloc('BPF', 64);
      // movabs r8, helper; mov rcx, rdi; xor edx, edx; L: add rdx, rcx; call r8; sub rcx, 1; jnz L; mov rax, rdx; ret
      r.space.textPokeCopy(code, hex(`49 b8 ${imm} 48 89 f9 31 d2 48 01 ca 41 ff d0 48 83 e9 01 75 f4 48 89 d0 c3`));
      let calls = 0;
      r.cpu.registerHostFunction(helper, 'poke_helper', () => {
        calls++;
        if (calls === 30) r.space.textPokeCopy(code + 16, hex('29'));
      });
      const res = r.cpu.call(code, [100]);
      return `${calls} ${big(res.ret).toString(16)} ${JSON.stringify(res.counters)}`;
    });
    expect(t.text).toMatch(/^100 /);
    expect(t.translated).toBeGreaterThan(100);
  });

  it('a freed and reused BPF chunk runs its new code, not the old translation', () => {
    const t = twin('c3', (r) => {
      // mov ecx, 100; L: add rax, K; sub rcx, 1; jnz L; ret
      const prog = (k: number): Uint8Array => hex(`b9 64 00 00 00 48 83 c0 ${k.toString(16).padStart(2, '0')} 48 83 e9 01 75 f6 c3`);
      const a = r.space.execmemAlloc('BPF', 16);
      r.space.textPokeCopy(a, prog(1));
      const x = r.cpu.call(a, []);
      const y = r.cpu.call(a, []);
      r.space.execmemFree(a);
      const b = r.space.execmemAlloc('BPF', 16);
      r.space.textPokeCopy(b, prog(7));
      const z = r.cpu.call(b, []);
      return `${b === a} ${big(x.ret)} ${big(y.ret)} ${big(z.ret)} ${JSON.stringify(z.counters)}`;
    });
    expect(t.text).toMatch(/^true 100 100 700 /);
    expect(t.translated).toBeGreaterThan(100);
  });

  it('host function calls from translated code return through the stack as ret would', () => {
    const t = twin('c3', (r) => {
      const helper = r.space.defineKernelSymbol('add3', 16);
      const h = BigInt.asUintN(64, BigInt(helper));
      const imm = Array.from({ length: 8 }, (_, i) => Number((h >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, '0')).join(' ');
      r.cpu.registerHostFunction(helper, 'add3', (a) => BigInt(a[0]!.lo) + 3n);
      const code = r.space.execmemAlloc('BPF', 64);
      // movabs r8, helper; mov rcx, rdi; xor edi, edi; L: push rcx; call r8; pop rcx; mov rdi, rax; sub rcx, 1; jnz L; ret
      r.space.textPokeCopy(code, hex(`49 b8 ${imm} 48 89 f9 31 ff 51 41 ff d0 59 48 89 c7 48 83 e9 01 75 f2 c3`));
      const res = r.cpu.call(code, [50]);
      return `${big(res.ret)} ${JSON.stringify(res.counters)}`;
    });
    expect(t.text).toMatch(/^150 /);
    expect(t.translated).toBeGreaterThan(100);
  });
});

describe('host-private scratch (AddressSpace.allocHostScratch)', () => {
  it('is contiguous, invisible through the direct map, and not counted as used frames', () => {
    const r = rig('x86_64', hex('c3'), { seed: 9 });
    const before = r.space.stats().usedFrames;
    const digest = r.space.stateDigest();
    const base = r.space.allocHostScratch(3 * 4096);
    expect(base % 4096).toBe(0);
    expect(r.space.stats().usedFrames).toBe(before);
    for (let k = 0; k < 3; k++) {
      const alias = r.space.config.directMapBase + base + k * 4096;
      expect(r.space.pageInfo(alias)).toBeNull();
      expect(() => r.space.read(alias, 8)).toThrow(PageFault);
    }
    new Uint8Array(r.space.memory.buffer).fill(0xab, base, base + 3 * 4096);
    expect(JSON.parse(r.space.stateDigest()).memoryHash).toBe(JSON.parse(digest).memoryHash);
  });
});

