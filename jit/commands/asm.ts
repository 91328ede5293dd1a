// `jitbox listing --arch x86_64|arm64 --hex "48 89 f8 c3" [--base 0x...]`: Capstone's listing of
// a code image (address, bytes, text), addresses taken from --base as the final ROX address would.
// With --json: {"arch", "base", "size", "lines": [{"address", "bytes", "text"}]} (addresses as hex).

import type { Command } from 'commander';
import { formatListing, listing, listingJson } from '../../codegen/listing.js';
import { type IsaArch, initCapstone } from '../../support/capstone.js';
import { InvalidArgumentError } from '../../support/errors.js';
import { hexAddr, hexToBytes, isCanonicalPair, parseU64, vaddrFromPair } from '../../support/u64.js';
import { type GlobalOptions, action, emit } from '../cli-util.js';

interface ListingOptions extends GlobalOptions {
  arch: string;
  hex: string;
  base: string;
}

export function parseArch(text: string): IsaArch {
  if (text === 'x86_64' || text === 'x86-64' || text === 'x64') return 'x86_64';
  if (text === 'arm64' || text === 'aarch64') return 'arm64';
  throw new InvalidArgumentError(`--arch must be x86_64 or arm64, got "${text}"`, { arch: text });
}

export function parseBase(text: string): number {
  const p = parseU64(text);
  if (!p) throw new InvalidArgumentError(`--base must be a 64-bit integer, got "${text}"`, { base: text });
  if (!isCanonicalPair(p.lo, p.hi)) throw new InvalidArgumentError(`--base ${text} is not a canonical 48-bit address`, { base: text });
  return vaddrFromPair(p.lo, p.hi);
}

export function register(program: Command): void {
  program
    .command('listing')
    .description('disassemble machine code with Capstone: address, bytes and text per instruction')
    .requiredOption('--arch <arch>', 'x86_64 or arm64')
    .requiredOption('--hex <bytes>', 'code bytes in hex ("48 89 f8 c3", "4889f8c3" or "0x48,0x89")')
    .option('--base <addr>', 'address of the first byte', '0xffffffffc0000000')
    .action(
      action(async (_o: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals<ListingOptions>();
        const arch = parseArch(o.arch);
        const bytes = hexToBytes(o.hex);
        if (!bytes) throw new InvalidArgumentError(`--hex is not a list of hex bytes: "${o.hex}"`, { hex: o.hex });
        const base = parseBase(o.base);
        await initCapstone();
        const lines = listing(arch, bytes, base);
        emit(o, { arch, base: hexAddr(base), size: bytes.length, lines: listingJson(lines) }, () => formatListing(lines));
      }),
    );
}
