#!/usr/bin/python3
"""Writes tests/waf/holdout11/benign/*.jsonl (written blind; see README)."""
import base64
import json
import os
import urllib.parse

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benign")
H = "shop.example.com"


def q(s):
    return urllib.parse.quote(s, safe="")


def qs(pairs):
    return urllib.parse.urlencode([tuple(p) for p in pairs], quote_via=urllib.parse.quote)


JWT = ("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6IjRmMmEifQ."
       "eyJzdWIiOiJ1XzgxMjc3MyIsImV4cCI6MTc5NjU2MDAwMCwiaWF0IjoxNzk2NTU2NDAwLCJzY29wZSI6InJlYWQgd3JpdGUifQ."
       "Qm9ndXNTaWduYXR1cmVOb3RSZWFsX2J1dF9sb29rc19wbGF1c2libGVfODI3MzQ5")
COOKIE = ("OptanonConsent=isGpcEnabled=0&datestamp=Mon+Dec+07+2026+12%3A01%3A44+GMT%2B0100&version=202310.2.0"
          "&groups=C0001%3A1%2CC0002%3A1%2CC0003%3A0%2CC0004%3A0; _ga=GA1.1.1928374655.1796551234; "
          "_ga_K2Z7Q1=GS1.1.1796551234.3.1.1796551299.0.0.0; ab_variant=checkout_v2%3AB; "
          "__Host-session=" + JWT)
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
JPEG = base64.b64encode(bytes.fromhex(
    "ffd8ffe000104a46494600010101004800480000ffe1002a4578696600004d4d002a000000080001"
    "011200030000000100010000000000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912"
    "130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffd9")).decode()

E = {}


def add(cat, **kw):
    E.setdefault(cat, []).append(kw)


# ---------------------------------------------------------------- recipe blog
add("recipe", target="/recipes/brown-butter-pecan-pie?servings=8&units=imperial", profile="safari",
    note="recipe page with unit switch")
add("recipe", method="POST", target="/wp-comments-post.php", profile="form", form=[
    ["comment", "Made this last night! I used 1/2 cup brown sugar instead of 3/4 and baked at 350\u00b0F for "
                "45-50 min. My oven runs hot so I'd say check at 40. Added 2-3 drops of almond extract -- "
                "\"game changer\" as my husband put it :)"],
    ["author", "Dana O'Connell"], ["email", "dana.oc@example.org"], ["url", ""],
    ["submit", "Post Comment"], ["comment_post_ID", "4812"], ["comment_parent", "0"]],
    note="WordPress comment with fractions, degrees, quotes")
add("recipe", method="POST", target="/wp-comments-post.php", profile="form", form=[
    ["comment", "Can I swap the butter for coconut oil? And is it 1 tsp or 1 tbsp of salt -- the card says "
                "\"1 t\" which is confusing. Also: 9x13 pan or 8x8?"],
    ["author", "Mehmet"], ["email", "mehmet.k@example.net"], ["comment_post_ID", "4812"],
    ["comment_parent", "19233"]], note="comment reply with question marks and dimensions")
add("recipe", target="/search?" + qs([["s", "gluten-free & dairy-free brownies"], ["diet[]", "vegan"],
                                      ["time", "<30"]]), profile="chrome_mobile",
    note="recipe search with & and < in values")
add("recipe", method="POST", target="/wp-json/wprm/v1/rating", profile="xhr",
    json={"recipe_id": 4812, "rating": 5, "comment": "Perfect -- 10/10 would bake again (doubled the recipe for a crowd of 12)."},
    note="recipe rating JSON")
add("recipe", target="/print/4812?" + qs([["scale", "1.5"], ["notes", "1"]]), profile="firefox",
    note="print view scaled")
add("recipe", method="POST", target="/newsletter/subscribe", profile="form",
    form=[["EMAIL", "cook+recipes@example.com"], ["FNAME", "Zo\u00eb"], ["interests[baking]", "on"],
          ["b_4f1c2_9a8e", ""]], note="newsletter signup with honeypot field")

# ---------------------------------------------------------------- real estate
add("realestate", target="/search/homes?" + qs([
    ["price_min", "350000"], ["price_max", "725000"], ["beds", "3+"], ["baths", "2"],
    ["poly", "47.6205,-122.3493;47.6101,-122.3420;47.6042,-122.3301;47.6205,-122.3493"],
    ["sort", "price_asc"], ["page", "2"]]), profile="chrome", note="home search with map polygon")
add("realestate", target="/api/listings/map?bbox=-122.459696%2C47.481002%2C-122.224433%2C47.734136&zoom=12&status=for_sale%2Cpending",
    profile="xhr", note="map tiles bounding box")
add("realestate", method="POST", target="/agent/listings/88213", profile="xhr", json={
    "title": "Sun-drenched 3BR craftsman w/ detached ADU",
    "description": "Walk to shops & cafes! Updated kitchen (quartz counters, gas range), original hardwoods, "
                   "and a 400 sq ft ADU -- perfect for in-laws or rental income ($1,800/mo est.). "
                   "Seller will consider offers between $699K-$725K. Don't miss the 1:00-3:00 open house Sat.",
    "price": 715000, "hoa": None, "sqft": 1960, "lot": "0.14 ac", "year_built": 1924,
    "features": ["A/C", "W/D in unit", "EV charger (Level 2)"]}, note="listing edit with $ and prose")
add("realestate", method="POST", target="/contact-agent", profile="form", form=[
    ["name", "Priya & Arjun Nair"], ["phone", "(206) 555-0143"], ["email", "pnair@example.com"],
    ["message", "Hi - we're pre-approved up to $750k. Is the seller open to a rent-back for 30-45 days? "
                "Also, what's the status of the roof (age?) and is the sewer line scoped?"],
    ["listing_id", "88213"]], note="contact agent form")
add("realestate", target="/mortgage/calculator?price=715000&down=20%25&rate=6.375&term=30&tax=1.02", profile="safari",
    note="mortgage calculator with percent")
add("realestate", target="/homes/seattle-wa/98103/3915-wallingford-ave-n/88213", profile="chrome",
    headers=[["Referer", "https://" + H + "/search/homes?price_min=350000"]], note="listing page")

# ---------------------------------------------------------------- legal
add("legal", method="PUT", target="/api/v2/contracts/ctr_7Hx2/clauses/12", profile="xhr", json={
    "heading": "Limitation of Liability",
    "text": "12.1 Notwithstanding anything to the contrary in this Agreement, neither party shall be liable for "
            "any indirect, incidental or consequential damages, except as set out in \u00a7 3.1(b) and/or "
            "Schedule 2. (a) The aggregate liability of the Supplier shall not exceed the Fees paid in the "
            "twelve (12) months preceding the claim; (b) nothing in this clause limits liability for fraud.",
    "numbering": "12.1", "redline": False}, note="contract clause with section sign, (a) (b)")
add("legal", method="POST", target="/api/v2/contracts/ctr_7Hx2/comments", profile="xhr", json={
    "anchor": {"clause": "8.4", "start": 112, "end": 187},
    "body": "Counterparty's markup deletes \"or any affiliate thereof\" -- we should push back. Where the "
            "Licensee is in breach of 8.4(c), termination shall be effective upon notice, not 30 days."},
    note="review comment quoting contract text")
add("legal", target="/templates?" + qs([["q", "\"mutual NDA\" governing law Delaware"], ["jurisdiction", "US-DE"]]),
    profile="firefox", note="template search with quoted phrase")
add("legal", method="POST", target="/sign/envelopes", profile="xhr", json={
    "subject": "Please sign: Master Services Agreement (MSA) -- Acme Corp. / Northwind Ltd.",
    "recipients": [{"name": "J. Smith-Watanabe", "email": "jsw@northwind.example", "role": "signer", "order": 1},
                   {"name": "Legal Ops", "email": "legal@acme.example", "role": "cc"}],
    "message": "Hi Jun, attached per our call. Sections 4-7 are unchanged from the 2025 version; see the "
               "redline for \u00a7 9 (Data Protection) & Annex A.", "expires_in_days": 14},
    note="e-signature envelope")
add("legal", method="POST", target="/matters/2026-0412/notes", profile="form", form=[
    ["note", "Call w/ opposing counsel re: discovery schedule. They'll produce docs by 1/15; we agreed to "
             "a 2-week extension \"without prejudice\". Follow up: motion to compel if < 50% produced."],
    ["billable", "0.4"], ["activity_code", "L120"]], note="matter notes with < and quotes")
add("legal", target="/api/v2/contracts?" + qs([["filter[status]", "in_review"], ["filter[counterparty]", "O'Neil & Partners LLP"],
                                              ["sort", "-updated_at"]]), profile="xhr",
    note="list filtered by counterparty with apostrophe")

# ---------------------------------------------------------------- dating/social
add("dating", method="PATCH", target="/api/me/profile", profile="mobile_app", json={
    "bio": "6'1\" if that matters lol \ud83d\ude05 dog dad \ud83d\udc36 | climbing, tacos & bad puns. "
           "ngl i'll judge ur spotify wrapped. no hookups pls \ud83d\ude4f",
    "prompts": [{"q": "My most irrational fear", "a": "birds. all of them. don't @ me"},
                {"q": "Two truths and a lie", "a": "been to 23 countries / can't swim / once met Beyonc\u00e9"}],
    "pronouns": "he/him", "height_cm": 185}, note="profile bio with emoji and slang")
add("dating", method="POST", target="/api/matches/m_99a1/messages", profile="mobile_app",
    json={"text": "haha wait ur telling me u've never had pho?? ok we're fixing that. thurs 7pm? \ud83c\udf5c",
          "client_id": "c3f1e2a0-7b9d-4c1e-8f2a-1d3e5b7c9a01"}, note="chat message")
add("dating", target="/api/discover?age_min=27&age_max=35&distance_km=15&intent=long_term%2Cunsure", profile="mobile_app",
    note="discover filters")
add("dating", method="POST", target="/api/reports", profile="mobile_app", json={
    "user_id": "u_448120", "reason": "fake_profile",
    "details": "Photos are from an Instagram model (reverse image search). Asked me to move to WhatsApp & "
               "send $$ for a 'visa' -- classic scam."}, note="report with quotes")
add("dating", method="POST", target="/api/me/photos", profile="mobile_app",
    headers=[["Content-Type", "multipart/form-data; boundary=----okhttp7f3a"]],
    multipart={"boundary": "----okhttp7f3a", "parts": [
        {"name": "caption", "data": "me at the top of Mt. Si (not pictured: my legs giving up)"},
        {"name": "photo", "filename": "IMG_20261129_141233.jpg", "content_type": "image/jpeg", "data_b64": JPEG}]},
    note="photo upload from Android app")
add("dating", target="/u/jess.on.wheels?ref=share&utm_source=ig&utm_medium=story", profile="chrome_mobile",
    note="public profile link")

# ---------------------------------------------------------------- tickets/events
add("tickets", target="/api/events/evt_2027_0314/seatmap?section=FLR-B&include=price_levels%2Cholds", profile="xhr",
    note="seat map fetch")
add("tickets", method="POST", target="/api/cart/holds", profile="xhr", json={
    "event_id": "evt_2027_0314", "seats": [{"section": "FLR-B", "row": "AA", "seat": "12"},
                                           {"section": "FLR-B", "row": "AA", "seat": "13"}],
    "price_level": "PL2", "promo_code": "EARLYBIRD-25%OFF", "accessible": False}, note="seat hold with promo code")
add("tickets", method="POST", target="/checkout/promo", profile="form",
    form=[["code", "FRIENDS&FAMILY"], ["cart", "c_88f1a"]], note="promo code with ampersand")
add("tickets", target="/events?" + qs([["q", "Tool (w/ special guest)"], ["city", "Paris"], ["date", "2027-03-01..2027-03-31"],
                                      ["price", "0-150"]]), profile="firefox", note="events search with range syntax")
add("tickets", method="POST", target="/api/organizer/events", profile="xhr", json={
    "name": "Jazz Brunch @ The Blue Door -- Vol. 3", "starts_at": "2027-02-14T11:00:00-05:00",
    "description": "Live trio + bottomless mimosas ($35 adv / $45 door). 21+ only. Doors at 10:30am; "
                   "seating is first-come, first-served. Refunds: up to 48h before start.",
    "tiers": [{"name": "GA", "price": 3500, "qty": 120}, {"name": "VIP table (4 ppl)", "price": 18000, "qty": 8}]},
    note="organizer creates event")
add("tickets", target="/orders/TKT-88120-XQ/tickets.pdf?sig=7f2c1b9e8d3a&exp=1796600000", profile="safari",
    note="signed ticket PDF")

# ---------------------------------------------------------------- developer portal
add("devportal", target="/v1/projects/prj_41/usage?from=2026-11-01&to=2026-11-30&granularity=day", profile="api",
    headers=[["X-API-Key", "sk_live_51Hx8eKmTq0wZ9b2c4d6f8h0j2l4n6p8"]], note="API key header")
add("devportal", method="POST", target="/v1/specs", profile="api", headers=[["Content-Type", "application/yaml"],
    ["Authorization", "Bearer " + JWT]], body=(
    "openapi: 3.0.3\ninfo:\n  title: Orders API\n  version: 1.4.0\n  description: |\n    Manage orders. All amounts in minor units.\n"
    "paths:\n  /orders/{id}:\n    get:\n      summary: Get an order\n      parameters:\n        - name: id\n          in: path\n"
    "          required: true\n          schema:\n            type: string\n            pattern: '^ord_[A-Za-z0-9]{12}$'\n"
    "      responses:\n        '200':\n          description: OK\n        '404':\n          description: Not found\n"),
    note="OpenAPI YAML upload")
add("devportal", method="POST", target="/v1/specs", profile="api", headers=[["Authorization", "Bearer " + JWT]], json={
    "openapi": "3.1.0", "info": {"title": "Webhooks", "version": "2.0.0"},
    "paths": {"/events": {"post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Event"}}}},
                                   "responses": {"204": {"description": "Accepted"}}}}},
    "components": {"schemas": {"Event": {"type": "object", "required": ["id", "type"],
                                         "properties": {"id": {"type": "string"}, "type": {"type": "string", "enum": ["order.created", "order.paid"]}}}}}},
    note="OpenAPI JSON upload with $ref")
add("devportal", method="POST", target="/docs/api/orders/comments", profile="form", tags=["code"], form=[
    ["body", "The example is missing the auth header. This works for me:\n\n```\ncurl -s https://api.example.com/v1/orders?limit=5 \\\n"
             "  -H \"Authorization: Bearer $TOKEN\" | jq '.data[].id'\n```"], ["page", "orders-list"]],
    note="docs comment with a curl example")
add("devportal", target="/docs/search?q=" + q("rate limit 429 Retry-After header") + "&version=v1", profile="chrome",
    note="docs search")
add("devportal", method="POST", target="/v1/keys", profile="xhr", json={"name": "ci-deploy (GitHub Actions)",
    "scopes": ["orders:read", "webhooks:write"], "allowed_ips": ["203.0.113.0/24", "2001:db8::/48"], "expires": "2027-06-30"},
    note="create API key with CIDRs")
add("devportal", target="/v1/orders?limit=50&starting_after=ord_8HbA1c2D3e4F&expand[]=customer&expand[]=line_items",
    profile="api", headers=[["Authorization", "Basic c2tfdGVzdF80ZUM6"], ["Idempotency-Key", "a7d1f9b2-3c4e-4f5a-9b8c-7d6e5f4a3b21"]],
    note="list with expand[] and Basic auth")

# ---------------------------------------------------------------- support chat
add("support", method="POST", target="/api/chat/conversations/cv_5521/messages", profile="xhr", json={
    "author": "customer", "text": "I've been waiting 3 WEEKS for order #A-10492-77!!! Tracking says \"delivered\" but "
    "NOTHING is here. This is unacceptable!!! I want a refund or I'm disputing the charge."}, note="angry customer")
add("support", method="POST", target="/api/chat/conversations/cv_5521/messages", profile="xhr", json={
    "author": "agent", "text": "I'm so sorry about that, Maria. I've opened a carrier claim (ref CLM-228190) and "
    "issued a full refund of $84.97 -- you'll see it in 3-5 business days. Is there anything else?"},
    note="agent reply")
add("support", method="POST", target="/support/tickets", profile="form", form=[
    ["subject", "Can't log in -- \"invalid token\" error??"],
    ["description", "Steps: 1) go to /login 2) enter email 3) click the magic link -> \"invalid or expired token\". "
                    "Tried Chrome + Safari, cleared cookies, same thing. Order numbers: 55102, 55188 & 55240."],
    ["category", "account"], ["priority", "high"]], note="support ticket with arrows and quotes")
add("support", method="POST", target="/api/chat/transcripts/export", profile="xhr", json={
    "conversation_id": "cv_5498", "format": "txt",
    "transcript": "[10:02] Customer: hi\n[10:02] Bot: Hi! What can I help with?\n[10:03] Customer: where's my stuff???\n"
                  "[10:03] Bot: Please paste your order number.\n[10:04] Customer: 10492-77\n[10:05] Agent (Tom): Looking now..."},
    note="chat transcript export")
add("support", target="/help/search?" + qs([["q", "where is my order?"], ["lang", "en"]]), profile="chrome_mobile",
    note="help center search")
add("support", method="POST", target="/api/csat", profile="xhr", json={"ticket": 88120, "score": 2,
    "comment": "Slow. Had to explain the same thing 3x to 3 different people :( "}, note="CSAT comment")

# ---------------------------------------------------------------- government form
add("govform", method="POST", target="/apply/passport/step-2", profile="form", form=[
    ["surname", "Nguy\u1ec5n"], ["given_names", "Th\u1ecb Lan"], ["dob_day", "07"], ["dob_month", "03"], ["dob_year", "1988"],
    ["place_of_birth", "H\u1ed3 Ch\u00ed Minh City, Vietnam"], ["national_id", "AB 12 34 56 C"],
    ["address_line1", "Flat 4B, 17-19 St. Mary's Road"], ["address_line2", ""], ["town", "Leeds"], ["postcode", "LS7 3QF"],
    ["previous_names", "N/A"]], note="passport form with diacritics and national insurance number")
add("govform", method="POST", target="/apply/passport/documents", profile="form_multipart",
    multipart={"boundary": "----WebKitFormBoundaryqZ8x2Lm4Nn6Pp0Rr", "parts": [
        {"name": "doc_type", "data": "proof_of_address"},
        {"name": "file", "filename": "council tax bill 2026.pdf", "content_type": "application/pdf",
         "data": "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"}]},
    note="PDF upload with spaces in filename")
add("govform", method="POST", target="/tax/return/2025/income", profile="form", form=[
    ["employer", "Smith & Sons Ltd (t/a \"Smith's Hardware\")"], ["gross", "42,150.00"], ["tax_paid", "6,330.20"],
    ["explain", "Started self-employment on 01/09/2025 -- see SA103. Expenses < \u00a31,000 so using trading allowance."]],
    note="tax return with quotes and pound sign")
add("govform", target="/services/find-a-court?postcode=SW1A+1AA&type=family&radius=10", profile="firefox",
    note="postcode search")
add("govform", method="POST", target="/benefits/change-of-circumstances", profile="form", form=[
    ["change", "moved_house"], ["date", "2026-11-28"],
    ["details", "Moved from 12 Oak Ln. to 3/41 Harbour St (unit 3, building 41). Landlord: J & M Properties. "
                "Rent went from 950 to 1,100/month."], ["declaration", "yes"]], note="change of circumstances with unit slash")
add("govform", target="/appointments/slots?" + qs([["office", "DMV-0412"], ["service", "REAL ID"], ["from", "2026-12-14"]]),
    profile="safari", note="appointment slots")
add("govform", method="POST", target="/foi/requests", profile="form", form=[
    ["request", "Under the Freedom of Information Act 2000, please provide: (a) the number of pothole repair requests "
                "received in 2025; (b) the average time to repair; and (c) any internal guidance on prioritisation."],
    ["name", "R. Ahmed"], ["email", "r.ahmed@example.co.uk"]], note="FOI request text")

# ---------------------------------------------------------------- music/podcast
for i, (term, extra) in enumerate([("Guns N' Roses", "artist"), ("AC/DC", "artist"), ("Sigur R\u00f3s", "artist"),
                                   ("Hall & Oates", "all"), ("\"Don't Stop Me Now\"", "track")]):
    add("music", target="/api/search?" + qs([["q", term], ["type", extra], ["limit", "20"]]),
        profile="xhr", note="music search: " + term)
add("music", method="PUT", target="/api/playlists/pl_3n2x/details", profile="xhr", json={
    "name": "sunday morning \u2615 (don't skip!)", "description": "mellow stuff -- Bon Iver, Ph\u0153be Bridgers, "
    "The 1975 <3, and that one S&M-era Metallica track", "public": True}, note="playlist with <3")
add("music", method="POST", target="/api/podcasts/pod_77/episodes/ep_1204/progress", profile="mobile_app",
    json={"position_ms": 1834200, "speed": 1.25, "completed": False}, note="podcast progress")
add("music", target="/podcast/the-daily-grind/ep-204-why-select-all-is-never-the-answer?t=1h02m15s", profile="chrome",
    note="episode slug with SQL words")

# ---------------------------------------------------------------- wiki
add("wiki", method="POST", target="/w/index.php?title=Mount_Rainier&action=submit", profile="form", form=[
    ["wpTextbox1", "{{Infobox mountain\n| name = Mount Rainier\n| elevation_ft = 14411\n| range = [[Cascade Range]]\n}}\n"
                   "'''Mount Rainier''' is a large active [[stratovolcano]] in the [[Cascade Range]] of the "
                   "[[Pacific Northwest]].<ref>{{cite web |url=https://www.usgs.gov/volcanoes/mount-rainier |title=Mount Rainier |publisher=USGS}}</ref>\n"
                   "== Geography ==\nIt is {{convert|14411|ft|m}} high."],
    ["wpSummary", "/* Geography */ fix convert template; rm dup ref (see talk)"], ["wpMinoredit", "1"],
    ["wpEditToken", "9f8e7d6c5b4a3f2e1d0c+\\"]], note="MediaWiki edit with templates and links")
add("wiki", target="/w/index.php?" + qs([["search", "intitle:\"Sigur R\u00f3s\" -album"], ["title", "Special:Search"], ["ns0", "1"]]),
    profile="firefox", note="wiki search with operators")
add("wiki", method="POST", target="/w/api.php", profile="xhr", form=[
    ["action", "parse"], ["format", "json"], ["text", "{{#if:{{{1|}}}|[[{{{1}}}]]|''none''}} and {{lc:ABC}}"],
    ["contentmodel", "wikitext"]], note="parser preview with parser functions")
add("wiki", target="/wiki/C%2B%2B_(programming_language)", profile="chrome", note="page title with + and parentheses")
add("wiki", target="/wiki/Special:Diff/1182734/1182790?diffmode=source", profile="safari", note="diff view")
add("wiki", method="POST", target="/w/index.php?title=Talk:Pizza&action=submit", profile="form", form=[
    ["wpTextbox1", "== Is pineapple \"traditional\"? ==\nI'd argue the sourcing here is weak -- see [[WP:RS]]. "
                   "~~~~\n:Agree, the blog cited isn't reliable. --~~~~"],
    ["wpSummary", "new section"], ["wpSection", "new"]], note="talk page with signatures")

# ---------------------------------------------------------------- email marketing
TEMPLATE = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>.btn{background:#ff6a00;color:#fff;"
            "padding:12px 24px;border-radius:4px}@media (max-width:600px){.col{width:100%!important}}</style></head>"
            "<body style=\"margin:0;font-family:Helvetica,Arial,sans-serif\"><table role=\"presentation\" width=\"100%\" "
            "cellpadding=\"0\" cellspacing=\"0\"><tr><td style=\"padding:24px\"><h1 style=\"font-size:22px\">Hi *|FNAME|*,</h1>"
            "<p>Your cart misses you! Use code <strong>COMEBACK10</strong> by *|DATE:d/m/y|*.</p>"
            "<a class=\"btn\" href=\"https://shop.example.com/cart?utm_source=email&amp;utm_campaign=abandon\">Finish checkout</a>"
            "<p style=\"font-size:11px;color:#888\"><a href=\"*|UNSUB|*\">Unsubscribe</a> | *|LIST:ADDRESS|*</p>"
            "</td></tr></table></body></html>")
add("email", method="PUT", target="/api/3.0/campaigns/c_8812/content", profile="xhr", json={"html": TEMPLATE},
    tags=["code"], note="email HTML template with inline CSS and merge tags")
add("email", method="POST", target="/api/templates/render-preview", profile="xhr", json={
    "subject": "{{first_name}}, your {{ plan | upper }} plan renews on {{renewal_date}}",
    "text": "Hi {{first_name}},\n\nThanks for being with us since {{signup_year}}. {% if discount %}Here's {{discount}}% off.{% endif %}\n",
    "sample": {"first_name": "Ana", "plan": "pro", "renewal_date": "Jan 3", "signup_year": 2021, "discount": 15}},
    note="Liquid/Jinja-like merge tags")
add("email", method="POST", target="/lists/l_44/members/import", profile="form_multipart",
    multipart={"boundary": "----WebKitFormBoundary9xC4hJ2kL6mN8pQ0", "parts": [
        {"name": "file", "filename": "subscribers-dec.csv", "content_type": "text/csv",
         "data": "email,first_name,last_name,tags\nann@example.com,Ann,O'Hara,\"vip,2024\"\nbo@example.org,Bo,Li-Smith,\n"
                 "c.d@example.net,Chlo\u00e9,D'Amico,\"newsletter\"\n"},
        {"name": "update_existing", "data": "true"}]}, note="CSV subscriber import")
add("email", target="/r/c_8812/l/9?u=" + q("https://shop.example.com/sale?utm_source=email&utm_campaign=bf26") + "&s=3fa9",
    profile="chrome_mobile", note="click tracking redirect with URL in query")
add("email", target="/o/c_8812.gif?e=YW5uQGV4YW1wbGUuY29t&t=1796551234", profile="chrome_img", note="open pixel")
add("email", method="POST", target="/api/3.0/campaigns/c_8813/test", profile="xhr", json={
    "test_emails": ["qa@example.com", "marketing+seed@example.com"], "send_type": "html",
    "subject": "\ud83c\udf84 Last chance: 30% off *everything* (ends midnight!)"}, note="test send with emoji subject")

# ---------------------------------------------------------------- photos
add("photo", method="POST", target="/upload", profile="form_multipart",
    multipart={"boundary": "----WebKitFormBoundaryA1b2C3d4E5f6G7h8", "parts": [
        {"name": "title", "data": "Golden hour @ Lake Bled \u2014 f/8, 1/250s, ISO 100"},
        {"name": "tags", "data": "slovenia, lake, sunset, 35mm"},
        {"name": "image", "filename": "DSC_4471.JPG", "content_type": "image/jpeg", "data_b64": JPEG}]},
    note="photo upload with exposure in title")
add("photo", method="PATCH", target="/api/photos/ph_778123/exif", profile="xhr", json={
    "Make": "FUJIFILM", "Model": "X-T5", "LensModel": "XF16-55mmF2.8 R LM WR", "FNumber": 5.6, "ExposureTime": "1/500",
    "ISOSpeedRatings": 160, "DateTimeOriginal": "2026:10:03 17:42:11", "GPSLatitude": "46 deg 21' 50.28\" N",
    "GPSLongitude": "14 deg 5' 35.64\" E", "Software": "Adobe Lightroom Classic 13.0 (Macintosh)"},
    note="EXIF JSON with degree notation quotes")
add("photo", target="/img/ph_778123/w_1600,h_1067,c_fill,q_auto:good,f_webp/DSC_4471.webp", profile="chrome_img",
    headers=[["Cookie", COOKIE]], note="image CDN transform path")
add("photo", method="POST", target="/api/photos/ph_778123/comments", profile="xhr",
    json={"text": "Wow, those colours!! What ND filter? 6-stop? \ud83d\udc4f\ud83d\udc4f"}, note="photo comment")
add("photo", method="POST", target="/api/albums/al_12/avatar", profile="api_multipart",
    multipart={"boundary": "7MA4YWxkTrZu0gW", "parts": [
        {"name": "file", "filename": "cover.png", "content_type": "image/png", "data_b64": PNG}]}, note="PNG via API client")
add("photo", target="/search?q=" + q("black & white street -instagram") + "&license=cc-by&orientation=landscape",
    profile="firefox", note="photo search")

# ---------------------------------------------------------------- geo
add("geo", method="POST", target="/v1/geofences", profile="api", headers=[["Content-Type", "application/geo+json"]],
    body=json.dumps({"type": "Feature", "properties": {"name": "Depot North", "radius_m": None},
                     "geometry": {"type": "Polygon", "coordinates": [[[13.3777, 52.5163], [13.3889, 52.5163],
                                                                     [13.3889, 52.5201], [13.3777, 52.5201], [13.3777, 52.5163]]]}}),
    note="GeoJSON with geo+json type")
add("geo", target="/v1/route?origin=52.5200,13.4050&destination=48.1351,11.5820&mode=driving&avoid=tolls%7Cferries&alternatives=true",
    profile="api", note="routing with pipes")
add("geo", target="/v1/geocode?" + qs([["address", "1600 Pennsylvania Ave NW, Washington, DC 20500"], ["country", "US"]]),
    profile="api", note="geocoding an address")
add("geo", target="/tiles/v3/14/8802/5373.pbf?access_token=pk.eyJ1IjoibWFwcyIsImEiOiJjbHgxMjMifQ.abcDEF123", profile="chrome_img",
    note="vector tile with token")
add("geo", method="POST", target="/v1/tracks/batch", profile="mobile_app", json={"device": "drv-0042", "points": [
    {"lat": 40.7128, "lon": -74.006, "t": 1796551200, "acc": 5.2}, {"lat": 40.7131, "lon": -74.0052, "t": 1796551210, "acc": 4.8}]},
    note="GPS track batch")
add("geo", target="/v1/search/nearby?" + qs([["q", "caf\u00e9 & bakery"], ["near", "-33.8688,151.2093"], ["r", "1500"]]),
    profile="xhr", note="POI search with accent and ampersand")

# ---------------------------------------------------------------- survey
add("survey", method="POST", target="/s/Qx82k/submit", profile="form", form=[
    ["q1", "N/A"], ["q2", "> 10 hours/week"], ["q3", "< 1 year"], ["q4", "Strongly agree"],
    ["q5_other", "I'd say it's 50/50 -- depends on the team & manager."], ["q6[]", "Slack"], ["q6[]", "Email"]],
    note="survey answers with < > and N/A")
add("survey", method="PUT", target="/api/surveys/Qx82k/questions/7", profile="xhr", json={
    "type": "matrix", "text": "How satisfied are you with... (1 = not at all, 5 = very)",
    "rows": ["Pay & benefits", "Work/life balance", "Manager's support"], "columns": [1, 2, 3, 4, 5],
    "logic": {"if": {"q3": "< 1 year"}, "then": "skip_to:q9"}}, note="survey editor with logic")
add("survey", target="/s/Qx82k?lang=de&src=email&rid=R_3ezKx91", profile="safari", note="survey link")
add("survey", method="POST", target="/api/surveys/Qx82k/responses/R_3ezKx91/autosave", profile="xhr",
    json={"q10": "Honestly? Less meetings!!! More focus time. And please fix the VPN -- it drops every ~20 min.",
          "q11": "<no comment>"}, note="autosave open text")
add("survey", target="/api/surveys/Qx82k/export?format=xlsx&filter=" + q("q4 = 'Strongly agree' AND q3 != 'N/A'"),
    profile="xhr", tags=["code"], note="export with filter expression in the survey tool's own syntax")

# ---------------------------------------------------------------- fintech/crypto
add("fintech", method="POST", target="/api/v1/withdrawals", profile="xhr", json={
    "asset": "USDC", "network": "ethereum", "amount": "1250.000000",
    "address": "0x71C7656EC7ab88b098defB751B7401B5f6d8976F", "memo": None, "2fa": "492017"}, note="withdrawal to 0x address")
add("fintech", target="/api/v1/markets/BTC-USD/candles?granularity=3600&start=2026-12-01T00%3A00%3A00Z&end=2026-12-07T00%3A00%3A00Z",
    profile="xhr", note="candles with timestamps")
add("fintech", method="POST", target="/api/v1/orders", profile="api", headers=[
    ["CB-ACCESS-KEY", "a1b2c3d4e5f60718"], ["CB-ACCESS-SIGN", "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA=="],
    ["CB-ACCESS-TIMESTAMP", "1796551234"]], json={"product_id": "ETH-EUR", "side": "sell", "type": "limit",
                                                  "price": "2,310.55".replace(",", ""), "size": "0.4210", "post_only": True},
    note="signed exchange order")
add("fintech", target="/portfolio?range=1Y&currency=EUR&show=realized%2Cunrealized", profile="chrome", headers=[["Cookie", COOKIE]],
    note="dashboard with consent/AB/JWT cookies")
add("fintech", method="POST", target="/api/v1/address-book", profile="xhr", json={
    "label": "Mom's wallet (Ledger)", "address": "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "network": "bitcoin"},
    note="bech32 address")
add("fintech", method="POST", target="/api/v1/transfers/notes", profile="xhr", json={
    "tx": "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060",
    "note": "Rent Dec -- split 50/50 w/ Sam (he owes me \u20ac412.50)"}, note="tx note")

# ---------------------------------------------------------------- chat app
add("chat", method="POST", target="/api/channels/C04DEV/messages", profile="xhr", json={
    "text": "@maya can you look at https://github.com/example/app/pull/4182 ? CI is red on `test_checkout` again :/",
    "mentions": ["U01MAYA"]}, note="chat with URL, mention and inline code")
add("chat", method="POST", target="/api/channels/C04DEV/messages", profile="xhr", tags=["code"], json={
    "text": "fixed it, the query was `SELECT id FROM orders WHERE status = 'open' LIMIT 50` -- missing the index on status"},
    note="chat with an SQL snippet in backticks")
add("chat", method="POST", target="/api/channels/C09RANDOM/messages", profile="xhr", json={
    "text": "lunch?? \ud83c\udf55 or \ud83c\udf63 -- vote w/ reactions. place on 5th & Pine opens @ 11:30"}, note="casual chat")
add("chat", target="/api/channels/C04DEV/history?before=1796551234.000200&limit=50", profile="xhr", note="history pagination")
add("chat", method="POST", target="/api/files.upload", profile="form_multipart",
    multipart={"boundary": "----WebKitFormBoundaryZ9y8X7w6V5u4T3s2", "parts": [
        {"name": "channels", "data": "C04DEV"}, {"name": "initial_comment", "data": "screenshot of the error :("},
        {"name": "file", "filename": "Screen Shot 2026-12-07 at 11.02.14.png", "content_type": "image/png", "data_b64": PNG}]},
    note="screenshot upload")
add("chat", method="POST", target="/api/reactions.add", profile="xhr", json={"channel": "C04DEV", "ts": "1796551234.000200",
                                                                             "name": "+1"}, note="reaction")

# ---------------------------------------------------------------- page loads and assets
add("pageloads", target="/", profile="chrome", headers=[["Cookie", COOKIE]], note="home with consent, GA, A/B, JWT session")
add("pageloads", target="/_next/static/chunks/pages/_app-4f2c9a1b3d5e7f60.js", profile="chrome_js",
    headers=[["Cookie", COOKIE]], note="Next.js chunk")
add("pageloads", target="/assets/fonts/Inter-var.woff2?v=3.19", profile="chrome_font", note="font")
add("pageloads", target="/static/css/main.8c1f2a.css", profile="firefox_css", note="stylesheet")
add("pageloads", target="/products/sneakers?color=white&size=10.5&gclid=Cj0KCQiA2KitBhCIARIsAPPMEhLq8&fbclid=IwAR2xY8kP",
    profile="edge", headers=[["Referer", "https://www.google.com/"]], note="ad landing with click ids")
add("pageloads", target="/favicon.ico", profile="safari_img", note="favicon")
add("pageloads", target="/sw.js", profile="chrome_js", headers=[["Service-Worker", "script"]], note="service worker")
add("pageloads", target="/manifest.webmanifest", profile="chrome", headers=[["Accept", "*/*"], ["Sec-Fetch-Dest", "manifest"]],
    note="web app manifest")

# ---------------------------------------------------------------- beacons
add("beacons", method="POST", target="/g/collect?v=2&tid=G-K2Z7Q1&gtm=45je4c10&_p=1796551234&cid=1928374655.1796551234&ul=en-us"
    "&sr=1920x1080&en=page_view&dl=" + q("https://shop.example.com/products/sneakers?color=white") + "&dt=" + q("White Sneakers | Shop"),
    profile="chrome", headers=[["Accept", "*/*"], ["Sec-Fetch-Dest", "empty"], ["Content-Type", "text/plain;charset=UTF-8"]],
    body="", note="GA4 collect beacon")
add("beacons", method="POST", target="/rum/v1/events", profile="xhr", headers=[["Content-Type", "text/plain;charset=UTF-8"]],
    body=json.dumps({"t": "web-vitals", "lcp": 1820.4, "cls": 0.041, "inp": 96, "url": "/checkout?step=2", "nav": "navigate"}),
    note="sendBeacon JSON as text/plain")
add("beacons", method="POST", target="/api/track", profile="xhr", json={"event": "Add to Cart", "properties": {
    "product": "Men's Trail Runner 2.0", "price": 129.99, "variant": "10.5 / Black", "coupon": None},
    "anonymousId": "4c3b2a19-8f7e-4d6c-b5a4-392817e6f5d4", "context": {"page": {"referrer": "https://www.bing.com/search?q=trail+shoes"}}},
    note="Segment-like track")
add("beacons", target="/px?ev=PageView&id=998877665544&dl=" + q("https://shop.example.com/") + "&rl=&ts=1796551234001", profile="chrome_img",
    note="tracking pixel")
add("beacons", method="POST", target="/ingest/errors", profile="xhr", json={
    "message": "TypeError: Cannot read properties of undefined (reading 'map')",
    "stack": "TypeError: Cannot read properties of undefined (reading 'map')\n    at CartList (https://shop.example.com/_next/static/chunks/742.js:1:2231)\n    at renderWithHooks (react-dom.production.min.js:1:52)",
    "url": "https://shop.example.com/cart", "ua": "Chrome 120"}, note="front-end error report")

# ---------------------------------------------------------------- webhooks
add("webhooks", method="POST", target="/hooks/ci", profile="none", headers=[
    ["User-Agent", "GitHub-Hookshot/8e1f3b2"], ["X-GitHub-Event", "workflow_run"],
    ["X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"],
    ["X-Hub-Signature-256", "sha256=8f1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3"]],
    json={"action": "completed", "workflow_run": {"name": "CI / build (ubuntu-latest, 3.12)", "conclusion": "failure",
          "head_branch": "fix/select-union-docs", "head_commit": {"message": "docs: explain why we don't use UNION ALL here\n\nCloses #812"}}},
    note="GitHub workflow_run webhook")
add("webhooks", method="POST", target="/hooks/payments", profile="none", headers=[
    ["User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)"],
    ["Stripe-Signature", "t=1796551234,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd"]],
    json={"id": "evt_1Pq2", "type": "charge.dispute.created", "data": {"object": {"id": "dp_1Pq3", "amount": 8497,
          "reason": "product_not_received", "evidence_details": {"due_by": 1797760834}}}},
    note="payment dispute webhook")
add("webhooks", method="POST", target="/hooks/esign", profile="none", headers=[
    ["User-Agent", "DocuSign Connect v2"], ["X-DocuSign-Signature-1", "kT1E2f3G4h5I6j7K8l9M0n1O2p3Q4r5S6t7U8v9W0x="]],
    json={"event": "envelope-completed", "data": {"envelopeId": "c4f1a2b3-0000-4d5e-8f9a-1b2c3d4e5f60",
          "envelopeSummary": {"emailSubject": "Please sign: MSA -- Acme / Northwind", "status": "completed",
                              "recipients": {"signers": [{"name": "J. Smith-Watanabe", "status": "completed"}]}}}},
    note="e-signature webhook")
add("webhooks", method="POST", target="/hooks/gitlab", profile="none", headers=[
    ["User-Agent", "GitLab/16.7.0"], ["X-Gitlab-Event", "Merge Request Hook"], ["X-Gitlab-Token", "s3cr3t-hook-token"]],
    json={"object_kind": "merge_request", "object_attributes": {"title": "Drop legacy /admin/export endpoint",
          "description": "This removes the old exporter; see the migration notes in ./docs/upgrading.md.", "state": "opened"}},
    note="GitLab MR hook")
add("webhooks", method="POST", target="/hooks/sms", profile="none", headers=[
    ["User-Agent", "TwilioProxy/1.1"], ["X-Twilio-Signature", "RSOYDt4T1cUTdK1PDd93/VVr8B8="]],
    form=[["From", "+14155550143"], ["To", "+14155550100"], ["Body", "STOP"], ["MessageSid", "SM1f2e3d4c5b6a"]],
    note="inbound SMS form webhook")

# ---------------------------------------------------------------- reports
add("reports", method="POST", target="/csp-report", profile="none", headers=[
    ["User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"],
    ["Content-Type", "application/csp-report"]],
    body=json.dumps({"csp-report": {"document-uri": "https://shop.example.com/checkout", "referrer": "",
                                    "violated-directive": "script-src-elem", "effective-directive": "script-src-elem",
                                    "original-policy": "default-src 'self'; script-src 'self' 'nonce-r4nd0m' https://js.stripe.com; report-uri /csp-report",
                                    "blocked-uri": "inline", "line-number": 14, "source-file": "https://shop.example.com/checkout",
                                    "status-code": 200, "script-sample": ""}}),
    note="legacy CSP report")
add("reports", method="POST", target="/reports", profile="none", headers=[
    ["User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"],
    ["Content-Type", "application/reports+json"]],
    body=json.dumps([{"age": 12, "type": "csp-violation", "url": "https://shop.example.com/account",
                      "user_agent": "Mozilla/5.0 Chrome/120", "body": {"blockedURL": "https://fonts.gstatic.com/s/inter.woff2",
                      "disposition": "enforce", "documentURL": "https://shop.example.com/account", "effectiveDirective": "font-src",
                      "originalPolicy": "font-src 'self'; report-to default", "statusCode": 200}}]),
    note="Reporting API CSP")
add("reports", method="POST", target="/nel", profile="none", headers=[
    ["User-Agent", "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36"],
    ["Content-Type", "application/reports+json"]],
    body=json.dumps([{"age": 3021, "type": "network-error", "url": "https://shop.example.com/api/cart",
                      "body": {"elapsed_time": 10012, "method": "POST", "phase": "connection", "protocol": "h2",
                               "referrer": "https://shop.example.com/cart", "sampling_fraction": 0.05,
                               "server_ip": "203.0.113.10", "status_code": 0, "type": "tcp.timed_out"}}]),
    note="NEL report")
add("reports", method="POST", target="/reports", profile="none", headers=[
    ["User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"],
    ["Content-Type", "application/reports+json"]],
    body=json.dumps([{"age": 0, "type": "deprecation", "url": "https://shop.example.com/",
                      "body": {"id": "UnloadHandler", "message": "Unload event listeners are deprecated and will be removed.",
                               "sourceFile": "https://shop.example.com/_next/static/chunks/main.js", "lineNumber": 1, "columnNumber": 8812}}]),
    note="deprecation report")
add("reports", method="POST", target="/ct-report", profile="none", headers=[
    ["User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15"],
    ["Content-Type", "application/csp-report"]],
    body=json.dumps({"csp-report": {"document-uri": "https://shop.example.com/blog/post?id=12", "violated-directive": "img-src",
                                    "blocked-uri": "data", "original-policy": "img-src 'self' https://cdn.example.com"}}),
    note="CSP report for data: image")

# ---------------------------------------------------------------- i18n
for term, lang in [("\u043a\u0443\u043f\u0438\u0442\u044c \u0434\u0438\u0432\u0430\u043d \u0443\u0433\u043b\u043e\u0432\u043e\u0439", "ru"),
                   ("\u6771\u4eac \u30e9\u30fc\u30e1\u30f3 \u304a\u3059\u3059\u3081", "ja"),
                   ("\u0645\u0637\u0639\u0645 \u0642\u0631\u064a\u0628 \u0645\u0646\u064a", "ar"),
                   ("\u00e7a co\u00fbte combien l'abonnement ?", "fr"),
                   ("\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e", "hi")]:
    add("i18n", target="/search?" + qs([["q", term], ["hl", lang]]), profile="chrome",
        headers=[["Accept-Language", lang + ";q=1.0, en;q=0.5"]], note="search in " + lang)
add("i18n", method="POST", target="/api/reviews", profile="xhr", json={"lang": "de", "rating": 4,
    "text": "Gr\u00f6\u00dfe f\u00e4llt klein aus -- lieber eine Nummer gr\u00f6\u00dfer bestellen! \u201eSuper bequem\u201c, sagt meine Frau."},
    note="German review with typographic quotes")
add("i18n", target="/%E5%95%86%E5%93%81/%E3%82%B9%E3%83%8B%E3%83%BC%E3%82%AB%E3%83%BC", profile="safari",
    note="UTF-8 percent-encoded path")
add("i18n", method="POST", target="/api/reviews", profile="xhr", json={"lang": "es", "rating": 5,
    "text": "\u00a1Me encant\u00f3! Lleg\u00f3 en 2 d\u00edas; la talla 38 = 24,5 cm. \u00bfHabr\u00e1 m\u00e1s colores?"},
    note="Spanish review")

# ---------------------------------------------------------------- added before the commit of the set, same rules
add("webhooks", method="POST", target="/hooks/shop", profile="none", headers=[
    ["User-Agent", "Shopify-Captain-Hook"], ["X-Shopify-Topic", "orders/create"], ["X-Shopify-Shop-Domain", "acme-outdoor.myshopify.com"],
    ["X-Shopify-Hmac-Sha256", "XWmrwMey6OsLMeiZKwP4FppHH3cmAiiJJAweH5Jo4bM="]],
    json={"id": 820982911946154508, "email": "jon@example.com", "note": "Please leave at the back door -- dog bites (seriously)!",
          "line_items": [{"title": "Tent 2P \"UL\" (green)", "quantity": 1, "price": "349.00"}],
          "shipping_address": {"address1": "12 O'Connell St", "city": "Dublin", "zip": "D01 F5P2"}}, note="shop order webhook")
add("webhooks", method="POST", target="/hooks/email-events", profile="none", headers=[["User-Agent", "SendGrid Event API"]],
    json=[{"email": "ann@example.com", "event": "click", "url": "https://shop.example.com/cart?utm_source=email&utm_campaign=abandon",
           "timestamp": 1796551234, "sg_event_id": "ZmM3YjQ5"}, {"email": "bo@example.org", "event": "bounce",
           "reason": "550 5.1.1 <bo@example.org>: Recipient address rejected: User unknown in virtual mailbox table", "status": "5.1.1"}],
    note="email event webhook with an SMTP bounce reason")
add("beacons", method="POST", target="/api/event", profile="xhr", headers=[["Content-Type", "text/plain"]],
    body=json.dumps({"n": "pageview", "u": "https://shop.example.com/blog/how-to-choose-a-tent?ref=newsletter", "d": "shop.example.com",
                     "r": "https://news.ycombinator.com/", "w": 1440}), note="privacy-analytics pageview as text/plain")
add("survey", method="POST", target="/s/Nps4/submit", profile="chrome_mobile", form=[
    ["score", "9"], ["why", "Fast delivery & the app is easy. Only gripe: search for \"waterproof\" shows non-waterproof stuff -_-"],
    ["contact_ok", "no"]], note="NPS answer")
add("reports", method="POST", target="/reports", profile="none", headers=[
    ["User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"],
    ["Content-Type", "application/reports+json"]],
    body=json.dumps([{"age": 40, "type": "coep", "url": "https://shop.example.com/studio",
                      "body": {"blockedURL": "https://cdn.example.net/widget.js", "destination": "script", "disposition": "reporting",
                               "type": "corp"}}]), note="COEP report")


def main():
    os.makedirs(OUT, exist_ok=True)
    total = 0
    for cat, es in E.items():
        with open(os.path.join(OUT, cat + ".jsonl"), "w", encoding="utf-8") as f:
            for n, e in enumerate(es, 1):
                row = {"id": "h11-%s-%03d" % (cat, n), "category": cat, "expect": "pass"}
                row.update(json.loads(json.dumps(e)))
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                total += 1
    print("benign", total, "in", len(E), "kinds")


if __name__ == "__main__":
    main()
