/*
 * rpcpreset: provider failure shapes. See rpcpreset.h.
 *
 * The shapes follow the providers' own error documentation and public
 * reports of their outages (collected in docs/rpc.md). Gateway pages are
 * short HTML documents of the kind a CDN or load balancer serves; what
 * matters to a client is the status, the content type and that the body is
 * not JSON.
 */
#include "injector/rpcpreset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define RPC_PRESET_JSON "Content-Type: application/json\r\n"
#define RPC_PRESET_HTML "Content-Type: text/html; charset=UTF-8\r\n"
#define RPC_PRESET_TEXT "Content-Type: text/plain; charset=utf-8\r\n"

static const struct rpc_preset rpc_presets[] = {
	{ "infura-rate-limit", "Infura: HTTP 429, -32005 daily request count exceeded",
	  429, RPC_PRESET_JSON, NULL,
	  "{\"code\":-32005,\"message\":\"daily request count exceeded, request rate limited\","
	  "\"data\":{\"rate\":{\"allowed_rps\":1,\"backoff_seconds\":30,\"current_rps\":1.27},"
	  "\"see\":\"https://infura.io/dashboard\"}}" },
	{ "infura-project-rate", "Infura: HTTP 429, -32005 project ID request rate exceeded",
	  429, RPC_PRESET_JSON, NULL,
	  "{\"code\":-32005,\"message\":\"project ID request rate exceeded\","
	  "\"data\":{\"see\":\"https://infura.io/dashboard\"}}" },
	{ "infura-auth", "Infura: HTTP 401 text/plain invalid project id",
	  401, RPC_PRESET_TEXT "www-authenticate: Basic realm=\"Auth failure, invalid project id\"\r\n",
	  "invalid project id\n", NULL },
	{ "infura-project-required", "Infura: HTTP 403, -32600 project ID is required",
	  403, RPC_PRESET_JSON, NULL,
	  "{\"code\":-32600,\"message\":\"project ID is required\"}" },
	{ "infura-rejected", "Infura: -32002 rejected due to project ID settings",
	  200, RPC_PRESET_JSON, NULL,
	  "{\"code\":-32002,\"message\":\"rejected due to project ID settings\"}" },
	{ "alchemy-429", "Alchemy: HTTP 429, code 429 compute units per second exceeded",
	  429, RPC_PRESET_JSON, NULL,
	  "{\"code\":429,\"message\":\"Your app has exceeded its compute units per second "
	  "capacity. If you have retries enabled, you can safely ignore this message. If not, "
	  "check out https://docs.alchemy.com/reference/throughput\"}" },
	{ "alchemy-batch-429", "Alchemy: the same throughput error inside an HTTP 200",
	  200, RPC_PRESET_JSON, NULL,
	  "{\"code\":429,\"message\":\"Your app has exceeded its compute units per second "
	  "capacity. If you have retries enabled, you can safely ignore this message. If not, "
	  "check out https://docs.alchemy.com/reference/throughput\"}" },
	{ "alchemy-monthly", "Alchemy: HTTP 403, -32600 monthly capacity limit exceeded",
	  403, RPC_PRESET_JSON, NULL,
	  "{\"code\":-32600,\"message\":\"Monthly capacity limit exceeded. Visit "
	  "https://dashboard.alchemy.com/settings/billing to upgrade your scaling policy for "
	  "continued service.\"}" },
	{ "quicknode-limit", "QuickNode: HTTP 429, -32007 request limit reached",
	  429, RPC_PRESET_JSON, NULL,
	  "{\"code\":-32007,\"message\":\"15/second request limit reached - reduce calls per "
	  "second or upgrade your account at quicknode.com\"}" },
	{ "ankr-unauthorized", "Ankr: -32000 Unauthorized, with id null",
	  200, RPC_PRESET_JSON,
	  "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32000,\"message\":\"Unauthorized: You must "
	  "authenticate your request with an API key. Create an account on "
	  "https://www.ankr.com/rpc/ and generate your personal API key for free.\"},\"id\":null}",
	  NULL },
	{ "header-not-found", "lagging node: -32000 header not found",
	  200, RPC_PRESET_JSON, NULL, "{\"code\":-32000,\"message\":\"header not found\"}" },
	{ "missing-trie-node", "pruned state: -32000 missing trie node",
	  200, RPC_PRESET_JSON, NULL,
	  "{\"code\":-32000,\"message\":\"missing trie node "
	  "8a1d4c0c2e3a8b7f6f9d5f0e1c2b3a4d5e6f708192a3b4c5d6e7f8091a2b3c4d (path )\"}" },
	{ "execution-reverted", "revert: code 3 execution reverted with Error(string) data",
	  200, RPC_PRESET_JSON, NULL,
	  "{\"code\":3,\"message\":\"execution reverted: insufficient balance\",\"data\":"
	  "\"0x08c379a00000000000000000000000000000000000000000000000000000000000000020"
	  "0000000000000000000000000000000000000000000000000000000000000014"
	  "696e73756666696369656e742062616c616e6365000000000000000000000000\"}" },
	{ "nonce-too-low", "send: -32000 nonce too low",
	  200, RPC_PRESET_JSON, NULL, "{\"code\":-32000,\"message\":\"nonce too low\"}" },
	{ "already-known", "send: -32000 already known",
	  200, RPC_PRESET_JSON, NULL, "{\"code\":-32000,\"message\":\"already known\"}" },
	{ "underpriced", "send: -32000 replacement transaction underpriced",
	  200, RPC_PRESET_JSON, NULL,
	  "{\"code\":-32000,\"message\":\"replacement transaction underpriced\"}" },
	{ "insufficient-funds", "send: -32000 insufficient funds for gas * price + value",
	  200, RPC_PRESET_JSON, NULL,
	  "{\"code\":-32000,\"message\":\"insufficient funds for gas * price + value\"}" },
	{ "cloudflare-502", "CDN: HTTP 502 with an HTML error page",
	  502, RPC_PRESET_HTML,
	  "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body>\n"
	  "<h1>Error 502: Bad gateway</h1>\n<p>The web server reported a bad gateway error.</p>\n"
	  "<p>Ray ID: 7d1e2f3a4b5c6d7e &bull; cloudflare</p>\n</body></html>\n", NULL },
	{ "cloudflare-1015", "CDN: HTTP 429 with body \"error code: 1015\"",
	  429, RPC_PRESET_TEXT, "error code: 1015", NULL },
	{ "cloudflare-522", "CDN: HTTP 522 connection timed out page",
	  522, RPC_PRESET_HTML,
	  "<!DOCTYPE html>\n<html><head><title>522 Connection timed out</title></head>\n"
	  "<body><h1>Error 522: Connection timed out</h1></body></html>\n", NULL },
	{ "gateway-502", "load balancer: HTTP 502 HTML page",
	  502, RPC_PRESET_HTML,
	  "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n"
	  "<center><h1>502 Bad Gateway</h1></center>\n</body>\n</html>\n", NULL },
	{ "gateway-503", "load balancer: HTTP 503 HTML page",
	  503, RPC_PRESET_HTML,
	  "<html>\n<head><title>503 Service Temporarily Unavailable</title></head>\n<body>\n"
	  "<center><h1>503 Service Temporarily Unavailable</h1></center>\n</body>\n</html>\n",
	  NULL },
	{ "gateway-504", "load balancer: HTTP 504 HTML page",
	  504, RPC_PRESET_HTML,
	  "<html>\n<head><title>504 Gateway Time-out</title></head>\n<body>\n"
	  "<center><h1>504 Gateway Time-out</h1></center>\n</body>\n</html>\n", NULL },
	{ "html-200", "captive portal or misrouted request: an HTML page with HTTP 200",
	  200, RPC_PRESET_HTML,
	  "<!DOCTYPE html>\n<html><head><title>Maintenance</title></head>\n"
	  "<body><h1>We'll be back soon</h1></body></html>\n", NULL },
	{ "empty-body", "HTTP 200 with an empty body",
	  200, RPC_PRESET_JSON, "", NULL },
	{ "truncated-json", "HTTP 200 with JSON cut mid-value",
	  200, RPC_PRESET_JSON, "{\"jsonrpc\":\"2.0\",\"id\":1,\"resu", NULL },
	{ "batch-too-large", "over-size batch: a single error object with id null",
	  200, RPC_PRESET_JSON,
	  "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
	  "\"message\":\"batch size too large\"}}", NULL },
	{ "batch-empty", "batch answered with an empty array",
	  200, RPC_PRESET_JSON, "[]", NULL },
	{ "payload-too-large", "HTTP 413 for a large batch",
	  413, RPC_PRESET_TEXT, "request entity too large\n", NULL },
};

const struct rpc_preset *rpc_preset_at(size_t i)
{
	if (i >= sizeof(rpc_presets) / sizeof(rpc_presets[0]))
		return NULL;
	return &rpc_presets[i];
}

const struct rpc_preset *rpc_preset_find(const char *name)
{
	const struct rpc_preset *ps;
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; (ps = rpc_preset_at(i)); i++)
		if (strcmp(ps->name, name) == 0)
			return ps;
	return NULL;
}

int rpc_preset_response(const struct rpc_preset *ps, struct rpc_response *out, struct err *err)
{
	json_error_t jerr;

	memset(out, 0, sizeof(*out));
	out->status = ps->status;
	if (ps->headers && !(out->headers = strdup(ps->headers)))
		goto nomem;
	if (ps->body) {
		out->body_len = strlen(ps->body);
		if (!(out->body = strdup(ps->body)))
			goto nomem;
	}
	if (ps->error) {
		out->error = json_loads(ps->error, 0, &jerr);
		if (!out->error) {
			/* the table is static: this is a bug, reported rather than hidden */
			free(out->headers);
			free(out->body);
			memset(out, 0, sizeof(*out));
			return err_set(err, -EINVAL, "preset %s: bad error JSON: %s", ps->name,
				       jerr.text);
		}
	}
	return 0;
nomem:
	free(out->headers);
	free(out->body);
	memset(out, 0, sizeof(*out));
	return err_set(err, -ENOMEM, "out of memory");
}
