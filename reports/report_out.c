/*
 * report_out: UTF-8 decoding, fixed-point numbers, UTC times and atomic
 * report files for the report writers. See report_out.h.
 */
#include "reports/report_out.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

size_t report_out_utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c, min;
	size_t len, i;

	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xE0) == 0xC0) {
		len = 2, min = 0x80, c &= 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		len = 3, min = 0x800, c &= 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		len = 4, min = 0x10000, c &= 0x07;
	} else {
		goto bad;
	}
	if (n < len)
		goto bad;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			goto bad;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		goto bad;
	*cp = c;
	return len;
bad:
	*cp = REPORT_OUT_REPLACEMENT;
	return 1;
}

void report_out_put_cp(FILE *out, uint32_t cp)
{
	if (cp < 0x80) {
		fputc((int)cp, out);
	} else if (cp < 0x800) {
		fputc((int)(0xC0 | (cp >> 6)), out);
		fputc((int)(0x80 | (cp & 0x3F)), out);
	} else if (cp < 0x10000) {
		fputc((int)(0xE0 | (cp >> 12)), out);
		fputc((int)(0x80 | ((cp >> 6) & 0x3F)), out);
		fputc((int)(0x80 | (cp & 0x3F)), out);
	} else {
		fputc((int)(0xF0 | (cp >> 18)), out);
		fputc((int)(0x80 | ((cp >> 12) & 0x3F)), out);
		fputc((int)(0x80 | ((cp >> 6) & 0x3F)), out);
		fputc((int)(0x80 | (cp & 0x3F)), out);
	}
}

size_t report_out_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), w = 0;
	uint32_t cp;

	while (n) {
		size_t k = report_out_utf8(p, n, &cp);

		p += k;
		n -= k;
		w++;
	}
	return w;
}

void report_out_ms3(char *buf, uint64_t us)
{
	snprintf(buf, REPORT_OUT_NUM, "%llu.%03llu", (unsigned long long)(us / 1000),
		 (unsigned long long)(us % 1000));
}

void report_out_s3(char *buf, uint64_t ms)
{
	report_out_ms3(buf, ms);
}

void report_out_time(char *buf, uint64_t unix_ms, enum report_out_time how)
{
	time_t t = (time_t)(unix_ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, REPORT_OUT_NUM, "1970-01-01T00:00:00%s",
			 how == REPORT_OUT_RFC3339 ? ".000Z" : "");
		return;
	}
	if (strftime(buf, REPORT_OUT_NUM, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		buf[0] = '\0';
	if (how == REPORT_OUT_RFC3339) {
		size_t len = strlen(buf);

		snprintf(buf + len, REPORT_OUT_NUM - len, ".%03uZ", (unsigned)(unix_ms % 1000));
	}
}

int report_out_file(const char *path, report_out_fn fn, const void *ctx, struct err *err)
{
	char *tmp = NULL;
	FILE *out = NULL;
	int fd = -1, rc;

	if (strcmp(path, "-") == 0) {
		rc = fn(ctx, stdout, err);
		if (rc)
			return rc;
		if (fflush(stdout) != 0 || ferror(stdout))
			return err_errno(err, errno ? errno : EIO, "stdout");
		return 0;
	}
	if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		tmp = NULL;
		rc = err_set(err, -ENOMEM, "%s: out of memory", path);
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = err_errno(err, errno, "%s", tmp);
		goto out;
	}
	out = fdopen(fd, "w");
	if (!out) {
		rc = err_errno(err, errno, "%s", tmp);
		goto out;
	}
	fd = -1;
	rc = fn(ctx, out, err);
	if (rc)
		goto out;
	if (fflush(out) != 0 || ferror(out) || fsync(fileno(out)) != 0) {
		rc = err_errno(err, errno ? errno : EIO, "%s", path);
		goto out;
	}
	rc = fclose(out);
	out = NULL;
	if (rc != 0) {
		rc = err_errno(err, errno, "%s", path);
		goto out;
	}
	if (rename(tmp, path) != 0) {
		rc = err_errno(err, errno, "%s", path);
		goto out;
	}
	free(tmp);
	return 0;
out:
	if (out)
		fclose(out);
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	return rc;
}
