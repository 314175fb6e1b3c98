"""Benign entries (part 1), written by hand for holdout14."""
from lib import B

SHOPCK = [["Cookie", "sessionid=q8f7w6e5r4t3y2u1i0o9p8a7s6d5f4g3; cart=c_7Hq2Lm9; _ga=GA1.1.1938475610.1733580000"]]

# ---------------------------------------------------------------- checkout
K = "checkout"
B(K, "add to cart XHR", method="POST", target="/cart/add.js", profile="xhr",
  json={"items": [{"id": 44012873580, "quantity": 2, "properties": {"Engraving": "For Mum & Dad — 40 years"}}]})
B(K, "shipping address form", method="POST", target="/checkout/c_7Hq2Lm9/shipping", profile="form",
  form=[["checkout[email]", "o.brien@example.ie"], ["checkout[shipping_address][first_name]", "Siobhán"], ["checkout[shipping_address][last_name]", "O'Brien"],
        ["checkout[shipping_address][address1]", "Apt 4, 12 St. Stephen's Green"], ["checkout[shipping_address][city]", "Dublin 2"],
        ["checkout[shipping_address][zip]", "D02 X285"], ["checkout[shipping_address][country]", "IE"], ["checkout[shipping_address][phone]", "+353 1 555 0142"]])
B(K, "gift message with punctuation", method="POST", target="/api/checkout/gift", profile="xhr",
  json={"wrap": True, "message": "Happy 30th!! \"Old\" doesn't even begin to describe you ;-) Love, J & K <3", "from": "Jen"})
B(K, "coupon apply", method="POST", target="/cart/coupon", profile="form", form=[["coupon", "BLACKFRIDAY-25"], ["csrf", "Zx8Yw7Vu6Ts5"]])
B(K, "cart page with tracking params", target="/cart?utm_source=newsletter&utm_medium=email&utm_campaign=dec_2026%7Cwinter&ref=hdr", profile="safari")
B(K, "order notes with select/drop wording", method="POST", target="/checkout/c_7Hq2Lm9/notes", profile="form",
  form=[["note", "Please select a safe spot and drop the parcel behind the side gate (not the front door) - thanks!"], ["leave_safe", "1"]])
B(K, "payment intent confirm from checkout JS", method="POST", target="/api/checkout/confirm", profile="xhr",
  headers=[["X-CSRF-Token", "Zx8Yw7Vu6Ts5"], ["Idempotency-Key", "b9a1e6d2-3c44-4f1b-8a55-0c2f7f81e913"]],
  json={"payment_method": "pm_1OAbCdEfGhIjKlMn", "return_url": "https://shop.example.com/checkout/c_7Hq2Lm9/thank-you?from=3ds", "save_card": False})

# ---------------------------------------------------------------- wysiwyg CMS (rich HTML from the editor)
W = "wysiwyg_cms"
B(W, "TinyMCE article body save", method="POST", target="/admin/articles/318/edit", profile="form",
  form=[["title", "Winter opening hours"], ["body", "<h2>Opening hours</h2><p>From <strong>20 December</strong> we open at 10:00.</p><ul><li>Mon&ndash;Fri: 10&ndash;18</li><li>Sat: 10&ndash;16</li></ul><p><a href=\"https://shop.example.com/contact\" target=\"_blank\" rel=\"noopener\">Contact us</a></p>"],
        ["status", "published"], ["_token", "mK2pQ9rT"]])
B(W, "CKEditor autosave JSON with image figure", method="PUT", target="/cms/api/pages/about-us/draft", profile="xhr",
  json={"html": "<figure class=\"image image-style-side\"><img src=\"/media/team-2026.jpg\" alt=\"Our team at the summer party\" width=\"640\" height=\"427\"><figcaption>Our team, June 2026</figcaption></figure><p>We started in a garage in 2009&hellip;</p>", "revision": 57})
B(W, "Quill delta save", method="POST", target="/cms/api/posts/1192/content", profile="xhr",
  json={"ops": [{"insert": "Release notes\n", "attributes": {"header": 1}}, {"insert": "Faster search and a "}, {"insert": "dark mode", "attributes": {"bold": True, "link": "https://example.com/dark"}}, {"insert": ".\n"}]})
B(W, "table pasted from Word", method="POST", target="/admin/pages/prices/edit", profile="form",
  form=[["content", "<table style=\"border-collapse: collapse; width: 100%;\" border=\"1\"><tbody><tr><td style=\"width: 50%;\">Adult</td><td>&pound;12.50</td></tr><tr><td>Child (under 16)</td><td>&pound;6.00</td></tr></tbody></table><p class=\"MsoNormal\"><span style=\"font-family: Calibri, sans-serif;\">Prices include VAT.</span></p>"]])
B(W, "embed of a YouTube video from the editor", method="POST", target="/cms/api/blocks", profile="xhr",
  json={"type": "embed", "provider": "youtube", "html": "<iframe width=\"560\" height=\"315\" src=\"https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ\" title=\"YouTube video player\" frameborder=\"0\" allow=\"accelerometer; encrypted-media; picture-in-picture\" allowfullscreen></iframe>"})
B(W, "media library search", target="/cms/api/media?search=team%20photo&type=image%2Fjpeg&page=1&per_page=40", profile="xhr")

# ---------------------------------------------------------------- headless CMS GraphQL
G = "headless_graphql"
B(G, "Next.js page query with fragments", method="POST", target="/graphql", profile="xhr",
  json={"operationName": "PostBySlug", "query": "query PostBySlug($slug: String!, $preview: Boolean = false) {\n  post(where: {slug: $slug}, stage: PUBLISHED) {\n    ...PostFields\n    author { name picture { url(transformation: {image: {resize: {width: 96}}}) } }\n  }\n}\nfragment PostFields on Post { id title excerpt date coverImage { url } content { html } }", "variables": {"slug": "select-the-right-running-shoe", "preview": False}})
B(G, "persisted query GET", target="/graphql?operationName=Menu&variables=%7B%22locale%22%3A%22de-DE%22%7D&extensions=%7B%22persistedQuery%22%3A%7B%22version%22%3A1%2C%22sha256Hash%22%3A%22e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855%22%7D%7D", profile="xhr")
B(G, "mutation updating an entry", method="POST", target="/graphql", profile="xhr",
  headers=[["Authorization", "Bearer cms_pat_8Jk2Lq0Zx"]],
  json={"query": "mutation UpdateProduct($id: ID!, $data: ProductUpdateInput!) { updateProduct(where: {id: $id}, data: $data) { id updatedAt } }", "variables": {"id": "clq8x2v0k000108l4", "data": {"name": "Trail Runner 3", "description": "Grippy outsole; drop: 6 mm; weight 280 g"}}})
B(G, "introspection from GraphiQL in dev", method="POST", target="/graphql", profile="xhr",
  json={"query": "query IntrospectionQuery { __schema { queryType { name } mutationType { name } types { kind name fields(includeDeprecated: true) { name } } } }"})
B(G, "batched queries from Apollo", method="POST", target="/graphql", profile="xhr",
  json=[{"operationName": "Nav", "query": "query Nav { navigation(id: \"main\") { items { label href } } }", "variables": {}},
        {"operationName": "Footer", "query": "query Footer($l: Locale!) { footer(locale: $l) { copyright links { label href } } }", "variables": {"l": "en"}}])
B(G, "search with filter operators", method="POST", target="/graphql", profile="xhr",
  json={"query": "query Search($q: String!, $first: Int) { articles(first: $first, where: {OR: [{title_contains: $q}, {body_contains: $q}], publishedAt_lte: \"2026-12-07\"}, orderBy: publishedAt_DESC) { id title } }", "variables": {"q": "union pay", "first": 20}})

# ---------------------------------------------------------------- LMS / quizzes
L = "lms_quiz"
B(L, "multiple-choice answers", method="POST", target="/mod/quiz/processattempt.php", profile="form",
  form=[["attempt", "88213"], ["thispage", "2"], ["nextpage", "3"], ["q88213:5_answer", "2"], ["q88213:5_:sequencecheck", "1"], ["q88213:6_answer", "0"], ["sesskey", "Zp8QwErT1y"], ["next", "Next page"]])
B(L, "essay answer on database normalisation", method="POST", target="/mod/quiz/processattempt.php", profile="form",
  form=[["attempt", "88213"], ["q88213:7_answer", "Third normal form removes transitive dependencies: every non-key attribute must depend on the key, the whole key, and nothing but the key. For example, storing a customer's city in the orders table means an update must touch every order row."], ["q88213:7_answerformat", "1"], ["sesskey", "Zp8QwErT1y"]])
B(L, "xAPI-free progress ping", method="POST", target="/api/courses/101/lessons/7/progress", profile="xhr",
  json={"position_seconds": 742.5, "completed": False, "playback_rate": 1.25})
B(L, "math answer with symbols", method="POST", target="/api/quiz/submit", profile="xhr",
  json={"question": 14, "answer": "x = (-b ± √(b² - 4ac)) / 2a; for a=1, b=-3, c=2 → x=1 or x=2"})
B(L, "gradebook export", target="/grade/export/txt/export.php?id=101&groupid=0&itemids=12,13,14&export_feedback=0&separator=comma&decimalpoints=2", profile="firefox")
B(L, "forum-style reflection with quotes", method="POST", target="/mod/forum/post.php", profile="form",
  form=[["subject", "Re: Week 3 reading"], ["message[text]", "<p>I agree with Sam's point that \"less is more\" &ndash; but only if the -- admittedly vague -- goals are clear.</p>"], ["message[format]", "1"], ["discussion", "4410"]])

# ---------------------------------------------------------------- helpdesk
D = "helpdesk"
B(D, "customer opens ticket", method="POST", target="/support/tickets", profile="form",
  form=[["subject", "Can't log in after password reset"], ["description", "Hi, I reset my password at 09:14 but the login page still says 'invalid credentials'. I've tried Chrome and Firefox, cleared cookies, same result. Order #100482 if that helps."], ["priority", "normal"], ["email", "m.kowalski@example.pl"]])
B(D, "agent reply via API", method="POST", target="/api/v2/tickets/8812/comments", profile="api",
  headers=[["Authorization", "Basic YWdlbnRAZXhhbXBsZS5jb20vdG9rZW46a0o4czJMcTk="]],
  json={"ticket": {"comment": {"body": "Hi Marta,\n\nThanks for the details. I've cleared the lock on your account; please try again and let me know.\n\nBest,\nPriya (Support)", "public": True}, "status": "pending"}})
B(D, "ticket view filter", target="/api/v2/search.json?query=type%3Aticket%20status%3Aopen%20tags%3Abilling%20created%3E2026-11-01&sort_by=updated_at&sort_order=desc", profile="api",
  headers=[["Authorization", "Basic YWdlbnRAZXhhbXBsZS5jb20vdG9rZW46a0o4czJMcTk="]])
B(D, "macro update", method="PUT", target="/api/v2/macros/3391", profile="xhr",
  json={"macro": {"title": "Refund::Partial", "actions": [{"field": "comment_value", "value": "We've issued a partial refund of {{ticket.custom_field_8812}}; it will appear within 5-10 business days."}, {"field": "status", "value": "solved"}]}})
B(D, "screenshot attachment", method="POST", target="/api/v2/uploads.json?filename=error-screenshot.png", profile="api_multipart",
  headers=[["Authorization", "Basic YWdlbnRAZXhhbXBsZS5jb20vdG9rZW46a0o4czJMcTk="]],
  multipart={"boundary": "------------------------a7c41e0b9d2f3e18", "parts": [{"name": "uploaded_data", "filename": "error-screenshot.png", "content_type": "image/png",
     "data_b64": "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAF0lEQVR42mP8z8BQz0AEYBxVSF+FAP5FDvcfRYWgAAAAAElFTkSuQmCC"}]})
B(D, "satisfaction rating", method="POST", target="/support/tickets/8812/satisfaction", profile="form",
  form=[["rating", "good"], ["comment", "Quick & friendly - 10/10 would \"contact support\" again :)"]])

# ---------------------------------------------------------------- CRM
C = "crm"
B(C, "log a call note", method="POST", target="/crm/api/activities", profile="xhr",
  json={"type": "call", "contact_id": 3301, "subject": "Renewal - Q1", "body": "Spoke to Dave (procurement). They want a 3-year deal; concerned about price increase >5%. Next: send revised quote by Fri; cc legal@ their side.", "duration_min": 22})
B(C, "contact update form", method="POST", target="/crm/contacts/3301/edit", profile="form",
  form=[["first_name", "David"], ["last_name", "D'Souza-Müller"], ["title", "Head of Procurement & Vendor Mgmt"], ["company", "Northwind Traders Ltd."], ["phone", "+44 (0)20 7946 0991"], ["tags", "enterprise, renewal-2027, decision-maker"]])
B(C, "pipeline filter", target="/crm/api/deals?stage=negotiation&owner=me&amount_gte=10000&close_before=2027-03-31&fields=name,amount,stage,updated_at", profile="xhr")
B(C, "email logged via BCC parser", method="POST", target="/crm/inbound/email", profile="api",
  json={"from": "dave@northwind.example", "to": ["sales@example.com"], "subject": "RE: Quote Q-2026-118 (revised)", "text": "Hi,\n\nLooks good. Can you drop the onboarding line and update the total?\n\n> On 2 Dec 2026, Anna wrote:\n> Please find attached the revised quote.\n\nThanks, Dave"})
B(C, "bulk tag", method="PATCH", target="/crm/api/contacts/bulk", profile="xhr",
  json={"ids": [3301, 3302, 3390, 4102], "add_tags": ["webinar-2026-12"], "remove_tags": ["cold"]})
B(C, "lead capture from website form", method="POST", target="/forms/lead", profile="form",
  form=[["name", "Aisha Rahman"], ["email", "aisha.rahman@example.co.uk"], ["company", "Rahman & Sons"], ["message", "We'd like a demo for ~25 users. Is there an on-prem option or only SaaS?"], ["consent", "yes"]])

# ---------------------------------------------------------------- recruiting / CVs
R = "recruiting"
B(R, "CV upload as PDF with cover letter text", method="POST", target="/careers/jobs/2231/apply", profile="form_multipart",
  multipart={"boundary": "----WebKitFormBoundaryQ3xZ8tY1uV2wA9bC", "parts": [
      {"name": "full_name", "data": "Tomasz Nowak"}, {"name": "email", "data": "t.nowak@example.pl"},
      {"name": "cover_letter", "data": "Dear Hiring Team,\n\nI have 6 years' experience building data pipelines (Python, Airflow, PostgreSQL) and I'm excited by your role.\n\nKind regards,\nTomasz"},
      {"name": "cv", "filename": "Tomasz_Nowak_CV_2026.pdf", "content_type": "application/pdf", "data_b64": "JVBERi0xLjcKJeLjz9MKMSAwIG9iago8PCAvVHlwZSAvQ2F0YWxvZyAvUGFnZXMgMiAwIFIgPj4KZW5kb2JqCnRyYWlsZXIKPDwgL1Jvb3QgMSAwIFIgPj4KJSVFT0YK"}]})
B(R, "CV pasted as text with skills list", method="POST", target="/api/candidates", profile="xhr",
  json={"name": "Grace Adeyemi", "resume_text": "EXPERIENCE\nSenior Backend Engineer, Fintech Co (2021-present)\n- Designed the ledger service (Go, PostgreSQL); cut settlement time from 4h to 20 min\n- Led migration from MySQL 5.7 to Aurora; zero-downtime cutover\nSKILLS\nGo, Python, SQL, Kubernetes, Terraform, AWS (ECS, RDS, Lambda)\nEDUCATION\nBSc Computer Science, University of Lagos", "source": "careers-site"})
B(R, "interview feedback scorecard", method="POST", target="/ats/api/scorecards", profile="xhr",
  json={"application_id": 99172, "overall": "strong_yes", "notes": "Solid system design: sharded by tenant, discussed hot partitions & read replicas. Coding: clean, tested; used a heap for top-k.", "attributes": {"communication": 4, "technical": 5}})
B(R, "job search on careers site", target="/careers/search?q=%22data+engineer%22+OR+analytics&location=Berlin%2C+Germany&remote=true&page=2", profile="chrome_mobile")
B(R, "LinkedIn-style apply redirect callback", target="/careers/apply/callback?state=job_2231&code=AQT8x9kLmN0pQrS&source=linkedin", profile="safari")
B(R, "offer letter template save", method="PUT", target="/ats/api/templates/offer-uk", profile="xhr",
  json={"subject": "Your offer from {{company.name}}", "body": "Dear {{candidate.first_name}},\n\nWe are delighted to offer you the position of {{job.title}} at a salary of £{{offer.salary}} per annum, starting {{offer.start_date}}.\n\nYours sincerely,\n{{recruiter.name}}"})

# ---------------------------------------------------------------- FHIR
H = "fhir"
FH = [["Accept", "application/fhir+json"], ["Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzY29wZSI6InVzZXIvKi5yZWFkIn0.sig"]]
B(H, "patient search", target="/fhir/r4/Patient?family=O%27Connor&birthdate=ge1980-01-01&_count=20&_sort=-_lastUpdated", profile="api", headers=FH)
B(H, "observation create", method="POST", target="/fhir/r4/Observation", profile="api", headers=FH + [["Content-Type", "application/fhir+json"]],
  json={"resourceType": "Observation", "status": "final", "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9", "display": "Blood pressure panel"}]}, "subject": {"reference": "Patient/7f3a9c"},
        "effectiveDateTime": "2026-12-07T09:30:00Z", "component": [{"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]}, "valueQuantity": {"value": 128, "unit": "mmHg"}}]})
B(H, "include and revinclude search", target="/fhir/r4/MedicationRequest?patient=Patient/7f3a9c&status=active&_include=MedicationRequest:medication&_revinclude=Provenance:target", profile="api", headers=FH)
B(H, "transaction bundle", method="POST", target="/fhir/r4", profile="api", headers=FH + [["Content-Type", "application/fhir+json"]],
  json={"resourceType": "Bundle", "type": "transaction", "entry": [{"fullUrl": "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a", "resource": {"resourceType": "Condition", "clinicalStatus": {"coding": [{"code": "active"}]}, "code": {"text": "Type 2 diabetes mellitus"}, "subject": {"reference": "Patient/7f3a9c"}, "note": [{"text": "Pt reports <2 hypos/week; HbA1c 58 mmol/mol"}]}, "request": {"method": "POST", "url": "Condition"}}]})
B(H, "SMART launch token exchange", method="POST", target="/auth/token", profile="api",
  form=[["grant_type", "authorization_code"], ["code", "Sp1x8Q0z"], ["redirect_uri", "https://app.example.org/fhir/callback"], ["client_id", "growth-charts"], ["code_verifier", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"]])
B(H, "capability statement", target="/fhir/r4/metadata?_format=json", profile="api", headers=FH)

# ---------------------------------------------------------------- recipes
E = "recipes"
B(E, "recipe search with fractions", target="/recipes/search?q=1%2F2+cup+butter+cookies&diet=vegetarian&time_max=45", profile="chrome_mobile")
B(E, "submit recipe", method="POST", target="/recipes/new", profile="form",
  form=[["title", "Grandma's Apple & Cinnamon Crumble"], ["ingredients", "6 Bramley apples\n150g plain flour\n100g cold butter, cubed\n75g demerara sugar\n1 tsp cinnamon\npinch of salt"], ["method", "1. Heat oven to 190°C/170°C fan.\n2. Peel, core & slice apples; toss with half the sugar.\n3. Rub butter into flour until like breadcrumbs; stir in rest of sugar.\n4. Bake 35-40 min until golden."], ["servings", "6"]])
B(E, "rating and comment", method="POST", target="/api/recipes/4471/reviews", profile="xhr",
  json={"stars": 5, "text": "Made this for 8 -- doubled everything except the salt (1 tsp was plenty). Kids said \"best ever\"!"})
B(E, "print view", target="/recipes/4471-apple-crumble/print?servings=8&units=metric", profile="firefox")
B(E, "shopping list sync", method="PUT", target="/api/lists/weekly", profile="mobile_app",
  json={"items": [{"name": "Eggs (free-range)", "qty": "12"}, {"name": "Flour, 00", "qty": "1 kg"}, {"name": "Crème fraîche", "qty": "200 ml"}]})
B(E, "recipe JSON-LD import by URL", method="POST", target="/api/import", profile="xhr",
  json={"url": "https://cooking.example.org/recipes/1019-pad-thai?utm_source=share&amp=1"})

# ---------------------------------------------------------------- forum (markdown)
M = "forum_markdown"
B(M, "Discourse-style post with markdown", method="POST", target="/posts.json", profile="xhr",
  headers=[["X-CSRF-Token", "c2F5aGVsbG8="], ["X-Requested-With", "XMLHttpRequest"]],
  json={"raw": "## Update\n\nThanks @mike — that fixed it!\n\n> Have you tried turning off *power saving* in the BIOS?\n\n- [x] BIOS updated to 1.14\n- [ ] re-test with the old PSU\n\n![photo|690x388](upload://aB3xYz.jpeg)", "topic_id": 90211})
B(M, "quoting and links", method="POST", target="/forum/reply", profile="form",
  form=[["body", "[quote=\"anna_k\"]Where did you buy the sensor?[/quote]\nFrom [this shop](https://parts.example.com/bme280?ref=forum) — about €9. Works with 3.3V & 5V."], ["thread", "1182"]])
B(M, "developer pasting a SQL snippet", method="POST", target="/posts.json", profile="xhr", tags=["code"],
  json={"raw": "This query finds the duplicates:\n\n```sql\nSELECT email, COUNT(*) FROM users GROUP BY email HAVING COUNT(*) > 1;\n```\n\nthen `DELETE` the older rows by id.", "topic_id": 77120})
B(M, "user mention search", target="/u/search/users?term=jo&include_groups=true&topic_id=90211", profile="xhr")
B(M, "edit with table markdown", method="PUT", target="/posts/551203.json", profile="xhr",
  json={"post": {"raw": "| Model | Range | Price |\n|---|---|---|\n| A | 40 km | £899 |\n| B | 65 km | £1,249 |\n\n*Prices as of Dec 2026*", "edit_reason": "fix table"}})
B(M, "poll vote", method="PUT", target="/polls/vote", profile="xhr",
  form=[["post_id", "551204"], ["poll_name", "poll"], ["options[]", "4b3c2a1f"]])

# ---------------------------------------------------------------- chat
T = "chat"
B(T, "send message", method="POST", target="/api/v4/posts", profile="xhr",
  headers=[["X-Requested-With", "XMLHttpRequest"], ["Authorization", "Bearer xoxc-81n4zq2"]],
  json={"channel_id": "c8p3mw7q1f", "message": "lunch? thinking the ramen place on 5th & Main :ramen: (or \"the usual\" if it's raining)", "pending_post_id": "u92k:1733590000123"})
B(T, "reaction add", method="POST", target="/api/v4/reactions", profile="xhr", json={"user_id": "u92k", "post_id": "p7781", "emoji_name": "+1"})
B(T, "typing indicator", method="POST", target="/api/v4/users/me/typing", profile="xhr", json={"channel_id": "c8p3mw7q1f", "parent_id": ""})
B(T, "history pagination", target="/api/v4/channels/c8p3mw7q1f/posts?page=0&per_page=60&before=p7781&skipFetchThreads=false", profile="xhr")
B(T, "file share into channel", method="POST", target="/api/v4/files?channel_id=c8p3mw7q1f", profile="form_multipart",
  multipart={"boundary": "----WebKitFormBoundaryh2Lq9Tz0", "parts": [{"name": "files", "filename": "Q4 plan (draft v2).xlsx", "content_type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "data_b64": "UEsDBBQABgAIAAAAIQBi7p1oXgEAAJAEAAATAAgCW0NvbnRlbnRfVHlwZXNdLnhtbCCiBAIooAAC"}, {"name": "client_ids", "data": "f1"}]})
B(T, "slash command", method="POST", target="/api/v4/commands/execute", profile="xhr",
  json={"channel_id": "c8p3mw7q1f", "command": "/remind me \"submit expenses\" at 5pm on Friday"})

# ---------------------------------------------------------------- analytics beacons
N = "beacons"
B(N, "sendBeacon text/plain JSON", method="POST", target="/collect", profile="xhr",
  headers=[["Content-Type", "text/plain;charset=UTF-8"], ["Sec-Fetch-Mode", "no-cors"]],
  body="{\"type\":\"pageview\",\"url\":\"https://shop.example.com/c/boots?size=42&sort=price_asc\",\"ref\":\"https://www.google.com/\",\"sw\":1920,\"sh\":1080,\"tz\":\"Europe/London\",\"t\":1733590012345}")
B(N, "GA4-style measurement hit", target="/g/collect?v=2&tid=G-ABC123XYZ&gtm=45je4c10&_p=1733590012&cid=1938475610.1733580000&ul=en-us&sr=1920x1080&sid=1733590000&sct=4&seg=1&dl=https%3A%2F%2Fshop.example.com%2Fcart&dt=Your%20Cart%20%E2%80%93%20Shop&en=page_view", profile="chrome_img")
B(N, "web vitals batch", method="POST", target="/rum/vitals", profile="xhr", headers=[["Content-Type", "text/plain;charset=UTF-8"]],
  body="[{\"name\":\"LCP\",\"value\":1834.2,\"rating\":\"good\",\"id\":\"v3-1733590-1\",\"el\":\"img.hero\"},{\"name\":\"CLS\",\"value\":0.04,\"rating\":\"good\"},{\"name\":\"INP\",\"value\":212,\"rating\":\"needs-improvement\",\"target\":\"button#add-to-cart\"}]")
B(N, "tracking pixel with event props", target="/px.gif?e=add_to_cart&p=%7B%22sku%22%3A%22BT-42-BLK%22%2C%22price%22%3A89.99%2C%22currency%22%3A%22GBP%22%7D&r=0.8812", profile="chrome_img")
B(N, "JS error report", method="POST", target="/api/errors", profile="xhr",
  json={"message": "TypeError: Cannot read properties of undefined (reading 'length')", "stack": "TypeError: Cannot read properties of undefined (reading 'length')\n    at renderCart (https://shop.example.com/assets/app.4f2a.js:1:88213)\n    at https://shop.example.com/assets/app.4f2a.js:1:90112", "url": "https://shop.example.com/cart", "ua": "Mozilla/5.0"})
B(N, "CSP violation report", method="POST", target="/csp-report", profile="xhr", headers=[["Content-Type", "application/csp-report"]],
  body="{\"csp-report\":{\"document-uri\":\"https://shop.example.com/checkout\",\"referrer\":\"\",\"violated-directive\":\"script-src-elem\",\"effective-directive\":\"script-src-elem\",\"original-policy\":\"default-src 'self'; script-src 'self' https://js.stripe.com; report-uri /csp-report\",\"blocked-uri\":\"https://cdn.tagmanager.example/gtm.js\",\"status-code\":200}}")
B(W, "developer blog post in the CMS with a code block (code)", method="POST", target="/admin/articles/322/edit", profile="form", tags=["code"],
  form=[["title", "Lazy-loading images without a library"], ["body", "<p>Modern browsers support this natively:</p><pre><code class=\"language-html\">&lt;img src=\"hero.jpg\" loading=\"lazy\" alt=\"\"&gt;</code></pre><p>For older ones, a small observer does it:</p><pre><code class=\"language-js\">const io = new IntersectionObserver(entries =&gt; {\n  entries.forEach(e =&gt; { if (e.isIntersecting) { e.target.src = e.target.dataset.src; io.unobserve(e.target); } });\n});\ndocument.querySelectorAll('img[data-src]').forEach(img =&gt; io.observe(img));</code></pre>"],
        ["status", "draft"], ["_token", "mK2pQ9rT"]])
