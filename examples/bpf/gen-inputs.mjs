#!/usr/bin/env node
// Writes the committed input files of the BPF examples (deterministic: a fixed xorshift seed and
// hand-built packets). Run once; the files under inputs/ are what both gcc and jitbox read.
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'inputs');
mkdirSync(dir, { recursive: true });
let s = 0x2545f491;
const rnd = () => ((s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5), (s >>> 0) & 0xff);
const random = (n) => Uint8Array.from({ length: n }, rnd);

function ipv4(proto, payload, options = []) {
  const ihl = 5 + options.length / 4;
  const h = [0x40 | ihl, 0, 0, 0, 0x1c, 0x46, 0x40, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, ...options];
  const total = h.length + payload.length;
  h[2] = total >> 8; h[3] = total & 0xff;
  let sum = 0;
  for (let i = 0; i < h.length; i += 2) sum += (h[i] << 8) | h[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  sum = ~sum & 0xffff;
  h[10] = sum >> 8; h[11] = sum & 0xff;
  return [...h, ...payload];
}
const tcp = (dport) => [0x9c, 0x40, dport >> 8, dport & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0x72, 0x10, 0, 0, 0, 0];
const eth = (type, payload) => [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, type >> 8, type & 0xff, ...payload];

const files = {
  'empty.bin': [],
  'ipv4-header.bin': ipv4(17, []).slice(0, 20),
  'random-101.bin': [...random(101)],
  'random-256.bin': [...random(256)],
  'text.bin': [...Buffer.from('The quick brown fox jumps over the lazy dog; BPF runs it, gcc checks it. 0123456789\n')],
  'tcp-80.bin': eth(0x0800, ipv4(6, tcp(80))),
  'tcp-443.bin': eth(0x0800, ipv4(6, tcp(443))),
  'tcp-22-options.bin': eth(0x0800, ipv4(6, tcp(22), [1, 1, 1, 0])),
  'udp-53.bin': eth(0x0800, ipv4(17, [0x30, 0x39, 0, 53, 0, 8, 0, 0])),
  'arp.bin': eth(0x0806, [...random(28)]),
  'tcp-truncated.bin': eth(0x0800, ipv4(6, tcp(80))).slice(0, 40),
  'signed-pairs.bin': [0x00, 0x80, 0xff, 0x10, 0x27, 0x00, 0xf6, 0xff, 0x07, 0x01, 0x00, 0x80, 0xc8, 0x00, 0xfd, 0xff, 0x7f, 0x81],
};
for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), Uint8Array.from(bytes));
console.log(`wrote ${Object.keys(files).length} files to ${dir}`);
