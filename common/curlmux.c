/*
 * curlmux: a libcurl multi handle on the event loop. See curlmux.h.
 */
#include "common/curlmux.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

struct curlmux {
	struct loop *loop;
	CURLM *multi;
	struct loop_timer *timer;
	curlmux_done_fn done;
	void *arg;
};

/* Hand every finished transfer to the owner, after removing it. */
static void curlmux_collect(struct curlmux *m)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(m->multi, &left))) {
		CURL *easy = msg->easy_handle;
		CURLcode res = msg->data.result;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_multi_remove_handle(m->multi, easy);
		m->done(easy, res, m->arg);
	}
}

static void curlmux_fd(struct loop *l, int fd, unsigned events, void *arg)
{
	struct curlmux *m = arg;
	int flags = 0, running;

	(void)l;
	if (events & LOOP_READ)
		flags |= CURL_CSELECT_IN;
	if (events & LOOP_WRITE)
		flags |= CURL_CSELECT_OUT;
	if (events & LOOP_ERROR)
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(m->multi, fd, flags, &running);
	curlmux_collect(m);
}

static void curlmux_timeout(struct loop *l, void *arg)
{
	struct curlmux *m = arg;
	int running;

	(void)l;
	m->timer = NULL;
	curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	curlmux_collect(m);
}

static int curlmux_socket_cb(CURL *e, curl_socket_t s, int what, void *userp, void *sockp)
{
	struct curlmux *m = userp;
	unsigned ev = 0;

	(void)e;
	(void)sockp;
	if (what == CURL_POLL_REMOVE) {
		loop_fd_del(m->loop, s);
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev |= LOOP_READ;
	if (what & CURL_POLL_OUT)
		ev |= LOOP_WRITE;
	return loop_fd_add(m->loop, s, ev, curlmux_fd, m, NULL) ? -1 : 0;
}

static int curlmux_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct curlmux *m = userp;

	(void)multi;
	if (m->timer) {
		loop_timer_cancel(m->loop, m->timer);
		m->timer = NULL;
	}
	if (timeout_ms >= 0) {
		m->timer = loop_timer_add(m->loop, (uint64_t)timeout_ms * 1000u, curlmux_timeout, m);
		if (!m->timer)
			return -1;
	}
	return 0;
}

struct curlmux *curlmux_new(struct loop *l, curlmux_done_fn done, void *arg, struct err *err)
{
	struct curlmux *m = calloc(1, sizeof(*m));

	if (!m) {
		err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	m->loop = l;
	m->done = done;
	m->arg = arg;
	m->multi = curl_multi_init();
	if (!m->multi) {
		err_set(err, -ENOMEM, "curl_multi_init failed");
		free(m);
		return NULL;
	}
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, curlmux_socket_cb);
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, curlmux_timer_cb);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
	return m;
}

CURLM *curlmux_multi(const struct curlmux *m)
{
	return m->multi;
}

void curlmux_free(struct curlmux *m)
{
	if (!m)
		return;
	/* the multi handle first: its cleanup may still call the timer callback */
	curl_multi_cleanup(m->multi);
	if (m->timer)
		loop_timer_cancel(m->loop, m->timer);
	free(m);
}
