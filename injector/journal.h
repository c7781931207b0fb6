/*
 * journal: the write-ahead record of every kernel object doorjam makes, and
 * recover, which undoes whatever a crashed run left behind.
 *
 * A run opens one journal file, run-<pid>.journal, in the journal folder
 * (/run/doorjam unless DOORJAM_JOURNAL_DIR or a parameter says otherwise) and
 * holds an exclusive flock on it for as long as it lives. Before it makes a
 * route, a rule, a qdisc or a device, it appends one line describing that
 * object and fsyncs the file (journal_add + journal_sync), so that a crash at
 * any point leaves a record of everything that may exist. A clean end removes
 * the file (journal_close with remove set).
 *
 * A journal file nobody holds a lock on is stale: its run died. `doorjam run`
 * refuses to start over one (journal_stale) and `doorjam recover`
 * (journal_recover) undoes its records in reverse order, then sweeps each
 * namespace it names for objects that carry doorjam's marks (route protocol,
 * rule priority range, qdisc handle major, device name prefix), so an object
 * made after its record was written but never reverted is found either way.
 * Undoing an object that is already gone is not an error, so recover is
 * idempotent: a second run finds nothing to do.
 *
 * The record format is one line per object, "KIND key=value ...", parsed
 * strictly: an unknown kind or key, or a malformed value, fails the parse.
 */
#ifndef DOORJAM_JOURNAL_H
#define DOORJAM_JOURNAL_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define JOURNAL_DIR_DEFAULT "/run/doorjam"
#define JOURNAL_DIR_ENV "DOORJAM_JOURNAL_DIR"
#define JOURNAL_LINE_MAX 512
#define JOURNAL_RECORDS_MAX 100000

enum journal_kind {
	JOURNAL_ROUTE,   /* a route in doorjam's table: family, table, type, dst */
	JOURNAL_RULE,    /* a policy rule: family, prio, table */
	JOURNAL_QDISC,   /* a qdisc: ifindex/dev, parent, handle (children go with it) */
	JOURNAL_LINK,    /* a device doorjam created (ifb): dev */
};

/* One journaled object: plain data. */
struct journal_rec {
	enum journal_kind kind;
	unsigned long ns_ino;       /* inode of the namespace the object lives in */
	char ns_path[256];          /* where that namespace was found, or "-" */
	int family;                 /* AF_INET or AF_INET6 (route, rule) */
	uint32_t table;             /* route, rule */
	uint32_t prio;              /* rule */
	uint8_t rtype;              /* route: RTN_UNREACHABLE, RTN_BLACKHOLE, RTN_PROHIBIT */
	char dst[64];               /* route: CIDR */
	int ifindex;                /* qdisc */
	char dev[IF_NAMESIZE];      /* qdisc, link */
	uint32_t parent;            /* qdisc: TC_H_ROOT, TC_H_INGRESS or a class */
	uint32_t handle;            /* qdisc */
};

struct journal;

/* The journal folder: env DOORJAM_JOURNAL_DIR when set and non-empty, else /run/doorjam. */
const char *journal_dir(void);

/*
 * Create dir (mode 0700) if needed, create run-<pid>.journal in it, lock it
 * and fsync the file and the folder. dir NULL means journal_dir(). Stores a
 * heap handle in *out (journal_close frees it). Returns 0 or a negative code
 * with err set.
 */
int journal_open(const char *dir, struct journal **out, struct err *err)
	__attribute__((warn_unused_result));

/* Path of the journal file (owned by j). */
const char *journal_path(const struct journal *j);

/*
 * Append one record (not yet durable: call journal_sync before making the
 * object). j NULL is allowed and does nothing (a caller without a journal,
 * such as the probe). Returns 0 or a negative code with err set.
 */
int journal_add(struct journal *j, const struct journal_rec *r, struct err *err)
	__attribute__((warn_unused_result));

/* fsync what was appended. j NULL: nothing. Returns 0 or negative with err. */
int journal_sync(struct journal *j, struct err *err) __attribute__((warn_unused_result));

/*
 * Release the lock and free j. remove: delete the file first (a run that
 * reverted everything). Accepts NULL. Returns 0 or negative with err set (the
 * handle is freed either way).
 */
int journal_close(struct journal *j, int remove, struct err *err);

/* Fill in ns_ino and ns_path of r for namespace nsfd (NETNS_SELF: our own). */
void journal_rec_set_ns(struct journal_rec *r, int nsfd);

/* Format r as one line (without newline) into out. Returns 0 or -ENAMETOOLONG. */
int journal_rec_format(const struct journal_rec *r, char *out, size_t outlen);

/* Parse one line (without newline). Returns 0 or -EINVAL with err set. */
int journal_rec_parse(const char *line, struct journal_rec *r, struct err *err)
	__attribute__((warn_unused_result));

/*
 * Read every record of a journal file into a heap array (caller frees *recs).
 * A torn last line (a crash mid-write) is ignored; any other bad line fails.
 */
int journal_read(const char *path, struct journal_rec **recs, size_t *n, struct err *err)
	__attribute__((warn_unused_result));

/*
 * Stale journals in dir (NULL: journal_dir()): files run-*.journal that no
 * live run holds locked. Stores a heap array of heap paths in *paths (free
 * with journal_paths_free) and their count in *n. A missing folder means
 * none. Returns 0 or negative with err set.
 */
int journal_stale(const char *dir, char ***paths, size_t *n, struct err *err)
	__attribute__((warn_unused_result));
void journal_paths_free(char **paths, size_t n);

/* What a recover did, for the CLI to print. */
struct journal_recover_stats {
	size_t journals;     /* stale journal files handled */
	size_t records;      /* records read */
	size_t undone;       /* objects found and removed */
	size_t absent;       /* objects already gone */
	size_t swept;        /* marked objects removed that no record named */
	size_t ns_gone;      /* records whose namespace no longer exists */
	size_t live;         /* journals held by live runs: no sweep was done */
};

/*
 * Undo every stale journal in dir (NULL: journal_dir()) in reverse order,
 * delete each journal whose objects are all gone, then sweep each namespace
 * they named (and extra_nsfd when it is not -2; -1 is our own namespace) for
 * doorjam's marks. A journal held by a live run is left alone, and while one
 * exists no sweep is done (st->live counts them), since marks cannot tell
 * whose an object is. Returns 0 when
 * nothing of doorjam's remains, or a negative code with err set (the journal
 * is kept so that recover can be run again).
 */
int journal_recover(const char *dir, int extra_nsfd, struct journal_recover_stats *st,
		    struct err *err) __attribute__((warn_unused_result));

/*
 * The run's own safety net, for a run whose apply or lift failed part-way:
 * undo every record of j, newest first, as recover would (an object already
 * gone, or in a namespace that is gone, is fine), while j stays open and
 * locked. Returns 0 when nothing of the journal's objects remains (the caller
 * may then journal_close with remove set), or a negative code with err set
 * (keep the journal for `doorjam recover`). st counts what was done. j NULL:
 * nothing to do.
 */
int journal_undo_own(struct journal *j, struct journal_recover_stats *st, struct err *err)
	__attribute__((warn_unused_result));

#endif
