#!/usr/bin/python3
"""gen_benign.py - write tests/waf/holdout13/benign/*.jsonl (held-out set 13).

Hand-written benign traffic of 30 kinds of site, written blind (see ../README.md).
Run: /usr/bin/python3 tests/waf/holdout13/tools/gen_benign.py
"""

import base64
import json
import os
import urllib.parse

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benign")
q = urllib.parse.quote
qp = urllib.parse.quote_plus
B64 = lambda b: base64.b64encode(b).decode()

CATS = {}


def cat(name):
    def deco(fn):
        CATS[name] = fn
        return fn
    return deco


SESS = [["Cookie", "_gitlab_session=5f1e9c0a7b3d42e8a6c1f0e9d8b7a6c5; known_sign_in=dHJ1ZQ%3D%3D"]]
GIT_UA = [["User-Agent", "git/2.43.0"], ["Accept", "*/*"], ["Accept-Encoding", "deflate, gzip"]]


@cat("vcs")
def vcs():
    pkt_want = ("0098want 4b825dc642cb6eb9a060e54bf8d69288fbee4904 multi_ack_detailed no-done "
                "side-band-64k thin-pack ofs-delta deepen-since deepen-not agent=git/2.43.0\n"
                "0032want 9fceb02d0ae598e95dc970b74767f19372d61af8\n00000009done\n")
    pkt_v2 = ("0014command=ls-refs\n0014agent=git/2.43.00016object-format=sha100010009peel\n"
              "000csymrefs\n0014ref-prefix HEAD\n001bref-prefix refs/heads/\n0000")
    return [
        dict(target="/acme/infra-tools.git/info/refs?service=git-upload-pack", profile="none",
             headers=GIT_UA + [["Git-Protocol", "version=2"]], note="git clone: ref advertisement"),
        dict(method="POST", target="/acme/infra-tools.git/git-upload-pack", profile="none",
             headers=GIT_UA + [["Content-Type", "application/x-git-upload-pack-request"],
                               ["Accept", "application/x-git-upload-pack-result"],
                               ["Git-Protocol", "version=2"]],
             body=pkt_v2, note="git protocol v2 ls-refs pkt-lines"),
        dict(method="POST", target="/acme/infra-tools.git/git-upload-pack", profile="none",
             headers=GIT_UA + [["Content-Type", "application/x-git-upload-pack-request"],
                               ["Accept", "application/x-git-upload-pack-result"]],
             body=pkt_want, note="git fetch want/done negotiation (protocol v0)"),
        dict(target="/api/v4/projects/" + q("acme/platform/billing-service", safe="") +
             "/repository/files/" + q("config/settings.yaml", safe="") + "/raw?ref=main",
             profile="api", headers=[["PRIVATE-TOKEN", "glpat-x7Hq2mN9pR4sT6vW8yZ1"]],
             note="GitLab API file read, encoded project path and file path"),
        dict(target="/api/v4/projects/4412/merge_requests?state=opened&order_by=updated_at&"
             "labels=backend,needs-review&per_page=20&page=1", profile="xhr", headers=SESS,
             note="merge request list with labels"),
        dict(method="POST", target="/api/v4/projects/4412/merge_requests/318/discussions",
             profile="xhr", headers=SESS + [["X-CSRF-Token", "pQ3rS5tU7vW9xY1zA2bC4dE6fG8hI0jK"]],
             json={"body": "Nit: could we rename `retryCount` to `maxRetries`? Also the backoff "
                   "looks like it doubles forever, maybe cap it at 30s like we do in the "
                   "webhook worker.",
                   "position": {"position_type": "text", "new_path": "lib/client/retry.rb",
                                "new_line": 42, "base_sha": "a1b2c3d", "head_sha": "e4f5a6b",
                                "start_sha": "a1b2c3d"}},
             note="code review comment in prose"),
        dict(method="POST", target="/api/v4/projects/4412/merge_requests/318/notes",
             profile="xhr", headers=SESS + [["X-CSRF-Token", "pQ3rS5tU7vW9xY1zA2bC4dE6fG8hI0jK"]],
             json={"body": "This migration will lock the table on big installs. Suggest:\n\n"
                   "```sql\nALTER TABLE orders ADD COLUMN archived_at timestamp NULL;\n"
                   "CREATE INDEX CONCURRENTLY idx_orders_archived ON orders (archived_at) "
                   "WHERE archived_at IS NOT NULL;\n```\n\nand backfill in batches with "
                   "`UPDATE orders SET archived_at = now() WHERE id BETWEEN $1 AND $2`."},
             tags=["code"], note="review comment pasting SQL migration"),
        dict(target="/acme/infra-tools/-/blob/main/scripts/deploy.sh?plain=1", profile="firefox",
             headers=SESS, note="browse a shell script file in the web UI"),
        dict(target="/acme/infra-tools/-/compare/v2.3.0...v2.4.0?from_project_id=4412&straight=false",
             profile="chrome", headers=SESS, note="compare two tags (triple-dot range)"),
    ]


S3_UA = [["User-Agent", "aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux api/s3#1.47.7"],
         ["Accept-Encoding", "identity"]]


def s3auth(date="20261207T142311Z", sha="UNSIGNED-PAYLOAD"):
    return [["X-Amz-Date", date], ["X-Amz-Content-Sha256", sha],
            ["Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261207/"
             "eu-central-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
             "Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"]]


@cat("objectstore")
def objectstore():
    return [
        dict(target="/media-assets?list-type=2&prefix=uploads%2F2026%2F12%2F&delimiter=%2F&max-keys=1000",
             profile="none", headers=S3_UA + s3auth(), note="S3 ListObjectsV2 with prefix"),
        dict(method="PUT", target="/media-assets/uploads/2026/12/report%20Q4%20(final).csv",
             profile="none", headers=S3_UA + s3auth(sha="e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") +
             [["Content-Type", "text/csv"], ["x-amz-meta-uploaded-by", "j.ferreira"]],
             body="region,quarter,revenue\nEMEA,Q4,1204332.10\nAPAC,Q4,887120.55\n",
             note="S3 PutObject csv with spaces and parens in key"),
        dict(method="POST", target="/backups/db/pg-2026-12-07.tar.zst?uploads", profile="none",
             headers=S3_UA + s3auth(), note="CreateMultipartUpload"),
        dict(method="PUT", target="/backups/db/pg-2026-12-07.tar.zst?partNumber=3&uploadId="
             "VXBsb2FkSWQtZXhhbXBsZS0yMDI2LTEyLTA3", profile="none",
             headers=S3_UA + s3auth() + [["Content-Type", "application/octet-stream"]],
             body="\x28\x75\x2f\x7d\x00\x58\x31\x0b\x00partdata-zstd-frame-continues",
             note="UploadPart with binary-ish body"),
        dict(method="POST", target="/backups/db/pg-2026-12-07.tar.zst?uploadId="
             "VXBsb2FkSWQtZXhhbXBsZS0yMDI2LTEyLTA3", profile="none",
             headers=S3_UA + s3auth() + [["Content-Type", "application/xml"]],
             body='<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
             '<Part><PartNumber>1</PartNumber><ETag>"a54357aff0632cce46d942af68356b38"</ETag></Part>'
             '<Part><PartNumber>2</PartNumber><ETag>"0c78aef83f66abc1fa1e8477f296d394"</ETag></Part>'
             '<Part><PartNumber>3</PartNumber><ETag>"acbd18db4cc2f85cedef654fccc4a4d8"</ETag></Part>'
             '</CompleteMultipartUpload>', note="CompleteMultipartUpload XML"),
        dict(target="/media-assets/invoices/INV-2026-0041.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256&"
             "X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261207%2Feu-central-1%2Fs3%2Faws4_request&"
             "X-Amz-Date=20261207T101500Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&"
             "X-Amz-Signature=4f2d5c8e9a1b3c7d6e0f2a4b8c9d1e3f5a7b9c0d2e4f6a8b1c3d5e7f9a0b2c4d",
             profile="chrome", note="presigned GET from browser"),
        dict(method="POST", target="/media-assets?delete", profile="none",
             headers=S3_UA + s3auth() + [["Content-Type", "application/xml"],
                                          ["Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="]],
             body="<Delete><Quiet>true</Quiet><Object><Key>tmp/thumb_001.webp</Key></Object>"
             "<Object><Key>tmp/thumb_002.webp</Key></Object></Delete>", note="DeleteObjects"),
    ]


DAV_UA = [["User-Agent", "Mozilla/5.0 (Windows) mirall/3.11.4 (build 20231220) (Nextcloud, windows-10.0.22631 ClientArchitecture: x86_64 OsArchitecture: x86_64)"],
          ["Authorization", "Basic bWFyaWEuc2lsdmE6YXBwLXBhc3N3b3JkLXh4eHg="]]


@cat("webdav")
def webdav():
    return [
        dict(method="PROPFIND", target="/remote.php/dav/files/maria.silva/Documents/", profile="none",
             headers=DAV_UA + [["Depth", "1"], ["Content-Type", "application/xml; charset=utf-8"]],
             body='<?xml version="1.0" encoding="utf-8"?>\n<d:propfind xmlns:d="DAV:" '
             'xmlns:oc="http://owncloud.org/ns"><d:prop><d:getlastmodified/><d:getcontentlength/>'
             '<d:resourcetype/><d:getetag/><oc:fileid/><oc:permissions/></d:prop></d:propfind>',
             note="sync client PROPFIND depth 1"),
        dict(method="PUT", target="/remote.php/dav/files/maria.silva/Documents/Notas%20reuni%C3%A3o.md",
             profile="none", headers=DAV_UA + [["Content-Type", "text/markdown"],
                                               ["OC-Checksum", "SHA1:2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"]],
             body="# Reunião de equipa\n\n- orçamento 2027 aprovado\n- próxima reunião: 14/12\n",
             note="PUT a markdown file with accented name"),
        dict(method="MOVE", target="/remote.php/dav/files/maria.silva/Documents/draft.docx", profile="none",
             headers=DAV_UA + [["Destination", "https://shop.example.com/remote.php/dav/files/maria.silva/Archive/2026/draft.docx"],
                               ["Overwrite", "F"]], note="WebDAV MOVE with Destination"),
        dict(method="MKCOL", target="/remote.php/dav/files/maria.silva/Photos/Porto%202026", profile="none",
             headers=DAV_UA, note="MKCOL new folder"),
        dict(method="LOCK", target="/dav/shared/budget.xlsx", profile="none",
             headers=[["User-Agent", "Microsoft Office Excel 2014"], ["Timeout", "Second-3600"],
                      ["Content-Type", "text/xml; charset=\"utf-8\""],
                      ["Authorization", "Basic cGF1bDpzM2NyZXQ="]],
             body='<?xml version="1.0" encoding="utf-8" ?><D:lockinfo xmlns:D="DAV:"><D:lockscope>'
             '<D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>'
             '<D:href>paul</D:href></D:owner></D:lockinfo>', note="Office LOCK request"),
        dict(method="REPORT", target="/remote.php/dav/calendars/maria.silva/personal/", profile="none",
             headers=DAV_UA + [["Depth", "1"], ["Content-Type", "application/xml"]],
             body='<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop>'
             '<d:getetag/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">'
             '<c:time-range start="20261201T000000Z" end="20270101T000000Z"/></c:comp-filter>'
             '</c:comp-filter></c:filter></c:calendar-query>', note="CalDAV REPORT time range"),
    ]


REG_UA = [["User-Agent", "docker/24.0.7 go/go1.20.10 git-commit/311b9ff kernel/6.5.0 os/linux arch/amd64"],
          ["Authorization", "Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhY2Nlc3MiOlt7InR5cGUiOiJyZXBvc2l0b3J5In1dfQ.c2lnbmF0dXJl"]]


@cat("containers")
def containers():
    return [
        dict(target="/v2/", profile="none", headers=REG_UA[:1], note="registry API version check"),
        dict(method="HEAD", target="/v2/acme/api-gateway/manifests/1.8.2", profile="none",
             headers=REG_UA + [["Accept", "application/vnd.oci.image.index.v1+json, "
                                "application/vnd.docker.distribution.manifest.v2+json, "
                                "application/vnd.docker.distribution.manifest.list.v2+json"]],
             note="HEAD manifest by tag"),
        dict(target="/v2/acme/api-gateway/blobs/sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
             profile="none", headers=REG_UA, note="pull a blob by digest"),
        dict(method="POST", target="/v2/acme/api-gateway/blobs/uploads/", profile="none",
             headers=REG_UA + [["Content-Length", "0"]], body="", note="start blob upload"),
        dict(method="PATCH", target="/v2/acme/api-gateway/blobs/uploads/3f1c2a4e-77b0-4b1e-9f55-1c0d2e3f4a5b?_state=eyJuYW1lIjoiYWNtZS9hcGktZ2F0ZXdheSJ9",
             profile="none", headers=REG_UA + [["Content-Type", "application/octet-stream"],
                                               ["Content-Range", "0-31"]],
             body="\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03layer-bytes-chunk-01",
             note="chunked blob upload PATCH"),
        dict(method="PUT", target="/v2/acme/api-gateway/manifests/1.8.3", profile="none",
             headers=REG_UA + [["Content-Type", "application/vnd.oci.image.manifest.v1+json"]],
             json={"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                   "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 1469,
                              "digest": "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"},
                   "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 3370706,
                               "digest": "sha256:2c6ac8e5063e35e91ab79dfb7330c6154b82f3a7e4724fb1b4475c0a95dfdd33"}],
                   "annotations": {"org.opencontainers.image.source": "https://git.example.com/acme/api-gateway",
                                   "org.opencontainers.image.revision": "e4f5a6b7"}},
             note="push OCI manifest"),
        dict(target="/v2/acme/api-gateway/tags/list?n=50&last=1.7.9", profile="none", headers=REG_UA,
             note="tags list with pagination"),
    ]


@cat("pkgmirror")
def pkgmirror():
    return [
        dict(target="/debian/dists/bookworm/InRelease", profile="none",
             headers=[["User-Agent", "Debian APT-HTTP/1.3 (2.6.1)"], ["Cache-Control", "max-age=0"],
                      ["If-Modified-Since", "Sun, 06 Dec 2026 20:14:03 GMT"]], note="apt InRelease"),
        dict(target="/debian/pool/main/o/openssl/libssl3_3.0.11-1~deb12u2_amd64.deb", profile="none",
             headers=[["User-Agent", "Debian APT-HTTP/1.3 (2.6.1)"]], note="apt fetch .deb with tilde"),
        dict(target="/simple/python-dateutil/", profile="none",
             headers=[["User-Agent", 'pip/23.3.1 {"ci":null,"cpu":"x86_64","implementation":{"name":"CPython","version":"3.11.6"},"installer":{"name":"pip","version":"23.3.1"},"python":"3.11.6","system":{"name":"Linux","release":"6.5.0"}}'],
                      ["Accept", "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"],
                      ["Accept-Encoding", "gzip, deflate"]], note="pip simple index with JSON UA"),
        dict(target="/packages/b2/2c/python_dateutil-2.8.2-py2.py3-none-any.whl",
             profile="none", headers=[["User-Agent", "pip/23.3.1"], ["Accept-Encoding", "identity"]],
             note="wheel download"),
        dict(target="/maven2/org/apache/commons/commons-lang3/3.14.0/commons-lang3-3.14.0.pom.sha1",
             profile="none", headers=[["User-Agent", "Apache-Maven/3.9.6 (Java 21.0.1; Linux 6.5.0)"],
                                      ["Cache-control", "no-cache"], ["Pragma", "no-cache"]],
             note="maven pom checksum"),
        dict(target="/npm/@babel%2fcore", profile="none",
             headers=[["User-Agent", "npm/10.2.4 node/v20.10.0 linux x64 workspaces/false"],
                      ["Accept", "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"],
                      ["npm-command", "install"]], note="npm scoped package metadata"),
        dict(method="PUT", target="/npm/@acme%2fui-kit", profile="none",
             headers=[["User-Agent", "npm/10.2.4 node/v20.10.0 linux x64"],
                      ["Authorization", "Bearer npm_Xk29fLqP0sR8tU7vW6yZ5aB4cD3eF2gH1iJ0"],
                      ["npm-command", "publish"]],
             json={"_id": "@acme/ui-kit", "name": "@acme/ui-kit", "dist-tags": {"latest": "4.1.0"},
                   "versions": {"4.1.0": {"name": "@acme/ui-kit", "version": "4.1.0",
                                          "scripts": {"build": "tsc -p . && vite build",
                                                      "test": "vitest run --coverage"},
                                          "dist": {"shasum": "3b5a8e0b9d7c6f4e2a1b0c9d8e7f6a5b4c3d2e1f"}}},
                   "_attachments": {"@acme/ui-kit-4.1.0.tgz": {"content_type": "application/octet-stream",
                                                                 "data": "H4sIAAAAAAAAA+3OMQ6CQBCF4a2tnAAAAAAAAAAAAP8GHD0AKAAA",
                                                                 "length": 36}}},
             note="npm publish with scripts and base64 tarball"),
    ]


JMAP_H = [["Authorization", "Bearer fmu1-8c2e-4b7a-jmap-token-77d1e0"], ["Origin", "https://shop.example.com"]]


@cat("webmail")
def webmail():
    return [
        dict(target="/.well-known/jmap", profile="xhr", headers=JMAP_H, note="JMAP session discovery"),
        dict(method="POST", target="/jmap/api/", profile="xhr", headers=JMAP_H,
             json={"using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
                   "methodCalls": [["Email/query", {"accountId": "u1f2e3", "filter": {"inMailbox": "mb-inbox"},
                                                    "sort": [{"property": "receivedAt", "isAscending": False}],
                                                    "limit": 50}, "0"],
                                   ["Email/get", {"accountId": "u1f2e3", "#ids": {"resultOf": "0", "name": "Email/query", "path": "/ids"},
                                                  "properties": ["from", "subject", "preview", "receivedAt"]}, "1"]]},
             note="JMAP query + get with back-reference path"),
        dict(method="POST", target="/jmap/api/", profile="xhr", headers=JMAP_H,
             json={"using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail", "urn:ietf:params:jmap:submission"],
                   "methodCalls": [["Email/set", {"accountId": "u1f2e3", "create": {"draft1": {
                       "mailboxIds": {"mb-drafts": True}, "keywords": {"$draft": True},
                       "from": [{"name": "Hannah Okafor", "email": "hannah@example.org"}],
                       "to": [{"name": "Dev Team", "email": "dev@example.org"}],
                       "subject": "Re: deploy window on Thursday?",
                       "bodyValues": {"b1": {"value": "Hi all,\n\nThursday 18:00 works for me, but "
                                             "please don't merge anything after lunch - I'd rather "
                                             "we freeze at 14:00 and run the smoke tests first.\n\n"
                                             "Thanks,\nHannah"}},
                       "textBody": [{"partId": "b1", "type": "text/plain"}]}}}, "0"]]},
             note="JMAP create draft with user prose"),
        dict(target="/jmap/download/u1f2e3/Gb5a1c9e2/invoice_2026-11.pdf?accept=application/pdf",
             profile="chrome", headers=[["Cookie", "webmail_sid=Ee5dbd0e-1c2b-4a7f"]],
             note="JMAP blob download"),
        dict(method="POST", target="/jmap/upload/u1f2e3/", profile="xhr",
             headers=JMAP_H + [["Content-Type", "image/png"]],
             body="\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00",
             note="JMAP blob upload raw png"),
        dict(method="POST", target="/mail/compose/send", profile="form",
             form=[["to", "lucas.meyer@example.de"], ["cc", ""], ["subject", "Your order #88213 - delivery question"],
                   ["body", "Hallo Lucas,\n\nthe courier says the parcel was left \"with a neighbour\" "
                    "but nobody at no. 14 has it. Could you check with DHL? Tracking: 00340434161094012345.\n\n"
                    "Grüße,\nAnke"], ["draft_id", "d-5521"], ["_token", "Zx8Yw7Vu6Ts5"]],
             note="classic webmail compose form"),
    ]


@cat("realtime")
def realtime():
    return [
        dict(target="/socket.io/?EIO=4&transport=polling&t=OqXk2mB", profile="xhr",
             headers=[["Accept", "*/*"]], note="Socket.IO handshake polling"),
        dict(method="POST", target="/socket.io/?EIO=4&transport=polling&t=OqXk2nF&sid=Lbo5JLzTotvW3g2LAAAA",
             profile="xhr", headers=[["Content-Type", "text/plain;charset=UTF-8"]],
             body='42["chat:message",{"room":"general","text":"anyone else seeing the build stuck at 97%?"}]',
             note="Socket.IO polling message packet"),
        dict(target="/events/stream?channels=orders,inventory&lastEventId=18823", profile="chrome",
             headers=[["Accept", "text/event-stream"], ["Cache-Control", "no-cache"],
                      ["Last-Event-ID", "18823"]], note="SSE subscription"),
        dict(target="/poll/updates?since=1733580000123&timeout=25", profile="xhr",
             note="long-poll for updates"),
        dict(target="/socket.io/?EIO=4&transport=polling&t=OqXk2pQ&sid=Lbo5JLzTotvW3g2LAAAA", profile="xhr",
             headers=[["Accept", "*/*"]], note="Socket.IO long-poll GET with sid"),
        dict(method="POST", target="/sockjs/421/xk3j2n1p/xhr_send", profile="xhr",
             headers=[["Content-Type", "text/plain"]],
             body='["{\\"msg\\":\\"method\\",\\"method\\":\\"sendMessage\\",\\"params\\":[{\\"rid\\":\\"GENERAL\\",\\"msg\\":\\"lunch at 1?\\"}],\\"id\\":\\"7\\"}"]',
             note="SockJS xhr_send with nested JSON string"),
    ]


@cat("conferencing")
def conferencing():
    sdp = ("v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
           "a=msid-semantic: WMS\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8\r\nc=IN IP4 0.0.0.0\r\n"
           "a=ice-ufrag:Jq8e\r\na=ice-pwd:bZ5lrPm2Yq8hx3gD7fA1c0Vw\r\na=fingerprint:sha-256 "
           "4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB\r\na=setup:actpass\r\na=mid:0\r\n"
           "a=sendrecv\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n")
    return [
        dict(method="POST", target="/whip/rooms/standup-7f3a", profile="xhr",
             headers=[["Content-Type", "application/sdp"], ["Authorization", "Bearer room-7f3a-pub"]],
             body=sdp, note="WHIP SDP offer"),
        dict(method="PATCH", target="/whip/rooms/standup-7f3a/session/91c2", profile="xhr",
             headers=[["Content-Type", "application/trickle-ice-sdpfrag"], ["If-Match", '"xyzzy"']],
             body="a=ice-ufrag:Jq8e\r\na=ice-pwd:bZ5lrPm2Yq8hx3gD7fA1c0Vw\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\n"
             "a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0 ufrag Jq8e network-id 1\r\n",
             note="WHIP trickle ICE candidate"),
        dict(method="POST", target="/api/meetings", profile="xhr",
             json={"topic": "Q1 planning - design & eng", "start_time": "2026-12-10T15:00:00Z", "duration": 45,
                   "timezone": "Europe/Berlin", "agenda": "1) roadmap review\n2) hiring\n3) AOB",
                   "settings": {"waiting_room": True, "mute_upon_entry": True}},
             note="schedule a meeting"),
        dict(target="/j/83412290551?pwd=dFZ3TWxQeUJnK0tnQ2x5a0pxZz09&uname=Priya%20N.", profile="chrome",
             note="meeting join link"),
        dict(method="POST", target="/api/meetings/83412290551/chat", profile="xhr",
             json={"to": "everyone", "message": "Sorry, my mic is acting up - I'll dial in by phone (+44 20 7946 0958)."},
             note="in-meeting chat message"),
    ]


@cat("xapi")
def xapi():
    XH = [["X-Experience-API-Version", "1.0.3"], ["Authorization", "Basic bHJzX2tleTpscnNfc2VjcmV0"]]
    return [
        dict(method="POST", target="/xapi/statements", profile="xhr", headers=XH,
             json={"actor": {"objectType": "Agent", "name": "Tomás Ruiz", "mbox": "mailto:tomas.ruiz@example.com"},
                   "verb": {"id": "http://adlnet.gov/expapi/verbs/answered", "display": {"en-US": "answered"}},
                   "object": {"id": "https://lms.example.com/courses/fire-safety/q3", "objectType": "Activity",
                              "definition": {"interactionType": "choice", "correctResponsesPattern": ["b"]}},
                   "result": {"success": True, "response": "b", "duration": "PT14S"}},
             note="xAPI answered statement"),
        dict(method="PUT", target="/xapi/activities/state?activityId=" + qp("https://lms.example.com/courses/fire-safety") +
             "&agent=" + qp('{"mbox":"mailto:tomas.ruiz@example.com"}') + "&stateId=resume", profile="xhr",
             headers=XH, json={"page": 7, "bookmark": "slide-7b", "attempts": 2},
             note="xAPI state doc with JSON agent in query"),
        dict(target="/xapi/statements?verb=" + qp("http://adlnet.gov/expapi/verbs/completed") +
             "&since=2026-11-01T00:00:00Z&limit=100", profile="api", headers=XH, note="xAPI statements query"),
        dict(method="POST", target="/scorm/commit", profile="form",
             form=[["cmi.core.lesson_status", "incomplete"], ["cmi.core.lesson_location", "page_12"],
                   ["cmi.suspend_data", "A1B2;v=3;q1=1,q2=0,q3=1|time=00:14:22"],
                   ["cmi.core.session_time", "0000:14:22.00"], ["sco_id", "411"]],
             note="SCORM 1.2 commit suspend_data"),
        dict(method="POST", target="/courses/412/assignments/77/submissions", profile="form",
             form=[["submission[body]", "In my opinion the main risk in the case study is that the "
                    "warehouse had no fire doors between zones A and B; a 2-hour rated door would have "
                    "contained it. Second, the evacuation drill was last done in 2019 (!), which is "
                    "well beyond the yearly requirement."], ["authenticity_token", "Kf9a2LmN8pQ"]],
             note="student essay answer"),
    ]


@cat("insurance")
def insurance():
    return [
        dict(method="POST", target="/quote/motor/step-2", profile="form",
             form=[["vehicle_reg", "AB12 CDE"], ["make", "Vauxhall"], ["model", "Corsa 1.2 SE"],
                   ["year", "2019"], ["annual_mileage", "8000"], ["parking", "driveway"],
                   ["modifications", "none"], ["ncd_years", "5+"], ["quote_ref", "QM-5518823"]],
             note="motor quote step"),
        dict(method="POST", target="/api/quotes/home", profile="xhr",
             json={"postcode": "LS6 2AB", "property": {"type": "terraced", "bedrooms": 3, "built": 1905,
                                                     "roof": "slate", "flat_roof_pct": 10},
                   "claims_last_5y": [{"type": "escape_of_water", "amount": 2300, "year": 2022}],
                   "cover": {"buildings": 250000, "contents": 40000, "accidental_damage": True}},
             note="home insurance quote JSON"),
        dict(method="POST", target="/claims/new", profile="form_multipart",
             multipart={"boundary": "----WebKitFormBoundaryQk2mF8sP1rT4vX7z", "parts": [
                 {"name": "policy_no", "data": "HH-20931-44"},
                 {"name": "incident_date", "data": "2026-11-28"},
                 {"name": "description", "data": "Water came through the kitchen ceiling from the "
                  "upstairs bathroom. The plumber said the seal around the shower tray had failed. "
                  "Damage to ceiling plaster, one cupboard and the laminate floor (approx. 12 m²)."},
                 {"name": "photo", "filename": "ceiling.jpg", "content_type": "image/jpeg",
                  "data_b64": B64(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xdb\x00C\x00")}]},
             note="claim form with photo and description"),
        dict(target="/policies/HH-20931-44/documents?type=schedule&format=pdf", profile="safari",
             headers=[["Cookie", "ins_sess=ab12cd34ef56; consent=analytics:0|marketing:0"]],
             note="policy document download"),
        dict(method="POST", target="/api/v1/underwriting/rate", profile="api",
             headers=[["Authorization", "Bearer uw-svc-eyJ0eXAiOiJKV1Qi"]],
             json={"product": "travel_annual", "travellers": [{"age": 41}, {"age": 39}, {"age": 8}],
                   "region": "worldwide_excl_usa", "medical_conditions": ["asthma (controlled)"],
                   "excess": 100}, note="broker-to-insurer rating API"),
    ]


@cat("openbanking")
def openbanking():
    OB = [["Authorization", "Bearer 2YotnFZFEjr1zCsicMWpAA"], ["X-Request-ID", "99391c7e-ad88-49ec-a2ad-99ddcb1f7721"],
          ["PSU-IP-Address", "192.0.2.44"], ["Consent-ID", "CONS-7f3b1a9e"],
          ["TPP-Redirect-URI", "https://tpp.example.org/cb?state=abc123"]]
    return [
        dict(target="/psd2/v1/accounts?withBalance=true", profile="api", headers=OB, note="Berlin Group account list"),
        dict(target="/psd2/v1/accounts/3dc3d5b3-7023-4848-9853-f5400a64e80f/transactions?"
             "bookingStatus=booked&dateFrom=2026-11-01&dateTo=2026-11-30", profile="api", headers=OB,
             note="transactions by date"),
        dict(method="POST", target="/psd2/v1/payments/sepa-credit-transfers", profile="api",
             headers=OB + [["Digest", "SHA-256=hl1/Eo4P+5TmV7XKLqfwBVtb0i+6E9h1uvsG2d1z8ho="],
                           ["Signature", 'keyId="SN=9FA1,CA=CN=D-TRUST CA 2-1 2015,O=D-Trust GmbH,C=DE",'
                            'algorithm="rsa-sha256",headers="digest x-request-id",signature="Base64(RSA-SHA256(signing string))"']],
             json={"instructedAmount": {"currency": "EUR", "amount": "123.50"},
                   "debtorAccount": {"iban": "DE40100100103307118608"},
                   "creditorName": "Müller & Söhne GmbH", "creditorAccount": {"iban": "DE02100100109307118603"},
                   "remittanceInformationUnstructured": "Rechnung 2026/1187 - vielen Dank!"},
             note="SEPA payment initiation with signature header"),
        dict(method="POST", target="/open-banking/v3.1/aisp/account-access-consents", profile="api",
             headers=[["Authorization", "Bearer cc-token-AbC"], ["x-fapi-financial-id", "001580000103UAvAAM"],
                      ["x-idempotency-key", "FRESCO.21302.GFX.20"], ["x-jws-signature", "eyJhbGciOiJQUzI1NiIsImtpZCI6IjkwMjEwQUJBRCJ9..c2ln"]],
             json={"Data": {"Permissions": ["ReadAccountsDetail", "ReadBalances", "ReadTransactionsCredits",
                                            "ReadTransactionsDebits", "ReadTransactionsDetail"],
                            "ExpirationDateTime": "2027-03-07T00:00:00+00:00"}, "Risk": {}},
             note="UK OB consent with detached JWS"),
        dict(method="POST", target="/oauth2/par", profile="api",
             form=[["client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"],
                   ["client_assertion", "eyJhbGciOiJQUzI1NiJ9.eyJpc3MiOiJ0cHAifQ.sig"],
                   ["request", "eyJhbGciOiJQUzI1NiJ9.eyJzY29wZSI6Im9wZW5pZCBhY2NvdW50cyJ9.sig2"]],
             note="pushed authorization request"),
        dict(target="/online/transfers/history?iban=GB33BUKB20201555555555&q=" + qp("rent - flat 3/2") +
             "&page=2", profile="firefox", headers=[["Cookie", "JSESSIONID=8D2B9F7C1E; XSRF-TOKEN=8f7e6d"]],
             note="banking UI search in transfer history"),
    ]


@cat("accounting")
def accounting():
    csv = ("Date,Description,Reference,Debit,Credit,VAT code\n"
           "2026-11-03,\"Office rent, November\",INV-3381,1500.00,,T1\n"
           "2026-11-05,Stripe payout,po_1OAbCdE,,4210.77,T0\n"
           "2026-11-09,\"Coffee & milk (team)\",RCPT-17,23.40,,T1\n"
           "2026-11-12,=Refund customer #4411,CRN-55,,99.00,T1\n")
    return [
        dict(method="POST", target="/api/bank-statements/import", profile="api_multipart",
             multipart={"boundary": "8d5f2b1c9a7e", "parts": [
                 {"name": "account_id", "data": "1200"},
                 {"name": "file", "filename": "nov-2026.csv", "content_type": "text/csv", "data": csv}]},
             note="bank statement CSV import (one description starts with =)"),
        dict(target="/reports/vat-return?period=2026Q3&format=xml&scheme=MTD", profile="chrome",
             headers=[["Cookie", "acct_sid=74b3c2a1; company=4471"]], note="VAT return export"),
        dict(method="POST", target="/api/v2/journals", profile="xhr",
             json={"date": "2026-11-30", "narration": "Accrual: Dec consultant fees (est.)",
                   "lines": [{"account": "6200", "debit": 3200.0, "tracking": {"dept": "R&D"}},
                             {"account": "2100", "credit": 3200.0}]},
             note="manual journal entry"),
        dict(method="POST", target="/invoices/create", profile="form",
             form=[["customer", "Björk Design AB"], ["line[0][desc]", "UX audit - 3 days @ 850/day"],
                   ["line[0][qty]", "3"], ["line[0][price]", "850"], ["line[1][desc]", "Travel (train, Stockholm <-> Gothenburg)"],
                   ["line[1][qty]", "1"], ["line[1][price]", "92.50"], ["terms", "Net 30; 2% discount if paid within 10 days"],
                   ["currency", "SEK"]], note="invoice with <-> in a line"),
        dict(target="/api/ledger/search?filter=" + q("account:4000..4999 AND amount>1000 AND date>=2026-01-01") +
             "&sort=-date", profile="xhr", note="ledger search filter syntax"),
        dict(method="POST", target="/datev/export", profile="form",
             form=[["from", "01.11.2026"], ["to", "30.11.2026"], ["Beraternummer", "1001"],
                   ["Mandantennummer", "20345"], ["format", "EXTF"], ["include_documents", "1"]],
             note="German DATEV export form"),
    ]


@cat("payroll")
def payroll():
    return [
        dict(target="/payroll/runs/2026-11/payslips/EMP-0042.pdf", profile="edge",
             headers=[["Cookie", "pr_session=e11f0b2d; tz=Europe%2FLondon"]], note="payslip download"),
        dict(method="POST", target="/api/employees/EMP-0042/timesheets", profile="xhr",
             json={"week": "2026-W48", "entries": [{"day": "mon", "hours": 7.5}, {"day": "tue", "hours": 8},
                                                  {"day": "wed", "hours": 4, "note": "half day - dentist"},
                                                  {"day": "thu", "hours": 7.5}, {"day": "fri", "hours": 7.5}]},
             note="timesheet submission"),
        dict(method="POST", target="/employees/new", profile="form",
             form=[["first_name", "Siobhán"], ["last_name", "O'Connor-Reilly"], ["ni_number", "QQ123456C"],
                   ["tax_code", "1257L"], ["start_date", "2027-01-04"], ["salary", "42000"],
                   ["address", "Flat 2/1, 18 O'Neill Street"], ["bank_sort", "20-00-00"], ["bank_acct", "55779911"]],
             note="new hire with apostrophes in name and address"),
        dict(method="POST", target="/api/v1/expenses", profile="mobile_app",
             multipart={"boundary": "Boundary-7C1A5E3F-91B2", "parts": [
                 {"name": "meta", "content_type": "application/json",
                  "data": '{"amount":18.60,"currency":"GBP","category":"meals","merchant":"Pret A Manger","note":"client lunch w/ Acme"}'},
                 {"name": "receipt", "filename": "IMG_4471.HEIC", "content_type": "image/heic",
                  "data_b64": B64(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic")}]},
             note="expense claim from mobile app"),
        dict(target="/api/payroll/summary?period_start=2026-11-01&period_end=2026-11-30&group_by=cost_center&"
             "cost_center[]=CC-100&cost_center[]=CC-220", profile="xhr", note="payroll summary with array params"),
    ]


@cat("logistics")
def logistics():
    return [
        dict(target="/track?tracking_numbers=1Z999AA10123456784,00340434161094012345&locale=de_DE",
             profile="chrome_mobile", note="parcel tracking page"),
        dict(method="POST", target="/api/shipments", profile="api",
             headers=[["Authorization", "ShippoToken shippo_live_2c7f8e"]],
             json={"address_from": {"name": "Warehouse 3", "street1": "Industriestr. 12", "city": "Köln", "zip": "50829", "country": "DE"},
                   "address_to": {"name": "Zoë Laurent", "street1": "4 rue de l'Église", "street2": "Bât. B, 3e étage",
                                  "city": "Lyon", "zip": "69002", "country": "FR", "phone": "+33 4 72 00 00 00"},
                   "parcels": [{"length": "30", "width": "20", "height": "10", "distance_unit": "cm", "weight": "1.4", "mass_unit": "kg"}],
                   "extra": {"reference_1": "ORD-88213", "instructions": "If out, leave with the bakery next door"}},
             note="create shipment"),
        dict(method="POST", target="/webhooks/carrier/status", profile="none",
             headers=[["User-Agent", "DHL-Webhooks/2.0"], ["Content-Type", "application/json"],
                      ["X-Signature", "t=1733580123,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd"]],
             body=json.dumps({"events": [{"trackingNumber": "00340434161094012345", "status": "delivered",
                                          "timestamp": "2026-12-07T11:02:00+01:00",
                                          "location": {"city": "Lyon", "postalCode": "69002"},
                                          "description": "Delivered - signed by LAURENT"}]}),
             note="carrier status webhook"),
        dict(method="POST", target="/edi/inbound", profile="none",
             headers=[["User-Agent", "AS2-Gateway/4.1"], ["Content-Type", "application/EDIFACT"],
                      ["AS2-From", "PARTNER01"], ["AS2-To", "ACME"], ["Message-ID", "<20261207.1102@partner01>"]],
             body="UNA:+.? 'UNB+UNOC:3+PARTNER01+ACME+261207:1102+00000000000778'UNH+1+IFTSTA:D:01B:UN'"
             "BGM+77+SHIP-4471+9'DTM+137:202612071102:203'CNI+1+ORD-88213'STS+1+21'UNT+6+1'UNZ+1+00000000000778'",
             note="EDIFACT IFTSTA over AS2"),
        dict(method="POST", target="/driver/pod", profile="mobile_app",
             multipart={"boundary": "dart-http-boundary-PqX7zK", "parts": [
                 {"name": "stop_id", "data": "ST-20261207-118"},
                 {"name": "signature", "filename": "sig.svg", "content_type": "image/svg+xml",
                  "data": '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="100"><path d="M10 80 C 40 10, 65 10, 95 80 S 150 150, 180 80" stroke="black" fill="transparent"/></svg>'},
                 {"name": "note", "data": "Left in porch as requested"}]},
             note="proof of delivery with signature svg"),
    ]


@cat("restaurant")
def restaurant():
    return [
        dict(target="/menu?location=camden&daypart=lunch&diet=vegan,gluten-free", profile="safari",
             note="menu page with filters"),
        dict(method="POST", target="/api/cart/items", profile="xhr",
             json={"item_id": "burger-classic", "qty": 2,
                   "modifiers": [{"group": "cook", "option": "medium-rare"}, {"group": "extras", "option": "no onions"}],
                   "special_instructions": "Allergic to sesame - please no seeded bun!! Thanks :)"},
             note="add to cart with instructions"),
        dict(method="POST", target="/pos/v1/orders", profile="none",
             headers=[["User-Agent", "Toast-Android/2026.11.2"], ["Content-Type", "application/json"],
                      ["Toast-Restaurant-External-ID", "b4f1c9e2-7d3a-4e8b-9f0c-112233445566"],
                      ["Authorization", "Bearer pos-device-7781"]],
             body=json.dumps({"table": "12", "guests": 4, "server": "Marco",
                              "checks": [{"selections": [{"item": "Margherita", "qty": 1, "mods": ["+ nduja"]},
                                                         {"item": "Tiramisu", "qty": 2}]}]}),
             note="POS terminal order"),
        dict(method="POST", target="/reservations", profile="form",
             form=[["date", "2026-12-24"], ["time", "19:30"], ["party", "6"], ["name", "Ng family"],
                   ["phone", "+1 (415) 555-0134"],
                   ["notes", "1 high chair please; one guest uses a wheelchair. It's our mum's 70th - could you do a candle on the dessert?"]],
             note="table booking with notes"),
        dict(method="POST", target="/api/integrations/deliveroo/orders", profile="none",
             headers=[["User-Agent", "Deliveroo-Webhooks/1.0"], ["Content-Type", "application/json"],
                      ["X-Deliveroo-Hmac-Sha256", "3b1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d"]],
             body=json.dumps({"event": "order.new", "order": {"id": "gb:7f1e-88", "display_id": "4412",
                              "items": [{"name": "Pad Thai (Prawn)", "quantity": 1, "price": {"fractional": 1295}}],
                              "notes": "Door code 1234#, 3rd floor"}}),
             note="delivery platform order webhook"),
    ]


@cat("events")
def events():
    return [
        dict(target="/events/berlin/2027-03-14/nils-frahm-live?utm_source=newsletter&utm_medium=email&utm_campaign=dec_drop",
             profile="chrome", note="event page with UTM"),
        dict(target="/api/events/5521/seatmap?section=Parkett&price_max=89", profile="xhr", note="seat map"),
        dict(method="POST", target="/api/events/5521/holds", profile="xhr",
             headers=[["X-Queue-Token", "q-it-7f1c2e.eyJ0IjoxNzMzNTgwMDAwfQ.sig"]],
             json={"seats": ["PK-R12-S14", "PK-R12-S15"], "promo": "EARLY-BIRD-27"}, note="hold seats with queue token"),
        dict(method="POST", target="/checkin/scan", profile="mobile_app",
             json={"barcode": "TKT-5521-0001998-7XK", "gate": "Nord 2", "device": "scanner-11", "ts": 1733580400},
             note="door scanner check-in"),
        dict(method="POST", target="/organizer/events/new", profile="form_multipart",
             multipart={"boundary": "----WebKitFormBoundaryE7v9Tq2Lm4Np6Rs8", "parts": [
                 {"name": "title", "data": "Community Meetup #14: Rust & Embedded"},
                 {"name": "description", "data": "Doors 18:30. Talks:\n- \"no_std in practice\" (Ana)\n"
                  "- Flashing an RP2040 from your browser (Jo)\nPizza provided; vegan options. "
                  "Code of conduct applies."},
                 {"name": "capacity", "data": "80"},
                 {"name": "cover", "filename": "banner.webp", "content_type": "image/webp",
                  "data_b64": B64(b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00")}]},
             note="organizer creates event with banner"),
    ]


@cat("hotel")
def hotel():
    return [
        dict(target="/search?destination=Lisboa%2C%20Portugal&checkin=2027-04-02&checkout=2027-04-06&"
             "rooms=1&adults=2&children=1&child_ages=7&sort=price_asc", profile="firefox", note="hotel search"),
        dict(method="POST", target="/pms/api/reservations", profile="api",
             headers=[["Authorization", "Bearer pms-ch-manager-8812"], ["X-Property-Id", "LIS-ALF-01"]],
             json={"channel": "booking.com", "channel_ref": "4419023381", "arrival": "2027-04-02", "departure": "2027-04-06",
                   "room_type": "DBL-SUP", "rate_plan": "BAR-NR", "guests": [{"first": "Kenji", "last": "Watanabe"}],
                   "remarks": "Late arrival ~23:30. Non-smoking, high floor if possible.", "total": {"amount": 612.0, "currency": "EUR"}},
             note="channel manager pushes reservation"),
        dict(method="POST", target="/OTA_HotelAvailRQ", profile="none",
             headers=[["User-Agent", "SiteMinder/5.0"], ["Content-Type", "text/xml; charset=utf-8"],
                      ["SOAPAction", '"http://www.opentravel.org/OTA/2003/05/HotelAvail"']],
             body='<?xml version="1.0" encoding="UTF-8"?><OTA_HotelAvailRQ xmlns="http://www.opentravel.org/OTA/2003/05" '
             'EchoToken="abc-1" TimeStamp="2026-12-07T14:00:00Z" Version="1.0"><AvailRequestSegments><AvailRequestSegment>'
             '<StayDateRange Start="2027-04-02" End="2027-04-06"/><RoomStayCandidates><RoomStayCandidate Quantity="1">'
             '<GuestCounts><GuestCount AgeQualifyingCode="10" Count="2"/></GuestCounts></RoomStayCandidate></RoomStayCandidates>'
             '<HotelSearchCriteria><Criterion><HotelRef HotelCode="LISALF"/></Criterion></HotelSearchCriteria>'
             '</AvailRequestSegment></AvailRequestSegments></OTA_HotelAvailRQ>', note="OTA XML availability"),
        dict(method="POST", target="/guest/precheckin/RX-55812", profile="form_multipart",
             multipart={"boundary": "----WebKitFormBoundaryH0t3lPr3Ch3ck1n", "parts": [
                 {"name": "nationality", "data": "JP"}, {"name": "doc_type", "data": "passport"},
                 {"name": "eta", "data": "23:30"},
                 {"name": "passport_scan", "filename": "passport.png", "content_type": "image/png",
                  "data_b64": B64(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x02\x00\x00\x00\x01\x40\x08\x02")}]},
             note="online pre-check-in with ID scan"),
        dict(method="POST", target="/reviews/hotel/LISALF", profile="form",
             form=[["rating", "4"], ["title", "Great location, thin walls"],
                   ["body", "Staff were lovely and breakfast (pastéis de nata!) was a highlight. Only downside: "
                    "you can hear everything from the corridor - bring earplugs. Would stay again."]],
             note="guest review"),
    ]


@cat("library")
def library():
    return [
        dict(target="/sru?version=1.2&operation=searchRetrieve&query=" +
             q('dc.title all "war peace" and dc.creator = tolstoy', safe="") + "&maximumRecords=20&recordSchema=marcxml",
             profile="api", note="SRU CQL search"),
        dict(target="/sru?version=2.0&operation=searchRetrieve&query=" +
             q('bath.isbn = 9780140447934 or (dc.subject any "russian fiction" not dc.type = audiobook)', safe="") +
             "&sortKeys=" + q("dc.date,,0", safe=""), profile="api", note="SRU CQL with boolean and not"),
        dict(target="/catalog?q=" + qp('author:"Le Guin, Ursula K." AND (subject:utopias OR subject:anarchism)') +
             "&f[format][]=Book&f[language][]=English&per_page=25", profile="chrome",
             note="catalogue advanced search (Solr syntax)"),
        dict(method="POST", target="/account/holds", profile="form",
             form=[["record_id", "b1928374"], ["pickup", "CENTRAL"], ["not_needed_after", "2027-01-31"],
                   ["comment", "Any edition is fine, large print preferred"]], note="place hold"),
        dict(target="/oai?verb=ListRecords&metadataPrefix=oai_dc&from=2026-11-01&set=theses", profile="none",
             headers=[["User-Agent", "OAI-Harvester/3.2 (+https://aggregator.example.net)"]], note="OAI-PMH harvest"),
        dict(target="/z3950gw/search?target=loc&query=" + qp("@attr 1=4 \"moby dick\"") , profile="firefox",
             note="Z39.50 gateway PQF query"),
    ]


@cat("science")
def science():
    return [
        dict(target="/tap/sync?REQUEST=doQuery&LANG=ADQL&FORMAT=votable&QUERY=" +
             qp("SELECT TOP 100 source_id, ra, dec, phot_g_mean_mag FROM gaiadr3.gaia_source "
                "WHERE CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 266.4, -29.0, 0.1)) = 1 "
                "AND phot_g_mean_mag < 15 ORDER BY phot_g_mean_mag"),
             profile="none", headers=[["User-Agent", "astroquery/0.4.7 python-requests/2.31.0"]], tags=["code"],
             note="TAP ADQL cone search (SQL-like query language by design)"),
        dict(method="POST", target="/sparql", profile="none",
             headers=[["User-Agent", "SPARQLWrapper/2.0.0"], ["Accept", "application/sparql-results+json"],
                      ["Content-Type", "application/sparql-query"]],
             body="PREFIX wdt: <http://www.wikidata.org/prop/direct/>\nPREFIX wd: <http://www.wikidata.org/entity/>\n"
             "SELECT ?item ?itemLabel WHERE {\n  ?item wdt:P31 wd:Q11173 ;\n        wdt:P2067 ?mass .\n"
             "  FILTER(?mass < 100)\n  SERVICE wikibase:label { bd:serviceParam wikibase:language \"en\". }\n} LIMIT 50",
             note="SPARQL query body"),
        dict(target="/erddap/tabledap/cwwcNDBCMet.csv?station,time,wtmp&station=%2246013%22&time%3E=2026-11-01T00:00:00Z",
             profile="none", headers=[["User-Agent", "R (4.3.2 x86_64-pc-linux-gnu)"]],
             note="ERDDAP constraint query with >= and quotes"),
        dict(target="/api/datasets?q=" + qp("climate AND (precipitation OR rainfall) -model") +
             "&fq=res_format:NetCDF&rows=20", profile="chrome", note="CKAN dataset search"),
        dict(method="POST", target="/api/jobs", profile="api",
             json={"pipeline": "rnaseq-align", "params": {"genome": "GRCh38", "reads": "s3://lab-bucket/run42/*_R{1,2}.fastq.gz",
                                                          "aligner": "star", "extra_args": "--outFilterMultimapNmax 20 --alignSJoverhangMin 8"}},
             note="bioinformatics pipeline submission with glob"),
        dict(target="/pubchem/rest/pug/compound/smiles/" + q("CC(=O)OC1=CC=CC=C1C(=O)O", safe="") + "/property/MolecularWeight,XLogP/JSON",
             profile="api", note="chemistry SMILES in path"),
    ]


@cat("gis")
def gis():
    return [
        dict(target="/geoserver/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=topp%3Astates&STYLES=&"
             "CRS=EPSG%3A4326&BBOX=24.9,-125.0,49.5,-66.9&WIDTH=768&HEIGHT=330&FORMAT=image%2Fpng&TRANSPARENT=true",
             profile="chrome_img", note="WMS GetMap"),
        dict(target="/geoserver/wfs?service=WFS&version=2.0.0&request=GetFeature&typeNames=topp:states&"
             "outputFormat=application/json&CQL_FILTER=" + q("PERSONS > 15000000 AND STATE_NAME LIKE 'N%'", safe=""),
             profile="xhr", note="WFS with CQL filter using LIKE"),
        dict(target="/geoserver/wfs?service=WFS&version=1.1.0&request=GetFeature&typeName=city:parcels&"
             "CQL_FILTER=" + q("INTERSECTS(the_geom, POLYGON((-0.13 51.50, -0.12 51.50, -0.12 51.51, -0.13 51.51, -0.13 51.50)))", safe=""),
             profile="xhr", note="WFS spatial CQL"),
        dict(method="POST", target="/geoserver/wfs", profile="api",
             headers=[["Content-Type", "text/xml"]],
             body='<wfs:GetFeature service="WFS" version="1.1.0" xmlns:wfs="http://www.opengis.net/wfs" '
             'xmlns:ogc="http://www.opengis.net/ogc"><wfs:Query typeName="topp:states"><ogc:Filter>'
             '<ogc:PropertyIsEqualTo><ogc:PropertyName>STATE_ABBR</ogc:PropertyName><ogc:Literal>OR</ogc:Literal>'
             '</ogc:PropertyIsEqualTo></ogc:Filter></wfs:Query></wfs:GetFeature>', note="WFS XML filter POST"),
        dict(target="/tiles/osm/14/8186/5448.pbf", profile="chrome_img", note="vector tile"),
        dict(target="/arcgis/rest/services/Parcels/MapServer/0/query?where=" + qp("ZONING = 'R-1' AND ACRES >= 0.5") +
             "&outFields=*&returnGeometry=true&f=geojson", profile="xhr", note="ArcGIS REST where clause"),
    ]


@cat("searchproxy")
def searchproxy():
    return [
        dict(method="POST", target="/es/products/_search", profile="xhr",
             json={"query": {"bool": {"must": [{"multi_match": {"query": "wireless headphones noise cancelling",
                                                                "fields": ["title^3", "description"]}}],
                                      "filter": [{"range": {"price": {"gte": 50, "lte": 300}}},
                                                 {"terms": {"brand.keyword": ["Sony", "Bose"]}}]}},
                   "aggs": {"brands": {"terms": {"field": "brand.keyword", "size": 10}}}, "size": 24, "from": 0},
             note="ES bool query with aggs"),
        dict(method="POST", target="/opensearch/logs-*/_search?size=0", profile="xhr",
             json={"query": {"query_string": {"query": "status:[500 TO 599] AND NOT path:/healthz AND message:\"timeout\"",
                                              "default_field": "message"}},
                   "aggs": {"per_min": {"date_histogram": {"field": "@timestamp", "fixed_interval": "1m"}}}},
             note="OpenSearch query_string on logs"),
        dict(method="POST", target="/es/_msearch", profile="xhr",
             headers=[["Content-Type", "application/x-ndjson"]],
             body='{"index":"articles"}\n{"query":{"match":{"body":"how to reset password"}},"size":5}\n'
                  '{"index":"faq"}\n{"query":{"match_phrase_prefix":{"q":"reset pass"}},"size":3}\n',
             note="ES msearch ndjson"),
        dict(method="POST", target="/_plugins/_sql?format=json", profile="api",
             headers=[["Authorization", "Basic YW5hbHlzdDpzM2NyM3Q="]],
             json={"query": "SELECT customer_id, COUNT(*) AS n FROM orders WHERE created_at > '2026-11-01' GROUP BY customer_id ORDER BY n DESC LIMIT 10"},
             tags=["code"], note="OpenSearch SQL plugin query via proxy"),
        dict(target="/typesense/collections/books/documents/search?q=" + qp("harry potter") +
             "&query_by=title,authors&filter_by=" + q("publication_year:>1998 && ratings_count:>=100", safe="") +
             "&sort_by=ratings_count:desc", profile="xhr",
             headers=[["X-TYPESENSE-API-KEY", "search-only-xyz"]], note="Typesense filter_by with &&"),
    ]


@cat("observability")
def observability():
    return [
        dict(method="POST", target="/v1/traces", profile="none",
             headers=[["User-Agent", "OTel-OTLP-Exporter-JavaScript/0.45.1"], ["Content-Type", "application/json"]],
             body=json.dumps({"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout-web"}}]},
                             "scopeSpans": [{"spans": [{"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
                                                         "name": "GET /api/cart", "kind": 3, "startTimeUnixNano": "1733580000000000000",
                                                         "endTimeUnixNano": "1733580000120000000",
                                                         "attributes": [{"key": "http.url", "value": {"stringValue": "https://shop.example.com/api/cart?id=7"}},
                                                                        {"key": "http.status_code", "value": {"intValue": "200"}}]}]}]}]}),
             note="OTLP/HTTP JSON trace"),
        dict(method="POST", target="/loki/api/v1/push", profile="none",
             headers=[["User-Agent", "promtail/2.9.3"], ["Content-Type", "application/json"], ["X-Scope-OrgID", "team-a"]],
             body=json.dumps({"streams": [{"stream": {"job": "nginx", "host": "web-3"},
                                           "values": [["1733580000000000000", '192.0.2.7 - - [07/Dec/2026:14:00:00 +0000] "GET /index.html HTTP/1.1" 200 5120 "-" "Mozilla/5.0"'],
                                                      ["1733580001000000000", "level=warn msg=\"slow upstream\" upstream=10.0.0.4:8080 duration=2.31s"]]}]}),
             note="Loki push of access log lines"),
        dict(method="POST", target="/api/v1/write", profile="none",
             headers=[["User-Agent", "Prometheus/2.48.0"], ["Content-Type", "application/x-protobuf"],
                      ["Content-Encoding", "snappy"], ["X-Prometheus-Remote-Write-Version", "0.1.0"]],
             body="\xff\x06\x00\x00sNaPpY\x01\x1a\x00\x00\x8e\x1c\x1b\x0a\x0a\x08__name__\x12\x02up",
             note="Prometheus remote write (snappy)"),
        dict(method="POST", target="/metrics/job/nightly_backup/instance/db-1", profile="none",
             headers=[["User-Agent", "curl/8.5.0"], ["Content-Type", "text/plain"]],
             body="# TYPE backup_duration_seconds gauge\nbackup_duration_seconds 842.5\n"
                  "# TYPE backup_last_success_timestamp gauge\nbackup_last_success_timestamp 1.7335764e+09\n",
             note="Pushgateway exposition format"),
        dict(method="POST", target="/api/v2/write?org=acme&bucket=iot&precision=s", profile="none",
             headers=[["User-Agent", "telegraf/1.29.0"], ["Authorization", "Token tlg-xxxxxx"], ["Content-Type", "text/plain; charset=utf-8"]],
             body='cpu,host=web-3,region=eu-west usage_idle=92.1,usage_user=5.3 1733580000\n'
                  'disk,host=web-3,path=/var/lib usage_percent=71.4 1733580000\n',
             note="InfluxDB line protocol"),
        dict(method="POST", target="/api/v2/spans", profile="none",
             headers=[["User-Agent", "zipkin-js"], ["Content-Type", "application/json"]],
             body=json.dumps([{"traceId": "86154a4ba6e91385", "id": "4d1e00c0db9010db", "name": "select",
                               "localEndpoint": {"serviceName": "orders-db"},
                               "tags": {"sql.query": "SELECT id, total FROM orders WHERE customer_id = ?", "db.type": "postgresql"}}]),
             tags=["code"], note="Zipkin span carrying a parametrised SQL tag"),
        dict(method="POST", target="/sentry/api/42/envelope/", profile="none",
             headers=[["User-Agent", "sentry.javascript.browser/7.91.0"], ["Content-Type", "text/plain;charset=UTF-8"]],
             body='{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","sent_at":"2026-12-07T14:00:00Z"}\n{"type":"event"}\n'
                  '{"exception":{"values":[{"type":"TypeError","value":"Cannot read properties of undefined (reading \'price\')",'
                  '"stacktrace":{"frames":[{"filename":"https://shop.example.com/static/js/app.3f2a.js","function":"renderCart","lineno":1,"colno":48211}]}}]}}\n',
             note="Sentry envelope with JS error"),
    ]


@cat("homeauto")
def homeauto():
    HA = [["Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJoYS1sb25nLWxpdmVkIn0.aGFzaA"]]
    return [
        dict(method="POST", target="/api/services/light/turn_on", profile="api", headers=HA,
             json={"entity_id": "light.living_room", "brightness_pct": 40, "color_temp_kelvin": 2700},
             note="Home Assistant service call"),
        dict(target="/api/history/period/2026-12-06T00:00:00+00:00?filter_entity_id=sensor.outdoor_temp,sensor.humidity&minimal_response",
             profile="api", headers=HA, note="history with + in timestamp"),
        dict(method="POST", target="/api/template", profile="api", headers=HA,
             json={"template": "{{ states('sensor.outdoor_temp') | float(0) | round(1) }} °C, {{ states.sensor | selectattr('attributes.device_class','eq','battery') | list | count }} batteries"},
             note="Jinja template rendering endpoint (user's own template)"),
        dict(method="POST", target="/api/webhook/garage-door-opened-9c1f", profile="none",
             headers=[["User-Agent", "ESP32HTTPClient"], ["Content-Type", "application/x-www-form-urlencoded"]],
             body="state=open&rssi=-67&uptime=86400", note="ESP32 webhook form body"),
        dict(method="POST", target="/hue/api/1028d66426293e821ecfd9ef1a0731df/lights/3/state", profile="none",
             headers=[["User-Agent", "Hue/4.19 CFNetwork/1485 Darwin/23.1.0"], ["Content-Type", "application/json"]],
             body='{"on":true,"bri":180,"xy":[0.4573,0.41]}', note="Hue bridge light state"),
        dict(method="PUT", target="/api/config/automation/config/1701955200123", profile="xhr", headers=HA,
             json={"alias": "Hallway motion at night", "trigger": [{"platform": "state", "entity_id": "binary_sensor.hall_motion", "to": "on"}],
                   "condition": [{"condition": "time", "after": "22:00:00", "before": "06:30:00"}],
                   "action": [{"service": "light.turn_on", "target": {"entity_id": "light.hall"}, "data": {"brightness_pct": 10}}]},
             note="save automation config"),
    ]


TV_UA = "Mozilla/5.0 (Linux; Tizen 7.0) AppleWebKit/537.36 (KHTML, like Gecko) 94.0.4606.31/7.0 TV Safari/537.36"


@cat("smarttv")
def smarttv():
    return [
        dict(target="/tv/api/v3/rails?profile=kids&region=AU&device=tizen&lang=en-AU", profile="none",
             headers=[["User-Agent", TV_UA], ["Accept", "application/json"], ["X-Device-Id", "TZN-7a1f33"]],
             note="TV app home rails"),
        dict(target="/dash/vod/ep-4412/manifest.mpd?token=exp%3D1733590000~acl%3D%2Fdash%2Fvod%2Fep-4412%2F*~hmac%3D8f3e2a",
             profile="none", headers=[["User-Agent", "Roku/DVP-13.0 (13.0.0.4172-AE)"]],
             note="DASH manifest with Akamai-style token (~, *)"),
        dict(method="POST", target="/license/widevine?contentId=ep-4412", profile="none",
             headers=[["User-Agent", TV_UA], ["Content-Type", "application/octet-stream"]],
             body="\x08\x01\x12\x10\x93\x78\x99\x31\x0c\x2a\x4d\x5c\xa1\xb2\xc3\xd4\xe5\xf6\x07\x18",
             note="Widevine license challenge"),
        dict(method="POST", target="/tv/activate", profile="form",
             form=[["code", "H7K-2QX"]], note="device activation code from phone"),
        dict(method="POST", target="/tv/api/v3/progress", profile="none",
             headers=[["User-Agent", "AppleTV11,1/1.1 tvOS/17.2"], ["Content-Type", "application/json"],
                      ["Authorization", "Bearer tv-8821"]],
             body='{"content_id":"ep-4412","position_ms":1523000,"duration_ms":2880000,"state":"paused"}',
             note="resume position heartbeat"),
    ]


@cat("soap")
def soap():
    return [
        dict(method="POST", target="/services/StockQuote", profile="none",
             headers=[["User-Agent", "Apache-CXF/3.5.7"], ["Content-Type", "text/xml; charset=UTF-8"],
                      ["SOAPAction", '"urn:GetLastTradePrice"']],
             body='<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
             '<soap:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">'
             '<wsse:UsernameToken><wsse:Username>erp</wsse:Username><wsse:Password>Tr0ub4dor&amp;3</wsse:Password>'
             '</wsse:UsernameToken></wsse:Security></soap:Header><soap:Body><m:GetLastTradePrice xmlns:m="urn:stock">'
             '<m:Symbol>ACME</m:Symbol></m:GetLastTradePrice></soap:Body></soap:Envelope>',
             note="SOAP 1.1 with WS-Security username token"),
        dict(method="POST", target="/ws/CustomerService", profile="none",
             headers=[["User-Agent", "Axis2"], ["Content-Type", 'application/soap+xml; charset=UTF-8; action="urn:updateCustomer"']],
             body='<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope">'
             '<env:Body><ns:updateCustomer xmlns:ns="urn:crm"><ns:id>C-1029</ns:id><ns:name>O&apos;Brien &amp; Sons Ltd</ns:name>'
             '<ns:note><![CDATA[Prefers invoices by post. Contact: "Mary" <accounts@obrien.example>]]></ns:note>'
             '</ns:updateCustomer></env:Body></env:Envelope>', note="SOAP 1.2 with CDATA and entities"),
        dict(method="POST", target="/xmlrpc.php", profile="none",
             headers=[["User-Agent", "wp-iphone/24.1 (iOS 17.2)"], ["Content-Type", "text/xml"]],
             body="<?xml version=\"1.0\"?><methodCall><methodName>wp.getPosts</methodName><params>"
             "<param><value><int>1</int></value></param><param><value><string>editor</string></value></param>"
             "<param><value><string>app-pass-1234</string></value></param><param><value><struct><member>"
             "<name>number</name><value><int>10</int></value></member></struct></value></param></params></methodCall>",
             note="XML-RPC from mobile blogging app"),
        dict(target="/services/StockQuote?wsdl", profile="none", headers=[["User-Agent", "SoapUI 5.7.2"]],
             note="fetch WSDL"),
        dict(method="POST", target="/RPC2", profile="none",
             headers=[["User-Agent", "Python-xmlrpc/3.11"], ["Content-Type", "text/xml"]],
             body="<?xml version='1.0'?><methodCall><methodName>supervisor.getAllProcessInfo</methodName><params></params></methodCall>",
             note="supervisord XML-RPC"),
    ]


@cat("social")
def social():
    return [
        dict(method="POST", target="/api/v1/statuses", profile="mobile_app",
             headers=[["Idempotency-Key", "2f5e1c7a-0b3d-4a8e-9c6f-7d1e2b3a4c5f"]],
             json={"status": "Finally finished the sourdough experiment 🍞 72% hydration, 18h cold retard. "
                   "Crumb photo below - what do you think? #baking #sourdough @breadnerds@bake.example",
                   "visibility": "public", "media_ids": ["110443"], "language": "en"},
             note="Mastodon-style post with emoji, hashtags, mention"),
        dict(method="POST", target="/api/v1/media", profile="mobile_app",
             multipart={"boundary": "mastodon-7H2kQ9", "parts": [
                 {"name": "file", "filename": "crumb.jpg", "content_type": "image/jpeg",
                  "data_b64": B64(b"\xff\xd8\xff\xe1\x00\x16Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00\xff\xd9")},
                 {"name": "description", "data": "Cross-section of a loaf with large open holes"}]},
             note="media upload with alt text"),
        dict(target="/api/v2/search?q=" + qp("#rustlang OR from:@ferris since:2026-12-01") + "&type=statuses&limit=20",
             profile="xhr", note="social search operators"),
        dict(method="POST", target="/xrpc/com.atproto.repo.createRecord", profile="api",
             headers=[["Authorization", "Bearer eyJ0eXAiOiJhdCtqd3QifQ.eyJzdWIiOiJkaWQ6cGxjOmFiYyJ9.c2ln"]],
             json={"repo": "did:plc:abc123xyz", "collection": "app.bsky.feed.post",
                   "record": {"$type": "app.bsky.feed.post", "text": "Hot take: tabs > spaces, but only in Makefiles 😅",
                              "createdAt": "2026-12-07T14:12:00.000Z", "langs": ["en"]}},
             note="AT protocol createRecord"),
        dict(method="POST", target="/posts/8812/reply", profile="form",
             form=[["body", "lol same. My terminal history is basically `git status` x1000 then `rm -rf node_modules && npm i`"],
                   ["_csrf", "Zx8Yw7Vu6Ts5"]], tags=["code"], note="reply joking with shell commands"),
        dict(method="POST", target="/inbox", profile="none",
             headers=[["User-Agent", "Mastodon/4.2.3 (http.rb/5.1.1; +https://social.example.org/)"],
                      ["Content-Type", 'application/activity+json'], ["Date", "Mon, 07 Dec 2026 14:00:00 GMT"],
                      ["Digest", "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="],
                      ["Signature", 'keyId="https://social.example.org/users/ana#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="c2lnbmF0dXJl"']],
             body=json.dumps({"@context": "https://www.w3.org/ns/activitystreams", "type": "Like",
                              "id": "https://social.example.org/users/ana#likes/9911",
                              "actor": "https://social.example.org/users/ana",
                              "object": "https://shop.example.com/users/bakery/statuses/110443"}),
             note="ActivityPub signed inbox delivery"),
    ]


@cat("comments")
def comments():
    return [
        dict(method="POST", target="/wp-comments-post.php", profile="form",
             form=[["comment", "Thank you for this! I tried the recipe for a 1.5 kg chicken and 90 min at 180°C was perfect. "
                    "One question: can I swap the white wine for stock? My daughter doesn't like the taste."],
                   ["author", "Margaret H."], ["email", "mags1954@example.net"], ["url", ""],
                   ["comment_post_ID", "2231"], ["comment_parent", "0"]], note="WordPress comment"),
        dict(method="POST", target="/api/comments", profile="xhr",
             json={"thread": "news/2026/12/council-budget", "parent": None,
                   "text": "The article says the budget rises 4% but the table shows 3.2% -> which is it? "
                   "Either way, closing the library on Sundays is a terrible idea."},
             note="news comment with arrow"),
        dict(method="POST", target="/api/comments", profile="xhr",
             json={"thread": "blog/why-we-moved-off-k8s", "parent": 55102,
                   "text": "We did the same & saved ~40%. But \"just use VMs\" ignores the on-call cost... "
                   "who patches the OS at 3am? <- this is the real question."},
             note="reply with quotes and <-"),
        dict(method="POST", target="/disqus/api/3.0/posts/create.json", profile="xhr",
             form=[["thread", "8841220"], ["message", "Great write-up. Small typo in paragraph 3: \"their\" should be \"there\"."],
                   ["api_key", "E8Uh5l5fHZ6gD8U3KycjAIAk46f68Zw7C6eW8WSjZvCLXebZ7p0r1yrYDrLilk2F"]],
             note="embedded comment widget"),
        dict(method="POST", target="/forum-embed/comment", profile="form",
             form=[["body", "Heads-up for anyone copying the snippet: the example uses <script src=\"...\"> in the <head>, "
                    "but with `defer` you can put it there safely. Also `document.querySelector('#app')` returns null "
                    "if the script runs before the DOM is ready."], ["post", "how-to-embed-widget"]],
             tags=["code"], note="comment discussing an HTML/JS snippet"),
        dict(target="/comments?post=2231&sort=oldest&page=2", profile="chrome", note="load more comments"),
        dict(method="POST", target="/api/comments/77120/report", profile="xhr",
             json={"reason": "spam", "details": "Same link posted 6 times under different names"},
             note="report a comment"),
    ]


@cat("reviews")
def reviews():
    return [
        dict(method="POST", target="/products/ergochair-pro/reviews", profile="form",
             form=[["rating", "2"], ["title", "Comfortable but the armrest broke after 3 weeks"],
                   ["body", "Sat in it ~8h/day. Lumbar support is good; however the left armrest cracked where it "
                    "joins the base. Support offered a replacement part (50% off?!) instead of a new chair. "
                    "Not great for a £399 product."], ["recommend", "no"], ["nickname", "wfh_dad"]],
             note="negative product review"),
        dict(method="POST", target="/api/reviews", profile="mobile_app",
             json={"place_id": "ChIJ2eUgeAK6j4ARbn5u_wAGqWA", "stars": 5,
                   "text": "Best ramen in the area!!! Broth is rich, noodles firm. Go before 12 or expect a 30 min queue. "
                   "Staff speak English + 日本語."}, note="place review with Japanese"),
        dict(target="/products/ergochair-pro/reviews?rating=1,2&sort=helpful&verified=true&page=1", profile="firefox",
             note="filter reviews"),
        dict(method="POST", target="/api/reviews/99012/helpful", profile="xhr", json={"vote": "up"}, note="vote helpful"),
        dict(method="POST", target="/seller/reviews/99012/response", profile="form",
             form=[["response", "Hi, we're sorry to hear that. The armrest issue was a batch defect (serial 2026-09-*). "
                    "Please email care@example.com with order #A-55120 and we'll send a full replacement chair."]],
             note="seller response to review"),
        dict(method="POST", target="/reviews/import", profile="api",
             json={"source": "trustpilot", "reviews": [
                 {"id": "tp-1", "stars": 4, "title": "Quick delivery", "body": "Arrived next day; packaging was a bit excessive."},
                 {"id": "tp-2", "stars": 1, "title": "Never again", "body": "Charged twice, refund took 3 weeks & 4 emails."}]},
             note="bulk review import"),
    ]


@cat("translation")
def translation():
    tmx = ('<?xml version="1.0" encoding="UTF-8"?>\n<tmx version="1.4"><header creationtool="OmegaT" srclang="en" '
           'datatype="plaintext" segtype="sentence" adminlang="en" o-tmf="OmegaT TMX" creationtoolversion="6.0"/>'
           '<body><tu><tuv xml:lang="en"><seg>Click &lt;b&gt;Save&lt;/b&gt; to keep your changes.</seg></tuv>'
           '<tuv xml:lang="de"><seg>Klicken Sie auf &lt;b&gt;Speichern&lt;/b&gt;, um Ihre Änderungen zu behalten.</seg></tuv></tu>'
           '<tu><tuv xml:lang="en"><seg>{count} items selected</seg></tuv><tuv xml:lang="de"><seg>{count} Elemente ausgewählt</seg></tuv></tu>'
           '</body></tmx>\n')
    return [
        dict(method="POST", target="/api/tm/import", profile="api_multipart",
             multipart={"boundary": "tmx-upload-11aa22", "parts": [
                 {"name": "project", "data": "webapp-de"},
                 {"name": "file", "filename": "webapp_en-de.tmx", "content_type": "application/x-tmx+xml", "data": tmx}]},
             note="TMX upload with escaped markup"),
        dict(method="POST", target="/api/v2/translate", profile="api",
             headers=[["Authorization", "DeepL-Auth-Key 8f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b:fx"]],
             form=[["text", "Your order has shipped and should arrive within 2-3 business days."],
                   ["text", "Questions? Reply to this email."], ["source_lang", "EN"], ["target_lang", "PL"],
                   ["tag_handling", "html"]], note="MT API with repeated text param"),
        dict(method="PUT", target="/api/projects/webapp/strings/checkout.button.pay", profile="xhr",
             json={"locale": "fr", "value": "Payer {amount} maintenant", "context": "Primary CTA on checkout; max 24 chars",
                   "plural_forms": None}, note="edit a string with placeholder"),
        dict(method="POST", target="/api/projects/webapp/strings/bulk", profile="xhr",
             json={"locale": "ar", "strings": {"nav.home": "الرئيسية", "nav.cart": "عربة التسوق",
                                               "cart.empty": "سلة التسوق فارغة. <a href=\"/shop\">تابع التسوق</a>"}},
             note="Arabic strings containing an <a> link"),
        dict(target="/api/tm/lookup?src=en&tgt=ja&q=" + qp("Are you sure you want to delete %s?") + "&fuzzy=75",
             profile="xhr", note="TM fuzzy lookup with printf placeholder"),
        dict(method="POST", target="/api/files/upload", profile="api_multipart",
             multipart={"boundary": "po-upload-55", "parts": [
                 {"name": "file", "filename": "messages.po", "content_type": "text/x-gettext-translation",
                  "data": 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Plural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);\\n"\n\n'
                          'msgid "%d file"\nmsgid_plural "%d files"\nmsgstr[0] "%d plik"\nmsgstr[1] "%d pliki"\nmsgstr[2] "%d plików"\n'}]},
             note="gettext .po with plural expression"),
    ]


@cat("passwords")
def passwords():
    return [
        dict(method="POST", target="/api/ciphers", profile="none",
             headers=[["User-Agent", "Bitwarden_Mobile/2024.11.0 (Android 14; SDK 34; Model Pixel 7)"],
                      ["Content-Type", "application/json; charset=utf-8"], ["Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln"],
                      ["Bitwarden-Client-Name", "mobile"], ["Device-Type", "0"]],
             body=json.dumps({"type": 1, "name": "2.Pm3kW1q0QZ5sD7u+8yA3bA==|9gY2d0Xq1x/5Qp3eZk8yVg==|Rk6V5d1u2c8=",
                              "login": {"username": "2.aH4tP0o8Cw==|Jm6B2yN1mQ==|cZk1",
                                        "password": "2.Lq9sX7bR1e0aN3fK/y2D+w==|xV8zQ5w3mH1pZ4kL0nJ7iQ==|M8sa=",
                                        "uris": [{"uri": "2.kW3d==|a8Zq==|YQ==", "match": None}]},
                              "notes": None, "favorite": False}),
             note="vault item with encrypted strings"),
        dict(target="/api/sync?excludeDomains=true", profile="none",
             headers=[["User-Agent", "Bitwarden_CLI/2024.11.0"], ["Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln"]],
             note="vault sync"),
        dict(method="POST", target="/identity/connect/token", profile="none",
             headers=[["User-Agent", "Bitwarden_Desktop/2024.11.1"], ["Content-Type", "application/x-www-form-urlencoded; charset=utf-8"],
                      ["Auth-Email", "a2F0ZUBleGFtcGxlLm9yZw"]],
             body="grant_type=password&username=kate%40example.org&password=Jm9vVGg1ZkhPU3pPeE5CWmJaM2JqTmZmVkd0Z3JFWT0%3D&"
                  "scope=api%20offline_access&client_id=desktop&deviceType=8&deviceIdentifier=7b1f2e3d-aaaa-bbbb-cccc-0123456789ab&deviceName=linux",
             note="password-manager login (master password hash)"),
        dict(method="PUT", target="/v1/vaults/7yj2kq/items/a1b2c3", profile="none",
             headers=[["User-Agent", "1Password for Mac/8.10.20"], ["Content-Type", "application/jose+json"]],
             body=json.dumps({"kid": "mp", "enc": "A256GCM", "cty": "b5+jwk+json", "iv": "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
                              "data": "OvXwR+lNw2ayQ1/3ulxq4MT6Hx+Yh8tS9V1g2Pr0ZJk+Q3tK1r5rGq4dJ9f8sF2u/=="}),
             note="encrypted item blob (base64 with / + =)"),
        dict(method="POST", target="/keepass/upload", profile="form_multipart",
             multipart={"boundary": "----WebKitFormBoundaryKdbx4xyz", "parts": [
                 {"name": "db", "filename": "Passwords.kdbx", "content_type": "application/octet-stream",
                  "data_b64": B64(b"\x03\xd9\xa2\x9a\x67\xfb\x4b\xb5\x01\x00\x04\x00\x02\x10\x00\x00\x00\x31\xc1\xf2\xe6\xbf\x71\x43\x50")}]},
             note="KeePass database upload"),
    ]


@cat("wallet")
def wallet():
    return [
        dict(method="POST", target="/rpc", profile="none",
             headers=[["User-Agent", "MetaMask/11.5.0"], ["Content-Type", "application/json"], ["Origin", "chrome-extension://nkbihfbeogaeaoehlefnkodbefgpgknn"]],
             body='{"jsonrpc":"2.0","id":44,"method":"eth_call","params":[{"to":"0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",'
                  '"data":"0x70a08231000000000000000000000000d8da6bf26964af9d7eed9e03e53415d37aa96045"},"latest"]}',
             note="JSON-RPC eth_call"),
        dict(method="POST", target="/rpc", profile="none",
             headers=[["User-Agent", "ethers/6.9.0"], ["Content-Type", "application/json"]],
             body='[{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]},'
                  '{"jsonrpc":"2.0","id":2,"method":"eth_getBalance","params":["0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045","latest"]}]',
             note="batched JSON-RPC"),
        dict(target="/api/v1/prices?ids=bitcoin,ethereum,solana&vs_currencies=eur,usd&include_24hr_change=true",
             profile="xhr", note="price ticker"),
        dict(method="POST", target="/api/tx/broadcast", profile="mobile_app",
             json={"chain": "bitcoin", "hex": "0200000001f2b3eb2deb76566e7324307cd47c35eeb88413f971d88519859b1834307ecfec010000006a47304402"
                   "20587ce0cf0252e2db3a7c3c91b355aa8f3385e128227cd8a7f15f2f0a7b9c4d8e02201f6c4b8c"},
             note="raw transaction broadcast"),
        dict(method="POST", target="/api/account/withdrawals", profile="xhr",
             headers=[["X-2FA-Code", "481 229"]],
             json={"asset": "USDC", "network": "ERC20", "amount": "250.00",
                   "address": "0x71C7656EC7ab88b098defB751B7401B5f6d8976F", "memo": "to cold wallet"},
             note="exchange withdrawal"),
    ]


@cat("genealogy")
def genealogy():
    ged = ("0 HEAD\n1 SOUR Gramps\n2 VERS 5.1.6\n1 GEDC\n2 VERS 5.5.1\n1 CHAR UTF-8\n"
           "0 @I1@ INDI\n1 NAME Johann /Schröder/\n1 SEX M\n1 BIRT\n2 DATE ABT 1842\n2 PLAC Bremen, Germany\n"
           "1 NOTE Emigrated 1871 via Hamburg; \"Schroeder\" in US census\n0 @I2@ INDI\n1 NAME Anna Maria /Dwyer/\n"
           "1 SEX F\n0 @F1@ FAM\n1 HUSB @I1@\n1 WIFE @I2@\n1 MARR\n2 DATE 12 MAY 1874\n2 PLAC St. Louis, Missouri, USA\n0 TRLR\n")
    return [
        dict(method="POST", target="/trees/import", profile="form_multipart",
             multipart={"boundary": "----WebKitFormBoundaryGedc0m551", "parts": [
                 {"name": "tree_name", "data": "Schröder-Dwyer family"},
                 {"name": "gedcom", "filename": "family.ged", "content_type": "application/octet-stream", "data": ged}]},
             note="GEDCOM upload"),
        dict(target="/search/records?first=Johann&last=Schr*der&birth_year=1842&birth_range=5&place=Bremen&collection=passenger-lists",
             profile="chrome", note="record search with wildcard"),
        dict(method="POST", target="/api/persons/I1/facts", profile="xhr",
             json={"type": "Immigration", "date": "1871-04", "place": "New York, NY",
                   "source": "Passenger list, SS Hammonia, line 23", "note": "Listed as 'Joh. Schroeder, 29, farmer'"},
             note="add a fact"),
        dict(method="POST", target="/community/messages", profile="form",
             form=[["to", "user_88121"], ["subject", "Possible DNA match - Dwyer line (Co. Cork?)"],
                   ["body", "Hi! We share 84 cM on chromosome 7. My great-great-grandmother was Anna Maria Dwyer b. ~1850, "
                    "possibly from Skibbereen. Does that ring a bell? Happy to share my tree."]],
             note="message between researchers"),
        dict(target="/platform/tree/persons/KWQS-BBQ/ancestry?generations=4&personDetails", profile="api",
             headers=[["Authorization", "Bearer fs-USYS1234"], ["Accept", "application/x-gedcomx-v1+json"]],
             note="GEDCOM-X ancestry API"),
    ]


@cat("intl_realestate")
def intl_realestate():
    return [
        dict(target="/kaufen/wohnung/berlin-prenzlauer-berg?preis_bis=450000&zimmer_ab=3&flaeche_ab=80&balkon=1&sortierung=neueste",
             profile="firefox", note="German flat search"),
        dict(target="/ja/chintai/tokyo/setagaya-ku?madori=2LDK&yachin_max=180000&eki_toho=10", profile="safari",
             note="Japanese rental search"),
        dict(method="POST", target="/anuncio/contactar/83112", profile="form",
             form=[["nombre", "Lucía Fernández"], ["telefono", "+34 612 34 56 78"],
                   ["mensaje", "Hola, ¿sigue disponible el piso? Me interesa visitarlo el sábado por la mañana. ¿Admiten mascotas (un gato)?"]],
             note="Spanish enquiry"),
        dict(target="/api/v1/listings?bbox=2.29,48.85,2.36,48.88&type=appartement&dpe=A,B,C&prix_m2_max=12000",
             profile="xhr", note="French map search with DPE"),
        dict(method="POST", target="/makler/inserat/neu", profile="form_multipart",
             multipart={"boundary": "----WebKitFormBoundaryImmo7z7z7z", "parts": [
                 {"name": "titel", "data": "Helle 3-Zi.-Whg. mit Südbalkon & EBK"},
                 {"name": "beschreibung", "data": "Altbau (Bj. 1908), 3,2 m Deckenhöhe, Dielenboden. Energieausweis: "
                  "Verbrauch 128 kWh/(m²·a). Provision: 3,57 % inkl. MwSt."},
                 {"name": "grundriss", "filename": "grundriss.pdf", "content_type": "application/pdf",
                  "data": "%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"}]},
             note="agent listing with PDF floor plan"),
    ]


@cat("localnews")
def localnews():
    return [
        dict(target="/2026/12/07/council-approves-new-cycle-lanes/", profile="chrome_mobile",
             headers=[["Referer", "https://news.google.com/"], ["Cookie", "_ga=GA1.2.1234567890.1733500000; paywall_count=3"]],
             note="article page from aggregator"),
        dict(target="/amp/2026/12/07/council-approves-new-cycle-lanes/?amp_js_v=0.1&usqp=mq331AQIUAKwASCAAgM%3D",
             profile="chrome_mobile", note="AMP article"),
        dict(method="POST", target="/tips/submit", profile="form_multipart",
             multipart={"boundary": "----WebKitFormBoundaryTipL1ne2026", "parts": [
                 {"name": "contact", "data": "anonymous"},
                 {"name": "tip", "data": "The road works on Mill Lane have been abandoned for 6 weeks; barriers block the "
                  "pavement & wheelchair users have to walk in the road. Photo attached."},
                 {"name": "photo", "filename": "mill_lane.jpg", "content_type": "image/jpeg",
                  "data_b64": B64(b"\xff\xd8\xff\xdb\x00\x43\x00\x08\x06\x06\x07\x06\x05\x08\x07\x07\xff\xd9")}]},
             note="reader news tip with photo"),
        dict(target="/search?q=" + qp('"planning application" 2026/0412/FUL') + "&section=local", profile="firefox",
             note="site search with quoted phrase and slashes"),
        dict(method="POST", target="/letters", profile="form",
             form=[["name", "R. Patel"], ["town", "Hebden Bridge"],
                   ["letter", "Sir - Your report (Dec 5) claims 'most residents' oppose the lanes. The council's own survey "
                    "says 58% in favour. Please correct this; accuracy matters more than clicks."]],
             note="letter to the editor"),
    ]


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        if old.endswith(".jsonl"):
            os.remove(os.path.join(OUT, old))
    total = 0
    for name, fn in CATS.items():
        with open(os.path.join(OUT, name + ".jsonl"), "w", encoding="utf-8") as f:
            for i, e in enumerate(fn(), 1):
                e = dict(e)
                row = {"id": "h13-%s-%03d" % (name, i), "category": name, "expect": "pass"}
                row.update(e)
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                total += 1
    print("benign: %d entries in %d categories" % (total, len(CATS)))


if __name__ == "__main__":
    main()
