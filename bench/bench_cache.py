"""bench_cache.py - the `cache` scenario of bench.py (BENCH_SCENARIOS=cache).

What a cache hit costs: every request of a case is a hit once the first
one filled the cache (wrk on one URL, keep-alive), against

  gatehouse        plain proxying of the same URL (no cache): the cost a
                   hit is compared with (the issue's target: a hit at most
                   half the CPU of a proxied request)
  gatehouse-cache  `cache bench { size 256m }` + `use_cache bench`
  nginx            nginx as a plain reverse proxy (the h1 config)
  nginx-cache      nginx proxy_cache (keys_zone 10m, max_size 256m, on a
                   tmpfs-or-not temp dir: hits are served from the page
                   cache with sendfile)
  varnish          varnishd -b origin -s malloc,256m, the default VCL
  gatehouse-cache-base
                   gatehouse-cache run by another build (BENCH_BASE_BIN,
                   e.g. main's): not in the default list; name it in
                   BENCH_CACHE_PROXIES to compare two builds' hits in one
                   interleaved run

Same layout as h1: every proxy on CPU 0 (varnishd's worker threads too,
through taskset), the origin and wrk on CPU 1.  The origin is the h1 nginx
origin with one more server block that serves the same files with
`expires 1h` (Cache-Control: max-age=3600), so every cache may store them.
Stdlib only.
"""
import os

PROXIES = os.environ.get("BENCH_CACHE_PROXIES",
                         "gatehouse gatehouse-cache nginx nginx-cache varnish").split()
REF = "gatehouse"                 # ratios in the table are to this row
PORT_OFFSET = 51                  # proxies on PORT_BASE + 51 + i
ORIGIN_OFFSET = 42                # the cacheable origin server


def origin_server(port, www):
    return """\
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        root {www};
        expires 1h;
    }}
""".format(port=port, www=www)


CASES = [("hit-small", "/small", [], "keep-alive, 64 B body, every request a hit"),
         ("hit-16k", "/16k", [], "keep-alive, 16 KiB body, every request a hit")]

CACHE_SECTION = """\
cache bench {
    size 256m
    max_object 1m
}
"""


def variants(name, tmp, port, origin, gatehouse_bin, gatehouse_conf, nginx_proxy_conf):
    """[(argv, config-check argv, config path)] like bench.proxy_variants."""
    def gh(suffix, be_extra="", sections=""):
        plain = open(gatehouse_conf(tmp, port, origin, name="gatehouse-cache-base.conf")).read()
        text = sections + plain.replace("    timeout server 60s\n",
                                        "    timeout server 60s\n" + be_extra)
        conf = os.path.join(tmp, "gatehouse-%s.conf" % suffix)
        with open(conf, "w") as f:
            f.write(text)
        return [([gatehouse_bin, "-c", conf], [gatehouse_bin, "-t", "-c", conf], conf)]
    if name == "gatehouse":
        return gh("nocache")
    if name == "gatehouse-cache":
        return gh("cache", "    use_cache bench\n", CACHE_SECTION)
    if name == "gatehouse-cache-base":
        base_bin = os.environ.get("BENCH_BASE_BIN", "")
        if not base_bin:
            raise SystemExit("bench: gatehouse-cache-base needs BENCH_BASE_BIN")
        return [([base_bin] + argv[1:], [base_bin] + check[1:], conf)
                for argv, check, conf in gh("cache-base", "    use_cache bench\n",
                                            CACHE_SECTION)]
    if name in ("nginx", "nginx-cache"):
        text = open(nginx_proxy_conf(tmp, port, origin)).read()
        text = text.replace(os.path.join(tmp, "nginx-proxy"), os.path.join(tmp, name + "-c"))
        if name == "nginx-cache":
            text = text.replace(
                "    upstream origin {",
                "    proxy_cache_path %s/ncache levels=1:2 keys_zone=bench:10m max_size=256m "
                "inactive=1h use_temp_path=off;\n    upstream origin {" % tmp).replace(
                "            proxy_pass http://origin;",
                "            proxy_cache bench;\n            proxy_pass http://origin;")
        conf = os.path.join(tmp, "%s-cachebench.conf" % name)
        with open(conf, "w") as f:
            f.write(text)
        base = ["nginx", "-p", tmp, "-e", os.path.join(tmp, "%s-cache-error.log" % name),
                "-c", conf]
        return [(base, base + ["-t", "-q"], conf)]
    if name == "varnish":
        work = os.path.join(tmp, "varnish")
        os.makedirs(work, exist_ok=True)
        argv = ["varnishd", "-F", "-n", work, "-a", "127.0.0.1:%d" % port,
                "-b", "127.0.0.1:%d" % origin, "-s", "malloc,256m",
                "-p", "thread_pools=1", "-p", "thread_pool_min=8"]
        check = ["varnishd", "-C", "-n", work, "-b", "127.0.0.1:%d" % origin]
        return [(argv, check, work)]
    raise SystemExit("bench: unknown proxy %s (BENCH_CACHE_PROXIES)" % name)
