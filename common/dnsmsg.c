/*
 * dnsmsg: bounded DNS wire parser and response builder. See dnsmsg.h.
 *
 * Every read goes through an explicit "is there room" check against the
 * message length; offsets are size_t and never wrap because each check is
 * written as "need <= len - off" after off <= len is known.
 */
#include "common/dnsmsg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int dnsmsg_plain_octet(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int dnsmsg_name_read(const uint8_t *p, size_t len, size_t *off, char *text,
		     uint8_t *wire, size_t *wire_len, struct err *err)
{
	size_t pos = *off, seg = *off, wl = 0, tl = 0, i;
	int jumped = 0;

	for (;;) {
		uint8_t c;

		if (pos >= len)
			return err_set(err, -EBADMSG, "name at offset %zu runs past the end", *off);
		c = p[pos];
		if ((c & 0xc0) == 0xc0) {
			size_t target;

			if (len - pos < 2)
				return err_set(err, -EBADMSG, "compression pointer at offset %zu is cut off",
					       pos);
			target = ((size_t)(c & 0x3f) << 8) | p[pos + 1];
			/*
			 * A pointer must lead strictly before the start of the
			 * stretch of name that contains it. That rules out
			 * forward pointers and, since every jump lands earlier
			 * than the last, loops as well.
			 */
			if (target >= seg)
				return err_set(err, -EBADMSG,
					       "compression pointer at offset %zu points forward or loops (to %zu)",
					       pos, target);
			if (target < DNSMSG_HDR_LEN)
				return err_set(err, -EBADMSG,
					       "compression pointer at offset %zu points into the header", pos);
			if (!jumped)
				*off = pos + 2;
			jumped = 1;
			pos = seg = target;
			continue;
		}
		if (c & 0xc0)
			return err_set(err, -EBADMSG, "label at offset %zu: length byte 0x%02x is over 63",
				       pos, c);
		if (c == 0) {
			if (wl + 1 > DNSMSG_WIRE_MAX)
				return err_set(err, -EBADMSG, "name at offset %zu is over 255 octets", *off);
			if (wire)
				wire[wl] = 0;
			wl++;
			if (!jumped)
				*off = pos + 1;
			break;
		}
		if (len - pos - 1 < c)
			return err_set(err, -EBADMSG, "label at offset %zu runs past the end", pos);
		if (wl + 1 + c + 1 > DNSMSG_WIRE_MAX)
			return err_set(err, -EBADMSG, "name at offset %zu is over 255 octets", *off);
		if (wire)
			memcpy(wire + wl, p + pos, 1 + (size_t)c);
		wl += 1 + (size_t)c;
		if (tl > 0)
			text[tl++] = '.';
		for (i = 0; i < c; i++) {
			uint8_t o = p[pos + 1 + i];

			if (o >= 'A' && o <= 'Z')
				o = (uint8_t)(o - 'A' + 'a');
			if (dnsmsg_plain_octet(o)) {
				text[tl++] = (char)o;
			} else {
				snprintf(text + tl, 5, "\\%03u", o);
				tl += 4;
			}
		}
		pos += 1 + (size_t)c;
	}
	text[tl] = '\0';
	if (wire_len)
		*wire_len = wl;
	return 0;
}

int dnsmsg_name_encode(const char *text, uint8_t *wire, size_t cap, struct err *err)
{
	size_t wl = 0, lab;
	const char *s = text;

	if (!strcmp(s, ".") || !*s) {
		if (cap < 1)
			return err_set(err, -EINVAL, "no room for a name");
		wire[0] = 0;
		return 1;
	}
	for (;;) {
		uint8_t label[DNSMSG_LABEL_MAX];
		size_t n = 0;

		while (*s && *s != '.') {
			unsigned v;

			if (*s == '\\') {
				if (s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9' &&
				    s[3] >= '0' && s[3] <= '9') {
					v = (unsigned)((s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0'));
					if (v > 255)
						return err_set(err, -EINVAL, "\"%s\": escape over \\255", text);
					s += 4;
				} else if (s[1]) {
					v = (unsigned char)s[1];
					s += 2;
				} else {
					return err_set(err, -EINVAL, "\"%s\": dangling backslash", text);
				}
			} else {
				v = (unsigned char)*s++;
			}
			if (n >= DNSMSG_LABEL_MAX)
				return err_set(err, -EINVAL, "\"%s\": a label is over 63 octets", text);
			label[n++] = (uint8_t)v;
		}
		if (n == 0)
			return err_set(err, -EINVAL, "\"%s\": empty label", text);
		lab = n;
		if (wl + 1 + lab + 1 > DNSMSG_WIRE_MAX || wl + 1 + lab + 1 > cap)
			return err_set(err, -EINVAL, "\"%s\" is over 255 octets", text);
		wire[wl] = (uint8_t)lab;
		memcpy(wire + wl + 1, label, lab);
		wl += 1 + lab;
		if (*s == '.')
			s++;
		if (!*s)
			break;
	}
	wire[wl++] = 0;
	return (int)wl;
}

int dnsmsg_name_canon(const char *name, char *out, struct err *err)
{
	uint8_t wire[DNSMSG_WIRE_MAX];
	uint8_t msg[DNSMSG_HDR_LEN + DNSMSG_WIRE_MAX];
	size_t off = DNSMSG_HDR_LEN;
	int n = dnsmsg_name_encode(name, wire, sizeof(wire), err);

	if (n < 0)
		return n;
	/* Decode behind a dummy header so that the reader's rules apply. */
	memset(msg, 0, DNSMSG_HDR_LEN);
	memcpy(msg + DNSMSG_HDR_LEN, wire, (size_t)n);
	if (dnsmsg_name_read(msg, DNSMSG_HDR_LEN + (size_t)n, &off, out, NULL, NULL, err) < 0)
		return -EINVAL;
	return 0;
}

int dnsmsg_pattern_match(const char *pattern, const char *name)
{
	size_t pl, nl;

	if (!strcmp(pattern, "*"))
		return 1;
	if (pattern[0] == '*' && pattern[1] == '.') {
		/*
		 * In the text form a '.' is always a label separator (a
		 * literal dot is written \046), so a match of ".suffix" at
		 * the end is a match at a label boundary.
		 */
		pl = strlen(pattern + 1);
		nl = strlen(name);
		return nl > pl && !strcasecmp(name + nl - pl, pattern + 1);
	}
	return !strcasecmp(pattern, name);
}

static const struct {
	uint16_t type;
	const char *name;
} dnsmsg_types[] = {
	{ DNSMSG_TYPE_A, "A" },         { DNSMSG_TYPE_NS, "NS" },
	{ DNSMSG_TYPE_CNAME, "CNAME" }, { DNSMSG_TYPE_SOA, "SOA" },
	{ DNSMSG_TYPE_PTR, "PTR" },     { DNSMSG_TYPE_MX, "MX" },
	{ DNSMSG_TYPE_TXT, "TXT" },     { DNSMSG_TYPE_AAAA, "AAAA" },
	{ DNSMSG_TYPE_SRV, "SRV" },     { DNSMSG_TYPE_OPT, "OPT" },
	{ DNSMSG_TYPE_SVCB, "SVCB" },   { DNSMSG_TYPE_HTTPS, "HTTPS" },
	{ DNSMSG_TYPE_ANY, "ANY" },
};

const char *dnsmsg_type_name(uint16_t type, char *out)
{
	size_t i;

	for (i = 0; i < sizeof(dnsmsg_types) / sizeof(dnsmsg_types[0]); i++)
		if (dnsmsg_types[i].type == type)
			return strcpy(out, dnsmsg_types[i].name);
	snprintf(out, 16, "TYPE%u", type);
	return out;
}

int dnsmsg_type_parse(const char *s, uint16_t *type)
{
	size_t i;

	for (i = 0; i < sizeof(dnsmsg_types) / sizeof(dnsmsg_types[0]); i++) {
		if (!strcasecmp(dnsmsg_types[i].name, s)) {
			*type = dnsmsg_types[i].type;
			return 0;
		}
	}
	if (!strncasecmp(s, "TYPE", 4) && s[4]) {
		unsigned long v = 0;
		const char *d;

		for (d = s + 4; *d; d++) {
			if (*d < '0' || *d > '9' || v > 65535)
				return -EINVAL;
			v = v * 10 + (unsigned long)(*d - '0');
		}
		if (v == 0 || v > 65535)
			return -EINVAL;
		*type = (uint16_t)v;
		return 0;
	}
	return -EINVAL;
}

const char *dnsmsg_rcode_name(unsigned rcode, char *out)
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					     "NOTIMP", "REFUSED" };

	if (rcode < sizeof(names) / sizeof(names[0]))
		return strcpy(out, names[rcode]);
	if (rcode == DNSMSG_RCODE_BADVERS)
		return strcpy(out, "BADVERS");
	snprintf(out, 16, "RCODE%u", rcode);
	return out;
}

/* Called for every record while walking the sections; may be NULL. */
typedef void (*dnsmsg_rr_fn)(void *arg, int section, const uint8_t *p, size_t len,
			     size_t owner_off, uint16_t type, uint32_t ttl, size_t rdata,
			     uint16_t rdlen);

static int dnsmsg_walk(const uint8_t *p, size_t len, struct dnsmsg *m, dnsmsg_rr_fn fn,
		       void *arg, struct err *err)
{
	char text[DNSMSG_TEXT_MAX];
	size_t off, need, total, i;
	int rc, sect;

	memset(m, 0, sizeof(*m));
	if (len < DNSMSG_HDR_LEN)
		return err_set(err, -EBADMSG, "message of %zu bytes is shorter than a header", len);
	if (len > DNSMSG_MSG_MAX)
		return err_set(err, -EBADMSG, "message of %zu bytes is too long", len);
	m->id = rd16(p);
	m->flags = rd16(p + 2);
	m->qdcount = rd16(p + 4);
	m->ancount = rd16(p + 6);
	m->nscount = rd16(p + 8);
	m->arcount = rd16(p + 10);
	if (m->qdcount > 1)
		return err_set(err, -EBADMSG, "%u questions (at most one is allowed)", m->qdcount);
	/* A question takes at least 5 bytes and a record at least 11. */
	total = (size_t)m->ancount + m->nscount + m->arcount;
	need = (size_t)m->qdcount * 5 + total * 11;
	if (need > len - DNSMSG_HDR_LEN)
		return err_set(err, -EBADMSG,
			       "section counts (%u/%u/%u/%u) need more than the %zu bytes present",
			       m->qdcount, m->ancount, m->nscount, m->arcount, len);
	off = DNSMSG_HDR_LEN;
	if (m->qdcount == 1) {
		rc = dnsmsg_name_read(p, len, &off, m->qname, m->qname_wire, &m->qname_wire_len,
				      err);
		if (rc < 0)
			return rc;
		if (len - off < 4)
			return err_set(err, -EBADMSG, "question is cut off at offset %zu", off);
		m->qtype = rd16(p + off);
		m->qclass = rd16(p + off + 2);
		off += 4;
	}
	m->question_end = off;
	for (i = 0; i < total; i++) {
		size_t owner = off;
		uint16_t type, rdlen;
		uint32_t ttl;

		sect = i < m->ancount ? 1 : i < (size_t)m->ancount + m->nscount ? 2 : 3;
		rc = dnsmsg_name_read(p, len, &off, text, NULL, NULL, err);
		if (rc < 0)
			return rc;
		if (len - off < 10)
			return err_set(err, -EBADMSG, "record at offset %zu is cut off", owner);
		type = rd16(p + off);
		ttl = rd32(p + off + 4);
		rdlen = rd16(p + off + 8);
		off += 10;
		if (len - off < rdlen)
			return err_set(err, -EBADMSG, "record data at offset %zu runs past the end", off);
		if (type == DNSMSG_TYPE_OPT) {
			if (sect != 3 || m->has_edns || text[0])
				return err_set(err, -EBADMSG,
					       "OPT record at offset %zu is misplaced or repeated", owner);
			m->has_edns = 1;
			m->edns_udp_size = rd16(p + off - 8);
			m->edns_ext_rcode = (uint8_t)(ttl >> 24);
			m->edns_version = (uint8_t)(ttl >> 16);
		}
		if (fn)
			fn(arg, sect, p, len, owner, type, ttl, off, rdlen);
		off += rdlen;
	}
	if (off != len)
		return err_set(err, -EBADMSG, "%zu bytes of junk after the last record", len - off);
	return 0;
}

int dnsmsg_parse(const uint8_t *p, size_t len, struct dnsmsg *m, struct err *err)
{
	return dnsmsg_walk(p, len, m, NULL, NULL, err);
}

int dnsmsg_parse_query(const uint8_t *p, size_t len, struct dnsmsg *m, struct err *err)
{
	int rc;

	if (len >= DNSMSG_HDR_LEN && (rd16(p + 2) & DNSMSG_F_QR)) {
		memset(m, 0, sizeof(*m));
		return err_set(err, -EPROTO, "message is a response (QR set), not a query");
	}
	rc = dnsmsg_walk(p, len, m, NULL, NULL, err);
	if (rc < 0)
		return rc;
	if (m->qdcount != 1)
		return err_set(err, -EBADMSG, "query without a question");
	return 0;
}

size_t dnsmsg_udp_limit(const struct dnsmsg *q)
{
	if (!q->has_edns || q->edns_udp_size <= DNSMSG_UDP_MIN)
		return DNSMSG_UDP_MIN;
	if (q->edns_udp_size >= DNSMSG_UDP_OURS)
		return DNSMSG_UDP_OURS;
	return q->edns_udp_size;
}

/* Append a record; returns the new length or 0 when it does not fit in limit. */
static size_t dnsmsg_put_rr(uint8_t *out, size_t pos, size_t limit, const uint8_t *owner,
			    size_t owner_len, uint16_t type, uint32_t ttl, const uint8_t *rdata,
			    size_t rdlen)
{
	if (pos > limit || limit - pos < owner_len + 10 + rdlen)
		return 0;
	memcpy(out + pos, owner, owner_len);
	pos += owner_len;
	wr16(out + pos, type);
	wr16(out + pos + 2, DNSMSG_CLASS_IN);
	wr32(out + pos + 4, ttl);
	wr16(out + pos + 8, (uint16_t)rdlen);
	pos += 10;
	memcpy(out + pos, rdata, rdlen);
	return pos + rdlen;
}

int dnsmsg_build(const struct dnsmsg *q, const struct dnsmsg_answer *a, uint8_t *out,
		 size_t cap, size_t limit)
{
	static const uint8_t qptr[2] = { 0xc0, DNSMSG_HDR_LEN };
	size_t pos, qend, opt_len = q->has_edns ? 11 : 0, rlimit, i;
	uint16_t flags, an = 0, ns = 0;
	int truncated = a->truncated;

	if (limit > cap)
		limit = cap;
	qend = DNSMSG_HDR_LEN + (q->qdcount ? q->qname_wire_len + 4 : 0);
	if (qend + opt_len > limit)
		return -ENOBUFS;
	rlimit = limit - opt_len;
	pos = qend;
	if (q->qdcount) {
		memcpy(out + DNSMSG_HDR_LEN, q->qname_wire, q->qname_wire_len);
		wr16(out + DNSMSG_HDR_LEN + q->qname_wire_len, q->qtype);
		wr16(out + DNSMSG_HDR_LEN + q->qname_wire_len + 2, q->qclass);
	}
	for (i = 0; !truncated && i < a->nrrs; i++) {
		const struct dnsmsg_rr *rr = &a->rrs[i];
		uint8_t owner[DNSMSG_WIRE_MAX], rdata[DNSMSG_WIRE_MAX];
		const uint8_t *op = qptr;
		size_t ol = 2, rl;
		int n;

		if (rr->owner || !q->qdcount) {
			n = dnsmsg_name_encode(rr->owner ? rr->owner : "", owner, sizeof(owner), NULL);
			if (n < 0)
				return -EINVAL;
			op = owner;
			ol = (size_t)n;
		}
		if (rr->type == DNSMSG_TYPE_A) {
			memcpy(rdata, rr->addr, 4);
			rl = 4;
		} else if (rr->type == DNSMSG_TYPE_AAAA) {
			memcpy(rdata, rr->addr, 16);
			rl = 16;
		} else if (rr->type == DNSMSG_TYPE_CNAME) {
			n = dnsmsg_name_encode(rr->target, rdata, sizeof(rdata), NULL);
			if (n < 0)
				return -EINVAL;
			rl = (size_t)n;
		} else {
			return -EINVAL;
		}
		pos = dnsmsg_put_rr(out, pos, rlimit, op, ol, rr->type, rr->ttl, rdata, rl);
		if (!pos)
			truncated = 1;
		else
			an++;
	}
	if (!truncated && a->soa_owner) {
		static const uint8_t mname[] = "\2ns\7doorjam\7invalid";
		static const uint8_t rname[] = "\12hostmaster\7doorjam\7invalid";
		uint8_t owner[DNSMSG_WIRE_MAX], rdata[sizeof(mname) + sizeof(rname) + 20];
		size_t rl = 0;
		int n = dnsmsg_name_encode(a->soa_owner, owner, sizeof(owner), NULL);

		if (n < 0)
			return -EINVAL;
		memcpy(rdata, mname, sizeof(mname));
		rl += sizeof(mname);
		memcpy(rdata + rl, rname, sizeof(rname));
		rl += sizeof(rname);
		wr32(rdata + rl, 1);            /* serial */
		wr32(rdata + rl + 4, 3600);     /* refresh */
		wr32(rdata + rl + 8, 600);      /* retry */
		wr32(rdata + rl + 12, 86400);   /* expire */
		wr32(rdata + rl + 16, a->soa_ttl);
		rl += 20;
		pos = dnsmsg_put_rr(out, pos, rlimit, owner, (size_t)n, DNSMSG_TYPE_SOA,
				    a->soa_ttl, rdata, rl);
		if (!pos)
			truncated = 1;
		else
			ns++;
	}
	if (truncated) {
		pos = qend;
		an = ns = 0;
	}
	flags = (uint16_t)(DNSMSG_F_QR | (q->flags & 0x7800u) | (q->flags & DNSMSG_F_RD) |
			   (a->rcode & 0xfu));
	if (a->authoritative)
		flags |= DNSMSG_F_AA;
	if (truncated)
		flags |= DNSMSG_F_TC;
	wr16(out, q->id);
	wr16(out + 2, flags);
	wr16(out + 4, q->qdcount ? 1 : 0);
	wr16(out + 6, an);
	wr16(out + 8, ns);
	wr16(out + 10, q->has_edns ? 1 : 0);
	if (q->has_edns) {
		out[pos] = 0;
		wr16(out + pos + 1, DNSMSG_TYPE_OPT);
		wr16(out + pos + 3, DNSMSG_UDP_OURS);
		wr32(out + pos + 5, (uint32_t)((a->rcode >> 4) & 0xffu) << 24);
		wr16(out + pos + 9, 0);
		pos += 11;
	}
	return (int)pos;
}

int dnsmsg_build_formerr(const uint8_t *p, size_t len, uint8_t *out, size_t cap)
{
	uint16_t flags;

	if (len < DNSMSG_HDR_LEN || cap < DNSMSG_HDR_LEN || (rd16(p + 2) & DNSMSG_F_QR))
		return -EINVAL;
	flags = (uint16_t)(DNSMSG_F_QR | (rd16(p + 2) & (0x7800u | DNSMSG_F_RD)) |
			   DNSMSG_RCODE_FORMERR);
	memset(out, 0, DNSMSG_HDR_LEN);
	memcpy(out, p, 2);
	wr16(out + 2, flags);
	return DNSMSG_HDR_LEN;
}

struct dnsmsg_sum {
	char *out;
	size_t outlen, used;
	int records;
	int full;
};

static void dnsmsg_sum_add(struct dnsmsg_sum *s, const char *text)
{
	size_t n = strlen(text);

	if (s->full)
		return;
	/* Keep room for " ..." so a cut summary says so. */
	if (s->used + n + 1 + 4 >= s->outlen) {
		s->full = 1;
		if (s->used + 5 <= s->outlen) {
			memcpy(s->out + s->used, " ...", 5);
			s->used += 4;
		}
		return;
	}
	s->out[s->used++] = ' ';
	memcpy(s->out + s->used, text, n + 1);
	s->used += n;
}

static void dnsmsg_sum_rr(void *arg, int section, const uint8_t *p, size_t len, size_t owner_off,
			  uint16_t type, uint32_t ttl, size_t rdata, uint16_t rdlen)
{
	struct dnsmsg_sum *s = arg;
	char text[DNSMSG_TEXT_MAX + 64], tn[16];
	char name[DNSMSG_TEXT_MAX];
	size_t off = rdata;

	(void)owner_off;
	(void)ttl;
	if (section != 1)
		return;
	s->records++;
	if (type == DNSMSG_TYPE_A && rdlen == 4) {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, p + rdata, a, sizeof(a));
		snprintf(text, sizeof(text), "A %s", a);
	} else if (type == DNSMSG_TYPE_AAAA && rdlen == 16) {
		char a[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, p + rdata, a, sizeof(a));
		snprintf(text, sizeof(text), "AAAA %s", a);
	} else if (type == DNSMSG_TYPE_CNAME &&
		   dnsmsg_name_read(p, len, &off, name, NULL, NULL, NULL) == 0) {
		snprintf(text, sizeof(text), "CNAME %s", name);
	} else {
		snprintf(text, sizeof(text), "%s", dnsmsg_type_name(type, tn));
	}
	dnsmsg_sum_add(s, text);
}

char *dnsmsg_summary(const uint8_t *p, size_t len, char *out, size_t outlen)
{
	struct dnsmsg_sum s = { out, outlen, 0, 0, 0 };
	struct dnsmsg m;
	char rc[16];

	if (outlen == 0)
		return out;
	out[0] = '\0';
	if (dnsmsg_walk(p, len, &m, NULL, NULL, NULL) < 0) {
		snprintf(out, outlen, "malformed");
		return out;
	}
	s.used = (size_t)snprintf(out, outlen, "%s",
				  dnsmsg_rcode_name(DNSMSG_RCODE(m.flags) |
						    ((unsigned)m.edns_ext_rcode << 4), rc));
	if (s.used >= outlen)
		s.used = outlen - 1;
	if (m.flags & DNSMSG_F_TC)
		dnsmsg_sum_add(&s, "TC");
	if (dnsmsg_walk(p, len, &m, dnsmsg_sum_rr, &s, NULL) < 0)
		return out;
	if (s.records == 0 && !(m.flags & DNSMSG_F_TC) && DNSMSG_RCODE(m.flags) == 0)
		dnsmsg_sum_add(&s, "(no records)");
	return out;
}
