/*
 * dnsmsg: the DNS wire format, as much of it as doorjam's server needs.
 *
 * A bounded parser for messages that arrive from the network (client queries
 * and upstream replies) and a builder for the responses doorjam makes itself.
 * The parser fails closed: compression pointers must point strictly backwards
 * (which also rules out loops), labels are at most 63 octets, names at most
 * 255 octets on the wire, every count must fit in the bytes that remain, and
 * every record must end inside the packet. Nothing here allocates, touches a
 * socket or keeps state between calls.
 *
 * Names are handled in presentation form, lower-cased, without the trailing
 * dot ("rpc-a.example"; "" is the root). Octets other than letters, digits,
 * '-' and '_' are written as \DDD, and a literal dot or backslash inside a
 * label as "\." and "\\", so that every wire name has exactly one text form.
 */
#ifndef DOORJAM_DNSMSG_H
#define DOORJAM_DNSMSG_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define DNSMSG_HDR_LEN     12
#define DNSMSG_LABEL_MAX   63
#define DNSMSG_WIRE_MAX    255    /* a name on the wire, root label included */
#define DNSMSG_TEXT_MAX    1024   /* a name in text form, escapes and NUL included */
#define DNSMSG_UDP_MIN     512    /* UDP payload without EDNS0 */
#define DNSMSG_UDP_OURS    1232   /* the UDP size doorjam advertises */
#define DNSMSG_MSG_MAX     65535

/* Header flag bits (the 16-bit word after the ID). */
#define DNSMSG_F_QR  0x8000u
#define DNSMSG_F_AA  0x0400u
#define DNSMSG_F_TC  0x0200u
#define DNSMSG_F_RD  0x0100u
#define DNSMSG_F_RA  0x0080u
#define DNSMSG_OPCODE(f) (((f) >> 11) & 0xfu)
#define DNSMSG_RCODE(f)  ((f) & 0xfu)

enum dnsmsg_type {
	DNSMSG_TYPE_A = 1,
	DNSMSG_TYPE_NS = 2,
	DNSMSG_TYPE_CNAME = 5,
	DNSMSG_TYPE_SOA = 6,
	DNSMSG_TYPE_PTR = 12,
	DNSMSG_TYPE_MX = 15,
	DNSMSG_TYPE_TXT = 16,
	DNSMSG_TYPE_AAAA = 28,
	DNSMSG_TYPE_SRV = 33,
	DNSMSG_TYPE_OPT = 41,
	DNSMSG_TYPE_SVCB = 64,
	DNSMSG_TYPE_HTTPS = 65,
	DNSMSG_TYPE_ANY = 255,
};

#define DNSMSG_CLASS_IN 1

enum dnsmsg_rcode {
	DNSMSG_RCODE_NOERROR = 0,
	DNSMSG_RCODE_FORMERR = 1,
	DNSMSG_RCODE_SERVFAIL = 2,
	DNSMSG_RCODE_NXDOMAIN = 3,
	DNSMSG_RCODE_NOTIMP = 4,
	DNSMSG_RCODE_REFUSED = 5,
	DNSMSG_RCODE_BADVERS = 16,   /* extended: needs an OPT record */
};

/* A parsed message: the header, the one question, and EDNS0 if present. */
struct dnsmsg {
	uint16_t id;
	uint16_t flags;
	uint16_t qdcount, ancount, nscount, arcount;
	/* The question (only when qdcount == 1). */
	char qname[DNSMSG_TEXT_MAX];          /* lower-case text form */
	uint8_t qname_wire[DNSMSG_WIRE_MAX];  /* as received (case kept), uncompressed */
	size_t qname_wire_len;
	uint16_t qtype, qclass;
	size_t question_end;                  /* offset just past the question */
	/* EDNS0 (an OPT record in the additional section). */
	int has_edns;
	uint16_t edns_udp_size;               /* as the sender wrote it */
	uint8_t edns_version;
	uint8_t edns_ext_rcode;
};

/*
 * Parse a whole message: header, question, and every record of the answer,
 * authority and additional sections (checked for bounds and names, skipped
 * otherwise; an OPT record is read). A message must carry at most one
 * question; trailing bytes after the last record are an error. Returns 0, or
 * -EBADMSG with err saying what was wrong and at which offset.
 */
int dnsmsg_parse(const uint8_t *p, size_t len, struct dnsmsg *m, struct err *err)
	__attribute__((warn_unused_result));

/*
 * Parse a query a client sent: dnsmsg_parse plus "QR is clear and there is
 * exactly one question". A response (QR set) is rejected with -EPROTO so
 * that doorjam never answers an answer.
 */
int dnsmsg_parse_query(const uint8_t *p, size_t len, struct dnsmsg *m, struct err *err)
	__attribute__((warn_unused_result));

/*
 * Read the (possibly compressed) name at *off of the message p[0..len) into
 * text (DNSMSG_TEXT_MAX bytes, lower-case) and, when wire is not NULL, its
 * uncompressed wire form (DNSMSG_WIRE_MAX bytes, case kept, length in
 * *wire_len). On success *off is advanced past the name as it appears at
 * that place (a pointer counts two bytes). Returns 0 or -EBADMSG.
 */
int dnsmsg_name_read(const uint8_t *p, size_t len, size_t *off, char *text,
		     uint8_t *wire, size_t *wire_len, struct err *err)
	__attribute__((warn_unused_result));

/*
 * Encode a text name (escapes as described above, optional trailing dot)
 * into wire form. Returns the wire length (at least 1) or -EINVAL.
 */
int dnsmsg_name_encode(const char *text, uint8_t *wire, size_t cap, struct err *err)
	__attribute__((warn_unused_result));

/*
 * Normalise a user-written name to the text form the parser produces
 * (lower-case, no trailing dot). out has DNSMSG_TEXT_MAX bytes. Returns 0 or
 * -EINVAL (empty label, label over 63, name over 255 octets).
 */
int dnsmsg_name_canon(const char *name, char *out, struct err *err)
	__attribute__((warn_unused_result));

/*
 * Does name (text form, lower-case) match pattern? A pattern is an exact name
 * or "*.suffix", which matches names that end in ".suffix" at a label
 * boundary and have at least one more label ("*.example.com" matches
 * "a.example.com" and "x.y.example.com", not "example.com" or
 * "badexample.com"). "*" alone matches every name. Case-insensitive.
 */
int dnsmsg_pattern_match(const char *pattern, const char *name);

/* "A", "AAAA", ... or "TYPE123"; out has at least 16 bytes. Returns out. */
const char *dnsmsg_type_name(uint16_t type, char *out);

/* Parse "A", "aaaa", "TYPE123". Returns 0 and sets *type, or -EINVAL. */
int dnsmsg_type_parse(const char *s, uint16_t *type);

/* "NOERROR", "NXDOMAIN", ... or "RCODE23". out has at least 16 bytes. */
const char *dnsmsg_rcode_name(unsigned rcode, char *out);

/* ---- building responses ---- */

/* One answer record doorjam makes: an address or a CNAME. */
struct dnsmsg_rr {
	const char *owner;       /* text name; NULL: the question's name */
	uint16_t type;           /* DNSMSG_TYPE_A, _AAAA or _CNAME */
	uint32_t ttl;
	uint8_t addr[16];        /* A: first 4 bytes; AAAA: all 16 */
	const char *target;      /* CNAME target (text) */
};

/* What to answer. */
struct dnsmsg_answer {
	unsigned rcode;          /* DNSMSG_RCODE_*; BADVERS needs an EDNS query */
	int authoritative;       /* set AA */
	int truncated;           /* set TC and send no records */
	const struct dnsmsg_rr *rrs;
	size_t nrrs;
	/*
	 * Negative answers (NXDOMAIN, or NOERROR with no records): when
	 * soa_owner is not NULL an SOA is put in the authority section with
	 * TTL and MINIMUM both soa_ttl, which is what a resolver's negative
	 * cache honours (RFC 2308).
	 */
	const char *soa_owner;
	uint32_t soa_ttl;
};

/*
 * Build the response to query q (raw bytes qraw/qlen, parsed as q) into out
 * (cap bytes). limit is the largest response the client accepts (its EDNS0
 * UDP size, at least 512, or 65535 for TCP). When the records do not fit,
 * the response is cut back to header and question with TC set. The response
 * echoes the question as the client wrote it, copies RD and carries an OPT
 * record when the query did. Returns the length, or -ENOBUFS when not even
 * the header and question fit in cap.
 */
int dnsmsg_build(const struct dnsmsg *q, const struct dnsmsg_answer *a, uint8_t *out,
		 size_t cap, size_t limit)
	__attribute__((warn_unused_result));

/*
 * A FORMERR response with the header only, for a query whose header could be
 * read but whose body could not. Returns 12, or -EINVAL when p is not at
 * least a header or is itself a response.
 */
int dnsmsg_build_formerr(const uint8_t *p, size_t len, uint8_t *out, size_t cap)
	__attribute__((warn_unused_result));

/*
 * The largest response to send over UDP for query q: the client's EDNS0 size
 * clamped to 512..DNSMSG_UDP_OURS (larger answers go over TCP, which avoids
 * IP fragmentation), or 512 without EDNS0.
 */
size_t dnsmsg_udp_limit(const struct dnsmsg *q);

/*
 * A one-line summary of a response for the query log: "NOERROR A
 * 10.77.1.10 A 10.77.1.11", "NXDOMAIN", "NOERROR CNAME x.example A 1.2.3.4",
 * "NOERROR TC", "NOERROR (no records)". Unparseable input gives "malformed".
 * Returns out.
 */
char *dnsmsg_summary(const uint8_t *p, size_t len, char *out, size_t outlen);

#endif
