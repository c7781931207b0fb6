/*
 * curlmux: a libcurl multi handle driven by doorjam's event loop.
 *
 * libcurl runs in socket-action mode: its socket callback becomes loop fd
 * watches and its timer callback one loop timer, so transfers never block
 * the loop and never need a thread. After every curl_multi_socket_action
 * call, outside curl's own callbacks, finished transfers are collected: each
 * easy handle is removed from the multi handle and handed to the owner's done
 * callback, which may free it, start new transfers or free other easy
 * handles of this multi. The flow driver and the RPC proxy's libcurl leg
 * both use it.
 */
#ifndef DOORJAM_CURLMUX_H
#define DOORJAM_CURLMUX_H

#include <curl/curl.h>

#include "common/err.h"
#include "common/loop.h"

struct curlmux;

/* A finished transfer: easy is already out of the multi handle. */
typedef void (*curlmux_done_fn)(CURL *easy, CURLcode result, void *arg);

/*
 * A multi handle bound to loop l; done gets every finished transfer. Returns
 * NULL with err set. The loop must outlive it.
 */
struct curlmux *curlmux_new(struct loop *l, curlmux_done_fn done, void *arg, struct err *err);

/* The multi handle, for curl_multi_add_handle/remove_handle and options. */
CURLM *curlmux_multi(const struct curlmux *m);

/*
 * Cancel the timer and free the multi handle. Easy handles still added must
 * have been removed (or their owners freed them) before. Accepts NULL.
 */
void curlmux_free(struct curlmux *m);

#endif
