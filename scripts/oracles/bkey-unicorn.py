#!/usr/bin/env python3
# Runs generated bcachefs unpackers under Unicorn (the outside oracle for codegen/bkey/x86_64.ts and
# codegen/bkey/arm64.ts).
# stdin:  {"arch": "x86_64"|"arm64" (default x86_64), "cases": [{"code": "hex", "key_u64s": n, "keys": ["hex packed key", ...]}, ...]}
# stdout: {"results": [{"outputs": ["hex 40-byte struct bkey", ...], "bad_reads": n, "error": null|str,
#          "insns": [instructions executed per key (ret included)]}, ...]}
# A case may carry "fmt" (hex of a 56-byte bkey_format) for the generic unpacker: it is placed in
# memory and passed as the third argument (rdx / x2).
# x86_64 SysV call: rdi = dst, rsi = src, return address on the stack; arm64 AAPCS64: x0 = dst,
# x1 = src, lr = return address. Either way the code returns to a sentinel address. Every memory read of
# the source page outside [src, src + 8*key_u64s) is counted in bad_reads (§4: loads stay in the key).
import json, sys
from unicorn import Uc, UC_ARCH_X86, UC_ARCH_ARM64, UC_MODE_64, UC_MODE_ARM, UC_HOOK_MEM_READ, UC_HOOK_CODE, UcError
from unicorn.x86_const import UC_X86_REG_RDI, UC_X86_REG_RSI, UC_X86_REG_RDX, UC_X86_REG_RSP, UC_X86_REG_RIP
from unicorn.arm64_const import UC_ARM64_REG_X0, UC_ARM64_REG_X1, UC_ARM64_REG_X2, UC_ARM64_REG_LR, UC_ARM64_REG_PC

CODE, SRC_PAGE, DST, STACK, SENTINEL = 0x100000, 0x200000, 0x300000, 0x400000, 0x100ff0
FMT = DST + 0x800
SRC = SRC_PAGE + 0x800

def main():
    req = json.load(sys.stdin)
    arm = req.get("arch", "x86_64") == "arm64"
    mu = Uc(UC_ARCH_ARM64, UC_MODE_ARM) if arm else Uc(UC_ARCH_X86, UC_MODE_64)
    for base in (CODE, SRC_PAGE, DST, STACK):
        mu.mem_map(base, 0x1000)
    state = {"lo": 0, "hi": 0, "bad": 0}
    def on_read(uc, access, addr, size, value, user):
        if SRC_PAGE <= addr < SRC_PAGE + 0x1000 and (addr < state["lo"] or addr + size > state["hi"]):
            state["bad"] += 1
    mu.hook_add(UC_HOOK_MEM_READ, on_read)
    executed = [0]
    def on_code(uc, addr, size, user):
        executed[0] += 1
    mu.hook_add(UC_HOOK_CODE, on_code, begin=CODE, end=CODE + 0xfff)
    results = []
    for case in req["cases"]:
        code = bytes.fromhex(case["code"])
        mu.mem_write(CODE, (b"\x00\x00\x00\x00" if arm else b"\xcc") * (0x1000 // (4 if arm else 1)))
        mu.mem_write(CODE, code)
        mu.ctl_remove_cache(CODE, CODE + 0x1000)  # unicorn caches translations across host writes
        outs, insns, err = [], [], None
        state["bad"] = 0
        state["lo"], state["hi"] = SRC, SRC + 8 * case["key_u64s"]
        fmt = bytes.fromhex(case.get("fmt", ""))
        mu.mem_write(FMT, fmt)
        for k in case["keys"]:
            key = bytes.fromhex(k)
            mu.mem_write(SRC_PAGE, b"\xa5" * 0x1000)
            mu.mem_write(SRC, key)
            mu.mem_write(DST, b"\x00" * 64)
            if arm:
                mu.reg_write(UC_ARM64_REG_LR, SENTINEL)
                mu.reg_write(UC_ARM64_REG_X0, DST)
                mu.reg_write(UC_ARM64_REG_X1, SRC)
                mu.reg_write(UC_ARM64_REG_X2, FMT)
            else:
                mu.reg_write(UC_X86_REG_RSP, STACK + 0x800)
                mu.mem_write(STACK + 0x800, SENTINEL.to_bytes(8, "little"))
                mu.reg_write(UC_X86_REG_RDI, DST)
                mu.reg_write(UC_X86_REG_RSI, SRC)
                mu.reg_write(UC_X86_REG_RDX, FMT)
            executed[0] = 0
            try:
                mu.emu_start(CODE, SENTINEL, count=4000)
                if mu.reg_read(UC_ARM64_REG_PC if arm else UC_X86_REG_RIP) != SENTINEL:
                    err = "did not return"
            except UcError as e:
                err = str(e)
            outs.append(bytes(mu.mem_read(DST, 40)).hex())
            insns.append(executed[0])
        results.append({"outputs": outs, "bad_reads": state["bad"], "error": err, "insns": insns})
    json.dump({"results": results}, sys.stdout)

main()
