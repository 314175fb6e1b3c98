/*
 * dashboard.c - GET / on the admin listener: the live dashboard, one
 * static page (dashboard.html: HTML, CSS and JavaScript, no framework, no
 * CDN) that polls /api/backends every second and draws what it reads.
 *
 * The page is in the binary, put there by the assembler's .incbin at build
 * time: nothing to install, nothing read at run time, no generator to
 * run.  The path is relative to the directory the compiler runs in, the
 * repository's root for the Makefile and scripts/fuzz.sh alike; the
 * Makefile rebuilds this object when the page changes.
 */
#include <string.h>
#include "admin/admin_http.h"

__asm__(".section .rodata\n"
	"gh_dashboard_html:\n"
	".incbin \"src/admin/dashboard.html\"\n"
	"gh_dashboard_html_end:\n"
	".byte 0\n"
	".previous\n");

extern const char gh_dashboard_html[] __attribute__((visibility("hidden")));
extern const char gh_dashboard_html_end[] __attribute__((visibility("hidden")));

static bool is_page(const char *path, size_t len)
{
	return (len == 1 && path[0] == '/') || (len == 11 && !memcmp(path, "/index.html", 11));
}

bool admin_public(const char *method, const char *target)
{
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return false;
	return is_page(target, strcspn(target, "?"));
}

bool admin_dashboard(const struct admin_req *rq, struct admin_resp *rs, struct cfg *c)
{
	static const char not_allowed[] = "{\"error\":\"method not allowed on /; allowed: GET\"}";

	(void)c;
	if (!is_page(rq->path, strlen(rq->path)))
		return false;
	if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
		rs->status = 405;
		rs->ctype = "application/json";
		rs->body = (char *)not_allowed;
		rs->len = sizeof(not_allowed) - 1;
		rs->body_static = true;
		return true;
	}
	rs->status = 200;
	rs->ctype = "text/html; charset=utf-8";
	rs->body = (char *)gh_dashboard_html;
	rs->len = (size_t)(gh_dashboard_html_end - gh_dashboard_html);
	rs->body_static = true;
	return true;
}
