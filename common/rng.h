/*
 * rng: splitmix64, the small seeded generator behind doorjam's seeded
 * choices (a rule's probability in the DNS server and the RPC proxy, test
 * attackers' random bytes). Deterministic for a given state, cheap enough for
 * the hot paths, not for anything secret.
 */
#ifndef DOORJAM_RNG_H
#define DOORJAM_RNG_H

#include <stdint.h>

/* The next 64 bits; advances *state. */
static inline uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A draw in [0, 1) from the top 53 bits of rng_next. */
static inline double rng_unit(uint64_t *state)
{
	return (double)(rng_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

#endif
