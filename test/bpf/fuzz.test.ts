// A moderate run of the BPF fuzzer (jit/fuzz/bpf.ts runs 100,000): random byte strings, random
// well-formed and mutated programs through decoder, round trips and interpreter raise only typed
// errors; the generator really reaches every stage.
import { describe, expect, it } from 'vitest';
import { fuzzOne, newStats } from '../../jit/fuzz/bpf.js';
import { Rng } from '../../support/rng.js';

describe('BPF fuzz (moderate count)', () => {
  it('3000 cases: only typed errors, every stage reached', () => {
    const rng = new Rng(2024);
    const stats = newStats();
    for (let i = 0; i < 3000; i++) fuzzOne(rng, stats);
    expect(stats.cases).toBe(3000);
    expect(stats.decoded).toBeGreaterThan(1000);
    expect(stats.ran).toBeGreaterThan(500);
    expect(stats.completed).toBeGreaterThan(100);
    expect(stats.typedErrors.get('bpf-decode')).toBeGreaterThan(0);
    expect(stats.typedErrors.get('bpf-memory-fault')).toBeGreaterThan(0);
  });
});
