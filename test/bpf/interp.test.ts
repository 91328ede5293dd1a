// Interpreter semantics: every ALU/ALU64 operation and JMP/JMP32 comparison against a BigInt
// reference model of RFC 9669 on random and edge operands, plus the edge cases of reference/bpf.md §2,
// memory checks, atomics, local calls, the budget and helper behaviour.
import { describe, expect, it } from 'vitest';
import { assemble } from '../../jit/bpf/asm.js';
import { BpfInterpreter, runBpf } from '../../jit/bpf/interp.js';
import { BpfBudgetExceeded, BpfMemoryFault, BpfRuntimeError } from '../../jit/bpf/runtime.js';
import { Rng } from '../../support/rng.js';
import { bigIntToPair, pairToBigInt } from '../../support/u64.js';

const M64 = (1n << 64n) - 1n;
const u = (v: bigint, bits = 64): bigint => BigInt.asUintN(bits, v);
const s = (v: bigint, bits = 64): bigint => BigInt.asIntN(bits, v);

function r0Of(src: string, mem?: Uint8Array): bigint {
  const r = runBpf(assemble(src), mem ? { mem } : {});
  return pairToBigInt(r.r0.lo, r.r0.hi);
}
function lddw(reg: number, v: bigint): string {
  return `lddw %r${reg}, 0x${u(v).toString(16)}`;
}

/** RFC 9669 reference semantics (BigInt). */
function refAlu(op: string, is32: boolean, a: bigint, b: bigint): bigint {
  const w = is32 ? 32 : 64;
  const x = u(a, w);
  const y = u(b, w);
  const sx = s(a, w);
  const sy = s(b, w);
  const sh = y & BigInt(w - 1);
  let r: bigint;
  switch (op) {
    case 'add': r = x + y; break;
    case 'sub': r = x - y; break;
    case 'mul': r = x * y; break;
    case 'div': r = y === 0n ? 0n : x / y; break;
    case 'mod': r = y === 0n ? x : x % y; break;
    case 'sdiv': r = sy === 0n ? 0n : sx / sy; break; // BigInt division truncates; INT_MIN/-1 wraps
    case 'smod': r = sy === 0n ? x : sx % sy; break;
    case 'or': r = x | y; break;
    case 'and': r = x & y; break;
    case 'xor': r = x ^ y; break;
    case 'lsh': r = x << sh; break;
    case 'rsh': r = x >> sh; break;
    case 'arsh': r = sx >> sh; break;
    case 'mov': r = y; break;
    default: throw new Error(op);
  }
  return u(r, w);
}

const EDGE = [0n, 1n, 2n, 3n, 7n, 31n, 32n, 63n, 64n, M64, M64 - 1n, 1n << 63n, (1n << 63n) - 1n, 1n << 31n, (1n << 31n) - 1n, (1n << 32n) - 1n, 1n << 32n, 0xffffffff80000000n, 13n, u(-13n), u(-3n)];

describe('ALU vs BigInt reference', () => {
  const ops = ['add', 'sub', 'mul', 'div', 'mod', 'sdiv', 'smod', 'or', 'and', 'xor', 'lsh', 'rsh', 'arsh', 'mov'];
  const rng = new Rng(11);
  const rand = (): bigint => (rng.bool(0.3) ? rng.pick(EDGE) : (BigInt(rng.u32()) << 32n) | BigInt(rng.u32()));
  for (const op of ops) {
    for (const is32 of [false, true]) {
      it(`${op}${is32 ? '32' : ''} register and immediate forms`, () => {
        const bad: string[] = [];
        for (let k = 0; k < 150; k++) {
          const a = rand();
          const b = rand();
          const imm = s(b, 32);
          const m = `${op}${is32 ? '32' : ''}`;
          const gotX = r0Of(`${lddw(0, a)}\n${lddw(1, b)}\n${m} %r0, %r1\nexit`);
          const wantX = refAlu(op, is32, a, b);
          // K form: imm32, sign-extended to 64 bits for ALU64 (also for unsigned div/mod).
          const gotK = r0Of(`${lddw(0, a)}\n${m} %r0, ${imm}\nexit`);
          const wantK = refAlu(op, is32, a, is32 ? u(imm, 32) : u(imm));
          if (gotX !== wantX) bad.push(`X ${m} ${a.toString(16)}, ${b.toString(16)}: got ${gotX.toString(16)} want ${wantX.toString(16)}`);
          if (gotK !== wantK) bad.push(`K ${m} ${a.toString(16)}, ${imm}: got ${gotK.toString(16)} want ${wantK.toString(16)}`);
        }
        expect(bad.slice(0, 5)).toEqual([]);
      });
    }
  }
});

describe('JMP/JMP32 vs BigInt reference', () => {
  const conds: Record<string, (a: bigint, b: bigint, w: number) => boolean> = {
    jeq: (a, b, w) => u(a, w) === u(b, w), jne: (a, b, w) => u(a, w) !== u(b, w), jset: (a, b, w) => (u(a, w) & u(b, w)) !== 0n,
    jgt: (a, b, w) => u(a, w) > u(b, w), jge: (a, b, w) => u(a, w) >= u(b, w), jlt: (a, b, w) => u(a, w) < u(b, w), jle: (a, b, w) => u(a, w) <= u(b, w),
    jsgt: (a, b, w) => s(a, w) > s(b, w), jsge: (a, b, w) => s(a, w) >= s(b, w), jslt: (a, b, w) => s(a, w) < s(b, w), jsle: (a, b, w) => s(a, w) <= s(b, w),
  };
  const rng = new Rng(12);
  const rand = (): bigint => (rng.bool(0.5) ? rng.pick(EDGE) : (BigInt(rng.u32()) << 32n) | BigInt(rng.u32()));
  for (const [name, f] of Object.entries(conds)) {
    it(`${name} and ${name}32`, () => {
      for (let k = 0; k < 120; k++) {
        const a = rand();
        const b = rng.bool(0.2) ? a : rand();
        const imm = s(b, 32);
        for (const w of [64, 32]) {
          const m = name + (w === 32 ? '32' : '');
          expect(r0Of(`${lddw(1, a)}\n${lddw(2, b)}\nmov %r0, 0\n${m} %r1, %r2, +1\nexit\nmov %r0, 1\nexit`)).toBe(f(a, b, w) ? 1n : 0n);
          expect(r0Of(`${lddw(1, a)}\nmov %r0, 0\n${m} %r1, ${imm}, +1\nexit\nmov %r0, 1\nexit`)).toBe(f(a, w === 32 ? imm : u(imm), w) ? 1n : 0n);
        }
      }
    });
  }
});

describe('edge semantics (reference/bpf.md §2)', () => {
  it('division and modulo by zero', () => {
    expect(r0Of(`${lddw(0, M64)}\nmov %r1, 0\ndiv %r0, %r1\nexit`)).toBe(0n);
    expect(r0Of(`${lddw(0, M64)}\nmov %r1, 0\ndiv32 %r0, %r1\nexit`)).toBe(0n);
    expect(r0Of(`${lddw(0, 0x1234567887654321n)}\nmov %r1, 0\nmod %r0, %r1\nexit`)).toBe(0x1234567887654321n);
    expect(r0Of(`${lddw(0, 0x1234567887654321n)}\nmov %r1, 0\nmod32 %r0, %r1\nexit`)).toBe(0x87654321n);
  });
  it('INT_MIN / -1 and INT_MIN % -1', () => {
    expect(r0Of(`${lddw(0, 1n << 63n)}\nsdiv %r0, -1\nexit`)).toBe(1n << 63n);
    expect(r0Of(`${lddw(0, 1n << 63n)}\nsmod %r0, -1\nexit`)).toBe(0n);
    expect(r0Of(`mov32 %r0, 0x80000000\nsdiv32 %r0, -1\nexit`)).toBe(0x80000000n);
    expect(r0Of(`mov32 %r0, 0x80000000\nsmod32 %r0, -1\nexit`)).toBe(0n);
    expect(r0Of(`mov %r0, -13\nsmod %r0, 3\nexit`)).toBe(u(-1n));
  });
  it('shift counts are masked; arsh32 by -16 shifts by 16', () => {
    expect(r0Of(`mov %r0, 1\nlsh %r0, 65\nexit`)).toBe(2n);
    expect(r0Of(`mov32 %r0, 0x80000000\narsh32 %r0, -16\nexit`)).toBe(0xffff8000n);
  });
  it('ALU32 zero-extends; ALU64 mov K sign-extends', () => {
    expect(r0Of(`mov %r0, -1\nadd32 %r0, 0\nexit`)).toBe(0xffffffffn);
    expect(r0Of(`mov %r0, -1\nexit`)).toBe(M64);
    expect(r0Of(`${lddw(0, M64)}\nmov32 %r0, %r0\nexit`)).toBe(0xffffffffn);
  });
  it('movsx, ldsx and byte swaps', () => {
    expect(r0Of(`mov %r1, 0x80\nmovsx864 %r0, %r1\nexit`)).toBe(u(-128n));
    expect(r0Of(`mov %r1, 0x8000\nmovsx1632 %r0, %r1\nexit`)).toBe(0xffff8000n);
    expect(r0Of(`mov32 %r1, 0x80000000\nmovsx3264 %r0, %r1\nexit`)).toBe(0xffffffff80000000n);
    expect(r0Of(`stb [%r10-1], 0xf0\nldxsb %r0, [%r10-1]\nexit`)).toBe(u(-16n));
    expect(r0Of(`${lddw(0, 0x0102030405060708n)}\nbswap64 %r0\nexit`)).toBe(0x0807060504030201n);
    expect(r0Of(`${lddw(0, 0x0102030405060708n)}\nbe16 %r0\nexit`)).toBe(0x0807n);
    expect(r0Of(`${lddw(0, 0x0102030405060708n)}\nle32 %r0\nexit`)).toBe(0x05060708n);
    expect(r0Of(`${lddw(0, 0x0102030405060708n)}\nle64 %r0\nexit`)).toBe(0x0102030405060708n);
  });
  it('atomics: fetch returns the old value (zero-extended for W); cmpxchg compares with r0', () => {
    expect(r0Of(`${lddw(1, 0xffffffff00000005n)}\nstxdw [%r10-8], %r1\nmov %r2, 3\nlock fetch add32 [%r10-8], %r2\nmov %r0, %r2\nexit`)).toBe(5n);
    expect(r0Of(`mov %r1, 5\nstxdw [%r10-8], %r1\nmov %r0, 5\nmov %r2, 9\nlock cmpxchg [%r10-8], %r2\nldxdw %r0, [%r10-8]\nexit`)).toBe(9n);
    expect(r0Of(`mov %r1, 5\nstxdw [%r10-8], %r1\nmov %r0, 4\nmov %r2, 9\nlock cmpxchg [%r10-8], %r2\nexit`)).toBe(5n);
    expect(r0Of(`mov %r1, 6\nstxdw [%r10-8], %r1\nmov %r2, 3\nlock xchg [%r10-8], %r2\nldxdw %r0, [%r10-8]\nadd %r0, %r2\nexit`)).toBe(9n);
    expect(r0Of(`mov %r1, 6\nstxdw [%r10-8], %r1\nmov %r2, 3\nlock and [%r10-8], %r2\nldxdw %r0, [%r10-8]\nexit`)).toBe(2n);
  });
  it('gotol (ja32) uses the 32-bit imm distance', () => {
    expect(r0Of(`mov %r0, 1\nja32 +1\nmov %r0, 2\nexit`)).toBe(1n);
  });
});

describe('calls, memory checks and limits', () => {
  it('local calls get their own 512-byte frame and keep r6..r9', () => {
    const src = 'mov %r6, 7\nstdw [%r10-8], 11\ncall local f\nldxdw %r1, [%r10-8]\nadd %r0, %r1\nadd %r0, %r6\nexit\nf:\nmov %r6, 100\nstdw [%r10-8], 22\nmov %r0, %r10\nexit';
    const r = runBpf(assemble(src));
    // r0 = callee's r10 (= caller's r10 - 512) + 11 + 7
    const top = r0Of('mov %r0, %r10\nexit');
    expect(pairToBigInt(r.r0.lo, r.r0.hi)).toBe(top - 512n + 18n);
  });
  it('the call depth limit is 8 frames', () => {
    expect(() => runBpf(assemble('f:\ncall local f\nexit'))).toThrow(/call depth limit of 8/);
  });
  it('out-of-region and read-only accesses are BpfMemoryFaults naming pc, insn and address', () => {
    let e: unknown;
    try {
      runBpf(assemble('mov %r0, 0\nldxw %r0, [%r10+0]\nexit'));
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(BpfMemoryFault);
    expect((e as BpfMemoryFault).message).toMatch(/pc 1 \(ldxw %r0, \[%r10\]\): read of 4 byte\(s\) at 0xffffc9/);
    expect(() => runBpf(assemble('ldxb %r0, [%r1+4]\nexit'), { mem: new Uint8Array(4) })).toThrow(BpfMemoryFault);
    expect(r0Of('ldxb %r0, [%r1+3]\nexit', Uint8Array.of(1, 2, 3, 4))).toBe(4n);
    expect(() => runBpf(assemble('stdw [%r10-516], 1\nexit'))).not.toThrow(); // inside the 8-frame stack region
    expect(() => runBpf(assemble('lddw %r1, 0x10\nstw [%r1+0], 1\nexit'))).toThrow(/write of 4 byte\(s\) at 0x0000000000000010/);
  });
  it('stores through r1 change the input region returned with the result', () => {
    const r = runBpf(assemble('stw [%r1+0], 0x11223344\nexit'), { mem: new Uint8Array(4) });
    expect(Array.from(r.mem)).toEqual([0x44, 0x33, 0x22, 0x11]);
  });
  it('the budget stops infinite loops', () => {
    expect(() => runBpf(assemble('l:\nja l'), { budget: 1000 })).toThrow(BpfBudgetExceeded);
    const r = runBpf(assemble('mov %r1, 10\nl:\nsub %r1, 1\njne %r1, 0, l\nexit'));
    expect(r.insns).toBe(1 + 2 * 10 + 1);
  });
  it('falling off the end is a typed error', () => {
    expect(() => runBpf(assemble('mov %r0, 1'))).toThrow(BpfRuntimeError);
    expect(() => runBpf(assemble('mov %r0, 1'))).toThrow(/fell off the end/);
  });
  it('conformance helpers: gather_bytes, memfrob, sqrti, strcmp, unwind', () => {
    expect(r0Of('mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\ncall 0\nexit')).toBe(0x0102030405n);
    expect(r0Of('mov %r1, 10000\ncall 3\nexit')).toBe(100n);
    const r = runBpf(assemble('mov %r2, 2\ncall 1\nexit'), { mem: Uint8Array.of(1, 2, 3) });
    expect(Array.from(r.mem)).toEqual([1 ^ 42, 2 ^ 42, 3]);
    expect(r0Of('stw [%r10-4], 0x616263\nstw [%r10-8], 0x616263\nmov %r1, %r10\nsub %r1, 4\nmov %r2, %r10\nsub %r2, 8\ncall 4\nexit')).toBe(0n);
    expect(r0Of('stw [%r10-4], 0x616263\nstw [%r10-8], 0x616264\nmov %r1, %r10\nsub %r1, 4\nmov %r2, %r10\nsub %r2, 8\ncall 4\nexit')).toBe(u(-1n));
    const un = runBpf(assemble('mov %r1, 0\ncall 5\nmov %r0, 2\nexit'));
    expect(un.exitedBy).toBe('unwind');
    expect(un.r0).toEqual({ lo: 0, hi: 0 });
    expect(() => runBpf(assemble('mov %r1, 0\ncall 4\nexit'))).toThrow(BpfRuntimeError);
  });
  it('callx calls the helper whose id is in the register', () => {
    expect(r0Of('mov %r1, 77\nmov %r3, 5\ncall %r3\nexit')).toBe(77n);
    expect(() => runBpf(assemble('mov %r3, 42\ncall %r3\nexit'))).toThrow(/callx at pc 1: r3 = 42 is not a helper/);
  });
  it('an interpreter runs again from a clean state', () => {
    const vm = new BpfInterpreter(assemble('ldxdw %r0, [%r10-8]\nadd %r0, 1\nstxdw [%r10-8], %r0\nexit'));
    expect(vm.run().r0).toEqual(bigIntToPair(1n));
    expect(vm.run().r0).toEqual(bigIntToPair(1n));
  });
});
