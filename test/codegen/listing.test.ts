// codegen/listing.ts and the `jitbox listing` command: final addresses from the base, bytes, and
// Capstone's text for both arches; undecodable bytes still listed.
import { Command } from 'commander';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { CodeBuffer } from '../../codegen/buffer.js';
import { formatListing, listing, listingJson } from '../../codegen/listing.js';
import * as X from '../../codegen/x86_64/index.js';
import { register } from '../../jit/commands/asm.js';
import { initCapstone } from '../../support/capstone.js';
import { hexToBytes } from '../../support/u64.js';

beforeAll(async () => {
  await initCapstone();
});

describe('listing', () => {
  it('lists an x86_64 image at its final address, branch targets absolute', () => {
    const b = new CodeBuffer('x86_64');
    const top = b.newLabel('top');
    b.bind(top);
    X.emitEndbr64(b);
    X.emitMov(b, X.rax, X.mem(X.rdi, 8));
    X.emitJcc(b, 'ne', top);
    X.emitRet(b);
    const base = -0x3fff0000;
    const out = b.finish({ base });
    const lines = listingJson(listing('x86_64', out.bytes, base));
    expect(lines).toEqual([
      { address: '0xffffffffc0010000', bytes: 'f3 0f 1e fa', text: 'endbr64' },
      { address: '0xffffffffc0010004', bytes: '48 8b 47 08', text: 'mov rax, qword ptr [rdi + 8]' },
      { address: '0xffffffffc0010008', bytes: '75 f6', text: 'jne 0xffffffffc0010000' },
      { address: '0xffffffffc001000a', bytes: 'c3', text: 'ret' },
    ]);
    const text = formatListing(listing('x86_64', out.bytes, base), out.labels, base);
    expect(text.split('\n')[0]).toBe('top:');
    expect(text).toContain('ffffffffc0010004:  48 8b 47 08');
  });

  it('lists arm64 words and keeps undecodable bytes as .byte/.inst lines', () => {
    const arm = listingJson(listing('arm64', hexToBytes('20 fc 4d d3 c0 03 5f d6') as Uint8Array, 0x1000));
    expect(arm.map((l) => l.text)).toEqual(['lsr x0, x1, #0xd', 'ret']);
    expect(arm[1]?.address).toBe('0x0000000000001004');
    const bad = listing('x86_64', hexToBytes('06 c3') as Uint8Array, 0);
    expect(bad.map((l) => l.text)).toEqual(['.byte 0x06', 'ret']);
  });
});

describe('jitbox listing', () => {
  async function run(args: string[]): Promise<string> {
    const program = new Command().option('--json').exitOverride();
    register(program);
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out += String(s);
      return true;
    });
    const errSpy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
      out += String(s);
      return true;
    });
    try {
      await program.parseAsync(['node', 'jitbox', ...args]);
    } finally {
      spy.mockRestore();
      errSpy.mockRestore();
    }
    return out;
  }

  it('prints one JSON object with hex addresses', async () => {
    const out = await run(['--json', 'listing', '--arch', 'x86_64', '--hex', '4889f8c3', '--base', '0xffffffffa0000000']);
    const j = JSON.parse(out) as { base: string; lines: { address: string; text: string }[] };
    expect(j.base).toBe('0xffffffffa0000000');
    expect(j.lines.map((l) => [l.address, l.text])).toEqual([
      ['0xffffffffa0000000', 'mov rax, rdi'],
      ['0xffffffffa0000003', 'ret'],
    ]);
  });

  it('text form and bad input', async () => {
    expect(await run(['listing', '--arch', 'arm64', '--hex', 'c0 03 5f d6', '--base', '0x1000'])).toBe('0000000000001000:  c0 03 5f d6  ret\n');
    const prev = process.exitCode;
    expect(await run(['--json', 'listing', '--arch', 'mips', '--hex', 'c3'])).toMatch(/"kind":"invalid-argument".*--arch must be x86_64 or arm64/);
    expect(await run(['listing', '--arch', 'x86_64', '--hex', 'zz'])).toMatch(/--hex is not a list of hex bytes/);
    expect(await run(['listing', '--arch', 'x86_64', '--hex', 'c3', '--base', '0x0000900000000000'])).toMatch(/not a canonical/);
    process.exitCode = prev;
  });
});
