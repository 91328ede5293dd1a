import { beforeAll, describe, expect, it } from 'vitest';
import { initCapstone } from '../../support/capstone.js';
import { big, hex, rig } from './helpers.js';

beforeAll(async () => { await initCapstone(); });

describe('x86 smoke', () => {
  it('mov rax, rdi; ret', () => {
    const { cpu, code } = rig('x86_64', hex('48 89 f8 c3'));
    const r = cpu.call(code, [42]);
    expect(big(r.ret)).toBe(42n);
    expect(r.counters.insns).toBe(2);
  });
  it('loopA', () => {
    const { cpu, code } = rig('x86_64', hex('31 c0 48 89 f9 48 01 c8 48 83 e9 01 75 f7 c3'));
    const r = cpu.call(code, [1000]);
    expect(big(r.ret)).toBe(500500n);
  });
});
