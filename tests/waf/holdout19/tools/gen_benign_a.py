#!/usr/bin/python3
"""Writes benign/*.jsonl, part A (17 kinds): consumer sites and apps used by
the public worldwide, user-written text in many languages and scripts, as
browsers and mobile apps send it.  Written by hand, blind."""
import base64
import random
from common import q, write

R = random.Random(1919)


def jpeg(n=420):
    """A small JPEG-shaped blob (SOI, JFIF APP0, seeded bytes, EOI)."""
    b = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x48\x00\x48\x00\x00"
         + bytes(R.randrange(256) for _ in range(n)) + b"\xff\xd9")
    return base64.b64encode(b).decode()


def png(n=300):
    b = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06\x00\x00\x00"
         + bytes(R.randrange(256) for _ in range(n)) + b"\x00\x00\x00\x00IEND\xaeB`\x82")
    return base64.b64encode(b).decode()


IOS_APP = "Fotogram/8.4.1 (iPhone15,2; iOS 17.2.1; Scale/3.00)"
ANDROID_OKHTTP = "okhttp/4.12.0"
SOC_COOKIE = "sid=Qk9x2mLr7TzW4pYv; consent=ad_storage:denied,analytics:granted; _ga=GA1.1.1428857311.1701874400"


def app(ua, token="Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI4ODEyMyJ9.c2lnbmF0dXJl", lang="en-US"):
    return [["User-Agent", ua], ["Authorization", token], ["Accept-Language", lang]]


social_post = [
    dict(method="POST", target="/api/v1/posts", profile="xhr",
         headers=[["Cookie", SOC_COOKIE], ["X-CSRF-Token", "c1f0e9d8b7a6"], ["Referer", "https://shop.example.com/home"]],
         json={"text": "Finally finished the marathon!! 🏃‍♀️🎉 42.195 km in 4:12:33 -- thanks @coach_maria & everyone who cheered at km 30 ❤️ #berlinmarathon #firstmarathon",
               "visibility": "public", "mentions": ["coach_maria"], "hashtags": ["berlinmarathon", "firstmarathon"]},
         note="English post with emoji, mention, hashtags"),
    dict(method="POST", target="/api/v1/posts", profile="mobile_app", headers=app(IOS_APP, lang="ja-JP"),
         json={"text": "今日は久しぶりに友達とカフェへ☕️ 抹茶ラテが最高でした！また行きたい〜 #東京カフェ #週末", "location": {"name": "渋谷", "lat": 35.658, "lng": 139.7016}},
         note="Japanese post from iOS app"),
    dict(method="POST", target="/api/v1/posts", profile="mobile_app", headers=app(ANDROID_OKHTTP, lang="ar-EG"),
         json={"text": "رمضان كريم 🌙 كل عام وأنتم بخير، اللهم بلغنا ليلة القدر 🤲 #رمضان_كريم", "visibility": "friends"},
         note="Arabic post"),
    dict(method="POST", target="/api/v1/posts/882133/comments", profile="xhr", headers=[["Cookie", SOC_COOKIE]],
         json={"text": "hahaha no way 😂😂 who said \"it'll only take 5 minutes\"?? it's been 3 hours...", "reply_to": 99120},
         note="reply with quotes and apostrophes"),
    dict(target=q("/search", {"q": "#bookstagram OR #booktok", "type": "posts"}), profile="chrome", headers=[["Cookie", SOC_COOKIE]],
         note="hashtag search with OR"),
    dict(method="POST", target="/api/v1/posts", profile="xhr", headers=[["Cookie", SOC_COOKIE], ["Accept-Language", "pt-BR,pt;q=0.9"]],
         json={"text": "Alguém sabe se a feira de domingo vai ter?? 🤔 Ano passado foi cancelada por causa da chuva :( @prefeitura_sp", "poll": {"options": ["Sim", "Não", "Não sei"], "hours": 24}},
         note="Portuguese post with poll"),
]

photo_caption = [
    dict(method="POST", target="/upload/photo", profile="form_multipart",
         multipart={"boundary": "----WebKitFormBoundaryq7ZpR1tXw9", "parts": [
             {"name": "caption", "data": "Golden hour at Santorini 🌅 (no filter, I promise!) — shot on my old Canon 5D"},
             {"name": "alt_text", "data": "Whitewashed houses with blue domes at sunset"},
             {"name": "file", "filename": "IMG_4821.jpg", "content_type": "image/jpeg", "data_b64": jpeg()}]},
         note="photo upload with caption"),
    dict(method="PATCH", target="/api/v1/media/5521087/caption", profile="xhr",
         json={"caption": "Mi abuela cumplió 90 años 🎂💐 ¡Qué bendición tenerla con nosotros! #familia #90años"}, note="Spanish caption edit"),
    dict(method="POST", target="/api/v1/media", profile="mobile_app", headers=app(IOS_APP, lang="ko-KR"),
         json={"upload_id": "1701880012345", "caption": "제주도 여행 3일차 🍊 바다 색깔 실화냐... 다음엔 부모님이랑 꼭 다시 와야지", "tags": [{"user": "minji_k", "x": 0.42, "y": 0.61}]},
         note="Korean caption with tagged user"),
    dict(method="POST", target="/api/v1/media", profile="mobile_app", headers=app(ANDROID_OKHTTP, lang="hi-IN"),
         json={"upload_id": "1701880099871", "caption": "दिवाली की हार्दिक शुभकामनाएँ 🪔✨ घर की सजावट मम्मी ने की है!", "location_id": 221940}, note="Hindi caption"),
    dict(method="POST", target="/upload/photo", profile="form_multipart",
         multipart={"boundary": "----WebKitFormBoundaryLm2Ck8vD0e", "parts": [
             {"name": "caption", "data": "Before & after: 6 months of \"no-dig\" gardening. 1/2 the weeds, 2x the tomatoes :)"},
             {"name": "file", "filename": "garden-before-after.png", "content_type": "image/png", "data_b64": png()}]},
         note="caption with ampersand and quotes"),
    dict(method="POST", target="/api/v1/media/5521990/alt", profile="xhr",
         json={"alt_text": "Une tour Eiffel illuminée la nuit, vue depuis le Trocadéro ; il pleut légèrement."}, note="French alt text"),
]

story_stickers = [
    dict(method="POST", target="/api/v1/stories", profile="mobile_app", headers=app(IOS_APP),
         json={"media_id": "st_771201", "duration_ms": 5000, "stickers": [
             {"type": "poll", "question": "Pizza or tacos tonight? 🍕🌮", "options": ["Pizza", "Tacos"], "x": 0.5, "y": 0.3, "rotation": -4.5},
             {"type": "mention", "user": "jules.b", "x": 0.2, "y": 0.8}]}, note="story with poll sticker"),
    dict(method="POST", target="/api/v1/stories", profile="mobile_app", headers=app(ANDROID_OKHTTP, lang="tr-TR"),
         json={"media_id": "st_771260", "stickers": [
             {"type": "question", "prompt": "Bana bir şey sor! 💬"},
             {"type": "text", "text": "Cuma akşamı İstanbul'da ne yapılır?", "font": "classic", "color": "#FFCC00"}]}, note="Turkish question sticker"),
    dict(method="POST", target="/api/v1/stories", profile="mobile_app", headers=app(IOS_APP, lang="es-MX"),
         json={"media_id": "st_771301", "stickers": [
             {"type": "countdown", "title": "¡Mi cumple! 🎉", "end_ts": 1702512000},
             {"type": "location", "place_id": "ChIJ9w8x", "name": "Coyoacán, CDMX"},
             {"type": "gif", "giphy_id": "l0MYt5jPR6QX5pnqM"}]}, note="countdown, location and gif stickers"),
    dict(method="POST", target="/api/v1/stories/st_771301/replies", profile="mobile_app", headers=app(IOS_APP),
         json={"text": "omg happy early bday!!! 🥳🥳 what's the plan?", "reaction": "😍"}, note="story reply"),
    dict(method="POST", target="/api/v1/stories", profile="mobile_app", headers=app(ANDROID_OKHTTP, lang="th-TH"),
         json={"media_id": "st_771344", "stickers": [
             {"type": "quiz", "question": "เมืองหลวงของประเทศไทยชื่อเต็มยาวที่สุดในโลกใช่ไหม?", "options": ["ใช่", "ไม่ใช่"], "correct": 0},
             {"type": "hashtag", "tag": "#กรุงเทพ"}]}, note="Thai quiz sticker"),
    dict(method="POST", target="/api/v1/stories", profile="mobile_app", headers=app(IOS_APP, lang="de-DE"),
         json={"media_id": "st_771399", "stickers": [
             {"type": "slider", "question": "Wie sehr freut ihr euch auf Weihnachten? 🎄", "emoji": "😍"},
             {"type": "link", "url": "https://www.example.de/adventskalender?tag=7&ref=story", "label": "Adventskalender"}]}, note="German slider and link"),
]

shortvideo_comment = [
    dict(method="POST", target="/api/comment/publish", profile="mobile_app", headers=app("Clipz/32.4.3 (Linux; U; Android 13; en_US; SM-A546B; Build/TP1A.220624.014)"),
         form=[["aweme_id", "7310022219981"], ["text", "the cat at 0:14 😭😭 i can't"], ["reply_id", "0"]], note="form-encoded comment from app"),
    dict(method="POST", target="/api/comment/publish", profile="mobile_app", headers=app("Clipz/32.4.3 (iPhone; iOS 17.1; Scale/3.00)", lang="id-ID"),
         form=[["aweme_id", "7310022219981"], ["text", "wkwkwk kocak bgt 🤣 part 2 dong kak!!"]], note="Indonesian comment"),
    dict(method="POST", target="/api/comment/publish", profile="xhr",
         json={"video_id": "7310023300012", "text": "Rezept?? Nein Spaß 😄 aber wie heißt der Song bei 0:45?"}, note="German comment from web"),
    dict(target="/api/comment/list?aweme_id=7310022219981&cursor=20&count=20&sort=hot", profile="xhr", note="comment list paging"),
    dict(method="POST", target="/api/comment/publish", profile="xhr", headers=[["Accept-Language", "vi-VN,vi;q=0.9"]],
         json={"video_id": "7310023300999", "text": "Trời ơi dễ thương quá 🥺 bé mấy tháng rồi vậy chị?"}, note="Vietnamese comment"),
    dict(method="POST", target="/api/comment/publish", profile="xhr",
         json={"video_id": "7310023301444", "text": "POV: you're 30 and still say \"one more episode\" at 2am >_<"}, note="comment with quotes and emoticon"),
]

qa_site = [
    dict(method="POST", target="/questions/ask", profile="form",
         form=[["title", "Is it cheaper to buy a used bike if the price is < 300 and > 150, or should I save up?"],
               ["body", "I'm a student and I commute 8 km each way. Options I've seen:\n- used road bike, €220 (\"good condition\")\n- new hybrid, €480\nWhich would you pick & why?"],
               ["tags", "bicycles, budget, commuting"]], note="question with < and > in prose"),
    dict(method="POST", target="/api/answers", profile="xhr",
         json={"question_id": 771923, "body": "Short answer: yes. Longer answer -- it depends on where you live; in the UK you'd need a TV licence (£169.50/yr) if you watch live TV, otherwise no."},
         note="answer with currency and dashes"),
    dict(target=q("/search", {"q": "\"how long\" boil eggs -microwave", "sort": "votes"}), profile="firefox", note="search with quote and exclusion"),
    dict(method="POST", target="/api/answers", profile="xhr", tags=["code"],
         json={"question_id": 771990, "body": "For your spreadsheet export you can run this in the DB console:\n\nSELECT name, COUNT(*) FROM orders WHERE created_at > '2023-01-01' GROUP BY name ORDER BY 2 DESC;\n\nthen save as CSV."},
         note="answer quoting a SQL query on purpose"),
    dict(method="POST", target="/questions/ask", profile="form", headers=[["Accept-Language", "ru-RU,ru;q=0.9"]],
         form=[["title", "Почему кошка спит на клавиатуре?"], ["body", "Каждый раз, когда я сажусь работать — она тут как тут. Это из-за тепла? Или ей просто скучно?"], ["tags", "кошки, поведение"]],
         note="Russian question"),
    dict(method="POST", target="/api/comments", profile="xhr",
         json={"post_id": 881204, "text": "Not quite: 1/3 + 1/6 = 1/2, not 2/9. You add the fractions after finding a common denominator (6)."}, note="comment with fractions"),
]

encyclopedia_edit = [
    dict(method="POST", target="/w/index.php?title=%D8%A7%D9%84%D9%82%D8%A7%D9%87%D8%B1%D8%A9&action=submit", profile="form", headers=[["Accept-Language", "ar,en;q=0.8"]],
         form=[["wpTextbox1", "'''القاهرة''' هي عاصمة [[مصر]] وأكبر مدنها، ويبلغ عدد سكانها نحو 10 ملايين نسمة (تقديرات 2023).<ref>{{استشهاد ويب|url=https://www.example.eg/stats|عنوان=إحصاءات}}</ref>"],
               ["wpSummary", "تحديث عدد السكان"], ["wpEditToken", "a8c1f2e3d4b5+\\"], ["wpSave", "حفظ"]],
         note="Arabic wiki edit with wikitext"),
    dict(method="POST", target="/w/index.php?title=%E0%A4%A4%E0%A4%BE%E0%A4%9C_%E0%A4%AE%E0%A4%B9%E0%A4%B2&action=submit", profile="form", headers=[["Accept-Language", "hi,en;q=0.8"]],
         form=[["wpTextbox1", "'''ताज महल''' [[आगरा]], [[उत्तर प्रदेश]] में यमुना नदी के किनारे स्थित एक मकबरा है। इसका निर्माण 1632–1653 के बीच हुआ।\n\n== इतिहास ==\nशाहजहाँ ने इसे अपनी पत्नी मुमताज़ महल की याद में बनवाया।"],
               ["wpSummary", "इतिहास अनुभाग जोड़ा"], ["wpEditToken", "9f8e7d6c5b4a+\\"]],
         note="Hindi wiki edit"),
    dict(method="POST", target="/w/api.php", profile="xhr", headers=[["Accept-Language", "th-TH,th;q=0.9"]],
         form=[["action", "edit"], ["format", "json"], ["title", "เชียงใหม่"],
               ["text", "'''เชียงใหม่''' เป็นจังหวัดใหญ่ทางภาคเหนือของ[[ประเทศไทย]] มีประเพณี[[ยี่เป็ง]]ที่มีชื่อเสียง {{กล่องข้อมูล จังหวัด|ชื่อ=เชียงใหม่}}"],
               ["summary", "แก้คำผิด"], ["token", "3c2b1a0f9e8d+\\"]], note="Thai wiki API edit"),
    dict(method="POST", target="/w/index.php?title=Marie_Curie&action=submit", profile="form",
         form=[["wpTextbox1", "'''Marie Curie''' (born '''Maria Salomea Skłodowska'''; 7 November 1867 – 4 July 1934) was a Polish and naturalised-French physicist & chemist.<ref name=\"nobel\">{{cite web |title=Marie Curie – Facts |url=https://www.example.org/curie}}</ref>"],
               ["wpSummary", "/* Early life */ fix dates per [[WP:MOSDATE]]"], ["wpEditToken", "f0e1d2c3b4a5+\\"]], note="English wiki edit with refs and templates"),
    dict(target="/w/index.php?title=%E5%AF%8C%E5%A3%AB%E5%B1%B1&diff=prev&oldid=98812731", profile="safari", note="Japanese article diff view"),
    dict(method="POST", target="/w/api.php?action=parse&format=json", profile="xhr",
         form=[["text", "{{Infobox river|name=Mekong|length_km=4909}}\nThe '''Mekong''' ({{lang-km|ទន្លេមេគង្គ}}; {{lang-vi|Sông Mê Kông}}) flows through six countries."], ["contentmodel", "wikitext"], ["preview", "true"]],
         note="preview parse with Khmer and Vietnamese"),
]

language_exchange = [
    dict(method="POST", target="/api/exchange/messages", profile="mobile_app", headers=app("Tandemly/5.2.0 (Android 14; Pixel 8)", lang="es-ES"),
         json={"to": "u_44812", "text": "Hola! I'm learning Spanish. ¿Puedes corregir esto? \"Yo soy cansado\" -> should it be \"estoy\"?", "correction_mode": True}, note="correction request"),
    dict(method="POST", target="/api/exchange/corrections", profile="mobile_app", headers=app("Tandemly/5.2.0 (iPhone; iOS 17.2)", lang="ja-JP"),
         json={"message_id": "m_9921", "original": "私は昨日映画を見ますた", "corrected": "私は昨日映画を見ました", "comment": "「ますた」→「ました」だよ！惜しい😊"}, note="Japanese correction"),
    dict(method="POST", target="/api/exchange/messages", profile="xhr", headers=[["Accept-Language", "zh-CN,zh;q=0.9"]],
         json={"to": "u_51009", "text": "你好！我想练习英语口语，我们可以每周二晚上8点（北京时间）视频吗？ My English is not so good but I try 💪"}, note="Chinese/English mix"),
    dict(method="POST", target="/api/exchange/messages", profile="xhr",
         json={"to": "u_60112", "text": "In German, \"Ich bin heiß\" doesn't mean what you think 😅 Say \"Mir ist heiß\" instead!"}, note="German tip"),
    dict(method="PUT", target="/api/exchange/profile", profile="xhr",
         json={"native": ["ko"], "learning": [{"lang": "fr", "level": "A2"}], "bio": "안녕하세요! 파리 여행 가기 전에 프랑스어 배우고 싶어요. Je m'appelle Jiwoo ;)"}, note="profile bio"),
    dict(method="POST", target="/api/exchange/messages", profile="mobile_app", headers=app("Tandemly/5.2.0 (Android 14; Pixel 8)", lang="sw-KE"),
         json={"to": "u_70213", "text": "Habari yako? Ninajifunza Kiingereza. \"How are you\" = \"Habari gani\", sawa?"}, note="Swahili message"),
]

translation_request = [
    dict(method="POST", target="/api/translate", profile="xhr",
         json={"q": "Can you please turn the music down after 10 p.m.? Thanks! – your neighbour in 4B", "source": "en", "target": "it", "format": "text"}, note="text translation"),
    dict(target=q("/translate", {"sl": "auto", "tl": "en", "text": "Wo ist der nächste Bahnhof? Mein Zug fährt um 14:05 ab!"}), profile="chrome", note="GET translate with umlauts"),
    dict(method="POST", target="/api/translate", profile="mobile_app", headers=app("LinguaLens/3.0.7 (iPhone; iOS 17.1)"),
         json={"q": ["Без сахара, пожалуйста", "Счёт, пожалуйста"], "source": "ru", "target": "en"}, note="batch of Russian phrases"),
    dict(method="POST", target="/translate/document", profile="form_multipart",
         multipart={"boundary": "----WebKitFormBoundaryTr4nsD0c", "parts": [
             {"name": "source_lang", "data": "pl"}, {"name": "target_lang", "data": "en"},
             {"name": "file", "filename": "list_do_babci.txt", "content_type": "text/plain",
              "data": "Kochana Babciu,\ndziękuję za sweter! Jest cieplutki i pasuje idealnie. Do zobaczenia w Święta :)\nTwoja Zosia"}]},
         note="document translation upload"),
    dict(method="POST", target="/api/translate/suggest", profile="xhr",
         json={"source": "fr", "target": "en", "original": "Il pleut des cordes", "suggestion": "It's raining cats and dogs", "reason": "idiom, not literal \"ropes\""}, note="suggested translation"),
    dict(method="POST", target="/api/translate", profile="xhr",
         json={"q": "ขอบคุณมากครับ ลดราคาได้ไหม?", "source": "th", "target": "en"}, note="Thai phrase"),
]

petition = [
    dict(method="POST", target="/petitions/save-the-old-oak-park/sign", profile="form",
         form=[["first_name", "Siobhán"], ["last_name", "O'Connor"], ["email", "siobhan.oc@example.ie"], ["postcode", "D08 X2Y4"],
               ["comment", "I've walked my dog there every morning for 12 years. Don't pave it over!"], ["public", "on"]], note="petition signature"),
    dict(method="POST", target="/petitions/create", profile="form",
         form=[["title", "Add a safe crossing at Rua Augusta & Av. Liberdade"],
               ["body", "Children cross here every day to get to school. Cars go > 60 km/h even though the limit is 30. We ask the city to:\n1) paint a zebra crossing;\n2) install a speed camera;\n3) add a crossing guard 8:00–9:00."],
               ["target", "Câmara Municipal de Lisboa"], ["category", "transport"]], note="petition creation with list"),
    dict(method="POST", target="/api/petitions/9812/comments", profile="xhr",
         json={"text": "Signed! Also shared with our parents' WhatsApp group (200+ people) 💪"}, note="comment"),
    dict(target="/petitions?sort=trending&country=IN&q=%E0%A4%AA%E0%A4%BE%E0%A4%A8%E0%A5%80", profile="chrome_mobile", note="search petitions in Hindi"),
    dict(method="POST", target="/petitions/stop-night-flights/sign", profile="form",
         form=[["first_name", "Jürgen"], ["last_name", "Müller-Lüdenscheidt"], ["email", "jm@example.de"], ["city", "Frankfurt am Main"],
               ["comment", "Seit 2019 schlafe ich kaum – Flüge um 23:55 & 05:10 sind unzumutbar."]], note="German signature"),
    dict(method="POST", target="/api/petitions/9812/share", profile="xhr", json={"channel": "email", "to": ["a@example.com", "b@example.com"], "message": "Please sign — it takes 30 seconds!"}, note="share by email"),
]

civic_complaint = [
    dict(method="POST", target="/311/requests/new", profile="form",
         form=[["type", "pothole"], ["address", "1432 W. Addison St., Chicago, IL 60613"],
               ["description", "Huge pothole (approx. 2' x 3', 6\" deep) in the right lane just past the bus stop. Two cars blew tires this week!"],
               ["contact_email", "ray.k@example.com"], ["anonymous", "0"]], note="pothole report with feet/inches"),
    dict(method="POST", target="/311/requests/new", profile="form_multipart",
         multipart={"boundary": "----WebKitFormBoundaryNo1se311", "parts": [
             {"name": "type", "data": "noise"}, {"name": "address", "data": "Calle de Atocha 58, 3º izq., 28012 Madrid"},
             {"name": "description", "data": "Obras en el piso de arriba desde las 7:00 hasta las 22:30, incluso sábados. ¿Es legal? Llevamos 3 semanas así."},
             {"name": "photo", "filename": "ruido.jpg", "content_type": "image/jpeg", "data_b64": jpeg(260)}]},
         note="Spanish noise complaint with photo"),
    dict(method="POST", target="/api/reports", profile="mobile_app", headers=app("FixMyCity/2.9 (Android 13)", lang="fr-FR"),
         json={"category": "streetlight", "lat": 48.8566, "lng": 2.3522, "text": "Lampadaire éteint depuis le 3/12 devant le n° 14 — c'est très sombre le soir, on ne voit rien !"}, note="French streetlight report"),
    dict(method="POST", target="/311/requests/new", profile="form", headers=[["Accept-Language", "zh-TW,zh;q=0.9"]],
         form=[["type", "garbage"], ["address", "台北市大安區忠孝東路四段 100 號"], ["description", "垃圾車已經三天沒來了，巷口堆滿垃圾，還有老鼠。"]], note="Chinese garbage complaint"),
    dict(target="/311/requests/status?ticket=SR-2026-0041982&email=ray.k%40example.com", profile="safari", note="status lookup"),
    dict(method="POST", target="/api/reports/881/comments", profile="xhr",
         json={"text": "Still not fixed as of Monday. Someone put a traffic cone in it -- that's our \"repair\" lol"}, note="follow-up comment"),
]

jobseeker_profile = [
    dict(method="PUT", target="/api/me/profile", profile="xhr",
         json={"headline": "Nurse (RN) | ICU & ER | Open to relocate", "summary": "8+ years' experience in critical care. Certified in ACLS/PALS. Fluent in English, Tagalog & some Spanish.",
               "location": "Manila, PH", "open_to": ["full-time", "contract"]}, note="profile summary"),
    dict(method="POST", target="/me/resume", profile="form_multipart",
         multipart={"boundary": "----WebKitFormBoundaryCVup1oad", "parts": [
             {"name": "title", "data": "CV – Zoë Dubois-Laurent (2026)"},
             {"name": "file", "filename": "CV_Zoe_Dubois-Laurent.pdf", "content_type": "application/pdf",
              "data": "%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"}]},
         note="CV PDF upload"),
    dict(method="POST", target="/api/me/experience", profile="xhr",
         json={"company": "Müller & Söhne GmbH", "title": "Lagerist / Warehouse clerk", "from": "2019-03", "to": None,
               "description": "Wareneingang, Kommissionierung (SAP), Staplerschein vorhanden. Team of 5; reduced picking errors by ~30%."}, note="experience entry"),
    dict(target=q("/jobs", {"q": "barista OR \"coffee shop\" -manager", "where": "Montréal, QC", "radius": "10"}), profile="chrome", note="job search query"),
    dict(method="PUT", target="/api/me/skills", profile="xhr",
         json={"skills": ["Customer service", "Point of sale", "C++ (basic)", "Forklift", "Microsoft Excel", "日本語 (N3)"]}, note="skills list"),
    dict(method="POST", target="/api/me/cover-letters", profile="xhr",
         json={"name": "Generic", "text": "Dear Hiring Manager,\n\nI'm writing to apply for the Sales Associate role. Although I haven't worked in retail before, I've volunteered at our church's thrift store every Saturday since 2021...\n\nKind regards,\nKwame Mensah"}, note="cover letter"),
]

freelancer_portfolio = [
    dict(method="POST", target="/api/portfolio/items", profile="xhr",
         json={"title": "Logo for \"Café Olé\" bakery", "description": "Hand-lettered logo + menu design. Client brief: \"warm, friendly, not too hipster\". Delivered in 5 days.", "tags": ["logo", "branding", "lettering"], "price_range": "$200-$500"},
         note="portfolio item"),
    dict(method="POST", target="/portfolio/upload", profile="form_multipart",
         multipart={"boundary": "----WebKitFormBoundaryPf0l1o77", "parts": [
             {"name": "title", "data": "Wedding photos – Ana & João, Porto"},
             {"name": "file", "filename": "ana-joao-017.jpg", "content_type": "image/jpeg", "data_b64": jpeg(500)}]},
         note="portfolio photo upload"),
    dict(method="POST", target="/api/portfolio/items", profile="xhr", tags=["code"],
         json={"title": "Landing page for a yoga studio", "description": "Built with plain HTML/CSS. Snippet of the hero:\n<section class=\"hero\"><h1>Breathe.</h1><button onclick=\"openBooking()\">Book a class</button></section>", "tags": ["web", "html"]},
         note="web freelancer quoting HTML/JS on purpose"),
    dict(method="PUT", target="/api/freelancer/rates", profile="xhr",
         json={"hourly": 35, "currency": "EUR", "note": "Traducción ES<>EN, 0,08 €/palabra; urgentes (< 24 h) +50 %"}, note="rates with <>"),
    dict(method="POST", target="/api/proposals", profile="xhr",
         json={"job_id": "j_55120", "cover": "Hi! I've voiced 100+ audiobooks in British & Australian accents. Sample: https://voice.example.com/s/abc123 — happy to do a free 1-min test.", "bid": 450}, note="proposal"),
    dict(method="POST", target="/api/portfolio/items", profile="mobile_app", headers=app("Gigly/4.1 (iPhone; iOS 17.2)", lang="uk-UA"),
         json={"title": "Ілюстрації для дитячої книжки", "description": "12 акварельних ілюстрацій, формат А4. Замовник: видавництво «Сонечко»."}, note="Ukrainian portfolio item"),
]

essay_submission = [
    dict(method="POST", target="/courses/ENG101/assignments/7/submit", profile="form_multipart",
         multipart={"boundary": "----WebKitFormBoundaryEss4y0101", "parts": [
             {"name": "comment", "data": "Sorry it's 10 min late, my Wi-Fi died :("},
             {"name": "file", "filename": "Essay_Final_v3 (1).docx", "content_type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              "data_b64": base64.b64encode(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(R.randrange(256) for _ in range(200))).decode()}]},
         note="essay docx upload"),
    dict(method="POST", target="/api/submissions", profile="xhr",
         json={"assignment": 8812, "text": "In \"To Kill a Mockingbird,\" Atticus tells Scout that you never really understand a person \"until you climb into his skin and walk around in it.\" This essay argues that empathy -- not law -- is the novel's true subject...", "word_count": 1487}, note="essay text with quotations"),
    dict(method="POST", target="/api/submissions", profile="xhr", headers=[["Accept-Language", "es-AR,es;q=0.9"]],
         json={"assignment": 8840, "text": "«Cien años de soledad» narra la historia de los Buendía en Macondo. ¿Es la repetición de nombres un símbolo del destino? Sostengo que sí; veamos por qué.", "word_count": 1220}, note="Spanish essay"),
    dict(method="POST", target="/api/submissions", profile="xhr", tags=["code"],
         json={"assignment": 9001, "text": "Essay: Why shells are dangerous. A single command like rm -rf / --no-preserve-root can wipe a system, and piping curl into sh (curl https://x | sh) trusts a stranger's script blindly.", "word_count": 980}, note="CS essay quoting shell commands on purpose"),
    dict(method="POST", target="/api/submissions/drafts", profile="xhr",
         json={"assignment": 9012, "text": "The ratio of A to B is 3:2, so if A > B and B = 40, then A = 60. Therefore...", "autosave": True}, note="draft autosave"),
    dict(method="POST", target="/api/peer-review", profile="xhr",
         json={"submission": 55091, "score": 4, "feedback": "Strong thesis! But para. 3 needs a citation (who said \"the medium is the message\"? McLuhan, 1964)."}, note="peer review"),
]

exam_answers = [
    dict(method="POST", target="/api/exams/5521/answers", profile="xhr",
         json={"question": 3, "type": "multiple_choice", "answer": ["B", "D"], "time_spent_s": 48}, note="multiple choice"),
    dict(method="POST", target="/api/exams/5521/answers", profile="xhr",
         json={"question": 7, "type": "short_text", "answer": "Photosynthesis: 6CO2 + 6H2O -> C6H12O6 + 6O2 (needs light & chlorophyll)"}, note="chemistry formula"),
    dict(method="POST", target="/api/exams/5530/answers", profile="xhr", headers=[["Accept-Language", "fr-FR,fr;q=0.9"]],
         json={"question": 2, "type": "essay", "answer": "La Révolution française (1789) a mis fin à l'Ancien Régime ; cependant, elle a aussi mené à la Terreur (1793-1794)."}, note="French history answer"),
    dict(method="POST", target="/api/exams/5542/answers", profile="xhr", tags=["code"],
         json={"question": 5, "type": "code", "answer": "SELECT student_id, AVG(grade) FROM grades GROUP BY student_id HAVING AVG(grade) >= 15 UNION SELECT 0, 0;"}, note="databases exam answer with SQL on purpose"),
    dict(method="POST", target="/api/exams/5550/answers", profile="xhr",
         json={"question": 11, "type": "numeric", "answer": "-3.75", "work": "x = (-b ± √(b²-4ac)) / 2a => x = -3.75 or x = 1"}, note="numeric with working"),
    dict(method="POST", target="/exams/5550/finish", profile="form", form=[["confirm", "yes"], ["feedback", "Q9 was ambiguous: \"which is NOT false\" -- double negative?"]], note="exam submit"),
]

kids_learning = [
    dict(method="POST", target="/api/game/progress", profile="mobile_app", headers=app("LittleLearners/6.3 (iPad; iPadOS 17.2)"),
         json={"child_id": "c_2219", "game": "letters", "level": 4, "stars": 3, "answers": ["A", "B", "C"], "duration_s": 92}, note="game progress"),
    dict(method="POST", target="/api/game/spelling", profile="mobile_app", headers=app("LittleLearners/6.3 (Android 12; SM-T220)"),
         json={"child_id": "c_2219", "word": "elephant", "typed": "elefant", "correct": False}, note="spelling attempt"),
    dict(method="POST", target="/api/drawings", profile="form_multipart",
         multipart={"boundary": "----WebKitFormBoundaryK1dsDraw", "parts": [
             {"name": "title", "data": "My dog Max!!! 🐶"}, {"name": "file", "filename": "drawing.png", "content_type": "image/png", "data_b64": png(200)}]},
         note="child drawing upload"),
    dict(target="/games/math-race?grade=2&op=%2B&max=20", profile="safari", note="math game with + in query"),
    dict(method="POST", target="/api/game/progress", profile="xhr", headers=[["Accept-Language", "ar-SA,ar;q=0.9"]],
         json={"child_id": "c_3301", "game": "huruf", "level": 2, "last_word": "قطة", "stars": 2}, note="Arabic letters game"),
    dict(method="POST", target="/api/parents/messages", profile="xhr",
         json={"child_id": "c_2219", "text": "She loves the counting game but gets stuck at 'more than / less than' (> <). Any tips?"}, note="parent note"),
    dict(method="POST", target="/api/coding-club/projects", profile="xhr", tags=["code"],
         json={"child_id": "c_4410", "title": "Frog jump game", "script": "let score = 0;\nfunction jump() { score += 1; if (score > 10) { alert(\"You win!\"); } }"},
         note="kids' coding game saving a JS script on purpose"),
]

n = 0
for cat, es in [("social_post", social_post), ("photo_caption", photo_caption), ("story_stickers", story_stickers),
                ("shortvideo_comment", shortvideo_comment), ("qa_site", qa_site), ("encyclopedia_edit", encyclopedia_edit),
                ("language_exchange", language_exchange), ("translation_request", translation_request), ("petition", petition),
                ("civic_complaint", civic_complaint), ("jobseeker_profile", jobseeker_profile),
                ("freelancer_portfolio", freelancer_portfolio), ("essay_submission", essay_submission),
                ("exam_answers", exam_answers), ("kids_learning", kids_learning)]:
    n += write("benign", cat, es)
print("benign part A:", n)
