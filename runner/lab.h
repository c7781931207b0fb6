/*
 * lab: a small internet in network namespaces.
 *
 * A lab file describes hosts. Each host becomes a network namespace joined by
 * a veth pair to one "core" namespace that routes between them; every host
 * has its own /24 inside the lab's subnet (host .x, core .1). Nothing links
 * the lab to the machine's own interfaces and no namespace has a default
 * route, so lab traffic cannot leave the lab. The lab's DNS server runs on
 * its own host; each RPC proxy listens inside its provider's host in front of
 * the real node on that host's loopback. Services run inside their host
 * namespace with /etc/netns/NS/resolv.conf bound over /etc/resolv.conf, as
 * `ip netns exec` does, and are waited on by a readiness probe.
 *
 * Namespaces are named dj<id>-<host> with a random 4-hex-digit lab id, and a
 * lock file /run/doorjam/lab-<id>.lock is held for as long as the lab lives,
 * so two labs never collide and `doorjam recover` can tell the leftovers of
 * a crashed lab (no lock holder) from a live one.
 */
#ifndef DOORJAM_LAB_H
#define DOORJAM_LAB_H

#include <jansson.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "runner/check.h"

struct loop;
struct dns_server;
struct rpc_proxy;

enum lab_probe_kind {
	LAB_PROBE_NONE,
	LAB_PROBE_TCP,     /* connect to address:port from inside the host */
	LAB_PROBE_HTTP,    /* GET the URL from inside the host, expect 2xx */
	LAB_PROBE_EXEC,    /* run a command inside the host, expect exit 0 */
};

struct lab_probe {
	enum lab_probe_kind kind;
	struct sockaddr_in addr;   /* TCP, HTTP */
	char *path;                /* HTTP: the request target */
	char **argv;               /* EXEC */
	size_t argc;
};

struct lab_service {
	char **argv;
	size_t argc;
	char **env;                /* "NAME=value" */
	size_t nenv;
	char *cwd;                 /* absolute */
	struct lab_probe ready;
	uint64_t ready_within_us;
};

struct lab_host {
	char *name;
	struct in_addr addr;       /* the host's address */
	struct in_addr gw;         /* the core's address on the host's /24 */
	char *region;              /* or NULL */
	struct lab_service *svc;   /* or NULL */
	/* while the lab is up */
	char nsname[64];
	int nsfd;
	pid_t pid;
	int exited;
	int status;
	char *log_path;
};

struct lab {
	char *file;
	char *dir;
	char *name;
	char *description;
	struct in_addr subnet;
	unsigned plen;
	struct lab_host *hosts;
	size_t nhosts;
	json_t *dns;               /* the "dns" block without "host", or NULL */
	char *dns_host;
	json_t *rpc;               /* name -> entry without "host" */
	json_t *root;
	/* while the lab is up */
	char id[8];
	char core_ns[64];
	int core_fd;
	int lock_fd;
	char *log_dir;
	struct loop *loop;
	struct dns_server *dns_srv;
	struct rpc_proxy **proxies;
	char **proxy_names;
	size_t nproxies;
	int up;
};

/*
 * Load and validate a lab file. Errors are added to diags (all of them);
 * returns 0 with *out set, or -1.
 */
int lab_load(const char *path, struct lab **out, struct diags *diags)
	__attribute__((warn_unused_result));

/* Free the model (the lab must be down). Accepts NULL. */
void lab_free(struct lab *lab);

/* The host called name, or NULL. */
struct lab_host *lab_host(const struct lab *lab, const char *name);

/*
 * Bring the lab up on loop: namespaces, links, addresses, routes, the DNS
 * server, the RPC proxies, then each service, waited on by its probe.
 * Service logs go to log_dir (created). seed seeds the DNS server's rules.
 * On failure everything made so far is removed again and err says what
 * failed. Needs root.
 */
int lab_up(struct lab *lab, struct loop *loop, const char *log_dir, uint64_t seed,
	   struct err *err) __attribute__((warn_unused_result));

/* Tear the lab down: services, proxies, DNS, namespaces. Safe on any state. */
void lab_down(struct lab *lab);

/* The namespace fd of host name while the lab is up, or -1. */
int lab_host_netns(const struct lab *lab, const char *name);

/* The RPC proxy called name while the lab is up, or NULL. */
struct rpc_proxy *lab_rpc(const struct lab *lab, const char *name);

/* The lab's DNS server while up, or NULL. */
struct dns_server *lab_dns(const struct lab *lab);

/* A service that exited since the last call: its host, or NULL. */
struct lab_host *lab_service_died(struct lab *lab);

/*
 * Remove what crashed labs left: namespaces dj<id>-* whose lock nobody
 * holds, the processes inside them, and their /etc/netns folders. Counts
 * what was removed in *removed. Returns 0 or a negative code with err set.
 */
int lab_recover(size_t *removed, struct err *err) __attribute__((warn_unused_result));

/*
 * Find the live lab with id (NULL: the only live one) and exec argv inside
 * host. Returns only on failure, with err set.
 */
int lab_exec(const char *id, const char *host, char **argv, struct err *err);

/* The ids of live labs (caller frees each and the array). */
int lab_list(char ***ids, size_t *n, struct err *err) __attribute__((warn_unused_result));

#endif
