/*
 * nl: rtnetlink sockets inside a namespace, with ext-ack errors. See nl.h.
 *
 * The socket is a libnl nl_sock connected inside the target namespace;
 * answers are read from its fd into a fixed buffer and walked here, so every
 * read is bounded and the ext-ack attributes are ours to parse.
 */
#include "injector/nl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "common/netns.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define NL_NS_RCVBUF (64 * 1024)

struct nl_ns {
	struct nl_sock *sk;
	int fd;
	unsigned char *buf;  /* NL_NS_RCVBUF bytes */
};

static int nl_ns_connect(void *arg, struct err *err)
{
	struct nl_sock *sk = arg;
	int rc = nl_connect(sk, NETLINK_ROUTE);

	if (rc < 0)
		return err_set(err, -EIO, "netlink connect: %s", nl_geterror(rc));
	return 0;
}

int nl_ns_open(int nsfd, struct nl_ns **out, struct err *err)
{
	struct nl_ns *nl;
	struct timeval tv = { 10, 0 };
	int one = 1, rc;

	*out = NULL;
	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return err_set(err, -ENOMEM, "out of memory");
	nl->buf = malloc(NL_NS_RCVBUF);
	nl->sk = nl_socket_alloc();
	if (!nl->buf || !nl->sk) {
		rc = err_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	rc = netns_run(nsfd, nl_ns_connect, nl->sk, err);
	if (rc < 0)
		goto fail;
	nl->fd = nl_socket_get_fd(nl->sk);
	/* Acks are asked for per request (NLM_F_ACK), never for dumps. */
	nl_socket_disable_auto_ack(nl->sk);
	if (setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) < 0) {
		rc = err_errno(err, errno, "netlink: enable NETLINK_EXT_ACK");
		goto fail;
	}
	/* Errors then carry only the header of the failed request, not its body. */
	(void)setsockopt(nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	/* The kernel always answers; the timeout only guards against a lost answer. */
	(void)setsockopt(nl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	*out = nl;
	return 0;
fail:
	nl_ns_close(nl);
	return rc;
}

void nl_ns_close(struct nl_ns *nl)
{
	if (!nl)
		return;
	if (nl->sk)
		nl_socket_free(nl->sk);
	free(nl->buf);
	free(nl);
}

void nl_ns_extack(const struct nlmsghdr *h, size_t len, char *out, size_t outlen)
{
	const struct nlmsgerr *e;
	const unsigned char *p, *end;
	size_t off;

	if (outlen)
		out[0] = '\0';
	if (len < NLMSG_HDRLEN + sizeof(*e) || h->nlmsg_len > len ||
	    h->nlmsg_len < NLMSG_HDRLEN + sizeof(*e) || !(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	e = NLMSG_DATA(h);
	off = NLMSG_HDRLEN + sizeof(*e);
	if (!(h->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < NLMSG_HDRLEN)
			return;
		off += NLMSG_ALIGN(e->msg.nlmsg_len) - NLMSG_HDRLEN;
	}
	if (off > h->nlmsg_len)
		return;
	p = (const unsigned char *)h + off;
	end = (const unsigned char *)h + h->nlmsg_len;
	while ((size_t)(end - p) >= sizeof(struct nlattr)) {
		const struct nlattr *a = (const void *)p;
		size_t alen = a->nla_len;

		if (alen < sizeof(*a) || alen > (size_t)(end - p))
			return;
		if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG && outlen) {
			size_t n = alen - sizeof(*a);
			const char *s = (const char *)(a + 1);

			n = strnlen(s, n);
			if (n >= outlen)
				n = outlen - 1;
			memcpy(out, s, n);
			out[n] = '\0';
			return;
		}
		p += NLA_ALIGN(alen);
	}
}

static int nl_ns_fail(const struct nlmsghdr *h, size_t len, const char *what, int code,
		      struct err *err)
{
	char ext[512];

	nl_ns_extack(h, len, ext, sizeof(ext));
	if (ext[0])
		return err_set(err, -code, "%s: %s (kernel: %s)", what, strerror(code), ext);
	return err_set(err, -code, "%s: %s", what, strerror(code));
}

/*
 * Send msg and read answers until the ack/error (or NLMSG_DONE for a dump).
 * fn gets every data message. *kerr receives the kernel's errno (0: ack).
 */
static int nl_ns_exchange(struct nl_ns *nl, struct nl_msg *msg, int flags, const char *what,
			  int (*fn)(const struct nlmsghdr *, void *, struct err *), void *arg,
			  int *kerr, struct err *err)
{
	struct nlmsghdr *req = nlmsg_hdr(msg);
	unsigned seq;
	size_t nmsgs = 0;
	int rc, stop = 0;

	*kerr = 0;
	req->nlmsg_flags |= NLM_F_REQUEST | flags;
	errno = 0;
	rc = nl_send_auto(nl->sk, msg);
	if (rc < 0) {
		/* libnl folds errno into its own codes (ENOBUFS reads "Out of memory") */
		if (errno)
			return err_errno(err, errno, "%s: netlink send", what);
		return err_set(err, -EIO, "%s: netlink send: %s", what, nl_geterror(rc));
	}
	seq = req->nlmsg_seq;
	for (;;) {
		ssize_t n = recv(nl->fd, nl->buf, NL_NS_RCVBUF, MSG_TRUNC);
		struct nlmsghdr *h;
		size_t left;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return err_errno(err, errno, "%s: netlink receive", what);
		}
		if ((size_t)n > NL_NS_RCVBUF)
			return err_set(err, -EMSGSIZE, "%s: netlink answer truncated", what);
		left = (size_t)n;
		for (h = (struct nlmsghdr *)nl->buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != seq)
				continue; /* a late answer to an earlier request */
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_HDRLEN + sizeof(*e))
					return err_set(err, -EPROTO, "%s: short netlink error", what);
				if (e->error == 0)
					return stop;
				*kerr = -e->error;
				nl_ns_fail(h, h->nlmsg_len, what, -e->error, err);
				return 0;
			}
			if (h->nlmsg_type == NLMSG_DONE)
				return stop;
			if (h->nlmsg_type < NLMSG_MIN_TYPE || !fn || stop)
				continue;
			if (++nmsgs > NL_NS_DUMP_MAX) {
				stop = err_set(err, -E2BIG, "%s: more than %d answers", what,
					       NL_NS_DUMP_MAX);
				continue;
			}
			rc = fn(h, arg, err);
			if (rc < 0)
				stop = rc;
		}
	}
}

int nl_ns_request_errno(struct nl_ns *nl, struct nl_msg *msg, const char *what, int *kerr,
			struct err *err)
{
	return nl_ns_exchange(nl, msg, NLM_F_ACK, what, NULL, NULL, kerr, err);
}

int nl_ns_request(struct nl_ns *nl, struct nl_msg *msg, const char *what, struct err *err)
{
	int kerr, rc;

	rc = nl_ns_exchange(nl, msg, NLM_F_ACK, what, NULL, NULL, &kerr, err);
	if (rc < 0)
		return rc;
	return kerr ? -kerr : 0;
}

int nl_ns_dump(struct nl_ns *nl, struct nl_msg *msg, const char *what,
	       int (*fn)(const struct nlmsghdr *h, void *arg, struct err *err), void *arg,
	       struct err *err)
{
	int kerr, rc;

	rc = nl_ns_exchange(nl, msg, NLM_F_DUMP, what, fn, arg, &kerr, err);
	if (rc < 0)
		return rc;
	return kerr ? -kerr : 0;
}

int nl_ns_get(struct nl_ns *nl, struct nl_msg *msg, const char *what,
	      int (*fn)(const struct nlmsghdr *h, void *arg, struct err *err), void *arg,
	      struct err *err)
{
	int kerr, rc;

	rc = nl_ns_exchange(nl, msg, NLM_F_ACK, what, fn, arg, &kerr, err);
	if (rc < 0)
		return rc;
	return kerr ? -kerr : 0;
}

int nl_ns_delete(struct nl_ns *nl, struct nl_msg *msg, const char *what, const int *gone,
		 int *absent, struct err *err)
{
	int kerr = 0, rc;
	const int *g;

	*absent = 0;
	if (!msg)
		return err_set(err, -ENOMEM, "out of memory");
	rc = nl_ns_request_errno(nl, msg, what, &kerr, err);
	nlmsg_free(msg);
	if (rc < 0)
		return rc;
	for (g = gone; kerr && *g; g++) {
		if (kerr == *g) {
			*absent = 1;
			err_clear(err);
			return 0;
		}
	}
	return kerr ? -kerr : 0;
}
