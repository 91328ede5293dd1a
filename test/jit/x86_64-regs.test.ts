// Register-allocation corners of the x86_64 backend, exhaustively over BPF registers: div/mod
// (rax/rdx preserved, zero divisors, INT_MIN / -1), shifts through cl (rcx preserved), atomics incl.
// the cmpxchg loops (r0 as source, base or value), byte swaps and movsx, each compared with the
// interpreter on the full register file (folded into r0 in stack memory order).
import { beforeAll, describe, expect, it } from 'vitest';
import { BpfInterpreter, loadProgram } from '../../jit/bpf/interp.js';
import { encodeProgram, type BpfInsnFields } from '../../jit/bpf/isa.js';
import { jitCompile } from '../../jit/bpf/jit.js';
import { BpfJitHost } from '../../jit/bpf/jit-host.js';
import { initCapstone } from '../../support/capstone.js';

let host: BpfJitHost;
beforeAll(async () => {
  await initCapstone();
  host = new BpfJitHost({ seed: 8, capstoneCheck: false });
});

const VALUES: [number, number][] = [[0, 0], [-1, -1], [0, 0x80000000], [0x80000000, 0], [7, 0], [-7, -1], [0x12345678, 0x9abcdef0], [3, 1]];

function init(r: number, v: [number, number]): BpfInsnFields {
  return { opcode: 0x18, dst: r, src: 0, off: 0, imm: v[0] | 0, imm2: v[1] | 0 };
}

/** Store r0..r9 to the stack, then r0 = a rotate-xor fold of the ten words (no cancellation). */
function fold(): BpfInsnFields[] {
  const out: BpfInsnFields[] = [];
  for (let r = 0; r <= 9; r++) out.push({ opcode: 0x7b, dst: 10, src: r, off: -8 * (r + 1), imm: 0 });
  out.push({ opcode: 0xb7, dst: 0, src: 0, off: 0, imm: 0 });
  for (let r = 0; r <= 9; r++) {
    out.push({ opcode: 0x79, dst: 1, src: 10, off: -8 * (r + 1), imm: 0 });
    out.push({ opcode: 0xbf, dst: 2, src: 0, off: 0, imm: 0 });
    out.push({ opcode: 0x67, dst: 0, src: 0, off: 0, imm: 7 });
    out.push({ opcode: 0x77, dst: 2, src: 0, off: 0, imm: 57 });
    out.push({ opcode: 0x4f, dst: 0, src: 2, off: 0, imm: 0 });
    out.push({ opcode: 0xaf, dst: 0, src: 1, off: 0, imm: 0 });
  }
  out.push({ opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 });
  return out;
}

function same(body: BpfInsnFields[], seedRegs: number): void {
  const insns: BpfInsnFields[] = [];
  for (let r = 0; r <= 9; r++) insns.push(init(r, VALUES[(r + seedRegs) % VALUES.length] as [number, number]));
  insns.push(...body, ...fold());
  const prog = loadProgram(encodeProgram(insns));
  const want = new BpfInterpreter(prog).run({ allocator: host.newAllocator() }).r0;
  const jp = jitCompile(prog, { host });
  try {
    expect(jp.run().r0, JSON.stringify(body)).toEqual(want);
  } finally {
    jp.free();
  }
}

describe('x86_64 backend register corners', () => {
  const ops: [string, number, number][] = [
    ['div64', 0x3f, 0], ['sdiv64', 0x3f, 1], ['mod64', 0x9f, 0], ['smod64', 0x9f, 1],
    ['div32', 0x3c, 0], ['sdiv32', 0x3c, 1], ['mod32', 0x9c, 0], ['smod32', 0x9c, 1],
    ['lsh64', 0x6f, 0], ['rsh64', 0x7f, 0], ['arsh64', 0xcf, 0], ['lsh32', 0x6c, 0], ['rsh32', 0x7c, 0], ['arsh32', 0xcc, 0],
  ];
  for (const [name, opcode, off] of ops) {
    it(`${name}: every dst x src in r0..r9, zero / -1 / INT_MIN operands`, () => {
      for (let d = 0; d <= 9; d++) for (let s = 0; s <= 9; s++) same([{ opcode, dst: d, src: s, off, imm: 0 }], d * 3 + s);
    });
  }
  it('div/mod by immediates 0, -1, 7 with every dst', () => {
    for (const opcode of [0x37, 0x97, 0x34, 0x94]) for (const off of [0, 1]) for (const imm of [0, -1, 7]) for (let d = 0; d <= 9; d++) {
      same([{ opcode, dst: d, src: 0, off, imm }], d);
    }
  });
  it('atomics: every op with every base and source register (incl. r0) on the stack', () => {
    for (const imm of [0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1]) {
      for (const opcode of [0xdb, 0xc3]) {
        for (let base = 0; base <= 9; base++) for (let s = 0; s <= 9; s++) {
          if (s === base) continue;
          same([
            { opcode: 0x7b, dst: 10, src: s, off: -96, imm: 0 },
            { opcode: 0xbf, dst: base, src: 10, off: 0, imm: 0 },
            { opcode, dst: base, src: s, off: -96, imm },
            { opcode: 0x79, dst: base, src: 10, off: -96, imm: 0 },
          ], base + s);
        }
      }
    }
  });
  it('byte swaps and sign-extending moves on every register', () => {
    for (let d = 0; d <= 9; d++) {
      for (const imm of [16, 32, 64]) for (const opcode of [0xd4, 0xdc, 0xd7]) same([{ opcode, dst: d, src: 0, off: 0, imm }], d);
      for (let s = 0; s <= 9; s++) {
        for (const off of [8, 16, 32]) same([{ opcode: 0xbf, dst: d, src: s, off, imm: 0 }], d + s);
        for (const off of [8, 16]) same([{ opcode: 0xbc, dst: d, src: s, off, imm: 0 }], d + s);
      }
    }
  });
});
