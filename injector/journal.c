/*
 * journal: write-ahead records of kernel objects, and recover. See journal.h.
 */
#include "injector/journal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/netns.h"
#include "injector/nl.h"
#include "injector/route.h"
#include "injector/tc.h"

#define JOURNAL_MAGIC "doorjam-journal 1"

struct journal {
	int fd;
	char *dir;
	char *path;
};

const char *journal_dir(void)
{
	const char *d = getenv(JOURNAL_DIR_ENV);

	return d && *d ? d : JOURNAL_DIR_DEFAULT;
}

static int journal_fsync_dir(const char *dir, struct err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return err_errno(err, errno, "journal: open %s", dir);
	if (fsync(fd) < 0) {
		int e = errno;

		close(fd);
		return err_errno(err, e, "journal: fsync %s", dir);
	}
	close(fd);
	return 0;
}

static int journal_write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int journal_open(const char *dir, struct journal **out, struct err *err)
{
	struct journal *j;
	char head[128];
	int rc, n;

	*out = NULL;
	if (!dir)
		dir = journal_dir();
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return err_errno(err, errno, "journal: create folder %s", dir);
	j = calloc(1, sizeof(*j));
	if (!j)
		return err_set(err, -ENOMEM, "out of memory");
	j->fd = -1;
	j->dir = strdup(dir);
	if (!j->dir || asprintf(&j->path, "%s/run-%ld.journal", dir, (long)getpid()) < 0) {
		j->path = NULL;
		rc = err_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	j->fd = open(j->path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	if (j->fd < 0) {
		rc = err_errno(err, errno, "journal: create %s", j->path);
		goto fail;
	}
	if (flock(j->fd, LOCK_EX | LOCK_NB) < 0) {
		rc = err_errno(err, errno, "journal: lock %s", j->path);
		unlink(j->path);
		goto fail;
	}
	n = snprintf(head, sizeof(head), JOURNAL_MAGIC " pid=%ld\n", (long)getpid());
	rc = journal_write_all(j->fd, head, (size_t)n);
	if (rc < 0) {
		err_errno(err, -rc, "journal: write %s", j->path);
		unlink(j->path);
		goto fail;
	}
	if (fsync(j->fd) < 0 || journal_fsync_dir(dir, err) < 0) {
		rc = err_errno(err, errno, "journal: fsync %s", j->path);
		unlink(j->path);
		goto fail;
	}
	*out = j;
	return 0;
fail:
	if (j->fd >= 0)
		close(j->fd);
	free(j->path);
	free(j->dir);
	free(j);
	return rc;
}

const char *journal_path(const struct journal *j)
{
	return j ? j->path : NULL;
}

int journal_add(struct journal *j, const struct journal_rec *r, struct err *err)
{
	char line[JOURNAL_LINE_MAX + 1];
	size_t n;
	int rc;

	if (!j)
		return 0;
	if (journal_rec_format(r, line, sizeof(line) - 1) < 0)
		return err_set(err, -ENAMETOOLONG, "journal: record too long");
	n = strlen(line);
	line[n++] = '\n';
	rc = journal_write_all(j->fd, line, n);
	if (rc < 0)
		return err_errno(err, -rc, "journal: write %s", j->path);
	return 0;
}

int journal_sync(struct journal *j, struct err *err)
{
	if (!j)
		return 0;
	if (fdatasync(j->fd) < 0)
		return err_errno(err, errno, "journal: fsync %s", j->path);
	return 0;
}

int journal_close(struct journal *j, int remove, struct err *err)
{
	int rc = 0;

	if (!j)
		return 0;
	if (remove) {
		if (unlink(j->path) < 0)
			rc = err_errno(err, errno, "journal: remove %s", j->path);
		else
			rc = journal_fsync_dir(j->dir, err);
	}
	close(j->fd); /* releases the lock */
	free(j->path);
	free(j->dir);
	free(j);
	return rc;
}

/* ---- namespaces by inode ---- */

static unsigned long journal_path_ino(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (unsigned long)st.st_ino : 0;
}

static int journal_path_ok(const char *s)
{
	if (!*s || strlen(s) >= 256)
		return 0;
	for (; *s; s++)
		if (isspace((unsigned char)*s) || !isprint((unsigned char)*s))
			return 0;
	return 1;
}

/* Find a path naming namespace ino: /var/run/netns, then PID 1, then (if scan_proc) /proc. */
static int journal_ns_find(unsigned long ino, int scan_proc, char *out, size_t outlen)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	d = opendir(NETNS_RUN_DIR);
	if (d) {
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, de->d_name);
			if (journal_path_ino(path) == ino && journal_path_ok(path)) {
				snprintf(out, outlen, "%s", path);
				closedir(d);
				return 1;
			}
		}
		closedir(d);
	}
	if (journal_path_ino("/proc/1/ns/net") == ino) {
		snprintf(out, outlen, "/proc/1/ns/net");
		return 1;
	}
	if (!scan_proc)
		return 0;
	d = opendir("/proc");
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
		if (journal_path_ino(path) == ino) {
			snprintf(out, outlen, "%s", path);
			closedir(d);
			return 1;
		}
	}
	closedir(d);
	return 0;
}

void journal_rec_set_ns(struct journal_rec *r, int nsfd)
{
	r->ns_ino = netns_inode(nsfd);
	if (!journal_ns_find(r->ns_ino, 0, r->ns_path, sizeof(r->ns_path)))
		snprintf(r->ns_path, sizeof(r->ns_path), "-");
}

/* ---- record format ---- */

static const char *const journal_kind_names[] = { "route", "rule", "qdisc", "link", NULL };

int journal_rec_format(const struct journal_rec *r, char *out, size_t outlen)
{
	const char *nsp = journal_path_ok(r->ns_path) ? r->ns_path : "-";
	int n;

	switch (r->kind) {
	case JOURNAL_ROUTE:
		n = snprintf(out, outlen, "route ns=%lu nspath=%s fam=%d table=%" PRIu32
			     " type=%u dst=%s", r->ns_ino, nsp, r->family == AF_INET6 ? 6 : 4,
			     r->table, (unsigned)r->rtype, r->dst);
		break;
	case JOURNAL_RULE:
		n = snprintf(out, outlen, "rule ns=%lu nspath=%s fam=%d table=%" PRIu32
			     " prio=%" PRIu32, r->ns_ino, nsp, r->family == AF_INET6 ? 6 : 4,
			     r->table, r->prio);
		break;
	case JOURNAL_QDISC:
		n = snprintf(out, outlen, "qdisc ns=%lu nspath=%s ifindex=%d dev=%s parent=%"
			     PRIx32 " handle=%" PRIx32, r->ns_ino, nsp, r->ifindex,
			     r->dev[0] ? r->dev : "-", r->parent, r->handle);
		break;
	case JOURNAL_LINK:
		n = snprintf(out, outlen, "link ns=%lu nspath=%s dev=%s", r->ns_ino, nsp, r->dev);
		break;
	default:
		return -EINVAL;
	}
	if (n < 0 || (size_t)n >= outlen)
		return -ENAMETOOLONG;
	return 0;
}

static int journal_num(const char *v, int base, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long x;

	if (!*v || !isxdigit((unsigned char)*v))
		return -1;
	errno = 0;
	x = strtoull(v, &end, base);
	if (errno || *end || x > max)
		return -1;
	*out = x;
	return 0;
}

int journal_rec_parse(const char *line, struct journal_rec *r, struct err *err)
{
	char buf[JOURNAL_LINE_MAX + 1], *save = NULL, *tok;
	unsigned seen = 0, need;
	int k;

	memset(r, 0, sizeof(*r));
	if (strlen(line) > JOURNAL_LINE_MAX)
		return err_set(err, -EINVAL, "journal: line too long");
	snprintf(buf, sizeof(buf), "%s", line);
	tok = strtok_r(buf, " ", &save);
	if (!tok)
		return err_set(err, -EINVAL, "journal: empty record");
	for (k = 0; journal_kind_names[k]; k++)
		if (!strcmp(tok, journal_kind_names[k]))
			break;
	if (!journal_kind_names[k])
		return err_set(err, -EINVAL, "journal: unknown record kind \"%.40s\"", tok);
	r->kind = (enum journal_kind)k;
	while ((tok = strtok_r(NULL, " ", &save))) {
		char *eq = strchr(tok, '=');
		const char *v;
		uint64_t x;
		unsigned bit;

		if (!eq)
			goto bad;
		*eq = '\0';
		v = eq + 1;
		if (!strcmp(tok, "ns")) {
			bit = 1u << 0;
			if (journal_num(v, 10, ULONG_MAX, &x) < 0)
				goto bad;
			r->ns_ino = (unsigned long)x;
		} else if (!strcmp(tok, "nspath")) {
			bit = 1u << 1;
			if (strlen(v) >= sizeof(r->ns_path) || !*v)
				goto bad;
			snprintf(r->ns_path, sizeof(r->ns_path), "%s", v);
		} else if (!strcmp(tok, "fam")) {
			bit = 1u << 2;
			if (!strcmp(v, "4"))
				r->family = AF_INET;
			else if (!strcmp(v, "6"))
				r->family = AF_INET6;
			else
				goto bad;
		} else if (!strcmp(tok, "table")) {
			bit = 1u << 3;
			if (journal_num(v, 10, UINT32_MAX, &x) < 0 || x == 0)
				goto bad;
			r->table = (uint32_t)x;
		} else if (!strcmp(tok, "type")) {
			bit = 1u << 4;
			if (journal_num(v, 10, 255, &x) < 0 || !route_type_ok((int)x))
				goto bad;
			r->rtype = (uint8_t)x;
		} else if (!strcmp(tok, "dst")) {
			struct route_prefix p;

			bit = 1u << 5;
			if (strlen(v) >= sizeof(r->dst) || route_prefix_parse(v, &p, NULL) < 0)
				goto bad;
			snprintf(r->dst, sizeof(r->dst), "%s", v);
		} else if (!strcmp(tok, "prio")) {
			bit = 1u << 6;
			if (journal_num(v, 10, UINT32_MAX, &x) < 0)
				goto bad;
			r->prio = (uint32_t)x;
		} else if (!strcmp(tok, "ifindex")) {
			bit = 1u << 7;
			if (journal_num(v, 10, INT32_MAX, &x) < 0 || x == 0)
				goto bad;
			r->ifindex = (int)x;
		} else if (!strcmp(tok, "dev")) {
			bit = 1u << 8;
			if (!*v || strlen(v) >= sizeof(r->dev))
				goto bad;
			snprintf(r->dev, sizeof(r->dev), "%s", strcmp(v, "-") ? v : "");
		} else if (!strcmp(tok, "parent")) {
			bit = 1u << 9;
			if (journal_num(v, 16, UINT32_MAX, &x) < 0)
				goto bad;
			r->parent = (uint32_t)x;
		} else if (!strcmp(tok, "handle")) {
			bit = 1u << 10;
			if (journal_num(v, 16, UINT32_MAX, &x) < 0)
				goto bad;
			r->handle = (uint32_t)x;
		} else {
			return err_set(err, -EINVAL, "journal: unknown key \"%.40s\"", tok);
		}
		if (seen & bit)
			return err_set(err, -EINVAL, "journal: key \"%.40s\" twice", tok);
		seen |= bit;
		continue;
bad:
		return err_set(err, -EINVAL, "journal: bad value in \"%.60s\"", tok);
	}
	switch (r->kind) {
	case JOURNAL_ROUTE: need = 0x3fu; break;                  /* ns nspath fam table type dst */
	case JOURNAL_RULE:  need = 0x4fu; break;                  /* ns nspath fam table prio */
	case JOURNAL_QDISC: need = 0x3u | 0x780u; break;          /* ns nspath ifindex dev parent handle */
	default:            need = 0x103u; break;                 /* ns nspath dev */
	}
	if (seen != need)
		return err_set(err, -EINVAL, "journal: %s record with missing or extra keys",
			       journal_kind_names[k]);
	if (r->kind == JOURNAL_LINK && !r->dev[0])
		return err_set(err, -EINVAL, "journal: link record without a device name");
	return 0;
}

int journal_read(const char *path, struct journal_rec **recs, size_t *n, struct err *err)
{
	char line[JOURNAL_LINE_MAX + 2];
	struct journal_rec *v = NULL;
	size_t cnt = 0, cap = 0, lineno = 0;
	FILE *f;
	int rc = 0;

	*recs = NULL;
	*n = 0;
	f = fopen(path, "re");
	if (!f)
		return err_errno(err, errno, "journal: open %s", path);
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);

		lineno++;
		if (len == 0 || line[len - 1] != '\n') {
			if (len > JOURNAL_LINE_MAX) {
				rc = err_set(err, -EINVAL, "%s:%zu: line too long", path, lineno);
				goto out;
			}
			/* a torn last line: the object it described was never made */
			if (feof(f))
				break;
		}
		line[--len] = '\0';
		if (lineno == 1) {
			if (strncmp(line, JOURNAL_MAGIC " ", strlen(JOURNAL_MAGIC) + 1)) {
				rc = err_set(err, -EINVAL, "%s: not a doorjam journal", path);
				goto out;
			}
			continue;
		}
		if (cnt == JOURNAL_RECORDS_MAX) {
			rc = err_set(err, -E2BIG, "%s: more than %d records", path, JOURNAL_RECORDS_MAX);
			goto out;
		}
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 64;
			void *nv = realloc(v, nc * sizeof(*v));

			if (!nv) {
				rc = err_set(err, -ENOMEM, "out of memory");
				goto out;
			}
			v = nv;
			cap = nc;
		}
		rc = journal_rec_parse(line, &v[cnt], err);
		if (rc < 0) {
			err_prefix(err, "%s:%zu: ", path, lineno);
			goto out;
		}
		cnt++;
	}
	if (ferror(f))
		rc = err_errno(err, EIO, "journal: read %s", path);
out:
	fclose(f);
	if (rc < 0) {
		free(v);
		return rc;
	}
	*recs = v;
	*n = cnt;
	return 0;
}

/* ---- stale journals ---- */

static int journal_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 12 && !strncmp(name, "run-", 4) && !strcmp(name + n - 8, ".journal");
}

void journal_paths_free(char **paths, size_t n)
{
	size_t i;

	for (i = 0; paths && i < n; i++)
		free(paths[i]);
	free(paths);
}

int journal_stale(const char *dir, char ***paths, size_t *n, struct err *err)
{
	struct dirent *de;
	char **v = NULL;
	size_t cnt = 0;
	DIR *d;
	int rc = 0;

	*paths = NULL;
	*n = 0;
	if (!dir)
		dir = journal_dir();
	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return err_errno(err, errno, "journal: open folder %s", dir);
	}
	while ((de = readdir(d))) {
		char *p;
		void *nv;
		int fd;

		if (!journal_name_ok(de->d_name))
			continue;
		if (asprintf(&p, "%s/%s", dir, de->d_name) < 0) {
			rc = err_set(err, -ENOMEM, "out of memory");
			break;
		}
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			free(p);
			continue; /* removed meanwhile */
		}
		/* a live run holds the lock; if we get it, the run is gone */
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			close(fd);
			free(p);
			continue;
		}
		close(fd);
		nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (!nv) {
			free(p);
			rc = err_set(err, -ENOMEM, "out of memory");
			break;
		}
		v = nv;
		v[cnt++] = p;
	}
	closedir(d);
	if (rc < 0) {
		journal_paths_free(v, cnt);
		return rc;
	}
	*paths = v;
	*n = cnt;
	return 0;
}

/* ---- recover ---- */

/* Journals in dir that a live run holds locked. */
static int journal_live(const char *dir, size_t *live, struct err *err)
{
	struct dirent *de;
	char path[PATH_MAX];
	DIR *d;

	*live = 0;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : err_errno(err, errno, "journal: open folder %s", dir);
	while ((de = readdir(d))) {
		int fd;

		if (!journal_name_ok(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0)
			(*live)++;
		close(fd);
	}
	closedir(d);
	return 0;
}

struct journal_ns {
	unsigned long ino;
	struct nl_ns *nl;   /* NULL when the namespace is gone */
};

struct journal_nss {
	struct journal_ns *v;
	size_t n;
};

static void journal_nss_free(struct journal_nss *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		nl_ns_close(s->v[i].nl);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* The open socket for namespace ino (opened on first use); *nl NULL when it is gone. */
static int journal_ns_get(struct journal_nss *s, unsigned long ino, const char *hint,
			  struct nl_ns **nl, struct err *err)
{
	char path[PATH_MAX];
	struct journal_ns *nv;
	size_t i;
	int fd, rc;

	*nl = NULL;
	for (i = 0; i < s->n; i++) {
		if (s->v[i].ino == ino) {
			*nl = s->v[i].nl;
			return 0;
		}
	}
	nv = realloc(s->v, (s->n + 1) * sizeof(*nv));
	if (!nv)
		return err_set(err, -ENOMEM, "out of memory");
	s->v = nv;
	s->v[s->n].ino = ino;
	s->v[s->n].nl = NULL;
	if (strcmp(hint, "-") && journal_path_ino(hint) == ino)
		snprintf(path, sizeof(path), "%s", hint);
	else if (!journal_ns_find(ino, 1, path, sizeof(path))) {
		s->n++;
		return 0; /* the namespace is gone, and its objects with it */
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		s->n++;
		return 0;
	}
	rc = nl_ns_open(fd, &s->v[s->n].nl, err);
	close(fd);
	if (rc < 0)
		return err_prefix(err, "recover: namespace %s: ", path);
	*nl = s->v[s->n].nl;
	s->n++;
	return 0;
}

static int journal_undo(struct nl_ns *nl, const struct journal_rec *r, int *absent,
			struct err *err)
{
	switch (r->kind) {
	case JOURNAL_ROUTE:
	case JOURNAL_RULE:
		return route_undo(nl, r, absent, err);
	case JOURNAL_QDISC:
	case JOURNAL_LINK:
		return tc_undo(nl, r, absent, err);
	}
	return err_set(err, -EINVAL, "journal: unknown record");
}

static int journal_sweep(struct nl_ns *nl, size_t *swept, struct err *err)
{
	size_t a = 0, b = 0;
	int rc;

	rc = route_sweep(nl, &a, err);
	if (rc == 0)
		rc = tc_sweep(nl, &b, err);
	*swept += a + b;
	return rc;
}

/* Undo the records of one journal file, newest first; absent objects are fine. */
static int journal_undo_file(const char *path, struct journal_nss *nss,
			     struct journal_recover_stats *st, struct err *err)
{
	struct journal_rec *recs = NULL;
	struct nl_ns *nl;
	size_t n = 0, i;
	int rc, absent;

	rc = journal_read(path, &recs, &n, err);
	if (rc < 0)
		goto out;
	st->journals++;
	st->records += n;
	for (i = n; i-- > 0;) {
		rc = journal_ns_get(nss, recs[i].ns_ino, recs[i].ns_path, &nl, err);
		if (rc < 0)
			goto out;
		if (!nl) {
			st->ns_gone++;
			continue;
		}
		rc = journal_undo(nl, &recs[i], &absent, err);
		if (rc < 0) {
			err_prefix(err, "recover: %s: ", path);
			goto out;
		}
		if (absent)
			st->absent++;
		else
			st->undone++;
	}
out:
	free(recs);
	return rc;
}

static int journal_recover_one(const char *path, struct journal_nss *nss,
			       struct journal_recover_stats *st, struct err *err)
{
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : err_errno(err, errno, "recover: open %s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return 0; /* a live run (or another recover) holds it */
	}
	rc = journal_undo_file(path, nss, st, err);
	if (rc == 0 && unlink(path) < 0)
		rc = err_errno(err, errno, "recover: remove %s", path);
	close(fd);
	return rc;
}

int journal_undo_own(struct journal *j, struct journal_recover_stats *st, struct err *err)
{
	struct journal_nss nss = { NULL, 0 };
	int rc;

	memset(st, 0, sizeof(*st));
	if (!j)
		return 0;
	rc = journal_undo_file(j->path, &nss, st, err);
	journal_nss_free(&nss);
	return rc;
}

int journal_recover(const char *dir, int extra_nsfd, struct journal_recover_stats *st,
		    struct err *err)
{
	struct journal_nss nss = { NULL, 0 };
	char **paths = NULL;
	size_t n = 0, i;
	int rc;

	memset(st, 0, sizeof(*st));
	if (!dir)
		dir = journal_dir();
	rc = journal_stale(dir, &paths, &n, err);
	if (rc < 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++)
		rc = journal_recover_one(paths[i], &nss, st, err);
	if (rc == 0 && n)
		rc = journal_fsync_dir(dir, err);
	/*
	 * Sweeping by marks cannot tell a crashed run's objects from a live
	 * run's, so it only happens while no run holds a journal.
	 */
	if (rc == 0)
		rc = journal_live(dir, &st->live, err);
	for (i = 0; rc == 0 && !st->live && i < nss.n; i++)
		if (nss.v[i].nl)
			rc = journal_sweep(nss.v[i].nl, &st->swept, err);
	if (rc == 0 && !st->live && extra_nsfd != -2) {
		struct nl_ns *nl = NULL;

		rc = nl_ns_open(extra_nsfd, &nl, err);
		if (rc == 0)
			rc = journal_sweep(nl, &st->swept, err);
		nl_ns_close(nl);
	}
	journal_nss_free(&nss);
	journal_paths_free(paths, n);
	return rc;
}
