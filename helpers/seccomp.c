/* SPDX-License-Identifier: MIT */
/* Why by hand rather than with libseccomp: the filter is a few dozen
 * instructions, known in full at build time, and a library (and its
 * package in every build, Nix's included) for that would be more to trust
 * than the program itself, which the unit tests run against the real
 * kernel (tests/unit/test-seccomp.c). */
#include "seccomp.h"

#include <asm/unistd.h>
#include <linux/audit.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>

#include "util.h"

#define NS_FLAGS                                                                                                 \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | \
	 CLONE_NEWTIME)

/* The system call numbers the filter looks at, per architecture. The
 * native one's come from the kernel headers it is built with; those of the
 * compatible ABIs are fixed (they are ABI). clone3 is 435 everywhere. */
struct arch_calls {
	uint32_t audit_arch;
	uint32_t nr_mask; /* x32: its numbers are x86_64's with __X32_SYSCALL_BIT */
	int unshare, clone, setns, clone3, ioctl;
	int clone_flags_arg; /* s390 passes clone()'s flags second */
};

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#define NATIVE_MASK (~(uint32_t)__X32_SYSCALL_BIT)
#elif defined(__i386__)
#define NATIVE_ARCH AUDIT_ARCH_I386
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#elif defined(__arm__) && defined(__ARMEL__)
#define NATIVE_ARCH AUDIT_ARCH_ARM
#elif defined(__riscv) && __riscv_xlen == 64
#define NATIVE_ARCH AUDIT_ARCH_RISCV64
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_ARCH AUDIT_ARCH_PPC64LE
#elif defined(__powerpc64__)
#define NATIVE_ARCH AUDIT_ARCH_PPC64
#elif defined(__s390x__)
#define NATIVE_ARCH AUDIT_ARCH_S390X
#define CLONE_FLAGS_ARG 1
#else
#error "seccomp.c: add this architecture's AUDIT_ARCH (and its compatible ABIs)"
#endif
#ifndef NATIVE_MASK
#define NATIVE_MASK (~(uint32_t)0)
#endif
#ifndef CLONE_FLAGS_ARG
#define CLONE_FLAGS_ARG 0
#endif

static const struct arch_calls arches[] = {
	{ NATIVE_ARCH, NATIVE_MASK, __NR_unshare, __NR_clone, __NR_setns, 435, __NR_ioctl, CLONE_FLAGS_ARG },
#if defined(__x86_64__)
	{ AUDIT_ARCH_I386, ~(uint32_t)0, 310, 120, 346, 435, 54, 0 },
#elif defined(__aarch64__)
	{ AUDIT_ARCH_ARM, ~(uint32_t)0, 337, 120, 375, 435, 54, 0 },
#endif
};

/* seccomp_data: nr at 0, arch at 4, then instruction_pointer, then the six
 * arguments as 64-bit values; every argument the filter reads is 32 bits
 * wide (int flags, int nstype, unsigned int cmd; clone() uses the low 32
 * bits of its flags), so it loads the low half. */
#define OFF_NR 0
#define OFF_ARCH 4
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define OFF_ARG_LO(i) (16 + 8 * (i))
#else
#define OFF_ARG_LO(i) (16 + 8 * (i) + 4)
#endif

/* Enough for the instructions below: 5, and 17 per architecture. */
#define MAX_INSNS (5 + 17 * ELEMENTSOF(arches))

/* A program with forward jumps to labels, resolved as it is built: a jump
 * records its instruction; the label, once placed, fixes the offsets. */
struct prog {
	struct sock_filter insn[MAX_INSNS];
	size_t n;
	bool overflow; /* MAX_INSNS was too small: never installed */
};

enum { L_DENY, L_ENOSYS, L_ALLOW, L_KILL, L_FIXED, MAX_LABELS = L_FIXED + 8 * ELEMENTSOF(arches) };

struct jump {
	size_t at;
	int label;
	bool true_branch;
};

struct builder {
	struct prog *p;
	struct jump jumps[64];
	size_t n_jumps;
	long label_at[MAX_LABELS]; /* -1: not placed yet */
	int next_label;
};

static void emit(struct builder *b, struct sock_filter f) {
	if (b->p->n == MAX_INSNS) {
		b->p->overflow = true;
		return;
	}
	b->p->insn[b->p->n++] = f;
}

/* if (A == k) goto jt; else goto jf (-1: the next instruction). */
static void emit_jump(struct builder *b, uint16_t op, uint32_t k, int jt, int jf) {
	size_t at = b->p->n;

	emit(b, (struct sock_filter)BPF_JUMP(BPF_JMP | op | BPF_K, k, 0, 0));
	if (b->n_jumps + 2 > ELEMENTSOF(b->jumps)) {
		b->p->overflow = true;
		return;
	}
	if (jt >= 0)
		b->jumps[b->n_jumps++] = (struct jump){ at, jt, true };
	if (jf >= 0)
		b->jumps[b->n_jumps++] = (struct jump){ at, jf, false };
}

static void place(struct builder *b, int label) { b->label_at[label] = (long)b->p->n; }

static void resolve(struct builder *b) {
	for (size_t i = 0; i < b->n_jumps; i++) {
		const struct jump *j = &b->jumps[i];
		uint8_t off = (uint8_t)(b->label_at[j->label] - (long)j->at - 1);

		if (j->true_branch)
			b->p->insn[j->at].jt = off;
		else
			b->p->insn[j->at].jf = off;
	}
}

static void load(struct builder *b, uint32_t off) { emit(b, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, off)); }
static void ret(struct builder *b, uint32_t v) { emit(b, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, v)); }

static void build(struct prog *p) {
	struct builder b = { .p = p, .next_label = L_FIXED };
	int block[ELEMENTSOF(arches)];

	for (size_t i = 0; i < MAX_LABELS; i++)
		b.label_at[i] = -1;
	/* Which ABI: each known one to its block, any other is killed. */
	load(&b, OFF_ARCH);
	for (size_t i = 0; i < ELEMENTSOF(arches); i++) {
		block[i] = b.next_label++;
		emit_jump(&b, BPF_JEQ, arches[i].audit_arch, block[i], -1);
	}
	place(&b, L_KILL);
	ret(&b, SECCOMP_RET_KILL_PROCESS);

	for (size_t i = 0; i < ELEMENTSOF(arches); i++) {
		const struct arch_calls *a = &arches[i];
		int flags0 = b.next_label++, ns1 = b.next_label++, tty = b.next_label++;

		place(&b, block[i]);
		load(&b, OFF_NR);
		if (a->nr_mask != ~(uint32_t)0)
			emit(&b, (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, a->nr_mask));
		emit_jump(&b, BPF_JEQ, (uint32_t)a->unshare, flags0, -1);
		emit_jump(&b, BPF_JEQ, (uint32_t)a->setns, ns1, -1);
		emit_jump(&b, BPF_JEQ, (uint32_t)a->clone3, L_ENOSYS, -1);
		emit_jump(&b, BPF_JEQ, (uint32_t)a->ioctl, tty, -1);
		if (a->clone_flags_arg == 0)
			emit_jump(&b, BPF_JEQ, (uint32_t)a->clone, flags0, L_ALLOW);
		else {
			int flags1 = b.next_label++;
			emit_jump(&b, BPF_JEQ, (uint32_t)a->clone, flags1, L_ALLOW);
			place(&b, flags1);
			load(&b, OFF_ARG_LO(1));
			emit_jump(&b, BPF_JSET, NS_FLAGS, L_DENY, L_ALLOW);
		}
		/* unshare(flags), clone(flags, ...) */
		place(&b, flags0);
		load(&b, OFF_ARG_LO(0));
		emit_jump(&b, BPF_JSET, NS_FLAGS, L_DENY, L_ALLOW);
		/* setns(fd, nstype): 0 is any type */
		place(&b, ns1);
		load(&b, OFF_ARG_LO(1));
		emit_jump(&b, BPF_JEQ, 0, L_DENY, -1);
		emit_jump(&b, BPF_JSET, NS_FLAGS, L_DENY, L_ALLOW);
		/* ioctl(fd, cmd, ...) */
		place(&b, tty);
		load(&b, OFF_ARG_LO(1));
		emit_jump(&b, BPF_JEQ, TIOCSTI, L_DENY, L_ALLOW);
	}
	place(&b, L_ALLOW);
	ret(&b, SECCOMP_RET_ALLOW);
	place(&b, L_DENY);
	ret(&b, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
	place(&b, L_ENOSYS);
	ret(&b, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
	resolve(&b);
}

const struct sock_filter *seccomp_ns_filter(size_t *n) {
	static struct prog p;

	if (p.n == 0)
		build(&p);
	*n = p.n;
	return p.overflow ? NULL : p.insn;
}

int seccomp_restrict_namespaces(void) {
	size_t n;
	const struct sock_filter *f = seccomp_ns_filter(&n);
	struct sock_fprog prog = { .len = (unsigned short)n, .filter = (struct sock_filter *)f };

	if (!f)
		return -E2BIG;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		return -errno;
	return 0;
}
