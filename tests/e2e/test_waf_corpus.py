"""The WAF corpus (tests/waf/corpus/) through gatehouse's WAF at paranoia 1
(issue 10).

What is asserted, against the nginx + ModSecurity + CRS 3.3.4 figures in
tests/waf/results/nginx-pl1.json (tests/waf/run-nginx.sh):
  * detection (attacks refused: 403 from the WAF, or the HTTP parser's 400)
    at least nginx's PL1 detection minus DETECTION_MARGIN;
  * false positives (benign requests refused) at most MAX_FP: the issue's
    2%, which gatehouse's default exclusions (waf/crs_defaults.c) reach
    (1.8%, 5 of 278; nginx + CRS PL1 refuses 14.4%: see
    tests/waf/default-exclusions.md); the 5 left all post code on purpose;
  * the same on the held-out set (tests/waf/holdout, written before the
    free-text defaults D8-D11 were designed): detection at least nginx + CRS
    PL1's on it (tests/waf/results/holdout-nginx-pl1.json), false positives
    at most HOLDOUT_MAX_FP;
  * the pre-filter changes no verdict: `prefilter on` and `prefilter off`
    refuse exactly the same requests.
A failure prints the evaluator's table with every miss and false positive
and the rule ids gatehouse logged.
"""

import json
import os
import subprocess
import sys

import pytest

import ghutil

WAF_DIR = os.path.join(ghutil.REPO, "tests", "waf")
sys.path.insert(0, WAF_DIR)
import corpus  # noqa: E402
import eval as waf_eval  # noqa: E402  (tests/waf/eval.py)


DETECTION_MARGIN = 0.02     # gatehouse runs the same CRS; allow a few requests of difference
MAX_FP = 0.02               # measured 1.8% with the default exclusions (issue 10 asks 2%)
HOLDOUT_MAX_FP = 0.05       # measured 4.8% (3/62: two snippet-store `code` fields, a `headline`)
MIN_DETECTION = 0.90        # measured 90.5% with gatehouse's Log4j and prototype-pollution rules,
                            # 90.8% with `strict on` (waf/strict.h; the same 20 benign refused)

pytestmark = [
    pytest.mark.skipif(ghutil.IMPL == "haproxy", reason="the WAF is gatehouse's own"),
]


def nginx_pl1():
    with open(os.path.join(WAF_DIR, "results", "nginx-pl1.json")) as f:
        return json.load(f)


_runs = {}


def run_corpus(tmp_path_factory, prefilter, root=corpus.CORPUS):
    """The whole corpus through gatehouse (PL1, mode block) in front of the
    evaluator's answer-everything origin, one request at a time so each
    block is matched to its log line; cached per prefilter setting."""
    if (prefilter, root) in _runs:
        return _runs[(prefilter, root)]
    binary = ghutil.gatehouse_bin()
    tmp = str(tmp_path_factory.mktemp("waf-corpus"))
    origin = waf_eval.Origin()
    try:
        port = ghutil.free_port()
        conf = os.path.join(tmp, "waf.conf")
        with open(conf, "w") as f:
            f.write(waf_eval.gatehouse_waf_conf(port, origin.port, 1, prefilter, "block"))
        # the configuration check first: before the WAF is merged this is
        # where it fails (an AssertionError, the expected failure)
        r = subprocess.run([binary, "-t", "-c", conf], capture_output=True, text=True,
                           timeout=120 * ghutil.SLACK)
        assert r.returncode == 0, "gatehouse -t rejects the WAF config:\n%s%s" % (
            r.stdout, r.stderr)
        target = waf_eval.GatehouseTarget("gatehouse-pl1" + ("" if prefilter else "-nopf"),
                                          binary, 1, prefilter, "block", origin.port, tmp,
                                          start_timeout=60 * ghutil.SLACK)
        try:
            results = []
            for e in corpus.load(root):
                res = waf_eval.send(target.port, e, {403}, 10.0 * ghutil.SLACK)
                target.after_request(res)
                res["note"] = e.get("note", "")
                results.append(res)
            assert target.proc.poll() is None, "gatehouse exited during the corpus run:\n%s" % (
                waf_eval.tail(target.stderr))
        finally:
            target.stop()
        s = waf_eval.summarize(results, target.name)
        s["results"] = results
        _runs[(prefilter, root)] = s
        return s
    finally:
        origin.shutdown()


def test_detection_at_least_crs_pl1(tmp_path_factory):
    s = run_corpus(tmp_path_factory, True)
    floor = max(nginx_pl1()["attacks"]["rate"] - DETECTION_MARGIN, MIN_DETECTION)
    assert s["attacks"]["rate"] >= floor, (
        "detection %.1f%% < %.1f%% (nginx + CRS PL1 minus %.0f points, or %.0f%%)\n%s" % (
            100 * s["attacks"]["rate"], 100 * floor, 100 * DETECTION_MARGIN, 100 * MIN_DETECTION,
            waf_eval.markdown(s)))


def test_false_positives_bounded(tmp_path_factory):
    s = run_corpus(tmp_path_factory, True)
    assert s["benign"]["rate"] <= MAX_FP, (
        "false positives %.1f%% > %.1f%%\n%s" % (
            100 * s["benign"]["rate"], 100 * MAX_FP, waf_eval.markdown(s)))


def test_prefilter_changes_no_verdict(tmp_path_factory):
    on = {r["id"]: r["outcome"] for r in run_corpus(tmp_path_factory, True)["results"]}
    off = {r["id"]: r["outcome"] for r in run_corpus(tmp_path_factory, False)["results"]}
    differ = sorted(i for i in on if on[i] != off[i])
    assert not differ, "prefilter on/off disagree on %d requests: %s" % (
        len(differ), ", ".join("%s (on: %s, off: %s)" % (i, on[i], off[i]) for i in differ[:20]))


HOLDOUT = os.path.join(WAF_DIR, "holdout")


def test_holdout_detection_at_least_crs_pl1(tmp_path_factory):
    with open(os.path.join(WAF_DIR, "results", "holdout-nginx-pl1.json")) as f:
        floor = json.load(f)["attacks"]["rate"]
    s = run_corpus(tmp_path_factory, True, HOLDOUT)
    assert s["attacks"]["rate"] >= floor, (
        "held-out detection %.1f%% < nginx + CRS PL1's %.1f%%\n%s" % (
            100 * s["attacks"]["rate"], 100 * floor, waf_eval.markdown(s)))


def test_holdout_false_positives_bounded(tmp_path_factory):
    s = run_corpus(tmp_path_factory, True, HOLDOUT)
    assert s["benign"]["rate"] <= HOLDOUT_MAX_FP, (
        "held-out false positives %.1f%% > %.1f%%\n%s" % (
            100 * s["benign"]["rate"], 100 * HOLDOUT_MAX_FP, waf_eval.markdown(s)))


def test_holdout_prefilter_changes_no_verdict(tmp_path_factory):
    on = {r["id"]: r["outcome"] for r in run_corpus(tmp_path_factory, True, HOLDOUT)["results"]}
    off = {r["id"]: r["outcome"] for r in run_corpus(tmp_path_factory, False, HOLDOUT)["results"]}
    differ = sorted(i for i in on if on[i] != off[i])
    assert not differ, "prefilter on/off disagree on %d held-out requests: %s" % (
        len(differ), ", ".join(differ[:20]))
