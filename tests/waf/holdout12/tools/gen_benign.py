#!/usr/bin/python3
"""gen_benign.py - writes tests/waf/holdout12/benign/<category>.jsonl.

Hand-written benign traffic for 24 kinds of site, each entry a request as a
real site would receive it today.  Run from anywhere; output overwrites the
jsonl files.  Ids are h12-<category>-NNN in the order written here.
"""

import base64
import json
import os
from collections import OrderedDict

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benign")

PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP438AAAAQBAYDFKhhdAAAAAElFTkSuQmCC"
JPEG_HEAD = base64.b64encode(bytes.fromhex(
    "ffd8ffe000104a46494600010101004800480000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001000101011100ffc4001400010000000000000000000000000000000affda0008010100003f00d2cf20ffd9")).decode()
PDF_MINI = base64.b64encode(
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n").decode()

SESS = "Cookie"
CATS = OrderedDict()


def E(cat, note, **kw):
    lst = CATS.setdefault(cat, [])
    e = OrderedDict()
    e["id"] = "h12-%s-%03d" % (cat, len(lst) + 1)
    e["category"] = cat
    e["expect"] = "pass"
    for k in ("method", "target", "profile", "headers", "json", "form", "multipart", "body", "tags"):
        if k in kw:
            e[k] = kw.pop(k)
    assert not kw, kw
    e["note"] = note
    lst.append(e)


def xhr(cookie=None, extra=()):
    h = []
    if cookie:
        h.append(["Cookie", cookie])
    return h + [list(x) for x in extra]


# ---------------------------------------------------------------- checkout
C = "checkout"
SHOPC = "sessionid=q8f7w6e5r4t3y2u1i0o9p8a7s6d5f4g3; csrftoken=Zx8Yw7Vu6Ts5; cart_id=c_7d1e9a0b44; _ga=GA1.1.1843209911.1701950000"
E(C, "product page with variant and utm params",
  target="/p/merino-crew-neck-jumper-navy?variant=44129301&utm_source=newsletter&utm_medium=email&utm_campaign=winter_sale_2026",
  profile="chrome")
E(C, "add to cart from product page (JSON)", method="POST", target="/cart/add.js", profile="xhr",
  headers=[["Cookie", SHOPC], ["X-Requested-With", "XMLHttpRequest"]],
  json={"items": [{"id": 44129301, "quantity": 2, "properties": {"Gift wrap": "Yes", "Engraving": "For Sam - love, Mum & Dad"}}]})
E(C, "cart update quantities form", method="POST", target="/cart", profile="form",
  headers=[["Cookie", SHOPC]],
  form=[["updates[]", "2"], ["updates[]", "1"], ["note", "Please leave with neighbour at no. 14 if I'm out"], ["checkout", "Check out"]])
E(C, "shipping address step", method="POST", target="/checkouts/cn/Z2NwLWV1cm9wZS13ZXN0/information", profile="form",
  headers=[["Cookie", SHOPC]],
  form=[["_method", "patch"], ["authenticity_token", "Hn3k9+aQ0u2vX1pL8mZr/dW4yT6cE5bN7sG1fJ0hK2o="],
        ["previous_step", "contact_information"], ["step", "shipping_method"],
        ["checkout[email]", "s.o'connor@example.ie"], ["checkout[shipping_address][first_name]", "Siobhán"],
        ["checkout[shipping_address][last_name]", "O'Connor"], ["checkout[shipping_address][address1]", "Flat 2, 17 Rathmines Rd Upper"],
        ["checkout[shipping_address][city]", "Dublin 6"], ["checkout[shipping_address][zip]", "D06 F2X7"],
        ["checkout[shipping_address][country]", "Ireland"], ["checkout[shipping_address][phone]", "+353 87 123 4567"]])
E(C, "apply discount code", method="POST", target="/api/checkout/discounts", profile="xhr",
  headers=[["Cookie", SHOPC]], json={"code": "WINTER-20", "checkout_token": "9c1f0e7a6b5d4c3b2a19"})
E(C, "payment intent confirm (Stripe-like) from checkout JS", method="POST", target="/api/payments/confirm", profile="xhr",
  headers=[["Cookie", SHOPC], ["Idempotency-Key", "5b2f8c1e-0d7a-4b3e-9f61-2a8c4d0e7b19"]],
  json={"payment_method": "pm_1OJxYz2eZvKYlo2C8fJ0aB3c", "return_url": "https://shop.example.com/checkouts/cn/Z2NwLWV1cm9wZS13ZXN0/thank_you?order=1043",
        "save_card": False, "billing_details": {"name": "Siobhán O'Connor", "address": {"postal_code": "D06 F2X7", "country": "IE"}}})
E(C, "order confirmation page", target="/checkouts/cn/Z2NwLWV1cm9wZS13ZXN0/thank_you?order=1043&key=b7d1c2e9f0", profile="safari",
  headers=[["Cookie", SHOPC]])
E(C, "product review with free text", method="POST", target="/products/merino-crew-neck-jumper-navy/reviews", profile="form",
  headers=[["Cookie", SHOPC]],
  form=[["rating", "4"], ["title", "Lovely & warm, runs a bit small"],
        ["body", "Bought a M for my husband (6'1\", 85kg) and it's snug across the shoulders - I'd size up. "
                 "Colour is exactly as shown. Washed it once on 30 degrees/wool cycle and no bobbling so far. "
                 "Would buy again if they did a 'tall' fit!"],
        ["author", "Jen from Leeds"]])

# ---------------------------------------------------------------- cms
C = "cms"
WPC = "wordpress_logged_in_5c0a1f=editor%7C1702555555%7CkQ3x9Lr2%7C8f2e1d; wp-settings-1=libraryContent%3Dbrowse%26editor%3Dtinymce; wp-settings-time-1=1701950000"
E(C, "WordPress admin post list", target="/wp-admin/edit.php?post_status=draft&post_type=post&orderby=date&order=desc", profile="firefox",
  headers=[["Cookie", WPC]])
E(C, "WordPress block editor save via REST", method="POST", target="/wp-json/wp/v2/posts/4821?_locale=user", profile="xhr",
  headers=[["Cookie", WPC], ["X-WP-Nonce", "a9f3c2e1b0"]],
  json={"id": 4821, "title": "Ten winter walks within an hour of Manchester",
        "content": "<!-- wp:paragraph -->\n<p>When the days get short it's tempting to stay in, but the Peak District is <strong>right there</strong>. Here are our favourites, with parking and a pub at the end of each.</p>\n<!-- /wp:paragraph -->\n\n<!-- wp:heading -->\n<h2 class=\"wp-block-heading\">1. Kinder Scout from Edale</h2>\n<!-- /wp:heading -->\n\n<!-- wp:image {\"id\":4830,\"sizeSlug\":\"large\"} -->\n<figure class=\"wp-block-image size-large\"><img src=\"https://cdn.example.com/uploads/2026/12/kinder.jpg\" alt=\"Frosty plateau on Kinder\" class=\"wp-image-4830\"/></figure>\n<!-- /wp:image -->",
        "status": "draft", "categories": [12, 33], "tags": [101]})
E(C, "WordPress heartbeat autosave", method="POST", target="/wp-admin/admin-ajax.php", profile="xhr",
  headers=[["Cookie", WPC]],
  form=[["data[wp-refresh-post-lock][lock]", "1702000000:1"], ["data[wp-refresh-post-lock][post_id]", "4821"],
        ["interval", "60"], ["_nonce", "3c1b9e0f2a"], ["action", "heartbeat"], ["screen_id", "post"], ["has_focus", "true"]])
E(C, "WordPress media upload (jpeg)", method="POST", target="/wp-admin/async-upload.php", profile="form_multipart",
  headers=[["Cookie", WPC]],
  multipart={"boundary": "----WebKitFormBoundaryK3v9pQ2mX7aL0bZe", "parts": [
      {"name": "name", "data": "kinder.jpg"}, {"name": "action", "data": "upload-attachment"},
      {"name": "_wpnonce", "data": "7e2d1c0b9a"}, {"name": "post_id", "data": "4821"},
      {"name": "async-upload", "filename": "kinder.jpg", "content_type": "image/jpeg", "data_b64": JPEG_HEAD}]})
E(C, "Ghost admin post save (mobiledoc/lexical JSON)", method="PUT", target="/ghost/api/admin/posts/6571a2e0f1b2c3d4e5f60718/?formats=mobiledoc,lexical", profile="xhr",
  headers=[["Cookie", "ghost-admin-api-session=s%3AqW8e7R6t5Y4u3I2o1P0a.Zk9x8c7v6b5n4m3"], ["App-Pragma", "no-cache"], ["X-Ghost-Version", "5.74"]],
  json={"posts": [{"title": "Release notes: December", "slug": "release-notes-december",
                   "lexical": "{\"root\":{\"children\":[{\"children\":[{\"detail\":0,\"format\":0,\"mode\":\"normal\",\"style\":\"\",\"text\":\"This month we shipped dark mode, faster search and a new export to CSV.\",\"type\":\"text\",\"version\":1}],\"direction\":\"ltr\",\"format\":\"\",\"indent\":0,\"type\":\"paragraph\",\"version\":1}],\"direction\":\"ltr\",\"format\":\"\",\"indent\":0,\"type\":\"root\",\"version\":1}}",
                   "status": "draft", "updated_at": "2026-12-07T13:58:12.000Z"}]})
E(C, "Drupal node edit form save", method="POST", target="/node/312/edit?destination=/admin/content", profile="form",
  headers=[["Cookie", "SSESS4f2a1b=Yx7Wv6Ut5Sr4Qp3On2Ml1Kj0Ih9Gf8"]],
  form=[["title[0][value]", "Opening hours over Christmas"],
        ["body[0][value]", "<p>The library will close at 1pm on 24 December and reopen on 2 January.</p><p>Book returns can still be left in the drop box outside the main entrance.</p>"],
        ["body[0][format]", "basic_html"], ["form_build_id", "form-Qm4x_8aZ1vK3nP0rT6wY2cE5"], ["form_token", "tK9r2Lm8Zx1"],
        ["form_id", "node_page_edit_form"], ["status[value]", "1"], ["op", "Save"]])
E(C, "WordPress comment moderation list (ajax)", target="/wp-admin/edit-comments.php?comment_status=moderated&paged=2", profile="chrome",
  headers=[["Cookie", WPC]])

# ---------------------------------------------------------------- lms
C = "lms"
LMSC = "MoodleSession=9h2k4j6l8m0n1b3v5c7x; MOODLEID1_=%25F0%259A"
E(C, "course page", target="/course/view.php?id=1187&section=4", profile="chrome", headers=[["Cookie", LMSC]])
E(C, "quiz attempt answers (Moodle-style form)", method="POST", target="/mod/quiz/processattempt.php?cmid=90412", profile="form",
  headers=[["Cookie", LMSC]],
  form=[["attempt", "55123"], ["thispage", "2"], ["nextpage", "3"], ["timeup", "0"], ["sesskey", "Hq3Zt9Lp0x"],
        ["q55123:3_:sequencecheck", "1"], ["q55123:3_answer", "2"],
        ["q55123:4_:sequencecheck", "1"], ["q55123:4_answer", "The mitochondria produce ATP through oxidative phosphorylation; glycolysis happens in the cytoplasm."],
        ["q55123:5_answer", "x = (-b ± sqrt(b^2 - 4ac)) / 2a"], ["next", "Next page"]])
E(C, "essay assignment submission (file + online text)", method="POST", target="/mod/assign/view.php", profile="form_multipart",
  headers=[["Cookie", LMSC]],
  multipart={"boundary": "----WebKitFormBoundary8aPz3Qm1Lk7Xc2Wv", "parts": [
      {"name": "id", "data": "90433"}, {"name": "action", "data": "savesubmission"}, {"name": "sesskey", "data": "Hq3Zt9Lp0x"},
      {"name": "onlinetext_editor[text]", "data": "<p>In this essay I argue that the 1832 Reform Act was less a break with the past than a careful adjustment of it. Earl Grey's government wanted to <em>preserve</em> the constitution, not overturn it &ndash; and the limited franchise shows it.</p>"},
      {"name": "files_filemanager", "filename": "essay_reform_act_final.pdf", "content_type": "application/pdf", "data_b64": PDF_MINI}]})
E(C, "forum post in a course discussion", method="POST", target="/mod/forum/post.php", profile="form",
  headers=[["Cookie", LMSC]],
  form=[["reply", "20871"], ["subject", "Re: Week 4 - question about the problem set"],
        ["message[text]", "<p>For Q3 I think you need to convert to moles first (divide by 58.44 g/mol for NaCl), then use c = n / V. I got 0.171 mol/L but not 100% sure about the sig figs?</p>"],
        ["message[format]", "1"], ["sesskey", "Hq3Zt9Lp0x"], ["_qf__mod_forum_post_form", "1"], ["submitbutton", "Post to forum"]])
E(C, "LTI launch (signed form post from a tool consumer)", method="POST", target="/lti/launch", profile="form",
  headers=[["Origin", "https://vle.example.ac.uk"], ["Referer", "https://vle.example.ac.uk/"]],
  form=[["lti_message_type", "basic-lti-launch-request"], ["lti_version", "LTI-1p0"], ["resource_link_id", "rl-90412"],
        ["user_id", "a8f3e2"], ["roles", "Learner"], ["context_id", "CHEM101-2026"], ["context_title", "Chemistry 101: Foundations"],
        ["launch_presentation_return_url", "https://vle.example.ac.uk/course/view.php?id=1187"],
        ["oauth_consumer_key", "chem-tool"], ["oauth_signature_method", "HMAC-SHA1"], ["oauth_timestamp", "1701957600"],
        ["oauth_nonce", "b8d2e1f0a9c7"], ["oauth_version", "1.0"], ["oauth_signature", "tX2y5Q+8zJ3bK1mN0pL9wR7vS4c="]])
E(C, "gradebook JSON fetch", target="/api/v1/courses/1187/gradebook?include[]=assignments&include[]=submissions&per_page=50", profile="xhr",
  headers=[["Cookie", LMSC]])
E(C, "video progress beacon", method="POST", target="/api/progress", profile="xhr",
  headers=[["Cookie", LMSC]], json={"cmid": 90450, "position": 612.4, "duration": 1804.0, "completed": False})

# ---------------------------------------------------------------- health
C = "health"
HC = "portal_session=ey7Kq2Zt9Lp0xM3n; XSRF-TOKEN=b0c1d2e3f4a5"
E(C, "patient portal appointments list", target="/portal/appointments?status=upcoming&from=2026-12-07", profile="safari", headers=[["Cookie", HC]])
E(C, "message to GP with symptoms", method="POST", target="/portal/api/messages", profile="xhr",
  headers=[["Cookie", HC], ["X-XSRF-TOKEN", "b0c1d2e3f4a5"]],
  json={"recipient": "practice:F84012", "subject": "Repeat prescription + question",
        "body": "Hi, could I get my repeat of sertraline 50mg? Also my blood pressure readings at home have been 145/95 and 150/92 this week - is that something I should book in for? I'm free Tues/Thurs after 3pm. Thanks, Priya"})
E(C, "appointment booking slot", method="POST", target="/portal/api/appointments", profile="xhr",
  headers=[["Cookie", HC], ["X-XSRF-TOKEN", "b0c1d2e3f4a5"]],
  json={"slot_id": "slot_2026-12-09T15:20_dr-ahmed", "type": "telephone", "reason": "Follow-up on blood test results (HbA1c)"})
E(C, "FHIR Observation search by an app", target="/fhir/r4/Observation?patient=Patient/8812&code=http://loinc.org|8480-6,8462-4&date=ge2026-11-01&_sort=-date&_count=20",
  profile="api", headers=[["Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzY29wZSI6InBhdGllbnQvT2JzZXJ2YXRpb24ucmVhZCJ9.c2lnbmF0dXJl"], ["Accept", "application/fhir+json"]])
E(C, "FHIR Observation create from a wearable app", method="POST", target="/fhir/r4/Observation", profile="mobile_app",
  headers=[["Content-Type", "application/fhir+json"]],
  json={"resourceType": "Observation", "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
        "subject": {"reference": "Patient/8812"}, "effectiveDateTime": "2026-12-07T07:31:00+00:00",
        "valueQuantity": {"value": 64, "unit": "beats/minute", "system": "http://unitsofmeasure.org", "code": "/min"}})
E(C, "upload a referral letter", method="POST", target="/portal/documents/upload", profile="form_multipart",
  headers=[["Cookie", HC]],
  multipart={"boundary": "----WebKitFormBoundaryH8q2Rz5Tn1Wm4Xp0", "parts": [
      {"name": "category", "data": "referral"}, {"name": "description", "data": "Letter from Dr. Okafor (dermatology), 28 Nov"},
      {"name": "file", "filename": "referral-okafor-28nov.pdf", "content_type": "application/pdf", "data_b64": PDF_MINI}]})

# ---------------------------------------------------------------- jobs
C = "jobs"
JC = "jb_sess=u1i2o3p4a5s6d7f8; jb_consent=analytics%3D1%26ads%3D0"
E(C, "job search with filters", target="/jobs?q=senior+backend+engineer+(go+OR+rust)&l=Berlin%2C+Germany&remote=hybrid&salary_min=75000&posted=7d", profile="firefox", headers=[["Cookie", JC]])
E(C, "apply with CV and cover letter", method="POST", target="/jobs/88213/apply", profile="form_multipart",
  headers=[["Cookie", JC]],
  multipart={"boundary": "----WebKitFormBoundaryA1s2D3f4G5h6J7k8", "parts": [
      {"name": "full_name", "data": "Tomás Ferreira"}, {"name": "email", "data": "tomas.ferreira@example.pt"},
      {"name": "phone", "data": "+351 912 345 678"}, {"name": "linkedin", "data": "https://www.linkedin.com/in/tomas-ferreira-dev/"},
      {"name": "cover_letter", "data": "Dear Hiring Team,\r\n\r\nI've spent the last five years building payment services in Go at a Lisbon fintech, where I led the move from a monolith to ~20 services and cut p99 latency from 800ms to 120ms. I'm drawn to your role because of the focus on reliability & observability - I run our on-call rota and wrote most of our runbooks.\r\n\r\nI'd be happy to relocate to Berlin (EU citizen, no visa needed).\r\n\r\nBest regards,\r\nTomás"},
      {"name": "cv", "filename": "Tomas_Ferreira_CV_2026.pdf", "content_type": "application/pdf", "data_b64": PDF_MINI},
      {"name": "salary_expectation", "data": "80-90k EUR"}, {"name": "gdpr_consent", "data": "on"}]})
E(C, "recruiter saves candidate note", method="POST", target="/ats/api/candidates/55120/notes", profile="xhr",
  headers=[["Cookie", "ats_session=Kq9Lm2Zx8Vb7; csrf=Tn4Pw1"]],
  json={"note": "Phone screen went well. Strong on distributed systems; weaker on front-end (fine for this role). Wants 85k, notice period 2 months. Next: tech interview w/ Anja & Raj - Thu 14:00?", "visibility": "team"})
E(C, "employer posts a job ad", method="POST", target="/employer/jobs", profile="form",
  headers=[["Cookie", "emp_session=Yh6Tg5Rf4Ed3"]],
  form=[["title", "Warehouse Operative - nights (£13.50/hr)"], ["location", "Daventry, NN11"],
        ["description", "We're looking for reliable people to join our night shift (10pm-6am, 4 on/4 off). No experience needed - full training given, including forklift (counterbalance & reach) licences.\r\n\r\nWhat you get:\r\n- £13.50/hour + £1.20 night premium\r\n- 28 days holiday\r\n- free parking & subsidised canteen"],
        ["employment_type", "full_time"], ["closing_date", "2027-01-15"]])
E(C, "saved search alert JSON", method="POST", target="/api/alerts", profile="xhr", headers=[["Cookie", JC]],
  json={"query": "data analyst", "location": "Remote (EU)", "frequency": "daily", "filters": {"contract": ["permanent"], "seniority": ["mid", "senior"]}})
E(C, "job detail page from aggregator", target="/jobs/88213-senior-backend-engineer-go?src=indeed&trk=sponsored", profile="chrome_mobile")

# ---------------------------------------------------------------- travel
C = "travel"
TC = "tv_sid=Lk8Jh7Gf6Ds5; currency=EUR; locale=de-DE"
E(C, "flight search results", target="/flights/search?from=LHR&to=JFK&depart=2027-03-14&return=2027-03-21&adults=2&children=1&cabin=economy&flex=true", profile="chrome", headers=[["Cookie", TC]])
E(C, "hotel search with geo bbox", target="/api/hotels?bbox=2.2522,48.8156,2.4222,48.9022&checkin=2027-02-10&checkout=2027-02-13&rooms=1&guests=2&sort=price_asc&amenities=wifi,breakfast", profile="xhr", headers=[["Cookie", TC]])
E(C, "passenger details with special requests", method="POST", target="/booking/BK7Q2Z/passengers", profile="xhr",
  headers=[["Cookie", TC]],
  json={"passengers": [{"title": "Mrs", "first": "Anne-Marie", "last": "D'Souza", "dob": "1981-06-02", "passport": "C01X00T47", "nationality": "GB"},
                       {"title": "Mr", "first": "Rui", "last": "D'Souza", "dob": "1979-11-30"},
                       {"title": "Miss", "first": "Leela", "last": "D'Souza", "dob": "2018-04-17", "infant": False}],
        "special_requests": "Child seat / bassinet not needed. One passenger uses a wheelchair at the airport (WCHR) - can walk short distances & climb steps.",
        "meal": ["VGML", "STANDARD", "CHML"]})
E(C, "seat map fetch", target="/api/flights/BA117/2027-03-14/seatmap?cabin=M&fare=Y", profile="xhr", headers=[["Cookie", TC]])
E(C, "hotel review", method="POST", target="/hotels/le-petit-marais/reviews", profile="form", headers=[["Cookie", TC]],
  form=[["score", "8"], ["title", "Great location, tiny rooms"],
        ["pros", "5 min walk to Saint-Paul metro; staff were lovely and let us check in at 11am."],
        ["cons", "Room 402 was *very* small (we had to take turns opening suitcases!) and the shower pressure was weak."],
        ["trip_type", "couple"], ["stay_month", "2026-11"]])
E(C, "mobile app itinerary sync", target="/api/v3/trips?updated_since=2026-12-01T00:00:00Z&include=segments,documents", profile="mobile_app")

# ---------------------------------------------------------------- adtech
C = "adtech"
E(C, "OpenRTB bid request from an exchange", method="POST", target="/openrtb2/auction", profile="api",
  headers=[["User-Agent", "Go-http-client/1.1"], ["x-openrtb-version", "2.6"]],
  json={"id": "8c5e0a12-7f3b-4e21-9d8a-1b2c3d4e5f60", "at": 1, "tmax": 120, "cur": ["USD"],
        "imp": [{"id": "1", "banner": {"format": [{"w": 300, "h": 250}, {"w": 336, "h": 280}]}, "bidfloor": 0.45, "bidfloorcur": "USD", "tagid": "news-article-mpu"}],
        "site": {"domain": "news.example.org", "page": "https://news.example.org/world/2026/12/07/storm-closes-ports?ref=home",
                 "cat": ["IAB12"], "publisher": {"id": "pub-3391"}},
        "device": {"ua": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
                   "ip": "203.0.113.0", "devicetype": 4, "os": "iOS", "geo": {"country": "GBR", "region": "ENG"}},
        "user": {"id": "u-9f8e7d", "ext": {"consent": "CP1a2b3c4d5eAAAAAENCAqEAAAAAAAAAAAAAAAAAAA"}},
        "regs": {"ext": {"gdpr": 1}}})
E(C, "impression pixel", target="/imp?cid=77120&crid=cr-5521&pid=pub-3391&w=300&h=250&price=AAABjC8xZ2kAAAAAAAAAAAAAAAAAAAAAAAAAAA&cb=1701957600123", profile="chrome_img")
E(C, "click redirect with encoded landing URL", target="/clk?c=77120&r=https%3A%2F%2Fwww.example-brand.com%2Fwinter%3Futm_source%3Ddsp%26utm_medium%3Ddisplay%26utm_campaign%3Dq4_prospecting", profile="chrome")
E(C, "Prebid.js bid request from the page", method="POST", target="/pbs/v1/openrtb2/auction", profile="xhr",
  headers=[["Origin", "https://news.example.org"], ["Referer", "https://news.example.org/world/2026/12/07/storm-closes-ports"]],
  json={"id": "pb-1a2b", "imp": [{"id": "div-gpt-ad-mpu-1", "banner": {"format": [{"w": 300, "h": 250}]}, "ext": {"prebid": {"bidder": {"appnexus": {"placementId": 13144370}}}}}],
        "site": {"page": "https://news.example.org/world/2026/12/07/storm-closes-ports"}, "ext": {"prebid": {"targeting": {"includewinners": True}}}})
E(C, "VAST tag request for video", target="/vast?sz=640x480&iu=/4411/news/video&ciu_szs=300x250&impl=s&gdfp_req=1&env=vp&output=vast&unviewed_position_start=1&url=https%3A%2F%2Fnews.example.org%2Fvideo%2Fstorm&correlator=1701957600", profile="xhr")
E(C, "conversion postback from an advertiser server", target="/postback?click_id=ck_8d7c6b5a4f3e&event=purchase&value=59.99&currency=GBP&order_id=SO-100234", profile="api",
  headers=[["User-Agent", "curl/8.4.0"]])

# ---------------------------------------------------------------- registry
C = "registry"
E(C, "npm install metadata fetch", target="/@acme%2fdesign-tokens", profile="api",
  headers=[["User-Agent", "npm/10.2.4 node/v20.10.0 linux x64 workspaces/false"], ["Accept", "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"],
           ["npm-command", "install"], ["npm-session", "3f2e1d0c9b8a"]])
E(C, "npm publish (package document with tarball)", method="PUT", target="/@acme%2fdesign-tokens", profile="api",
  headers=[["User-Agent", "npm/10.2.4 node/v20.10.0 linux x64 workspaces/false"], ["Authorization", "Bearer npm_Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78"], ["npm-command", "publish"]],
  json={"_id": "@acme/design-tokens", "name": "@acme/design-tokens", "description": "Colour, spacing & type tokens for Acme apps",
        "dist-tags": {"latest": "2.4.0"},
        "versions": {"2.4.0": {"name": "@acme/design-tokens", "version": "2.4.0", "main": "dist/index.js", "types": "dist/index.d.ts",
                               "scripts": {"build": "tsc -p . && node scripts/build-css.js", "test": "vitest run", "prepublishOnly": "npm run build"},
                               "repository": {"type": "git", "url": "git+https://github.com/acme/design-tokens.git"},
                               "license": "MIT", "readme": "# @acme/design-tokens\n\n```sh\nnpm i @acme/design-tokens\n```\n\nImport the CSS variables once at your app root.",
                               "dist": {"shasum": "0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6", "integrity": "sha512-Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4"}}},
        "_attachments": {"@acme/design-tokens-2.4.0.tgz": {"content_type": "application/octet-stream", "data": "H4sIAAAAAAAAA+3OMQ6CQBCF4a33FHsCMcsu6zn8ASQjZYTEWGBUNmMDNEqEh3MtBLg", "length": 48}}})
E(C, "PyPI legacy upload (twine multipart)", method="POST", target="/legacy/", profile="none",
  headers=[["User-Agent", "twine/4.0.2 CPython/3.12.1"], ["Authorization", "Basic X190b2tlbl9fOnB5cGktQWdFSWNIbDVjR2t1YjNKbg=="]],
  multipart={"boundary": "3f1e7c2a9b0d4e5f8a6b1c2d3e4f5a6b", "parts": [
      {"name": ":action", "data": "file_upload"}, {"name": "protocol_version", "data": "1"},
      {"name": "metadata_version", "data": "2.1"}, {"name": "name", "data": "tidy-csv"}, {"name": "version", "data": "0.9.1"},
      {"name": "filetype", "data": "bdist_wheel"}, {"name": "pyversion", "data": "py3"},
      {"name": "summary", "data": "Clean up messy CSV exports (Excel, Google Sheets) into tidy frames"},
      {"name": "description", "data": "# tidy-csv\n\nUsage:\n\n    pip install tidy-csv\n    tidy-csv input.csv --out clean.csv --drop-empty\n\nHandles BOMs, `;` separators and merged header rows."},
      {"name": "description_content_type", "data": "text/markdown"}, {"name": "requires_python", "data": ">=3.9"},
      {"name": "requires_dist", "data": "pandas>=1.5"}, {"name": "requires_dist", "data": "chardet; extra == \"detect\""},
      {"name": "sha256_digest", "data": "9d5e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e"},
      {"name": "content", "filename": "tidy_csv-0.9.1-py3-none-any.whl", "content_type": "application/octet-stream",
       "data_b64": base64.b64encode(b"PK\x03\x04\x14\x00\x00\x00\x08\x00tidy_csv/__init__.py__version__ = '0.9.1'\n").decode()}]})
E(C, "pip simple index page", target="/simple/tidy-csv/", profile="api",
  headers=[["User-Agent", "pip/23.3.1 {\"ci\":null,\"cpu\":\"x86_64\",\"implementation\":{\"name\":\"CPython\",\"version\":\"3.12.1\"},\"installer\":{\"name\":\"pip\",\"version\":\"23.3.1\"},\"python\":\"3.12.1\",\"system\":{\"name\":\"Linux\",\"release\":\"6.5.0\"}}"],
           ["Accept", "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"]])
E(C, "crates.io style search API", target="/api/v1/crates?q=serde+json&per_page=10&sort=downloads", profile="api",
  headers=[["User-Agent", "cargo 1.74.0 (ecd0f0b8f 2023-11-03)"]])
E(C, "Go module proxy version list", target="/github.com/!acme!corp/kit/@v/list", profile="api",
  headers=[["User-Agent", "Go-http-client/1.1"], ["Accept", "*/*"]])

# ---------------------------------------------------------------- cicd
C = "cicd"
E(C, "GitHub webhook push event to CI", method="POST", target="/hooks/github", profile="none",
  headers=[["User-Agent", "GitHub-Hookshot/8a1b2c3"], ["X-GitHub-Event", "push"], ["X-GitHub-Delivery", "6f2c1a80-94d4-11ee-8f1d-0e3b5c2a7d91"],
           ["X-Hub-Signature-256", "sha256=3b5f0e2d1c9a8b7e6f5d4c3b2a1908f7e6d5c4b3a2910f8e7d6c5b4a39281706"]],
  json={"ref": "refs/heads/main", "before": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", "after": "f9e8d7c6b5a4938271605f4e3d2c1b0a98765432",
        "repository": {"full_name": "acme/storefront", "default_branch": "main"},
        "head_commit": {"id": "f9e8d7c6b5a4938271605f4e3d2c1b0a98765432", "message": "checkout: retry payment confirm once on 502 (fixes #1432)\n\nThe PSP sometimes returns 502 during deploys; one retry with the same idempotency key is safe.",
                        "author": {"name": "Mei Lin", "email": "mei@acme.example"}, "modified": ["src/checkout/pay.ts", "src/checkout/pay.test.ts"]}})
E(C, "runner uploads a job log chunk", method="PATCH", target="/api/v4/jobs/771204/trace", profile="none",
  headers=[["User-Agent", "gitlab-runner 16.6.0 (16-6-stable; go1.20.10; linux/amd64)"], ["JOB-TOKEN", "glcbt-64_kQ2x9Zv8Lp3"], ["Content-Range", "0-611"], ["Content-Type", "text/plain"]],
  body="\x1b[0KRunning with gitlab-runner 16.6.0\x1b[0;m\n\x1b[0KPreparing the \"docker\" executor\x1b[0;m\nUsing docker image node:20-alpine ...\n$ npm ci\nadded 812 packages in 14s\n$ npm run lint\n> storefront@1.0.0 lint\n> eslint src --ext .ts,.tsx\n$ npm test -- --ci\nPASS src/checkout/pay.test.ts\nTests:       41 passed, 41 total\nTime:        6.12 s\n\x1b[32;1mJob succeeded\x1b[0;m\n")
E(C, "pipeline config lint (YAML in JSON)", method="POST", target="/api/v4/projects/118/ci/lint", profile="api",
  headers=[["PRIVATE-TOKEN", "glpat-Xy9Zw8Vu7Ts6Rq5P"]],
  json={"content": "stages: [test, build]\n\ntest:\n  stage: test\n  image: node:20-alpine\n  cache:\n    paths: [node_modules/]\n  script:\n    - npm ci\n    - npm test -- --ci\n\nbuild:\n  stage: build\n  image: docker:24\n  services: [docker:24-dind]\n  script:\n    - docker build -t $CI_REGISTRY_IMAGE:$CI_COMMIT_SHORT_SHA .\n    - docker push $CI_REGISTRY_IMAGE:$CI_COMMIT_SHORT_SHA\n  only: [main]\n", "dry_run": True},
  tags=["code"])
E(C, "pipeline list with filters", target="/api/v4/projects/118/pipelines?ref=main&status=failed&per_page=20&order_by=updated_at", profile="api",
  headers=[["PRIVATE-TOKEN", "glpat-Xy9Zw8Vu7Ts6Rq5P"]])
E(C, "artifact upload (zip)", method="POST", target="/api/v4/jobs/771204/artifacts?artifact_format=zip&artifact_type=archive&expire_in=7d", profile="none",
  headers=[["User-Agent", "gitlab-runner 16.6.0 (16-6-stable; go1.20.10; linux/amd64)"], ["JOB-TOKEN", "glcbt-64_kQ2x9Zv8Lp3"]],
  multipart={"boundary": "a7f3c1e9b5d2", "parts": [
      {"name": "file", "filename": "artifacts.zip", "content_type": "application/octet-stream",
       "data_b64": base64.b64encode(b"PK\x03\x04\x14\x00\x00\x00\x00\x00coverage/lcov.infoSF:src/checkout/pay.ts\nDA:1,1\nend_of_record\nPK\x05\x06\x00\x00\x00\x00").decode()}]})
E(C, "status check from CI to the code host", method="POST", target="/repos/acme/storefront/statuses/f9e8d7c6b5a4938271605f4e3d2c1b0a98765432", profile="api",
  headers=[["Authorization", "token ghs_Qw3Er4Ty5Ui6Op7As8Df9Gh0"], ["Accept", "application/vnd.github+json"], ["X-GitHub-Api-Version", "2022-11-28"]],
  json={"state": "success", "target_url": "https://ci.acme.example/acme/storefront/pipelines/99812", "description": "41 tests passed (6.1s)", "context": "ci/test"})

# ---------------------------------------------------------------- iot
C = "iot"
E(C, "thermostat telemetry batch", method="POST", target="/v1/devices/th-00a3f2/telemetry", profile="none",
  headers=[["User-Agent", "esp-idf/5.1 thermo-fw/2.3.7"], ["Authorization", "Bearer dev_7Kx2Pq9Lz4Wm1"], ["Accept", "*/*"]],
  json={"ts": 1701957600, "fw": "2.3.7", "readings": [{"t": 1701957540, "temp_c": 20.4, "rh": 47, "setpoint": 21.0, "heating": True},
                                                      {"t": 1701957600, "temp_c": 20.6, "rh": 47, "setpoint": 21.0, "heating": True}],
        "rssi": -67, "battery_mv": 3012})
E(C, "device config poll", target="/v1/devices/th-00a3f2/config?fw=2.3.7&etag=W%2F%229a8b7c%22", profile="none",
  headers=[["User-Agent", "esp-idf/5.1 thermo-fw/2.3.7"], ["Authorization", "Bearer dev_7Kx2Pq9Lz4Wm1"], ["If-None-Match", "W/\"9a8b7c\""]])
E(C, "OTA firmware check", target="/ota/check?model=TH200&hw=rev-c&current=2.3.7&channel=stable&mac=24:6f:28:a1:b2:c3", profile="none",
  headers=[["User-Agent", "ESP32HTTPUpdate"], ["x-ESP32-STA-MAC", "24:6F:28:A1:B2:C3"], ["x-ESP32-free-space", "1310720"], ["x-ESP32-sketch-size", "983040"]])
E(C, "smart meter SenML readings", method="POST", target="/ingest/senml", profile="none",
  headers=[["User-Agent", "meterhub/1.0"], ["Content-Type", "application/senml+json"], ["Authorization", "Basic bWV0ZXItMDQ0OTpzM2NyM3Q="]],
  body='[{"bn":"urn:dev:mac:0024befffe804ff1:","bt":1701957600,"bu":"W"},{"n":"power","v":412.5},{"n":"energy","u":"Wh","v":183204},{"n":"voltage","u":"V","v":231.8,"t":1}]')
E(C, "gateway posts a CSV batch of sensor rows", method="POST", target="/v1/ingest/csv?site=greenhouse-2", profile="none",
  headers=[["User-Agent", "python-requests/2.31.0"], ["Content-Type", "text/csv"], ["Authorization", "Bearer gw_Mn8Bv7Cx6"]],
  body="sensor_id,ts,soil_moisture,lux,temp_c\ngh2-s01,2026-12-07T13:00:00Z,0.41,11850,18.2\ngh2-s02,2026-12-07T13:00:00Z,0.38,12010,18.5\ngh2-s03,2026-12-07T13:00:00Z,0.44,9875,17.9\n")
E(C, "home app scene update", method="PUT", target="/api/homes/h-5521/scenes/evening", profile="mobile_app",
  json={"name": "Evening (kids' bedtime)", "actions": [{"device": "light-lounge", "on": True, "brightness": 35, "ct": 2700},
                                                        {"device": "blind-front", "position": 0}, {"device": "th-00a3f2", "setpoint": 19.5}],
        "schedule": {"type": "sunset", "offset_min": -15, "days": ["mon", "tue", "wed", "thu", "fri"]}})

# ---------------------------------------------------------------- mobilesync
C = "mobilesync"
E(C, "notes app delta sync", method="POST", target="/sync/v2/delta", profile="mobile_app",
  headers=[["User-Agent", "NotesApp/8.4.1 (iPhone15,2; iOS 17.1.2; Scale/3.00)"], ["X-Device-Id", "8E1F2A3B-4C5D-6E7F-8091-A2B3C4D5E6F7"]],
  json={"cursor": "c_000182_9f8e", "changes": [
      {"op": "upsert", "id": "n_77a1", "updated": "2026-12-07T13:40:02Z", "title": "Shopping", "body": "- oat milk x2\n- eggs (free range!)\n- bin bags 30L\n- birthday card for Gran"},
      {"op": "upsert", "id": "n_77b9", "updated": "2026-12-07T13:51:44Z", "title": "Ideas for the talk", "body": "Start with the outage story -> what we changed -> 3 lessons. Keep it < 20 min; Q&A after."},
      {"op": "delete", "id": "n_5012"}]})
E(C, "photo backup chunk upload (binary)", method="PUT", target="/upload/v1/sessions/us_8f7e6d/chunks/0?offset=0&final=true", profile="mobile_app",
  headers=[["Content-Type", "application/octet-stream"], ["X-Content-SHA256", "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"]],
  body="\u00ff\u00d8\u00ff\u00e0JFIF-chunk-placeholder")
E(C, "push token registration", method="POST", target="/api/devices", profile="mobile_app",
  json={"platform": "fcm", "token": "dQw4w9WgXcQ:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx1Zx8dgGbSZpkFJ4H6dI9sV2s1Lq7", "app_version": "5.12.0", "locale": "pt-BR", "tz": "America/Sao_Paulo"})
E(C, "contacts sync with free text fields", method="POST", target="/api/contacts/batch", profile="mobile_app",
  json={"contacts": [{"id": "c1", "name": "Dr. Jane O'Neill", "phones": ["+44 20 7946 0958"], "note": "Dentist - ask about the crown (tooth #14). Parking round the back."},
                     {"id": "c2", "name": "Björn & Åsa", "emails": ["bjorn.asa@example.se"], "note": "Met at Nils' wedding; they have the cabin near Åre"}]})
E(C, "offline queue replay of form answers", method="POST", target="/api/inspections/insp_4410/answers", profile="mobile_app",
  headers=[["X-Offline-Replay", "1"], ["X-Request-Id", "r-0b1c2d3e"]],
  json={"answers": [{"q": "fire_exits_clear", "value": "no", "comment": "Boxes stacked in front of rear exit (stock room). Moved them; told manager."},
                    {"q": "extinguisher_date", "value": "2026-09"}, {"q": "photo", "value": "blob:ph_551"}],
        "captured_at": "2026-12-07T09:12:10+01:00", "gps": [51.5074, -0.1278]})
E(C, "app config / remote feature fetch", target="/api/app-config?platform=ios&version=8.4.1&build=8410&lang=en-GB", profile="mobile_app")

# ---------------------------------------------------------------- oauth
C = "oauth"
E(C, "authorize request with PKCE", target="/oauth2/authorize?response_type=code&client_id=spa-dashboard&redirect_uri=https%3A%2F%2Fapp.example.com%2Fauth%2Fcallback&scope=openid%20profile%20email%20offline_access&state=eyJyZXR1cm5UbyI6Ii9wcm9qZWN0cy80MiJ9&nonce=n-0S6_WzA2Mj&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256", profile="chrome")
E(C, "login form on the IdP", method="POST", target="/login?client_id=spa-dashboard&return_to=%2Foauth2%2Fauthorize%3Fresponse_type%3Dcode%26client_id%3Dspa-dashboard", profile="form",
  headers=[["Cookie", "idp_flow=fl_8d7c6b; __Host-csrf=Qw3Er4"]],
  form=[["username", "r.gupta@example.com"], ["password", "Tr0ub4dor&3-horse!"], ["remember", "on"], ["csrf", "Qw3Er4"]])
E(C, "callback with code and state", target="/auth/callback?code=SplxlOBeZQQYbYS6WxSbIA&state=eyJyZXR1cm5UbyI6Ii9wcm9qZWN0cy80MiJ9&session_state=5f1c2d3e.aBcD", profile="chrome",
  headers=[["Cookie", "pkce_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"]])
E(C, "token exchange with code_verifier", method="POST", target="/oauth2/token", profile="xhr",
  form=[["grant_type", "authorization_code"], ["code", "SplxlOBeZQQYbYS6WxSbIA"], ["redirect_uri", "https://app.example.com/auth/callback"],
        ["client_id", "spa-dashboard"], ["code_verifier", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"]])
E(C, "refresh token grant (confidential client)", method="POST", target="/oauth2/token", profile="api",
  headers=[["Authorization", "Basic YmFja2VuZC1zdmM6czNjcjN0LXZhbHVl"]],
  form=[["grant_type", "refresh_token"], ["refresh_token", "8xLOxBtZp8.v2.Mn3Bv4Cx5Zl6Kj7Hg8Fd9Sa0"], ["scope", "read:orders write:orders"]])
E(C, "OIDC discovery and JWKS", target="/.well-known/openid-configuration", profile="api", headers=[["User-Agent", "oauth2-proxy/v7.5.1"]])
E(C, "SAML POST binding response", method="POST", target="/saml/acs", profile="form",
  headers=[["Origin", "https://idp.example.org"], ["Referer", "https://idp.example.org/"]],
  form=[["SAMLResponse", base64.b64encode(b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_8e8dc5f69a98cc4c1ff3427e5ce34606fd672f91e6" Version="2.0" IssueInstant="2026-12-07T13:59:00Z" Destination="https://app.example.com/saml/acs"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">https://idp.example.org</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:Response>').decode()],
        ["RelayState", "/projects/42/settings"]])
E(C, "device authorization grant poll", method="POST", target="/oauth2/device/token", profile="api",
  headers=[["User-Agent", "acme-cli/1.8.0 (darwin/arm64)"]],
  form=[["grant_type", "urn:ietf:params:oauth:grant-type:device_code"], ["device_code", "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS"], ["client_id", "acme-cli"]])

# ---------------------------------------------------------------- maps
C = "maps"
E(C, "vector tile", target="/tiles/v3/14/8185/5448.pbf?key=pk_live_9a8b7c6d", profile="xhr", headers=[["Accept", "application/x-protobuf"]])
E(C, "raster tile retina", target="/styles/outdoors/256/15/16371/10896@2x.png", profile="chrome_img")
E(C, "geocode free text address", target="/geocoding/v5/search?q=10+Downing+St%2C+London+SW1A+2AA&limit=5&language=en&proximity=-0.1276,51.5072", profile="xhr")
E(C, "directions request", target="/directions/v5/cycling/-0.1276,51.5072;-0.0877,51.5079;-0.0754,51.5055?alternatives=true&geometries=polyline6&overview=full&steps=true&exclude=ferry", profile="xhr")
E(C, "save a custom map layer (GeoJSON)", method="POST", target="/api/maps/m_4410/features", profile="xhr",
  headers=[["Content-Type", "application/geo+json"], ["Cookie", "maps_session=Ww2Ee3Rr4"]],
  body=json.dumps({"type": "FeatureCollection", "features": [
      {"type": "Feature", "properties": {"name": "Meeting point (by the café)", "marker-color": "#e4572e", "notes": "Café opens 8am; bring cash for the car park"},
       "geometry": {"type": "Point", "coordinates": [-3.1883, 55.9533]}},
      {"type": "Feature", "properties": {"name": "Route A - Arthur's Seat loop"},
       "geometry": {"type": "LineString", "coordinates": [[-3.1883, 55.9533], [-3.1721, 55.9441], [-3.1617, 55.9442]]}}]}, ensure_ascii=False))
E(C, "GPX track upload", method="POST", target="/api/activities/import", profile="form_multipart",
  headers=[["Cookie", "maps_session=Ww2Ee3Rr4"]],
  multipart={"boundary": "----WebKitFormBoundaryGpx7Qw8Er9Ty0Ui", "parts": [
      {"name": "title", "data": "Sunday ride - Pentlands"},
      {"name": "file", "filename": "Morning_Ride.gpx", "content_type": "application/gpx+xml",
       "data": "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gpx version=\"1.1\" creator=\"Garmin Connect\" xmlns=\"http://www.topografix.com/GPX/1/1\">\n <trk><name>Morning Ride</name><trkseg>\n  <trkpt lat=\"55.8801\" lon=\"-3.2543\"><ele>241.2</ele><time>2026-12-06T09:01:12Z</time></trkpt>\n  <trkpt lat=\"55.8812\" lon=\"-3.2561\"><ele>244.8</ele><time>2026-12-06T09:01:40Z</time></trkpt>\n </trkseg></trk>\n</gpx>\n"}]})

# ---------------------------------------------------------------- streaming
C = "streaming"
E(C, "HLS master playlist", target="/vod/ep-2291/master.m3u8?token=st_9Kq2Lz8.exp1701961200&cdn=edge-lhr", profile="chrome_mobile",
  headers=[["Accept", "*/*"], ["Origin", "https://watch.example.tv"]])
E(C, "HLS media segment", target="/vod/ep-2291/1080p/seg_00042.m4s?token=st_9Kq2Lz8.exp1701961200", profile="chrome_mobile",
  headers=[["Accept", "*/*"], ["Range", "bytes=0-1048575"]])
E(C, "DASH manifest from a smart TV", target="/live/news24/manifest.mpd?dvr=7200&lang=en,cy", profile="none",
  headers=[["User-Agent", "Mozilla/5.0 (SMART-TV; LINUX; Tizen 7.0) AppleWebKit/537.36 (KHTML, like Gecko) 94.0.4606.31/7.0 TV Safari/537.36"], ["Accept", "application/dash+xml,*/*"]])
E(C, "DRM licence request (binary body)", method="POST", target="/drm/widevine/license?contentId=ep-2291", profile="xhr",
  headers=[["Content-Type", "application/octet-stream"]], body="\u0008\u0001\u0012\u0010CAQ=widevine-challenge")
E(C, "playback QoE heartbeat", method="POST", target="/qoe/heartbeat", profile="xhr",
  json={"session": "ps_7f6e5d", "asset": "ep-2291", "pos": 1312.5, "bitrate": 5800000, "buffer_s": 18.2, "dropped": 3, "rebuffers": 0, "cdn": "edge-lhr", "player": "shaka-4.6.0"})
E(C, "subtitle track (WebVTT)", target="/vod/ep-2291/subs/en-GB-sdh.vtt", profile="chrome_mobile", headers=[["Accept", "text/vtt,*/*"]])
E(C, "viewer comment under a video", method="POST", target="/api/videos/ep-2291/comments", profile="xhr",
  headers=[["Cookie", "watch_sid=Bn5Mk8Lp0"]],
  json={"text": "The bit at 21:40 where the chef just throws the whole lemon in 😂 absolute legend. Anyone know what brand that pan is?", "parent": None, "timestamp_ref": 1300})

# ---------------------------------------------------------------- gaming
C = "gaming"
E(C, "leaderboard page fetch", target="/api/leaderboards/weekly?mode=ranked&region=eu-west&offset=0&limit=50&around_player=pl_88123", profile="mobile_app",
  headers=[["User-Agent", "UnityPlayer/2022.3.14f1 (UnityWebRequest/1.0, libcurl/8.4.0-DEV)"]])
E(C, "score submit with signature", method="POST", target="/api/scores", profile="mobile_app",
  headers=[["User-Agent", "UnityPlayer/2022.3.14f1 (UnityWebRequest/1.0, libcurl/8.4.0-DEV)"], ["X-Signature", "hmac-sha256=7c1e9d2a3b4f5061728394a5b6c7d8e9f0a1b2c3"]],
  json={"player": "pl_88123", "level": "w3-07", "score": 184220, "time_ms": 93412, "stars": 3, "replay_hash": "f1e2d3c4", "client_ts": 1701957611})
E(C, "in-game chat message", method="POST", target="/api/chat/channels/guild-4410/messages", profile="mobile_app",
  json={"text": "gg everyone!! raid at 8pm server time, bring fire res pots. @Kael you're on tank duty again lol", "client_msg_id": "cm_99a1"})
E(C, "player profile update (bio, emojis)", method="PATCH", target="/api/players/pl_88123", profile="xhr",
  headers=[["Cookie", "gm_sess=Zq1Xw2Ce3"]],
  json={"display_name": "xX_N0rthW1nd_Xx", "bio": "EU | diamond 2 | main support ❄️ | no toxicity pls <3", "pronouns": "they/them"})
E(C, "matchmaking ticket", method="POST", target="/v1/matchmaking/tickets", profile="api",
  headers=[["User-Agent", "game-server/1.42 (linux)"], ["Authorization", "Bearer srv_4Rt5Yu6Io7"]],
  json={"players": [{"id": "pl_88123", "mmr": 2310, "latency_ms": {"eu-west": 28, "eu-central": 41}}], "queue": "ranked-5v5", "party": "pt_7721"})
E(C, "Steam-style achievement unlock (form)", method="POST", target="/ISteamUserStats/SetUserStatsForGame/v1/", profile="api",
  headers=[["User-Agent", "Valve/Steam HTTP Client 1.0"]],
  form=[["key", "A1B2C3D4E5F6"], ["steamid", "76561198000000000"], ["appid", "440"], ["count", "1"], ["name[0]", "ACH_WIN_100"], ["value[0]", "1"]])
E(C, "crash report upload", method="POST", target="/crash/submit?build=1.42.0-8812&platform=win64", profile="none",
  headers=[["User-Agent", "CrashReporter/5.3"]],
  multipart={"boundary": "crashpad-boundary-8f7e6d5c", "parts": [
      {"name": "prod", "data": "NorthWind"}, {"name": "ver", "data": "1.42.0"},
      {"name": "comments", "data": "Crashed when I alt-tabbed during the loading screen after the boss fight. Second time today."},
      {"name": "upload_file_minidump", "filename": "f3e2d1c0.dmp", "content_type": "application/octet-stream",
       "data_b64": base64.b64encode(b"MDMP\x93\xa7\x00\x00\x0c\x00\x00\x00 \x00\x00\x00").decode()}]})

# ---------------------------------------------------------------- analytics
C = "analytics"
E(C, "GA4 collect beacon", method="POST", target="/g/collect?v=2&tid=G-8XQZ2K1L0M&gtm=45je3c10&_p=1701957600123&cid=1843209911.1701950000&ul=en-gb&sr=1920x1080&_s=3&sid=1701957000&sct=4&seg=1&dl=https%3A%2F%2Fshop.example.com%2Fp%2Fmerino-crew-neck-jumper-navy%3Fvariant%3D44129301&dr=https%3A%2F%2Fwww.google.com%2F&dt=Merino%20Crew%20Neck%20Jumper%20%E2%80%93%20Navy&en=view_item&_et=1542",
  profile="xhr", headers=[["Content-Type", "text/plain;charset=UTF-8"]], body="")
E(C, "GTM container load", target="/gtm.js?id=GTM-K9XQ2ZL&l=dataLayer", profile="chrome_js")
E(C, "Segment-style track call", method="POST", target="/v1/t", profile="xhr", headers=[["Content-Type", "text/plain"]],
  body=json.dumps({"event": "Product Added", "properties": {"product_id": "44129301", "name": "Merino Crew Neck Jumper – Navy", "price": 79.0, "quantity": 2, "coupon": "WINTER-20"},
                   "context": {"page": {"path": "/p/merino-crew-neck-jumper-navy", "referrer": "https://www.google.com/", "title": "Merino Crew Neck Jumper – Navy"},
                               "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "locale": "en-GB"},
                   "anonymousId": "2f1e0d9c-8b7a-4655-9443-3a2b1c0d9e8f", "writeKey": "wk_3Ab4Cd5Ef", "sentAt": "2026-12-07T13:59:44.120Z"}, ensure_ascii=False))
E(C, "Matomo pageview via GET", target="/matomo.php?idsite=3&rec=1&action_name=Blog%20%2F%20Ten%20winter%20walks&url=https%3A%2F%2Fblog.example.com%2F2026%2F12%2Fwinter-walks%2F&urlref=https%3A%2F%2Fduckduckgo.com%2F&_id=5c1d2e3f4a5b6c7d&rand=482913&res=390x844&h=14&m=0&s=12&pv_id=Ab3Cd4", profile="chrome_img")
E(C, "session replay chunk (compressed, base64 in JSON)", method="POST", target="/api/replay/ingest?sid=rs_8811&seq=14", profile="xhr",
  json={"events": "H4sIAAAAAAAAA6tWSs7PS0nNK8nMz1OyUoouSk3PLMnMz1OyMjQ0NNBRKkgtKsrMS1WyUqrlAgB1RzlXLAAAAA==", "compression": "gzip+b64", "ts": 1701957644})
E(C, "A/B experiment exposure event", method="POST", target="/api/experiments/exposures", profile="xhr",
  json={"experiment": "checkout_button_copy_v3", "variant": "B: 'Buy now – free returns'", "unit": "u-9f8e7d", "ts": 1701957650})

# ---------------------------------------------------------------- crm
C = "crm"
CRMC = "crm_sid=Hh7Jj8Kk9; crm_xsrf=Ll0Mm1"
E(C, "deal pipeline view", target="/crm/deals?pipeline=enterprise&stage=negotiation&owner=me&sort=-amount&view=kanban", profile="edge", headers=[["Cookie", CRMC]])
E(C, "call note on a contact", method="POST", target="/crm/api/contacts/c_22019/activities", profile="xhr",
  headers=[["Cookie", CRMC], ["X-XSRF-Token", "Ll0Mm1"]],
  json={"type": "call", "duration_min": 32, "outcome": "positive",
        "note": "Spoke with Dana (Head of Ops). They're unhappy w/ current vendor's SLA (99.5% isn't enough). Budget approved for Q1, ~€40k/yr. Need: SSO, EU data residency, audit logs. Sending proposal by Fri; follow up Mon 10am."})
E(C, "email logged from Outlook add-in", method="POST", target="/crm/api/emails", profile="api",
  headers=[["User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Microsoft Outlook 16.0.17029)"], ["Authorization", "Bearer crm_oa_Ty6Ui7Op8"]],
  json={"contact_email": "dana.k@example-logistics.com", "subject": "RE: Proposal & next steps",
        "body_html": "<div>Hi Dana,</div><div><br></div><div>Thanks for your time today. As promised, the proposal is attached &mdash; pricing is on page 4.</div><div><br></div><div>Best,<br>Marco</div><blockquote>On Thu, 5 Dec, Dana wrote:<br>Could you include SSO in the base tier?</blockquote>",
        "direction": "outbound", "sent_at": "2026-12-07T11:04:00Z"})
E(C, "import leads CSV", method="POST", target="/crm/import/leads", profile="form_multipart",
  headers=[["Cookie", CRMC]],
  multipart={"boundary": "----WebKitFormBoundaryCsv1Lead2Imp3Ort4", "parts": [
      {"name": "mapping", "data": "{\"First name\":\"first_name\",\"Last name\":\"last_name\",\"Company\":\"company\",\"Email\":\"email\",\"Notes\":\"notes\"}"},
      {"name": "file", "filename": "webinar-signups-dec.csv", "content_type": "text/csv",
       "data": "First name,Last name,Company,Email,Notes\nAisha,Bello,\"Bello & Sons Ltd\",aisha@bello.example,\"Asked about pricing for 50+ seats\"\nPeter,O'Brien,Northwind,pobrien@northwind.example,\nLi,Wei,\"Acme, Inc.\",li.wei@acme.example,\"Wants a demo - \"\"ASAP\"\"\"\n"}]})
E(C, "deal stage update", method="PATCH", target="/crm/api/deals/d_8812", profile="xhr",
  headers=[["Cookie", CRMC], ["X-XSRF-Token", "Ll0Mm1"]],
  json={"stage": "closed_won", "amount": 40000, "currency": "EUR", "close_reason": "Won on EU residency + SSO; lost to nobody"})
E(C, "contact search autocomplete", target="/crm/api/search?q=o%27brien&types=contact,company&limit=8", profile="xhr", headers=[["Cookie", CRMC]])

# ---------------------------------------------------------------- calendar
C = "calendar"
ICS = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example Corp//Calendar 3.1//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
       "UID:20261207T140000Z-4410@calendar.example.com\r\nDTSTAMP:20261207T135900Z\r\nDTSTART;TZID=Europe/London:20261211T100000\r\n"
       "DTEND;TZID=Europe/London:20261211T110000\r\nSUMMARY:Q1 planning - platform team\r\nLOCATION:Room 3.14 / https://meet.example.com/abc-defg-hij\r\n"
       "DESCRIPTION:Agenda:\\n1. Review Q4 incidents\\n2. Roadmap: SSO\\, audit logs\\n3. On-call changes\\n\\nPlease read the doc beforehand.\r\n"
       "ORGANIZER;CN=Anja Weber:mailto:anja@example.com\r\nATTENDEE;CN=Raj Patel;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:raj@example.com\r\n"
       "RRULE:FREQ=WEEKLY;BYDAY=TH;COUNT=6\r\nBEGIN:VALARM\r\nTRIGGER:-PT15M\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
E(C, "CalDAV PUT of an event (iCalendar)", method="PUT", target="/dav/calendars/anja/work/20261207T140000Z-4410.ics", profile="none",
  headers=[["User-Agent", "macOS/14.1.2 (23B92) CalendarAgent/988.1"], ["Content-Type", "text/calendar; charset=utf-8"], ["If-None-Match", "*"],
           ["Authorization", "Basic YW5qYTphcHAtcGFzc3dvcmQtMTIz"]], body=ICS)
E(C, "CalDAV REPORT calendar-query", method="REPORT", target="/dav/calendars/anja/work/", profile="none",
  headers=[["User-Agent", "DAVx5/4.3.9-ose (2023/11/22; dav4jvm; okhttp/4.12.0) Android/14"], ["Content-Type", "application/xml; charset=utf-8"], ["Depth", "1"],
           ["Authorization", "Basic YW5qYTphcHAtcGFzc3dvcmQtMTIz"]],
  body='<?xml version="1.0" encoding="utf-8"?>\n<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20261201T000000Z" end="20270101T000000Z"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>')
E(C, "web calendar event create (JSON)", method="POST", target="/api/calendars/primary/events?sendUpdates=all&conferenceDataVersion=1", profile="xhr",
  headers=[["Cookie", "cal_sid=Pp2Oo3Ii4"]],
  json={"summary": "Dentist (Jane O'Neill) - crown fitting", "location": "12 High St, Guildford GU1 3AA",
        "description": "Bring the referral letter. Don't eat 2h before!", "start": {"dateTime": "2026-12-15T09:30:00+00:00"},
        "end": {"dateTime": "2026-12-15T10:15:00+00:00"}, "reminders": {"useDefault": False, "overrides": [{"method": "popup", "minutes": 60}]}})
E(C, "booking page (Calendly-like) with answers", method="POST", target="/api/bookings", profile="xhr",
  json={"event_type": "30min-intro", "start": "2026-12-09T15:00:00Z", "tz": "Europe/Lisbon", "name": "Tomás Ferreira", "email": "tomas.ferreira@example.pt",
        "answers": {"What would you like to discuss?": "Your API rate limits & whether the Pro plan includes webhooks retries. Also: can we pay by invoice?"}})
E(C, "RSVP from email link", target="/calendar/rsvp?eid=ZXZ0XzQ0MTA&email=raj%40example.com&response=accepted&sig=Hm3Nb4Vc5", profile="safari")
E(C, "iCal subscription feed fetch", target="/ical/u_4410/8f7e6d5c4b3a/basic.ics", profile="none",
  headers=[["User-Agent", "Google-Calendar-Importer"], ["Accept", "text/calendar, */*"]])

# ---------------------------------------------------------------- notebooks
C = "notebooks"
JUPC = "_xsrf=2|a1b2c3d4|e5f6a7b8c9d0e1f2|1701950000; username-localhost-8888=\"2|1:0|10:1701950000|23:username-localhost-8888|44:ZjFlMmQzYzQ=|ab12\""
E(C, "Jupyter contents save (notebook with pandas code)", method="PUT", target="/api/contents/analysis/churn.ipynb", profile="xhr",
  headers=[["Cookie", JUPC], ["X-XSRFToken", "2|a1b2c3d4|e5f6a7b8c9d0e1f2|1701950000"], ["Authorization", "token 3f2e1d0c9b8a7f6e5d4c"]],
  json={"type": "notebook", "format": "json", "content": {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "cells": [{"cell_type": "markdown", "metadata": {}, "source": "## Monthly churn by plan\nUsing the export from 1 Dec."},
                  {"cell_type": "code", "metadata": {}, "execution_count": 3, "outputs": [],
                   "source": "import pandas as pd\ndf = pd.read_csv('exports/subscriptions_2026-12-01.csv', parse_dates=['started', 'cancelled'])\nmonthly = (df.assign(month=df.cancelled.dt.to_period('M'))\n             .groupby(['plan', 'month']).size().unstack(0))\nmonthly.plot(figsize=(10, 4))"}]}})
E(C, "kernel list", target="/api/kernels?1701957700123", profile="xhr", headers=[["Cookie", JUPC], ["Authorization", "token 3f2e1d0c9b8a7f6e5d4c"]])
E(C, "checkpoint create", method="POST", target="/api/contents/analysis/churn.ipynb/checkpoints", profile="xhr",
  headers=[["Cookie", JUPC], ["X-XSRFToken", "2|a1b2c3d4|e5f6a7b8c9d0e1f2|1701950000"]], body="")
E(C, "data file upload into workspace (CSV via contents API)", method="PUT", target="/api/contents/analysis/exports/regions.csv", profile="xhr",
  headers=[["Cookie", JUPC], ["X-XSRFToken", "2|a1b2c3d4|e5f6a7b8c9d0e1f2|1701950000"]],
  json={"type": "file", "format": "text", "name": "regions.csv", "path": "analysis/exports/regions.csv",
        "content": "region,country,manager\nNorth,UK,\"Smith, J.\"\nDACH,DE,Weber\nIberia,PT,Ferreira\n"})
E(C, "notebook with a SQL cell (ipython-sql magic)", method="PUT", target="/api/contents/analysis/revenue.ipynb", profile="xhr",
  headers=[["Cookie", JUPC], ["X-XSRFToken", "2|a1b2c3d4|e5f6a7b8c9d0e1f2|1701950000"]],
  json={"type": "notebook", "format": "json", "content": {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [{"cell_type": "code", "metadata": {}, "execution_count": 7, "outputs": [],
                   "source": "%%sql\nSELECT plan, date_trunc('month', paid_at) AS month, SUM(amount) AS revenue\nFROM payments\nWHERE paid_at >= '2026-01-01'\nGROUP BY 1, 2\nORDER BY 2, 1;"}]}},
  tags=["code"])
E(C, "Observable/Streamlit-style rerun (widget state)", method="POST", target="/_stcore/rerun", profile="xhr",
  json={"widget_states": [{"id": "$$WIDGET_ID-region", "string_value": "DACH"}, {"id": "$$WIDGET_ID-date_range", "double_array_value": [1698796800, 1701388800]}], "page_script_hash": "a1b2c3"})

# ---------------------------------------------------------------- l10n
C = "l10n"
E(C, "translation save with ICU plural", method="PUT", target="/api/projects/webapp/strings/cart.items_count/translations/pl", profile="xhr",
  headers=[["Cookie", "tms_sess=Rr5Tt6Yy7"]],
  json={"text": "{count, plural, one {# produkt w koszyku} few {# produkty w koszyku} many {# produktów w koszyku} other {# produktu w koszyku}}", "status": "translated"})
E(C, "string with placeholders and markup", method="PUT", target="/api/projects/webapp/strings/checkout.terms/translations/fr", profile="xhr",
  headers=[["Cookie", "tms_sess=Rr5Tt6Yy7"]],
  json={"text": "En passant commande, vous acceptez nos <a href=\"{termsUrl}\">conditions générales</a> et notre <a href=\"{privacyUrl}\">politique de confidentialité</a>.", "status": "needs_review",
        "comment": "Keep the {termsUrl}/{privacyUrl} placeholders; don't translate them."})
E(C, "XLIFF file upload", method="POST", target="/api/projects/webapp/import?format=xliff&lang=de", profile="form_multipart",
  headers=[["Cookie", "tms_sess=Rr5Tt6Yy7"]],
  multipart={"boundary": "----WebKitFormBoundaryXlf2De3Imp4", "parts": [
      {"name": "file", "filename": "webapp_de.xlf", "content_type": "application/x-xliff+xml",
       "data": "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xliff version=\"1.2\" xmlns=\"urn:oasis:names:tc:xliff:document:1.2\">\n <file source-language=\"en\" target-language=\"de\" datatype=\"plaintext\" original=\"webapp\">\n  <body>\n   <trans-unit id=\"nav.account\"><source>My account</source><target>Mein Konto</target></trans-unit>\n   <trans-unit id=\"cart.empty\"><source>Your cart is empty</source><target>Ihr Warenkorb ist leer</target></trans-unit>\n  </body>\n </file>\n</xliff>\n"}]})
E(C, "gettext .po download", target="/api/projects/webapp/export?format=po&lang=pt_BR&include_fuzzy=false", profile="api",
  headers=[["User-Agent", "crowdin-cli/3.15.0"], ["Authorization", "Bearer tms_Pk7Lj8Hg9"]])
E(C, "i18next missing keys report from the browser", method="POST", target="/locales/add/es/common", profile="xhr",
  json={"checkout.gift_message_placeholder": "Write a short message (max 200 characters)", "errors.card_declined": "Your card was declined. Try another card or contact your bank."})
E(C, "Arabic/RTL translation with bidi marks", method="PUT", target="/api/projects/webapp/strings/orders.shipped/translations/ar", profile="xhr",
  headers=[["Cookie", "tms_sess=Rr5Tt6Yy7"]],
  json={"text": "تم شحن طلبك رقم \u2068{orderId}\u2069 وسيصل خلال {days, plural, one {يوم واحد} two {يومين} few {# أيام} other {# يومًا}}.", "status": "translated"})

# ---------------------------------------------------------------- forum
C = "forum"
FC = "forum_session=Dd3Ff4Gg5; _t=Ab12Cd34"
E(C, "topic list", target="/latest.json?no_definitions=true&page=2", profile="xhr", headers=[["Cookie", FC]])
E(C, "new topic in a gardening forum", method="POST", target="/posts.json", profile="xhr",
  headers=[["Cookie", FC], ["X-CSRF-Token", "Ab12Cd34"], ["Discourse-Logged-In", "true"]],
  json={"title": "Tomato leaves curling & going yellow - overwatering?", "category": 14,
        "raw": "Hi all, first post! My greenhouse tomatoes (Gardener's Delight & Sungold) have leaves curling upwards and the lower ones are going yellow.\n\nI water every evening, about 1L each. Compost is peat-free multi-purpose + a handful of chicken pellets.\n\n![leaves|500x375](upload://aB3cD4eF5.jpeg)\n\nIs this too much water or a magnesium thing? Thanks in advance :)"})
E(C, "reply with quote (Markdown/BBCode)", method="POST", target="/posts.json", profile="xhr",
  headers=[["Cookie", FC], ["X-CSRF-Token", "Ab12Cd34"]],
  json={"topic_id": 30218, "reply_to_post_number": 1,
        "raw": "[quote=\"tomgrows, post:1, topic:30218\"]\nIs this too much water or a magnesium thing?\n[/quote]\n\nProbably both tbh. Water in the *morning* not the evening, and only when the top 2-3cm is dry. For Mg, Epsom salts 20g per 5L as a foliar spray once a fortnight worked for me."})
E(C, "Q&A answer from a developer with a shell snippet", method="POST", target="/questions/77120/answers", profile="form",
  headers=[["Cookie", FC]],
  form=[["post-text", "You can find what's holding the port with:\n\n    sudo lsof -i :8080\n    # or, without lsof\n    sudo ss -ltnp | grep ':8080'\n\nthen `kill <pid>`. If it's a leftover container, `docker ps --filter publish=8080` will show it."],
        ["fkey", "9f8e7d6c5b4a"], ["author", ""]],
  tags=["code"])
E(C, "Q&A answer with a SQL snippet", method="POST", target="/questions/77133/answers", profile="form",
  headers=[["Cookie", FC]],
  form=[["post-text", "Use a window function rather than a self-join:\n\n```sql\nSELECT customer_id, order_id, created_at\nFROM (\n  SELECT o.*, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY created_at DESC) AS rn\n  FROM orders o\n) t\nWHERE rn = 1;\n```\n\nOn Postgres you can also do `SELECT DISTINCT ON (customer_id) ...`."],
        ["fkey", "9f8e7d6c5b4a"]],
  tags=["code"])
E(C, "search within forum", target="/search?q=%22blossom+end+rot%22+calcium+in%3Atitle&expanded=true", profile="firefox", headers=[["Cookie", FC]])
E(C, "avatar upload", method="POST", target="/uploads.json?client_id=c9a8b7&type=avatar", profile="xhr",
  headers=[["Cookie", FC], ["X-CSRF-Token", "Ab12Cd34"]],
  multipart={"boundary": "----WebKitFormBoundaryAv4t4rUpl0ad", "parts": [
      {"name": "type", "data": "avatar"}, {"name": "synchronous", "data": "true"},
      {"name": "file", "filename": "me.png", "content_type": "image/png", "data_b64": PNG_1PX}]})
E(C, "flag a post with a reason", method="POST", target="/post_actions", profile="xhr",
  headers=[["Cookie", FC], ["X-CSRF-Token", "Ab12Cd34"]],
  form=[["id", "412209"], ["post_action_type_id", "7"], ["message", "This is the third time this user has posted the same affiliate link for 'miracle' fertiliser. Looks like spam to me."], ["flag_topic", "false"]])

# ---------------------------------------------------------------- sheets
C = "sheets"
E(C, "cell edits with formulas", method="POST", target="/api/sheets/sh_4410/batchUpdate", profile="xhr",
  headers=[["Cookie", "grid_sid=Vv8Bb9Nn0"]],
  json={"requests": [{"updateCells": {"range": "Budget!B2:B5", "values": [["=SUM(C2:C13)"], ["=IFERROR(VLOOKUP(A3,Rates!A:B,2,FALSE),0)"],
                                                                         ["=TEXT(TODAY(),\"yyyy-mm-dd\")"], ["=IF(AND(D5>0,E5<>\"\"),D5*E5,\"n/a\")"]]}},
                     {"updateCells": {"range": "Budget!A20", "values": [["Notes: Q1 figures are provisional; don't share outside finance"]]}}]})
E(C, "no-code base record create (Airtable-like)", method="POST", target="/v0/appX1y2Z3/Content%20calendar", profile="api",
  headers=[["Authorization", "Bearer pat_Qw1Er2Ty3Ui4.Op5As6"]],
  json={"records": [{"fields": {"Title": "Winter walks roundup", "Status": "In review", "Owner": "Jen", "Publish date": "2026-12-12",
                               "Channels": ["Blog", "Newsletter"], "Brief": "10 walks < 1h from Manchester; each with parking + pub. Photos from Kinder & Mam Tor."}}], "typecast": True})
E(C, "formula field definition", method="PATCH", target="/v0/meta/bases/appX1y2Z3/tables/tblContent/fields/fldDays", profile="api",
  headers=[["Authorization", "Bearer pat_Qw1Er2Ty3Ui4.Op5As6"]],
  json={"name": "Days until publish", "type": "formula", "options": {"formula": "IF({Publish date}, DATETIME_DIFF({Publish date}, TODAY(), 'days'), BLANK())"}})
E(C, "spreadsheet export as CSV", target="/spreadsheets/d/1aB2cD3eF4gH5iJ6kL7mN8oP9/export?format=csv&gid=0&range=A1:F200", profile="chrome", headers=[["Cookie", "grid_sid=Vv8Bb9Nn0"]])
E(C, "xlsx upload to import", method="POST", target="/api/sheets/import", profile="form_multipart",
  headers=[["Cookie", "grid_sid=Vv8Bb9Nn0"]],
  multipart={"boundary": "----WebKitFormBoundaryXlsx5Imp6", "parts": [
      {"name": "name", "data": "Team rota Jan 2027"},
      {"name": "file", "filename": "rota-jan-2027.xlsx", "content_type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
       "data_b64": base64.b64encode(b"PK\x03\x04\x14\x00\x06\x00\x08\x00[Content_Types].xml<Types/>xl/workbook.xml").decode()}]})
E(C, "zapier-style automation step config", method="PUT", target="/api/zaps/z_7712/steps/2", profile="xhr",
  headers=[["Cookie", "auto_sid=Mm4Nn5"]],
  json={"app": "sheets", "action": "append_row", "params": {"spreadsheet": "1aB2cD3eF4gH5iJ6kL7mN8oP9", "worksheet": "Leads",
        "row": {"Name": "{{1.first_name}} {{1.last_name}}", "Email": "{{1.email}}", "Source": "Webinar - Dec", "Score": "{{2.score | default: 0}}"}}})

# ---------------------------------------------------------------- dashboards
C = "dashboards"
GFC = "grafana_session=7f6e5d4c3b2a1908f7e6d5c4b3a29180"
E(C, "Grafana PromQL range query", method="POST", target="/api/ds/query?ds_type=prometheus&requestId=Q112", profile="xhr",
  headers=[["Cookie", GFC], ["X-Grafana-Org-Id", "1"]],
  json={"queries": [{"refId": "A", "datasource": {"type": "prometheus", "uid": "prom-main"},
                     "expr": "sum by (route) (rate(http_requests_total{job=\"gatehouse\",status=~\"5..\"}[5m])) / sum by (route) (rate(http_requests_total{job=\"gatehouse\"}[5m]))",
                     "interval": "", "maxDataPoints": 1200, "intervalMs": 15000, "legendFormat": "{{route}}"}],
        "from": "now-6h", "to": "now"})
E(C, "Grafana LogQL query", method="POST", target="/api/ds/query?ds_type=loki&requestId=Q113", profile="xhr",
  headers=[["Cookie", GFC], ["X-Grafana-Org-Id", "1"]],
  json={"queries": [{"refId": "A", "datasource": {"type": "loki", "uid": "loki-main"},
                     "expr": "{app=\"checkout\", env=\"prod\"} |= \"timeout\" != \"healthz\" | json | duration > 2s | line_format \"{{.method}} {{.path}} {{.duration}}\"",
                     "queryType": "range", "maxLines": 1000}], "from": "1701936000000", "to": "1701957600000"})
E(C, "Prometheus HTTP API instant query (GET)", target="/api/v1/query?query=histogram_quantile(0.99%2C%20sum%20by%20(le)%20(rate(request_duration_seconds_bucket%7Bservice%3D%22api%22%7D%5B5m%5D)))&time=1701957600", profile="api",
  headers=[["User-Agent", "Grafana/10.2.2"]])
E(C, "dashboard JSON save", method="POST", target="/api/dashboards/db", profile="xhr",
  headers=[["Cookie", GFC], ["X-Grafana-Org-Id", "1"]],
  json={"dashboard": {"uid": "gh-edge", "title": "Edge proxy - overview", "version": 17, "refresh": "30s",
                      "templating": {"list": [{"name": "instance", "type": "query", "query": "label_values(up{job=\"gatehouse\"}, instance)", "multi": True, "includeAll": True}]},
                      "panels": [{"id": 2, "type": "timeseries", "title": "p99 latency by route",
                                  "targets": [{"expr": "histogram_quantile(0.99, sum by (le, route) (rate(gatehouse_request_seconds_bucket{instance=~\"$instance\"}[$__rate_interval])))"}]}]},
        "message": "add p99 panel", "overwrite": False, "folderUid": "infra"})
E(C, "Elasticsearch/Kibana search from dashboard", method="POST", target="/internal/search/es", profile="xhr",
  headers=[["Cookie", "sid=Fe26.2**a1b2c3d4"], ["kbn-version", "8.11.1"], ["kbn-xsrf", "true"]],
  json={"params": {"index": "logs-nginx-*", "body": {"size": 50, "sort": [{"@timestamp": "desc"}],
        "query": {"bool": {"filter": [{"range": {"@timestamp": {"gte": "now-15m"}}}, {"term": {"http.response.status_code": 502}}],
                           "must": [{"query_string": {"query": "url.path:\\/api\\/checkout* AND NOT user_agent.name:\"UptimeRobot\""}}]}}}}})
E(C, "alert rule with annotation template", method="POST", target="/api/v1/provisioning/alert-rules", profile="api",
  headers=[["Authorization", "Bearer glsa_Ab1Cd2Ef3Gh4"], ["X-Disable-Provenance", "true"]],
  json={"title": "High 5xx rate", "ruleGroup": "edge", "folderUID": "infra", "condition": "C", "for": "5m",
        "annotations": {"summary": "5xx ratio above 2% on {{ $labels.route }}", "runbook_url": "https://wiki.example.com/runbooks/edge-5xx"},
        "labels": {"severity": "page", "team": "platform"},
        "data": [{"refId": "A", "datasourceUid": "prom-main", "model": {"expr": "sum(rate(http_requests_total{status=~\"5..\"}[5m])) / sum(rate(http_requests_total[5m]))"}}]})
E(C, "Alertmanager webhook to a chat bridge", method="POST", target="/hooks/alertmanager", profile="none",
  headers=[["User-Agent", "Alertmanager/0.26.0"]],
  json={"version": "4", "status": "firing", "receiver": "platform-pager", "groupLabels": {"alertname": "HighErrorRate"},
        "alerts": [{"status": "firing", "labels": {"alertname": "HighErrorRate", "route": "/api/checkout", "severity": "page"},
                    "annotations": {"summary": "5xx ratio above 2% on /api/checkout"}, "startsAt": "2026-12-07T13:52:00Z",
                    "generatorURL": "http://prometheus:9090/graph?g0.expr=sum%28rate%28http_requests_total%7Bstatus%3D~%225..%22%7D%5B5m%5D%29%29&g0.tab=1"}]})

# ---------------------------------------------------------------- flags
C = "flags"
E(C, "SDK flag evaluation fetch", target="/sdk/evalx/ctx/eyJraW5kIjoidXNlciIsImtleSI6InUtOWY4ZTdkIiwiY291bnRyeSI6IkdCIn0", profile="xhr",
  headers=[["Authorization", "sdk-3f2e1d0c-9b8a-7f6e-5d4c-3b2a19081726"]])
E(C, "server SDK flag definitions poll", target="/api/client/features?project=default&namePrefix=checkout.", profile="api",
  headers=[["User-Agent", "unleash-client-node/5.3.1"], ["Authorization", "default:production.5a4b3c2d1e0f"], ["UNLEASH-APPNAME", "storefront"], ["If-None-Match", "\"76d8bb0e:2041\""]])
E(C, "flag targeting rule update", method="PATCH", target="/api/v2/flags/web/new-checkout", profile="xhr",
  headers=[["Cookie", "ff_session=Kk1Ll2"]],
  json={"comment": "Roll out to 25% of GB + all staff", "patch": [
      {"op": "replace", "path": "/environments/production/fallthrough/rollout/variations/0/weight", "value": 25000},
      {"op": "add", "path": "/environments/production/rules/-", "value": {"clauses": [{"attribute": "email", "op": "endsWith", "values": ["@acme.example"]}], "variation": 0}}]})
E(C, "SDK events bulk post", method="POST", target="/bulk", profile="api",
  headers=[["User-Agent", "NodeJSClient/9.2.0"], ["X-LaunchDarkly-Event-Schema", "4"], ["X-LaunchDarkly-Payload-ID", "e1f2a3b4-c5d6-4789-8a0b-1c2d3e4f5a6b"]],
  json=[{"kind": "summary", "startDate": 1701957000000, "endDate": 1701957600000,
         "features": {"new-checkout": {"default": False, "counters": [{"value": True, "variation": 0, "version": 12, "count": 318}, {"value": False, "variation": 1, "version": 12, "count": 941}]}}}])
E(C, "Unleash metrics post", method="POST", target="/api/client/metrics", profile="api",
  headers=[["User-Agent", "unleash-client-node/5.3.1"], ["Authorization", "default:production.5a4b3c2d1e0f"]],
  json={"appName": "storefront", "instanceId": "storefront-7c9f-xk2", "bucket": {"start": "2026-12-07T13:50:00.000Z", "stop": "2026-12-07T13:59:59.999Z",
        "toggles": {"checkout.new-address-form": {"yes": 1203, "no": 3811, "variants": {"compact": 600, "classic": 603}}}}})

# ---------------------------------------------------------------- newsletter
C = "newsletter"
E(C, "signup form", method="POST", target="/subscribe?u=8f7e6d5c&id=4b3a2918", profile="form",
  form=[["EMAIL", "jen.hughes@example.co.uk"], ["FNAME", "Jen"], ["group[4411][1]", "1"], ["b_8f7e6d5c_4b3a2918", ""], ["gdpr[1201]", "Y"]])
E(C, "open-tracking pixel", target="/o/eJxNjssKgzAQRX9FZp0cahJtoj-g3dEWFbro4kYUHSVWV8VB7y_aLiFzz7mZuYyX6BKGiH4Z.gif", profile="chrome_img",
  headers=[["User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 (via ggpht.com GoogleImageProxy)"]])
E(C, "click-tracking redirect", target="/c/eJxVjssKgzAQRX9F-nEYCzR?url=https%3A%2F%2Fblog.example.com%2F2026%2F12%2Fwinter-walks%2F%3Futm_source%3Dnewsletter%26utm_campaign%3Ddec-1", profile="chrome_mobile")
E(C, "campaign draft save in the editor (HTML email)", method="PUT", target="/api/campaigns/cmp_1207/content", profile="xhr",
  headers=[["Cookie", "nl_sess=Gg6Hh7Jj8"]],
  json={"subject": "🎄 Ten winter walks (and the pubs at the end)", "preheader": "Plus: our gift guide & opening hours over Christmas",
        "html": "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>.btn{background:#e4572e;color:#fff;padding:12px 20px;border-radius:4px;text-decoration:none}</style></head><body><table role=\"presentation\" width=\"100%\"><tr><td><h1>Hi *|FNAME|*,</h1><p>The days are short but the views are long. Here are ten of our favourite walks&hellip;</p><p><a class=\"btn\" href=\"https://blog.example.com/2026/12/winter-walks/\">Read the guide</a></p><p style=\"font-size:12px;color:#777\">You're getting this because you signed up at example.com. <a href=\"*|UNSUB|*\">Unsubscribe</a></p></td></tr></table></body></html>"},
  tags=["code"])
E(C, "unsubscribe with feedback", method="POST", target="/unsubscribe/eJxNjssKgzAQRX9F", profile="form",
  form=[["email", "peter.obrien@example.ie"], ["reason", "too_frequent"], ["comment", "Honestly it's just too many emails - once a month would be fine. Good content though!"]])
E(C, "ESP bounce/complaint webhook", method="POST", target="/webhooks/esp/events", profile="none",
  headers=[["User-Agent", "Amazon Simple Notification Service Agent"], ["x-amz-sns-message-type", "Notification"], ["Content-Type", "text/plain; charset=UTF-8"]],
  body=json.dumps({"Type": "Notification", "MessageId": "7c1e9d2a-3b4f-5061-7283-94a5b6c7d8e9", "TopicArn": "arn:aws:sns:eu-west-1:123456789012:ses-events",
                   "Message": json.dumps({"notificationType": "Bounce", "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": "old.address@example.net", "diagnosticCode": "smtp; 550 5.1.1 <old.address@example.net>: Recipient address rejected: User unknown"}]},
                                          "mail": {"messageId": "0102018c4a1b2c3d-ses", "source": "news@example.com"}}),
                   "Timestamp": "2026-12-07T13:58:01.123Z", "SignatureVersion": "1", "Signature": "Zm9vYmFyYmF6==", "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-01d088a6.pem"}))

# ---------------------------------------------------------------- saas (billing / account / team admin)
C = "saas"
SC = "app_session=eyJ1aWQiOjQ0MTB9.Zk9x8c7; __stripe_mid=3f2e1d0c-9b8a"
E(C, "dashboard page load", target="/app/projects/42/overview?range=30d", profile="chrome", headers=[["Cookie", SC]])
E(C, "invite teammates", method="POST", target="/api/orgs/acme/invitations", profile="xhr", headers=[["Cookie", SC]],
  json={"emails": ["raj@example.com", "anja@example.com"], "role": "developer", "message": "Hey! Joining our workspace so you can see the edge dashboards. Ping me if the link expires."})
E(C, "billing address + VAT number", method="PUT", target="/api/orgs/acme/billing", profile="xhr", headers=[["Cookie", SC]],
  json={"company": "Acme Widgets GmbH & Co. KG", "vat_id": "DE123456789", "address": {"line1": "Müllerstraße 12", "line2": "Hinterhaus, 3. OG", "city": "Berlin", "postal_code": "13353", "country": "DE"},
        "invoice_email": "rechnungen@acme.example", "po_number": "PO-2026/118"})
E(C, "API key create with description", method="POST", target="/api/orgs/acme/api-keys", profile="xhr", headers=[["Cookie", SC]],
  json={"name": "CI deploys (GitLab)", "scopes": ["deploy:write", "projects:read"], "expires_in_days": 90})
E(C, "webhook endpoint config with URL", method="POST", target="/api/orgs/acme/webhooks", profile="xhr", headers=[["Cookie", SC]],
  json={"url": "https://hooks.acme.example/ingest/edge-events?source=gatehouse&v=2", "events": ["deploy.succeeded", "deploy.failed", "incident.opened"], "secret_rotation": "auto"})
E(C, "support widget feedback", method="POST", target="/api/feedback", profile="xhr", headers=[["Cookie", SC]],
  json={"page": "/app/projects/42/logs", "rating": 2, "text": "Log search is really slow when I filter by status=502 over >24h; also the date picker resets when I go back. Otherwise love it."})
E(C, "account deletion confirm form", method="POST", target="/account/delete", profile="form", headers=[["Cookie", SC]],
  form=[["confirm", "delete my account"], ["reason", "switching_tools"], ["details", "Moving everything to our self-hosted setup. Thanks for the 3 good years!"], ["csrf_token", "Xc4Vb5Nm6"]])

# ---------------------------------------------------------------- marketplace (second-hand listings)
C = "marketplace"
MC = "mk_sess=Tt9Yy8Uu7; mk_loc=51.45,-2.59"
E(C, "browse listings nearby", target="/search?category=bikes&q=road+bike+56cm&radius=15mi&price_max=400&condition=used_good&sort=nearest", profile="chrome_mobile", headers=[["Cookie", MC]])
E(C, "create listing with photos", method="POST", target="/api/listings", profile="form_multipart",
  headers=[["Cookie", MC]],
  multipart={"boundary": "----WebKitFormBoundaryL1st1ngPh0t0s", "parts": [
      {"name": "title", "data": "Trek Domane AL2 road bike, 56cm - barely used"},
      {"name": "description", "data": "Bought in 2024, ridden maybe 10 times (new job = no time, sadly). Shimano Claris 2x8, new tyres in Oct. Small scuff on the top tube (see pic 3). Collection from Bristol BS3 or can meet halfway-ish. No time wasters please!"},
      {"name": "price", "data": "320"}, {"name": "category", "data": "bikes"},
      {"name": "photos[]", "filename": "IMG_20261205_101122.jpg", "content_type": "image/jpeg", "data_b64": JPEG_HEAD},
      {"name": "photos[]", "filename": "IMG_20261205_101140.jpg", "content_type": "image/jpeg", "data_b64": JPEG_HEAD}]})
E(C, "buyer message to seller", method="POST", target="/api/conversations/cv_55120/messages", profile="mobile_app",
  json={"text": "Hi, is this still available? Would you take £280? I could collect Saturday morning (before 12). Cheers, Dan"})
E(C, "make an offer", method="POST", target="/api/listings/lst_90412/offers", profile="xhr", headers=[["Cookie", MC]],
  json={"amount": 28000, "currency": "GBP", "shipping": "collection"})
E(C, "seller rating", method="POST", target="/api/users/u_4410/ratings", profile="xhr", headers=[["Cookie", MC]],
  json={"stars": 5, "text": "Bike exactly as described, really friendly & even threw in a pump + lights. 10/10 would buy from again."})

# ---------------------------------------------------------------- docs (collaborative docs / knowledge)
C = "docs"
DC = "doc_sid=Qq1Ww2Ee3; doc_xsrf=Rr4Tt5"
E(C, "collaborative doc operational transform batch", method="POST", target="/api/docs/d_7712/ops?rev=1841", profile="xhr",
  headers=[["Cookie", DC], ["X-XSRF-Token", "Rr4Tt5"]],
  json={"ops": [{"type": "insert", "pos": 1204, "text": "Decision: we'll keep the nightly export but move it to 02:00 UTC so it doesn't overlap with backups."},
                {"type": "format", "from": 1204, "to": 1213, "attrs": {"bold": True}},
                {"type": "delete", "pos": 980, "len": 14}], "client": "cl_9a8b", "seq": 311})
E(C, "comment on a doc selection", method="POST", target="/api/docs/d_7712/comments", profile="xhr",
  headers=[["Cookie", DC], ["X-XSRF-Token", "Rr4Tt5"]],
  json={"anchor": {"from": 1204, "to": 1290}, "text": "Are we sure 02:00 is quiet? EU traffic dips then but APAC is peaking - @Mei can you check the graphs?"})
E(C, "paste from Word (HTML clipboard)", method="POST", target="/api/docs/d_7712/paste", profile="xhr",
  headers=[["Cookie", DC], ["X-XSRF-Token", "Rr4Tt5"]],
  json={"pos": 1500, "html": "<p class=MsoNormal><b><span style='font-size:12.0pt;font-family:\"Calibri\",sans-serif'>Action items</span></b></p><ul><li class=MsoListParagraph>Mei – check APAC traffic at 02:00</li><li class=MsoListParagraph>Raj – update the cron + runbook</li></ul>"})
E(C, "doc export to PDF", target="/api/docs/d_7712/export?format=pdf&pageSize=A4&margins=normal&includeComments=false", profile="chrome", headers=[["Cookie", DC]])
E(C, "image embed upload", method="POST", target="/api/docs/d_7712/images", profile="xhr",
  headers=[["Cookie", DC], ["X-XSRF-Token", "Rr4Tt5"], ["Content-Type", "image/png"], ["X-File-Name", "diagram%20v2.png"]],
  body="\u0089PNG\r\n\u001a\n-small-diagram-bytes")


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".jsonl"):
            os.remove(os.path.join(OUT, f))
    total = 0
    for cat, lst in CATS.items():
        with open(os.path.join(OUT, cat + ".jsonl"), "w", encoding="utf-8") as f:
            for e in lst:
                f.write(json.dumps(e, ensure_ascii=False) + "\n")
        total += len(lst)
        print("%-12s %3d" % (cat, len(lst)))
    print("benign total %d in %d categories" % (total, len(CATS)))


if __name__ == "__main__":
    main()
