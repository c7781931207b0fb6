/*
 * netns: namespace entry in short-lived threads. See netns.h.
 */
#include "common/netns.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int netns_open(const char *spec, int *fd, struct err *err)
{
	char path[PATH_MAX];
	const char *p;
	int all_digits = 1;

	*fd = NETNS_SELF;
	if (!spec || !*spec)
		return 0;
	for (p = spec; *p; p++)
		if (!isdigit((unsigned char)*p))
			all_digits = 0;
	if (all_digits)
		snprintf(path, sizeof(path), "/proc/%s/ns/net", spec);
	else if (spec[0] == '/')
		snprintf(path, sizeof(path), "%s", spec);
	else if (strchr(spec, '/') || !strcmp(spec, ".") || !strcmp(spec, ".."))
		return err_set(err, -EINVAL,
			       "network namespace \"%s\": a name must not contain '/' "
			       "(use an absolute path or a PID)", spec);
	else
		snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, spec);
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		*fd = NETNS_SELF;
		return err_errno(err, errno, "network namespace \"%s\" (%s)", spec, path);
	}
	return 0;
}

unsigned long netns_inode(int nsfd)
{
	struct stat st;

	if (nsfd == NETNS_SELF) {
		if (stat("/proc/thread-self/ns/net", &st) < 0)
			return 0;
	} else if (fstat(nsfd, &st) < 0) {
		return 0;
	}
	return (unsigned long)st.st_ino;
}

int netns_is_init(int nsfd)
{
	struct stat a, b;

	/*
	 * The machine's namespace is PID 1's. Where PID 1's cannot be read (a
	 * container, a restricted /proc), the namespace doorjam started in
	 * stands in for it: doorjam's own namespace then counts as the
	 * machine's, which is the safe way to be wrong.
	 */
	if (stat("/proc/1/ns/net", &a) < 0 && stat("/proc/self/ns/net", &a) < 0)
		return 1;
	if (nsfd == NETNS_SELF) {
		if (stat("/proc/self/ns/net", &b) < 0)
			return 1;
	} else if (fstat(nsfd, &b) < 0) {
		return 1;
	}
	return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

struct netns_job {
	int nsfd;
	int (*fn)(void *arg, struct err *err);
	void *arg;
	struct err *err;
	int rc;
};

static void *netns_thread(void *p)
{
	struct netns_job *job = p;
	struct stat want, have;

	if (fstat(job->nsfd, &want) < 0) {
		job->rc = err_errno(job->err, errno, "fstat(namespace fd)");
		return NULL;
	}
	if (setns(job->nsfd, CLONE_NEWNET) < 0) {
		job->rc = err_errno(job->err, errno, "setns(CLONE_NEWNET)");
		return NULL;
	}
	/* /proc/self would name the main thread's namespace, not ours */
	if (stat("/proc/thread-self/ns/net", &have) < 0) {
		job->rc = err_errno(job->err, errno, "stat(/proc/thread-self/ns/net)");
		return NULL;
	}
	if (have.st_ino != want.st_ino) {
		job->rc = err_set(job->err, -EIO,
				  "setns reported success but the thread is not in the "
				  "target namespace");
		return NULL;
	}
	job->rc = job->fn(job->arg, job->err);
	return NULL;
}

int netns_run(int nsfd, int (*fn)(void *arg, struct err *err), void *arg, struct err *err)
{
	struct netns_job job = { nsfd, fn, arg, err, 0 };
	pthread_t th;
	int rc;

	if (nsfd == NETNS_SELF)
		return fn(arg, err);
	rc = pthread_create(&th, NULL, netns_thread, &job);
	if (rc)
		return err_errno(err, rc, "pthread_create");
	pthread_join(th, NULL);
	return job.rc;
}

struct netns_sock_args {
	int domain, type, protocol;
};

static int netns_sock_fn(void *p, struct err *err)
{
	struct netns_sock_args *a = p;
	int fd = socket(a->domain, a->type | SOCK_CLOEXEC, a->protocol);

	if (fd < 0)
		return err_errno(err, errno, "socket");
	return fd;
}

int netns_socket(int nsfd, int domain, int type, int protocol, struct err *err)
{
	struct netns_sock_args a = { domain, type, protocol };

	return netns_run(nsfd, netns_sock_fn, &a, err);
}
