# The hot function of the Cachegrind agreement check (scripts/oracles/cachegrind.mjs): position-
# independent, no stack use but its own `ret`, in its own 64 KiB-aligned section so no other
# executed code shares its lines. cg_run switches to a stack at a known address (cg_stack) so the
# return-address line has the same cache set in the native run and in the emulator.
#   cg_kernel(rdi = data, rsi = n, rdx = stride, rcx = reps, r8 = mode)
#   mode 0: reps x n x { rax += [p]; [p + 8] = rax; p += stride }      (loads and stores)
#   mode 1: reps x a 13.5 KB straight-line body                          (instruction fetch)
#   mode 2: reps x n x { r11 = [p + 60] (8 B); [p + 62] = eax (4 B) }    (line-spanning accesses)
    .intel_syntax noprefix

    .section .text.cgk, "ax", @progbits
    .p2align 16
    .globl cg_kernel
    .type cg_kernel, @function
cg_kernel:
    xor eax, eax
    test r8, r8
    jnz .Lother
.Lrep:
    mov r9, rdi
    mov r10, rsi
.Lloop:
    add rax, qword ptr [r9]
    mov qword ptr [r9 + 8], rax
    add r9, rdx
    dec r10
    jnz .Lloop
    dec rcx
    jnz .Lrep
    ret
.Lother:
    cmp r8, 2
    je .Lspan
.Lcode:
    .rept 1500
    add rax, rcx
    xor rax, 0x1234567
    .endr
    dec rcx
    jnz .Lcode
    ret
    .p2align 6
.Lspan:
    mov r9, rdi
    mov r10, rsi
.Lsloop:
    mov r11, qword ptr [r9 + 60]
    add rax, r11
    mov dword ptr [r9 + 62], eax
    add r9, rdx
    dec r10
    jnz .Lsloop
    dec rcx
    jnz .Lspan
    ret
    .size cg_kernel, . - cg_kernel
    .p2align 12, 0xcc

    .text
    # cg_run(data, n, stride, reps, mode, stack_top): call cg_kernel on the stack ending at stack_top.
    .globl cg_run
    .type cg_run, @function
cg_run:
    push rbx
    mov rbx, rsp
    mov rsp, r9
    call cg_kernel
    mov rsp, rbx
    pop rbx
    ret
    .size cg_run, . - cg_run

    .section .note.GNU-stack, "", @progbits
