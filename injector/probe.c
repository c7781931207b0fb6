/*
 * probe: traffic-control kinds probed in a throw-away namespace, and
 * privileges. See probe.h.
 */
#include "injector/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "common/netns.h"
#include "injector/nl.h"

static struct probe_kind probe_table[] = {
	{ PROBE_QDISC, "htb", "scoping tree root and bandwidth limits (net.bandwidth)", -1, "" },
	{ PROBE_QDISC, "netem", "net.delay, net.duplicate, net.corrupt, net.reorder; "
	  "net.loss with correlation", -1, "" },
	{ PROBE_QDISC, "tbf", "not needed (net.bandwidth uses htb class rates); reported for "
	  "reference", -1, "" },
	{ PROBE_QDISC, "blackhole", "net.loss without netem (the dropping class)", -1, "" },
	{ PROBE_QDISC, "ingress", "direction \"ingress\" (redirect into an ifb device)", -1, "" },
	{ PROBE_QDISC, "clsact", "this probe's classifier and action checks", -1, "" },
	{ PROBE_CLASSIFIER, "u32", "scoping by destination prefix and port", -1, "" },
	{ PROBE_CLASSIFIER, "bpf", "net.loss without netem (random drop)", -1, "" },
	{ PROBE_ACTION, "mirred", "direction \"ingress\" (redirect into an ifb device)", -1, "" },
};
#define PROBE_N (sizeof(probe_table) / sizeof(probe_table[0]))

static int probe_done;

const char *probe_type_name(enum probe_type t)
{
	switch (t) {
	case PROBE_QDISC:      return "qdisc";
	case PROBE_CLASSIFIER: return "classifier";
	case PROBE_ACTION:     return "action";
	}
	return "?";
}

static struct nl_msg *probe_tcmsg(int cmd, int flags, uint32_t parent, uint32_t handle,
				  uint32_t info)
{
	struct tcmsg t;
	struct nl_msg *m = nlmsg_alloc_simple(cmd, flags);

	if (!m)
		return NULL;
	memset(&t, 0, sizeof(t));
	t.tcm_ifindex = 1; /* lo: the first device of every namespace */
	t.tcm_parent = parent;
	t.tcm_handle = handle;
	t.tcm_info = info;
	if (nlmsg_append(m, &t, sizeof(t), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

/* Ask the kernel; "1" present, "0" missing, with the ext-ack text. */
static int probe_one(struct nl_ns *nl, struct probe_kind *k, struct err *err)
{
	struct nl_msg *m = NULL;
	struct nlattr *opt, *act, *a1;
	int kerr = 0, rc, ok = 0;
	uint32_t ingress = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS);

	switch (k->type) {
	case PROBE_QDISC:
		/* ingress-like kinds attach at ffff:, the rest at the root */
		if (!strcmp(k->kind, "ingress") || !strcmp(k->kind, "clsact"))
			m = probe_tcmsg(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL,
					TC_H_INGRESS, TC_H_MAKE(TC_H_INGRESS, 0), 0);
		else
			m = probe_tcmsg(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, TC_H_ROOT,
					0x77770000u, 0);
		ok = m && nla_put_string(m, TCA_KIND, k->kind) == 0;
		break;
	case PROBE_CLASSIFIER:
		m = probe_tcmsg(RTM_NEWTFILTER, NLM_F_CREATE, ingress, 0,
				TC_H_MAKE(7u << 16, htons(ETH_P_ALL)));
		ok = m && nla_put_string(m, TCA_KIND, k->kind) == 0;
		break;
	case PROBE_ACTION:
		m = probe_tcmsg(RTM_NEWTFILTER, NLM_F_CREATE, ingress, 0,
				TC_H_MAKE(8u << 16, htons(ETH_P_ALL)));
		ok = m && nla_put_string(m, TCA_KIND, "u32") == 0 &&
		     (opt = nla_nest_start(m, TCA_OPTIONS)) != NULL &&
		     (act = nla_nest_start(m, TCA_U32_ACT)) != NULL &&
		     (a1 = nla_nest_start(m, 1)) != NULL &&
		     nla_put_string(m, TCA_ACT_KIND, k->kind) == 0 &&
		     nla_nest_end(m, a1) == 0 && nla_nest_end(m, act) == 0 &&
		     nla_nest_end(m, opt) == 0;
		break;
	}
	if (!ok) {
		nlmsg_free(m);
		return err_set(err, -ENOMEM, "out of memory");
	}
	rc = nl_ns_request_errno(nl, m, k->kind, &kerr, err);
	nlmsg_free(m);
	if (rc < 0)
		return rc;
	k->detail[0] = '\0';
	if (kerr == ENOENT && (strstr(err->msg, "unknown") || strstr(err->msg, "not found") ||
			       strstr(err->msg, "module"))) {
		k->present = 0;
		snprintf(k->detail, sizeof(k->detail), "%.150s", err->msg);
	} else {
		k->present = 1;
	}
	err_clear(err);
	return 0;
}

static void probe_child(int wfd)
{
	struct nl_ns *nl = NULL;
	struct err e;
	char line[256];
	size_t i;
	int n;

	err_clear(&e);
	if (unshare(CLONE_NEWNET) < 0) {
		n = snprintf(line, sizeof(line), "E %d unshare(CLONE_NEWNET): %.200s\n", errno,
			     strerror(errno));
		(void)!write(wfd, line, (size_t)n);
		_exit(1);
	}
	if (nl_ns_open(NETNS_SELF, &nl, &e) < 0) {
		n = snprintf(line, sizeof(line), "E %d %.200s\n", -e.code, e.msg);
		(void)!write(wfd, line, (size_t)n);
		_exit(1);
	}
	/* clsact first: the classifier and action probes hang off it */
	for (i = 0; i < PROBE_N; i++)
		if (!strcmp(probe_table[i].kind, "clsact"))
			(void)probe_one(nl, &probe_table[i], &e);
	for (i = 0; i < PROBE_N; i++) {
		if (strcmp(probe_table[i].kind, "clsact") && probe_one(nl, &probe_table[i], &e) < 0) {
			n = snprintf(line, sizeof(line), "E %d %.200s\n", -e.code, e.msg);
			(void)!write(wfd, line, (size_t)n);
			_exit(1);
		}
		n = snprintf(line, sizeof(line), "%zu %d %.160s\n", i, probe_table[i].present,
			     probe_table[i].detail);
		if (write(wfd, line, (size_t)n) != n)
			_exit(1);
	}
	nl_ns_close(nl);
	_exit(0);
}

int probe_kernel(struct probe_kind **kinds, size_t *n, struct err *err)
{
	char buf[8192];
	size_t len = 0, got = 0;
	int p[2], status, rc = 0;
	pid_t pid;
	char *line, *save = NULL;

	*kinds = probe_table;
	*n = PROBE_N;
	if (probe_done)
		return 0;
	if (pipe2(p, O_CLOEXEC) < 0)
		return err_errno(err, errno, "probe: pipe");
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return err_errno(err, errno, "probe: fork");
	}
	if (pid == 0) {
		close(p[0]);
		probe_child(p[1]);
	}
	close(p[1]);
	for (;;) {
		ssize_t r = read(p[0], buf + len, sizeof(buf) - 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == sizeof(buf) - 1)
			break; /* bounded; the child writes far less */
	}
	buf[len] = '\0';
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long idx;
		int present;
		char *end;

		if (line[0] == 'E') {
			/* "E errno message": the child's own error, e.g. EPERM or ENOBUFS */
			long code = strtol(line + 1, &end, 10);

			rc = err_set(err, code > 0 && code < 4096 ? (int)-code : -EPERM, "probe: %s",
				     *end == ' ' ? end + 1 : line + 1);
			break;
		}
		idx = strtoul(line, &end, 10);
		if (idx >= PROBE_N || *end != ' ')
			continue;
		present = end[1] == '1';
		probe_table[idx].present = present;
		snprintf(probe_table[idx].detail, sizeof(probe_table[idx].detail), "%.150s",
			 end[2] == ' ' ? end + 3 : "");
		got++;
	}
	if (rc == 0 && (got != PROBE_N || !WIFEXITED(status) || WEXITSTATUS(status)))
		rc = err_set(err, -EIO, "probe: the probing process failed (%zu of %zu answers)",
			     got, PROBE_N);
	if (rc == 0) {
		for (size_t i = 0; i < PROBE_N; i++)
			if (!strcmp(probe_table[i].kind, "clsact") && probe_table[i].present < 0)
				probe_table[i].present = 1; /* the other probes needed it */
		probe_done = 1;
	}
	return rc;
}

int probe_has_qdisc(const char *kind, struct err *err)
{
	struct probe_kind *k;
	size_t n, i;
	int rc = probe_kernel(&k, &n, err);

	if (rc < 0)
		return rc;
	for (i = 0; i < n; i++)
		if (k[i].type == PROBE_QDISC && !strcmp(k[i].kind, kind))
			return k[i].present == 1;
	return err_set(err, -EINVAL, "probe: qdisc kind \"%s\" is not one doorjam probes", kind);
}

int probe_privileges(char *why, size_t whylen)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	int net, sys;

	if (syscall(SYS_capget, &h, d) < 0) {
		snprintf(why, whylen, "capget: %s", strerror(errno));
		return 0;
	}
	net = (d[CAP_NET_ADMIN / 32].effective >> (CAP_NET_ADMIN % 32)) & 1;
	sys = (d[CAP_SYS_ADMIN / 32].effective >> (CAP_SYS_ADMIN % 32)) & 1;
	if (net && sys) {
		snprintf(why, whylen, "CAP_NET_ADMIN and CAP_SYS_ADMIN");
		return 1;
	}
	snprintf(why, whylen, "missing %s%s%s (run as root)", net ? "" : "CAP_NET_ADMIN",
		 !net && !sys ? " and " : "", sys ? "" : "CAP_SYS_ADMIN");
	return 0;
}
