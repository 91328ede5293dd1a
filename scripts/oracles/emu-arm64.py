#!/usr/bin/python3
"""arm64 emulator oracle: seeded random A64 programs run on Unicorn 2.0.1 (CPU model "max", with LSE).

Usage:
  /usr/bin/python3 scripts/oracles/emu-arm64.py generate [seed] > test/vectors/emulator/arm64-unicorn.json
      Generate straight-line and forward-branching programs from the instruction templates below,
      run each on Unicorn, and print the cases with Unicorn's final state (the committed vectors).
  /usr/bin/python3 scripts/oracles/emu-arm64.py run < cases.json
      Run given cases ({"words", "regs", "nzcv", "data"}) and print their final states (used by
      test/oracles/emu-arm64.test.ts for programs built with codegen/arm64 encoders).

  /usr/bin/python3 scripts/oracles/emu-arm64.py anchors > test/vectors/emulator/arm64-anchors.json
      Assemble ../shared/bench/loop{A,B}.a64.s with llvm-mc and record Unicorn's x0 for several counts.
  /usr/bin/python3 scripts/oracles/emu-arm64.py qemu > test/vectors/emulator/arm64-qemu.json
      Compile scripts/oracles/emu-arm64.leaf.c with aarch64-linux-gnu-gcc -O2, run each function under
      qemu-aarch64 through the harness scripts/oracles/emu-arm64.c, record x0-x17 after the call.

Machine model shared with the jitbox side (test/emulator/arm64-diff.test.ts):
  x0-x15 random operands; x20 = data + 256 (base of ordinary loads/stores; writeback keeps it in
  range); x21 = small index; x22 = data + 64 (aligned base for exclusives/atomics); data is 512
  random bytes. The program's last word is `ret`, which is not executed here (Unicorn stops at it).
  Registers compared: x0-x22 (x20 and x22 relative to the data base), NZCV, and the data bytes.
"""
import json
import random
import sys

from unicorn import Uc, UC_ARCH_ARM64, UC_MODE_ARM, UcError
from unicorn import arm64_const as A

CODE = 0x10000
DATA = 0x40000
DATA_LEN = 512
STACK = 0x80000
RET = 0xD65F03C0
M64 = (1 << 64) - 1

REGS = [getattr(A, f"UC_ARM64_REG_X{i}") for i in range(29)]


# ---- instruction templates (raw A64 encodings, Arm ARM C4) ----------------------------------

def ops_reg(r):
    return r.choice(list(range(16)) + [31])


def dst(r, allow_zr=True):
    return r.choice(list(range(16)) + ([31] if allow_zr else []))


def bitmask_ok(n, imms, immr, sf, immediate):
    combined = (n << 6) | (~imms & 0x3F)
    if combined == 0:
        return False
    length = combined.bit_length() - 1
    if length < 1:
        return False
    esize = 1 << length
    if esize > (64 if sf else 32):
        return False
    levels = esize - 1
    if immediate and (imms & levels) == levels:
        return False
    return True


def t_movewide(r):
    sf = r.randint(0, 1)
    opc = r.choice([0, 2, 3])
    hw = r.randint(0, 3 if sf else 1)
    return (sf << 31) | (opc << 29) | (0x25 << 23) | (hw << 21) | (r.getrandbits(16) << 5) | dst(r)


def t_addsub_imm(r):
    sf, op, s = r.randint(0, 1), r.randint(0, 1), r.randint(0, 1)
    rd = dst(r, allow_zr=bool(s))
    rn = r.randint(0, 15)
    return (sf << 31) | (op << 30) | (s << 29) | (0x22 << 23) | (r.randint(0, 1) << 22) | (r.getrandbits(12) << 10) | (rn << 5) | rd


def t_addsub_shift(r):
    sf, op, s = r.randint(0, 1), r.randint(0, 1), r.randint(0, 1)
    sh = r.randint(0, 2)
    amt = r.randint(0, 63 if sf else 31)
    return (sf << 31) | (op << 30) | (s << 29) | (0x0B << 24) | (sh << 22) | (ops_reg(r) << 16) | (amt << 10) | (ops_reg(r) << 5) | dst(r)


def t_addsub_ext(r):
    sf, op, s = r.randint(0, 1), r.randint(0, 1), r.randint(0, 1)
    rd = dst(r, allow_zr=bool(s))
    return (sf << 31) | (op << 30) | (s << 29) | (0x0B << 24) | (1 << 21) | (ops_reg(r) << 16) | (r.randint(0, 7) << 13) | (r.randint(0, 4) << 10) | (r.randint(0, 15) << 5) | rd


def t_adc(r):
    sf, op, s = r.randint(0, 1), r.randint(0, 1), r.randint(0, 1)
    return (sf << 31) | (op << 30) | (s << 29) | (0xD0 << 21) | (ops_reg(r) << 16) | (ops_reg(r) << 5) | dst(r)


def t_logimm(r):
    sf = r.randint(0, 1)
    while True:
        n = r.randint(0, 1) if sf else 0
        immr, imms = r.randint(0, 63 if sf else 31), r.randint(0, 63 if sf else 31)
        if bitmask_ok(n, imms, immr, sf, True):
            break
    opc = r.randint(0, 3)
    rd = dst(r, allow_zr=(opc == 3))
    return (sf << 31) | (opc << 29) | (0x24 << 23) | (n << 22) | (immr << 16) | (imms << 10) | (ops_reg(r) << 5) | rd


def t_logreg(r):
    sf = r.randint(0, 1)
    return (sf << 31) | (r.randint(0, 3) << 29) | (0x0A << 24) | (r.randint(0, 3) << 22) | (r.randint(0, 1) << 21) | (ops_reg(r) << 16) | (r.randint(0, 63 if sf else 31) << 10) | (ops_reg(r) << 5) | dst(r)


def t_shiftv(r):
    sf = r.randint(0, 1)
    return (sf << 31) | (0xD6 << 21) | (ops_reg(r) << 16) | ((8 + r.randint(0, 3)) << 10) | (ops_reg(r) << 5) | dst(r)


def t_div(r):
    sf = r.randint(0, 1)
    return (sf << 31) | (0xD6 << 21) | (ops_reg(r) << 16) | (r.randint(2, 3) << 10) | (ops_reg(r) << 5) | dst(r)


def t_bitfield(r):
    sf = r.randint(0, 1)
    opc = r.randint(0, 2)
    immr, imms = r.randint(0, 63 if sf else 31), r.randint(0, 63 if sf else 31)
    return (sf << 31) | (opc << 29) | (0x26 << 23) | (sf << 22) | (immr << 16) | (imms << 10) | (ops_reg(r) << 5) | dst(r)


def t_extr(r):
    sf = r.randint(0, 1)
    return (sf << 31) | (0x27 << 23) | (sf << 22) | (ops_reg(r) << 16) | (r.randint(0, 63 if sf else 31) << 10) | (ops_reg(r) << 5) | dst(r)


def t_mul(r):
    choice = r.randint(0, 3)
    if choice == 0:
        sf = r.randint(0, 1)
        return (sf << 31) | (0xD8 << 21) | (ops_reg(r) << 16) | (r.randint(0, 1) << 15) | (ops_reg(r) << 10) | (ops_reg(r) << 5) | dst(r)
    if choice == 1:
        op31 = r.choice([1, 5])
        return (1 << 31) | (0xD8 << 21) | (op31 << 21) | (ops_reg(r) << 16) | (r.randint(0, 1) << 15) | (ops_reg(r) << 10) | (ops_reg(r) << 5) | dst(r)
    op31 = r.choice([2, 6])
    return (1 << 31) | (0xD8 << 21) | (op31 << 21) | (ops_reg(r) << 16) | (31 << 10) | (ops_reg(r) << 5) | dst(r)


def t_unary(r):
    sf = r.randint(0, 1)
    opc = r.randint(0, 5) if sf else r.choice([0, 1, 2, 4, 5])
    return (sf << 31) | (0x2D6 << 21) | (opc << 10) | (ops_reg(r) << 5) | dst(r)


def t_csel(r):
    sf = r.randint(0, 1)
    return (sf << 31) | (r.randint(0, 1) << 30) | (0xD4 << 21) | (ops_reg(r) << 16) | (r.randint(0, 15) << 12) | (r.randint(0, 1) << 10) | (ops_reg(r) << 5) | dst(r)


def t_ccmp(r):
    sf = r.randint(0, 1)
    return (sf << 31) | (r.randint(0, 1) << 30) | (1 << 29) | (0xD2 << 21) | (ops_reg(r) << 16) | (r.randint(0, 15) << 12) | (r.randint(0, 1) << 11) | (ops_reg(r) << 5) | r.randint(0, 15)


def t_ldst(r):
    size = r.randint(0, 3)
    opc = r.choice([0, 1, 2, 3]) if size < 2 else (r.choice([0, 1, 2]) if size == 2 else r.choice([0, 1]))
    rt = dst(r)
    form = r.randint(0, 4)
    base = (size << 30) | (7 << 27) | (opc << 22) | (20 << 5) | rt
    if form == 0:
        return base | (1 << 24) | (r.randint(0, 16) << 10)
    if form == 1:
        return base | ((r.randint(-40, 40) & 0x1FF) << 12)
    if form in (2, 3):
        return base | ((r.randint(-16, 16) & 0x1FF) << 12) | ((1 if form == 2 else 3) << 10)
    option = r.choice([2, 3, 6, 7])
    return base | (1 << 21) | (21 << 16) | (option << 13) | (r.randint(0, 1) << 12) | (2 << 10)


def t_pair(r):
    opc = r.choice([0, 1, 2])
    l = 1 if opc == 1 else r.randint(0, 1)
    mode = r.choice([1, 2, 3]) if opc != 1 else r.choice([1, 2, 3])
    rt = dst(r)
    rt2 = dst(r)
    while l and rt2 == rt:
        rt2 = dst(r)
    imm = r.randint(-4, 4) & 0x7F
    return (opc << 30) | (0x5 << 27) | (mode << 23) | (l << 22) | (imm << 15) | (rt2 << 10) | (20 << 5) | rt


def t_excl_unit(r):
    size = r.randint(0, 3)
    acq = r.randint(0, 1)
    rt = r.randint(0, 15)
    rt2 = r.randint(0, 15)
    ws = r.randint(0, 15)
    while ws in (rt2,):
        ws = r.randint(0, 15)
    ld = (size << 30) | (0x08 << 24) | (1 << 22) | (31 << 16) | (acq << 15) | (31 << 10) | (22 << 5) | rt
    add = (1 << 31) | (0x22 << 23) | (r.randint(1, 99) << 10) | (rt << 5) | rt2
    st = (size << 30) | (0x08 << 24) | (ws << 16) | (acq << 15) | (31 << 10) | (22 << 5) | rt2
    return [ld, add, st]


def t_acqrel(r):
    size = r.randint(0, 3)
    l = r.randint(0, 1)
    rt = dst(r) if l else ops_reg(r)
    return (size << 30) | (0x08 << 24) | (1 << 23) | (l << 22) | (31 << 16) | (1 << 15) | (31 << 10) | (22 << 5) | rt


def t_atomic(r):
    size = r.randint(0, 3)
    a, rr = r.randint(0, 1), r.randint(0, 1)
    if r.randint(0, 4) == 0:
        o3, opc = 1, 0
    else:
        o3, opc = 0, r.randint(0, 7)
    if opc >= 4 and size < 3:
        # Unicorn 2.0.1 (QEMU 5) compares untruncated Rs for 8/16/32-bit ld{s,u}{min,max}; qemu 7.2
        # and the Arm ARM truncate. Those sizes are checked against qemu-aarch64 instead.
        size = 3
    return (size << 30) | (7 << 27) | (a << 23) | (rr << 22) | (1 << 21) | (ops_reg(r) << 16) | (o3 << 15) | (opc << 12) | (22 << 5) | dst(r)


def t_cas(r):
    size = r.randint(0, 3)
    return (size << 30) | (0x08 << 24) | (1 << 23) | (r.randint(0, 1) << 22) | (1 << 21) | (r.randint(0, 15) << 16) | (r.randint(0, 1) << 15) | (31 << 10) | (22 << 5) | ops_reg(r)


def t_misc(r):
    return r.choice([0xD503201F, 0xD503203F, 0xD503245F, 0xD503249F, 0xD50324DF, 0xD5033BBF, 0xD5033B9F, 0xD5033FDF,
                     0xF9800280, 0xD5033F9F])


TEMPLATES = [
    (t_movewide, 3), (t_addsub_imm, 4), (t_addsub_shift, 4), (t_addsub_ext, 3), (t_adc, 2), (t_logimm, 4),
    (t_logreg, 4), (t_shiftv, 2), (t_div, 2), (t_bitfield, 4), (t_extr, 2), (t_mul, 3), (t_unary, 2), (t_csel, 3),
    (t_ccmp, 2), (t_ldst, 6), (t_pair, 3), (t_acqrel, 1), (t_atomic, 2), (t_cas, 1), (t_misc, 1),
]


def pick(r):
    total = sum(w for _, w in TEMPLATES)
    k = r.randrange(total)
    for fn, w in TEMPLATES:
        if k < w:
            return fn(r)
        k -= w
    raise AssertionError


def gen_program(r, branching):
    body = []
    n = r.randint(12, 40)
    while len(body) < n:
        if r.randint(0, 25) == 0:
            body.extend(t_excl_unit(r))
        else:
            body.append(pick(r))
    if branching:
        for _ in range(r.randint(2, 6)):
            i = r.randrange(len(body))
            dist = r.randint(1, len(body) - i)  # forward, at most to the final ret
            kind = r.randint(0, 3)
            if kind == 0:
                w = 0x54000000 | ((dist & 0x7FFFF) << 5) | r.randint(0, 14)
            elif kind == 1:
                w = (r.randint(0, 1) << 31) | (0x1A << 25) | (r.randint(0, 1) << 24) | ((dist & 0x7FFFF) << 5) | ops_reg(r)
            elif kind == 2:
                bit = r.randint(0, 63)
                w = ((bit >> 5) << 31) | (0x1B << 25) | (r.randint(0, 1) << 24) | ((bit & 31) << 19) | ((dist & 0x3FFF) << 5) | ops_reg(r)
            else:
                w = 0x14000000 | (dist & 0x3FFFFFF)
            body[i] = w
    return body + [RET]


SPECIAL = [0, 1, M64, 1 << 63, (1 << 63) - 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x100000000]


def gen_case(r, branching):
    regs = [r.getrandbits(64) if r.randint(0, 3) else r.choice(SPECIAL) for _ in range(16)]
    regs += [0, 0, 0, 0, 256, r.randint(0, 16), 64]  # x16-x19 zero, x20/x22 data-relative, x21 index
    return {
        "words": gen_program(r, branching),
        "regs": [f"0x{v:016x}" for v in regs],
        "nzcv": r.randint(0, 15),
        "data": bytes(r.getrandbits(8) for _ in range(DATA_LEN)).hex(),
    }


# ---- running on Unicorn ------------------------------------------------------------------------

def run_case(case):
    uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
    uc.ctl_set_cpu_model(A.UC_CPU_ARM64_MAX)
    uc.mem_map(CODE, 0x10000)
    uc.mem_map(DATA, 0x1000)
    uc.mem_map(STACK, 0x1000)
    code = b"".join(w.to_bytes(4, "little") for w in case["words"])
    uc.mem_write(CODE, code)
    uc.mem_write(DATA, bytes.fromhex(case["data"]))
    regs = [int(v, 16) for v in case["regs"]]
    for i, v in enumerate(regs):
        if i in (20, 22):
            v = (DATA + v) & M64
        uc.reg_write(REGS[i], v)
    uc.reg_write(A.UC_ARM64_REG_SP, STACK + 0x800)
    uc.reg_write(A.UC_ARM64_REG_NZCV, case["nzcv"] << 28)
    end = CODE + 4 * (len(case["words"]) - 1)
    uc.emu_start(CODE, end, count=10000)
    if uc.reg_read(A.UC_ARM64_REG_PC) != end:
        raise UcError(0)
    out = []
    for i in range(23):
        v = uc.reg_read(REGS[i])
        if i in (20, 22):
            v = (v - DATA) & M64
        out.append(f"0x{v:016x}")
    after = bytes(uc.mem_read(DATA, DATA_LEN))
    before = bytes.fromhex(case["data"])
    return {
        "regs": out,
        "nzcv": (uc.reg_read(A.UC_ARM64_REG_NZCV) >> 28) & 15,
        # bytes of the data area that changed: [offset, new value]
        "stores": [[i, after[i]] for i in range(DATA_LEN) if after[i] != before[i]],
    }


# ---- anchors and qemu-aarch64 -----------------------------------------------------------------

import os
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(HERE, "..", "..", "..", "shared", "bench")
ANCHOR_COUNTS = [1, 2, 1000, 100000, 100000000]


def assemble(path, tmp):
    obj = os.path.join(tmp, "a.o")
    binf = os.path.join(tmp, "a.bin")
    subprocess.run(["llvm-mc", "-triple=aarch64", "-filetype=obj", path, "-o", obj], check=True)
    subprocess.run(["llvm-objcopy", "-O", "binary", "--only-section=.text", obj, binf], check=True)
    with open(binf, "rb") as f:
        return f.read()


def unicorn_call(code, args, count=10**10):
    uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
    uc.mem_map(CODE, 0x10000)
    uc.mem_map(STACK, 0x1000)
    uc.mem_write(CODE, code)
    for i, a in enumerate(args):
        uc.reg_write(REGS[i], a & M64)
    uc.reg_write(A.UC_ARM64_REG_SP, STACK + 0x800)
    uc.reg_write(A.UC_ARM64_REG_LR, CODE + 0x8000)
    uc.emu_start(CODE, CODE + 0x8000)
    return uc.reg_read(A.UC_ARM64_REG_X0)


def anchors():
    out = {"tool": "llvm-mc -triple=aarch64 + unicorn 2.0.1", "loops": []}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("loopA", "loopB"):
            code = assemble(os.path.join(BENCH, f"{name}.a64.s"), tmp)
            runs = [{"n": n, "ret": f"0x{unicorn_call(code, [n]):x}"} for n in ANCHOR_COUNTS]
            out["loops"].append({"name": name, "code": code.hex(), "runs": runs})
    print(json.dumps(out, indent=1))


LEAF_ARGS = {
    "fib": [[0], [1], [10], [90], [200]],
    "gcd": [[0, 5], [48, 18], [2**64 - 1, 2**63 + 1], [1071, 462], [123456789012345, 987654321]],
    "collatz": [[1], [27], [97], [2**40 + 1], [837799]],
    "mix64": [[0, 1], [1, 1], [0xDEADBEEF, 10], [2**64 - 1, 3], [12345, 100]],
    "sdiv_mix": [[100, 7, -100, 7], [-(2**63), -1, -(2**31), -1], [5, 0, 5, 0], [-7, 2, 7, -2], [2**62, 3, 2**31 - 1, 3]],
    "bits": [[0, 0], [1, 2], [2**64 - 1, 2**63], [0x0123456789ABCDEF, 0xFEDCBA9876543210], [0x80, 0x8000]],
    "minmax": [[1, 2, 3], [255, 0xFFFF_FFFF_FFFF_FF00, 5], [0x7FFFFFFF, 0x80000000, 2**64 - 1], [2**63, 1, 2**63], [0xABCD, 0x1234, 0xABCD]],
    "sum_array": [[0, 1], [10, 2], [64, 12345], [100, 2**64 - 1], [33, 7]],
}
# Functions whose caller-saved registers after the call hold no stack addresses (all of x0-x17 compared).
PURE = {"fib", "gcd", "collatz", "mix64", "sdiv_mix", "bits"}


def qemu():
    out = {"tool": "aarch64-linux-gnu-gcc -O2 -march=armv8.1-a + qemu-aarch64", "functions": []}
    with tempfile.TemporaryDirectory() as tmp:
        obj = os.path.join(tmp, "leaf.o")
        harness = os.path.join(tmp, "harness")
        subprocess.run(["aarch64-linux-gnu-gcc", "-O2", "-march=armv8.1-a", "-mgeneral-regs-only", "-ffunction-sections", "-fno-stack-protector",
                        "-fno-asynchronous-unwind-tables", "-c", os.path.join(HERE, "emu-arm64.leaf.c"), "-o", obj], check=True)
        subprocess.run(["aarch64-linux-gnu-gcc", "-O2", "-static", os.path.join(HERE, "emu-arm64.c"), "-o", harness], check=True)
        funcs = [("anchor-" + n, assemble(os.path.join(BENCH, f"{n}.a64.s"), tmp), [[1000], [123457]]) for n in ("loopA", "loopB")]
        for name, args in LEAF_ARGS.items():
            binf = os.path.join(tmp, name + ".bin")
            subprocess.run(["aarch64-linux-gnu-objcopy", "-O", "binary", f"--only-section=.text.{name}", obj, binf], check=True)
            with open(binf, "rb") as f:
                funcs.append((name, f.read(), args))
        for name, code, arglist in funcs:
            runs = []
            for args in arglist:
                r = subprocess.run(["qemu-aarch64", harness, code.hex()] + [str(a & M64) for a in args], check=True, capture_output=True, text=True)
                pure = name in PURE or name.startswith("anchor")
                regs = r.stdout.split()
                # Functions that use the stack leave stack addresses (environment-dependent) behind.
                runs.append({"args": [f"0x{a & M64:x}" for a in args], "regs": regs if pure else regs[:1]})
            out["functions"].append({"name": name, "hex": code.hex(), "pure": name in PURE or name.startswith("anchor"), "runs": runs})
    print(json.dumps(out, indent=1))


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "generate"
    if mode == "anchors":
        return anchors()
    if mode == "qemu":
        return qemu()
    if mode == "run":
        cases = json.load(sys.stdin)
        results = []
        for c in cases:
            try:
                results.append(run_case(c))
            except UcError as e:
                results.append({"error": str(e)})
        json.dump(results, sys.stdout)
        return
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 2026
    r = random.Random(seed)
    cases = []
    for k in range(300):
        c = gen_case(r, branching=(k % 2 == 1))
        try:
            c["expect"] = run_case(c)
        except UcError:
            continue
        cases.append(c)
    print(json.dumps({"tool": "unicorn 2.0.1 (UC_CPU_ARM64_MAX)", "seed": seed, "dataLen": DATA_LEN, "cases": cases}))


if __name__ == "__main__":
    main()
