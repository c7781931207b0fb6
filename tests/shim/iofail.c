/*
 * iofail: an LD_PRELOAD shim that makes doorjam's own I/O fail on purpose,
 * so that tests/e2e/test_iofail.sh can check what doorjam does when its disk
 * fills up or a netlink request fails half-way through applying a fault.
 *
 * DJ_IOFAIL holds rules separated by commas:
 *
 *   write:SUBSTR:N[+]  the Nth write to a file whose path contains SUBSTR fails
 *                      with ENOSPC (write, pwrite, writev and fflush count as
 *                      writes); with "+" that one and every later one fail
 *   fsync:SUBSTR:N[+]  the same for fsync and fdatasync, failing with EIO
 *   nl:TYPE:N[+]       the Nth netlink message of TYPE sent by the process fails
 *                      at sendmsg with ENOBUFS, nothing sent; TYPE is a number
 *                      or one of newlink dellink newroute delroute newrule
 *                      delrule newqdisc delqdisc newtclass newtfilter
 *
 * Every failure it injects is written to standard error as one line starting
 * with "iofail:", so a test can tell that the shim fired. Counters are shared
 * by every thread (doorjam enters namespaces from short-lived threads). Only
 * the process that read DJ_IOFAIL fails calls: a forked child (doorjam's
 * kernel probe, a flow's exec step) has copies of the counters that would
 * make its calls count twice, so it is left alone.
 * Calls glibc makes inside itself (stdio's own buffer flushes) are not seen:
 * fflush is, which is where doorjam checks a report's writes.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_RULES 8
#define MAX_FD 65536

enum kind { K_WRITE, K_FSYNC, K_NL };

struct rule {
	enum kind kind;
	char what[128];          /* path substring (write, fsync) */
	int type;                /* netlink message type (nl) */
	unsigned long nth;
	int and_later;
	unsigned long seen;      /* atomic */
};

static struct rule rules[MAX_RULES];
static int nrules;
static pid_t owner;
static unsigned char fdrules[MAX_FD];   /* bit i: rule i's substring matched this fd's path */
static signed char fdnl[MAX_FD];        /* 0 unknown, 1 netlink, -1 not netlink */

static const struct { const char *name; int type; } nl_names[] = {
	{ "newlink", RTM_NEWLINK }, { "dellink", RTM_DELLINK },
	{ "newroute", RTM_NEWROUTE }, { "delroute", RTM_DELROUTE },
	{ "newrule", RTM_NEWRULE }, { "delrule", RTM_DELRULE },
	{ "newqdisc", RTM_NEWQDISC }, { "delqdisc", RTM_DELQDISC },
	{ "newtclass", RTM_NEWTCLASS }, { "newtfilter", RTM_NEWTFILTER },
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* nowhere to report it */
	}
}

static void bad_spec(const char *spec)
{
	say("iofail: cannot read the rule \"%s\" in DJ_IOFAIL", spec);
	_exit(2);
}

/* Parse DJ_IOFAIL once, before main. */
__attribute__((constructor)) static void iofail_init(void)
{
	const char *env = getenv("DJ_IOFAIL");
	char buf[1024], *save = NULL, *tok;

	if (!env || !*env)
		return;
	owner = getpid();
	snprintf(buf, sizeof(buf), "%s", env);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct rule *r = &rules[nrules];
		char *a = strchr(tok, ':'), *b = a ? strrchr(tok, ':') : NULL, *end;
		size_t i;

		if (nrules == MAX_RULES || !a || b == a)
			bad_spec(tok);
		*a++ = '\0';
		*b++ = '\0';
		if (!strcmp(tok, "write"))
			r->kind = K_WRITE;
		else if (!strcmp(tok, "fsync"))
			r->kind = K_FSYNC;
		else if (!strcmp(tok, "nl"))
			r->kind = K_NL;
		else
			bad_spec(tok);
		if (r->kind == K_NL) {
			r->type = -1;
			for (i = 0; i < sizeof(nl_names) / sizeof(nl_names[0]); i++)
				if (!strcmp(a, nl_names[i].name))
					r->type = nl_names[i].type;
			if (r->type < 0) {
				r->type = (int)strtol(a, &end, 10);
				if (*end || r->type <= 0)
					bad_spec(a);
			}
		} else {
			if (!*a || strlen(a) >= sizeof(r->what))
				bad_spec(a);
			snprintf(r->what, sizeof(r->what), "%s", a);
		}
		r->nth = strtoul(b, &end, 10);
		r->and_later = *end == '+';
		if (r->nth == 0 || (*end && strcmp(end, "+")))
			bad_spec(b);
		nrules++;
	}
}

/* 1 when this call is one rule r must fail. */
static int hit(struct rule *r)
{
	unsigned long n;

	if (getpid() != owner)
		return 0;
	n = __atomic_add_fetch(&r->seen, 1, __ATOMIC_SEQ_CST);

	return n == r->nth || (r->and_later && n > r->nth);
}

static void track(int fd, const char *path)
{
	unsigned char m = 0;
	int i;

	if (fd < 0 || fd >= MAX_FD)
		return;
	for (i = 0; path && i < nrules; i++)
		if (rules[i].kind != K_NL && strstr(path, rules[i].what))
			m |= (unsigned char)(1u << i);
	fdrules[fd] = m;
	fdnl[fd] = 0;
}

/* -1 with errno set when a rule of kind k fails this call on fd. */
static int fail_fd(int fd, enum kind k, const char *call)
{
	int i;

	if (fd < 0 || fd >= MAX_FD || !fdrules[fd])
		return 0;
	for (i = 0; i < nrules; i++) {
		if (rules[i].kind != k || !(fdrules[fd] & (1u << i)) || !hit(&rules[i]))
			continue;
		say("iofail: %s on a file matching \"%s\" (call %lu) fails with %s", call,
		    rules[i].what, rules[i].seen, k == K_WRITE ? "ENOSPC" : "EIO");
		errno = k == K_WRITE ? ENOSPC : EIO;
		return -1;
	}
	return 0;
}

#define REAL(name, ret, ...)                                                          \
	static ret (*real_##name)(__VA_ARGS__);                                      \
	if (!real_##name)                                                            \
		real_##name = (ret (*)(__VA_ARGS__))dlsym(RTLD_NEXT, #name)

static int open_common(const char *sym, int dirfd, const char *path, int flags, mode_t mode)
{
	typedef int (*open_fn)(const char *, int, ...);
	typedef int (*openat_fn)(int, const char *, int, ...);
	void *f = dlsym(RTLD_NEXT, sym);
	int fd;

	if (!f) {
		errno = ENOSYS;
		return -1;
	}
	if (dirfd == -1000)
		fd = ((open_fn)f)(path, flags, mode);
	else
		fd = ((openat_fn)f)(dirfd, path, flags, mode);
	if (fd >= 0 && nrules)
		track(fd, path);
	return fd;
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;

	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	return open_common("open", -1000, path, flags, m);
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;

	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	return open_common("open64", -1000, path, flags, m);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;

	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	return open_common("openat", dirfd, path, flags, m);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;

	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	return open_common("openat64", dirfd, path, flags, m);
}

FILE *fopen(const char *path, const char *mode)
{
	REAL(fopen, FILE *, const char *, const char *);
	FILE *f = real_fopen(path, mode);

	if (f && nrules)
		track(fileno(f), path);
	return f;
}

FILE *fopen64(const char *path, const char *mode)
{
	REAL(fopen64, FILE *, const char *, const char *);
	FILE *f = real_fopen64(path, mode);

	if (f && nrules)
		track(fileno(f), path);
	return f;
}

int close(int fd)
{
	REAL(close, int, int);
	if (fd >= 0 && fd < MAX_FD) {
		fdrules[fd] = 0;
		fdnl[fd] = 0;
	}
	return real_close(fd);
}

int fclose(FILE *f)
{
	REAL(fclose, int, FILE *);
	int fd = f ? fileno(f) : -1;

	if (fd >= 0 && fd < MAX_FD) {
		fdrules[fd] = 0;
		fdnl[fd] = 0;
	}
	return real_fclose(f);
}

ssize_t write(int fd, const void *p, size_t n)
{
	REAL(write, ssize_t, int, const void *, size_t);
	if (fail_fd(fd, K_WRITE, "write"))
		return -1;
	return real_write(fd, p, n);
}

ssize_t pwrite(int fd, const void *p, size_t n, off_t off)
{
	REAL(pwrite, ssize_t, int, const void *, size_t, off_t);
	if (fail_fd(fd, K_WRITE, "pwrite"))
		return -1;
	return real_pwrite(fd, p, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	REAL(writev, ssize_t, int, const struct iovec *, int);
	if (fail_fd(fd, K_WRITE, "writev"))
		return -1;
	return real_writev(fd, iov, cnt);
}

int fflush(FILE *f)
{
	REAL(fflush, int, FILE *);
	if (f && fail_fd(fileno(f), K_WRITE, "fflush"))
		return EOF;
	return real_fflush(f);
}

int fsync(int fd)
{
	REAL(fsync, int, int);
	if (fail_fd(fd, K_FSYNC, "fsync"))
		return -1;
	return real_fsync(fd);
}

int fdatasync(int fd)
{
	REAL(fdatasync, int, int);
	if (fail_fd(fd, K_FSYNC, "fdatasync"))
		return -1;
	return real_fdatasync(fd);
}

static int is_netlink(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (fd < 0 || fd >= MAX_FD)
		return 0;
	if (!fdnl[fd]) {
		if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family == AF_NETLINK)
			fdnl[fd] = 1;
		else
			fdnl[fd] = -1;
	}
	return fdnl[fd] == 1;
}

/* -1 with errno ENOBUFS when a message in buf is one an nl rule fails. */
static int fail_nl(const void *buf, size_t len)
{
	const struct nlmsghdr *h;
	int i, rest = (int)(len > 1 << 30 ? 1 << 30 : len);

	for (h = buf; NLMSG_OK(h, rest); h = NLMSG_NEXT(h, rest)) {
		for (i = 0; i < nrules; i++) {
			if (rules[i].kind != K_NL || rules[i].type != h->nlmsg_type || !hit(&rules[i]))
				continue;
			say("iofail: netlink message type %d (number %lu of that type) fails with "
			    "ENOBUFS", h->nlmsg_type, rules[i].seen);
			errno = ENOBUFS;
			return -1;
		}
	}
	return 0;
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	REAL(sendmsg, ssize_t, int, const struct msghdr *, int);
	size_t i;

	if (nrules && msg && is_netlink(fd))
		for (i = 0; i < msg->msg_iovlen; i++)
			if (fail_nl(msg->msg_iov[i].iov_base, msg->msg_iov[i].iov_len))
				return -1;
	return real_sendmsg(fd, msg, flags);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
	       socklen_t tolen)
{
	REAL(sendto, ssize_t, int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	if (nrules && buf && is_netlink(fd) && fail_nl(buf, len))
		return -1;
	return real_sendto(fd, buf, len, flags, to, tolen);
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	REAL(send, ssize_t, int, const void *, size_t, int);
	if (nrules && buf && is_netlink(fd) && fail_nl(buf, len))
		return -1;
	return real_send(fd, buf, len, flags);
}
