#!/usr/bin/python3
"""Writes holdout10/benign/*.jsonl (hand-written entries; run from anywhere)."""
import base64, json, os, urllib.parse
from collections import OrderedDict

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benign")
E = OrderedDict()

def q(path, params):
    return path + "?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote, safe="")

def add(cat, note, **kw):
    lst = E.setdefault(cat, [])
    e = OrderedDict(id="h10-%s-%03d" % (cat, len(lst) + 1), category=cat, expect="pass")
    e.update(kw)
    e["note"] = note
    lst.append(e)

GA = "_ga=GA1.1.1840392211.1701939122; _ga_7QX9KD2M1P=GS1.1.1701939122.4.1.1701941530.0.0.0"
CONSENT = ("OptanonConsent=isGpcEnabled=0&datestamp=Mon+Dec+07+2026+12%3A05%3A11+GMT%2B0000"
           "&version=202311.1.0&isIABGlobal=false&hosts=&consentId=7d2c1a9e-51b3-4c0f-a0e2-9b1d3e5f7a21"
           "&interactionCount=1&landingPath=NotLandingPage&groups=C0001%3A1%2CC0002%3A1%2CC0003%3A0%2CC0004%3A0")
JWT = ("eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0."
       "eyJzdWIiOiJ1c3JfOGYzYTIiLCJyb2xlcyI6WyJ2aWV3ZXIiXSwiaWF0IjoxNzk2NjQ1NjAwLCJleHAiOjE3OTY2NDkyMDB9."
       "Qm9ndXNTaWduYXR1cmVfX2Zvcl90ZXN0c19vbmx5X2ZJd2tMbzNnYTlQcVI0")
def xhr(origin_path="/", cookie=None, extra=()):
    h = [["Referer", "https://shop.example.com" + origin_path]]
    if cookie:
        h.append(["Cookie", cookie])
    return h + list(extra)

# ---------------------------------------------------------------- news
add("news", "article page with tracking params", target=q("/world/2026/12/07/coalition-talks-stall", [("utm_source", "newsletter"), ("utm_medium", "email"), ("utm_campaign", "morning-briefing-1207")]), profile="chrome", headers=[["Cookie", GA + "; " + CONSENT]])
add("news", "comment with quotes, parentheses and SQL words in English", method="POST", target="/world/2026/12/07/coalition-talks-stall/comments", profile="form",
    form=[["author", "Margaret Hale"], ["email", "mhale@example.org"], ["body", "The minister said they would \"drop the bill\" (again) if the opposition didn't select a new leader by Friday. Union reps aren't buying it -- and frankly, neither am I."], ["notify", "on"]])
add("news", "comment with em dashes, entities and an exec word", method="POST", target="/business/ceo-steps-down/comments", profile="form",
    form=[["author", "J. Okafor"], ["body", "Another exec shuffle \u2014 the third this year. The board\u2019s statement (\u201cwe remain committed to shareholder value\u201d) says nothing &amp; explains less. 3 of 5 directors voted for it; 2 abstained."], ["reply_to", "88231"]])
add("news", "comment posted as JSON by the comment widget", method="POST", target="/api/comments/v2/threads/art-55120/posts", profile="xhr",
    json={"body": "Drop the pretence: the 'independent' review was commissioned by the same office it reviewed. Select committee hearings are the only place this gets aired properly.", "parentId": None, "displayName": "Sam O'Neill", "subscribe": True})
add("news", "search with quoted phrase and OR", target=q("/search", [("q", "\"union station\" OR \"grand central\" renovation"), ("sort", "newest"), ("section", "local")]), profile="firefox")
add("news", "paywall meter beacon", method="POST", target="/meter/v1/hit", profile="xhr", headers=xhr("/opinion/why-we-still-need-libraries", GA),
    json={"article": "opinion/why-we-still-need-libraries", "count": 4, "limit": 5, "ts": 1796647211, "referrer": "https://www.google.com/"})
add("news", "live blog polling with since cursor", target="/live/election-night-2026/updates.json?since=2026-12-07T11%3A58%3A02Z&limit=20", profile="xhr")
add("news", "letter to the editor with parentheses and a semicolon", method="POST", target="/letters/submit", profile="form",
    form=[["name", "Dr. Aoife d'Arcy"], ["town", "Galway"], ["subject", "Re: \"Where did the money go?\" (Nov 30)"], ["letter", "Sir \u2014 Your correspondent asks where the money went; I can answer that (in part): it went into consultants' fees. If the council won't execute its own audit plan, who will? Yours, etc."]])

# ---------------------------------------------------------------- hr (ATS)
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
add("hr", "job application with r\u00e9sum\u00e9 PDF and cover letter text", method="POST", target="/careers/jobs/4471/apply", profile="form_multipart",
    multipart={"boundary": "----WebKitFormBoundaryQ7pL2mX9vR4tK8sA", "parts": [
        {"name": "first_name", "data": "Ren\u00e9e"}, {"name": "last_name", "data": "O'Sullivan-Brandt"},
        {"name": "email", "data": "renee.osb@example.net"}, {"name": "phone", "data": "+353 87 123 4567"},
        {"name": "cover_letter", "data": "I led the migration of our payroll system (SAP \u2192 Workday) for 1,200 employees; I'd like to bring that experience to your People Ops team. Salary expectation: \u20ac62k\u201368k."},
        {"name": "resume", "filename": "Renee_OSullivan_CV_2026.pdf", "content_type": "application/pdf", "data_b64": base64.b64encode(PDF).decode()}]})
add("hr", "candidate search with boolean keywords", target=q("/ats/candidates", [("q", "(python OR golang) AND \"data platform\" -intern"), ("location", "Berlin"), ("min_years", "5"), ("page", "2")]), profile="xhr")
add("hr", "interview scorecard JSON with free text", method="PUT", target="/api/ats/v1/interviews/iv_20931/scorecard", profile="xhr",
    json={"overall": "strong_yes", "ratings": {"system_design": 4, "coding": 3, "communication": 5}, "notes": "Walked through designing a rate limiter; chose a token bucket, discussed where to drop requests vs. queue them. Wrote a select/union style query for the reporting part without prompting. Minor: off-by-one in the pagination loop (fixed when asked)."})
add("hr", "offer letter generation form", method="POST", target="/ats/offers/new", profile="form",
    form=[["candidate_id", "c_88120"], ["title", "Senior Accountant (Accounts Payable)"], ["base_salary", "71500"], ["currency", "GBP"], ["start_date", "2027-01-11"], ["notes", "Sign-on bonus \u00a33,000 payable after probation (6 months); relocation N/A."]])
add("hr", "pipeline board move", method="PATCH", target="/api/ats/v1/applications/app_55102", profile="xhr", json={"stage": "onsite", "previous_stage": "phone_screen", "moved_by": "u_311", "reason": "Passed take-home; 2 of 3 reviewers approved."})
add("hr", "employee directory page with filters", target="/people/directory?dept=Finance&dept=Legal&office=Dublin&sort=last_name&dir=asc", profile="edge", headers=[["Cookie", "ats_session=s%3Ak2J9d8Fh3LmQ0pXw.vT6yR1bN4cZ8eA2uI7oP5sD3fG0hJ9kL; " + GA]])
add("hr", "timesheet bulk submit", method="POST", target="/api/timesheets/2026-W49/submit", profile="xhr",
    json={"entries": [{"day": "2026-11-30", "project": "PRJ-104", "hours": 7.5, "comment": "Client workshop (on-site)"}, {"day": "2026-12-01", "project": "PRJ-104", "hours": 8}, {"day": "2026-12-02", "project": "ADMIN", "hours": 3.25, "comment": "Expense reports & 1:1s"}]})

# ---------------------------------------------------------------- fintech
add("fintech", "SEPA transfer with IBAN and memo", method="POST", target="/api/v2/payments/sepa", profile="api", headers=[["Authorization", "Bearer " + JWT], ["Idempotency-Key", "7f1e3c2a-90b8-4d6e-8c1f-2a5b7d9e0f13"]],
    json={"amount": {"value": "1249.90", "currency": "EUR"}, "debtor_iban": "DE89370400440532013000", "creditor": {"name": "Fran\u00e7ois L'H\u00e9ritier", "iban": "FR1420041010050500013M02606", "bic": "PSSTFRPPPAR"}, "remittance": "Invoice 2026-1187 / rent Dec; ref: APT-4B", "execution_date": "2026-12-09"})
add("fintech", "transactions list with date range and amount filter", target="/api/v2/accounts/acc_7781/transactions?from=2026-11-01&to=2026-11-30&min_amount=-500.00&max_amount=2500&category=groceries%2Cutilities&limit=100", profile="mobile_app")
add("fintech", "card freeze toggle", method="POST", target="/api/v2/cards/card_3391/freeze", profile="mobile_app", json={"frozen": True, "reason": "lost_or_stolen", "note": "Left it at the caf\u00e9 \u2014 will unfreeze if found"})
add("fintech", "budget rule with comparison words", method="POST", target="/api/v2/budgets/rules", profile="xhr",
    json={"name": "Eating out < \u00a3200", "match": {"merchant_category": ["5812", "5814"], "description_contains": ["Deliveroo", "Uber *Eats"]}, "limit": {"amount": 200, "period": "month"}, "alert_at_percent": [50, 80, 100]})
add("fintech", "payee create form with apostrophe name", method="POST", target="/banking/payees/add", profile="form",
    form=[["payee_name", "O'Connor & Sons Plumbing Ltd"], ["sort_code", "20-00-00"], ["account_number", "55779911"], ["reference", "INV 7731 (boiler)"], ["confirm_cop", "1"]])
add("fintech", "statement PDF download", target="/banking/statements/2026-11.pdf?account=acc_7781&download=1", profile="chrome", headers=[["Cookie", "bank_sid=9f8e7d6c5b4a39281706f5e4d3c2b1a0; XSRF-TOKEN=Kq2w9Lx0Vn5bT7yR3uE8"]])
add("fintech", "FX quote", target="/api/v2/fx/quote?sell=GBP&buy=JPY&amount=1500.00&side=sell", profile="mobile_app")
add("fintech", "expense claim with receipt image", method="POST", target="/api/expenses", profile="api_multipart",
    multipart={"boundary": "acme-sync-b7c1d2e3f4", "parts": [{"name": "meta", "content_type": "application/json", "data": "{\"amount\":\"42.80\",\"currency\":\"USD\",\"merchant\":\"Joe's Diner\",\"memo\":\"Client lunch (2 people) - project Falcon\"}"},
        {"name": "receipt", "filename": "receipt_20261204.jpg", "content_type": "image/jpeg", "data_b64": base64.b64encode(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xdb\x00C\x00" + bytes(range(64)) + b"\xff\xd9").decode()}]})

# ---------------------------------------------------------------- travel
add("travel", "multi-city flight search query string", target=q("/flights/search", [("legs[0][from]", "DUB"), ("legs[0][to]", "JFK"), ("legs[0][date]", "2027-03-14"), ("legs[1][from]", "JFK"), ("legs[1][to]", "SFO"), ("legs[1][date]", "2027-03-18"), ("legs[2][from]", "SFO"), ("legs[2][to]", "DUB"), ("legs[2][date]", "2027-03-25"), ("adults", "2"), ("children", "1"), ("cabin", "premium_economy")]), profile="chrome", headers=[["Cookie", GA + "; currency=EUR; _fbp=fb.1.1701939122334.1598452210"]])
add("travel", "passenger details with apostrophes", method="POST", target="/api/booking/bk_Q7X2/passengers", profile="xhr",
    json={"passengers": [{"title": "Mr", "given": "Liam", "family": "O'Brien", "dob": "1984-07-02", "passport": "PA1234567"}, {"title": "Ms", "given": "Am\u00e9lie", "family": "d'Arcy", "dob": "1987-11-19"}, {"title": "Mstr", "given": "Ois\u00edn", "family": "O'Brien", "dob": "2019-02-08", "type": "child"}], "contact": {"email": "liam.obrien@example.ie", "phone": "+353861234567"}})
add("travel", "hotel search with date range", target="/hotels/lisbon?checkin=2027-04-02&checkout=2027-04-06&rooms=1&adults=2&price=80-220&stars=4%2C5&amenities=pool%2Cbreakfast", profile="safari")
add("travel", "special requests free text", method="POST", target="/booking/bk_Q7X2/requests", profile="form",
    form=[["meal", "VGML"], ["assistance", "WCHR"], ["message", "Travelling with a 7-year-old; please seat us together (rows 20-30 if possible). My husband's name on the ticket is \"O'Brien\" without the apostrophe \u2014 is that a problem at check-in?"]])
add("travel", "seat map JSON fetch", target="/api/flights/EI105/2027-03-14/seatmap?cabin=W&passengers=3", profile="xhr")
add("travel", "car rental one-way with times", target=q("/cars/results", [("pickup", "Reykjav\u00edk Keflav\u00edk Airport (KEF)"), ("dropoff", "Akureyri"), ("from", "2027-06-10T10:00"), ("to", "2027-06-17T09:30"), ("driver_age", "30-65")]), profile="firefox")
add("travel", "loyalty number update", method="PATCH", target="/api/profile/loyalty", profile="mobile_app", json={"programmes": [{"airline": "EI", "number": "AV00712345"}, {"airline": "BA", "number": "12345678", "tier": "Bronze"}]})

# ---------------------------------------------------------------- health
add("health", "symptom questionnaire free text", method="POST", target="/portal/appointments/request", profile="form",
    form=[["reason", "Follow-up"], ["symptoms", "Headache for 3 days, worse in the morning (7/10). Took paracetamol 500mg x2 every 6h -- helps a bit. No fever; BP at home 142/91."], ["preferred", "2026-12-10"], ["clinician", "Dr Nkemelu"]])
add("health", "medication list JSON with doses and slashes", method="PUT", target="/api/patient/p_11823/medications", profile="xhr",
    json={"medications": [{"name": "Co-amoxiclav 500/125 mg", "sig": "1 tab TDS x 7/7", "route": "PO"}, {"name": "Salbutamol 100 micrograms/dose inhaler", "sig": "2 puffs PRN, max 8/24h"}, {"name": "Levothyroxine 75 mcg", "sig": "OD, 30 min before breakfast"}], "allergies": ["penicillin? (rash as a child \u2014 unconfirmed)"]})
add("health", "secure message to practice", method="POST", target="/api/messages", profile="xhr",
    json={"to": "practice", "subject": "Repeat prescription - sertraline 50mg", "body": "Hi, could you please issue my repeat for sertraline 50mg (28 tabs)? I'm away from 18/12 to 02/01. Also: should I still drop the dose to 25mg as discussed? Thanks, Ay\u015fe"})
add("health", "lab results page", target="/portal/results?test=HbA1c&test=eGFR&from=2025-12-01&to=2026-12-07&view=chart", profile="chrome", headers=[["Cookie", "mychart_sid=Z2h5dGVzdHNlc3Npb24xMjM0NTY3ODkw; " + CONSENT]])
add("health", "FHIR observation search", target="/fhir/r4/Observation?patient=Patient%2F11823&code=http%3A%2F%2Floinc.org%7C4548-4&date=ge2026-01-01&_sort=-date&_count=50", profile="api", headers=[["Accept", "application/fhir+json"], ["Authorization", "Bearer " + JWT]])
add("health", "insurance card upload", method="POST", target="/portal/insurance/card", profile="form_multipart",
    multipart={"boundary": "----WebKitFormBoundary3nTq8ZbV1cKx0pWe", "parts": [{"name": "member_id", "data": "XJQ-884-221-09"}, {"name": "side", "data": "front"}, {"name": "file", "filename": "card front.png", "content_type": "image/png", "data_b64": base64.b64encode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x02\x00\x00\x00\x02\x08\x02\x00\x00\x00\xfd\xd4\x9as\x00\x00\x00\x00IEND\xaeB`\x82").decode()}]})
add("health", "vitals diary entry", method="POST", target="/api/diary/vitals", profile="mobile_app", json={"taken_at": "2026-12-07T07:45:00+01:00", "systolic": 138, "diastolic": 88, "pulse": 72, "glucose_mmol_l": 6.4, "note": "after coffee; felt dizzy < 5 min"})

# ---------------------------------------------------------------- saasadmin
add("saasadmin", "role with permissions JSON", method="POST", target="/admin/api/roles", profile="xhr",
    json={"name": "Billing Read-Only", "permissions": ["invoices:read", "customers:read", "reports:export"], "deny": ["*:delete"], "conditions": {"region": {"in": ["eu-west-1", "eu-central-1"]}}})
add("saasadmin", "scheduled job with cron expression", method="PUT", target="/admin/api/jobs/nightly-export", profile="xhr",
    json={"schedule": "*/5 * * * *", "timezone": "Europe/Berlin", "command": "export_invoices", "args": {"format": "csv", "since": "-24h"}, "enabled": True})
add("saasadmin", "cron in form settings", method="POST", target="/admin/settings/backups", profile="form",
    form=[["backup_cron", "0 3 * * 1-5"], ["retention_days", "30"], ["exclude", "tmp/*,*.cache"], ["notify_email", "ops@example.com"]])
add("saasadmin", "regex validation settings", method="PATCH", target="/admin/api/fields/customer_ref", profile="xhr",
    json={"validation": {"pattern": "^[A-Z]{2}-\\d{4,6}(-[A-Z])?$", "message": "Use the format AB-12345 (optional -X suffix)"}, "mask": "AA-999999"})
add("saasadmin", "webhook endpoint registration", method="POST", target="/admin/api/webhooks", profile="xhr",
    json={"url": "https://hooks.example-partner.com/inbound/gatehouse?tenant=acme&sig=v1", "events": ["invoice.paid", "invoice.voided", "customer.updated"], "secret_rotation_days": 90, "description": "Partner ERP sync (prod)"})
add("saasadmin", "audit log filter page", target=q("/admin/audit", [("actor", "j.smith@example.com"), ("action", "user.role.update"), ("from", "2026-12-01T00:00:00Z"), ("to", "2026-12-07T23:59:59Z"), ("ip", "203.0.113.45")]), profile="chrome", headers=[["Cookie", "admin_session=" + JWT + "; theme=dark"]])
add("saasadmin", "SSO settings with metadata URL", method="POST", target="/admin/settings/sso", profile="form",
    form=[["provider", "okta"], ["metadata_url", "https://acme.okta.com/app/exk1a2b3c4d5/sso/saml/metadata"], ["entity_id", "urn:gatehouse:acme"], ["attribute_email", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"], ["enforce", "true"]])
add("saasadmin", "feature flag rule", method="PUT", target="/admin/api/flags/new-checkout", profile="xhr",
    json={"rules": [{"if": "user.country in ['DE','AT','CH'] and user.plan != 'free'", "rollout": 25}, {"if": "user.email endsWith '@example.com'", "rollout": 100}], "default": False})

# ---------------------------------------------------------------- forum
add("forum", "post with BBCode quote, link and smileys", method="POST", target="/forum/threads/19921/reply", profile="form",
    form=[["message", "[quote=\"rusty_bolt\"]Has anyone tried the 2.4 firmware?[/quote]\nYes! Flashed it last night :) Fan noise is way down :D\nChangelog: [url=https://forum.example.com/threads/19800]here[/url]\n[b]Tip:[/b] back up your config first ;)"], ["subscribe", "1"]])
add("forum", "markdown post with list and link", method="POST", target="/api/forum/posts", profile="xhr",
    json={"thread": 8812, "markdown": "## Results after 2 weeks\n\n- Yield: **+12%** (vs. last season)\n- Tomatoes: _San Marzano_ did best\n- See [my spreadsheet](https://docs.example.com/s/abc123) for details\n\n> Water in the morning, not at night\n\nThanks all! ^_^"})
add("forum", "signature edit with emoji", method="POST", target="/forum/account/signature", profile="form", form=[["signature", "\U0001F6B2 Ride more, worry less | Brompton M6L (2019) | Strava: /athletes/4411"]])
add("forum", "thread search", target=q("/forum/search", [("q", "select the right chain length"), ("forum", "maintenance"), ("author", ""), ("order", "relevance")]), profile="safari")
add("forum", "private message with sarcasm quotes", method="POST", target="/forum/messages/send", profile="form",
    form=[["to", "mod_kat"], ["subject", "Re: my thread was locked?"], ["body", "Hi Kat, I get that it went off-topic (my fault, partly) but \"delete everything and start over\" seems a bit much? Could you just unlock & move it to Off-Topic? Cheers -- Tom"]])
add("forum", "reaction", method="POST", target="/api/forum/posts/551203/reactions", profile="xhr", json={"emoji": "\U0001F44D", "toggle": True})
add("forum", "code help post with fenced snippet", method="POST", target="/api/forum/posts", profile="xhr", tags=["code"],
    json={"thread": 9031, "markdown": "My query returns duplicates:\n\n```sql\nSELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.status = 'open';\n```\n\nWhat am I missing?"})

# ---------------------------------------------------------------- iot
add("iot", "batched telemetry JSON", method="POST", target="/ingest/v1/telemetry", profile="api", headers=[["User-Agent", "sensorhub-fw/4.2.0 (esp32)"], ["X-Device-Id", "sh-00a1b2c3"]],
    json={"device": "sh-00a1b2c3", "batch": [{"t": 1796645000, "temp_c": 21.4, "rh": 48.2, "co2_ppm": 812}, {"t": 1796645060, "temp_c": 21.5, "rh": 48.0, "co2_ppm": 820}, {"t": 1796645120, "temp_c": 21.5, "rh": 47.9, "co2_ppm": 835, "flags": ["window_open?"]}]})
add("iot", "base64 payload from LoRa gateway", method="POST", target="/lorawan/uplink", profile="api", headers=[["User-Agent", "chirpstack-http/4.6"]],
    json={"devEUI": "70b3d57ed005a1c2", "fPort": 2, "fCnt": 1187, "data": "AQIDBAUGBwgJCgsMDQ4PEA==", "rxInfo": [{"gatewayId": "b827ebfffe1a2b3c", "rssi": -97, "snr": 7.25}], "time": "2026-12-07T12:01:44.512Z"})
add("iot", "firmware update check", target="/ota/v2/check?model=TH-200&hw=rev3&fw=4.1.7&channel=stable&serial=TH200-2291-0044", profile="api", headers=[["User-Agent", "TH200/4.1.7"]])
add("iot", "device config with thresholds", method="PUT", target="/api/devices/sh-00a1b2c3/config", profile="xhr", json={"report_interval_s": 60, "alerts": [{"metric": "co2_ppm", "op": ">", "value": 1200}, {"metric": "temp_c", "op": "<=", "value": 16}], "name": "Meeting room 2.04"})
add("iot", "binary protobuf upload", method="POST", target="/ingest/v1/pb", profile="api", headers=[["Content-Type", "application/octet-stream"], ["User-Agent", "edge-agent/1.9.3"]], body="\n\x0bsh-00a1b2c3\x12\x08\x08\x01\x10\x02\x18\x03")
add("iot", "MQTT bridge webhook with nested payload", method="POST", target="/hooks/mqtt-bridge", profile="api",
    json={"topic": "site/dub-1/floor/2/room/204/occupancy", "qos": 1, "payload_b64": "eyJjb3VudCI6IDQsICJzb3VyY2UiOiAiUElSIn0=", "retain": False})

# ---------------------------------------------------------------- logging
add("logging", "log lines with paths, IPs and errors", method="POST", target="/api/v1/logs/ingest", profile="api", headers=[["User-Agent", "fluent-bit/2.2.0"], ["Authorization", "Bearer lg_live_8c7d6e5f4a3b2c1d"]],
    json=[{"ts": "2026-12-07T12:00:01.223Z", "level": "error", "host": "web-03", "msg": "error: upload to /var/data/uploads/2026/12/a91f.tmp failed: No space left on device"}, {"ts": "2026-12-07T12:00:01.301Z", "level": "warn", "host": "web-03", "msg": "upstream 10.0.4.17:8080 timed out (110: Connection timed out) while reading response header"}, {"ts": "2026-12-07T12:00:02.010Z", "level": "info", "host": "web-01", "msg": "GET /api/orders?page=3 200 41ms ua=\"Mozilla/5.0\""}])
add("logging", "NDJSON bulk ingest", method="POST", target="/_bulk", profile="api", headers=[["Content-Type", "application/x-ndjson"], ["User-Agent", "filebeat/8.11.1"]],
    body="{\"index\":{\"_index\":\"app-2026.12.07\"}}\n{\"@timestamp\":\"2026-12-07T12:00:03Z\",\"message\":\"job nightly-export finished in 312s (rows=48211)\",\"service\":\"worker\"}\n{\"index\":{\"_index\":\"app-2026.12.07\"}}\n{\"@timestamp\":\"2026-12-07T12:00:04Z\",\"message\":\"failed to resolve host db-replica-2: temporary failure in name resolution\",\"service\":\"api\"}\n")
add("logging", "metrics in Prometheus remote text", method="POST", target="/api/v1/import/prometheus", profile="api", headers=[["Content-Type", "text/plain; version=0.0.4"], ["User-Agent", "vmagent/1.95"]],
    body="http_requests_total{method=\"GET\",code=\"200\",route=\"/api/orders\"} 1027 1796645000000\nhttp_requests_total{method=\"POST\",code=\"500\",route=\"/api/checkout\"} 3 1796645000000\nnode_filesystem_avail_bytes{mountpoint=\"/\",fstype=\"ext4\"} 1.2e+10\n")
add("logging", "log search query with filters", target=q("/logs/search", [("query", "service:api AND level:error AND NOT msg:\"health check\""), ("from", "now-15m"), ("to", "now"), ("limit", "200")]), profile="chrome", headers=[["Cookie", "obs_sess=4e5f6a7b8c9d0e1f2a3b4c5d; " + GA]])
add("logging", "browser error report", method="POST", target="/rum/errors", profile="xhr",
    json={"message": "TypeError: Cannot read properties of undefined (reading 'length')", "stack": "TypeError: Cannot read properties of undefined (reading 'length')\n    at renderList (https://shop.example.com/static/app.3f9a1c.js:1:48211)\n    at https://shop.example.com/static/app.3f9a1c.js:1:50022", "url": "https://shop.example.com/cart", "ua": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)"})
add("logging", "syslog-style lines as text", method="POST", target="/ingest/raw?source=haproxy", profile="api", headers=[["Content-Type", "text/plain"], ["User-Agent", "vector/0.34.1"]],
    body="Dec  7 12:00:05 lb-1 haproxy[811]: 198.51.100.23:51522 [07/Dec/2026:12:00:05.117] fe_https~ be_app/app2 0/0/1/22/23 200 5120 - - ---- 312/310/4/2/0 0/0 \"GET /products/blue-kettle HTTP/1.1\"\nDec  7 12:00:05 lb-1 haproxy[811]: Server be_app/app3 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\"\n")
add("logging", "trace spans OTLP JSON", method="POST", target="/v1/traces", profile="api", headers=[["User-Agent", "OTel-OTLP-Exporter-Go/1.21.0"]],
    json={"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}]}, "scopeSpans": [{"spans": [{"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "name": "SELECT orders", "kind": 3, "startTimeUnixNano": "1796645000000000000", "endTimeUnixNano": "1796645000041000000", "attributes": [{"key": "db.system", "value": {"stringValue": "postgresql"}}]}]}]}]})

# ---------------------------------------------------------------- bi (spreadsheet)
add("bi", "cell update with SUM formula", method="POST", target="/api/sheets/sh_9921/cells", profile="xhr", json={"updates": [{"ref": "B10", "formula": "=SUM(B1:B9)"}, {"ref": "C10", "formula": "=AVERAGE(C1:C9)"}, {"ref": "D10", "formula": "=IF(B10>C10,\"over\",\"under\")"}]})
add("bi", "filter expression in query", target=q("/api/reports/tickets", [("filter", "status != 'closed' AND owner = 'me'"), ("sort", "-updated_at"), ("fields", "id,title,status,owner")]), profile="xhr")
add("bi", "pivot config JSON", method="PUT", target="/api/reports/rpt_31/pivot", profile="xhr", json={"rows": ["region", "product_line"], "columns": ["quarter"], "values": [{"field": "revenue", "agg": "sum"}, {"field": "orders", "agg": "count"}], "filters": [{"field": "year", "op": ">=", "value": 2025}]})
add("bi", "VLOOKUP and text formulas", method="POST", target="/api/sheets/sh_9921/cells", profile="xhr", json={"updates": [{"ref": "E2", "formula": "=VLOOKUP(A2,Products!A:C,3,FALSE)"}, {"ref": "F2", "formula": "=TEXT(D2,\"yyyy-mm-dd\")&\" - \"&B2"}, {"ref": "G2", "formula": "=COUNTIFS(Status!B:B,\"open\",Status!C:C,\"<>\")"}]})
add("bi", "CSV import", method="POST", target="/api/sheets/import", profile="form_multipart",
    multipart={"boundary": "----WebKitFormBoundaryX1y2Z3a4B5c6D7e8", "parts": [{"name": "sheet", "data": "Q4 pipeline"}, {"name": "file", "filename": "pipeline_q4.csv", "content_type": "text/csv", "data": "account,stage,amount,close_date,notes\n\"Smith & Co\",negotiation,12000,2026-12-20,\"wants 3-year term; legal review\"\nO'Hara Ltd,won,4500,2026-11-28,\nN\u00fcrnberg GmbH,lost,8000,2026-11-15,\"chose competitor (price)\"\n"}]})
add("bi", "dashboard with time range", target="/dashboards/sales-overview?from=now-30d&to=now&var-region=EMEA&var-region=APAC&refresh=5m", profile="firefox")
add("bi", "saved query in a visual builder", method="POST", target="/api/queries", profile="xhr",
    json={"name": "Churned last 90d", "source": "customers", "where": [{"field": "churned_at", "op": "between", "value": ["2026-09-08", "2026-12-07"]}, {"field": "plan", "op": "not in", "value": ["free", "trial"]}], "group_by": ["plan"], "limit": 500})

# ---------------------------------------------------------------- elearning
add("elearning", "math answer with inequalities", method="POST", target="/courses/alg-101/quiz/7/answer", profile="form", form=[["q3", "x < 4 or x >= 9"], ["q4", "y = 2x + 3"], ["q5", "|a - b| <= 1/2"]])
add("elearning", "Python exercise submission", method="POST", target="/api/exercises/py-loops-04/submit", profile="xhr", tags=["code"],
    json={"language": "python", "source": "def count_vowels(s):\n    return sum(1 for c in s.lower() if c in 'aeiou')\n\nprint(count_vowels(input()))\n"})
add("elearning", "JavaScript exercise submission", method="POST", target="/api/exercises/js-dom-02/submit", profile="xhr", tags=["code"],
    json={"language": "javascript", "source": "const items = document.querySelectorAll('li.todo');\nitems.forEach(el => {\n  el.addEventListener('click', () => el.classList.toggle('done'));\n});\n"})
add("elearning", "SQL exercise submission", method="POST", target="/api/exercises/sql-joins-03/submit", profile="xhr", tags=["code"],
    json={"language": "sql", "source": "SELECT s.name, COUNT(e.course_id) AS n\nFROM students s\nLEFT JOIN enrolments e ON e.student_id = s.id\nGROUP BY s.name\nHAVING COUNT(e.course_id) > 2\nORDER BY n DESC;"})
add("elearning", "discussion post about LaTeX", method="POST", target="/courses/calc-2/discussion", profile="form",
    form=[["title", "Week 5, problem 3"], ["body", "Is the answer \\int_0^1 x^2 dx = 1/3? I got 0.333 but the checker wants an exact fraction. Also: does \"f(x) > 0 for all x\" mean strictly greater?"]])
add("elearning", "video progress beacon", method="POST", target="/api/progress", profile="xhr", json={"lesson": "les_4412", "position_s": 734.2, "duration_s": 1210.0, "rate": 1.25, "captions": "es"})
add("elearning", "course catalogue filter", target="/catalogue?level=beginner&level=intermediate&topic=data-science&lang=en&price=free&sort=rating", profile="chrome_mobile")

# ---------------------------------------------------------------- browser
add("browser", "homepage with consent and analytics cookies", target="/", profile="chrome", headers=[["Cookie", GA + "; " + CONSENT + "; _gcl_au=1.1.1190287341.1701939122; _fbp=fb.1.1701939122334.1598452210; ajs_anonymous_id=%22b6d1e2f3-a4b5-4c6d-9e8f-0a1b2c3d4e5f%22"]])
add("browser", "IAB TCF consent cookie and JWT session", target="/account/orders", profile="firefox", headers=[["Cookie", "euconsent-v2=CP2qNwAP2qNwAAHABBENDeCgAP_AAH_AAAqIHQgB7C5EQSFAYHhwAKEAIAEXwAAAAgAAAgAAEBAAAAAAAAAIAAAAAAAQAgAAAIAAAAAAAAAgABAAAAAAAAAAAAAAAAAAgAAAAAAAAAAAAAAAAAAAA.YAAAAAAAAAAA; session=" + JWT + "; lang=en-GB"]])
add("browser", "product page from Google ad", target="/products/oak-dining-table-180cm?gclid=Cj0KCQiA4NWrBhD-ARIsAFCKwWv7vK2p9QmZ3a_XbYH1c&gad_source=1", profile="edge", headers=[["Referer", "https://www.google.com/"]])
add("browser", "Safari navigation with Referer containing a query", target="/blog/how-to-drop-a-kerb-without-planning-permission", profile="safari", headers=[["Referer", "https://duckduckgo.com/?q=drop+kerb+%22planning+permission%22&ia=web"]])
add("browser", "mobile category page with sort", target="/c/shoes/women?size=38&size=39&colour=black&sort=price_asc&page=2", profile="chrome_mobile", headers=[["Cookie", "cart=7%7C2%7C49.90; _ga=GA1.1.1840392211.1701939122"]])
add("browser", "prefetch of next page", target="/c/shoes/women?size=38&size=39&colour=black&sort=price_asc&page=3", profile="chrome", headers=[["Sec-Purpose", "prefetch"], ["Sec-Fetch-Site", "same-origin"]])
add("browser", "UTF-8 path percent-encoded", target="/de/produkte/k%C3%BChlschrank-gr%C3%B6%C3%9Fe-xl", profile="firefox")
add("browser", "HEAD check by browser extension", method="HEAD", target="/favicon.ico", profile="chrome_img")

# ---------------------------------------------------------------- assets
add("assets", "hashed JS bundle", target="/static/js/vendors~main.8e2f1a9c.chunk.js", profile="chrome_js", headers=[["Referer", "https://shop.example.com/"], ["Cookie", GA]])
add("assets", "CSS with version query", target="/static/css/site.min.css?v=2026.12.07-3", profile="firefox_css")
add("assets", "web font", target="/fonts/Inter-Variable.woff2", profile="chrome_font", headers=[["Referer", "https://shop.example.com/static/css/site.min.css?v=2026.12.07-3"]])
add("assets", "image CDN resize params", target="/img/products/oak-table.jpg?w=640&h=480&fit=crop&auto=format%2Ccompress&q=75&dpr=2", profile="chrome_img", headers=[["Cookie", GA + "; " + CONSENT]])
add("assets", "source map fetch by devtools", target="/static/js/main.3f9a1c.js.map", profile="chrome_js")
add("assets", "conditional request for logo", target="/img/logo.svg", profile="safari_img", headers=[["If-None-Match", "W/\"5e1-18c3f2a9b10\""], ["If-Modified-Since", "Fri, 04 Dec 2026 09:12:44 GMT"]])
add("assets", "web manifest and service worker", target="/manifest.webmanifest", profile="chrome_js", headers=[["Sec-Fetch-Dest", "manifest"]])
add("assets", "video range request", target="/media/promo-winter-2026.mp4", profile="chrome", headers=[["Range", "bytes=1048576-2097151"], ["Sec-Fetch-Dest", "video"], ["Accept", "*/*"]])

# ---------------------------------------------------------------- sso
SAML = base64.b64encode(("<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_8f3a2b1c\" Version=\"2.0\" IssueInstant=\"2026-12-07T12:10:00Z\" Destination=\"https://shop.example.com/saml/acs\"><saml:Issuer>https://idp.example.org/saml</saml:Issuer><samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/></samlp:Status><saml:Assertion ID=\"_a1b2c3\"><saml:Subject><saml:NameID Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\">c.oreilly@example.org</saml:NameID></saml:Subject><saml:AttributeStatement><saml:Attribute Name=\"displayName\"><saml:AttributeValue>Ciara O'Reilly</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion></samlp:Response>").encode()).decode()
add("sso", "SAML POST binding to ACS", method="POST", target="/saml/acs", profile="form", headers=[["Origin", "https://idp.example.org"], ["Referer", "https://idp.example.org/"], ["Sec-Fetch-Site", "cross-site"]],
    form=[["SAMLResponse", SAML], ["RelayState", "https://shop.example.com/admin/reports?tab=monthly&range=2026-11"]])
add("sso", "OAuth authorize with redirect_uri and PKCE", target=q("/oauth2/authorize", [("response_type", "code"), ("client_id", "mobile-ios"), ("redirect_uri", "com.example.shop:/oauth2redirect"), ("scope", "openid profile email offline_access"), ("state", "af0ifjsldkj"), ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"), ("code_challenge_method", "S256"), ("nonce", "n-0S6_WzA2Mj")]), profile="safari")
add("sso", "OAuth callback", target="/auth/callback?code=SplxlOBeZQQYbYS6WxSbIA&state=af0ifjsldkj&session_state=7a9c1e3b-2d4f-4a6b-8c0d-1e2f3a4b5c6d.d2f1", profile="chrome", headers=[["Referer", "https://login.example.org/"], ["Sec-Fetch-Site", "cross-site"]])
add("sso", "token exchange form", method="POST", target="/oauth2/token", profile="api", headers=[["Authorization", "Basic bW9iaWxlLWlvczpzM2NyM3Q="]],
    form=[["grant_type", "authorization_code"], ["code", "SplxlOBeZQQYbYS6WxSbIA"], ["redirect_uri", "https://shop.example.com/auth/callback"], ["code_verifier", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"]])
add("sso", "refresh token", method="POST", target="/oauth2/token", profile="mobile_app", form=[["grant_type", "refresh_token"], ["refresh_token", "8xLOxBtZp8.tGzv3JOkF0XG5Qx2TlKWIA-v1"], ["client_id", "shop-android"]])
add("sso", "OIDC discovery and JWKS", target="/.well-known/openid-configuration", profile="api", headers=[["User-Agent", "oidc-client/2.3 (node)"]])
add("sso", "SAML redirect binding logout", target="/saml/slo?SAMLRequest=fZFBT8MwDIXv%2FIqq92xJqUqJtlVlV9JUNmQkLhD2h9%2FHDtgZ8vbxd5ewQ%3D%3D&RelayState=%2Faccount%2Flogout&SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256&Signature=dGVzdHNpZ25hdHVyZQ%3D%3D", profile="firefox")

# ---------------------------------------------------------------- graphql
add("graphql", "query with variables and fragment", method="POST", target="/graphql", profile="xhr",
    json={"operationName": "OrderDetails", "query": "query OrderDetails($id: ID!) { order(id: $id) { id status total { amount currency } lines { ...Line } } }\nfragment Line on OrderLine { sku name qty }", "variables": {"id": "ord_88213"}})
add("graphql", "mutation with free-text note", method="POST", target="/graphql", profile="xhr",
    json={"operationName": "AddNote", "query": "mutation AddNote($input: NoteInput!) { addNote(input: $input) { id createdAt } }", "variables": {"input": {"orderId": "ord_88213", "text": "Customer says the 'union' jack flag arrived torn (2 of 5); replace, don't refund."}}})
add("graphql", "persisted query GET", target="/graphql?operationName=ProductCard&variables=%7B%22slug%22%3A%22oak-dining-table-180cm%22%7D&extensions=%7B%22persistedQuery%22%3A%7B%22version%22%3A1%2C%22sha256Hash%22%3A%22ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38%22%7D%7D", profile="xhr")
add("graphql", "search query with filter input", method="POST", target="/graphql", profile="mobile_app",
    json={"query": "query S($q: String!, $f: ProductFilter) { search(query: $q, filter: $f, first: 24) { edges { node { id name price } } pageInfo { endCursor hasNextPage } } }", "variables": {"q": "drop-leaf table", "f": {"priceLt": 300, "inStock": True, "materials": ["oak", "ash"]}}})
add("graphql", "batched operations", method="POST", target="/graphql", profile="xhr",
    json=[{"query": "{ me { id name } }"}, {"query": "query { cart { count subtotal } }"}, {"query": "query Notif($n: Int) { notifications(last: $n) { id text } }", "variables": {"n": 5}}])
add("graphql", "introspection-free schema field with alias", method="POST", target="/api/graphql", profile="api", headers=[["Authorization", "Bearer " + JWT]],
    json={"query": "query { open: tickets(status: OPEN) { totalCount } closed: tickets(status: CLOSED) { totalCount } }"})

# ---------------------------------------------------------------- webhooks
add("webhooks", "Stripe-like event", method="POST", target="/webhooks/stripe", profile="none", headers=[["User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)"], ["Accept", "*/*; q=0.5, application/xml"], ["Stripe-Signature", "t=1796645400,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd"]],
    json={"id": "evt_1OkTq2", "object": "event", "type": "charge.refunded", "data": {"object": {"id": "ch_3OkT", "amount": 4990, "amount_refunded": 4990, "currency": "eur", "description": "Order #10442 (2x mugs)", "metadata": {"order_id": "10442", "note": "customer's address wrong; re-ship"}}}, "livemode": False})
add("webhooks", "GitHub-like push", method="POST", target="/webhooks/github", profile="none", headers=[["User-Agent", "GitHub-Hookshot/8c1a2b3"], ["X-GitHub-Event", "push"], ["X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"], ["X-Hub-Signature-256", "sha256=6f1ed002ab5595859014ebf0951522d9e2c6e3a8a8b7c1f6e1c3f6d7e8a9b0c1"]],
    json={"ref": "refs/heads/main", "before": "9049f1265b7d61be4a8904a9a27120d2064dab3b", "after": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "commits": [{"id": "0d1a26e6", "message": "Fix: don't drop the last row when exporting (closes #412)\n\nThe loop used < instead of <=.", "author": {"name": "Chlo\u00e9 Dubois", "email": "chloe@example.dev"}, "modified": ["src/export/csv.go", "src/export/csv_test.go"]}]})
add("webhooks", "Slack-like slash command (form)", method="POST", target="/slack/commands", profile="none", headers=[["User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)"], ["X-Slack-Signature", "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"], ["X-Slack-Request-Timestamp", "1796645400"]],
    form=[["token", "gIkuvaNzQIHg97ATvDxqgjtO"], ["team_id", "T0001"], ["channel_name", "ops"], ["user_name", "niamh"], ["command", "/deploy"], ["text", "api v2.14.3 to staging --skip-canary"], ["response_url", "https://hooks.slack.com/commands/1234/5678"]])
add("webhooks", "Slack-like interactive payload", method="POST", target="/slack/interactive", profile="none", headers=[["User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)"]],
    form=[["payload", json.dumps({"type": "block_actions", "user": {"id": "U0CA5", "username": "niamh"}, "actions": [{"action_id": "approve", "value": "deploy-8812", "type": "button"}], "response_url": "https://hooks.slack.com/actions/T0001/1/abc"})]])
add("webhooks", "Shopify-like order created", method="POST", target="/webhooks/shop/orders-create", profile="none", headers=[["User-Agent", "Shopify-Captain-Hook"], ["X-Shopify-Topic", "orders/create"], ["X-Shopify-Hmac-Sha256", "XWmrwMey6OsLMeiZKwP4FppHH3cmAiiJJAweH5Jo4bM="]],
    json={"id": 820982911946154508, "email": "jon@example.com", "note": "Please leave at the back door (the \"side\" gate is broken)", "total_price": "199.65", "line_items": [{"title": "IPod Nano - 8GB", "quantity": 1, "price": "199.00"}], "shipping_address": {"name": "Se\u00e1n Mac Giolla", "address1": "12 Sr\u00e1id an Mhuilinn"}})
add("webhooks", "SendGrid-like event batch", method="POST", target="/webhooks/mail-events", profile="none", headers=[["User-Agent", "SendGrid Event API"]],
    json=[{"email": "a@example.com", "event": "bounce", "reason": "550 5.1.1 The email account that you tried to reach does not exist", "sg_event_id": "sg1"}, {"email": "b@example.com", "event": "click", "url": "https://shop.example.com/c/sale?utm_source=email&utm_campaign=bf", "sg_event_id": "sg2"}])
add("webhooks", "Twilio-like SMS status (form)", method="POST", target="/webhooks/sms/status", profile="none", headers=[["User-Agent", "TwilioProxy/1.1"], ["X-Twilio-Signature", "RSOYDt4T1cUTdK1PDd93/VVr8B8="]],
    form=[["MessageSid", "SM1f0e8ae6ade43cb3c0ce4525424e404f"], ["MessageStatus", "delivered"], ["To", "+447700900123"], ["From", "+447700900456"], ["Body", "Your code is 481 220. Don't share it with anyone."]])

# ---------------------------------------------------------------- i18n
add("i18n", "French review with accents and guillemets", method="POST", target="/api/reviews", profile="xhr", json={"product": "p_771", "rating": 4, "title": "Tr\u00e8s bien, mais\u2026", "text": "\u00ab Select \u00bb \u00e9tait le mod\u00e8le le moins cher ; l\u2019assemblage m\u2019a pris 2 h (et j\u2019ai d\u00fb percer un trou). \u00c0 recommander quand m\u00eame !"})
add("i18n", "Japanese search", target=q("/search", [("q", "\u30c0\u30a4\u30cb\u30f3\u30b0\u30c6\u30fc\u30d6\u30eb \u30aa\u30fc\u30af 180cm"), ("lang", "ja")]), profile="chrome", headers=[["Accept-Language", "ja-JP,ja;q=0.9,en;q=0.6"]])
add("i18n", "Arabic address form", method="POST", target="/checkout/address", profile="form", headers=[["Accept-Language", "ar-AE,ar;q=0.9,en;q=0.5"]],
    form=[["name", "\u0641\u0627\u0637\u0645\u0629 \u0627\u0644\u0632\u0647\u0631\u0627\u0621"], ["line1", "\u0634\u0627\u0631\u0639 \u0627\u0644\u0634\u064a\u062e \u0632\u0627\u064a\u062f\u060c \u0628\u0631\u062c 3\u060c \u0634\u0642\u0629 1204"], ["city", "\u062f\u0628\u064a"], ["phone", "+971501234567"]])
add("i18n", "Chinese chat message with emoji", method="POST", target="/api/support/chat/ch_5512/messages", profile="mobile_app", json={"text": "\u4f60\u597d\uff01\u6211\u7684\u8ba2\u5355\uff08#10442\uff09\u8fd8\u6ca1\u6709\u53d1\u8d27\uff0c\u8bf7\u95ee\u4ec0\u4e48\u65f6\u5019\u80fd\u5230\uff1f\U0001F64F\U0001F4E6"})
add("i18n", "German UTF-8 slug and umlaut query", target="/de/suche?q=Gr%C3%B6%C3%9Fe+%C3%BCber+200+cm+%26+Eiche&sortierung=preis", profile="firefox", headers=[["Accept-Language", "de-DE,de;q=0.9"]])
add("i18n", "Korean and Hindi profile fields", method="PATCH", target="/api/me", profile="xhr", json={"display_name": "\uae40\ubbfc\uc900", "bio": "\u0928\u092e\u0938\u094d\u0924\u0947! \u092e\u0948\u0902 \u0926\u093f\u0932\u094d\u0932\u0940 \u0938\u0947 \u0939\u0942\u0901 \u2014 coffee \u2615 & code", "pronouns": "he/him"})
add("i18n", "Russian and Greek form comment", method="POST", target="/feedback", profile="form", form=[["comment", "\u0421\u043f\u0430\u0441\u0438\u0431\u043e \u0437\u0430 \u0431\u044b\u0441\u0442\u0440\u0443\u044e \u0434\u043e\u0441\u0442\u0430\u0432\u043a\u0443! \u0395\u03c5\u03c7\u03b1\u03c1\u03b9\u03c3\u03c4\u03ce \u03c0\u03bf\u03bb\u03cd."], ["rating", "5"]])

# ---------------------------------------------------------------- filters (long filter URLs)
add("filters", "e-commerce faceted URL", target=q("/c/laptops", [("brand", "lenovo,dell,hp,apple,asus"), ("ram", "16gb,32gb"), ("storage", "512gb-ssd,1tb-ssd"), ("screen", "13-14in"), ("price_min", "700"), ("price_max", "1800"), ("cpu", "intel-core-ultra-7,amd-ryzen-7,apple-m3"), ("weight_max", "1.5"), ("in_stock", "1"), ("sort", "relevance"), ("view", "grid"), ("per_page", "48")]), profile="chrome")
add("filters", "JSON:API style filters", target=q("/api/v1/invoices", [("filter[status]", "open,overdue"), ("filter[total][gte]", "100"), ("filter[customer.country]", "IE"), ("include", "customer,lines"), ("sort", "-due_date,number"), ("page[size]", "50"), ("page[number]", "3"), ("fields[invoices]", "number,total,due_date")]), profile="xhr")
add("filters", "OData style filter", target=q("/odata/Products", [("$filter", "Price lt 50 and Category/Name eq 'Kitchen' and not endswith(Name,'(refurb)')"), ("$orderby", "Price desc"), ("$top", "25"), ("$skip", "50"), ("$count", "true")]), profile="api")
add("filters", "Lucene-ish query in log/search app", target=q("/search/issues", [("q", "project:WEB AND (priority:high OR priority:critical) AND created:[2026-11-01 TO 2026-12-07] AND -label:wontfix"), ("limit", "100")]), profile="firefox")
add("filters", "map bounding box filter", target="/api/listings?bbox=-6.3872%2C53.2987%2C-6.1143%2C53.4109&beds_min=2&rent_max=2400&pets=true&furnished=any&available_from=2027-01-01&sort=newest", profile="chrome_mobile")
add("filters", "many repeated ids", target="/api/products/batch?" + "&".join("id=%d" % i for i in range(10401, 10441)), profile="xhr")
add("filters", "date range with timezone offsets", target="/api/events?start=2026-12-01T00%3A00%3A00%2B01%3A00&end=2026-12-31T23%3A59%3A59%2B01%3A00&tz=Europe%2FDublin&types=meeting%2Cfocus%2Cooo", profile="xhr")

# ---------------------------------------------------------------- mobile
add("mobile", "app launch config", target="/api/app/config?platform=android&version=5.12.0&locale=en_IE&build=51200", profile="mobile_app")
add("mobile", "push token registration", method="POST", target="/api/devices/push", profile="mobile_app", json={"token": "fQ8m1x:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx8ijkN-c9hQfJ8Wc3qL5mFz2Rk7eO0sY1", "platform": "fcm", "app_version": "5.12.0", "os": "14"})
add("mobile", "iOS app cart update", method="PUT", target="/api/cart", profile="mobile_app", headers=[["User-Agent", "ShopApp/5.12.0 (iPhone15,3; iOS 17.2; Scale/3.00)"]], json={"items": [{"sku": "MUG-WHT-350", "qty": 2}, {"sku": "TBL-OAK-180", "qty": 1, "gift_message": "Happy housewarming! \U0001F3E1 \u2014 love, Mam & Dad"}], "coupon": "XMAS-10"})
add("mobile", "analytics batch from SDK", method="POST", target="/v1/batch", profile="mobile_app", headers=[["User-Agent", "analytics-android/4.11.3"]],
    json={"batch": [{"type": "screen", "name": "Product Detail", "properties": {"sku": "TBL-OAK-180"}, "timestamp": "2026-12-07T12:03:11.044Z"}, {"type": "track", "event": "Add To Cart", "properties": {"price": 449.0, "currency": "EUR"}, "timestamp": "2026-12-07T12:03:15.512Z"}], "sentAt": "2026-12-07T12:03:20.000Z"})
add("mobile", "profile photo upload multipart", method="POST", target="/api/me/avatar", profile="mobile_app",
    multipart={"boundary": "Boundary-7E0B3C1A-5F2D-4E8B-9A6C-1D2E3F4A5B6C", "parts": [{"name": "avatar", "filename": "IMG_4471.HEIC.jpg", "content_type": "image/jpeg", "data_b64": base64.b64encode(b"\xff\xd8\xff\xe1\x00\x16Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\xff\xd9").decode()}]})
add("mobile", "store locator with coordinates", target="/api/stores/nearby?lat=53.3498&lng=-6.2603&radius_km=15&open_now=true&services=click_collect", profile="mobile_app")
add("mobile", "in-app review prompt feedback", method="POST", target="/api/feedback", profile="mobile_app", json={"score": 2, "comment": "App crashes when I select \"Pay with card\" then go back (Android 14). Had to delete & reinstall :(", "screen": "checkout/payment"})

if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for cat, lst in E.items():
        with open(os.path.join(OUT, cat + ".jsonl"), "w", encoding="utf-8") as fh:
            for e in lst:
                fh.write(json.dumps(e, ensure_ascii=False) + "\n")
