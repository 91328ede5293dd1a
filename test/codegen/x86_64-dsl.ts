// Replays the builder calls recorded in the x86_64 golden vectors ("emitMov(b, rax, mem(rdi, 8));
// bind(b, L0)") against the real assembler. A tiny parser, not eval: identifiers resolve to
// registers, labels (L0, L1, ...), the buffer `b`, or functions exported by codegen/x86_64.

import { CodeBuffer, type FinishedCode, type Label } from '../../codegen/buffer.js';
import * as X86 from '../../codegen/x86_64/index.js';

type Value = unknown;

const FUNCTIONS = new Map<string, (...args: Value[]) => Value>();
for (const [name, v] of Object.entries(X86)) if (typeof v === 'function') FUNCTIONS.set(name, v as (...args: Value[]) => Value);
FUNCTIONS.set('bind', (buf: Value, label: Value) => (buf as CodeBuffer).bind(label as Label));

class Parser {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly env: { b: CodeBuffer; labels: Map<string, Label> },
  ) {}

  private ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i] as string)) this.i++;
  }

  private peek(): string {
    this.ws();
    return this.s[this.i] ?? '';
  }

  private expect(c: string): void {
    if (this.peek() !== c) throw new Error(`expected "${c}" at ${this.i} in ${this.s}`);
    this.i++;
  }

  program(): void {
    for (;;) {
      this.value();
      if (this.peek() === ';') this.i++;
      else break;
    }
    if (this.peek() !== '') throw new Error(`trailing text at ${this.i} in ${this.s}`);
  }

  private value(): Value {
    const c = this.peek();
    if (c === '{') return this.object();
    if (c === "'") {
      const j = this.s.indexOf("'", this.i + 1);
      const v = this.s.slice(this.i + 1, j);
      this.i = j + 1;
      return v;
    }
    const num = /^-?(0x[0-9a-fA-F]+|[0-9]+)/.exec(this.s.slice(this.i));
    if (num) {
      this.i += num[0].length;
      return Number(num[0].startsWith('-') ? -Number(num[0].slice(1)) : Number(num[0]));
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.i));
    if (!id) throw new Error(`unexpected "${c}" at ${this.i} in ${this.s}`);
    const name = id[0];
    this.i += name.length;
    if (this.peek() === '(') {
      this.i++;
      const args: Value[] = [];
      while (this.peek() !== ')') {
        args.push(this.value());
        if (this.peek() === ',') this.i++;
      }
      this.i++;
      const fn = FUNCTIONS.get(name);
      if (!fn) throw new Error(`unknown function ${name}`);
      return fn(...args);
    }
    if (name === 'b') return this.env.b;
    if (name === 'null') return null;
    if (name === 'true') return true;
    if (name === 'false') return false;
    const reg = X86.REGS_BY_NAME.get(name);
    if (reg) return reg;
    if (/^L[0-9]+$/.test(name)) {
      let l = this.env.labels.get(name);
      if (!l) {
        l = this.env.b.newLabel(name);
        this.env.labels.set(name, l);
      }
      return l;
    }
    throw new Error(`unknown identifier ${name}`);
  }

  private object(): Record<string, Value> {
    this.expect('{');
    const o: Record<string, Value> = {};
    while (this.peek() !== '}') {
      const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.i));
      if (!id) throw new Error(`bad object key at ${this.i} in ${this.s}`);
      this.i += id[0].length;
      this.expect(':');
      o[id[0]] = this.value();
      if (this.peek() === ',') this.i++;
    }
    this.i++;
    return o;
  }
}

/** Run a recorded builder call into `b` (a fresh buffer by default). */
export function runCall(call: string, b: CodeBuffer = new CodeBuffer('x86_64')): CodeBuffer {
  new Parser(call, { b, labels: new Map() }).program();
  return b;
}

/** Run and finish at `base`: the bytes that would go to a ROX image at that address. */
export function assembleCall(call: string, base = -0x60000000): FinishedCode {
  return runCall(call).finish({ base });
}

export interface GoldenCase {
  call: string;
  asm: string;
  bytes: string;
  llvm: string | null;
}
