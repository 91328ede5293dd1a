// All 313 bpf_conformance tests on the interpreter (callx included), one vitest test per file, plus
// the .data parser's rules and its errors for malformed files.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConformanceFormatError, parseConformance, runConformanceTest } from '../../jit/bpf/conformance.js';
import { runBpf } from '../../jit/bpf/interp.js';
import { hex64Short } from '../../support/u64.js';

const DIR = new URL('../../../shared/conformance/', import.meta.url).pathname;
const files = readdirSync(DIR).filter((f) => f.endsWith('.data')).sort();
const engine = (program: Uint8Array, mem: Uint8Array) => runBpf(program, { mem }).r0;

describe('bpf_conformance on the interpreter', () => {
  it('finds 313 files', () => {
    expect(files.length).toBe(313);
  });
  for (const f of files) {
    it(f, () => {
      const t = parseConformance(readFileSync(DIR + f, 'utf8'), f);
      const out = runConformanceTest(t, engine);
      expect(out.status, `expected ${out.expected}, got ${out.actual}`).toBe('pass');
    });
  }
});

describe('.data parser', () => {
  it('reads sections by substring, raw words replace asm, ignores " c" and "no register offset"', () => {
    const t = parseConformance('# c\n-- asm\nmov %r0, 1\nexit\n-- raw\n0x00000002000000b7 149\n-- c\nint x;\n-- no register offset\n-- mem\n01 02\n  ff\n-- result\n\n0x2\n\n', 'x.data');
    expect(t.skip).toBeNull();
    expect(Array.from(t.program)).toEqual([0xb7, 0, 0, 0, 2, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(t.mem)).toEqual([1, 2, 0xff]);
    expect(t.expect).toEqual({ kind: 'result', r0: { lo: 2, hi: 0 } });
    expect(runConformanceTest(t, engine).status).toBe('pass');
  });
  it('decimal results are u64 (negative wraps)', () => {
    const t = parseConformance('-- asm\nmov %r0, -1\nexit\n-- result\n-1\n', 'n.data');
    expect(t.expect).toEqual({ kind: 'result', r0: { lo: 0xffffffff, hi: 0xffffffff } });
    expect(runConformanceTest(t, engine).status).toBe('pass');
  });
  it('an unknown directive skips the file; no result or error skips it', () => {
    expect(parseConformance('-- asm\nexit\n-- no jit\n-- result\n0', 'a.data').skip).toMatch(/unsupported directive/);
    expect(parseConformance('-- asm\nexit\n', 'b.data').skip).toMatch(/neither/);
    const out = runConformanceTest(parseConformance('-- asm\nexit\n', 'b.data'), engine);
    expect(out.status).toBe('skip');
  });
  it('-- error passes iff the run fails with exactly that message', () => {
    const prog = '-- asm\nldxw %r0, [%r1+0]\nexit\n';
    const t = parseConformance(prog + '-- error\nnope\n', 'e.data');
    const out = runConformanceTest(t, engine);
    expect(out.status).toBe('fail');
    expect(out.actual).toMatch(/memory fault/);
    let msg = '';
    try {
      engine(t.program, t.mem);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(runConformanceTest(parseConformance(prog + `-- error\n${msg}\n`, 'e.data'), engine).status).toBe('pass');
  });
  it('a wrong result is a failure showing expected and actual', () => {
    const out = runConformanceTest(parseConformance('-- asm\nmov %r0, 3\nexit\n-- result\n0x4\n', 'w.data'), engine);
    expect(out).toMatchObject({ status: 'fail', expected: '0x4', actual: hex64Short(3, 0) });
  });
  const bad: [string, RegExp][] = [
    ['-- asm\nmov %r0, 1\nbogus\n-- result\n1', /bad.data:3: unknown mnemonic "bogus"/],
    ['# x\n-- asm\n# y\nmov %r0, %r99\n-- result\n1', /bad.data:4: bad register/],
    ['-- asm\nexit\n-- mem\n01 zz\n-- result\n1', /bad.data:4: bad memory byte "zz"/],
    ['-- asm\nexit\n-- result\nfoo', /bad.data:4: bad result "foo"/],
    ['-- asm\nexit\n-- result\n0x11112222333344445', /bad.data:4: bad result/],
    ['-- raw\n0xzz\n-- result\n1', /bad.data:2: bad raw word/],
    ['stray\n-- asm\nexit', /bad.data:1: text outside any section/],
    ['-- asm\nexit\n-- result\n', /bad.data:\d+: empty -- result/],
  ];
  for (const [text, re] of bad) {
    it(`malformed: ${re.source}`, () => {
      expect(() => parseConformance(text, 'bad.data')).toThrow(ConformanceFormatError);
      expect(() => parseConformance(text, 'bad.data')).toThrow(re);
    });
  }
});
