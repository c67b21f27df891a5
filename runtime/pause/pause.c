/* podagent-pause: the process of a pod's infra (sandbox) container.
 *
 * It holds the pod's namespaces open by existing: it sleeps until a signal
 * comes, reaps every child that exits (it is PID 1 of the pod's PID
 * namespace under shareProcessNamespace, so orphans end up as its children),
 * and exits 0 on SIGTERM or SIGINT.
 *
 * The signals are blocked and taken synchronously with rt_sigtimedwait
 * rather than caught by handlers. That has two reasons. A PID 1 ignores
 * every signal for which it has no handler, but never a blocked one, so
 * blocking is enough for SIGTERM to reach it. And with no handler there is
 * no signal frame to return from, so no libc is needed at all: on x86_64
 * and aarch64 the program is built without one (PODAGENT_PAUSE_NOLIBC),
 * calling the kernel directly, which keeps the static binary at a few KiB
 * instead of the ~700 KiB a static glibc costs. Elsewhere libc is used.
 */

#ifdef PODAGENT_PAUSE_NOLIBC

/* Signal numbers and flags of x86_64 and aarch64 Linux. */
#define PAUSE_SIGINT 2
#define PAUSE_SIGTERM 15
#define PAUSE_SIGCHLD 17
#define PAUSE_SIG_BLOCK 0
#define PAUSE_WNOHANG 1
#define SIG_BIT(sig) (1UL << ((sig)-1))

#if defined(__x86_64__)
#define NR_RT_SIGPROCMASK 14
#define NR_RT_SIGTIMEDWAIT 128
#define NR_WAIT4 61
#define NR_EXIT_GROUP 231

static long sys4(long nr, long a, long b, long c, long d) {
  long ret;
  register long r10 __asm__("r10") = d;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
                   : "rcx", "r11", "memory");
  return ret;
}
#elif defined(__aarch64__)
#define NR_RT_SIGPROCMASK 135
#define NR_RT_SIGTIMEDWAIT 137
#define NR_WAIT4 260
#define NR_EXIT_GROUP 94

static long sys4(long nr, long a, long b, long c, long d) {
  register long x8 __asm__("x8") = nr;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
  return x0;
}
#else
#error "PODAGENT_PAUSE_NOLIBC is for x86_64 and aarch64 only"
#endif

/* The kernel's sigset_t for the rt_* calls: 64 bits (the size argument). */
typedef unsigned long kernel_sigset;

static void block(const kernel_sigset* set) {
  sys4(NR_RT_SIGPROCMASK, PAUSE_SIG_BLOCK, (long)set, 0, sizeof *set);
}
static int wait_signal(const kernel_sigset* set) {
  return (int)sys4(NR_RT_SIGTIMEDWAIT, (long)set, 0, 0, sizeof *set);
}
static int reap_one(void) { return (int)sys4(NR_WAIT4, -1, 0, PAUSE_WNOHANG, 0); }
static void __attribute__((noreturn)) exit_now(int code) {
  for (;;) sys4(NR_EXIT_GROUP, code, 0, 0, 0);
}

static void __attribute__((noreturn, used)) pause_main(void);

/* The entry point: no C runtime to set up, and argv is not needed. */
void __attribute__((noreturn, naked)) _start(void) {
#if defined(__x86_64__)
  __asm__ volatile("xor %ebp, %ebp\n\tand $-16, %rsp\n\tcall pause_main");
#else
  __asm__ volatile("mov x29, #0\n\tmov x30, #0\n\tbl pause_main");
#endif
}

#else /* libc */

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAUSE_SIGINT SIGINT
#define PAUSE_SIGTERM SIGTERM
#define PAUSE_SIGCHLD SIGCHLD

typedef sigset_t kernel_sigset;

static void block(const kernel_sigset* set) { sigprocmask(SIG_BLOCK, set, 0); }
static int wait_signal(const kernel_sigset* set) { return sigwaitinfo(set, 0); }
static int reap_one(void) { return waitpid(-1, 0, WNOHANG); }
static void exit_now(int code) { _exit(code); }

#endif

static void pause_main(void) {
  kernel_sigset set;
#ifdef PODAGENT_PAUSE_NOLIBC
  set = SIG_BIT(PAUSE_SIGINT) | SIG_BIT(PAUSE_SIGTERM) | SIG_BIT(PAUSE_SIGCHLD);
#else
  sigemptyset(&set);
  sigaddset(&set, PAUSE_SIGINT);
  sigaddset(&set, PAUSE_SIGTERM);
  sigaddset(&set, PAUSE_SIGCHLD);
#endif
  block(&set);
  for (;;) {
    int sig = wait_signal(&set);
    if (sig == PAUSE_SIGTERM || sig == PAUSE_SIGINT) exit_now(0);
    /* SIGCHLD (or an interrupted wait): reap every child that has exited. */
    while (reap_one() > 0) {
    }
  }
}

#ifndef PODAGENT_PAUSE_NOLIBC
int main(void) {
  pause_main();
  return 0;
}
#endif
