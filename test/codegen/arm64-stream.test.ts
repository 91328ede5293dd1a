// armMixedStream (the `assemble` benchmark's arm64 workload): emits exactly the reported count,
// every word decodes with Capstone, and the label branches resolve inside their block.
import { beforeAll, describe, expect, it } from 'vitest';
import { CodeBuffer } from '../../codegen/buffer.js';
import { armMixedStream } from '../../codegen/arm64/index.js';
import { disasmAll, initCapstone } from '../../support/capstone.js';

beforeAll(async () => {
  await initCapstone();
});

describe('armMixedStream', () => {
  it('emits whole 32-instruction blocks that Capstone decodes, with resolved branches', () => {
    const buf = new CodeBuffer('arm64');
    const n = armMixedStream(buf, 40);
    expect(n).toBe(64);
    const { bytes } = buf.finish({ base: 0x10000 });
    expect(bytes.length).toBe(n * 4);
    const insns = disasmAll('arm64', bytes, 0x10000);
    expect(insns.every((i) => i.mnemonic !== '.inst')).toBe(true);
    expect(insns.length).toBe(n);
    const texts = insns.map((i) => i.text);
    expect(texts[0]).toBe('stp x29, x30, [sp, #-0x10]!');
    expect(texts[17]).toBe('b.ne #0x10008');
    expect(texts[18]).toBe('cbz x10, #0x10078');
    expect(texts[30]).toBe('ldp x29, x30, [sp], #0x10');
    expect(texts[31]).toBe('ret');
    expect(texts[32 + 17]).toBe('b.ne #0x10088');
  });
});
