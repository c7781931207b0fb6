/*
 * labnet: namespaces, veth links, addresses and routes for labs. See labnet.h.
 */
#include "injector/labnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/netlink.h>

#include "common/netns.h"
#include "injector/nl.h"

static int labnet_name_ok(const char *name)
{
	const char *p;

	if (!name || !*name || strlen(name) > 64 || !strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	for (p = name; *p; p++)
		if (*p == '/')
			return 0;
	return 1;
}

/* Make /var/run/netns a shared mount point, as iproute2 does, once. */
static int labnet_run_dir(struct err *err)
{
	if (mkdir(NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST)
		return err_errno(err, errno, "mkdir %s", NETNS_RUN_DIR);
	if (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
		return 0;
	if (errno != EINVAL)
		return err_errno(err, errno, "mount --make-shared %s", NETNS_RUN_DIR);
	/* not a mount point yet: bind it onto itself, then share it */
	if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
		return err_errno(err, errno, "mount --bind %s", NETNS_RUN_DIR);
	if (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) < 0)
		return err_errno(err, errno, "mount --make-shared %s", NETNS_RUN_DIR);
	return 0;
}

struct labnet_create {
	const char *path;
};

/* Runs in a short-lived thread: unshare, then pin the new namespace. */
static void *labnet_create_thread(void *arg)
{
	struct labnet_create *c = arg;
	long rc = 0;

	if (unshare(CLONE_NEWNET) < 0)
		rc = -errno;
	else if (mount("/proc/thread-self/ns/net", c->path, "none", MS_BIND, NULL) < 0)
		rc = -errno;
	return (void *)rc;
}

int labnet_ns_create(const char *name, int *nsfd, struct err *err)
{
	struct labnet_create c;
	char path[PATH_MAX];
	pthread_t th;
	void *res = NULL;
	struct nl_ns *nl = NULL;
	int fd, rc;

	*nsfd = -1;
	if (!labnet_name_ok(name))
		return err_set(err, -EINVAL, "\"%s\" is not a valid namespace name", name ? name : "");
	rc = labnet_run_dir(err);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, name);
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0)
		return err_errno(err, errno, "create %s", path);
	close(fd);
	c.path = path;
	rc = pthread_create(&th, NULL, labnet_create_thread, &c);
	if (rc) {
		unlink(path);
		return err_errno(err, rc, "pthread_create");
	}
	pthread_join(th, &res);
	if ((long)res < 0) {
		rc = err_errno(err, (int)-(long)res, "create network namespace %s", name);
		unlink(path);
		return rc;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = err_errno(err, errno, "open %s", path);
		goto fail;
	}
	/* loopback up: services bind to 127.0.0.1 inside their host */
	rc = nl_ns_open(fd, &nl, err);
	if (rc == 0) {
		struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWLINK, 0);
		struct ifinfomsg ifi;

		memset(&ifi, 0, sizeof(ifi));
		ifi.ifi_family = AF_UNSPEC;
		ifi.ifi_index = 1; /* lo is always index 1 in a new namespace */
		ifi.ifi_flags = IFF_UP;
		ifi.ifi_change = IFF_UP;
		if (!m || nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0)
			rc = err_set(err, -ENOMEM, "out of memory");
		else
			rc = nl_ns_request(nl, m, "set lo up", err);
		nlmsg_free(m);
		nl_ns_close(nl);
	}
	if (rc)
		goto fail;
	*nsfd = fd;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	umount2(path, MNT_DETACH);
	unlink(path);
	return rc;
}

int labnet_ns_exists(const char *name)
{
	char path[PATH_MAX];

	if (!labnet_name_ok(name))
		return 0;
	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, name);
	return access(path, F_OK) == 0;
}

int labnet_ns_delete(const char *name, struct err *err)
{
	char path[PATH_MAX];
	int rc = 0;

	if (!labnet_name_ok(name))
		return err_set(err, -EINVAL, "\"%s\" is not a valid namespace name", name ? name : "");
	snprintf(path, sizeof(path), "%s/%s/resolv.conf", LABNET_ETC_DIR, name);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", LABNET_ETC_DIR, name);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, name);
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		rc = err_errno(err, errno, "umount %s", path);
	if (unlink(path) < 0 && errno != ENOENT && !rc)
		rc = err_errno(err, errno, "remove %s", path);
	return rc;
}

struct labnet_ifindex {
	const char *name;
};

static int labnet_ifindex_fn(void *arg, struct err *err)
{
	struct labnet_ifindex *a = arg;
	unsigned idx = if_nametoindex(a->name);

	if (!idx)
		return err_errno(err, errno, "interface %s", a->name);
	return (int)idx;
}

static int labnet_ifindex(int nsfd, const char *ifname, struct err *err)
{
	struct labnet_ifindex a = { ifname };

	return netns_run(nsfd, labnet_ifindex_fn, &a, err);
}

/* Send one request in nsfd. Takes ownership of m. */
static int labnet_send(int nsfd, struct nl_msg *m, const char *what, struct err *err)
{
	struct nl_ns *nl = NULL;
	int rc;

	if (!m)
		return err_set(err, -ENOMEM, "out of memory");
	rc = nl_ns_open(nsfd, &nl, err);
	if (rc == 0)
		rc = nl_ns_request(nl, m, what, err);
	nl_ns_close(nl);
	nlmsg_free(m);
	return rc;
}

static int labnet_link_up(int nsfd, const char *ifname, struct err *err)
{
	struct ifinfomsg ifi;
	struct nl_msg *m;
	int idx = labnet_ifindex(nsfd, ifname, err);

	if (idx < 0)
		return idx;
	memset(&ifi, 0, sizeof(ifi));
	ifi.ifi_family = AF_UNSPEC;
	ifi.ifi_index = idx;
	ifi.ifi_flags = IFF_UP;
	ifi.ifi_change = IFF_UP;
	m = nlmsg_alloc_simple(RTM_NEWLINK, 0);
	if (m && nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(m);
		m = NULL;
	}
	return labnet_send(nsfd, m, "set link up", err);
}

int labnet_veth_add(int a_nsfd, const char *a_name, int b_nsfd, const char *b_name,
		    struct err *err)
{
	struct ifinfomsg ifi;
	struct nlattr *linkinfo, *data, *peer;
	struct nl_msg *m;
	void *hdr = NULL;
	char what[96];
	int rc;

	if (strlen(a_name) >= IFNAMSIZ || strlen(b_name) >= IFNAMSIZ)
		return err_set(err, -EINVAL, "interface names are at most %d characters",
			       IFNAMSIZ - 1);
	memset(&ifi, 0, sizeof(ifi));
	ifi.ifi_family = AF_UNSPEC;
	m = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	if (!m)
		return err_set(err, -ENOMEM, "out of memory");
	if (nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(m, IFLA_IFNAME, a_name) < 0 ||
	    !(linkinfo = nla_nest_start(m, IFLA_LINKINFO)) ||
	    nla_put_string(m, IFLA_INFO_KIND, "veth") < 0 ||
	    !(data = nla_nest_start(m, IFLA_INFO_DATA)) ||
	    !(peer = nla_nest_start(m, VETH_INFO_PEER)) ||
	    !(hdr = nlmsg_reserve(m, sizeof(ifi), NLMSG_ALIGNTO)) ||
	    nla_put_string(m, IFLA_IFNAME, b_name) < 0 ||
	    (b_nsfd >= 0 && nla_put_u32(m, IFLA_NET_NS_FD, (uint32_t)b_nsfd) < 0)) {
		nlmsg_free(m);
		return err_set(err, -ENOMEM, "out of memory");
	}
	memset(hdr, 0, sizeof(ifi)); /* the peer's ifinfomsg: all defaults */
	nla_nest_end(m, peer);
	nla_nest_end(m, data);
	nla_nest_end(m, linkinfo);
	snprintf(what, sizeof(what), "add veth %s <-> %s", a_name, b_name);
	rc = labnet_send(a_nsfd, m, what, err);
	if (rc)
		return rc;
	rc = labnet_link_up(a_nsfd, a_name, err);
	if (rc == 0)
		rc = labnet_link_up(b_nsfd, b_name, err);
	return rc;
}

int labnet_addr_add(int nsfd, const char *ifname, struct in_addr addr, unsigned plen,
		    struct err *err)
{
	struct ifaddrmsg ifa;
	struct nl_msg *m;
	char what[96], a[INET_ADDRSTRLEN];
	int idx = labnet_ifindex(nsfd, ifname, err);

	if (idx < 0)
		return idx;
	memset(&ifa, 0, sizeof(ifa));
	ifa.ifa_family = AF_INET;
	ifa.ifa_prefixlen = (unsigned char)plen;
	ifa.ifa_index = (unsigned)idx;
	m = nlmsg_alloc_simple(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	if (m && (nlmsg_append(m, &ifa, sizeof(ifa), NLMSG_ALIGNTO) < 0 ||
		  nla_put(m, IFA_LOCAL, 4, &addr) < 0 || nla_put(m, IFA_ADDRESS, 4, &addr) < 0)) {
		nlmsg_free(m);
		m = NULL;
	}
	inet_ntop(AF_INET, &addr, a, sizeof(a));
	snprintf(what, sizeof(what), "add address %s/%u to %s", a, plen, ifname);
	return labnet_send(nsfd, m, what, err);
}

int labnet_route_add(int nsfd, struct in_addr dst, unsigned plen, struct in_addr gw,
		     struct err *err)
{
	struct rtmsg rt;
	struct nl_msg *m;
	char what[96], a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];

	memset(&rt, 0, sizeof(rt));
	rt.rtm_family = AF_INET;
	rt.rtm_dst_len = (unsigned char)plen;
	rt.rtm_table = RT_TABLE_MAIN;
	rt.rtm_protocol = RTPROT_STATIC;
	rt.rtm_scope = RT_SCOPE_UNIVERSE;
	rt.rtm_type = RTN_UNICAST;
	m = nlmsg_alloc_simple(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	if (m && (nlmsg_append(m, &rt, sizeof(rt), NLMSG_ALIGNTO) < 0 ||
		  (plen && nla_put(m, RTA_DST, 4, &dst) < 0) ||
		  nla_put(m, RTA_GATEWAY, 4, &gw) < 0)) {
		nlmsg_free(m);
		m = NULL;
	}
	inet_ntop(AF_INET, &dst, a, sizeof(a));
	inet_ntop(AF_INET, &gw, g, sizeof(g));
	snprintf(what, sizeof(what), "add route %s/%u via %s", a, plen, g);
	return labnet_send(nsfd, m, what, err);
}

static int labnet_forwarding_fn(void *arg, struct err *err)
{
	int fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);

	(void)arg;
	if (fd < 0)
		return err_errno(err, errno, "open /proc/sys/net/ipv4/ip_forward");
	if (write(fd, "1\n", 2) != 2) {
		int e = errno;

		close(fd);
		return err_errno(err, e, "write /proc/sys/net/ipv4/ip_forward");
	}
	close(fd);
	return 0;
}

int labnet_forwarding(int nsfd, struct err *err)
{
	if (nsfd < 0 || netns_is_init(nsfd))
		return err_set(err, -EPERM, "refusing to turn on forwarding outside a lab namespace");
	return netns_run(nsfd, labnet_forwarding_fn, NULL, err);
}

int labnet_resolv_conf(const char *name, struct in_addr nameserver, struct err *err)
{
	char path[PATH_MAX], a[INET_ADDRSTRLEN];
	FILE *f;

	if (!labnet_name_ok(name))
		return err_set(err, -EINVAL, "\"%s\" is not a valid namespace name", name);
	if (mkdir(LABNET_ETC_DIR, 0755) < 0 && errno != EEXIST)
		return err_errno(err, errno, "mkdir %s", LABNET_ETC_DIR);
	snprintf(path, sizeof(path), "%s/%s", LABNET_ETC_DIR, name);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return err_errno(err, errno, "mkdir %s", path);
	snprintf(path, sizeof(path), "%s/%s/resolv.conf", LABNET_ETC_DIR, name);
	f = fopen(path, "w");
	if (!f)
		return err_errno(err, errno, "write %s", path);
	inet_ntop(AF_INET, &nameserver, a, sizeof(a));
	/* no search domains, one server, short timeouts: failures show fast */
	fprintf(f, "# written by doorjam for a lab host; removed with the lab\n"
		   "nameserver %s\noptions timeout:2 attempts:1\n", a);
	if (fclose(f) != 0)
		return err_errno(err, errno, "write %s", path);
	return 0;
}

int labnet_child_enter(int nsfd, const char *name)
{
	char path[PATH_MAX];

	if (setns(nsfd, CLONE_NEWNET) < 0)
		return -errno;
	if (unshare(CLONE_NEWNS) < 0)
		return -errno;
	/* keep our bind mounts out of the machine's mount namespace */
	if (mount("", "/", "none", MS_SLAVE | MS_REC, NULL) < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/%s/resolv.conf", LABNET_ETC_DIR, name);
	if (access(path, R_OK) == 0 && mount(path, "/etc/resolv.conf", "none", MS_BIND, NULL) < 0)
		return -errno;
	return 0;
}
