"""Benign entries, part C: clinics, schools, libraries, giving, making, science, dev/ops."""
import json
from urllib.parse import quote
from lib import E, write


def cdumps(o, **kw):
    """Compact JSON as SDKs and Slack send it."""
    return json.dumps(o, separators=(",", ":"), **kw)

JPEG_B64 = "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA="

vet_clinic = [
    E("/vet/booking/slots?clinic=4&service=vaccination&species=cat&date=2026-12-09", profile="xhr", note="slot lookup"),
    E("/vet/booking", "POST", "form",
      form=[["clinic", "4"], ["slot", "2026-12-09T10:20"], ["pet_name", "Señor Bigotes"], ["species", "cat"], ["breed", "European shorthair"],
            ["reason", "Annual booster + please check a small lump on his left side (noticed ~2 weeks ago)"],
            ["owner_phone", "+34 612 345 678"], ["first_visit", "no"]],
      note="booking form"),
    E("/vet/api/pets/881", "PATCH", "xhr", json={"weight": "4.2 kg", "allergies": ["chicken"], "meds": "Meloxicam 0.5 mg/ml — 0.2 ml once daily"},
      note="update pet profile"),
    E("/vet/api/pets/881/records?type=vaccinations&format=json", profile="xhr", note="vaccination records"),
    E("/vet/booking/BK-55120/cancel", "POST", "form", form=[["reason", "other"], ["details", "Il gatto sta meglio, rimandiamo a gennaio."]],
      note="cancel in Italian"),
    E("/vet/api/pets/881/photos", "POST", "form_multipart",
      multipart={"boundary": "----WebKitFormBoundaryVetP1c", "parts": [
          {"name": "caption", "data": "lump, left flank (day 14)"},
          {"name": "photo", "filename": "IMG_4410.JPG", "content_type": "image/jpeg", "data_b64": JPEG_B64}]},
      note="photo for the vet"),
]

or_h = [["Authorization", "Bearer oneroster_tok_44"], ["User-Agent", "LMSSync/2.1"]]
school_sis = [
    E("/api/sis/v2/grades?term=2026F&student=S10442", profile="xhr", note="student grades"),
    E("/api/sis/v2/gradebook/sections/ENG10-3/assignments/a55/scores", "PUT", "xhr",
      json={"scores": [{"student": "S10442", "points": 46, "max": 50, "comment": "Great improvement on essays; cite sources (MLA) next time."},
                       {"student": "S10460", "points": 38, "max": 50, "comment": "Late (2 days) — -5% applied per policy."}]},
      note="teacher enters scores"),
    E("/sis/attendance/take", "POST", "form",
      form=[["section", "MATH8-2"], ["date", "2026-12-07"], ["status[S10442]", "P"], ["status[S10460]", "T"], ["status[S10477]", "A"],
            ["note[S10477]", "parent called: dentist"]],
      note="attendance form with bracketed keys"),
    E("/ims/oneroster/v1p1/classes/cl-88/students?limit=100&offset=0&filter=" + quote("status='active' AND familyName~'Mc'", safe="") + "&sort=familyName&orderBy=asc",
      profile="api", headers=or_h, note="OneRoster filter expression"),
    E("/sis/messages/send", "POST", "form",
      form=[["to", "teacher:t_301"], ["subject", "Falta do João na sexta"], ["body", "Bom dia, professora! O João vai faltar na sexta (consulta médica às 10h). Pode enviar a lição de casa? Obrigada, Ana"]],
      note="parent message in Portuguese"),
    E("/sis/reports/report-card?student=S10442&term=2026F&format=pdf", headers=[["Accept", "application/pdf"]], note="report card PDF"),
]

NCIP = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<NCIPMessage xmlns=\"http://www.niso.org/2008/ncip\" version=\"http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd\">\n"
        "  <RequestItem>\n    <InitiationHeader><FromAgencyId><AgencyId>ILL-HUB</AgencyId></FromAgencyId><ToAgencyId><AgencyId>MAINLIB</AgencyId></ToAgencyId></InitiationHeader>\n"
        "    <UserId><UserIdentifierValue>2210457</UserIdentifierValue></UserId>\n    <BibliographicId><BibliographicRecordId><BibliographicRecordIdentifier>b1234567</BibliographicRecordIdentifier></BibliographicRecordId></BibliographicId>\n"
        "    <RequestType>Hold</RequestType>\n    <RequestScopeType>Bibliographic Item</RequestScopeType>\n    <PickupLocation>MAIN</PickupLocation>\n  </RequestItem>\n</NCIPMessage>\n")
library_ils = [
    E("/catalog/Search/Results?lookfor=Le+Petit+Prince&type=AllFields&filter%5B%5D=format%3A%22Book%22&filter%5B%5D=language%3A%22French%22", profile="firefox",
      note="catalog search with facets"),
    E("/api/library/holds", "POST", "xhr", json={"patron": "2210457", "bib": "b1234567", "pickup": "MAIN", "not_needed_after": "2027-01-31"},
      note="place hold"),
    E("/patron/checkouts/renew", "POST", "form", form=[["items[]", "i3301442"], ["items[]", "i3301509"], ["renew_selected", "Renew selected"]],
      note="renew items"),
    E("/api/library/holds?patron=2210457&branch=MAIN&status=ready", profile="xhr", note="list holds"),
    E("/ncip", "POST", "api", headers=[["Content-Type", "application/xml; charset=utf-8"], ["User-Agent", "ILL-Hub/3.4"]], body=NCIP,
      note="NCIP RequestItem XML"),
    E("/library/covers?isbn=9780156012195&size=M", profile="chrome_img", note="cover image"),
]

donations = [
    E("/give/st-brigid", "POST", "form",
      form=[["amount", "50"], ["amount_other", ""], ["frequency", "monthly"], ["fund", "building"],
            ["dedication", "In memory of Grandma Rosa — she loved this parish & its choir"], ["gift_aid", "1"], ["cover_fees", "1"]],
      note="parish donation form"),
    E("/api/campaigns/roof-fund/pledges", "POST", "xhr",
      json={"amount": 30000, "currency": "KRW", "anonymous": False, "display_name": "김민지", "comment": "지붕 공사 꼭 성공하길 바랍니다! 화이팅 💪"},
      note="pledge with Korean comment"),
    E("/campaigns/roof-fund?ref=fb&utm_source=facebook&utm_campaign=advent&fbclid=IwAR2xYz0aBcD", profile="chrome_mobile", note="campaign page"),
    E("/api/campaigns/roof-fund/updates", "POST", "xhr",
      json={"title": "We're 80% there!", "body": "Thank you all — 412 donors so far. The scaffolding goes up on 12/15 (weather permitting). Next goal: $5,000 for gutters."},
      note="organizer update"),
    E("/api/campaigns/roof-fund/donors?page=2&per_page=25&sort=recent", profile="xhr", note="donor wall"),
    E("/give/receipts/request", "POST", "form",
      form=[["email", "h.mueller@example.de"], ["year", "2026"], ["name_on_receipt", "Dr. Hans-Jürgen Müller"], ["address", "Lindenstraße 7, 10969 Berlin"]],
      note="annual receipt request"),
]

STL = ("solid bracket\n facet normal 0 0 1\n  outer loop\n   vertex 0 0 10\n   vertex 42 0 10\n   vertex 42 20 10\n  endloop\n endfacet\n"
       " facet normal 0 0 -1\n  outer loop\n   vertex 0 0 0\n   vertex 42 20 0\n   vertex 42 0 0\n  endloop\n endfacet\nendsolid bracket\n")
GCODE = (";FLAVOR:Marlin\n;Generated with Cura_SteamEngine 5.6.0\n;Filament used: 1.843m\nM140 S60\nM104 S200\nM190 S60\nM109 S200\n"
         "G28 ; home all axes\nG92 E0\nG1 Z2.0 F3000\nG1 X0.1 Y20 Z0.3 F5000.0\nG1 X0.1 Y200.0 Z0.3 F1500.0 E15 ; prime line\n;LAYER:0\nG1 F1800 X10.2 Y10.4 E0.5231\nM107\n")
op_h = [["X-Api-Key", "A1B2C3D4E5F6A7B8C9D0E1F2A3B4C5D6"], ["User-Agent", "OctoPrint-Cura-Plugin/1.4"]]
cad_3dprint = [
    E("/api/print/quotes/upload", "POST", "form_multipart",
      multipart={"boundary": "----WebKitFormBoundaryStL0042", "parts": [
          {"name": "units", "data": "mm"},
          {"name": "model", "filename": "wall bracket v3.stl", "content_type": "model/stl", "data": STL}]},
      note="ASCII STL upload for quote"),
    E("/api/files/local", "POST", "api_multipart", headers=op_h,
      multipart={"boundary": "----OctoPrintBoundary9f8e", "parts": [
          {"name": "file", "filename": "bracket_0.2mm_PETG.gcode", "content_type": "application/octet-stream", "data": GCODE},
          {"name": "select", "data": "true"}, {"name": "print", "data": "false"}]},
      note="G-code upload to printer"),
    E("/api/job", "POST", "api", headers=op_h, json={"command": "start"}, note="start job"),
    E("/api/printer/command", "POST", "api", headers=op_h, json={"commands": ["M106 S255", "G28 X Y", "M117 Hello from OctoPrint"]},
      note="send G-code commands"),
    E("/api/print/quote?material=PETG&color=galaxy%20black&infill=20&layer=0.2&qty=3&finish=sanded", profile="xhr", note="instant quote"),
    E("/api/cad/documents/d88/parts/12/parameters", "POST", "xhr",
      json={"parameters": [{"name": "width", "expression": "42 mm"}, {"name": "height", "expression": "width * 0.5 + 3 mm"},
                           {"name": "holes", "expression": "floor(width / 12 mm)"}]},
      note="parametric CAD expressions"),
]

FASTA = (">sp|P69905|HBA_HUMAN Hemoglobin subunit alpha OS=Homo sapiens OX=9606 GN=HBA1 PE=1 SV=2\n"
         "MVLSPADKTNVKAAWGKVGAHAGEYGAEALERMFLSFPTTKTYFPHFDLSHGSAQVKGHGKKVADALTNAVAHV\n"
         "DDMPNALSALSDLHAHKLRVDPVNFKLLSHCLLVTLAAHLPAEFTPAVHASLDKFLASVSTVLTSKYR\n")
VCF = ("##fileformat=VCFv4.2\n##source=GATK-HaplotypeCaller\n##INFO=<ID=DP,Number=1,Type=Integer,Description=\"Total Depth\">\n"
       "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tNA12878\n"
       "1\t10177\trs367896724\tA\tAC\t100\tPASS\tDP=35\tGT\t0|1\n17\t43045712\t.\tG\tA\t61.2\tPASS\tDP=22\tGT\t0/1\n")
bioinformatics = [
    E("/blast/upload", "POST", "form_multipart",
      multipart={"boundary": "----WebKitFormBoundaryFaStA1", "parts": [
          {"name": "program", "data": "blastp"}, {"name": "database", "data": "swissprot"},
          {"name": "queryfile", "filename": "HBA_HUMAN.fasta", "content_type": "application/octet-stream", "data": FASTA}]},
      note="FASTA upload"),
    E("/blast/Blast.cgi", "POST", "form",
      form=[["CMD", "Put"], ["PROGRAM", "blastn"], ["DATABASE", "core_nt"], ["MEGABLAST", "on"],
            ["QUERY", ">query_1 16S fragment\nAGAGTTTGATCCTGGCTCAGATTGAACGCTGGCGGCAGGCCTAACACATGCAAGTCGAACGGTAACAGGAAGAAGCTTGCTTCTTTGCTGACGAGTGGCGGACGGG"]],
      note="BLAST put with FASTA in form"),
    E("/blast/Blast.cgi?CMD=Get&RID=9ZK4SBX1013&FORMAT_TYPE=JSON2&FORMAT_OBJECT=Alignment", profile="api", note="BLAST get results"),
    E("/api/variants/upload", "POST", "api_multipart",
      multipart={"boundary": "acme-sync-7f1e", "parts": [
          {"name": "genome", "data": "GRCh38"},
          {"name": "vcf", "filename": "NA12878.sample.vcf", "content_type": "application/octet-stream", "data": VCF}]},
      note="VCF upload"),
    E("/lookup/symbol/homo_sapiens/BRCA2?expand=1", profile="api", headers=[["Content-Type", "application/json"]], note="Ensembl-style lookup"),
    E("/vep/human/hgvs", "POST", "api",
      json={"hgvs_notations": ["ENST00000366667:c.803C>T", "9:g.22125504G>C", "NM_000059.4:c.68_69del"], "canonical": 1, "hgvs": 1},
      note="variant effect request with HGVS notation"),
]

MAIN_TEX = ("\\documentclass[11pt]{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage{amsmath,amssymb}\n\\usepackage[ngerman]{babel}\n"
            "\\title{Über die Wärmeleitungsgleichung}\n\\author{L. Schäfer}\n\\begin{document}\n\\maketitle\n\\input{chapters/einleitung}\n"
            "\\section{Modell}\nEs gilt\n\\begin{equation}\n  \\frac{\\partial u}{\\partial t} = \\alpha \\nabla^2 u, \\quad u(x,0) = f(x).\n\\end{equation}\n"
            "Siehe~\\cite{evans2010} und Abb.~\\ref{fig:plot}.\n\\bibliographystyle{plain}\n\\bibliography{refs}\n\\end{document}\n")
latex_editor = [
    E("/project/p-44a1/compile", "POST", "xhr",
      json={"rootDoc_id": "d-main", "draft": False, "check": "silent", "incrementalCompilesEnabled": True, "stopOnFirstError": False,
            "files": {"main.tex": MAIN_TEX}},
      note="compile with LaTeX source"),
    E("/project/p-44a1/doc/d-main/ops", "POST", "xhr",
      json={"v": 88, "op": [{"p": 1042, "i": "\\cite{knuth1984}"}, {"p": 2210, "d": "Wärme"}], "meta": {"source": "ide", "ts": 1765126700123}},
      note="OT edit op"),
    E("/project/p-44a1/upload?folder_id=f-root", "POST", "form_multipart",
      multipart={"boundary": "----WebKitFormBoundaryBibTx", "parts": [
          {"name": "name", "data": "refs.bib"},
          {"name": "qqfile", "filename": "refs.bib", "content_type": "application/x-bibtex",
           "data": "@book{evans2010,\n  author = {Evans, Lawrence C.},\n  title = {Partial Differential Equations},\n  edition = {2},\n  publisher = {AMS},\n  year = {2010}\n}\n@article{knuth1984,\n  author = {Knuth, Donald E.},\n  title = {Literate Programming},\n  journal = {The Computer Journal},\n  volume = {27}, number = {2}, pages = {97--111}, year = {1984}\n}\n"}]},
      note="BibTeX upload"),
    E("/project/p-44a1/output/output.pdf?compileGroup=standard&clsiserverid=clsi-pre-emp-e2-c-7fhk&popupDownload=true", headers=[["Accept", "application/pdf,*/*"]],
      note="download PDF"),
    E("/spelling/check", "POST", "xhr", json={"language": "de", "words": ["Schrödinger", "Wärmeleitungsgleichung", "Randbedingungen", "Eigenwertproblem"], "token": "u_881"},
      note="spellcheck German words"),
    E("/project/p-44a1/file/figures%2Fplot.pdf", profile="chrome_img", note="figure preview"),
]

code_playground = [
    E("/api/v2/execute", "POST", "xhr",
      json={"language": "python", "version": "3.12.0",
            "files": [{"name": "main.py", "content": "import subprocess, sys\nout = subprocess.run(['ls', '-la'], capture_output=True, text=True)\nprint(out.stdout)\nprint(sys.version)\n"}],
            "stdin": "", "run_timeout": 3000},
      tags=["code"], note="run Python that calls ls"),
    E("/api/fiddle/run", "POST", "xhr",
      json={"dialect": "postgres16", "schema": "CREATE TABLE t (id int, name text);\nINSERT INTO t VALUES (1, 'a'), (2, 'b');",
            "query": "SELECT id, name FROM t WHERE id > 1 UNION SELECT 42, 'answer' ORDER BY 1;"},
      tags=["code"], note="SQL fiddle"),
    E("/api/pens/xY7k2", "PUT", "xhr",
      json={"title": "Counter demo", "html": "<div id=\"app\"><button id=\"b\">+1</button> <span id=\"n\">0</span></div>",
            "css": "#app{font:16px system-ui}", "js": "let n = 0;\ndocument.getElementById('b').onclick = () => {\n  document.getElementById('n').textContent = ++n;\n};"},
      tags=["code"], note="HTML/CSS/JS pen"),
    E("/api/v2/execute", "POST", "xhr",
      json={"language": "bash", "version": "5.2.0",
            "files": [{"content": "#!/bin/bash\nfor f in /etc/*.conf; do\n  wc -l \"$f\"\ndone | sort -n | tail -3\necho \"user: $(whoami)\"\n"}]},
      tags=["code"], note="bash snippet"),
    E("/api/v2/runtimes", profile="xhr", note="list runtimes"),
    E("/p/xY7k2?embed=1&theme=dark&tabs=result", profile="firefox", note="embedded pen"),
]

kube_h = [["User-Agent", "kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819"], ["Authorization", "Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6Y2k6ZGVwbG95In0.c2ln"]]
tfc_h = [["Authorization", "Bearer atlasv1.Zm9vYmFyYmF6"], ["User-Agent", "go-tfe/1.41.0"], ["Content-Type", "application/vnd.api+json"]]
k8s_api = [
    E("/api/v1/namespaces/prod/pods?labelSelector=" + quote("app=web,tier in (frontend,edge)", safe="") + "&limit=500", profile="none",
      headers=kube_h + [["Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"]],
      note="kubectl get pods with selector"),
    E("/apis/apps/v1/namespaces/prod/deployments/web?fieldManager=kubectl-set", "PATCH", "none",
      headers=kube_h + [["Accept", "application/json"], ["Content-Type", "application/strategic-merge-patch+json"]],
      body=cdumps({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "registry.example.com/web:2026.12.07-3"}]}}}}),
      note="set image patch"),
    E("/api/v1/namespaces/prod/configmaps?fieldManager=kubectl-client-side-apply", "POST", "none",
      headers=kube_h + [["Accept", "application/json"]],
      json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-config", "namespace": "prod", "labels": {"app": "web"}},
            "data": {"application.yaml": "spring:\n  datasource:\n    url: jdbc:postgresql://db.prod.svc:5432/app\n    hikari:\n      maximum-pool-size: 20\nlogging:\n  level:\n    root: INFO\n",
                     "FEATURE_CHECKOUT_V2": "true"}},
      note="create ConfigMap"),
    E("/apis/apps/v1/namespaces/prod/deployments?allowWatchBookmarks=true&resourceVersion=88123&timeoutSeconds=420&watch=true", profile="none",
      headers=[["User-Agent", "argocd-application-controller/v2.9.3"], ["Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln"], ["Accept", "application/json"]],
      note="watch deployments"),
    E("/api/v2/workspaces/ws-4Fq1abcDEF/vars", "POST", "none", headers=tfc_h,
      body=cdumps({"data": {"type": "vars", "attributes": {"key": "instance_tags", "value": "{ team = \"payments\", env = \"prod\" }",
                                                               "category": "terraform", "hcl": True, "sensitive": False, "description": "tags for EC2"}}}),
      note="Terraform Cloud HCL variable"),
    E("/charts/index.yaml", profile="none", headers=[["User-Agent", "Helm/3.13.2"], ["Accept-Encoding", "gzip"]], note="Helm repo index"),
]

SENTRY_PY_EVENT = {"event_id": "9ec79c33ec9942ab8353589fcb2e04dc", "timestamp": "2026-12-07T16:31:07.412Z", "platform": "python", "level": "error",
                   "server_name": "web-7f9c", "release": "shop@2026.12.07-3", "environment": "production",
                   "exception": {"values": [{"type": "KeyError", "value": "'sku'", "module": None,
                                             "stacktrace": {"frames": [
                                                 {"filename": "django/core/handlers/base.py", "function": "_get_response", "lineno": 197, "in_app": False},
                                                 {"filename": "shop/views/cart.py", "function": "add_item", "lineno": 88, "in_app": True,
                                                  "vars": {"request": "<WSGIRequest: POST '/cart/add'>", "payload": "{'qty': 2}"}}]}}]},
                   "request": {"url": "https://shop.example.com/cart/add", "method": "POST", "query_string": "ref=home"},
                   "tags": {"runtime": "CPython 3.12.1"}}
sentry_errors = [
    E("/api/42/envelope/", "POST", "none",
      headers=[["User-Agent", "sentry.python/1.39.1"], ["Content-Type", "application/x-sentry-envelope"],
               ["X-Sentry-Auth", "Sentry sentry_key=b5e9a8c1d2f34e6f8a7b6c5d4e3f2a1b, sentry_version=7, sentry_client=sentry.python/1.39.1"]],
      body=cdumps({"event_id": "9ec79c33ec9942ab8353589fcb2e04dc", "sent_at": "2026-12-07T16:31:07.500Z"}) + "\n"
           + cdumps({"type": "event", "content_type": "application/json"}) + "\n" + cdumps(SENTRY_PY_EVENT) + "\n",
      note="Python exception envelope"),
    E("/api/42/store/?sentry_key=b5e9a8c1d2f34e6f8a7b6c5d4e3f2a1b&sentry_version=7", "POST", "xhr",
      headers=[["Content-Type", "text/plain;charset=UTF-8"]],
      body=cdumps({"platform": "javascript", "level": "error", "sdk": {"name": "sentry.javascript.browser", "version": "7.91.0"},
                       "exception": {"values": [{"type": "TypeError", "value": "Cannot read properties of undefined (reading 'price')",
                                                 "stacktrace": {"frames": [{"filename": "https://shop.example.com/static/js/cart.4f1c.js", "function": "renderTotal",
                                                                            "lineno": 1, "colno": 48213,
                                                                            "pre_context": ["  const items = state.cart.items;"],
                                                                            "context_line": "  total.innerHTML = items.map(i => `<li>${i.product.price}</li>`).join('');",
                                                                            "post_context": ["}"]}]}}]},
                       "breadcrumbs": {"values": [{"category": "ui.click", "message": "button#checkout.btn-primary"},
                                                  {"category": "fetch", "data": {"method": "GET", "url": "/api/cart?expand=items", "status_code": 200}}]}},
                      ensure_ascii=False),
      tags=["code"], note="browser error with JS source context"),
    E("/api/42/envelope/", "POST", "none",
      headers=[["User-Agent", "sentry.cocoa/8.17.1"], ["Content-Type", "application/x-sentry-envelope"],
               ["X-Sentry-Auth", "Sentry sentry_key=b5e9a8c1d2f34e6f8a7b6c5d4e3f2a1b, sentry_version=7"]],
      body='{"sent_at":"2026-12-07T16:32:00.000Z"}\n{"type":"session"}\n'
           + cdumps({"sid": "7c7b6e9e-2a6f-4a38-9c1f-2f1b0e4d5a6c", "init": False, "started": "2026-12-07T16:20:00Z", "status": "exited",
                         "errors": 0, "duration": 720.5, "attrs": {"release": "ShopApp@5.12.0+51200", "environment": "production"}}) + "\n",
      note="session update envelope"),
    E("/api/43/store/", "POST", "none",
      headers=[["User-Agent", "sentry-java/7.0.0"], ["Content-Type", "application/json"],
               ["X-Sentry-Auth", "Sentry sentry_key=c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6, sentry_version=7, sentry_client=sentry-java/7.0.0"]],
      json={"platform": "java", "level": "error", "logger": "com.example.billing.InvoiceJob",
            "exception": {"values": [{"type": "NullPointerException", "module": "java.lang",
                                      "value": "Cannot invoke \"String.length()\" because \"name\" is null",
                                      "stacktrace": {"frames": [{"module": "java.lang.Thread", "function": "run", "lineno": 1583},
                                                                {"module": "com.example.billing.InvoiceJob", "function": "lambda$execute$0", "lineno": 77, "in_app": True},
                                                                {"module": "com.example.billing.PdfRenderer", "function": "render", "lineno": 141, "in_app": True}]}}]}},
      note="Java exception"),
    E("/api/42/envelope/", "POST", "none",
      headers=[["User-Agent", "sentry.javascript.nextjs/7.91.0"], ["Content-Type", "application/x-sentry-envelope"],
               ["X-Sentry-Auth", "Sentry sentry_key=b5e9a8c1d2f34e6f8a7b6c5d4e3f2a1b, sentry_version=7"]],
      body='{"event_id":"a1b2c3d4e5f60718293a4b5c6d7e8f90"}\n{"type":"transaction"}\n'
           + cdumps({"type": "transaction", "transaction": "GET /products/[slug]", "start_timestamp": 1765125000.1, "timestamp": 1765125000.62,
                         "contexts": {"trace": {"trace_id": "771a43a4192642f0b136d5159a501700", "span_id": "b0e6f15b45c36b12", "op": "http.server"}},
                         "spans": [{"op": "db.query", "description": "SELECT p.* FROM products p WHERE p.slug = $1 LIMIT 1", "span_id": "a1b1c1d1e1f10001",
                                    "start_timestamp": 1765125000.2, "timestamp": 1765125000.25}]}) + "\n",
      tags=["code"], note="performance transaction with SQL span description"),
    E("/api/0/projects/acme/shop/issues/?query=is%3Aunresolved+release%3Ashop%402026.12.07-3&statsPeriod=24h", profile="xhr",
      note="issue list in the Sentry UI"),
]

log_shipper = [
    E("/app.access", "POST", "api", headers=[["User-Agent", "fluent-bit/2.2.0"]],
      json=[{"date": 1765126801.123, "host": "web01", "remote": "203.0.113.50", "method": "GET", "path": "/products/wool-scarf-grey?variant=4411",
             "code": 200, "size": 18211, "agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X)", "rt": 0.012}],
      note="Fluent Bit HTTP output"),
    E("/logs/syslog", "POST", "api", headers=[["User-Agent", "rsyslog-omhttp/8.2310"], ["Content-Type", "text/plain"]],
      body=("<134>1 2026-12-07T16:55:01.003Z web01 nginx 2231 - - 10.0.3.4 - - [07/Dec/2026:16:55:01 +0000] \"GET /healthz HTTP/1.1\" 200 2 \"-\" \"kube-probe/1.29\"\n"
            "<86>1 2026-12-07T16:55:02.117Z web01 sshd 9931 - - Accepted publickey for deploy from 10.0.0.12 port 51422 ssh2: ED25519 SHA256:Zx8Yw7Vu6Ts5\n"
            "<30>1 2026-12-07T16:55:03.500Z web01 systemd 1 - - Started Daily apt download activities.\n"),
      note="syslog lines over HTTP"),
    E("/services/collector/event", "POST", "api",
      headers=[["Authorization", "Splunk 7d8c1b2a-3e4f-5a6b-7c8d-9e0f1a2b3c4d"], ["User-Agent", "splunk-logging/1.11"]],
      body=cdumps({"time": 1765126802.5, "host": "pay-02", "source": "payments", "sourcetype": "_json",
                       "event": {"level": "WARN", "msg": "retrying capture", "order": "FD-22910", "attempt": 2, "psp_code": "timeout"}}) + "\n"
           + cdumps({"time": 1765126803.1, "host": "pay-02", "source": "payments", "sourcetype": "_json",
                         "event": {"level": "INFO", "msg": "capture ok", "order": "FD-22910", "ms": 842}}),
      note="Splunk HEC batch"),
    E("/v1/logs", "POST", "api", headers=[["User-Agent", "Vector/0.34.1 (x86_64-unknown-linux-gnu)"], ["Content-Type", "application/x-ndjson"]],
      body='{"message":"worker 3 finished job 88121 in 4.2s","level":"info","service":"queue","ts":"2026-12-07T16:55:04Z"}\n'
           '{"message":"cache miss ratio 0.31 (threshold 0.25)","level":"warn","service":"edge","ts":"2026-12-07T16:55:05Z"}\n',
      note="Vector ndjson"),
    E("/api/v2/logs", "POST", "api", headers=[["DD-API-KEY", "0123456789abcdef0123456789abcdef"], ["User-Agent", "datadog-agent/7.49.1"]],
      json=[{"ddsource": "java", "ddtags": "env:prod,version:2026.12.07-3", "hostname": "billing-1", "service": "billing",
             "message": "2026-12-07 16:55:06.001 INFO [main] c.e.b.InvoiceJob - generated 1,204 invoices (3 skipped: missing VAT id)"}],
      note="Datadog-style log intake"),
    E("/fluentd/app.audit?time=1765126807", "POST", "api", headers=[["User-Agent", "fluent-logger-python/0.10.0"]],
      form=[["json", cdumps({"actor": "priya@example.com", "action": "role.grant", "target": "sam@example.com", "role": "billing-viewer"})]],
      note="Fluentd in_http form json param"),
]

cf_h = [["Authorization", "Bearer Fs0a8K1mQe2-pL9wXcV7bN3rT6yU4iO5"], ["User-Agent", "cloudflare-go/0.86.0"]]
ZONE = "023e105f4ecef8ad9ca31a8372d0c353"
cdn_dns_api = [
    E("/client/v4/zones/%s/purge_cache" % ZONE, "POST", "api", headers=cf_h,
      json={"files": ["https://shop.example.com/static/css/app.css?v=88", "https://shop.example.com/products/wool-scarf-grey?variant=4411"]},
      note="purge by URL"),
    E("/client/v4/zones/%s/dns_records?type=TXT&name=_acme-challenge.example.org&per_page=50" % ZONE, profile="api", headers=cf_h, note="find ACME TXT"),
    E("/client/v4/zones/%s/dns_records" % ZONE, "POST", "api", headers=cf_h,
      json={"type": "TXT", "name": "sel1._domainkey", "ttl": 3600,
            "content": "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwZ3v6f8l2N9Qx+J0cF5bR7hK1mT4yP8sD3aL6gV0nB2eW9uI5oX7zC1qE4rY8tU",
            "comment": "DKIM for newsletter (rotated 2026-12)"},
      note="add DKIM TXT"),
    E("/client/v4/zones/%s/dns_records/372e67954025e0ba6aaa6d586b9e0b59" % ZONE, "PUT", "api", headers=cf_h,
      json={"type": "CAA", "name": "example.org", "data": {"flags": 0, "tag": "issue", "value": "letsencrypt.org"}, "ttl": 3600},
      note="CAA record"),
    E("/dns-query?dns=AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB", profile="none",
      headers=[["Accept", "application/dns-message"], ["User-Agent", "Go-http-client/2.0"]], note="DNS-over-HTTPS GET"),
    E("/ccu/v3/invalidate/url/production", "POST", "api",
      headers=[["Authorization", "EG1-HMAC-SHA256 client_token=akab-c113ntt0k3n4qtari252bfxxbsl-yvsdj;access_token=akab-acc35t0k3nodujqunph3w7hzp7-gtm6ij;timestamp=20261207T16:56:00+0000;nonce=nonce-xx-1234;signature=Zx8Yw7Vu6Ts5q8f7w6e5r4t3y2u1i0o9p8a7s6d5f4g="]],
      json={"objects": ["https://shop.example.com/static/js/cart.4f1c.js"]}, note="Akamai-style invalidation"),
]

write("benign", {k: v for k, v in globals().items() if k in (
    "vet_clinic", "school_sis", "library_ils", "donations", "cad_3dprint", "bioinformatics", "latex_editor",
    "code_playground", "k8s_api", "sentry_errors", "log_shipper", "cdn_dns_api")})
