// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel-probe source's events, turned into the engine's (kmode.h).
 *
 * Per thread:
 *   call:  the migrate_vma_setup() .. migrate_vma_finalize() in progress.
 *          It ends at finalize's return, or is abandoned when the thread
 *          starts another setup or its fault returns first (a driver that
 *          collected nothing may skip pages and finalize).  What setup
 *          collected is read at its return where the kernel can read
 *          arguments there (6.10+), else at pages or finalize; a call
 *          abandoned without either collected nothing (a driver holding
 *          collected pages must finalize them), which the report says was
 *          inferred.
 *   fault: a do_swap_page() .. its return.  It is a device-private fault
 *          when the entry's swap type says so, when a fault-path setup
 *          ran in it, or when the kernel set vmf->page; given back with
 *          VM_FAULT_RETRY before the driver was called (under the
 *          per-VMA lock), it is not a fault of its own: the kernel
 *          retries it at once under the mmap lock.
 * Per device page (a token): its order and the pgmap_owner of the
 * migration that initialised it, until it is freed.
 * Per process: the last migrations to the device, by range and owner.
 *
 * Two probes on one function fire in an order the kernel does not
 * promise (mv_setup_fpage and mv_setup, swap_fault_ret and
 * swap_fault_mtr): the first one waits for the other.
 */
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "kmode.h"
#include "probes.h"
#include "scrub.h"

/* include/linux/migrate.h, mm.h, sched.h: the same in 6.1, 6.12 and 7.x */
#define SELECT_SYSTEM 0x1
#define SELECT_DEVICE 0x6	/* DEVICE_PRIVATE | DEVICE_COHERENT */
#define VM_FAULT_RETRY 0x400
#define CLONE_THREAD 0x00010000

#define RANGES 16

struct call {
	bool open, emitted, pages, fin, fault, has_cpages, has_fpage_info, has_fowner;
	uint8_t dir;
	int32_t ret;
	uint64_t ts, start, end, npages, cpages;
	uint64_t owner, fpage, caller, fowner;
	uint64_t migrate;		/* src[] entries marked MIGRATE */
	uint64_t inits, frees;		/* device pages initialised and freed during it */
};

struct fault {
	bool open, closing, setup, lock, has_uip, has_page, has_mtr;
	uint32_t ret;
	uint64_t ts, ret_ts, addr, pte, uip, migrated, caller, page, mtr;
	/* a fault-path call over more pages than src[] shows: its finalize
	 * waits for the fault's end, when the fault page itself is freed */
	bool fin_pending;
	struct call pending;
	uint64_t late_frees;
};

struct kt {
	int32_t tid;
	bool pf_valid, fp_valid;
	uint64_t pf_addr, pf_ip;
	struct dm_event fp;		/* an mv_setup_fpage waiting for its mv_setup */
	struct call mv;
	struct fault sw;
};

struct kpage {
	uint64_t owner;		/* pgmap_owner of the migration it came with */
	bool has_owner;
	uint8_t order;
};

struct kranges {
	uint32_t n, next;
	struct { uint64_t start, end, owner, caller; } r[RANGES];
};

struct dm_kmode {
	struct dm_analysis *a;
	struct dm_kconf kc;
	uint64_t page_size;
	struct hmap tmap, pmap, rmap;
	struct pool kts, kpages, kranges;
};

struct dm_kmode *dm_kmode_new(struct dm_analysis *a, const struct dm_kconf *kc)
{
	struct dm_kmode *k = calloc(1, sizeof(*k));
	unsigned int shift;

	if (!k)
		return NULL;
	k->a = a;
	k->kc = *kc;
	shift = kc->page_shift ? kc->page_shift : 12;
	k->page_size = 1ull << shift;
	pool_init(&k->kts, sizeof(struct kt));
	pool_init(&k->kpages, sizeof(struct kpage));
	pool_init(&k->kranges, sizeof(struct kranges));
	if (hmap_init(&k->tmap, 64) || hmap_init(&k->pmap, 1024) || hmap_init(&k->rmap, 16)) {
		dm_kmode_free(k);
		return NULL;
	}
	return k;
}

void dm_kmode_free(struct dm_kmode *k)
{
	if (!k)
		return;
	hmap_free(&k->tmap);
	hmap_free(&k->pmap);
	hmap_free(&k->rmap);
	pool_free(&k->kts);
	pool_free(&k->kpages);
	pool_free(&k->kranges);
	free(k);
}

static struct kt *kt_get(struct dm_kmode *k, int32_t tid)
{
	uint32_t i = hmap_get(&k->tmap, (uint32_t)tid, 0);
	struct kt *t;

	if (i != HMAP_NONE)
		return pool_at(&k->kts, i);
	i = pool_alloc(&k->kts);
	if (i == HMAP_NONE)
		return NULL;
	if (hmap_put(&k->tmap, (uint32_t)tid, 0, i)) {
		pool_put(&k->kts, i);
		return NULL;
	}
	t = pool_at(&k->kts, i);
	t->tid = tid;
	return t;
}

/* -------------------------------------------------------- what we know */

static struct kpage *kpage_get(struct dm_kmode *k, uint64_t page)
{
	uint32_t i = hmap_get(&k->pmap, page, 0);

	return i == HMAP_NONE ? NULL : pool_at(&k->kpages, i);
}

static struct kpage *kpage_add(struct dm_kmode *k, uint64_t page)
{
	uint32_t i = hmap_get(&k->pmap, page, 0);

	if (i != HMAP_NONE)
		return pool_at(&k->kpages, i);
	i = pool_alloc(&k->kpages);
	if (i == HMAP_NONE)
		return NULL;
	if (hmap_put(&k->pmap, page, 0, i)) {
		pool_put(&k->kpages, i);
		return NULL;
	}
	return pool_at(&k->kpages, i);
}

static void kpage_del(struct dm_kmode *k, uint64_t page)
{
	uint32_t i = hmap_del(&k->pmap, page, 0);

	if (i != HMAP_NONE)
		pool_put(&k->kpages, i);
}

static void range_add(struct dm_kmode *k, int32_t tgid, uint64_t start, uint64_t end,
		      uint64_t owner, uint64_t caller)
{
	uint32_t i = hmap_get(&k->rmap, (uint32_t)tgid, 0);
	struct kranges *r;

	if (i == HMAP_NONE) {
		i = pool_alloc(&k->kranges);
		if (i == HMAP_NONE)
			return;
		if (hmap_put(&k->rmap, (uint32_t)tgid, 0, i)) {
			pool_put(&k->kranges, i);
			return;
		}
	}
	r = pool_at(&k->kranges, i);
	r->r[r->next].start = start;
	r->r[r->next].end = end;
	r->r[r->next].owner = owner;
	r->r[r->next].caller = caller;
	r->next = (r->next + 1) % RANGES;
	if (r->n < RANGES)
		r->n++;
}

/* The owner and caller of the last migration to the device over addr;
 * false if none. */
static bool range_find(struct dm_kmode *k, int32_t tgid, uint64_t addr, uint64_t *owner,
		       uint64_t *caller)
{
	uint32_t i = hmap_get(&k->rmap, (uint32_t)tgid, 0);
	struct kranges *r;

	if (i == HMAP_NONE)
		return false;
	r = pool_at(&k->kranges, i);
	for (uint32_t n = 0; n < r->n; n++) {
		uint32_t j = (r->next + RANGES - 1 - n) % RANGES;

		if (addr >= r->r[j].start && addr < r->r[j].end) {
			*owner = r->r[j].owner;
			*caller = r->r[j].caller;
			return true;
		}
	}
	return false;
}

/* x86-64's swap entry in a PTE (arch/x86/include/asm/pgtable_64.h): the
 * type in the top 5 bits, the offset (a device page's pfn) inverted
 * from bit 9. */
static unsigned int pte_swp_type(uint64_t pte)
{
	return (unsigned int)(pte >> 59);
}

static uint64_t pte_swp_offset(uint64_t pte)
{
	return (~pte >> 9) & ((1ull << 50) - 1);
}

static bool is_type(const unsigned int t[2], unsigned int v)
{
	return t[0] && (v == t[0] || v == t[1]);
}

/* ------------------------------------------------------------ emitting */

static void feed(struct dm_kmode *k, struct dm_event *ev)
{
	dm_analysis_feed_norm(k->a, ev);
}

/* More pages than the finalize event's src[] shows: what moved is
 * counted from the device pages instead (probes.h). */
static bool call_inferred(const struct call *c)
{
	return c->npages > DM_KP_FINAL_ENTRIES;
}

static uint64_t call_migrated(const struct dm_kmode *k, const struct call *c)
{
	/* without migrate_vma_pages() nothing moved, whatever src[] says
	 * (unless the kernel could not probe it) */
	if (!c->pages && !k->kc.no_pages_probe)
		return 0;
	if (!call_inferred(c))
		return c->migrate;
	/* to the device: the destinations that were not given back; to
	 * system memory: the device pages it freed */
	if (c->dir == DM_DIR_TO_DEV)
		return c->inits > c->frees ? c->inits - c->frees : 0;
	return c->frees;
}

/* Whose owner the faulting page is: the page's own (BTF), the one it was
 * migrated with, or the one last used for its address. */
static uint8_t page_owner(struct dm_kmode *k, const struct kt *t, uint64_t *owner)
{
	const struct call *c = &t->mv;
	struct kpage *p;

	if (c->has_fowner && c->fowner != DM_TOKEN_UNKNOWN) {
		*owner = c->fowner;
		return DM_OWNER_BTF;
	}
	p = c->fpage ? kpage_get(k, c->fpage) : NULL;
	if (p && p->has_owner) {
		*owner = p->owner;
		return DM_OWNER_INIT;
	}
	if (range_find(k, dm_analysis_tgid(k->a, t->tid), c->start, owner, &(uint64_t){ 0 }))
		return DM_OWNER_RANGE;
	return DM_OWNER_NONE;
}

static void emit_setup(struct dm_kmode *k, struct kt *t)
{
	struct call *c = &t->mv;
	struct dm_event ev = { .ts = c->ts, .tid = t->tid, .kind = DM_EV_SETUP };

	c->emitted = true;
	ev.setup.kernel = true;
	ev.setup.dir = c->dir;
	ev.setup.fault = c->fault;
	ev.setup.start = c->start;
	ev.setup.end = c->end;
	ev.setup.npages = c->npages;
	ev.setup.cpages = c->has_cpages ? c->cpages : 0;
	ev.setup.cpages_inferred = !c->has_cpages;
	ev.setup.ret = c->ret;
	ev.setup.owner = c->owner;
	ev.setup.caller = c->caller;
	if (c->fault) {
		ev.setup.owner_basis = page_owner(k, t, &ev.setup.page_owner);
		ev.setup.has_owner_match = ev.setup.owner_basis != DM_OWNER_NONE;
		ev.setup.owner_match = ev.setup.page_owner == c->owner;
	}
	dm_analysis_counters(k->a)->migrate_calls++;
	feed(k, &ev);
}

static void emit_finalize(struct dm_kmode *k, struct kt *t, const struct call *c,
			  uint64_t migrated, uint64_t ts)
{
	struct dm_event ev = { .ts = ts, .tid = t->tid, .kind = DM_EV_FINALIZE };
	struct dm_result *res = dm_analysis_counters(k->a);

	ev.fin.dir = c->dir;
	ev.fin.fault = c->fault;
	ev.fin.start = c->start;
	ev.fin.end = c->end;
	ev.fin.npages = c->npages;
	ev.fin.cpages = c->cpages;
	ev.fin.migrated = migrated;
	ev.fin.has_duration = true;
	ev.fin.duration_ns = ts >= c->ts ? ts - c->ts : 0;
	if (call_inferred(c)) {
		res->inferred_calls++;
		res->inferred_pages += migrated;
	}
	feed(k, &ev);
}

/* The call ends: at finalize's return (fin), or abandoned. */
static void call_close(struct dm_kmode *k, struct kt *t, uint64_t ts)
{
	struct call *c = &t->mv;
	uint64_t migrated = call_migrated(k, c);

	if (!c->open)
		return;
	if (!c->emitted)
		emit_setup(k, t);
	if (c->fault && t->sw.open) {
		t->sw.setup = true;
		t->sw.caller = c->caller;
		if (c->fin && call_inferred(c) && (c->pages || k->kc.no_pages_probe)) {
			t->sw.fin_pending = true;
			t->sw.pending = *c;
			t->sw.pending.ts = c->ts;
			memset(c, 0, sizeof(*c));
			return;
		}
		t->sw.migrated += migrated;
	}
	if (c->fin)
		emit_finalize(k, t, c, migrated, ts);
	if (c->dir == DM_DIR_TO_DEV && migrated)
		range_add(k, dm_analysis_tgid(k->a, t->tid), c->start, c->end, c->owner, c->caller);
	memset(c, 0, sizeof(*c));
}

/* A fault-path call's finalize held back for the fault page's free. */
static void fault_finalize(struct dm_kmode *k, struct kt *t)
{
	struct fault *f = &t->sw;
	uint64_t migrated = f->pending.frees + f->late_frees;

	if (!f->fin_pending)
		return;
	emit_finalize(k, t, &f->pending, migrated, f->ret_ts ? f->ret_ts : f->ts);
	f->migrated += migrated;
	f->fin_pending = false;
}

static void fault_close(struct dm_kmode *k, struct kt *t)
{
	struct fault *f = &t->sw;
	struct dm_result *res = dm_analysis_counters(k->a);
	unsigned int type = pte_swp_type(f->pte);
	/* at its end, as dmirror's devmem_fault: after the setup it made */
	struct dm_event ev = { .ts = f->ret_ts ? f->ret_ts : f->ts, .tid = t->tid,
			       .kind = DM_EV_FAULT };
	uint64_t owner;
	bool private;

	if (!f->open)
		return;
	fault_finalize(k, t);
	private = is_type(k->kc.swp_private, type) || f->setup ||
		  (f->has_page && f->page && !is_type(k->kc.swp_exclusive, type));
	if (!private)
		goto out;
	res->devprivate_faults++;
	if ((f->ret & VM_FAULT_RETRY) && !f->setup && !f->lock && !(f->has_page && f->page)) {
		/* the per-VMA lock: retried at once under the mmap lock */
		res->vma_lock_retries++;
		goto out;
	}
	if (f->lock)
		res->lock_waits++;
	ev.fault.kernel = true;
	ev.fault.pid = dm_analysis_tgid(k->a, t->tid);
	ev.fault.addr = f->addr;
	ev.fault.dev_pfn = is_type(k->kc.swp_private, type) ? pte_swp_offset(f->pte) : 0;
	ev.fault.result = f->ret;
	ev.fault.migrated = f->migrated;
	ev.fault.has_uip = f->has_uip;
	ev.fault.uip = f->uip;
	ev.fault.callback = f->has_mtr ? f->mtr : f->caller;
	range_find(k, ev.fault.pid, f->addr, &owner, &ev.fault.migrator);
	ev.fault.reach = f->setup ? DM_REACH_SETUP : f->lock ? DM_REACH_LOCK : DM_REACH_DRIVER;
	feed(k, &ev);
out:
	memset(f, 0, sizeof(*f));
}

/* A fault whose return came waits for a swap_fault_mtr; anything else of
 * the thread ends it. */
static void settle(struct dm_kmode *k, struct kt *t, uint16_t kind)
{
	if (t->sw.closing && kind != DM_EV_KP_SWAP_MTR)
		fault_close(k, t);
}

/* ------------------------------------------------------------ the feed */

static uint8_t call_dir(uint64_t flags, uint64_t fpage)
{
	if (fpage || ((flags & SELECT_DEVICE) && !(flags & SELECT_SYSTEM)))
		return DM_DIR_TO_RAM;
	return DM_DIR_TO_DEV;
}

static void fpage_attach(struct call *c, const struct dm_event *fp)
{
	c->has_fpage_info = true;
	c->has_fowner = fp->kp_fpage.has_fowner;
	c->fowner = fp->kp_fpage.fowner;
}

static void on_setup(struct dm_kmode *k, struct kt *t, const struct dm_event *ev)
{
	struct call *c = &t->mv;

	call_close(k, t, ev->ts);
	c->open = true;
	c->ts = ev->ts;
	c->start = ev->kp_setup.start;
	c->end = ev->kp_setup.end;
	c->npages = c->end > c->start ? (c->end - c->start) / k->page_size : 0;
	c->owner = ev->kp_setup.owner;
	c->fpage = ev->kp_setup.fpage;
	c->caller = ev->kp_setup.caller;
	c->fault = c->fpage != 0;
	c->dir = call_dir(ev->kp_setup.flags, c->fpage);
	if (t->fp_valid && t->fp.kp_fpage.fpage == c->fpage)
		fpage_attach(c, &t->fp);
	t->fp_valid = false;
}

static void on_fpage(struct kt *t, const struct dm_event *ev)
{
	if (t->mv.open && !t->mv.has_fpage_info && t->mv.fpage == ev->kp_fpage.fpage) {
		fpage_attach(&t->mv, ev);
		return;
	}
	t->fp = *ev;
	t->fp_valid = true;
}

static void on_counts(struct dm_kmode *k, struct kt *t, uint64_t cpages)
{
	if (!t->mv.open)
		return;
	t->mv.cpages = cpages;
	t->mv.has_cpages = true;
	if (!t->mv.emitted)
		emit_setup(k, t);
}

static void on_page_init(struct dm_kmode *k, struct kt *t, const struct dm_event *ev)
{
	struct dm_event n = { .ts = ev->ts, .tid = ev->tid, .kind = DM_EV_DEVPAGE };
	struct kpage *p = kpage_add(k, ev->kp_init.page);
	uint8_t order = (uint8_t)(ev->kp_init.order > 13 ? 13 : ev->kp_init.order);

	if (p) {
		p->order = order;
		p->has_owner = t->mv.open && t->mv.dir == DM_DIR_TO_DEV;
		p->owner = t->mv.owner;
	}
	if (t->mv.open)
		t->mv.inits += 1ull << order;
	n.devpage.page = ev->kp_init.page;
	n.devpage.pgmap = ev->kp_init.pgmap;
	n.devpage.owner = ev->kp_init.has_owner ? ev->kp_init.owner : 0;
	n.devpage.driver = ev->kp_init.has_ops ? ev->kp_init.ops : t->mv.open ? t->mv.caller : 0;
	n.devpage.order = order;
	feed(k, &n);
}

static void on_page_free(struct dm_kmode *k, struct kt *t, const struct dm_event *ev)
{
	struct dm_event n = { .ts = ev->ts, .tid = ev->tid, .kind = DM_EV_FREE };
	struct kpage *p = kpage_get(k, ev->kp_free.page);
	uint64_t pages;

	n.free.dev_pfn = ev->kp_free.page;
	n.free.released = 1;
	n.free.order = p ? p->order : 0;
	pages = 1ull << n.free.order;
	if (t->mv.open)
		t->mv.frees += pages;
	else if (t->sw.open && t->sw.fin_pending)
		t->sw.late_frees += pages;
	kpage_del(k, ev->kp_free.page);
	feed(k, &n);
}

static void on_swap(struct dm_kmode *k, struct kt *t, const struct dm_event *ev)
{
	struct fault *f = &t->sw;

	fault_close(k, t);
	dm_analysis_counters(k->a)->swap_faults++;
	f->open = true;
	f->ts = ev->ts;
	f->addr = ev->kp_swap.addr;
	f->pte = ev->kp_swap.pte;
	/* the user access that faulted: the page_fault_user just before */
	if (t->pf_valid && (t->pf_addr & ~(k->page_size - 1)) == f->addr) {
		f->has_uip = true;
		f->uip = t->pf_ip;
	}
}

static void on_swap_ret(struct dm_kmode *k, struct kt *t, const struct dm_event *ev)
{
	struct fault *f = &t->sw;

	if (!f->open)
		return;
	/* a fault-path call the driver never finalized ends with the fault */
	if (t->mv.open && t->mv.fault)
		call_close(k, t, ev->ts);
	f->ret = ev->kp_swret.ret;
	f->ret_ts = ev->ts;
	f->has_page = ev->kp_swret.has_page;
	f->page = ev->kp_swret.page;
	if (f->has_mtr)
		fault_close(k, t);
	else
		f->closing = true;
}

static void on_swap_mtr(struct dm_kmode *k, struct kt *t, const struct dm_event *ev)
{
	t->sw.has_mtr = true;
	t->sw.mtr = ev->kp_swret.mtr;
	if (t->sw.closing)
		fault_close(k, t);
}

void dm_kmode_feed(struct dm_kmode *k, const struct dm_event *ev)
{
	struct kt *t = kt_get(k, ev->tid);
	struct dm_result *res = dm_analysis_counters(k->a);

	res->kernel_source = true;
	if (!t)
		return;
	settle(k, t, ev->kind);
	switch (ev->kind) {
	case DM_EV_USER_FAULT:
		t->pf_valid = true;
		t->pf_addr = ev->ufault.addr;
		t->pf_ip = ev->ufault.ip;
		break;
	case DM_EV_NEWTASK:
		if (ev->newtask.clone_flags & CLONE_THREAD) {
			struct dm_event n = { .ts = ev->ts, .tid = ev->newtask.pid, .kind = DM_EV_THREAD };

			n.thread.tgid = dm_analysis_tgid(k->a, ev->tid);
			feed(k, &n);
		}
		break;
	case DM_EV_KP_SETUP:
		on_setup(k, t, ev);
		break;
	case DM_EV_KP_SETUP_FPAGE:
		on_fpage(t, ev);
		break;
	case DM_EV_KP_SETUP_RET:
		if (!t->mv.open)
			break;
		t->mv.ret = ev->kp_ret.ret;
		/* where it returns to: $stack0 at the entry may be a return
		 * trampoline already */
		if (ev->kp_ret.caller)
			t->mv.caller = ev->kp_ret.caller;
		if (ev->kp_ret.has_counts)
			on_counts(k, t, ev->kp_ret.cpages);
		else if (ev->kp_ret.ret)
			emit_setup(k, t);	/* nothing follows a failed setup */
		break;
	case DM_EV_KP_PAGES:
		t->mv.pages = true;
		on_counts(k, t, ev->kp_mv.cpages);
		break;
	case DM_EV_KP_FINAL:
		if (!t->mv.open)
			break;
		if (!t->mv.fin)
			on_counts(k, t, ev->kp_mv.cpages);
		t->mv.fin = true;
		t->mv.migrate = ev->kp_mv.migrate;
		break;
	case DM_EV_KP_FINAL_RET:
		call_close(k, t, ev->ts);
		break;
	case DM_EV_KP_PAGE_INIT:
		on_page_init(k, t, ev);
		break;
	case DM_EV_KP_PAGE_FREE:
		on_page_free(k, t, ev);
		break;
	case DM_EV_KP_SWAP:
		on_swap(k, t, ev);
		break;
	case DM_EV_KP_SWAP_RET:
		on_swap_ret(k, t, ev);
		break;
	case DM_EV_KP_SWAP_MTR:
		on_swap_mtr(k, t, ev);
		break;
	case DM_EV_KP_LOCK_WAIT:
		if (t->sw.open)
			t->sw.lock = true;
		break;
	case DM_EV_KP_HMM_RET: {
		struct dm_event n = { .ts = ev->ts, .tid = ev->tid, .kind = DM_EV_HMM };

		n.hmm.ret = ev->kp_ret.ret;
		feed(k, &n);
		break;
	}
	default:
		break;
	}
}

void dm_kmode_touch(struct dm_kmode *k, int32_t tid, bool exit)
{
	uint32_t i = hmap_get(&k->tmap, (uint32_t)tid, 0);

	if (i == HMAP_NONE)
		return;
	settle(k, pool_at(&k->kts, i), DM_EV_NONE);
	if (!exit)
		return;
	/* what the thread had open ends with it; its state goes */
	call_close(k, pool_at(&k->kts, i), ((struct kt *)pool_at(&k->kts, i))->mv.ts);
	fault_close(k, pool_at(&k->kts, i));
	hmap_del(&k->tmap, (uint32_t)tid, 0);
	pool_put(&k->kts, i);
	/* a process's migration ranges go with its main thread */
	i = hmap_del(&k->rmap, (uint32_t)tid, 0);
	if (i != HMAP_NONE)
		pool_put(&k->kranges, i);
}

void dm_kmode_finish(struct dm_kmode *k)
{
	for (uint32_t s = 0; s <= k->tmap.mask; s++) {
		struct kt *t;

		if (k->tmap.slots[s].val == HMAP_NONE)
			continue;
		t = pool_at(&k->kts, k->tmap.slots[s].val);
		call_close(k, t, t->mv.ts);
		fault_close(k, t);
	}
}
