// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "scrub.h"

void dm_fmt_rel(char *buf, size_t n, uint64_t ts, uint64_t t0)
{
	if (ts >= t0)
		snprintf(buf, n, "+%" PRIu64 ".%06" PRIu64, (uint64_t)((ts - t0) / 1000000000u),
			 (uint64_t)((ts - t0) % 1000000000u / 1000));
	else
		snprintf(buf, n, "-%" PRIu64 ".%06" PRIu64, (uint64_t)((t0 - ts) / 1000000000u),
			 (uint64_t)((t0 - ts) % 1000000000u / 1000));
}

void dm_fmt_owner(char *buf, size_t n, uint64_t token)
{
	if (!token)
		snprintf(buf, n, "NULL");
	else if (token == DM_TOKEN_UNKNOWN)
		snprintf(buf, n, "unknown");
	else
		snprintf(buf, n, "owner#%" PRIu64, token);
}

/* Where the page's owner came from, for the owner-mismatch text. */
static const char *basis_text(uint8_t basis)
{
	switch (basis) {
	case DM_OWNER_BTF:
		return "read from the page's own pgmap->owner through BTF";
	case DM_OWNER_INIT:
		return "the pgmap_owner of the migration that moved this page to the device";
	case DM_OWNER_RANGE:
		return "the pgmap_owner of the last migration to the device at this address";
	default:
		return "unknown";
	}
}

static const char *inferred_text(const struct dm_loop *l)
{
	return l->cpages_inferred ?
		" (the count is inferred: this kernel cannot read it at setup's return, and the "
		"driver called neither migrate_vma_pages() nor migrate_vma_finalize(), which it "
		"must after collecting a page)" : "";
}

/* The kernel-probe source: what the kernel's side says of the loop. */
static void describe_kernel(const struct dm_loop *l, enum dm_cause c, uint64_t ev, uint64_t seen,
			    char *buf, size_t n)
{
	char own[32], pown[32];

	dm_fmt_owner(own, sizeof(own), l->owner);
	dm_fmt_owner(pown, sizeof(pown), l->page_owner);
	switch (c) {
	case DM_CAUSE_OWNER_MISMATCH:
		snprintf(buf, n,
			 "migrate_vma_setup collected 0 of %" PRIu64 " pages%s in %" PRIu64 " of %" PRIu64
			 " faults: the fault path passed pgmap_owner %s, but the device page's owner is %s "
			 "(%s)",
			 l->last_npages, inferred_text(l), ev, seen, own, pown, basis_text(l->owner_basis));
		break;
	case DM_CAUSE_NOT_COLLECTED:
		if (l->owner_basis == DM_OWNER_NONE)
			snprintf(buf, n,
				 "migrate_vma_setup collected 0 of %" PRIu64 " pages%s in %" PRIu64 " of %" PRIu64
				 " faults with pgmap_owner %s; the page's owner is unknown (no BTF, and no "
				 "migration of it to the device was recorded), so an owner mismatch and a busy "
				 "page cannot be told apart",
				 l->last_npages, inferred_text(l), ev, seen, own);
		else
			snprintf(buf, n,
				 "migrate_vma_setup collected 0 of %" PRIu64 " pages%s in %" PRIu64 " of %" PRIu64
				 " faults although its pgmap_owner %s is the page's (%s): the device page was "
				 "busy (locked, pinned, or its entry changed under the fault)",
				 l->last_npages, inferred_text(l), ev, seen, own, basis_text(l->owner_basis));
		break;
	case DM_CAUSE_NOT_MIGRATED:
		snprintf(buf, n,
			 "migrate_vma_setup collected the page but migrate_vma_finalize moved nothing in %"
			 PRIu64 " of %" PRIu64 " faults: the driver did not give it a destination page, or "
			 "did not call migrate_vma_pages()",
			 ev, seen);
		break;
	case DM_CAUSE_NOT_REACHED:
		snprintf(buf, n,
			 "in %" PRIu64 " of %" PRIu64 " faults the device page was locked: the kernel waited "
			 "and retried the fault without calling the driver's migrate_to_ram",
			 ev, seen);
		break;
	default:
		snprintf(buf, n,
			 "the driver's migrate_to_ram returned (0x%x) without calling migrate_vma_setup() "
			 "in %" PRIu64 " of %" PRIu64 " faults",
			 l->last_result, ev, seen);
		break;
	}
}

void dm_describe_cause(const struct dm_loop *l, char *buf, size_t n)
{
	enum dm_cause c = dm_loop_cause(l);
	uint64_t ev = l->evidence[c];
	uint64_t seen = 0;

	for (int i = 0; i < DM_CAUSE_MAX; i++)
		seen += l->evidence[i];
	if (!seen) {
		snprintf(buf, n,
			 "no dmirror_devmem_fault event was recorded for it: only the driver's guard saw the loop");
		return;
	}
	if (c == DM_CAUSE_SETUP_ERROR) {
		snprintf(buf, n,
			 "migrate_vma_setup failed (ret=%d) in %" PRIu64 " of %" PRIu64
			 " faults, so the fault never migrates the page",
			 l->last_ret, ev, seen);
		return;
	}
	if (l->kernel) {
		describe_kernel(l, c, ev, seen, buf, n);
		return;
	}
	switch (c) {
	case DM_CAUSE_OWNER_MISMATCH:
		snprintf(buf, n,
			 "migrate_vma_setup collected 0 of %" PRIu64 " pages: the fault path's pgmap_owner "
			 "does not match the owner of the device page (owner_match=0 in %" PRIu64
			 " of %" PRIu64 " faults)",
			 l->last_npages, ev, seen);
		break;
	case DM_CAUSE_NOT_COLLECTED:
		snprintf(buf, n,
			 "migrate_vma_setup collected 0 of %" PRIu64 " pages in %" PRIu64 " of %" PRIu64
			 " faults although the pgmap_owner matches (or was not recorded): the device "
			 "page was not collectable (locked, pinned, or the entry changed under the "
			 "fault); the events do not say which",
			 l->last_npages, ev, seen);
		break;
	case DM_CAUSE_NOT_MIGRATED:
		snprintf(buf, n,
			 "migrate_vma_setup collected the page but the fault moved nothing in %" PRIu64
			 " of %" PRIu64 " faults: the copy to system memory or migrate_vma_pages() "
			 "failed",
			 ev, seen);
		break;
	default:
		snprintf(buf, n,
			 "no dmirror_migrate_setup event accompanied %" PRIu64 " of %" PRIu64
			 " faults: the fault handler returned before migrate_vma_setup (last "
			 "result 0x%x)",
			 ev, seen, l->last_result);
		break;
	}
}

void dm_describe_end(const struct dm_loop *l, char *buf, size_t n)
{
	char sig[96] = "";

	if (l->sigbus)
		snprintf(sig, sizeof(sig), "; %" PRIu64 " fault(s) returned VM_FAULT_SIGBUS", l->sigbus);
	if (l->guard) {
		snprintf(buf, n,
			 "stopped by the driver's fault-loop guard (%u faults without progress, "
			 "fault_loop_limit %u)%s",
			 l->guard_count, l->guard_limit, sig);
		return;
	}
	switch (l->end) {
	case DM_LOOP_MIGRATED:
		snprintf(buf, n, "ended: a later migration moved the page back%s", sig);
		break;
	case DM_LOOP_FREED:
		snprintf(buf, n, "ended: the device page was freed%s", sig);
		break;
	case DM_LOOP_EXITED:
		snprintf(buf, n, "ended: the process exited%s", sig);
		break;
	default:
		snprintf(buf, n, "still faulting when the trace ended%s", sig);
		break;
	}
}

static const char *key_of_line(const char *line, size_t *klen)
{
	const char *p = line;

	while (*p == ' ' || *p == '\t')
		p++;
	*klen = strcspn(p, " \t:=\n");
	return p;
}

int dm_stats_shadow_live(const char *text, int64_t *v, char *key, size_t keylen)
{
	const char *p = text;
	int64_t sum = 0;
	int nsuffix = 0;
	const char *suffix = "shadow_live";
	size_t sl = strlen(suffix);

	if (!text)
		return -1;
	/* total.shadow_live wins */
	for (p = text; p && *p; ) {
		const char *nl = strchr(p, '\n');
		size_t kl;
		const char *k = key_of_line(p, &kl);

		if (kl == strlen("total.shadow_live") && !strncmp(k, "total.shadow_live", kl)) {
			*v = strtoll(k + kl + strspn(k + kl, " \t:="), NULL, 0);
			snprintf(key, keylen, "total.shadow_live");
			return 0;
		}
		p = nl ? nl + 1 : NULL;
	}
	for (p = text; p && *p; ) {
		const char *nl = strchr(p, '\n');
		size_t kl;
		const char *k = key_of_line(p, &kl);

		if (kl >= sl && !strncmp(k + kl - sl, suffix, sl)) {
			sum += strtoll(k + kl + strspn(k + kl, " \t:="), NULL, 0);
			if (!nsuffix)
				snprintf(key, keylen, "%.*s", (int)kl, k);
			nsuffix++;
		}
		p = nl ? nl + 1 : NULL;
	}
	if (!nsuffix)
		return -1;
	if (nsuffix > 1)
		snprintf(key, keylen, "sum of %d *shadow_live keys", nsuffix);
	*v = sum;
	return 0;
}

void dm_stats_check(const char *before, const char *after, const struct dm_result *r,
		    struct dm_stats_check *sc)
{
	char k2[64];

	memset(sc, 0, sizeof(*sc));
	/* in pages: the driver counts shadow pages, a huge folio's are 512 */
	sc->expected = r->leaked_pages + r->live_shadow_at_end;
	if (dm_stats_shadow_live(before, &sc->before, sc->key, sizeof(sc->key)) ||
	    dm_stats_shadow_live(after, &sc->after, k2, sizeof(k2)))
		return;
	sc->have = true;
	sc->delta = sc->after - sc->before;
	sc->agree = sc->delta == (int64_t)sc->expected;
}

void dm_print_live_loop(FILE *f, const struct dm_loop *l, uint64_t t0, const char *callback,
			const char *migrator)
{
	char cause[768], t[32], pc[48] = "", cb[320] = "";

	dm_describe_cause(l, cause, sizeof(cause));
	dm_fmt_rel(t, sizeof(t), l->last_ts, t0);
	if (l->has_uip)
		snprintf(pc, sizeof(pc), " user pc 0x%" PRIx64, l->uip);
	if (callback)
		snprintf(cb, sizeof(cb), " handled by %s;", callback);
	else if (migrator)
		snprintf(cb, sizeof(cb), " the page was migrated to the device from %s;", migrator);
	fprintf(f, "analyzer: LIVE %s: fault loop: pid %d (%s) addr 0x%" PRIx64 "%s dev_pfn 0x%" PRIx64
		": %" PRIu64 " faults without progress%s;%s cause: %s\n",
		t, l->pid, l->comm, l->addr, pc, l->dev_pfn, l->count,
		l->guard ? " (the driver's guard fired)" : "", cb, cause);
	fflush(f);
}

void dm_print_live_leak(FILE *f, const struct dm_leak *l, uint64_t t0)
{
	char t[32], np[40] = "";

	if (l->kind == DM_LEAK_DEVPAGE)
		return;	/* judged at the end, when every process has exited */
	dm_fmt_rel(t, sizeof(t), l->free_ts, t0);
	if (l->npages > 1)
		snprintf(np, sizeof(np), " (%" PRIu64 " pages)", l->npages);
	fprintf(f, "analyzer: LIVE %s: leaked shadow page%s: dev_pfn 0x%" PRIx64 " shadow_pfn 0x%" PRIx64
		" addr 0x%" PRIx64 " pid %d (%s): %s\n",
		t, np, l->dev_pfn, l->shadow_pfn, l->addr, l->pid, l->comm,
		l->kind == DM_LEAK_FREED_UNRELEASED ? "freed without releasing its shadow page"
						    : "still allocated after its process exited");
	fflush(f);
}
