/*
 * Native x86_64 oracle for jitbox's emulator: runs raw machine code on the host CPU.
 *
 * Input (stdin), one case per line:
 *   CODEHEX R0 R1 ... R15 FLAGS DATAHEX
 * registers in rax..r15 order as 16-hex-digit values (rsp is ignored: the code runs on this
 * process's stack; rdi is replaced by the address of a private copy of DATA), FLAGS the initial
 * RFLAGS arithmetic bits in hex. The code is mapped read+execute (never writable and executable at
 * once), called with every register loaded, and must return with `ret`.
 * Output (stdout), one line per case:
 *   ok R0 ... R15 FLAGS DATAHEX      (rsp printed as 0, rdi as the offset from the data buffer)
 *   fault SIGNAME                    (SIGSEGV, SIGFPE, SIGTRAP, SIGILL, SIGBUS)
 * A second mode `loop HEXCODE N` calls the code as a SysV function f(N) and prints the result.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct state { uint64_t r[16]; uint64_t flags; };

struct state *g_state;
void *g_code;
uint64_t g_saved_rsp;
void run_code(struct state *s, void *code);

__asm__(
    ".text\n"
    ".globl run_code\n"
    "run_code:\n"
    "  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
    "  sub $8, %rsp\n"
    "  mov %rdi, g_state(%rip)\n"
    "  mov %rsi, g_code(%rip)\n"
    "  mov %rsp, g_saved_rsp(%rip)\n"
    "  mov 128(%rdi), %rax\n  push %rax\n  popfq\n"
    "  mov 0(%rdi), %rax\n  mov 8(%rdi), %rcx\n  mov 16(%rdi), %rdx\n  mov 24(%rdi), %rbx\n"
    "  mov 40(%rdi), %rbp\n  mov 48(%rdi), %rsi\n  mov 64(%rdi), %r8\n  mov 72(%rdi), %r9\n"
    "  mov 80(%rdi), %r10\n  mov 88(%rdi), %r11\n  mov 96(%rdi), %r12\n  mov 104(%rdi), %r13\n"
    "  mov 112(%rdi), %r14\n  mov 120(%rdi), %r15\n  mov 56(%rdi), %rdi\n"
    "  call *g_code(%rip)\n"
    "  pushfq\n"
    "  push %rax\n"
    "  mov g_state(%rip), %rax\n"
    "  popq 0(%rax)\n"
    "  popq 128(%rax)\n"
    "  mov %rcx, 8(%rax)\n  mov %rdx, 16(%rax)\n  mov %rbx, 24(%rax)\n  mov %rsp, 32(%rax)\n"
    "  mov %rbp, 40(%rax)\n  mov %rsi, 48(%rax)\n  mov %rdi, 56(%rax)\n  mov %r8, 64(%rax)\n"
    "  mov %r9, 72(%rax)\n  mov %r10, 80(%rax)\n  mov %r11, 88(%rax)\n  mov %r12, 96(%rax)\n"
    "  mov %r13, 104(%rax)\n  mov %r14, 112(%rax)\n  mov %r15, 120(%rax)\n"
    "  mov g_saved_rsp(%rip), %rsp\n"
    "  add $8, %rsp\n"
    "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n"
    "  ret\n");

static sigjmp_buf g_jmp;
static volatile int g_sig;

static void on_signal(int sig) {
  g_sig = sig;
  siglongjmp(g_jmp, 1);
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static size_t parse_hex(const char *s, uint8_t *out, size_t max) {
  size_t n = 0;
  while (s[0] && s[1] && n < max) {
    int a = hexval(s[0]), b = hexval(s[1]);
    if (a < 0 || b < 0) break;
    out[n++] = (uint8_t)(a * 16 + b);
    s += 2;
  }
  return n;
}

static void *map_code(const uint8_t *code, size_t len) {
  size_t size = (len + 4095) & ~(size_t)4095;
  uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) { perror("mmap"); exit(2); }
  memset(p, 0xcc, size);
  memcpy(p, code, len);
  if (mprotect(p, size, PROT_READ | PROT_EXEC) != 0) { perror("mprotect"); exit(2); }
  return p;
}

static const char *signame(int s) {
  switch (s) {
    case SIGSEGV: return "SIGSEGV";
    case SIGFPE: return "SIGFPE";
    case SIGTRAP: return "SIGTRAP";
    case SIGILL: return "SIGILL";
    case SIGBUS: return "SIGBUS";
    default: return "SIGNAL";
  }
}

int main(int argc, char **argv) {
  static uint8_t code[65536];
  static uint8_t data[4096];
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGFPE, &sa, NULL);
  sigaction(SIGTRAP, &sa, NULL);
  sigaction(SIGILL, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);

  if (argc == 4 && strcmp(argv[1], "loop") == 0) {
    size_t n = parse_hex(argv[2], code, sizeof code);
    uint64_t (*f)(uint64_t) = (uint64_t (*)(uint64_t))map_code(code, n);
    printf("0x%016llx\n", (unsigned long long)f(strtoull(argv[3], NULL, 0)));
    return 0;
  }

  static char line[1 << 20];
  while (fgets(line, sizeof line, stdin)) {
    char *tok[20];
    int nt = 0;
    for (char *t = strtok(line, " \n"); t && nt < 20; t = strtok(NULL, " \n")) tok[nt++] = t;
    if (nt != 19) { printf("error bad-line\n"); fflush(stdout); continue; }
    size_t n = parse_hex(tok[0], code, sizeof code);
    struct state s;
    for (int i = 0; i < 16; i++) s.r[i] = strtoull(tok[1 + i], NULL, 16);
    s.flags = (strtoull(tok[17], NULL, 16) & 0x8d5) | 0x202;
    size_t dn = parse_hex(tok[18], data, sizeof data);
    uint8_t *buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memcpy(buf, data, dn);
    s.r[7] = (uint64_t)(uintptr_t)buf;
    void *p = map_code(code, n);
    g_sig = 0;
    if (sigsetjmp(g_jmp, 1) == 0) {
      run_code(&s, p);
      printf("ok");
      for (int i = 0; i < 16; i++) {
        uint64_t v = s.r[i];
        if (i == 4) v = 0;
        if (i == 7) v -= (uint64_t)(uintptr_t)buf;
        printf(" %016llx", (unsigned long long)v);
      }
      printf(" %llx ", (unsigned long long)(s.flags & 0x8d5));
      for (size_t i = 0; i < dn; i++) printf("%02x", buf[i]);
      printf("\n");
    } else {
      printf("fault %s\n", signame(g_sig));
    }
    fflush(stdout);
    munmap(p, (n + 4095) & ~(size_t)4095);
    munmap(buf, 4096);
  }
  return 0;
}
