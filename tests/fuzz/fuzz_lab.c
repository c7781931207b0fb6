/*
 * libFuzzer target for the lab loader (runner/lab's lab_load, with the DNS
 * and RPC configuration checks it calls). lab_load() reads a path, so each
 * input is written to a file in a private folder under /dev/shm (one per
 * fuzzing process) and loaded from there. Loading must never crash, leak or
 * hang; a load that fails leaves at least one diagnostic, one that succeeds
 * none, and an accepted lab keeps the invariants lab_up relies on: every host
 * inside the subnet, on a /24 of its own, and the DNS and RPC hosts defined.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/check.h"
#include "runner/lab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], path[96];

static void fuzz_cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

static void fuzz_check_lab(const struct lab *lab)
{
	uint32_t mask, net;
	size_t i, j;
	const char *name;
	json_t *entry;

	if (lab->plen < 8 || lab->plen > 16 || lab->nhosts == 0)
		abort();
	mask = ~0u << (32 - lab->plen);
	net = ntohl(lab->subnet.s_addr);
	for (i = 0; i < lab->nhosts; i++) {
		uint32_t a = ntohl(lab->hosts[i].addr.s_addr);

		if (!lab->hosts[i].name || (a & mask) != net)
			abort();
		if ((a & 0xff) == 0 || (a & 0xff) == 1 || (a & 0xff) == 255)
			abort();
		for (j = 0; j < i; j++)
			if ((ntohl(lab->hosts[j].addr.s_addr) >> 8) == (a >> 8))
				abort();
		if (lab->hosts[i].svc && (lab->hosts[i].svc->argc == 0 || !lab->hosts[i].svc->argv[0]))
			abort();
	}
	if (lab->dns && (!lab->dns_host || !lab_host(lab, lab->dns_host)))
		abort();
	if (lab->rpc) {
		json_object_foreach(lab->rpc, name, entry) {
			json_t *h = json_object_get(entry, "host");

			if (!json_is_string(h) || !lab_host(lab, json_string_value(h)))
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct lab *lab = NULL;
	struct diags d;
	size_t i;
	int fd, rc;

	if (!ready) {
		snprintf(dir, sizeof(dir), "/dev/shm/djfuzz-lab-%d", (int)getpid());
		snprintf(path, sizeof(path), "%s/lab.json", dir);
		mkdir(dir, 0700);
		atexit(fuzz_cleanup);
		ready = 1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	if (write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);

	diags_init(&d);
	rc = lab_load(path, &lab, &d);
	if ((rc == 0) != (d.n == 0) || (rc == 0) != (lab != NULL))
		abort();
	for (i = 0; i < d.n; i++)
		if (!d.v[i].msg || !*d.v[i].msg || (d.v[i].line > 0 && d.v[i].col < 1))
			abort();
	if (lab)
		fuzz_check_lab(lab);
	lab_free(lab);
	diags_cleanup(&d);
	return 0;
}
