/*
 * dnsgai: what an application sees from getaddrinfo(), for the DNS tests.
 *
 *   dnsgai NAME [inet|inet6|any]
 *
 * Prints "ok ADDR ADDR..." (distinct addresses, in the order returned) and
 * exits 0, or prints "error EAI_NONAME" (or EAI_AGAIN, EAI_FAIL, EAI_NODATA,
 * ...) and exits 1. The resolver configuration is the process's own
 * /etc/resolv.conf, so run it under `ip netns exec` with
 * /etc/netns/NAME/resolv.conf pointing at doorjam's server.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static const char *dnsgai_code(int rc)
{
	switch (rc) {
	case EAI_NONAME: return "EAI_NONAME";
	case EAI_AGAIN: return "EAI_AGAIN";
	case EAI_FAIL: return "EAI_FAIL";
#ifdef EAI_NODATA
	case EAI_NODATA: return "EAI_NODATA";
#endif
	case EAI_FAMILY: return "EAI_FAMILY";
	case EAI_MEMORY: return "EAI_MEMORY";
	case EAI_SYSTEM: return "EAI_SYSTEM";
	default: return "EAI_OTHER";
	}
}

int main(int argc, char **argv)
{
	struct addrinfo hints, *res = NULL, *ai;
	char seen[64][INET6_ADDRSTRLEN];
	size_t nseen = 0, i;
	int rc;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: dnsgai NAME [inet|inet6|any]\n");
		return 2;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_family = AF_UNSPEC;
	if (argc == 3 && !strcmp(argv[2], "inet"))
		hints.ai_family = AF_INET;
	else if (argc == 3 && !strcmp(argv[2], "inet6"))
		hints.ai_family = AF_INET6;
	rc = getaddrinfo(argv[1], NULL, &hints, &res);
	if (rc != 0) {
		printf("error %s\n", dnsgai_code(rc));
		return 1;
	}
	printf("ok");
	for (ai = res; ai; ai = ai->ai_next) {
		char a[INET6_ADDRSTRLEN];
		const void *p = ai->ai_family == AF_INET6 ?
			(const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr :
			(const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;

		if (!inet_ntop(ai->ai_family, p, a, sizeof(a)))
			continue;
		for (i = 0; i < nseen && strcmp(seen[i], a); i++)
			;
		if (i < nseen || nseen == 64)
			continue;
		strcpy(seen[nseen++], a);
		printf(" %s", a);
	}
	printf("\n");
	freeaddrinfo(res);
	return 0;
}
