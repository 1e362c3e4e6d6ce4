#pragma once
/*
 * mm_host.h - what kernel/arch/host/mm.c offers the mm host tests beyond
 * the kern/arch.h contract: the per-hart TLB log, the host cross-hart call
 * and its grace period, and hart threads going on- and offline.
 *
 * Harts are pthreads. An "interrupt" is a signal (SIGUSR1) sent with
 * pthread_kill: the handler runs queued cross-hart calls only if the
 * thread has interrupts on (host_irq_on, and no irq_push nesting), exactly
 * when a RISC-V hart would take the IPI. A thread also serves its calls at
 * host_hart_poll(), which the test loops call between operations, and
 * while it waits in its own xcall. So xcall_all() returns only after every
 * other online hart was seen with interrupts on: the grace period that
 * tlb_sync_all() promises page-table freeing.
 */
#include <kern/types.h>

struct as;
struct frame;

/* ---- per-hart TLB log -------------------------------------------------- */

enum host_tlb_kind {
	HOST_TLB_LOCAL = 1,	/* arch_tlb_flush_local on this hart */
	HOST_TLB_REMOTE,	/* arch_tlb_flush_remote aimed at this hart */
	HOST_TLB_ALL,		/* arch_tlb_flush_all_local */
	HOST_TLB_ACTIVATE,	/* arch_as_activate */
	HOST_TLB_DEACTIVATE,	/* arch_as_deactivate */
	HOST_TLB_FINI,		/* arch_as_fini (logged on the caller) */
};

struct host_tlb_ev {
	uint64_t seq;		/* global order of all events, from 1 */
	unsigned int kind;	/* enum host_tlb_kind */
	unsigned int from;	/* hart that asked for it */
	const struct as *as;	/* NULL for ALL and DEACTIVATE */
	uint64_t asid;
	vaddr_t va;
	size_t len;		/* 0: all of @as */
	uint16_t watch_flags;	/* flags of the watched frame, at the time */
	bool watched;		/* a frame was watched */
};

#define HOST_TLB_LOG	512	/* events kept per hart (a ring) */

/* Forget every hart's events (no hart may be flushing). */
void host_tlb_log_reset(void);
/* Events ever appended to @hart's log since the reset. */
uint64_t host_tlb_log_count(unsigned int hart);
/* Event number @i (0-based) of @hart; false if overwritten or absent. */
bool host_tlb_log_get(unsigned int hart, uint64_t i, struct host_tlb_ev *ev);
/* Does @ev make its hart forget @va of @as? */
bool host_tlb_ev_covers(const struct host_tlb_ev *ev, const struct as *as,
			vaddr_t va);
/* Did @hart forget @va of @as in its events @from..@to-1: a remote or
 * whole-TLB flush, or with @local also one of its own? */
bool host_tlb_flushed(unsigned int hart, const struct as *as, vaddr_t va,
		      uint64_t from, uint64_t to, bool local);
/* Record @f->flags in every event from now on (NULL: stop). Only while
 * @f changes on the flushing thread itself, or not at all. */
void host_tlb_watch(const struct frame *f);
/* Address space @hart runs (arch_as_activate), or NULL. */
struct as *host_current_as(unsigned int hart);
/* Width arch_asid_bits() reports (default 16). */
void host_set_asid_bits(unsigned int bits);

/* ---- harts, cross-hart calls, grace period ----------------------------- */

/* Become hart @id (host_hart_enter) and accept cross-hart calls. */
void host_hart_online(unsigned int id);
/* Stop accepting calls; calls still queued for us are taken back by their
 * senders, which count an offline hart as quiescent: after this the thread
 * must not run mm code until it comes online again. */
void host_hart_offline(void);
/*
 * host_hart_poll - a quiescent point: serve queued calls
 *
 * Context: interrupts on and no lock held (panics otherwise), outside any
 * page-table walk; the test loops call it between mm operations.
 */
void host_hart_poll(void);

/* Counters of the host machinery (atomic; reset with host_mm_stats_reset). */
struct host_mm_stats {
	uint64_t xcalls;		/* xcall_mask calls */
	uint64_t xcall_irqoff;		/* ... made with interrupts off */
	uint64_t remote_irqoff;		/* remote flushes asked with a lock held */
	uint64_t ipis;			/* signals sent */
	uint64_t served_signal;		/* calls run from the signal handler */
	uint64_t deferred_signal;	/* signals that found interrupts off */
	uint64_t served_poll;		/* calls run at host_hart_poll */
	uint64_t served_wait;		/* calls run while waiting in xcall */
	uint64_t reclaimed;		/* calls taken back from offline harts */
};
extern struct host_mm_stats host_mm_stats;
void host_mm_stats_reset(void);
