/*
 * lab: loading, building and tearing down labs. See lab.h.
 */
#include "runner/lab.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/loop.h"
#include "common/netns.h"
#include "injector/dns.h"
#include "injector/labnet.h"
#include "injector/rpc.h"
#include "runner/fault_dns.h"
#include "runner/fault_rpc.h"
#include "runner/scenario.h"

#define LAB_FILE_MAX (4u << 20)
#define LAB_HOSTS_MAX 64
#define LAB_LOCK_DIR "/run/doorjam"

extern char **environ;

static const char *const lab_keys[] = {
	"$schema", "doorjam", "name", "description", "subnet", "hosts", "dns", "rpc", NULL,
};
static const char *const host_keys[] = { "address", "region", "run", NULL };
static const char *const run_keys[] = { "argv", "env", "cwd", "ready", "ready_within", NULL };
static const char *const ready_keys[] = { "tcp", "http", "exec", NULL };

/* ---- loading ---- */

static int lab_name_ok(const char *s, size_t max)
{
	if (!*s || strlen(s) > max || !isalpha((unsigned char)*s))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-')
			return 0;
	return 1;
}

/* "a.b.c.d:port" into sin. Returns 0 or -1. */
static int lab_hostport(const char *s, struct sockaddr_in *sin)
{
	char addr[64];
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof(addr))
		return -1;
	memcpy(addr, s, (size_t)(colon - s));
	addr[colon - s] = '\0';
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1)
		return -1;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || port < 1 || port > 65535)
		return -1;
	sin->sin_port = htons((uint16_t)port);
	return 0;
}

/* Expand {{lab}} (the lab file's folder) in s. Caller frees. */
static char *lab_expand(const struct lab *lab, const char *s)
{
	const char *p = strstr(s, "{{lab}}");
	char *out;

	if (!p)
		return strdup(s);
	if (asprintf(&out, "%.*s%s%s", (int)(p - s), s, lab->dir, p + 7) < 0)
		return NULL;
	if (strstr(out, "{{lab}}")) {
		char *again = lab_expand(lab, out);

		free(out);
		return again;
	}
	return out;
}

static char **lab_argv(struct check *c, const struct lab *lab, json_t *arr, const char *ptr,
		       size_t *n)
{
	char **v;
	json_t *e;
	size_t i;

	*n = 0;
	if (!json_is_array(arr) || !json_array_size(arr)) {
		check_error(c, ptr, 0, "expected a non-empty array of strings (the program and its "
			    "arguments)");
		return NULL;
	}
	v = calloc(json_array_size(arr) + 1, sizeof(char *));
	json_array_foreach(arr, i, e) {
		char p[CHECK_PTR_MAX];

		if (!json_is_string(e)) {
			check_error(c, check_ptr_index(p, ptr, i), 0, "expected a string, found %s",
				    check_type_name(e));
			continue;
		}
		v[(*n)++] = lab_expand(lab, json_string_value(e));
	}
	return v;
}

static void lab_service_free(struct lab_service *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->argc; i++)
		free(s->argv[i]);
	free(s->argv);
	for (i = 0; i < s->nenv; i++)
		free(s->env[i]);
	free(s->env);
	free(s->cwd);
	free(s->ready.path);
	for (i = 0; i < s->ready.argc; i++)
		free(s->ready.argv[i]);
	free(s->ready.argv);
	free(s);
}

static struct lab_service *lab_load_service(struct check *c, struct lab *lab, json_t *o,
					    const char *ptr)
{
	struct lab_service *s = calloc(1, sizeof(*s));
	char p[CHECK_PTR_MAX];
	json_t *v = NULL, *e;
	const char *str, *k;

	check_keys(c, o, ptr, run_keys);
	s->argv = lab_argv(c, lab, json_object_get(o, "argv"), check_ptr(p, ptr, "argv"), &s->argc);
	if (check_object(c, o, ptr, "env", 0, &v) == 1) {
		s->env = calloc(json_object_size(v) + 1, sizeof(char *));
		json_object_foreach(v, k, e) {
			char *val;

			check_ptr(p, ptr, "env");
			check_ptr(p, p, k);
			if (!json_is_string(e) || !*k || strchr(k, '=')) {
				check_error(c, p, 0, "expected NAME: \"value\" (a string)");
				continue;
			}
			val = lab_expand(lab, json_string_value(e));
			if (asprintf(&s->env[s->nenv], "%s=%s", k, val ? val : "") >= 0)
				s->nenv++;
			free(val);
		}
	}
	if (check_string(c, o, ptr, "cwd", 0, &str) == 1) {
		char *x = lab_expand(lab, str);

		if (x && x[0] != '/') {
			char *abs;

			if (asprintf(&abs, "%s/%s", lab->dir, x) >= 0) {
				free(x);
				x = abs;
			}
		}
		s->cwd = x;
	} else {
		s->cwd = strdup(lab->dir);
	}
	s->ready_within_us = 30000000;
	check_duration(c, o, ptr, "ready_within", 0, &s->ready_within_us);
	if (check_object(c, o, ptr, "ready", 0, &v) == 1) {
		check_ptr(p, ptr, "ready");
		check_keys(c, v, p, ready_keys);
		if (json_object_size(v) != 1) {
			check_error(c, p, 0, "a readiness probe has one of \"tcp\", \"http\", \"exec\"");
		} else if ((e = json_object_get(v, "tcp"))) {
			s->ready.kind = LAB_PROBE_TCP;
			if (!json_is_string(e) || lab_hostport(json_string_value(e), &s->ready.addr))
				check_error(c, check_ptr(p, p, "tcp"), 0,
					    "expected \"address:port\", e.g. \"127.0.0.1:8545\"");
		} else if ((e = json_object_get(v, "http"))) {
			const char *u = json_is_string(e) ? json_string_value(e) : "";
			char hp[96];
			const char *slash;

			s->ready.kind = LAB_PROBE_HTTP;
			if (strncmp(u, "http://", 7)) {
				check_error(c, check_ptr(p, p, "http"), 0,
					    "expected an http://address:port/path URL");
			} else {
				u += 7;
				slash = strchr(u, '/');
				snprintf(hp, sizeof(hp), "%.*s", (int)(slash ? slash - u : (long)strlen(u)), u);
				if (lab_hostport(hp, &s->ready.addr))
					check_error(c, check_ptr(p, p, "http"), 0,
						    "the URL needs a numeric IPv4 address and a port");
				s->ready.path = strdup(slash ? slash : "/");
			}
		} else if ((e = json_object_get(v, "exec"))) {
			s->ready.kind = LAB_PROBE_EXEC;
			s->ready.argv = lab_argv(c, lab, e, check_ptr(p, p, "exec"), &s->ready.argc);
		}
	}
	return s;
}

static void lab_load_hosts(struct check *c, struct lab *lab, json_t *hosts)
{
	const char *name;
	json_t *h;
	size_t i = 0, j;

	lab->hosts = calloc(json_object_size(hosts) + 1, sizeof(*lab->hosts));
	if (json_object_size(hosts) > LAB_HOSTS_MAX)
		check_error(c, "/hosts", 0, "a lab has at most %d hosts", LAB_HOSTS_MAX);
	json_object_foreach(hosts, name, h) {
		struct lab_host *host = &lab->hosts[i];
		char p[CHECK_PTR_MAX];
		const char *str;
		json_t *run;

		host->nsfd = -1;
		check_ptr(p, "/hosts", name);
		if (!lab_name_ok(name, 12) || !strcmp(name, "core"))
			check_error(c, p, 1, "\"%s\" is not a valid host name (a letter, then up to 11 "
				    "letters, digits or '-'; \"core\" is reserved)", name);
		if (!json_is_object(h)) {
			check_error(c, p, 0, "a host must be an object, found %s", check_type_name(h));
			continue;
		}
		check_keys(c, h, p, host_keys);
		host->name = strdup(name);
		if (check_string(c, h, p, "address", 1, &str) == 1) {
			char q[CHECK_PTR_MAX];
			uint32_t a, mask = lab->plen ? htonl(~0u << (32 - lab->plen)) : 0;

			check_ptr(q, p, "address");
			if (inet_pton(AF_INET, str, &host->addr) != 1) {
				check_error(c, q, 0, "\"%s\" is not an IPv4 address", str);
			} else if ((host->addr.s_addr & mask) != (lab->subnet.s_addr & mask)) {
				check_error(c, q, 0, "%s is outside the lab's subnet", str);
			} else {
				a = ntohl(host->addr.s_addr);
				if ((a & 0xff) == 0 || (a & 0xff) == 1 || (a & 0xff) == 255)
					check_error(c, q, 0, "%s: .0, .1 and .255 of a host's /24 are taken "
						    "(.1 is the core's side of the link)", str);
				host->gw.s_addr = htonl((a & 0xffffff00u) | 1u);
				for (j = 0; j < i; j++) {
					if ((ntohl(lab->hosts[j].addr.s_addr) & 0xffffff00u) ==
					    (a & 0xffffff00u))
						check_error(c, q, 0, "hosts %s and %s share a /24; each host "
							    "needs its own", lab->hosts[j].name, name);
				}
			}
		}
		if (check_string(c, h, p, "region", 0, &str) == 1)
			host->region = strdup(str);
		if (check_object(c, h, p, "run", 0, &run) == 1)
			host->svc = lab_load_service(c, lab, run, check_ptr(p, p, "run"));
		i++;
		lab->nhosts = i;
	}
}

/* A copy of obj without key. */
static json_t *lab_without(json_t *obj, const char *key)
{
	json_t *copy = json_copy(obj);

	json_object_del(copy, key);
	return copy;
}

int lab_load(const char *path, struct lab **out, struct diags *diags)
{
	struct lab *lab = calloc(1, sizeof(*lab));
	struct check c;
	struct err e;
	json_error_t je;
	char *text = NULL;
	size_t len = 0;
	const char *str;
	json_t *v;
	uint64_t fmt;

	*out = NULL;
	if (!lab)
		return -1;
	lab->core_fd = lab->lock_fd = -1;
	lab->file = strdup(path);
	{
		char *slash = strrchr(lab->file, '/');
		char buf[PATH_MAX];

		lab->dir = slash ? strndup(lab->file, (size_t)(slash - lab->file)) : strdup(".");
		if (lab->dir && realpath(lab->dir, buf)) {
			free(lab->dir);
			lab->dir = strdup(buf);
		}
	}
	err_clear(&e);
	if (scenario_read_file(path, LAB_FILE_MAX, &text, &len, &e)) {
		diags_add(diags, path, 0, 0, "", "%s", e.msg);
		lab_free(lab);
		return -1;
	}
	check_init(&c, path, text, len, diags);
	lab->root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!lab->root) {
		diags_add(diags, path, je.line > 0 ? je.line : 1, je.column > 0 ? je.column : 1, "",
			  "invalid JSON: %s", je.text);
		c.errors++;
		goto out;
	}
	if (!json_is_object(lab->root)) {
		check_error(&c, "", 0, "expected an object at the top level");
		goto out;
	}
	check_keys(&c, lab->root, "", lab_keys);
	if (check_uint(&c, lab->root, "", "doorjam", 1, 0, UINT32_MAX, &fmt) == 1 && fmt != 1)
		check_error(&c, "/doorjam", 0, "format version %llu is not supported (this doorjam "
			    "reads version 1)", (unsigned long long)fmt);
	if (check_string(&c, lab->root, "", "name", 1, &str) == 1)
		lab->name = strdup(str);
	if (check_string(&c, lab->root, "", "description", 0, &str) == 1)
		lab->description = strdup(str);
	if (check_string(&c, lab->root, "", "subnet", 1, &str) == 1) {
		char a[32];
		const char *slash = strchr(str, '/');
		long plen = slash ? strtol(slash + 1, NULL, 10) : -1;

		snprintf(a, sizeof(a), "%.*s", (int)(slash ? slash - str : 0), str);
		if (!slash || inet_pton(AF_INET, a, &lab->subnet) != 1 || plen < 8 || plen > 16) {
			check_error(&c, "/subnet", 0, "\"%s\" is not an IPv4 prefix from /8 to /16 "
				    "(each host takes a /24 of it), e.g. \"10.77.0.0/16\"", str);
		} else {
			lab->plen = (unsigned)plen;
			if (lab->subnet.s_addr & ~htonl(~0u << (32 - plen)))
				check_error(&c, "/subnet", 0, "\"%s\" has host bits set", str);
		}
	}
	if (check_object(&c, lab->root, "", "hosts", 1, &v) == 1) {
		if (!json_object_size(v))
			check_error(&c, "/hosts", 0, "a lab needs at least one host");
		lab_load_hosts(&c, lab, v);
	}
	if (check_object(&c, lab->root, "", "dns", 0, &v) == 1) {
		if (check_string(&c, v, "/dns", "host", 1, &str) == 1) {
			if (!lab_host(lab, str))
				check_error(&c, "/dns/host", 0, "no host is called \"%s\"", str);
			lab->dns_host = strdup(str);
		}
		lab->dns = lab_without(v, "host");
		fault_dns_config_check(&c, lab->dns, "/dns");
	}
	if (check_object(&c, lab->root, "", "rpc", 0, &v) == 1) {
		const char *name;
		json_t *entry;

		lab->rpc = json_object();
		json_object_foreach(v, name, entry) {
			char p[CHECK_PTR_MAX];

			check_ptr(p, "/rpc", name);
			if (!json_is_object(entry)) {
				check_error(&c, p, 0, "expected an object, found %s", check_type_name(entry));
				continue;
			}
			if (check_string(&c, entry, p, "host", 1, &str) == 1 && !lab_host(lab, str))
				check_error(&c, check_ptr(p, p, "host"), 0, "no host is called \"%s\"", str);
			json_object_set_new(lab->rpc, name, json_copy(entry));
		}
		{
			json_t *chk = json_object();

			json_object_foreach(v, name, entry)
				if (json_is_object(entry))
					json_object_set_new(chk, name, lab_without(entry, "host"));
			fault_rpc_config_check(&c, chk, "/rpc");
			json_decref(chk);
		}
	}
out:
	free(text);
	if (c.errors) {
		lab_free(lab);
		return -1;
	}
	*out = lab;
	return 0;
}

void lab_free(struct lab *lab)
{
	size_t i;

	if (!lab)
		return;
	for (i = 0; i < lab->nhosts; i++) {
		free(lab->hosts[i].name);
		free(lab->hosts[i].region);
		free(lab->hosts[i].log_path);
		lab_service_free(lab->hosts[i].svc);
	}
	free(lab->hosts);
	free(lab->file);
	free(lab->dir);
	free(lab->name);
	free(lab->description);
	free(lab->dns_host);
	free(lab->log_dir);
	free(lab->proxies);
	free(lab->proxy_names);
	json_decref(lab->dns);
	json_decref(lab->rpc);
	json_decref(lab->root);
	free(lab);
}

struct lab_host *lab_host(const struct lab *lab, const char *name)
{
	size_t i;

	for (i = 0; i < lab->nhosts; i++)
		if (lab->hosts[i].name && !strcmp(lab->hosts[i].name, name))
			return &lab->hosts[i];
	return NULL;
}

/* ---- up and down ---- */

static int lab_lock(struct lab *lab, struct err *err)
{
	char path[PATH_MAX];
	int i;

	if (mkdir(LAB_LOCK_DIR, 0755) < 0 && errno != EEXIST)
		return err_errno(err, errno, "mkdir %s", LAB_LOCK_DIR);
	for (i = 0; i < 16; i++) {
		uint16_t r;

		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (uint16_t)(getpid() + i);
		snprintf(lab->id, sizeof(lab->id), "%04x", r);
		snprintf(path, sizeof(path), "%s/lab-%s.lock", LAB_LOCK_DIR, lab->id);
		lab->lock_fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (lab->lock_fd < 0 && errno == EEXIST)
			continue;
		if (lab->lock_fd < 0)
			return err_errno(err, errno, "create %s", path);
		if (flock(lab->lock_fd, LOCK_EX | LOCK_NB) < 0)
			return err_errno(err, errno, "lock %s", path);
		dprintf(lab->lock_fd, "%d %s\n", (int)getpid(), lab->name ? lab->name : "");
		return 0;
	}
	return err_set(err, -EEXIST, "no free lab id");
}

static void lab_unlock(struct lab *lab)
{
	char path[PATH_MAX];

	if (lab->lock_fd < 0)
		return;
	snprintf(path, sizeof(path), "%s/lab-%s.lock", LAB_LOCK_DIR, lab->id);
	unlink(path);
	close(lab->lock_fd);
	lab->lock_fd = -1;
}

static void lab_service_exit(struct loop *l, pid_t pid, int status, void *arg)
{
	struct lab_host *h = arg;

	(void)l;
	(void)pid;
	h->exited = 1;
	h->status = status;
	h->pid = 0;
}

static int lab_start_service(struct lab *lab, struct lab_host *h, struct err *err)
{
	struct lab_service *s = h->svc;
	char **envp;
	size_t n = 0, i;
	int logfd, rc;
	pid_t pid;

	if (asprintf(&h->log_path, "%s/%s.log", lab->log_dir, h->name) < 0)
		return err_set(err, -ENOMEM, "out of memory");
	logfd = open(h->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (logfd < 0)
		return err_errno(err, errno, "create %s", h->log_path);
	for (i = 0; environ[i]; i++)
		n++;
	envp = calloc(n + s->nenv + 1, sizeof(char *));
	if (!envp) {
		close(logfd);
		return err_set(err, -ENOMEM, "out of memory");
	}
	n = 0;
	for (i = 0; environ[i]; i++)
		envp[n++] = environ[i];
	for (i = 0; i < s->nenv; i++)
		envp[n++] = s->env[i];
	pid = fork();
	if (pid < 0) {
		rc = err_errno(err, errno, "fork");
		free(envp);
		close(logfd);
		return rc;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);  /* a crashed doorjam takes its lab services along */
		setpgid(0, 0);
		if (labnet_child_enter(h->nsfd, h->nsname) < 0) {
			dprintf(logfd, "doorjam: cannot enter lab host %s: %s\n", h->name, strerror(errno));
			_exit(126);
		}
		if (s->cwd && chdir(s->cwd) < 0) {
			dprintf(logfd, "doorjam: cannot chdir to %s: %s\n", s->cwd, strerror(errno));
			_exit(126);
		}
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		execvpe(s->argv[0], s->argv, envp);
		dprintf(2, "doorjam: cannot run %s: %s\n", s->argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	free(envp);
	close(logfd);
	h->pid = pid;
	h->exited = 0;
	rc = loop_child_add(lab->loop, pid, lab_service_exit, h, err);
	if (rc)
		return rc;
	log_info("lab: %s started (pid %d), log %s", h->name, (int)pid, h->log_path);
	return 0;
}

struct lab_probe_args {
	const struct lab_probe *p;
};

/* One probe attempt inside the host's namespace; 0 when ready. */
static int lab_probe_fn(void *arg, struct err *err)
{
	const struct lab_probe *p = ((struct lab_probe_args *)arg)->p;
	struct timeval tv = { 0, 300000 };
	char buf[256];
	int fd, rc = -1;
	ssize_t n;

	(void)err;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const struct sockaddr *)&p->addr, sizeof(p->addr)) < 0)
		goto out;
	if (p->kind == LAB_PROBE_TCP) {
		rc = 0;
		goto out;
	}
	n = snprintf(buf, sizeof(buf), "GET %s HTTP/1.0\r\nHost: lab\r\n\r\n", p->path);
	if (write(fd, buf, (size_t)n) != n)
		goto out;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n > 12) {
		buf[n] = '\0';
		rc = (!strncmp(buf, "HTTP/1.", 7) && buf[9] == '2') ? 0 : -1;
	}
out:
	close(fd);
	return rc;
}

static int lab_probe_exec(struct lab *lab, struct lab_host *h)
{
	pid_t pid = fork();
	int status = 0, i;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		sigset_t none;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);  /* the loop's blocked signals are not its */
		if (labnet_child_enter(h->nsfd, h->nsname) < 0)
			_exit(126);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		execvp(h->svc->ready.argv[0], h->svc->ready.argv);
		_exit(127);
	}
	for (i = 0; i < 100 && !loop_stopping(lab->loop); i++) {     /* 5 s at most */
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
		loop_once(lab->loop, 50000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/* Wait for a service's probe, running the loop meanwhile (DNS and proxies answer). */
static int lab_wait_ready(struct lab *lab, struct lab_host *h, struct err *err)
{
	uint64_t deadline = loop_now_us() + h->svc->ready_within_us;
	struct lab_probe_args a = { &h->svc->ready };
	char w[32];

	if (h->svc->ready.kind == LAB_PROBE_NONE)
		return 0;
	for (;;) {
		int ok;

		if (h->exited)
			return err_set(err, -ECHILD, "lab host %s: the service exited (status %d) before "
				       "it was ready; see %s", h->name, WIFEXITED(h->status) ?
				       WEXITSTATUS(h->status) : 128 + WTERMSIG(h->status), h->log_path);
		if (h->svc->ready.kind == LAB_PROBE_EXEC)
			ok = lab_probe_exec(lab, h) == 0;
		else
			ok = netns_run(h->nsfd, lab_probe_fn, &a, NULL) == 0;
		if (ok)
			return 0;
		if (loop_now_us() > deadline)
			break;
		loop_once(lab->loop, 100000);
		if (loop_stopping(lab->loop))  /* a signal: stop waiting, tear down */
			return err_set(err, -EINTR, "lab host %s: interrupted while waiting for "
				       "the service to be ready", h->name);
	}
	snprintf(w, sizeof(w), "%llu ms", (unsigned long long)(h->svc->ready_within_us / 1000));
	return err_set(err, -ETIMEDOUT, "lab host %s: the service was not ready within %s; see %s",
		       h->name, w, h->log_path);
}

static int lab_mkdirs(const char *dir, struct err *err)
{
	char tmp[PATH_MAX], *p;

	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
				return err_errno(err, errno, "mkdir %s", tmp);
			*p = '/';
		}
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return err_errno(err, errno, "mkdir %s", tmp);
	return 0;
}

int lab_up(struct lab *lab, struct loop *loop, const char *log_dir, uint64_t seed,
	   struct err *err)
{
	struct in_addr any;
	size_t i;
	int rc;

	lab->loop = loop;
	if (geteuid() != 0)
		return err_set(err, -EPERM, "building a lab needs root (network namespaces, links)");
	rc = lab_lock(lab, err);
	if (rc)
		goto fail;
	lab->up = 1;
	lab->log_dir = strdup(log_dir);
	rc = lab_mkdirs(log_dir, err);
	if (rc)
		goto fail;
	snprintf(lab->core_ns, sizeof(lab->core_ns), "dj%s-core", lab->id);
	rc = labnet_ns_create(lab->core_ns, &lab->core_fd, err);
	if (rc)
		goto fail;
	rc = labnet_forwarding(lab->core_fd, err);
	if (rc)
		goto fail;
	memset(&any, 0, sizeof(any));
	for (i = 0; i < lab->nhosts; i++) {
		struct lab_host *h = &lab->hosts[i];
		char core_if[16];

		snprintf(h->nsname, sizeof(h->nsname), "dj%s-%s", lab->id, h->name);
		rc = labnet_ns_create(h->nsname, &h->nsfd, err);
		if (rc)
			goto fail;
		snprintf(core_if, sizeof(core_if), "h%u", (unsigned)(i & 0xff));
		rc = labnet_veth_add(lab->core_fd, core_if, h->nsfd, "eth0", err);
		if (rc == 0)
			rc = labnet_addr_add(lab->core_fd, core_if, h->gw, 24, err);
		if (rc == 0)
			rc = labnet_addr_add(h->nsfd, "eth0", h->addr, 24, err);
		/* the lab's subnet via the core; no default route, nothing leaves the lab */
		if (rc == 0)
			rc = labnet_route_add(h->nsfd, lab->subnet, lab->plen, h->gw, err);
		if (rc) {
			err_prefix(err, "lab host %s: ", h->name);
			goto fail;
		}
		if (lab->dns_host) {
			rc = labnet_resolv_conf(h->nsname, lab_host(lab, lab->dns_host)->addr, err);
			if (rc)
				goto fail;
		}
	}
	log_info("lab %s: %zu hosts up in namespaces dj%s-*", lab->name, lab->nhosts, lab->id);
	if (lab->dns) {
		struct dns_config *cfg = NULL;
		json_t *conf = json_copy(lab->dns);

		json_object_set_new(conf, "netns", json_string(lab_host(lab, lab->dns_host)->nsname));
		rc = fault_dns_config_build(conf, seed, &cfg, err);
		json_decref(conf);
		if (rc == 0) {
			lab->dns_srv = dns_server_new(loop, cfg, err);
			if (!lab->dns_srv)
				rc = err->code ? err->code : -EIO;
		}
		dns_config_free(cfg);
		if (rc) {
			err_prefix(err, "lab DNS server: ");
			goto fail;
		}
	}
	if (lab->rpc) {
		const char *name;
		json_t *entry;

		lab->proxies = calloc(json_object_size(lab->rpc) + 1, sizeof(*lab->proxies));
		lab->proxy_names = calloc(json_object_size(lab->rpc) + 1, sizeof(char *));
		json_object_foreach(lab->rpc, name, entry) {
			struct rpc_proxy_config cfg;
			struct lab_host *h = lab_host(lab, json_string_value(json_object_get(entry, "host")));
			json_t *conf = lab_without(entry, "host");

			json_object_set_new(conf, "netns", json_string(h->nsname));
			rpc_proxy_config_default(&cfg);
			rc = fault_rpc_config(conf, name, &cfg, err);
			if (rc == 0) {
				lab->proxies[lab->nproxies] = rpc_proxy_new(loop, &cfg, err);
				if (!lab->proxies[lab->nproxies])
					rc = err->code ? err->code : -EIO;
			}
			json_decref(conf);
			if (rc) {
				err_prefix(err, "lab RPC proxy %s: ", name);
				goto fail;
			}
			rpc_proxy_set_seed(lab->proxies[lab->nproxies], seed);
			lab->proxy_names[lab->nproxies] = (char *)name;
			lab->nproxies++;
		}
	}
	for (i = 0; i < lab->nhosts; i++) {
		struct lab_host *h = &lab->hosts[i];

		if (!h->svc)
			continue;
		rc = lab_start_service(lab, h, err);
		if (rc == 0)
			rc = lab_wait_ready(lab, h, err);
		if (rc)
			goto fail;
		log_info("lab: %s ready", h->name);
	}
	return 0;
fail:
	lab_down(lab);
	return rc ? rc : -EIO;
}

static void lab_stop_services(struct lab *lab)
{
	size_t i;
	int round;

	for (i = lab->nhosts; i-- > 0;)
		if (lab->hosts[i].pid > 0)
			kill(-lab->hosts[i].pid, SIGTERM);
	for (round = 0; round < 40; round++) {   /* 2 s for a clean exit */
		int alive = 0;

		for (i = 0; i < lab->nhosts; i++) {
			struct lab_host *h = &lab->hosts[i];

			if (h->pid > 0 && waitpid(h->pid, &h->status, WNOHANG) == h->pid) {
				loop_child_del(lab->loop, h->pid);
				h->pid = 0;
			}
			if (h->pid > 0)
				alive = 1;
		}
		if (!alive)
			return;
		usleep(50000);
	}
	for (i = 0; i < lab->nhosts; i++) {
		struct lab_host *h = &lab->hosts[i];

		if (h->pid > 0) {
			kill(-h->pid, SIGKILL);
			waitpid(h->pid, &h->status, 0);
			loop_child_del(lab->loop, h->pid);
			h->pid = 0;
		}
	}
}

void lab_down(struct lab *lab)
{
	struct err e;
	size_t i;

	if (!lab || !lab->up)
		return;
	lab_stop_services(lab);
	for (i = 0; i < lab->nproxies; i++)
		rpc_proxy_free(lab->proxies[i]);
	lab->nproxies = 0;
	dns_server_free(lab->dns_srv);
	lab->dns_srv = NULL;
	for (i = lab->nhosts; i-- > 0;) {
		struct lab_host *h = &lab->hosts[i];

		if (h->nsfd >= 0)
			close(h->nsfd);
		h->nsfd = -1;
		err_clear(&e);
		if (h->nsname[0] && labnet_ns_delete(h->nsname, &e))
			log_warn("lab: removing %s: %s", h->nsname, e.msg);
		h->nsname[0] = '\0';
	}
	if (lab->core_fd >= 0)
		close(lab->core_fd);
	lab->core_fd = -1;
	err_clear(&e);
	if (lab->core_ns[0] && labnet_ns_delete(lab->core_ns, &e))
		log_warn("lab: removing %s: %s", lab->core_ns, e.msg);
	lab->core_ns[0] = '\0';
	lab_unlock(lab);
	lab->up = 0;
	log_info("lab %s: down", lab->name ? lab->name : "");
}

int lab_host_netns(const struct lab *lab, const char *name)
{
	struct lab_host *h;

	if (!lab || !lab->up)
		return -1;
	if (!strcmp(name, "core"))
		return lab->core_fd;
	h = lab_host(lab, name);
	return h ? h->nsfd : -1;
}

struct rpc_proxy *lab_rpc(const struct lab *lab, const char *name)
{
	size_t i;

	for (i = 0; lab && i < lab->nproxies; i++)
		if (!strcmp(lab->proxy_names[i], name))
			return lab->proxies[i];
	return NULL;
}

struct dns_server *lab_dns(const struct lab *lab)
{
	return lab ? lab->dns_srv : NULL;
}

struct lab_host *lab_service_died(struct lab *lab)
{
	size_t i;

	for (i = 0; i < lab->nhosts; i++) {
		if (lab->hosts[i].exited == 1) {
			lab->hosts[i].exited = 2;  /* reported */
			return &lab->hosts[i];
		}
	}
	return NULL;
}

/* ---- leftovers and game days ---- */

/* 1 when lab id has a lock file that a live process holds. */
static int lab_id_alive(const char *id)
{
	char path[PATH_MAX];
	int fd, alive;

	snprintf(path, sizeof(path), "%s/lab-%s.lock", LAB_LOCK_DIR, id);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 0;
	alive = flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	if (!alive)
		unlink(path);
	close(fd);
	return alive;
}

/* Parse "dj<4 hex>-..." into id; 0 when it is a lab namespace name. */
static int lab_ns_id(const char *name, char id[8])
{
	int i;

	if (strncmp(name, "dj", 2) || strlen(name) < 8 || name[6] != '-')
		return -1;
	for (i = 0; i < 4; i++)
		if (!isxdigit((unsigned char)name[2 + i]))
			return -1;
	memcpy(id, name + 2, 4);
	id[4] = '\0';
	return 0;
}

/* Kill every process whose network namespace has inode ino. */
static size_t lab_kill_ns(unsigned long ino)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", e->d_name);
		if (stat(path, &st) == 0 && (unsigned long)st.st_ino == ino) {
			kill((pid_t)atoi(e->d_name), SIGKILL);
			n++;
		}
	}
	closedir(d);
	return n;
}

int lab_recover(size_t *removed, struct err *err)
{
	DIR *d = opendir(NETNS_RUN_DIR);
	struct dirent *e;
	int rc = 0;

	*removed = 0;
	if (!d)
		return errno == ENOENT ? 0 : err_errno(err, errno, "open %s", NETNS_RUN_DIR);
	while ((e = readdir(d))) {
		char id[8], path[PATH_MAX];
		struct stat st;

		if (lab_ns_id(e->d_name, id) || lab_id_alive(id))
			continue;
		snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, e->d_name);
		if (stat(path, &st) == 0 && lab_kill_ns((unsigned long)st.st_ino))
			usleep(100000);
		if (labnet_ns_delete(e->d_name, err) == 0)
			(*removed)++;
		else
			rc = -EIO;
	}
	closedir(d);
	/* lock files of dead labs that never made a namespace (killed right after the lock) */
	d = opendir(LAB_LOCK_DIR);
	while (d && (e = readdir(d))) {
		char id[8], path[PATH_MAX];
		struct stat st;

		if (strncmp(e->d_name, "lab-", 4) || strlen(e->d_name) != 13 ||
		    strcmp(e->d_name + 8, ".lock"))
			continue;
		memcpy(id, e->d_name + 4, 4);
		id[4] = '\0';
		/*
		 * A lab makes its lock file, then locks it: a file younger than 5 s
		 * may be one being made right now, so it is left for a later recover.
		 */
		snprintf(path, sizeof(path), "%s/%s", LAB_LOCK_DIR, e->d_name);
		if (stat(path, &st) < 0 || time(NULL) - st.st_mtime < 5)
			continue;
		(void)lab_id_alive(id);  /* removes the file when nobody holds it */
	}
	if (d)
		closedir(d);
	return rc;
}

int lab_list(char ***ids, size_t *n, struct err *err)
{
	DIR *d = opendir(LAB_LOCK_DIR);
	struct dirent *e;

	*ids = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : err_errno(err, errno, "open %s", LAB_LOCK_DIR);
	while ((e = readdir(d))) {
		char id[8];

		if (strncmp(e->d_name, "lab-", 4) || strlen(e->d_name) != 13)
			continue;
		memcpy(id, e->d_name + 4, 4);
		id[4] = '\0';
		if (lab_id_alive(id)) {
			*ids = realloc(*ids, (*n + 1) * sizeof(char *));
			(*ids)[(*n)++] = strdup(id);
		}
	}
	closedir(d);
	return 0;
}

int lab_exec(const char *id, const char *host, char **argv, struct err *err)
{
	char nsname[64], path[PATH_MAX];
	char **ids = NULL;
	size_t n = 0, i;
	int fd, rc;

	if (!id) {
		rc = lab_list(&ids, &n, err);
		if (rc)
			return rc;
		if (n != 1) {
			for (i = 0; i < n; i++)
				free(ids[i]);
			free(ids);
			return err_set(err, -ENOENT, n ? "%zu labs are up: name one with --lab ID" :
				       "no lab is up (doorjam lab up LAB)", n);
		}
		snprintf(nsname, sizeof(nsname), "dj%s-%s", ids[0], host);
		free(ids[0]);
		free(ids);
	} else {
		snprintf(nsname, sizeof(nsname), "dj%s-%s", id, host);
	}
	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, nsname);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, errno, "lab host %s (%s)", host, path);
	rc = labnet_child_enter(fd, nsname);
	if (rc < 0)
		return err_errno(err, -rc, "enter lab host %s", host);
	execvp(argv[0], argv);
	return err_errno(err, errno, "cannot run %s", argv[0]);
}
