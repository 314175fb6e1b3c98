"""Benign entries (part 3), written by hand for holdout14."""
import base64
from lib import B

# ---------------------------------------------------------------- translation memory / localisation
T = "translation"
B(T, "segment save in CAT tool", method="PUT", target="/api/projects/88/segments/15521", profile="xhr",
  json={"source": "Your order <b>{order_id}</b> has shipped. Track it <a href=\"{url}\">here</a>.", "target": "Ihre Bestellung <b>{order_id}</b> wurde versandt. Verfolgen Sie sie <a href=\"{url}\">hier</a>.", "status": "translated", "locale": "de-DE"})
B(T, "TM concordance search", target="/api/tm/concordance?q=%22add+to+cart%22&source=en&target=fr&min_score=70&limit=25", profile="xhr")
B(T, "TMX upload", method="POST", target="/api/tm/42/import", profile="form_multipart",
  multipart={"boundary": "----WebKitFormBoundaryTmX4r9Lw2QeZ7aPk", "parts": [{"name": "file", "filename": "shop-en-es.tmx", "content_type": "application/x-tmx+xml",
      "data": "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<tmx version=\"1.4\"><header creationtool=\"CATTool\" creationtoolversion=\"5\" segtype=\"sentence\" o-tmf=\"tmx\" adminlang=\"en\" srclang=\"en\" datatype=\"plaintext\"/><body>\n<tu><tuv xml:lang=\"en\"><seg>Free returns within 30 days</seg></tuv><tuv xml:lang=\"es\"><seg>Devoluciones gratuitas en 30 días</seg></tuv></tu>\n<tu><tuv xml:lang=\"en\"><seg>Select a size</seg></tuv><tuv xml:lang=\"es\"><seg>Selecciona una talla</seg></tuv></tu>\n</body></tmx>\n"}]})
B(T, "ICU message format strings push", method="POST", target="/api/v2/projects/shop-web/keys", profile="api",
  headers=[["Authorization", "Bearer loc_pat_19fa"]],
  json={"keys": [{"key_name": "cart.items", "translations": [{"language_iso": "en", "translation": "{count, plural, =0 {Your cart is empty} one {# item} other {# items}}"}, {"language_iso": "pl", "translation": "{count, plural, =0 {Koszyk jest pusty} one {# produkt} few {# produkty} many {# produktów} other {# produktu}}"}]}]})
B(T, "gettext-free android strings export", target="/api/projects/88/export?format=android_xml&locale=ar&include_empty=false", profile="api")
B(T, "XLIFF 2.0 segment with inline codes", method="POST", target="/api/xliff/segments", profile="api", headers=[["Content-Type", "application/xliff+xml"]],
  body="<?xml version=\"1.0\"?><xliff xmlns=\"urn:oasis:names:tc:xliff:document:2.0\" version=\"2.0\" srcLang=\"en\" trgLang=\"ja\"><file id=\"f1\"><unit id=\"u7\"><segment><source>Press <pc id=\"1\">Save</pc> to continue.</source><target><pc id=\"1\">保存</pc>を押して続行します。</target></segment></unit></file></xliff>")

# ---------------------------------------------------------------- gaming leaderboards
L = "leaderboards"
GM = [["User-Agent", "UnityPlayer/2022.3.14f1 (UnityWebRequest/1.0, libcurl/8.4.0-DEV)"], ["X-Unity-Version", "2022.3.14f1"], ["Accept", "*/*"]]
B(L, "submit score", method="POST", target="/api/v1/leaderboards/weekly_race/scores", profile="none",
  headers=GM + [["Authorization", "Bearer game-7a8b9c"], ["Content-Type", "application/json"]],
  body="{\"player_id\":\"p_19a2\",\"score\":184230,\"time_ms\":92312,\"replay_hash\":\"3d5f9a0c\",\"meta\":{\"car\":\"RX-8\",\"track\":\"Nürburgring\"}}")
B(L, "top 100 with around-me", target="/api/v1/leaderboards/weekly_race?limit=100&around=p_19a2&platform=all&season=2026-W49", profile="none", headers=GM + [["Authorization", "Bearer game-7a8b9c"]])
B(L, "player name change with symbols", method="PATCH", target="/api/v1/players/p_19a2", profile="none",
  headers=GM + [["Authorization", "Bearer game-7a8b9c"], ["Content-Type", "application/json"]], body="{\"display_name\":\"xX_D4rk-N1nja_Xx\",\"tag\":\"#4471\",\"motto\":\"gg ez -- jk <3\"}")
B(L, "form-encoded score from a WebGL game", method="POST", target="/score.php", profile="xhr",
  form=[["game", "snake"], ["name", "AAA"], ["score", "1280"], ["sig", "9f86d081884c7d659a2feaa0c55ad015"]])
B(L, "achievements batch unlock", method="POST", target="/api/v1/achievements/unlock", profile="none",
  headers=GM + [["Authorization", "Bearer game-7a8b9c"], ["Content-Type", "application/json"]], body="{\"ids\":[\"first_blood\",\"no_damage_run\",\"speedrun_sub_10\"],\"ts\":1733590012}")
B(L, "steam-style auth ticket", target="/api/v1/auth/steam?ticket=14000000E4C8D2A1C9B8E7F6010010015D7A6F5E1800000001000000020000000A1B2C3D4E5F6071&appid=480", profile="none", headers=GM)

# ---------------------------------------------------------------- real estate
E = "real_estate"
B(E, "listing search with map bounds", target="/search/for-sale?bbox=-0.2157%2C51.4802%2C-0.0856%2C51.5413&beds_min=2&price_max=650000&type=flat%2Cmaisonette&features=garden%2Cparking&sort=newest", profile="chrome")
B(E, "enquiry to agent", method="POST", target="/listings/551/enquiry", profile="form",
  form=[["name", "Chen Wei"], ["email", "chen.wei@example.com"], ["phone", "07700 900123"], ["message", "Hi, is the flat still available? We're chain-free & mortgage-in-principle approved. Could we view on Sat a.m.?"], ["reason", "viewing"]])
B(E, "agent creates listing", method="POST", target="/agent/api/listings", profile="xhr",
  json={"address": {"line1": "Flat 3, 27 Queen's Road", "town": "Brighton", "postcode": "BN1 3XA"}, "price": 315000, "tenure": "leasehold", "lease_years": 118,
        "description": "A bright 2-bed conversion (1st floor) with sea glimpses. Service charge approx £1,150 p.a.; ground rent £0. EPC: C.", "features": ["Sea glimpses", "Gas CH", "No onward chain"]})
B(E, "saved search alert", method="POST", target="/api/alerts", profile="xhr",
  json={"name": "Hove 3 bed < 500k", "query": "location:Hove beds>=3 price<=500000 -\"shared ownership\" -auction", "frequency": "instant"})
B(E, "floorplan image fetch", target="/media/listings/551/floorplan.png?w=1200&q=80&v=3", profile="chrome_img")
B(E, "mortgage calculator", target="/tools/mortgage?price=315000&deposit=15%25&term=25&rate=4.79", profile="chrome_mobile")

# ---------------------------------------------------------------- travel booking
V = "travel"
B(V, "flight search", target="/flights/search?from=LHR&to=JFK&depart=2027-01-14&return=2027-01-21&adults=2&children=1&infants=0&cabin=premium_economy&flex=3", profile="chrome")
B(V, "passenger details", method="POST", target="/booking/TX81Q/passengers", profile="xhr",
  json={"passengers": [{"type": "ADT", "title": "MS", "given": "Zoë", "surname": "Ó Súilleabháin", "dob": "1988-03-02", "ff": {"airline": "BA", "number": "12345678"}},
                       {"type": "CHD", "given": "Oisín", "surname": "Ó Súilleabháin", "dob": "2017-09-30", "ssr": ["CHML"]}], "contact": {"email": "zoe@example.ie", "phone": "+353851234567"}})
B(V, "hotel availability NDC-ish JSON", method="POST", target="/api/hotels/availability", profile="api",
  json={"stay": {"checkIn": "2027-01-14", "checkOut": "2027-01-18"}, "occupancies": [{"rooms": 1, "adults": 2, "children": 1, "paxes": [{"type": "CH", "age": 9}]}], "destination": {"code": "NYC"}, "filter": {"maxRate": 450, "minCategory": 4}})
B(V, "special requests free text", method="POST", target="/booking/TX81Q/requests", profile="form",
  form=[["requests", "Cot needed; late arrival (~23:30) - please don't cancel! Also: nut allergy (severe) for the child's meal."], ["accessible_room", "0"]])
B(V, "seat map select", method="PUT", target="/api/booking/TX81Q/seats", profile="mobile_app", json={"segment": "BA117", "seats": {"P1": "31A", "P2": "31B", "P3": "31C"}})
B(V, "manage booking lookup", target="/manage?pnr=TX81Q&lastName=%C3%93%20S%C3%BAilleabh%C3%A1in", profile="safari")

# ---------------------------------------------------------------- multilingual user text
M = "multilingual"
B(M, "Chinese product review", method="POST", target="/api/reviews", profile="xhr",
  json={"product": "TR3-42-BLK", "rating": 4, "title": "很舒服，但是尺码偏小", "body": "鞋子很轻，跑了十公里脚不累。建议买大半码！物流也很快（三天到货）。"})
B(M, "Arabic support message", method="POST", target="/support/tickets", profile="form",
  form=[["subject", "مشكلة في الدفع"], ["description", "مرحباً، تم خصم المبلغ من بطاقتي مرتين للطلب رقم ١٠٠٤٨٥. أرجو المساعدة في استرداد المبلغ. شكراً"], ["email", "layla@example.ae"]])
B(M, "Russian forum post", method="POST", target="/forum/reply", profile="form",
  form=[["body", "Подскажите, пожалуйста: «ошибка 502» появляется только при загрузке файлов > 10 МБ. Nginx → gatehouse → приложение. Что проверить в первую очередь?"], ["thread", "2201"]])
B(M, "Japanese search query", target="/search?q=%E3%83%A9%E3%83%B3%E3%83%8B%E3%83%B3%E3%82%B0%E3%82%B7%E3%83%A5%E3%83%BC%E3%82%BA%20%E9%98%B2%E6%B0%B4&lang=ja", profile="chrome_mobile")
B(M, "emoji-heavy chat message", method="POST", target="/api/rooms/42/messages", profile="xhr",
  json={"text": "🎉🎉 we hit 10k orders!!! 🚀📦 thanks team 🙏❤️‍🔥 drinks on me Fri 🍻 (👨‍👩‍👧 welcome)", "client_id": "m-7790"})
B(M, "Hindi and Hebrew profile bio", method="PATCH", target="/api/me/profile", profile="xhr",
  json={"display_name": "अनन्या", "bio": "שלום! I speak हिन्दी, עברית and English. Photographer 📷 — Tel Aviv / Pune.", "pronouns": "she/her"})
B(M, "Korean and Thai address", method="POST", target="/checkout/c_8Kp3/shipping", profile="form",
  form=[["name", "김민준"], ["address1", "서울특별시 강남구 테헤란로 152"], ["note", "ฝากไว้ที่ รปภ. ได้ครับ"], ["country", "KR"]])

# ---------------------------------------------------------------- mobile app telemetry
A = "app_telemetry"
B(A, "event batch from Android SDK", method="POST", target="/v1/batch", profile="none",
  headers=[["User-Agent", "analytics-android/4.11.3"], ["Content-Type", "application/json"], ["Authorization", "Basic d3JpdGVrZXk6"], ["Content-Encoding", "identity"]],
  json={"batch": [{"type": "track", "event": "Product Viewed", "properties": {"sku": "TR3-42-BLK", "price": 89.99, "list": "Search: trail shoes"}, "anonymousId": "a1b2c3d4-e5f6", "timestamp": "2026-12-07T16:40:12.123Z", "context": {"app": {"version": "5.12.0", "build": "51200"}, "os": {"name": "Android", "version": "14"}, "device": {"model": "Pixel 7"}, "network": {"wifi": True}}}], "sentAt": "2026-12-07T16:40:15.001Z"})
B(A, "crash report (iOS) with symbolicated frames", method="POST", target="/api/1234/store/", profile="none",
  headers=[["User-Agent", "sentry.cocoa/8.17.1"], ["Content-Type", "application/json"], ["X-Sentry-Auth", "Sentry sentry_version=7, sentry_client=sentry.cocoa/8.17.1, sentry_key=b2f1c0d9e8a7"]],
  json={"event_id": "fc6d8c0c43fc4630ad850ee518f1b9d0", "platform": "cocoa", "level": "fatal", "release": "com.example.shop@5.12.0+51200",
        "exception": {"values": [{"type": "EXC_BAD_ACCESS", "value": "KERN_INVALID_ADDRESS at 0x0000000000000010", "stacktrace": {"frames": [{"function": "-[CartViewController tableView:cellForRowAtIndexPath:]", "package": "ShopApp", "lineno": 211}, {"function": "objc_msgSend", "package": "libobjc.A.dylib"}]}}]}})
B(A, "Firebase-style config fetch", method="POST", target="/v1/projects/shop-app/namespaces/firebase:fetch", profile="none",
  headers=[["User-Agent", "Dalvik/2.1.0 (Linux; U; Android 14; Pixel 7 Build/UQ1A.231205.015)"], ["Content-Type", "application/json"], ["X-Goog-Api-Key", "AIzaSyD-EXAMPLEKEY0123456789abcdefghij"]],
  json={"appInstanceId": "fXc1dQ2eR3", "appId": "1:123456789:android:abc123", "countryCode": "GB", "languageCode": "en-GB", "platformVersion": "34", "timeZone": "Europe/London", "appVersion": "5.12.0", "sdkVersion": "21.6.0"})
B(A, "performance trace upload", method="POST", target="/telemetry/perf", profile="mobile_app",
  json={"traces": [{"name": "screen_load:Checkout", "duration_ms": 812, "attrs": {"frames_slow": 3, "frames_frozen": 0}}, {"name": "http:/api/checkout/confirm", "duration_ms": 1440, "status": 200}]})
B(A, "push token registration", method="PUT", target="/api/devices/me", profile="mobile_app",
  json={"platform": "fcm", "token": "dQw4w9WgXcQ:APA91bHPRgkFLJu6Mw0VkRfUuQ1bV0m8e2iJx9Kz", "locale": "en_GB", "tz": "Europe/London", "notifications": {"orders": True, "marketing": False}})
B(A, "session heartbeat via GET", target="/hb?sid=s_8812a&seq=14&fg=1&bat=0.63&net=5g", profile="mobile_app")

# ---------------------------------------------------------------- gRPC-web
R = "grpc_web"
def grpc_frame(payload):
    return base64.b64encode(b"\x00" + len(payload).to_bytes(4, "big") + payload).decode()
GW = [["Content-Type", "application/grpc-web-text"], ["Accept", "application/grpc-web-text"], ["X-Grpc-Web", "1"], ["X-User-Agent", "grpc-web-javascript/0.1"]]
B(R, "unary GetProduct (text mode)", method="POST", target="/shop.catalog.v1.CatalogService/GetProduct", profile="xhr", headers=GW,
  body=grpc_frame(b"\x0a\x0aTR3-42-BLK\x10\x01"))
B(R, "ListOrders with page token", method="POST", target="/shop.orders.v1.OrderService/ListOrders", profile="xhr", headers=GW + [["grpc-timeout", "10S"]],
  body=grpc_frame(b"\x08\x14\x12\x0cCAESBgiAgICA\x1a\x0fstatus = \"OPEN\""))
B(R, "binary-mode proto with ASCII payload", method="POST", target="/shop.search.v1.SearchService/Search", profile="xhr",
  headers=[["Content-Type", "application/grpc-web+proto"], ["Accept", "application/grpc-web+proto"], ["X-Grpc-Web", "1"]],
  body="\x00\x00\x00\x00\x16\x0a\x0btrail shoes\x10\x14\x1a\x05en-GB")
B(R, "Connect protocol JSON unary", method="POST", target="/shop.cart.v1.CartService/AddItem", profile="xhr",
  headers=[["Content-Type", "application/json"], ["Connect-Protocol-Version", "1"], ["Connect-Timeout-Ms", "15000"]],
  json={"cartId": "c_7Hq2Lm9", "item": {"sku": "WS-3P-M", "quantity": 1}})
B(R, "server-streaming subscribe", method="POST", target="/shop.notify.v1.NotifyService/Subscribe", profile="xhr", headers=GW,
  body=grpc_frame(b"\x0a\x05u-412\x12\x06orders\x12\x08shipping"))
B(R, "Connect GET (idempotent) with base64 message", target="/shop.catalog.v1.CatalogService/GetCategories?connect=v1&encoding=proto&base64=1&message=CgJlbhIHbWVucyAmIA", profile="xhr")

# ---------------------------------------------------------------- tus resumable uploads
U = "tus"
TUS = [["Tus-Resumable", "1.0.0"], ["Authorization", "Bearer upl-4e1a"]]
B(U, "create upload with metadata", method="POST", target="/files/", profile="xhr",
  headers=TUS + [["Upload-Length", "73400320"], ["Upload-Metadata", "filename " + base64.b64encode("holiday video (Crete) 2026.mp4".encode()).decode() + ",filetype dmlkZW8vbXA0,relativePath bnVsbA=="]], body="")
B(U, "HEAD to resume", method="HEAD", target="/files/24e533e02ec3bc40c387f1a0e460e216", profile="xhr", headers=TUS)
B(U, "PATCH chunk", method="PATCH", target="/files/24e533e02ec3bc40c387f1a0e460e216", profile="xhr",
  headers=TUS + [["Upload-Offset", "5242880"], ["Content-Type", "application/offset+octet-stream"]],
  body="ftypisom\x00\x00\x02\x00isomiso2avc1mp41moov lmvhd chunk bytes... " * 20)
B(U, "CORS preflight before creating an upload", method="OPTIONS", target="/files/", profile="none",
  headers=[["User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"], ["Accept", "*/*"],
           ["Origin", "https://app.example.com"], ["Access-Control-Request-Method", "POST"], ["Access-Control-Request-Headers", "authorization,tus-resumable,upload-length,upload-metadata"],
           ["Sec-Fetch-Mode", "cors"], ["Sec-Fetch-Site", "same-site"], ["Sec-Fetch-Dest", "empty"], ["Referer", "https://app.example.com/"]])
B(U, "creation-with-upload of a small text file", method="POST", target="/files/", profile="xhr",
  headers=TUS + [["Upload-Length", "92"], ["Content-Type", "application/offset+octet-stream"], ["Upload-Metadata", "filename bm90ZXMudHh0,filetype dGV4dC9wbGFpbg=="]],
  body="Meeting notes 7 Dec\n- ship v5.12 Friday\n- move standup to 09:45\n- Anna: vendor call re: SLA\n")
B(U, "DELETE termination", method="DELETE", target="/files/24e533e02ec3bc40c387f1a0e460e216", profile="xhr", headers=TUS)

# ---------------------------------------------------------------- older PHP apps
H = "php_legacy"
PH = [["Cookie", "PHPSESSID=8d1c0f7a2b3e4f5a6b7c8d9e0f; lang=en"]]
B(H, "phpBB post with BBCode", method="POST", target="/posting.php?mode=reply&f=12&t=4410", profile="form", headers=PH,
  form=[["subject", "Re: Carburettor won't idle"], ["message", "[quote=\"bob_74\"]Did you check the float height?[/quote]\nYes - set to 17mm per the [url=https://manuals.example.org/cb500.pdf]manual[/url]. Still hunts between 900 & 1400 rpm. [b]Next:[/b] pilot jet?"],
        ["attach_sig", "on"], ["post", "Submit"], ["creation_time", "1733590012"], ["form_token", "a4f1c9d8e7b6a5f4c3d2e1f0a9b8c7d6e5f4a3b2"]])
B(H, "array-style form fields", method="POST", target="/admin/settings.php", profile="form", headers=PH,
  form=[["config[site_name]", "Bob's Bikes & Parts"], ["config[email]", "info@bobsbikes.example"], ["config[tax_rate]", "20"], ["opts[]", "show_stock"], ["opts[]", "guest_checkout"], ["save", "Save changes"]])
B(H, "osCommerce-style product page with session in URL", target="/product_info.php?cPath=21_34&products_id=118&osCsid=a8d7f6e5c4b3a291807f6e5d4c3b2a19", profile="firefox")
B(H, "guestbook entry", method="POST", target="/guestbook.php?action=add", profile="form", headers=PH,
  form=[["name", "Margaret"], ["homepage", "http://www.margarets-quilts.example/"], ["comment", "Lovely site!!! Been riding since '68 -- still love my old Triumph :-)"], ["captcha", "7k2m"]])
B(H, "MediaWiki edit with wikitext", method="POST", target="/index.php?title=Maintenance_schedule&action=submit", profile="form", headers=PH,
  form=[["wpTextbox1", "== Oil ==\n{| class=\"wikitable\"\n! Interval !! Task\n|-\n| 5,000 km || Change oil & filter\n|-\n| 10,000 km || {{Check|air filter}}\n|}\n[[Category:Maintenance]]"], ["wpSummary", "/* Oil */ add table"], ["wpEditToken", "d41d8cd98f00b204e9800998ecf8427e+\\"], ["wpSave", "Save changes"]])
B(H, "sysadmin pastes a shell one-liner in a phpBB support post (code)", method="POST", target="/posting.php?mode=reply&f=3&t=881", profile="form", headers=PH, tags=["code"],
  form=[["subject", "Re: disk full"], ["message", "Find what's eating space:\n[code]du -xh / 2>/dev/null | sort -rh | head -n 20; find /var/log -name '*.gz' -mtime +30 -delete[/code]\nThen restart with sudo systemctl restart php8.1-fpm"], ["post", "Submit"]])

# ---------------------------------------------------------------- search boxes
Q = "search_box"
B(Q, "quoted phrase and minus", target="/search?q=%22waterproof+jacket%22+-kids+%2Bhood&sort=relevance", profile="chrome")
B(Q, "boolean operators and wildcards", target="/library/search?q=(climate+OR+weather)+AND+%22sea+level%22+NOT+opinion*&field=title&from=2010", profile="firefox")
B(Q, "field syntax with colons and ranges", target="/issues?q=is%3Aopen+label%3A%22bug%22+created%3A%3E%3D2026-11-01+author%3Aana", profile="xhr")
B(Q, "natural-language question with apostrophes", target="/help/search?q=why+can%27t+i+select+next-day+delivery%3F+it%27s+greyed+out", profile="chrome_mobile")
B(Q, "autocomplete keystroke", target="/api/suggest?q=o%27nei&types=artist,album&limit=8", profile="xhr")
B(Q, "developer docs search for a script tag (code)", target="/docs/search?q=%3Cscript+async+src%3D%22%22%3E+vs+defer", profile="firefox", tags=["code"])
B(Q, "search with symbols and sizes", target="/search?q=m8+x+25mm+bolts+%26+nuts+%28pack+of+50%29+%3C%C2%A35", profile="edge")

# ---------------------------------------------------------------- image / PDF uploads
F = "uploads"
JPEG = "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8QEBEQCgwSExIQEw8QEBD/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q=="
B(F, "JPEG photo from a browser", method="POST", target="/account/avatar", profile="form_multipart",
  multipart={"boundary": "----WebKitFormBoundaryJ8kL2mN4pQ6rS8tU", "parts": [{"name": "avatar", "filename": "IMG_20261207_142233.jpg", "content_type": "image/jpeg", "data_b64": JPEG}, {"name": "crop", "data": "{\"x\":120,\"y\":40,\"w\":600,\"h\":600}"}]})
B(F, "PDF invoice upload with XMP-ish text", method="POST", target="/expenses/receipts", profile="form_multipart",
  multipart={"boundary": "----WebKitFormBoundaryV0wX2yZ4aB6cD8eF", "parts": [{"name": "amount", "data": "42.50"}, {"name": "category", "data": "Travel & subsistence"},
     {"name": "receipt", "filename": "Rechnung Nr. 2026-0815 (Hotel).pdf", "content_type": "application/pdf",
      "data": "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>\nendobj\n4 0 obj\n<< /Length 44 >>\nstream\nBT /F1 12 Tf 72 770 Td (Summe: 42,50 EUR) Tj ET\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"}]})
B(F, "multiple images from iPhone (HEIC)", method="POST", target="/listings/551/photos", profile="safari",
  headers=[["Cookie", "sessionid=r9g8h7j6k5"]],
  multipart={"boundary": "----WebKitFormBoundarySafari2k8Z3q", "parts": [{"name": "photos[]", "filename": "IMG_4410.HEIC", "content_type": "image/heic", "data_b64": "AAAAGGZ0eXBoZWljAAAAAG1pZjFoZWljAAAA"}, {"name": "photos[]", "filename": "IMG_4411.HEIC", "content_type": "image/heic", "data_b64": "AAAAGGZ0eXBoZWljAAAAAG1pZjFoZWljAAAB"}, {"name": "caption", "data": "Kitchen & garden (south-facing)"}]})
B(F, "SVG logo (plain, no script)", method="POST", target="/admin/branding/logo", profile="form_multipart",
  multipart={"boundary": "----WebKitFormBoundaryLg0SvG7xY9", "parts": [{"name": "logo", "filename": "logo.svg", "content_type": "image/svg+xml",
     "data": "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 120 32\"><title>Bob's Bikes</title><rect width=\"120\" height=\"32\" rx=\"6\" fill=\"#1d3557\"/><text x=\"10\" y=\"22\" font-family=\"Helvetica\" font-size=\"16\" fill=\"#fff\">Bob&apos;s Bikes</text></svg>"}]})
B(F, "curl API upload of a PNG with form fields", method="POST", target="/api/v1/assets", profile="api_multipart",
  headers=[["User-Agent", "curl/8.4.0"], ["Authorization", "Bearer assets-51c2"]],
  multipart={"boundary": "------------------------d74496d66958873e", "parts": [{"name": "file", "filename": "banner@2x.png", "content_type": "image/png", "data_b64": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="}, {"name": "alt", "data": "Winter sale - up to 40% off"}, {"name": "tags", "data": "banner,homepage,q4"}]})
B(F, "Word document via Edge", method="POST", target="/careers/jobs/2231/apply", profile="edge",
  headers=[["Cookie", "sessionid=t5y6u7i8o9"], ["Origin", "https://shop.example.com"]],
  multipart={"boundary": "----WebKitFormBoundaryEdge5mN7bV9c", "parts": [{"name": "full_name", "data": "Ngozi Okafor"}, {"name": "cv", "filename": "Ngozi Okafor - CV (Dec 2026).docx", "content_type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "data_b64": "UEsDBBQABgAIAAAAIQDfpNJsWgEAACAFAAATAAgCW0NvbnRlbnRfVHlwZXNdLnhtbCCiBAIooAAC"}]})
