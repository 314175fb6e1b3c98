"""Shared helpers for the holdout21 generators (Turkish group "Anadolu Grup")."""
import json
import os
from urllib.parse import quote, urlencode

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CK = ("oturum=7f3c9a1e5b2d4f6a8c0e2b4d6f8a0c1e; XSRF-TOKEN=hT4kPq9Wz2Lm; "
      "_ga=GA1.1.1839204711.1733412233; cerez_onay=zorunlu%2Canalitik")
TR = [["Accept-Language", "tr-TR,tr;q=0.9,en-US;q=0.8,en;q=0.7"]]
APP = "AnadoluApp/8.4.1 (Android 13; SM-A536B; tr_TR; build 80401)"
IOS = "AnadoluApp/8.4.1 (iPhone; iOS 17.1.2; tr_TR; Scale/3.00)"


def q(path, params):
    """A browser-style query string (UTF-8 percent-encoding, + for spaces)."""
    return path + "?" + urlencode(params) if params else path


def qp(s):
    return quote(s, safe="")


def xhr(extra=()):
    return TR + [["Cookie", CK], ["X-XSRF-TOKEN", "hT4kPq9Wz2Lm"]] + list(extra)


def app(extra=(), ios=False):
    return [["User-Agent", IOS if ios else APP], ["Accept-Language", "tr-TR"],
            ["X-Device-Id", "a81f0c2e-77b1-4c1d-9a0e-5d2f3b6c8e11"],
            ["X-App-Version", "8.4.1"]] + list(extra)


def write(kind, cat, entries):
    os.makedirs(os.path.join(ROOT, kind), exist_ok=True)
    expect = "block" if kind == "attacks" else "pass"
    with open(os.path.join(ROOT, kind, cat + ".jsonl"), "w", encoding="utf-8") as f:
        for n, e in enumerate(entries, 1):
            out = {"id": "h21-%s-%03d" % (cat, n), "category": cat, "expect": expect}
            out.update(e)
            f.write(json.dumps(out, ensure_ascii=False) + "\n")
    return len(entries)
