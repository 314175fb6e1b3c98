#!/usr/bin/python3
"""Writes benign/*.jsonl, part B (19 kinds).  Same theme and rules as part A."""
import base64
import random
from common import q, write

R = random.Random(2019)


def jpeg(n=380):
    b = (b"\xff\xd8\xff\xe1\x00\x18Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00\x00\x00"
         + bytes(R.randrange(256) for _ in range(n)) + b"\xff\xd9")
    return base64.b64encode(b).decode()


def app(ua, lang="en-US", token="Bearer 7f3a9c2e1b0d4f6a8e5c3b1a9d7f5e3c"):
    return [["User-Agent", ua], ["Authorization", token], ["Accept-Language", lang]]


parenting_qa = [
    dict(method="POST", target="/api/questions", profile="xhr",
         json={"title": "Toddler (2y 3m) refuses everything except pasta -- normal?", "body": "She'll eat plain penne & cheese but screams at anything green. Pediatrician says weight's fine (12.4 kg). Should I worry? Tips welcome!", "age_group": "toddler"}, note="picky eater question"),
    dict(method="POST", target="/api/questions", profile="mobile_app", headers=app("MamaCircle/3.8 (Android 13; SM-G991B)", lang="pl-PL"),
         json={"title": "Ząbkowanie w nocy – co pomaga?", "body": "Synek (8 mies.) budzi się co godzinę. Próbowałam gryzaka z lodówki, żel – nic. Macie sprawdzone sposoby?", "anonymous": True}, note="Polish teething question"),
    dict(method="POST", target="/api/answers", profile="xhr",
         json={"question_id": 44120, "body": "We did the \"2 bites rule\": taste twice, then you can say no. Took ~3 weeks but it worked for us :) Also, kids copy you -- eat the broccoli in front of them!"}, note="answer"),
    dict(target=q("/search", {"q": "sleep regression 4 months", "age": "0-12m"}), profile="chrome_mobile", note="search"),
    dict(method="POST", target="/api/answers", profile="xhr", headers=[["Accept-Language", "he-IL,he;q=0.9"]],
         json={"question_id": 44188, "body": "גם אצלנו זה קרה בגיל שנתיים וחצי. סבלנות! זה עובר תוך כמה שבועות 💙"}, note="Hebrew answer"),
    dict(method="POST", target="/api/questions/44120/vote", profile="xhr", json={"value": 1}, note="vote"),
]

telemedicine_intake = [
    dict(method="POST", target="/intake/submit", profile="form",
         form=[["full_name", "Mary-Kate O'Neill"], ["dob", "1988-04-17"], ["reason", "Rash on both forearms for ~5 days; itchy, worse at night."],
               ["allergies", "Penicillin (hives); latex; shellfish -- anaphylaxis (carries EpiPen)"], ["medications", "Cetirizine 10 mg 1x/day; oral contraceptive"],
               ["pharmacy", "Walgreens #4412, 220 E. Main St."]], note="intake with allergies punctuation"),
    dict(method="POST", target="/api/intake", profile="xhr", headers=[["Accept-Language", "es-US,es;q=0.9"]],
         json={"symptoms": ["fiebre", "dolor de garganta", "tos seca"], "onset_days": 3, "temperature_c": 38.6, "notes": "Mi hijo de 6 años; no ha comido bien. ¿Necesita antibiótico?"}, note="Spanish symptom intake"),
    dict(method="POST", target="/api/symptom-check", profile="mobile_app", headers=app("HealthNow/7.1 (iPhone; iOS 17.2)"),
         json={"age": 54, "sex": "male", "answers": {"chest_pain": "no", "shortness_of_breath": "mild, on stairs", "bp": "148/92"}, "free_text": "Tired for 2 weeks, ankles a bit swollen (left > right)."}, note="symptom checker"),
    dict(method="POST", target="/intake/upload", profile="form_multipart",
         multipart={"boundary": "----WebKitFormBoundaryMed1ntk", "parts": [
             {"name": "description", "data": "Photo of the mole on my back (left shoulder blade), taken 7/12."},
             {"name": "file", "filename": "IMG_20261207_091544.jpg", "content_type": "image/jpeg", "data_b64": jpeg()}]},
         note="photo for dermatology"),
    dict(method="POST", target="/api/intake", profile="xhr", headers=[["Accept-Language", "ur-PK,ur;q=0.9"]],
         json={"symptoms_text": "سر میں شدید درد اور چکر آنا، دو دن سے", "allergies": "کوئی نہیں", "pregnant": False}, note="Urdu intake"),
    dict(method="PUT", target="/api/appointments/77120", profile="xhr",
         json={"slot": "2026-12-09T15:30:00+01:00", "note": "Need an interpreter (Tigrinya/ትግርኛ) if possible"}, note="appointment with Ge'ez script"),
]

gym_log = [
    dict(method="POST", target="/api/workouts", profile="mobile_app", headers=app("LiftLog/2.14 (iPhone; iOS 17.2)"),
         json={"date": "2026-12-07", "name": "Push day 💪", "exercises": [
             {"name": "Bench press", "sets": [{"reps": 8, "kg": 80}, {"reps": 8, "kg": 80}, {"reps": 6, "kg": 85}]},
             {"name": "Overhead press", "sets": [{"reps": 10, "kg": 40}]}], "notes": "Left shoulder felt tight on set 3 -- deload next week?"}, note="workout log"),
    dict(method="POST", target="/api/workouts", profile="mobile_app", headers=app("LiftLog/2.14 (Android 14; Pixel 7a)", lang="pt-BR"),
         json={"date": "2026-12-06", "name": "Perna (treino B)", "exercises": [{"name": "Agachamento livre", "sets": [{"reps": 5, "kg": 100}]}], "notes": "Recorde pessoal!! 🎉"}, note="Portuguese workout"),
    dict(target="/api/workouts?from=2026-11-01&to=2026-11-30&exercise=Deadlift&units=lb", profile="xhr", note="history filter"),
    dict(method="PATCH", target="/api/workouts/99102", profile="xhr",
         json={"notes": "RPE 9 @ 140kg x 3; grip gave out (use straps?)"}, note="edit notes"),
    dict(method="POST", target="/api/body-metrics", profile="xhr", json={"weight_kg": 78.4, "bodyfat_pct": 18.5, "waist_cm": 84, "note": "after holidays 🙈"}, note="body metrics"),
    dict(method="POST", target="/api/routines", profile="xhr", headers=[["Accept-Language", "zh-CN,zh;q=0.9"]],
         json={"name": "三分化训练", "days": ["胸+三头", "背+二头", "腿+肩"], "rest_s": 90}, note="Chinese routine"),
]

running_gpx = [
    dict(method="POST", target="/upload/activity", profile="form_multipart",
         multipart={"boundary": "----WebKitFormBoundaryGpx0R1n", "parts": [
             {"name": "name", "data": "Sunday long run – river loop"}, {"name": "sport", "data": "run"},
             {"name": "file", "filename": "Morning_Run.gpx", "content_type": "application/gpx+xml",
              "data": "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gpx version=\"1.1\" creator=\"Garmin Connect\" xmlns=\"http://www.topografix.com/GPX/1/1\">\n <metadata><time>2026-12-06T07:02:11Z</time></metadata>\n <trk><name>Morning Run</name><type>running</type><trkseg>\n  <trkpt lat=\"51.5007\" lon=\"-0.1246\"><ele>11.2</ele><time>2026-12-06T07:02:11Z</time></trkpt>\n  <trkpt lat=\"51.5009\" lon=\"-0.1241\"><ele>11.4</ele><time>2026-12-06T07:02:15Z</time></trkpt>\n </trkseg></trk>\n</gpx>\n"}]},
         note="GPX upload"),
    dict(method="POST", target="/api/activities", profile="mobile_app", headers=app("RunLog/2311 CFNetwork/1490.0.4 Darwin/23.2.0"),
         json={"type": "run", "distance_m": 10012, "moving_time_s": 2915, "title": "10K PB!!! 🥳", "description": "Negative split: 24:40 / 23:55. Legs = jelly.", "polyline": "_p~iF~ps|U_ulLnnqC_mqNvxq`@"}, note="activity with encoded polyline"),
    dict(method="POST", target="/api/activities/88123/comments", profile="xhr", json={"text": "Beast mode 🔥 what shoes are you using?"}, note="kudos comment"),
    dict(target="/api/segments/explore?bounds=35.65,139.68,35.70,139.75&activity_type=running", profile="xhr", note="segments search"),
    dict(method="PUT", target="/api/activities/88140", profile="xhr", headers=[["Accept-Language", "fi-FI,fi;q=0.9"]],
         json={"title": "Pakkaslenkki −15 °C ❄️", "description": "Jäätä joka paikassa, nastakengät pelasti päivän."}, note="Finnish title with minus sign"),
    dict(method="POST", target="/api/routes", profile="xhr",
         json={"name": "Cycling: Col du Galibier from Valloire", "sport": "ride", "waypoints": [[45.165, 6.43], [45.064, 6.408]], "notes": "Steep last 2 km (avg 9%+). Bring a windbreaker!"}, note="cycling route"),
]

hiking_report = [
    dict(method="POST", target="/trails/mt-si/reports", profile="form",
         form=[["date", "2026-12-05"], ["conditions", "snow"],
               ["report", "Microspikes needed above 3,000'. Trail's packed down but icy near the top; ~2 hrs up, 1.5 down. Parking lot full by 9am!"], ["rating", "4"]], note="trail report"),
    dict(method="POST", target="/api/trip-reports", profile="mobile_app", headers=app("TrailMate/4.4 (Android 14; Pixel 8 Pro)", lang="de-CH"),
         json={"trail_id": 55120, "text": "Wunderschöne Tour, aber Achtung: Brücke bei km 7 ist gesperrt (Umleitung +40 min). Grüezi an alle!", "difficulty": "T3"}, note="Swiss German report"),
    dict(method="POST", target="/trails/upload-photo", profile="form_multipart",
         multipart={"boundary": "----WebKitFormBoundaryH1keP1c", "parts": [
             {"name": "trail_id", "data": "55120"}, {"name": "caption", "data": "View from the ridge 😍"},
             {"name": "file", "filename": "ridge.jpg", "content_type": "image/jpeg", "data_b64": jpeg(300)}]}, note="trail photo"),
    dict(target=q("/trails", {"near": "Queenstown, NZ", "length_max": "15", "difficulty": "moderate", "dog_friendly": "1"}), profile="chrome", note="trail search"),
    dict(method="POST", target="/api/trip-reports", profile="xhr", headers=[["Accept-Language", "ja-JP,ja;q=0.9"]],
         json={"trail_id": 60011, "text": "紅葉がピークでした🍁 山頂付近は風が強いので防寒具必須。登山口のトイレは冬季閉鎖中。"}, note="Japanese report"),
    dict(method="POST", target="/api/trails/55120/hazards", profile="xhr", json={"type": "fallen_tree", "lat": 47.48, "lng": -121.72, "note": "Big tree across trail @ mile 2.3 -- passable w/ scrambling"}, note="hazard"),
]

camping_booking = [
    dict(method="POST", target="/reservations/new", profile="form",
         form=[["park", "Yosemite – Upper Pines"], ["site", "A-042"], ["arrive", "2027-07-14"], ["nights", "3"], ["party_size", "5"],
               ["vehicles", "1"], ["equipment", "Tent (2) + small trailer < 20 ft"], ["name", "Nguyễn Thị Lan"]], note="campsite reservation"),
    dict(target="/api/availability?park=232447&start=2027-07-01&end=2027-07-31&type=tent&accessible=false", profile="xhr", note="availability search"),
    dict(method="POST", target="/api/reservations/88120/notes", profile="xhr",
         json={"note": "We're arriving late (~10:30 pm) -- is self check-in OK? Also bringing our dog (leashed)."}, note="late arrival note"),
    dict(method="POST", target="/reservations/new", profile="form", headers=[["Accept-Language", "sv-SE,sv;q=0.9"]],
         form=[["park", "Abisko fjällstation"], ["site", "Tältplats 7"], ["arrive", "2027-06-21"], ["nights", "2"], ["name", "Åsa Lindqvist"], ["comment", "Midsommar! 🌞"]], note="Swedish booking"),
    dict(method="DELETE", target="/api/reservations/88120?reason=weather", profile="xhr", note="cancel"),
    dict(method="POST", target="/api/permits/fishing", profile="xhr",
         json={"holder": "Seán Ó Briain", "type": "3-day non-resident", "waters": "Lough Corrib", "start": "2027-05-02"}, note="fishing licence purchase"),
]

weather_alerts = [
    dict(method="POST", target="/alerts/subscribe", profile="form",
         form=[["email", "storm.watcher+alerts@example.com"], ["location", "Ōtaki, Kāpiti Coast"], ["types", "wind"], ["types", "flood"], ["threshold_wind_kmh", "> 80"]], note="subscribe with +email and macrons"),
    dict(method="POST", target="/api/alerts", profile="mobile_app", headers=app("SkyCast/9.2 (iPhone; iOS 17.2)", lang="bn-BD"),
         json={"lat": 22.3569, "lng": 91.7832, "label": "চট্টগ্রাম (বাড়ি)", "types": ["cyclone", "heavy_rain"], "quiet_hours": "23:00-06:00"}, note="Bengali label"),
    dict(target="/api/forecast?lat=-33.87&lon=151.21&units=metric&lang=en&exclude=minutely", profile="xhr", note="forecast fetch"),
    dict(method="DELETE", target="/api/alerts/sub_77120", profile="xhr", note="unsubscribe"),
    dict(target="/alerts/unsubscribe?token=eyJ1IjoiNzcxMjAiLCJ0IjoxNzAxODc0NDAwfQ%3D%3D&reason=too+many+emails", profile="safari", note="unsubscribe link"),
    dict(method="POST", target="/api/reports/weather", profile="xhr",
         json={"text": "Hail the size of golf balls (~4 cm) in Boulder, CO at 4:15pm!!", "lat": 40.015, "lng": -105.27}, note="weather spotter report"),
]

astronomy_club = [
    dict(method="POST", target="/club/observations", profile="form",
         form=[["object", "M31 (Andromeda Galaxy)"], ["date", "2026-12-04"], ["seeing", "3/5"], ["scope", "8\" Dobsonian, 25mm eyepiece (48x)"],
               ["notes", "Dust lane visible w/ averted vision; M32 & M110 both seen. Bortle 4."]], note="observation log with inch marks"),
    dict(method="POST", target="/club/events/rsvp", profile="form", form=[["event", "Geminids star party"], ["name", "Priya Raghunathan"], ["guests", "2"], ["bringing", "Thermos of chai ☕ + red torch"]], note="star party RSVP"),
    dict(method="POST", target="/club/gallery/upload", profile="form_multipart",
         multipart={"boundary": "----WebKitFormBoundaryAstr0Img", "parts": [
             {"name": "title", "data": "Orion Nebula – 60 x 120s subs, stacked"}, {"name": "equipment", "data": "Redcat 51, ASI533MC, EQ6-R"},
             {"name": "file", "filename": "M42_stack.jpg", "content_type": "image/jpeg", "data_b64": jpeg(450)}]}, note="astrophoto upload"),
    dict(target="/api/ephemeris?body=jupiter&lat=-23.55&lon=-46.63&date=2026-12-10", profile="xhr", note="ephemeris"),
    dict(method="POST", target="/api/club/questions", profile="xhr", headers=[["Accept-Language", "es-CL,es;q=0.9"]],
         json={"title": "¿Se verá el eclipse desde Santiago?", "body": "Leí que la magnitud será ~0,7. ¿A qué hora es el máximo (hora local)?"}, note="Spanish eclipse question"),
    dict(method="POST", target="/club/membership", profile="form", form=[["name", "Dr. Ahmed El-Sayed"], ["email", "a.elsayed@example.eg"], ["tier", "family"], ["how_heard", "Saw your telescope at the farmer's market"]], note="membership"),
]

plant_id = [
    dict(method="POST", target="/api/identify", profile="api_multipart", headers=[["User-Agent", "LeafSnap/5.0 (Android 13; moto g54)"], ["Authorization", "Bearer 9a8b7c6d5e4f3a2b"]],
         multipart={"boundary": "dd1c3b9e-88f1-4c2a-9e77-3b0a5f1c2d4e", "parts": [
             {"name": "organs", "data": "leaf"}, {"name": "notes", "data": "Yellow spots on lower leaves, soil stays wet 3+ days"},
             {"name": "images", "filename": "leaf.jpg", "content_type": "image/jpeg", "data_b64": jpeg()}]}, note="plant ID from app"),
    dict(method="POST", target="/api/plants/4411/notes", profile="xhr", json={"text": "Repotted into 6\" terracotta w/ 1:1 perlite. Watering every ~10 days now."}, note="care note"),
    dict(method="POST", target="/api/identify/feedback", profile="xhr", headers=[["Accept-Language", "it-IT,it;q=0.9"]],
         json={"result_id": "r_5510", "correct": False, "actual": "Monstera deliciosa (non è un filodendro!)"}, note="feedback"),
    dict(target=q("/plants/search", {"q": "pothos \"not toxic\" cats", "light": "low"}), profile="chrome", note="search with quotes"),
    dict(method="POST", target="/api/identify", profile="form_multipart",
         multipart={"boundary": "----WebKitFormBoundaryPl4nt1D", "parts": [
             {"name": "notes", "data": "庭に生えてきた雑草？花は紫色、高さ30cmくらい"},
             {"name": "images", "filename": "雑草.jpg", "content_type": "image/jpeg", "data_b64": jpeg(250)}]}, note="Japanese note with non-ASCII filename"),
    dict(method="POST", target="/api/reminders", profile="xhr", json={"plant_id": 4411, "task": "fertilise", "every_days": 14, "note": "½ strength only!"}, note="reminder"),
]

pet_contest = [
    dict(method="POST", target="/contest/cutest-pet-2026/enter", profile="form_multipart",
         multipart={"boundary": "----WebKitFormBoundaryPetC0nt", "parts": [
             {"name": "pet_name", "data": "Sir Fluffington III"}, {"name": "species", "data": "cat"},
             {"name": "story", "data": "Rescued from a storm drain in '21, now he rules the house (& the dog)."},
             {"name": "photo", "filename": "fluff.jpg", "content_type": "image/jpeg", "data_b64": jpeg(400)}]}, note="contest entry"),
    dict(method="POST", target="/api/contest/entries/7712/vote", profile="xhr", headers=[["Cookie", "voter=v_88120; cf_clearance=xYz.123-abc"]], json={"stars": 5}, note="vote"),
    dict(method="POST", target="/api/contest/entries/7712/comments", profile="xhr", json={"text": "Those eyes 😍😍 voted x5!!"}, note="comment"),
    dict(target="/contest/cutest-pet-2026?sort=votes&species=dog&page=3", profile="chrome_mobile", note="gallery paging"),
    dict(method="POST", target="/contest/cutest-pet-2026/enter", profile="form_multipart", headers=[["Accept-Language", "el-GR,el;q=0.9"]],
         multipart={"boundary": "----WebKitFormBoundaryPetGr33k", "parts": [
             {"name": "pet_name", "data": "Φρίξος"}, {"name": "species", "data": "dog"}, {"name": "story", "data": "Ο Φρίξος λατρεύει τη θάλασσα και τα σουβλάκια!"},
             {"name": "photo", "filename": "frixos.jpg", "content_type": "image/jpeg", "data_b64": jpeg(280)}]}, note="Greek entry"),
    dict(method="POST", target="/api/contest/report", profile="xhr", json={"entry": 7790, "reason": "Not their pet -- stock photo (reverse image search)"}, note="report entry"),
]

moving_quote = [
    dict(method="POST", target="/quote/request", profile="form",
         form=[["from_address", "12 Rue de l'Église, 75015 Paris"], ["to_address", "Kurfürstendamm 21, 10719 Berlin"], ["date", "2027-03-15"],
               ["size", "2-bedroom"], ["items", "Piano (upright), 2 sofas, ~40 boxes; fragile: grandma's china"], ["floor_from", "4 (no lift!)"]], note="international moving quote"),
    dict(method="POST", target="/api/quotes/inventory", profile="xhr",
         json={"rooms": {"living": ["sofa 3-seater", "TV 65\"", "bookcase 6' tall"], "kitchen": ["fridge", "washer"]}, "notes": "Fridge is 70\" H x 36\" W -- will it fit in a 26' truck w/ everything else?"}, note="inventory with inch/foot marks"),
    dict(method="POST", target="/quote/request", profile="form", headers=[["Accept-Language", "ko-KR,ko;q=0.9"]],
         form=[["from_address", "서울특별시 마포구 월드컵북로 396"], ["to_address", "부산광역시 해운대구 우동 1411"], ["date", "2027-02-28"], ["items", "원룸 이사, 냉장고 1, 세탁기 1, 박스 15개"]], note="Korean addresses"),
    dict(target="/api/quotes/estimate?distance_km=612&volume_m3=28&stairs=true&packing=partial", profile="xhr", note="estimate"),
    dict(method="POST", target="/api/quotes/5521/messages", profile="xhr", json={"text": "Can you do Saturday instead? Also: is insurance included or extra (how much per $1,000)?"}, note="message to mover"),
    dict(method="POST", target="/quote/request", profile="form",
         form=[["from_address", "Flat 3/2, 45 Byres Rd, Glasgow G11 5RG"], ["to_address", "PO Box 118, Kununurra WA 6743, Australia"], ["items", "Storage only; 12 tea chests"], ["phone", "+44 (0)7700 900123"]], note="address with slash and phone"),
]

wedding_guests = [
    dict(method="POST", target="/wedding/guests/import", profile="form_multipart",
         multipart={"boundary": "----WebKitFormBoundaryW3dCsv01", "parts": [
             {"name": "file", "filename": "guest list FINAL (2).csv", "content_type": "text/csv",
              "data": "First Name,Last Name,Email,Party Size,Dietary,Table\nPatrick,O'Brien,pob@example.ie,2,\"vegetarian, no nuts\",3\nGiulia,D'Angelo,giulia.dangelo@example.it,1,,5\nAisha,Smith-Jones,aisha.sj@example.co.uk,4,\"halal; kids: 2 (ages 4 & 7)\",2\n\"Van der Berg\",\"Jan-Willem\",jw@example.nl,2,gluten-free,3\n"}]},
         note="guest list CSV"),
    dict(method="POST", target="/api/wedding/guests", profile="xhr", json={"first": "Zoë", "last": "Ó Súilleabháin", "plus_one": True, "side": "bride", "notes": "Uncle Tom's ex -- don't seat near him!"}, note="add guest"),
    dict(method="PATCH", target="/api/wedding/tables/7", profile="xhr", json={"name": "Table 7 – \"The Cousins\"", "seats": ["g_101", "g_102", "g_140"]}, note="seating"),
    dict(method="POST", target="/api/wedding/website", profile="xhr", headers=[["Accept-Language", "hi-IN,hi;q=0.9"]],
         json={"section": "story", "text": "हमारी पहली मुलाक़ात 2019 में दिल्ली मेट्रो में हुई थी... और बाकी इतिहास है! ❤️ Sangeet: 14 Feb, Mehendi: 15 Feb"}, note="couple story in Hindi"),
    dict(method="POST", target="/api/wedding/budget", profile="xhr", json={"item": "Flowers (peonies & eucalyptus)", "estimate": 1850.0, "paid": 500.0, "vendor": "Bloom & Co."}, note="budget line"),
    dict(method="POST", target="/api/wedding/registry", profile="xhr", json={"title": "KitchenAid mixer", "url": "https://store.example.com/p/ka-5qt?color=pistachio&utm_source=registry", "qty": 1}, note="registry item URL"),
]

rsvp = [
    dict(method="POST", target="/rsvp/ob-wedding-2027", profile="form", form=[["name", "Conor O'Brien"], ["attending", "yes"], ["guests", "2"], ["meal", "fish"], ["song", "Don't Stop Me Now – Queen"]], note="RSVP with apostrophes"),
    dict(method="POST", target="/rsvp/ob-wedding-2027", profile="form", form=[["name", "Maria D'Angelo-Russo"], ["attending", "no"], ["message", "So sorry we can't make it -- we'll be in Napoli! Sending all our love ❤️"]], note="decline"),
    dict(method="POST", target="/api/rsvp", profile="xhr", json={"event": "bday-40-sam", "name": "Jean-Luc Smith-Jones", "attending": "maybe", "note": "Depends on the babysitter; I'll confirm by Fri."}, note="maybe"),
    dict(target="/rsvp/lookup?name=O%27Sullivan&code=4B7X", profile="chrome_mobile", note="lookup by name with apostrophe"),
    dict(method="POST", target="/api/rsvp", profile="xhr", headers=[["Accept-Language", "ar-AE,ar;q=0.9"]], json={"event": "aqiqah-yusuf", "name": "عبد الله آل مكتوم", "attending": "yes", "guests": 4}, note="Arabic name"),
    dict(method="POST", target="/rsvp/reunion-class-of-06", profile="form", form=[["name", "Kim \"Kimmy\" Nakamura"], ["attending", "yes"], ["dietary", "allergic to peanuts & tree nuts"], ["note", "Will the old gym be open? :)"]], note="nickname in quotes"),
]

obituary_guestbook = [
    dict(method="POST", target="/obituaries/margaret-ellen-hughes/guestbook", profile="form",
         form=[["name", "The O'Donnell family"], ["relationship", "Neighbours"], ["message", "Peggy was the kindest soul on Elm St. She'd say \"there's always room for one more at the table.\" We'll miss her terribly. Rest easy. 🕊️"]], note="condolence message"),
    dict(method="POST", target="/obituaries/margaret-ellen-hughes/candle", profile="xhr", json={"name": "Anonymous", "message": "Thinking of you all"}, note="virtual candle"),
    dict(method="POST", target="/obituaries/jose-luis-ramirez/guestbook", profile="form", headers=[["Accept-Language", "es-MX,es;q=0.9"]],
         form=[["name", "Compañeros de la fábrica"], ["message", "Don José: gracias por 30 años de enseñanzas y chistes malos. Descanse en paz, maestro."]], note="Spanish condolence"),
    dict(method="POST", target="/obituaries/jose-luis-ramirez/photos", profile="form_multipart",
         multipart={"boundary": "----WebKitFormBoundaryMem0r1al", "parts": [
             {"name": "caption", "data": "Fishing trip, Lake Chapala, 1987"}, {"name": "file", "filename": "scan0004.jpg", "content_type": "image/jpeg", "data_b64": jpeg(350)}]}, note="memorial photo"),
    dict(method="POST", target="/obituaries/tanaka-hiroshi/guestbook", profile="form", headers=[["Accept-Language", "ja-JP,ja;q=0.9"]],
         form=[["name", "佐藤 健"], ["message", "田中先生、長い間本当にお世話になりました。心よりご冥福をお祈り申し上げます。"]], note="Japanese condolence"),
    dict(target="/obituaries?q=Hughes&city=Cork&from=2026-11-01", profile="firefox", note="search obituaries"),
]

worship_events = [
    dict(method="POST", target="/events/christmas-eve-service/register", profile="form", form=[["name", "The Okafor family"], ["adults", "2"], ["children", "3"], ["service", "6:00 pm (family)"], ["wheelchair", "yes"]], note="church service registration"),
    dict(method="POST", target="/events/iftar-2027/volunteer", profile="form", headers=[["Accept-Language", "ar,en;q=0.8"]],
         form=[["name", "Fatima Al-Rashid"], ["role", "kitchen"], ["days", "Fri & Sat"], ["note", "يمكنني إحضار التمر والماء"]], note="mosque iftar volunteer"),
    dict(method="POST", target="/api/events/diwali-puja/rsvp", profile="xhr", json={"name": "Ramesh & Lakshmi Iyer", "count": 4, "prasad_contribution": "Ladoo (2 dozen)", "note": "🙏"}, note="temple puja RSVP"),
    dict(method="POST", target="/prayer-requests", profile="form", form=[["name", ""], ["request", "Please pray for my mum's surgery on Tuesday (hip replacement). Thank you all x"], ["private", "on"]], note="prayer request"),
    dict(method="POST", target="/events/bar-mitzvah-noah/rsvp", profile="form", form=[["name", "David Cohen-Levi"], ["attending", "yes"], ["kosher_meal", "yes"], ["message", "Mazel tov! מזל טוב"]], note="synagogue RSVP"),
    dict(method="POST", target="/api/donations/pledge", profile="xhr", json={"campaign": "Gurdwara langar hall roof", "amount": 101, "currency": "CAD", "dedication": "In memory of Sardar Gurbachan Singh ji"}, note="donation pledge"),
]

price_search = [
    dict(target=q("/search", {"q": "\"iphone 15\" 128gb -refurbished -case", "sort": "price_asc"}), profile="chrome", note="quotes and exclusions"),
    dict(target=q("/search", {"q": "air fryer site:example-store.com under $80"}), profile="firefox", note="site: operator"),
    dict(target=q("/search", {"q": "Nintendo Switch OLED", "price_min": "250", "price_max": "350", "cond": "new|open-box"}), profile="xhr", note="range and pipe"),
    dict(target=q("/search", {"q": "洗濯機 ドラム式 10kg", "sort": "レビュー"}), profile="safari", note="Japanese search"),
    dict(method="POST", target="/api/alerts/price", profile="xhr", json={"product_id": "p_55120", "target_price": 199.99, "note": "notify if < $200 (incl. shipping)"}, note="price alert"),
    dict(target=q("/search", {"q": "Samsung 55\" QLED 4K", "category": "TVs & Home Theater"}), profile="chrome_mobile", note="inch mark and ampersand"),
]

diy_log = [
    dict(method="POST", target="/api/projects/2211/steps", profile="xhr",
         json={"title": "Cut the shelves", "body": "Ripped 3/4\" plywood into 11-1/4\" strips; crosscut to 35 1/2\". Kerf is 1/8\" so measure twice!", "tools": ["table saw", "speed square"]}, note="measurements with inch marks"),
    dict(method="POST", target="/api/projects", profile="xhr",
         json={"title": "Loft bed for a 5' 10\" teenager", "materials": ["2x6 x 8' (x6)", "2x4 x 8' (x10)", "3\" deck screws"], "budget": "$350", "difficulty": "intermediate"}, note="project with feet and inches"),
    dict(method="POST", target="/projects/upload", profile="form_multipart",
         multipart={"boundary": "----WebKitFormBoundaryD1yL0gPh", "parts": [
             {"name": "step", "data": "5"}, {"name": "caption", "data": "Pocket holes @ 1-1/2\" setting"},
             {"name": "file", "filename": "step5.jpg", "content_type": "image/jpeg", "data_b64": jpeg(300)}]}, note="step photo"),
    dict(method="POST", target="/api/projects/2211/comments", profile="xhr", headers=[["Accept-Language", "nl-NL,nl;q=0.9"]],
         json={"text": "Mooi werk! Welke beits heb je gebruikt? En 18 mm multiplex of 3/4\"?"}, note="Dutch comment"),
    dict(target="/api/calculators/tile?room_w=3.2&room_l=4.05&tile=30x60&waste=10", profile="xhr", note="tile calculator"),
    dict(method="PATCH", target="/api/projects/2211", profile="xhr", json={"status": "done", "notes": "Total: 14 hrs & $312.47. Next time: pre-drill the oak!"}, note="project done"),
]

ebook_highlights = [
    dict(method="POST", target="/api/highlights", profile="mobile_app", headers=app("Pagebound/4.0 (iPad; iPadOS 17.2)"),
         json={"book": "b_9780141439518", "cfi": "epubcfi(/6/14!/4/2/10,/1:0,/1:86)", "text": "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.", "color": "yellow"}, note="highlight with EPUB CFI"),
    dict(method="POST", target="/api/notes", profile="xhr", json={"book": "b_9780141439518", "highlight": "h_5512", "note": "Irony!! Austen means the opposite -- it's the *families* who want the rich man."}, note="note"),
    dict(method="POST", target="/api/highlights", profile="mobile_app", headers=app("Pagebound/4.0 (Android 14; SM-X710)", lang="ru-RU"),
         json={"book": "b_9785170906307", "cfi": "epubcfi(/6/4!/4/2/2,/1:0,/1:64)", "text": "Все счастливые семьи похожи друг на друга, каждая несчастливая семья несчастлива по-своему."}, note="Russian highlight"),
    dict(method="POST", target="/api/highlights", profile="xhr", tags=["code"],
         json={"book": "b_9781593279509", "text": "document.querySelector(\"#app\").innerHTML = `<p>${msg}</p>`; // never do this with user input", "note": "ch. 15 on XSS -- good example"}, note="programming book highlight quoting JS on purpose"),
    dict(method="POST", target="/api/bookclub/posts", profile="xhr", headers=[["Accept-Language", "fa-IR,fa;q=0.9"]],
         json={"club": "c_88", "text": "فصل سوم «بوف کور» واقعاً تاریک بود... نظر شما چیه؟"}, note="Persian book club post"),
    dict(target="/api/highlights/export?book=b_9780141439518&format=markdown", profile="xhr", note="export highlights"),
]

meme_generator = [
    dict(target=q("/memes/make", {"template": "distracted-boyfriend", "t1": "ME", "t2": "MY RESPONSIBILITIES", "t3": "ONE MORE YOUTUBE VIDEO"}), profile="chrome", note="all-caps captions"),
    dict(method="POST", target="/api/memes", profile="xhr", json={"template": "drake", "texts": ["Fixing the bug", "Adding a comment that says \"TODO: fix later\""], "font": "Impact"}, note="quotes in caption"),
    dict(method="POST", target="/api/memes", profile="xhr", headers=[["Accept-Language", "es-ES,es;q=0.9"]], json={"template": "this-is-fine", "texts": ["YO EL LUNES A LAS 8:00", "«TODO BIEN»"]}, note="Spanish caption"),
    dict(method="POST", target="/memes/upload", profile="form_multipart",
         multipart={"boundary": "----WebKitFormBoundaryM3m3Up", "parts": [
             {"name": "top", "data": "WHEN THE WI-FI SAYS \"CONNECTED\""}, {"name": "bottom", "data": "BUT NOTHING LOADS"},
             {"name": "file", "filename": "cat.jpg", "content_type": "image/jpeg", "data_b64": jpeg(320)}]}, note="custom image meme"),
    dict(target=q("/memes/search", {"q": "surprised pikachu", "nsfw": "0"}), profile="chrome_mobile", note="search"),
    dict(method="POST", target="/api/quotes", profile="xhr", json={"text": "\"Be yourself; everyone else is already taken.\"", "author": "Oscar Wilde (attrib.)", "tags": ["identity", "humor"]}, note="quote collection entry"),
]

n = 0
for cat, es in [("parenting_qa", parenting_qa), ("telemedicine_intake", telemedicine_intake), ("gym_log", gym_log),
                ("running_gpx", running_gpx), ("hiking_report", hiking_report), ("camping_booking", camping_booking),
                ("weather_alerts", weather_alerts), ("astronomy_club", astronomy_club), ("plant_id", plant_id),
                ("pet_contest", pet_contest), ("moving_quote", moving_quote), ("wedding_guests", wedding_guests),
                ("rsvp", rsvp), ("obituary_guestbook", obituary_guestbook), ("worship_events", worship_events),
                ("price_search", price_search), ("diy_log", diy_log), ("ebook_highlights", ebook_highlights),
                ("meme_generator", meme_generator)]:
    n += write("benign", cat, es)
print("benign part B:", n)
