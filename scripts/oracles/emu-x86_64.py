#!/usr/bin/python3
# Unicorn 2.0.1 oracle for jitbox's x86_64 emulator (run with Debian's /usr/bin/python3).
# Same line protocol as x86-native-harness.c: reads "CODEHEX R0..R15 FLAGS DATAHEX" lines, prints
# "ok R0..R15 FLAGS DATAHEX" (rsp as 0, rdi as its offset from the data buffer) or "fault WHY".
# Mode `loop HEXCODE N`: calls the code as f(N) and prints rax.
import sys
from unicorn import Uc, UcError, UC_ARCH_X86, UC_MODE_64, UC_PROT_READ, UC_PROT_WRITE, UC_PROT_EXEC
from unicorn.x86_const import *

REGS = [UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX, UC_X86_REG_RSP, UC_X86_REG_RBP,
        UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8, UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11,
        UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15]
CODE, DATA, STACK, SENTINEL = 0x400000, 0x800000, 0x900000, 0x7ff000

uc = None


def run(code, regs, flags, data=b'', budget=0):
    # A fresh engine per case: Unicorn 2.0.1 reuses stale translated blocks across runs otherwise.
    global uc
    uc = Uc(UC_ARCH_X86, UC_MODE_64)
    uc.mem_map(CODE, 0x10000, UC_PROT_READ | UC_PROT_EXEC)
    uc.mem_map(DATA, 0x1000, UC_PROT_READ | UC_PROT_WRITE)
    uc.mem_map(STACK, 0x10000, UC_PROT_READ | UC_PROT_WRITE)
    uc.mem_map(SENTINEL, 0x1000, UC_PROT_READ | UC_PROT_EXEC)
    uc.mem_write(CODE, b'\xcc' * 0x10000)
    uc.mem_write(CODE, code)
    uc.mem_write(DATA, data)
    for r, v in zip(REGS, regs):
        uc.reg_write(r, v)
    sp = STACK + 0x8000
    uc.mem_write(sp, SENTINEL.to_bytes(8, 'little'))
    uc.reg_write(UC_X86_REG_RSP, sp)
    uc.reg_write(UC_X86_REG_EFLAGS, (flags & 0x8d5) | 0x202)
    uc.emu_start(CODE, SENTINEL, count=budget)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == 'loop':
        regs = [0] * 16
        regs[7] = int(sys.argv[3], 0)
        run(bytes.fromhex(sys.argv[2]), regs, 0)
        print('0x%016x' % uc.reg_read(UC_X86_REG_RAX))
        return
    for line in sys.stdin:
        tok = line.split()
        if len(tok) != 19:
            print('error bad-line', flush=True)
            continue
        data = bytes.fromhex(tok[18])
        regs = [int(t, 16) for t in tok[1:17]]
        regs[7] = DATA
        try:
            run(bytes.fromhex(tok[0]), regs, int(tok[17], 16), data, budget=1000000)
        except UcError as e:
            print('fault %s' % e, flush=True)
            continue
        out = []
        for i, r in enumerate(REGS):
            v = uc.reg_read(r)
            if i == 4:
                v = 0
            if i == 7:
                v = (v - DATA) & 0xffffffffffffffff
            out.append('%016x' % v)
        f = uc.reg_read(UC_X86_REG_EFLAGS) & 0x8d5
        print('ok %s %x %s' % (' '.join(out), f, uc.mem_read(DATA, len(data)).hex()), flush=True)


main()
