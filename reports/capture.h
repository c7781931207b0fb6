/*
 * capture: packet captures of a run (--pcap) and the evidence counted from
 * them.
 *
 * A capture point is one interface inside one network namespace. Its libpcap
 * handle is activated by a short-lived thread inside that namespace (a pcap
 * handle, like a socket, belongs to the namespace it was opened in), then
 * read on the event loop through its selectable fd in non-blocking mode with
 * pcap_dispatch, so a quiet link never blocks the loop. Every packet goes to
 * one pcap file per point, with nanosecond timestamps, full packets up to
 * CAPTURE_SNAPLEN bytes, and at most a size cap per file.
 *
 * When the run is over, capture_finish() closes the files and reads them back
 * to count the evidence for each fault during the fault's window: packets
 * toward its prefixes and how many got past it, TCP connection attempts and
 * SYN retransmits per destination, DNS queries for its names and the answers'
 * RCODEs. Counting walks the headers itself (Ethernet, VLAN, Linux cooked,
 * raw IP; IPv4, IPv6 with extension headers, TCP, UDP, ICMP, ICMPv6), never
 * past a packet's captured length, and fails closed: a packet whose headers
 * do not add up is counted as undecoded and in no evidence. DNS payloads go
 * through common/dnsmsg's parser. docs/report-format.md states the rules
 * for users.
 *
 * Each point has a role that says which counters it feeds, so that a packet
 * seen at two points is not counted twice:
 *  - CAPTURE_NEAR: the client side (a flow's vantage point): packets toward
 *    a faulted prefix, replies, ICMP unreachable, TCP connection attempts;
 *  - CAPTURE_FAR: past the fault (the lab core's links toward the faulted
 *    region's hosts): packets toward a faulted prefix that got through;
 *  - CAPTURE_DNS: the DNS server's link: queries and answers.
 * Near points should lie on disjoint paths (one per client host); two near
 * points on the same path count the same packet twice.
 *
 * This module never changes the network; it only reads. It knows nothing
 * about scenarios: the runner says which prefixes and names each fault
 * concerns.
 */
#ifndef DOORJAM_CAPTURE_H
#define DOORJAM_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct loop;
struct run_result;
struct capture;

enum capture_role {
	CAPTURE_NEAR = 0,
	CAPTURE_FAR = 1,
	CAPTURE_DNS = 2,
};

#define CAPTURE_SNAPLEN        65535u
#define CAPTURE_FILE_MAX       (256ull << 20)   /* bytes per pcap file */
#define CAPTURE_MAX_POINTS     64u
#define CAPTURE_MAX_FAULTS     256u
#define CAPTURE_MAX_PREFIXES   64u    /* per fault */
#define CAPTURE_MAX_NAMES      64u    /* per fault */
#define CAPTURE_MAX_DESTS      64u    /* connect rows per fault; more are in the prefix rows */
#define CAPTURE_SYN_TRACK      (1u << 16)  /* SYNs remembered per file to spot retransmits */

/*
 * A capture set on loop (NULL: only files added with capture_add_file are
 * counted, as in tests). The time origin starts as "now"; see
 * capture_set_origin. NULL with err set when out of memory. Free with
 * capture_free.
 */
struct capture *capture_new(struct loop *loop, struct err *err);

/* Stop every live point and free everything; files stay on disk. Accepts NULL. */
void capture_free(struct capture *c);

/*
 * Start capturing on interface ifname inside namespace nsfd (NETNS_SELF:
 * doorjam's own), writing to a new file at path (replaced if it exists).
 * label names the point in reports ("client eth0"). The copies of label and
 * path are the capture's. Returns 0 or a negative code with err set (no
 * such interface, no privilege, file not writable, no loop).
 */
int capture_add_point(struct capture *c, int nsfd, const char *ifname, const char *label,
		      enum capture_role role, const char *path, struct err *err)
	__attribute__((warn_unused_result));

/*
 * Count an existing pcap file as a point (tests; re-counting a run's files).
 * The file is only opened by capture_finish. Returns 0 or a negative code.
 */
int capture_add_file(struct capture *c, const char *path, const char *label,
		     enum capture_role role, struct err *err)
	__attribute__((warn_unused_result));

/*
 * Say which packets concern fault number `fault` (its index in the run
 * result's faults): destination prefixes ("10.77.2.0/24", "fd77:2::/64", a
 * bare address means /32 or /128) and DNS name patterns (as
 * dnsmsg_pattern_match takes them). Either list may be empty. Call once
 * per fault. Returns 0 or -EINVAL with err naming the bad prefix or name.
 */
int capture_add_fault(struct capture *c, size_t fault, const char *const *prefixes,
		      size_t nprefixes, const char *const *names, size_t nnames,
		      struct err *err) __attribute__((warn_unused_result));

/*
 * DNS traffic is UDP or TCP to or from port 53; add another server port
 * (a scenario's own DNS server outside a lab). Returns 0 or -ENOBUFS.
 */
int capture_add_dns_port(struct capture *c, uint16_t port) __attribute__((warn_unused_result));

/*
 * The run's time zero, as a loop_now_us() value: fault windows in the run
 * result count milliseconds from it. Packet timestamps are wall-clock, so
 * the origin is converted to wall-clock time when this is called.
 */
void capture_set_origin(struct capture *c, uint64_t mono_us);

/* The same origin given directly as wall-clock nanoseconds (tests). */
void capture_set_origin_ns(struct capture *c, uint64_t unix_ns);

/* The wall-clock origin in nanoseconds (for tools that re-count with others). */
uint64_t capture_origin_ns(const struct capture *c);

/*
 * Stop the live points (reading what is still buffered), close their
 * files, then count the evidence of every fault added with
 * capture_add_fault, during its window as recorded in r->faults[] (faults
 * never applied get none; a fault never lifted counts to the end of the
 * capture). Adds one result_add_capture per point and the evidence with
 * result_add_evidence. A point that failed is reported in its capture's
 * error and does not stop the others. Call once, after the faults were
 * lifted and before the namespaces go. Returns 0, or a negative code with
 * err set when the result could not take the evidence (out of memory).
 */
int capture_finish(struct capture *c, struct run_result *r, struct err *err)
	__attribute__((warn_unused_result));

/*
 * Walk one frame the way counting does, for tests and fuzzing: link layer
 * linktype (a DLT_ value), then IP and transport headers, then the DNS
 * message when the packet is UDP or TCP to or from port 53. Reads only
 * frame[0..caplen). Returns 1 for an IP packet that would be counted, 0 for
 * a frame that is not IP, -1 for one that would be counted as undecoded.
 */
int capture_frame_check(int linktype, const uint8_t *frame, size_t caplen);

#endif
