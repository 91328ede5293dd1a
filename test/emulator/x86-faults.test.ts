// Bad input and strictness of the x86_64 core over a real execmem AddressSpace: every permission
// violation, undefined or truncated code, runaway code and guest exceptions stop with a typed fault
// carrying the guest pc and instruction; text_poke keeps the decode cache coherent.
import { beforeAll, describe, expect, it } from 'vitest';
import { PageFault, PERM_R, PERM_X } from '../../execmem/types.js';
import { BudgetExceededError, DecoderMismatchError, GuestTrap, InvalidInstructionError, UnsupportedInstructionError } from '../../emulator/errors.js';
import { X86Machine } from '../../emulator/x86_64/machine.js';
import { initCapstone } from '../../support/capstone.js';
import { hexAddr } from '../../support/u64.js';
import { big, hex, rig } from './helpers.js';

beforeAll(async () => {
  await initCapstone();
});

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a fault');
}

describe('x86_64 faults', () => {
  it('fetch from a non-executable (vmalloc RW) page', () => {
    const { space, cpu } = rig('x86_64', hex('c3'));
    const data = space.vmalloc(4096);
    const e = caught(() => cpu.call(data)) as PageFault;
    expect(e).toBeInstanceOf(PageFault);
    expect(e.access).toBe('fetch');
    expect(e.perm).toBe(PERM_R | 2);
    expect(e.address).toBe(data);
  });

  it('store into read-only executable code names pc and instruction', () => {
    // lea rax, [rip]; mov dword ptr [rax], ecx; ret
    const { cpu, code } = rig('x86_64', hex('48 8d 05 00 00 00 00 89 08 c3'));
    const e = caught(() => cpu.call(code, [1, 2, 3, 4])) as PageFault;
    expect(e).toBeInstanceOf(PageFault);
    expect(e.access).toBe('write');
    expect(e.perm).toBe(PERM_R | PERM_X);
    expect(e.address).toBe(code + 7);
    expect(e.pc).toBe(code + 7);
    expect(e.insn).toBe('mov dword ptr [rax], ecx');
    expect(e.message).toContain(`at pc ${hexAddr(code + 7)} (mov dword ptr [rax], ecx)`);
    expect(cpu.counters().insns).toBe(1);
  });

  it('load from unmapped and from non-canonical addresses', () => {
    const { cpu, code } = rig('x86_64', hex('48 8b 07 c3'));
    const u = caught(() => cpu.call(code, [0x12345000])) as PageFault;
    expect(u.perm).toBeNull();
    expect(u.access).toBe('read');
    const n = caught(() => cpu.call(code, [0x8000000000000000n])) as PageFault;
    expect(n).toBeInstanceOf(PageFault);
    expect(n.message).toContain('non-canonical');
  });

  it('jump into unmapped memory faults on the fetch', () => {
    const { cpu, code } = rig('x86_64', hex('ff e7'));
    const e = caught(() => cpu.call(code, [0x12345000])) as PageFault;
    expect(e.access).toBe('fetch');
    expect(e.address).toBe(0x12345000);
  });

  it('a jump to a non-canonical address faults at the jump', () => {
    const { cpu, code } = rig('x86_64', hex('ff e7'));
    const e = caught(() => cpu.call(code, [0x8000000000001000n])) as PageFault;
    expect(e).toBeInstanceOf(PageFault);
    expect(e.access).toBe('fetch');
    expect(e.pc).toBe(code);
    expect(e.message).toContain('non-canonical address');
  });

  it('a permission change drops soft-TLB entries (store after set_memory_ro faults)', () => {
    // mov qword ptr [rdi], rsi; ret
    const { space, cpu, code } = rig('x86_64', hex('48 89 37 c3'));
    const data = space.vmalloc(4096);
    cpu.call(code, [data, 7]);
    expect(space.read(data, 1)[0]).toBe(7);
    space.setMemory(data, 1, 'ro');
    const e = caught(() => cpu.call(code, [data, 9])) as PageFault;
    expect(e.access).toBe('write');
    expect(e.perm).toBe(PERM_R);
    expect(space.read(data, 1)[0]).toBe(7);
  });

  it('guest stack overflow hits the guard page below the stack', () => {
    // f: push rdi; call f
    const { cpu, code } = rig('x86_64', hex('57 e8 fa ff ff ff'));
    const e = caught(() => cpu.call(code, [], { stackSize: 8192 })) as PageFault;
    expect(e).toBeInstanceOf(PageFault);
    expect(e.access).toBe('write');
    expect(e.message).toContain('guest stack overflow');
  });

  it('runaway code stops at the budget', () => {
    const { cpu, code } = rig('x86_64', hex('eb fe'));
    const e = caught(() => cpu.call(code, [], { budget: 10000 })) as BudgetExceededError;
    expect(e).toBeInstanceOf(BudgetExceededError);
    expect(e.insns).toBeLessThanOrEqual(10000);
    expect(e.insns).toBeGreaterThan(9000);
  });

  it('int3, ud2 and freed (trap-filled) code are guest traps', () => {
    const a = rig('x86_64', hex('90 cc'));
    const t = caught(() => a.cpu.call(a.code)) as GuestTrap;
    expect(t).toBeInstanceOf(GuestTrap);
    expect(t.message).toBe(`trap (int3) at ${hexAddr(a.code + 1)}: int3`);
    const b = rig('x86_64', hex('0f 0b'));
    expect((caught(() => b.cpu.call(b.code)) as GuestTrap).trap).toBe('ud2');
    const c = rig('x86_64', hex('48 89 f8 c3'));
    expect(big(c.cpu.call(c.code, [5]).ret)).toBe(5n);
    c.space.execmemFree(c.code);
    const f = caught(() => c.cpu.call(c.code, [5])) as unknown;
    expect(f instanceof GuestTrap || f instanceof PageFault).toBe(true);
  });

  it('divide error (#DE) leaves the registers unchanged', () => {
    // mov rax, rdi; xor ecx, ecx; div rcx
    const { cpu, code } = rig('x86_64', hex('48 89 f8 31 c9 48 f7 f1 c3'));
    const e = caught(() => cpu.call(code, [77])) as GuestTrap;
    expect(e.trap).toBe('divide-error');
    expect(e.message).toContain('div rcx');
    expect(cpu.registers().rax!.lo).toBe(77);
    expect(cpu.counters().insns).toBe(2);
    // quotient overflow: rdx:rax = 2^64, divisor 1
    const q = rig('x86_64', hex('ba 01 00 00 00 31 c0 b9 01 00 00 00 48 f7 f1 c3'));
    expect((caught(() => q.cpu.call(q.code)) as GuestTrap).message).toContain('quotient overflow');
  });

  it('undefined, truncated and unsupported bytes', () => {
    const a = rig('x86_64', hex('06'));
    expect(caught(() => a.cpu.call(a.code))).toBeInstanceOf(InvalidInstructionError);
    const b = rig('x86_64', hex('0f a2'));
    const u = caught(() => b.cpu.call(b.code)) as UnsupportedInstructionError;
    expect(u).toBeInstanceOf(UnsupportedInstructionError);
    expect(u.message).toBe(`unsupported instruction cpuid at ${hexAddr(b.code)}`);
  });

  it('an instruction running into an unmapped page faults on that page', () => {
    const { space, cpu } = rig('x86_64', hex('c3'));
    const page = space.execmemAlloc('BPF', 4096);
    // 48 b8 imm64 split across the end of the page: the rest of the bytes are on an unmapped page.
    const at = page + 4096 - 3;
    space.textPokeCopy(at, hex('48 b8 01'));
    const info = space.pageInfo(page + 4096);
    const e = caught(() => cpu.call(at)) as unknown;
    if (info === null || (info.perm & PERM_X) === 0) {
      expect(e).toBeInstanceOf(PageFault);
      expect((e as PageFault).access).toBe('fetch');
      expect((e as PageFault).address).toBe(page + 4096);
    } else {
      expect(e).toBeInstanceOf(GuestTrap);
    }
  });

  it('text_poke invalidates decoded blocks (x86 code is coherent)', () => {
    const { space, cpu, code } = rig('x86_64', hex('b8 01 00 00 00 c3'));
    expect(big(cpu.call(code).ret)).toBe(1n);
    space.textPokeCopy(code + 1, hex('02'));
    expect(big(cpu.call(code).ret)).toBe(2n);
  });

  it('a decoder that disagrees with Capstone is a hard error showing both', () => {
    class Broken extends X86Machine {
      override renderInsn(): string {
        return 'nop';
      }
    }
    const { space, code } = rig('x86_64', hex('48 89 f8 c3'));
    const cpu = new Broken(space);
    const e = caught(() => cpu.call(code, [1])) as DecoderMismatchError;
    expect(e).toBeInstanceOf(DecoderMismatchError);
    expect(e.message).toContain('emulator "nop" vs Capstone "mov rax, rdi"');
  });
});

describe('x86_64 calls, host functions, counters, hooks', () => {
  it('host functions at kernel text addresses run in TypeScript and return', () => {
    const { space, cpu, code: _c } = rig('x86_64', hex('c3'));
    const helper = space.defineKernelSymbol('bpf_test_helper', 16);
    cpu.registerHostFunction(helper, 'bpf_test_helper', (args) => (BigInt(args[0]!.lo) * 3n + BigInt(args[1]!.lo)));
    const h = BigInt.asUintN(64, BigInt(helper));
    const imm = Array.from({ length: 8 }, (_, i) => Number((h >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, '0')).join(' ');
    // movabs rax, helper; call rax; add rax, 1; ret
    const code = space.execmemAlloc('BPF', 32);
    space.textPokeCopy(code, hex(`48 b8 ${imm} ff d0 48 83 c0 01 c3`));
    const r = cpu.call(code, [10, 4]);
    expect(big(r.ret)).toBe(35n);
    expect(r.counters.insns).toBe(4);
  });

  it('counts loads, stores and taken branches; observer and trace see every access', () => {
    // mov rax, [rdi]; add rax, 1; mov [rdi], rax; jmp +0; ret
    const { space, cpu, code } = rig('x86_64', hex('48 8b 07 48 83 c0 01 48 89 07 eb 00 c3'));
    const data = space.vmalloc(4096);
    const seen: string[] = [];
    const trace: string[] = [];
    const r = cpu.call(code, [data], {
      observer: { fetch: (a, n) => seen.push(`f${a - code}:${n}`), load: (a, n) => seen.push(a === data ? `l0:${n}` : `stack:${n}`), store: (a, n) => seen.push(`s${a - data}:${n}`) },
      trace: (e) => trace.push(e.text),
    });
    expect(big(r.ret)).toBe(1n);
    expect(r.counters).toEqual({ insns: 5, loads: 2, stores: 1, branches: 2 });
    expect(seen).toEqual(['f0:3', 'l0:8', 'f3:4', 'f7:3', 's0:8', 'f10:2', 'f12:1', 'stack:8']);
    expect(trace).toEqual(['mov rax, qword ptr [rdi]', 'add rax, 1', 'mov qword ptr [rdi], rax', `jmp ${hexAddr(code + 12).replace(/^0x0*/, '0x')}`, 'ret']);
    const again = cpu.call(code, [data]);
    expect(big(again.ret)).toBe(2n);
  });
});
