"""Benign kinds, part B: bookings, tickets, marketplaces, trades, printing."""
from common import E

B = {}

B["fitness_booking"] = [
    E("/api/classes?studio=kreuzberg&from=2026-12-08&to=2026-12-14&type=yoga%2Cpilates%2Chiit", profile="mobile_app",
      note="class schedule"),
    E("/api/bookings", "POST", "mobile_app", json={"class_id": 88412, "spot": "B7", "waitlist_ok": True},
      note="book a spot on a bike"),
    E("/api/bookings/bk_3310", "DELETE", "mobile_app", note="cancel booking"),
    E("/members/health-questionnaire", "POST", "form",
      form=[["q_heart", "no"], ["q_injury", "yes"], ["injury_details", "Left knee – ACL reconstruction 2024; avoid deep squats & jumping"],
            ["emergency_contact", "Lena (sister) +49 170 1234567"], ["consent", "on"]],
      note="PAR-Q style questionnaire"),
    E("/api/memberships/checkout", "POST", "xhr",
      json={"plan": "flex-10", "promo": "NEWYEAR-25%", "sepa": {"iban": "DE89370400440532013000", "holder": "Öz Yıldız"}},
      note="membership purchase with SEPA mandate"),
    E("/checkin?member=M-44120&door=2&ts=1765126800&sig=4f2a9c1e", profile="none",
      headers=[["User-Agent", "ZKTeco-Door/3.2"]], note="door controller check-in ping"),
]

B["event_ticketing"] = [
    E("/api/events/ev_771/seatmap?section=Parterre+Links&format=svg", profile="xhr",
      headers=[["Accept", "image/svg+xml,application/json"]], note="seat map"),
    E("/api/events/ev_771/holds", "POST", "xhr",
      json={"seats": ["PL-R12-S14", "PL-R12-S15"], "price_level": "A", "ttl_seconds": 600},
      note="hold seats"),
    E("/api/orders", "POST", "xhr",
      json={"hold_id": "h_88a1", "buyer": {"name": "Zoë Ångström", "email": "zoe@example.se"},
            "tickets": [{"seat": "PL-R12-S14", "type": "adult"}, {"seat": "PL-R12-S15", "type": "concession", "proof": "student ID"}],
            "delivery": "mobile"},
      note="order with diacritics"),
    E("/api/scan", "POST", "api", [["User-Agent", "GateScanner/2.4 (Zebra TC52)"], ["Content-Type", "application/json"]],
      json={"barcode": "EV771|PL-R12-S14|a93fe01c|1765140000", "gate": "North-3", "device": "TC52-0019"},
      note="gate scanner with pipe-delimited barcode"),
    E("/festival/2027/lineup?day=sat&stage=Zelt%202&lang=de", profile="chrome_mobile", note="festival lineup"),
    E("/api/cinema/showtimes?cinema=odeon-leicester-sq&film=tt15239678&date=2026-12-09&format=IMAX%203D",
      profile="xhr", note="cinema showtimes"),
]

B["auction_house"] = [
    E("/api/lots/LOT-2026-0417/bids", "POST", "xhr",
      json={"amount": 12500, "currency": "GBP", "max_bid": 15000, "paddle": "P-3381"},
      note="absentee bid"),
    E("/catalogue/sale-1221?q=Meissen+%22blue+onions%22&estimate_min=500&estimate_max=2000&sort=lot",
      profile="firefox", note="catalogue search with quoted phrase"),
    E("/consign", "POST", "form_multipart",
      multipart={"boundary": "----WebKitFormBoundaryC0ns1gnMent9", "parts": [
          {"name": "title", "data": "Pair of George III silver candlesticks, London 1772"},
          {"name": "description", "data": "Height 28.5 cm (11¼ in.), weight 1,120 g. Maker's mark 'JC' (John Carter II). Minor dents to sconces; loaded bases."},
          {"name": "photo", "filename": "candlesticks_front.jpg", "content_type": "image/jpeg", "data_b64": "/9j/4AAQSkZJRgABAQAAAQABAAD/2Q=="}]},
      note="consignment with measurements and fractions"),
    E("/api/live/sale-1221/stream?since=9921", profile="xhr", note="live auction increments poll"),
    E("/api/condition-report-request", "POST", "xhr",
      json={"lot": "LOT-2026-0417", "message": "Could you confirm whether the signature \"Kandinsky\" lower left is on the canvas or the frame? Any restoration under UV?"},
      note="condition report question"),
    E("/account/invoices?sale=1221&status=unpaid", profile="safari", note="buyer invoices"),
]

B["secondhand_market"] = [
    E("/api/listings", "POST", "mobile_app",
      json={"title": "Kinderwagen Bugaboo Fox 3 – kaum benutzt!", "price": 450, "currency": "EUR", "negotiable": True,
            "description": "Farbe: Grau Melange. Inkl. Regenschutz & Sonnendach. Nur Abholung (München-Pasing). Tierfreier Nichtraucherhaushalt :)",
            "category": "baby/strollers", "condition": "like_new"},
      note="German listing"),
    E("/api/listings", "POST", "mobile_app",
      json={"title": "Vends vélo de route Décathlon Triban RC520 taille M", "price": 580,
            "description": "Acheté en mars 2025, ~1 200 km. Freins à disque, groupe Shimano 105 (11v). Pas d'échange, merci !",
            "category": "sport/velo"},
      note="French listing"),
    E("/api/listings", "POST", "mobile_app",
      json={"title": "ニンテンドースイッチ 有機ELモデル ホワイト", "price": 28000, "currency": "JPY",
            "description": "購入から1年です。箱・説明書あり。画面に小さなキズがあります（写真3枚目）。即購入OK！",
            "shipping": "らくらくメルカリ便"},
      note="Japanese listing"),
    E("/search?q=%D0%B4%D0%B8%D0%B2%D0%B0%D0%BD+%D1%83%D0%B3%D0%BB%D0%BE%D0%B2%D0%BE%D0%B9&city=Warszawa&price_to=800",
      profile="chrome", note="Russian search query"),
    E("/api/messages/thread/t_5512", "POST", "mobile_app",
      json={"text": "Hi! Is it still available? Could you do £40 incl. postage? If not, no worries 🙂"},
      note="buyer message with emoji"),
    E("/api/listings/l_8812/offer", "POST", "mobile_app", json={"amount": 22.5, "message": "¿Aceptarías 22,50 €? Lo recojo hoy."},
      note="Spanish offer"),
]

B["classifieds"] = [
    E("/post-ad", "POST", "form",
      form=[["category", "jobs/hospitality"], ["title", "Barista wanted – Mon-Fri 7am-3pm, £12.50/hr + tips"],
            ["body", "Busy café in Shoreditch. Experience w/ latte art a plus. Call/WhatsApp 07700 900123 or email jobs@beanandbrew.example"],
            ["phone_visible", "1"]],
      note="job ad with phone number and price"),
    E("/post-ad", "POST", "form",
      form=[["category", "motors/cars"], ["title", "2014 Honda Jazz 1.4 i-VTEC EX, 5dr, 68k miles, FSH"],
            ["price", "£6,250 ono"], ["body", "MOT till 09/27. 2 keys. Cambelt n/a (chain). Genuine reason for sale — moving abroad. No time-wasters pls!!!"]],
      note="car ad with abbreviations"),
    E("/ads?cat=rentals&min=800&max=1200&beds=2&q=garden+%2F+parking&location=Leeds+LS6", profile="safari", note="rental search"),
    E("/api/ads/a_44120/report", "POST", "xhr", json={"reason": "scam", "details": "Asks for payment via gift cards & won't meet in person"},
      note="report ad"),
    E("/annonces/deposer", "POST", "form",
      form=[["titre", "Cours de piano à domicile – tous niveaux"], ["prix", "25 €/h"],
            ["texte", "Professeure diplômée du CNR. Solfège, classique & jazz. Tél : 06 12 34 56 78"]],
      note="French tutoring ad"),
    E("/api/ads/a_44120/reveal-phone", "POST", "xhr", headers=[["X-Recaptcha-Token", "03AGdBq25kz9_xQ"]], json={},
      note="reveal phone"),
]

B["home_services"] = [
    E("/api/jobs", "POST", "xhr",
      json={"service": "plumbing/leak", "urgency": "today", "postcode": "M20 2AB",
            "description": "Water dripping from ceiling under bathroom. Stopcock is under kitchen sink; turned it off at 8:10.",
            "access": "Key in lockbox, code given on booking", "budget": "<£150"},
      note="plumber job request"),
    E("/api/pros/search?trade=electrician&lat=53.42&lng=-2.23&radius_mi=10&verified=true&sort=rating", profile="xhr",
      note="find pros"),
    E("/api/quotes/q_1190/accept", "POST", "xhr", json={"slot": "2026-12-09T08:00:00Z", "notes": "Dog is friendly"},
      note="accept quote"),
    E("/api/jobs/j_4401/photos", "POST", "mobile_app",
      headers=[["Content-Type", "multipart/form-data; boundary=Boundary-7B31C2E8-5A1F"]],
      multipart={"boundary": "Boundary-7B31C2E8-5A1F", "parts": [
          {"name": "caption", "data": "Boiler pressure gauge at 0.5 bar"},
          {"name": "image", "filename": "photo.jpg", "content_type": "image/jpeg", "data_b64": "/9j/4AAQSkZJRgABAQAAAQABAAD/2Q=="}]},
      note="iOS multipart photo"),
    E("/reviews/new?pro=p_551", "POST", "form",
      form=[["stars", "5"], ["text", "Arrived on time, fixed the consumer unit & explained everything. 10/10 would recommend!"]],
      note="review form"),
    E("/api/invoices/j_4401", profile="mobile_app", note="view invoice"),
]

B["construction_bim"] = [
    E("/api/projects/p_77/models", "POST", "api_multipart",
      multipart={"boundary": "ifc-upload-0x7f", "parts": [
          {"name": "discipline", "data": "ARC"},
          {"name": "file", "filename": "Haus_B_ARC_v12.ifc", "content_type": "application/x-step",
           "data": "ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION(('ViewDefinition [CoordinationView_V2.0]'),'2;1');\nFILE_NAME('Haus_B_ARC_v12.ifc','2026-12-07T16:20:11',('Architect'),('Büro Lindner'),'IfcOpenShell','Revit 2025','');\nFILE_SCHEMA(('IFC4'));\nENDSEC;\nDATA;\n#1=IFCPROJECT('3vB2YO$MX4xv5uCqZZG05x',$,'Haus B',$,$,$,$,(#20),#7);\n#12=IFCWALLSTANDARDCASE('0DWgwt6o1FOx7466fPk$jl',#5,'Basic Wall:Exterior - 300mm',$,$,#30,#40,'3A1F',$);\nENDSEC;\nEND-ISO-10303-21;\n"}]},
      note="IFC STEP upload ($ and # syntax)"),
    E("/api/projects/p_77/issues", "POST", "xhr",
      json={"title": "Clash: duct vs. beam at grid C/4, level 02", "bcf_topic_guid": "a3e1f0b2-33c1-4a8e-9d3f-0c2b1e7a9f11",
            "assigned_to": "MEP", "due": "2026-12-14", "description": "Duct 600x400 intersects HEB 300 by ~120 mm. Lower duct or core-drill? See viewpoint."},
      note="BCF issue"),
    E("/api/projects/p_77/rfis?status=open&trade=03%20-%20Concrete", profile="xhr", note="RFI list"),
    E("/api/projects/p_77/daily-logs", "POST", "mobile_app",
      json={"date": "2026-12-07", "weather": "-2°C, light snow", "crew": {"formwork": 6, "rebar": 4},
            "work": "Poured slab L3 zone B (42 m³ C30/37). Pump arrived 07:45.", "delays": "Concrete truck #3 late 40 min"},
      note="site daily log"),
    E("/api/projects/p_77/drawings/A-201/markups", "PUT", "xhr",
      json={"rev": "C", "shapes": [{"type": "cloud", "points": [[120, 80], [260, 80], [260, 190]], "text": "Door swing → inward per fire eng."}]},
      note="drawing markup"),
    E("/viewer?model=Haus_B_ARC_v12.ifc&guid=0DWgwt6o1FOx7466fPk%24jl&section=z%3D3.2", profile="chrome", note="viewer deep link"),
]

B["print_shop"] = [
    E("/api/print-jobs", "POST", "form_multipart",
      multipart={"boundary": "----WebKitFormBoundaryPr1ntJ0bXx", "parts": [
          {"name": "product", "data": "flyer_a5"},
          {"name": "options", "data": "{\"paper\":\"170gsm silk\",\"sides\":\"double\",\"qty\":500,\"bleed_mm\":3,\"finish\":\"matt lam\"}"},
          {"name": "artwork", "filename": "Flyer_Weihnachtsmarkt_FINAL_v3 (1).pdf", "content_type": "application/pdf",
           "data": "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 1/Kids[3 0 R]>>endobj\n3 0 obj<</Type/Page/MediaBox[0 0 428 604]/TrimBox[8.5 8.5 419.5 595.5]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"}]},
      note="flyer print job with PDF artwork"),
    E("/api/quote?product=business_cards&qty=250&paper=400gsm&corners=rounded&spot_uv=front", profile="xhr", note="price quote"),
    E("/api/photo-orders", "POST", "xhr",
      json={"prints": [{"image": "img_8812", "size": "10x15", "qty": 2, "crop": {"x": 0.05, "y": 0, "w": 0.9, "h": 1}},
                       {"image": "img_8813", "size": "20x30", "qty": 1, "border": "white 5mm"}], "finish": "glossy"},
      note="photo print order"),
    E("/api/preflight/results/pj_99", profile="xhr", note="preflight result"),
    E("/api/custom-tshirts/designs", "POST", "xhr",
      json={"garment": "unisex-tee", "color": "heather grey", "size_run": {"S": 4, "M": 10, "L": 8, "XL": 3},
            "front_svg": "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 300 120\"><path d=\"M10 80 Q 52.5 10, 95 80 T 180 80\" fill=\"none\" stroke=\"#e63946\" stroke-width=\"6\"/><text x=\"20\" y=\"110\" font-family=\"Bebas Neue\" font-size=\"28\">CREW '27</text></svg>"},
      note="t-shirt design with inline SVG"),
    E("/api/custom-tshirts/uploads", "POST", "form_multipart",
      multipart={"boundary": "----WebKitFormBoundarySvGup10ad", "parts": [
          {"name": "file", "filename": "logo.svg", "content_type": "image/svg+xml",
           "data": "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"200\" height=\"200\"><circle cx=\"100\" cy=\"100\" r=\"90\" fill=\"#2a9d8f\"/><text x=\"100\" y=\"115\" text-anchor=\"middle\" fill=\"#fff\" font-size=\"40\">Ø&amp;K</text></svg>\n"}]},
      note="SVG logo upload"),
]

B["secondhand_market"].append(
    E("/api/listings", "POST", "mobile_app",
      json={"title": "아이패드 에어 5세대 64GB 스페이스 그레이 (S급)", "price": 520000, "currency": "KRW",
            "description": "애플케어 2027년 3월까지 남았어요. 직거래는 강남역 10번 출구, 택배 시 +4,000원. 네고 사절!",
            "category": "digital/tablet"},
      note="Korean listing"))
