// WebAssembly unpackers built with binaryen (reference/bkey.md §5 "WebAssembly"): one module per
// format holding `unpack(dst, src)` lowered from the §4 plan, and one shared generic module whose
// `unpack_generic(fmt, dst, src)` interprets a 56-byte bkey_format read from memory, so the host
// can compare compiled and interpreted unpack natively on equal terms.
//
// Invariants:
// - Pure: a format in, module bytes out (binaryen-optimised); nothing is instantiated here.
// - Modules import their memory as env.memory (min 1 page, no maximum) so they can run over any
//   WebAssembly.Memory, e.g. one shared with execmem later.
// - Per-format loads mirror x86 (§4): memarg offsets hold the byte offsets, C5 uses two loads with
//   shl/shr/or (no funnel shift in wasm); stores are i64.store / i64.store32 at the struct offsets.
// - Exports: per-format `unpack(dst, src)` and `unpack_batch(dst, src, n, stride)` (n keys packed
//   `stride` bytes apart into n consecutive 40-byte structs); generic `unpack_generic(fmt, dst, src)`
//   and `unpack_generic_batch(fmt, dst, src, n, stride)`.

import binaryen from 'binaryen';
import { InvariantError } from '../../support/errors.js';
import { BKEY_BYTES, type BkeyFormat } from './layout.js';
import { fieldInfo, planUnpack } from './plan.js';

type Expr = number;

export interface WasmUnpacker {
  bytes: Uint8Array;
  size: number;
  /** binaryen's text form of the optimised module. */
  text: string;
}

/** binaryen 132 takes i64 constants as a (signed) BigInt; this is generation time, not a hot path. */
function i64Const(m: binaryen.Module, lo: number, hi: number): Expr {
  return m.i64.const(BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)));
}

function newModule(): binaryen.Module {
  const m = new binaryen.Module();
  m.setMemory(1, -1, null, [], false, false, 'mem');
  m.addMemoryImport('mem', 'env', 'memory');
  return m;
}

function finish(m: binaryen.Module, optimize: boolean): WasmUnpacker {
  if (!m.validate()) {
    m.dispose();
    throw new InvariantError('binaryen rejected the generated unpacker module');
  }
  if (optimize) {
    binaryen.setOptimizeLevel(2);
    binaryen.setShrinkLevel(0);
    m.optimize();
  }
  const bytes = m.emitBinary();
  const text = m.emitText();
  m.dispose();
  return { bytes, size: bytes.length, text };
}

/** Adds `unpack_batch`-style loop: for i < n: call(fn)(dst + 40*i, src + stride*i). */
function addBatch(m: binaryen.Module, name: string, callee: string, extraParams: number): void {
  const i32 = binaryen.i32;
  // params: [extra...] dst src n stride ; locals: i
  const P = extraParams;
  const dst = P;
  const src = P + 1;
  const n = P + 2;
  const stride = P + 3;
  const idx = P + 4;
  const get = (k: number): Expr => m.local.get(k, i32);
  const args: Expr[] = [];
  for (let k = 0; k < P; k++) args.push(get(k));
  args.push(m.i32.add(get(dst), m.i32.mul(get(idx), m.i32.const(BKEY_BYTES))));
  args.push(m.i32.add(get(src), m.i32.mul(get(idx), get(stride))));
  const body = m.block(null, [
    m.local.set(idx, m.i32.const(0)),
    m.block('done', [
      m.br('done', m.i32.ge_u(get(idx), get(n))),
      m.loop(
        'next',
        m.block(null, [
          m.call(callee, args, binaryen.none),
          m.local.set(idx, m.i32.add(get(idx), m.i32.const(1))),
          m.br('next', m.i32.lt_u(get(idx), get(n))),
        ]),
      ),
    ]),
  ]);
  const params = binaryen.createType(Array(P + 4).fill(i32) as number[]);
  m.addFunction(name, params, binaryen.none, [i32], body);
  m.addFunctionExport(name, name);
}

/** Adds `name(dst, src)`: the §4 plan of `f` lowered to wasm. */
function addFormatFunction(m: binaryen.Module, name: string, f: BkeyFormat): void {
  const i32 = binaryen.i32;
  const plan = planUnpack(f);
  const dst = (): Expr => m.local.get(0, i32);
  const src = (): Expr => m.local.get(1, i32);
  const c64 = (lo: number, hi: number): Expr => i64Const(m, lo, hi);
  const body: Expr[] = [
    m.i32.store(0, 1, dst(), m.i32.add(m.i32.and(m.i32.load(0, 1, src()), m.i32.const(0xffffff)), m.i32.const(plan.headerAdd))),
  ];
  for (const fp of plan.fields) {
    const info = fieldInfo(fp.field);
    const store = (v: Expr): Expr => (info.store === 8 ? m.i64.store(info.dstOffset, 1, dst(), v) : m.i64.store32(info.dstOffset, 1, dst(), v));
    let v: Expr;
    switch (fp.kind) {
      case 'A':
        body.push(store(c64(0, 0)));
        continue;
      case 'B':
        body.push(store(c64(fp.value.lo, fp.value.hi)));
        continue;
      case 'C1':
        v = m.i64.load8_u(fp.byte, 1, src());
        break;
      case 'C2':
        v = m.i64.load16_u(fp.byte, 1, src());
        break;
      case 'C3':
        v = m.i64.load32_u(fp.byte, 1, src());
        if (fp.shift) v = m.i64.shr_u(v, c64(fp.shift, 0));
        if (fp.mask) v = m.i64.and(v, c64(fp.bits >= 32 ? -1 : 2 ** fp.bits - 1, 0));
        break;
      case 'C4':
        v = m.i64.load(fp.byte, 1, src());
        if (fp.shl) v = m.i64.shl(v, c64(fp.shl, 0));
        if (fp.shr) v = m.i64.shr_u(v, c64(fp.shr, 0));
        break;
      case 'C5':
        v = m.i64.or(
          m.i64.shr_u(m.i64.load(fp.byte, 1, src()), c64(fp.shift, 0)),
          m.i64.shl(m.i64.load32_u(fp.byte + 8, 1, src()), c64(64 - fp.shift, 0)),
        );
        if (fp.shr) v = m.i64.shr_u(v, c64(fp.shr, 0));
        break;
    }
    if (fp.add.lo !== 0 || fp.add.hi !== 0) v = m.i64.add(v, c64(fp.add.lo, fp.add.hi));
    body.push(store(v));
  }
  m.addFunction(name, binaryen.createType([i32, i32]), binaryen.none, [], m.block(null, body));
  m.addFunctionExport(name, name);
}

/** The per-format unpacker as a wasm module (bytes, size, text): exports unpack and unpack_batch. */
export function buildWasmUnpacker(f: BkeyFormat): WasmUnpacker {
  const m = newModule();
  addFormatFunction(m, 'unpack', f);
  addBatch(m, 'unpack_batch', 'unpack', 0);
  return finish(m, true);
}

/**
 * Many formats in one module (exports unpack_0 .. unpack_{n-1}), for fuzzing at scale where a
 * module per format would be dominated by compile time. `optimize: false` keeps the generator's
 * own instruction selection untouched by binaryen's passes.
 */
export function buildWasmUnpackerSet(formats: readonly BkeyFormat[], optimize = false): WasmUnpacker {
  const m = newModule();
  formats.forEach((f, i) => addFormatFunction(m, `unpack_${i}`, f));
  return finish(m, optimize);
}

/**
 * The shared generic unpacker: reads key_u64s, bits[6] and le64 offset[6] from a 56-byte
 * bkey_format at `fmt` and streams the key from its top word down with a left-justified 64-bit
 * buffer (the interpreter of §2), the field loop unrolled over the fixed field table.
 */
export function buildWasmGenericUnpacker(): WasmUnpacker {
  const m = newModule();
  const i32 = binaryen.i32;
  const i64 = binaryen.i64;
  // params: fmt dst src ; locals: p(i32) left(i32) b(i32) need(i32) buf(i64) v(i64)
  const FMT = 0;
  const DST = 1;
  const SRC = 2;
  const P = 3;
  const LEFT = 4;
  const B = 5;
  const NEED = 6;
  const BUF = 7;
  const V = 8;
  const g32 = (k: number): Expr => m.local.get(k, i32);
  const g64 = (k: number): Expr => m.local.get(k, i64);
  const ku = (): Expr => m.i32.load8_u(0, 1, g32(FMT));
  const body: Expr[] = [
    m.i32.store(
      0,
      1,
      g32(DST),
      m.i32.add(m.i32.and(m.i32.load(0, 1, g32(SRC)), m.i32.const(0xffffff)), m.i32.sub(m.i32.const(0x105), ku())),
    ),
    m.local.set(P, m.i32.add(g32(SRC), m.i32.shl(m.i32.sub(ku(), m.i32.const(1)), m.i32.const(3)))),
    m.local.set(BUF, m.i64.load(0, 1, g32(P))),
    m.local.set(LEFT, m.i32.const(64)),
  ];
  const shlOrZero = (x: Expr, by: Expr, byCopy: Expr): Expr =>
    m.select(m.i32.lt_u(byCopy, m.i32.const(64)), m.i64.shl(x, m.i64.extend_u(by)), i64Const(m, 0, 0));
  for (let i = 0; i < 6; i++) {
    const info = fieldInfo(i);
    const extract = m.block(null, [
      m.local.set(V, m.i64.shr_u(g64(BUF), m.i64.extend_u(m.i32.sub(m.i32.const(64), g32(B))))),
      m.if(
        m.i32.gt_u(g32(B), g32(LEFT)),
        m.block(null, [
          m.local.set(NEED, m.i32.sub(g32(B), g32(LEFT))),
          m.local.set(P, m.i32.sub(g32(P), m.i32.const(8))),
          m.local.set(BUF, m.i64.load(0, 1, g32(P))),
          m.local.set(V, m.i64.or(g64(V), m.i64.shr_u(g64(BUF), m.i64.extend_u(m.i32.sub(m.i32.const(64), g32(NEED)))))),
          m.local.set(BUF, shlOrZero(g64(BUF), g32(NEED), g32(NEED))),
          m.local.set(LEFT, m.i32.sub(m.i32.const(64), g32(NEED))),
        ]),
        m.block(null, [
          m.local.set(BUF, shlOrZero(g64(BUF), g32(B), g32(B))),
          m.local.set(LEFT, m.i32.sub(g32(LEFT), g32(B))),
        ]),
      ),
    ]);
    body.push(
      m.local.set(B, m.i32.load8_u(2 + i, 1, g32(FMT))),
      m.local.set(V, i64Const(m, 0, 0)),
      m.if(g32(B), extract),
    );
    const value = m.i64.add(g64(V), m.i64.load(8 + 8 * i, 1, g32(FMT)));
    body.push(info.store === 8 ? m.i64.store(info.dstOffset, 1, g32(DST), value) : m.i64.store32(info.dstOffset, 1, g32(DST), value));
  }
  m.addFunction('unpack_generic', binaryen.createType([i32, i32, i32]), binaryen.none, [i32, i32, i32, i32, i64, i64], m.block(null, body));
  m.addFunctionExport('unpack_generic', 'unpack_generic');
  addBatch(m, 'unpack_generic_batch', 'unpack_generic', 1);
  return finish(m, true);
}
