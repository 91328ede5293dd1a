// The W^X lessons of reference/execmem.md §7 shown on JIT output (`jitbox wx LESSON`): trap fill and
// invalidation on free (bpf_arch_text_invalidate), the random start offset inside a pack chunk
// (bpf_jit_binary_pack_alloc's hole), constant blinding (bpf_jit_harden), landing pads (ENDBR64 /
// BTI with the arm64 core's BTI enforcement), arm64 I-cache maintenance (flush_icache_range) and the
// interpreter as the no-JIT fallback. The program is examples/bpf/checksum.o unless stated.
//
// Invariants: as in lessons.ts — every figure is read back from the model after the operation, a
// demonstration that does not hold is reported as such (`holds: false`, "NOT ..." in the text).

import { BPF_BINARY_HEADER_SIZE, BPF_PACK_SLACK, BPF_PROG_CHUNK_SIZE } from '../../execmem/pack.js';
import { AddressSpace } from '../../execmem/space.js';
import { PAGE_SIZE } from '../../execmem/types.js';
import { Arm64Machine, createCpu } from '../../emulator/index.js';
import { bytesToHex, hexAddr } from '../../support/u64.js';
import { assembleInsns } from '../bpf/asm.js';
import { conformanceProfile } from '../bpf/helpers-conformance.js';
import { kernelProfile } from '../bpf/helpers-kernel.js';
import { BpfInterpreter, loadProgram } from '../bpf/interp.js';
import { encodeProgram } from '../bpf/isa.js';
import { type JitProgram, jitCompile } from '../bpf/jit.js';
import { BpfJitHost } from '../bpf/jit-host.js';
import { u64ToHex } from '../bpf/runtime.js';
import { loadChecksumExample } from './bpf.js';
import { type Lesson, errLine } from './lessons.js';
import { type TourArch, errorRecord, expectThrow } from './types.js';

const ARCHES: readonly TourArch[] = ['x86_64', 'arm64'];

function compile(arch: TourArch, seed: number, harden = true): JitProgram {
  const { prog } = loadChecksumExample();
  return jitCompile(prog, { arch, profile: kernelProfile, harden, seed, host: new BpfJitHost({ arch, seed }) });
}

function chunkBytes(jp: JitProgram): number {
  return Math.ceil((jp.size + BPF_BINARY_HEADER_SIZE + BPF_PACK_SLACK) / BPF_PROG_CHUNK_SIZE) * BPF_PROG_CHUNK_SIZE;
}

const trapFill: Lesson = {
  id: 'trap-fill',
  title: 'Trap-fill all slack and invalidate on free: calling freed code traps',
  embodiedBy: 'bpf_jit_fill_hole, bpf_arch_text_invalidate, bpf_prog_pack_free',
  run(seed) {
    const lines: string[] = [];
    const rows: Record<string, unknown>[] = [];
    let holds = true;
    for (const arch of ARCHES) {
      const jp = compile(arch, seed);
      const space = jp.host.space;
      const keeper = jitCompile(jp.program, { arch, profile: kernelProfile, harden: true, seed, host: jp.host });
      const padStart = jp.chunk + BPF_BINARY_HEADER_SIZE;
      const padBefore = jp.entry - padStart;
      const tail = jp.chunk + chunkBytes(jp) - (jp.entry + jp.size);
      const padOk = (padBefore === 0 || space.isTrapFilled(padStart, padBefore)) && (tail === 0 || space.isTrapFilled(jp.entry + jp.size, tail));
      jp.free();
      const freedOk = space.isTrapFilled(jp.entry, jp.size);
      const first = bytesToHex(space.read(jp.entry, 8));
      const e = expectThrow(() => jp.host.machine.call(jp.entry, [], { budget: 1000 }));
      const err = e === null ? null : errorRecord(e);
      keeper.free();
      if (!padOk || !freedOk || err?.name !== 'GuestTrap') holds = false;
      rows.push({ arch, chunk: hexAddr(jp.chunk), entry: hexAddr(jp.entry), size: jp.size, padBefore, slackAfter: tail, slackTrapFilled: padOk, freedTrapFilled: freedOk, freedBytes: first, callAfterFree: err });
      lines.push(
        `${arch}: ${jp.size}-byte image at ${hexAddr(jp.entry)} in chunk ${hexAddr(jp.chunk)}: ${padBefore} bytes of pad before it and ${tail} after it, trap-filled: ${padOk ? 'yes' : 'NO'}`,
        `  after bpf_jit_binary_pack_free the image reads ${first}... (${freedOk ? 'all traps' : 'NOT trap-filled'})`,
        `  calling the freed entry: ${errLine(err, 'RAN (use-after-free executed!)')}`,
      );
    }
    return { holds, record: { arches: rows }, lines };
  },
};

const randomOffset: Lesson = {
  id: 'random-offset',
  title: 'Random start offset: the image starts at a random, trap-padded offset inside its chunk',
  embodiedBy: 'bpf_jit_binary_pack_alloc (a random hole before the image, then trap fill)',
  run(seed) {
    const rows: { seed: number; chunk: string; entry: string; offsetInChunk: number; padTrapFilled: boolean }[] = [];
    for (let s = seed; s < seed + 8; s++) {
      const jp = compile('x86_64', s);
      const padStart = jp.chunk + BPF_BINARY_HEADER_SIZE;
      const pad = jp.entry - padStart;
      rows.push({ seed: s, chunk: hexAddr(jp.chunk), entry: hexAddr(jp.entry), offsetInChunk: jp.entry - jp.chunk, padTrapFilled: pad === 0 || jp.host.space.isTrapFilled(padStart, pad) });
    }
    const distinct = new Set(rows.map((r) => r.offsetInChunk)).size;
    const holds = distinct > 1 && rows.every((r) => r.padTrapFilled);
    return {
      holds,
      record: { runs: rows, distinctOffsets: distinct },
      lines: [
        'checksum.o JIT-compiled (x86_64) under 8 seeds: where the entry lands in its chunk',
        ...rows.map((r) => `  seed ${String(r.seed).padStart(3)}: entry ${r.entry} = chunk + ${String(r.offsetInChunk).padStart(3)}, pad trap-filled: ${r.padTrapFilled ? 'yes' : 'NO'}`),
        `${distinct} distinct offsets out of ${rows.length}`,
      ],
    };
  },
};

/** A program whose 32-bit constants are easy to search for in the image. */
const BLINDING_SOURCE = `
  mov %r0, 0x5eed1234
  add %r0, 0x0badf00d
  xor %r0, 0x13572468
  and %r0, 0x7fffffff
  exit
`;
const BLINDING_CONSTANTS = [0x5eed1234, 0x0badf00d, 0x13572468, 0x7fffffff];

function containsImm32(image: Uint8Array, v: number): boolean {
  const b = [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  for (let i = 0; i + 4 <= image.length; i++) if (image[i] === b[0] && image[i + 1] === b[1] && image[i + 2] === b[2] && image[i + 3] === b[3]) return true;
  return false;
}

const constantBlinding: Lesson = {
  id: 'constant-blinding',
  title: 'Constant blinding: user-chosen immediates never appear in executable memory',
  embodiedBy: 'bpf_jit_harden / bpf_jit_blind_constants, uBPF',
  run(seed) {
    const prog = loadProgram(encodeProgram(assembleInsns(BLINDING_SOURCE)), 'constants');
    const ir = new BpfInterpreter(prog, conformanceProfile).run({});
    const rows: Record<string, unknown>[] = [];
    const lines = [`program: ${BLINDING_SOURCE.trim().split('\n').map((l) => l.trim()).join('; ')}`, `interpreter r0 = ${u64ToHex(ir.r0)}`];
    let holds = true;
    for (const harden of [false, true]) {
      const jp = jitCompile(prog, { arch: 'x86_64', profile: conformanceProfile, harden, seed, host: new BpfJitHost({ arch: 'x86_64', seed }) });
      const rx = jp.host.space.read(jp.entry, jp.size);
      const found = BLINDING_CONSTANTS.filter((c) => containsImm32(rx, c));
      const r0 = u64ToHex(jp.run({}).r0);
      const agree = r0 === u64ToHex(ir.r0);
      if (!agree || (harden ? found.length !== 0 : found.length === 0)) holds = false;
      rows.push({ harden, size: jp.size, constantsInImage: found.map((c) => `0x${c.toString(16)}`), r0, agreesWithInterpreter: agree });
      lines.push(
        `x86_64 JIT ${harden ? 'with blinding   ' : 'without blinding'}: ${jp.size} bytes; constants found in the ROX image: ` +
          `${found.length === 0 ? 'none (all absent)' : found.map((c) => `0x${c.toString(16)}`).join(', ')}; r0 = ${r0} (${agree ? 'same result' : 'DIFFERENT result'})`,
      );
    }
    return { holds, record: { interpreterR0: u64ToHex(ir.r0), runs: rows }, lines };
  },
};

const ARM64 = { STP_FP_LR: 0xa9bf7bfd, BLR_X0: 0xd63f0000, LDP_FP_LR: 0xa8c17bfd, RET: 0xd65f03c0, MOVZ_W0_7: 0x528000e0, BTI_C: 0xd503245f } as const;

function words(ws: readonly number[]): Uint8Array {
  const b = new Uint8Array(ws.length * 4);
  const dv = new DataView(b.buffer);
  ws.forEach((w, i) => dv.setUint32(i * 4, w, true));
  return b;
}

const landingPads: Lesson = {
  id: 'landing-pads',
  title: 'Landing pads: every indirect way into JIT code starts with ENDBR64 / BTI',
  embodiedBy: 'x86 IBT (ENDBR64) and arm64 BTI in the BPF prologues',
  run(seed) {
    const lines: string[] = [];
    const x86 = compile('x86_64', seed);
    const x86Entry = bytesToHex(x86.host.space.read(x86.entry, 4));
    const x86Tail = bytesToHex(x86.host.space.read(x86.tailCallEntry, 4));
    const plain = compile('x86_64', seed, false);
    const plainEntry = bytesToHex(plain.host.space.read(plain.entry, 4));
    const ENDBR = 'f3 0f 1e fa';
    lines.push(
      `x86_64 hardened JIT: entry ${hexAddr(x86.entry)} starts ${x86Entry} (${x86Entry === ENDBR ? 'endbr64' : 'NO endbr64'}); tail-call landing ${hexAddr(x86.tailCallEntry)} starts ${x86Tail} (${x86Tail === ENDBR ? 'endbr64' : 'NO endbr64'})`,
      `  without hardening the entry starts ${plainEntry} (${plainEntry === ENDBR ? 'endbr64' : 'no pad'})`,
    );
    const arm = compile('arm64', seed);
    const armEntry = new DataView(arm.host.space.read(arm.entry, 4).slice().buffer).getUint32(0, true);
    lines.push(`arm64 hardened JIT: entry ${hexAddr(arm.entry)} starts 0x${armEntry.toString(16)} (${armEntry === ARM64.BTI_C ? 'bti c' : 'NO bti c'})`);

    // BTI enforcement: blr into a target with and without a `bti c` pad.
    const space = new AddressSpace({ arch: 'arm64', seed });
    const cpu = createCpu('arm64', space);
    if (cpu instanceof Arm64Machine) cpu.btiEnforce = true;
    const caller = space.execmemAlloc('KPROBES', PAGE_SIZE);
    space.textPokeCopy(caller, words([ARM64.STP_FP_LR, ARM64.BLR_X0, ARM64.LDP_FP_LR, ARM64.RET]));
    const bare = space.execmemAlloc('KPROBES', PAGE_SIZE);
    space.textPokeCopy(bare, words([ARM64.MOVZ_W0_7, ARM64.RET]));
    const padded = space.execmemAlloc('KPROBES', PAGE_SIZE);
    space.textPokeCopy(padded, words([ARM64.BTI_C, ARM64.MOVZ_W0_7, ARM64.RET]));
    const e = expectThrow(() => cpu.call(caller, [bare], { budget: 1000 }));
    const bareErr = e === null ? null : errorRecord(e);
    let paddedRet: number | null = null;
    try {
      paddedRet = cpu.call(caller, [padded], { budget: 1000 }).ret.lo;
    } catch {
      paddedRet = null;
    }
    lines.push(
      `arm64 with BTI enforced, "blr x0" into "mov w0, #7; ret" (no pad): ${errLine(bareErr, 'RAN (BTI not enforced!)')}`,
      `  into "bti c; mov w0, #7; ret": ${paddedRet === null ? 'FAULTED' : `returns ${paddedRet}`}`,
    );
    const holds = x86Entry === ENDBR && x86Tail === ENDBR && plainEntry !== ENDBR && armEntry === ARM64.BTI_C && bareErr?.name === 'BranchTargetFault' && paddedRet === 7;
    return { holds, record: { x86: { entry: x86Entry, tailCallEntry: x86Tail, unhardenedEntry: plainEntry }, arm64: { entryWord: `0x${armEntry.toString(16)}`, blrIntoBare: bareErr, blrIntoPadded: paddedRet } }, lines };
  },
};

const icache: Lesson = {
  id: 'icache',
  title: 'arm64 I-cache maintenance: code written without flush_icache_range is fetched stale',
  embodiedBy: 'flush_icache_range after aarch64_insn_copy / bpf_jit_binary_pack_finalize',
  run(seed) {
    const { input } = loadChecksumExample();
    const { prog } = loadChecksumExample();
    const jp = jitCompile(prog, { arch: 'arm64', profile: kernelProfile, harden: true, seed, host: new BpfJitHost({ arch: 'arm64', seed }), skipIcacheFlush: true });
    const stale = jp.host.space.staleIcacheLine(jp.entry, jp.size);
    const e = expectThrow(() => jp.run({ mem: input }));
    const err = e === null ? null : errorRecord(e);
    jp.host.space.flushIcacheRange(jp.entry, jp.size);
    let r0: string | null = null;
    try {
      r0 = u64ToHex(jp.run({ mem: input }).r0);
    } catch {
      r0 = null;
    }
    const ir = new BpfInterpreter(prog, kernelProfile).run({ mem: input });
    const holds = err?.name === 'StaleIcacheFault' && r0 === u64ToHex(ir.r0);
    return {
      holds,
      record: { entry: hexAddr(jp.entry), firstStaleLine: stale === null ? null : hexAddr(stale), withoutFlush: err, afterFlushR0: r0, interpreterR0: u64ToHex(ir.r0) },
      lines: [
        `arm64 JIT of checksum.o finalized with text_poke_copy but no flush_icache_range: first stale line ${stale === null ? 'none' : hexAddr(stale)}`,
        `running it: ${errLine(err, 'RAN (stale fetch NOT detected)')}`,
        `after flush_icache_range(${hexAddr(jp.entry)}, ${jp.size}): r0 = ${r0 ?? 'FAULTED'} (interpreter r0 = ${u64ToHex(ir.r0)})`,
      ],
    };
  },
};

const noJit: Lesson = {
  id: 'no-jit',
  title: 'Keep a no-JIT fallback: the interpreter runs every program and checks every JIT',
  embodiedBy: 'V8 --jitless, bpf_jit_enable=0 interpreter, bcachefs generic unpack',
  run(seed) {
    const { prog, input, object } = loadChecksumExample();
    const ir = new BpfInterpreter(prog, kernelProfile).run({ mem: input });
    const r0 = u64ToHex(ir.r0);
    const rows = ARCHES.map((arch) => {
      const jp = compile(arch, seed);
      const got = u64ToHex(jp.run({ mem: input }).r0);
      return { arch, r0: got, agrees: got === r0 };
    });
    return {
      holds: rows.every((r) => r.agrees),
      record: { object, interpreterR0: r0, interpreterInsns: ir.insns, jit: rows },
      lines: [
        `${object}: interpreter r0 = ${r0} (${ir.insns} BPF instructions, no executable memory used)`,
        ...rows.map((r) => `  ${r.arch} JIT r0 = ${r.r0}: ${r.agrees ? 'agrees' : 'DISAGREES'}`),
      ],
    };
  },
};

export const JIT_LESSONS: readonly Lesson[] = [trapFill, randomOffset, constantBlinding, landingPads, icache, noJit];
