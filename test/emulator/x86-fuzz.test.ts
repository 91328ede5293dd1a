// Random bytes and random well-formed programs through the x86_64 core: only typed faults, never a
// host exception or a hang (jit/fuzz/emu.ts runs 100,000 of these).
import { describe, expect, it } from 'vitest';
import { fuzzX86 } from '../../jit/fuzz/emu.js';

describe('x86_64 emulator fuzz (moderate)', () => {
  it('3000 random byte strings and programs end in a return or a typed fault', async () => {
    const s = await fuzzX86(3000, 11);
    expect(s.cases).toBe(3000);
    expect(s.returned).toBeGreaterThan(375);
    expect(Object.keys(s.faults).length).toBeGreaterThan(2);
  });
});
