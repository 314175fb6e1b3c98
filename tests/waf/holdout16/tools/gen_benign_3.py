"""Benign entries, batch 3: utilities, science, culture, scholarship, people."""
from common import write

telecom = [
    {"target": "/selfcare/api/usage?msisdn=%2B447700900123&period=current&breakdown=daily", "profile": "mobile_app", "note": "usage with + encoded msisdn"},
    {"method": "POST", "target": "/selfcare/api/bundles/purchase", "profile": "mobile_app", "json": {"msisdn": "+447700900123", "bundle": "ROAM-EU-7D-5GB", "paymentMethod": "bill"}, "note": "roaming bundle"},
    {"method": "POST", "target": "/selfcare/pac", "profile": "form", "form": [["msisdn", "07700 900123"], ["code_type", "PAC"], ["reason", "Moving to another network"]], "note": "porting code request"},
    {"method": "POST", "target": "/selfcare/api/esim/transfer", "profile": "xhr", "json": {"iccid": "8944110068123456789F", "eid": "89049032004008882600012345678901", "device": "iPhone15,3"}, "note": "eSIM transfer"},
    {"target": "/selfcare/bills/2026-11?format=html&lang=cy", "profile": "chrome", "note": "bill in Welsh"},
    {"method": "POST", "target": "/selfcare/api/tickets", "profile": "xhr", "json": {"category": "no_signal", "postcode": "LL55 4UR", "description": "Dim signal 4G yn y pentref ers dydd Llun. No 4G in the village since Monday, calls drop after ~10s.", "device": "Pixel 7"}, "note": "fault report in Welsh and English"},
]

meter = [
    {"method": "POST", "target": "/api/meter-readings", "profile": "xhr", "json": {"account": "551200", "mprn": "1234567890", "readings": [{"register": "day", "value": 48211, "date": "2026-12-07"}, {"register": "night", "value": 19033, "date": "2026-12-07"}], "photo": None, "estimated": False}, "note": "two-register electricity reading"},
    {"method": "POST", "target": "/zaehlerstand/melden", "profile": "form", "form": [["kundennummer", "7001234567"], ["zaehlernummer", "1ESY1160123456"], ["stand", "08213,4"], ["ablesedatum", "07.12.2026"], ["ableser", "Kunde"]], "note": "German meter reading form, decimal comma"},
    {"method": "POST", "target": "/smart/v1/intervals", "profile": "api", "headers": [["Content-Type", "application/json"]], "json": {"meterId": "SM-00A1-7731", "unit": "kWh", "interval": "PT30M", "start": "2026-12-06T00:00:00Z", "values": [0.212, 0.198, 0.201, 0.187, 0.244, 0.391, 0.402, 0.377], "quality": "A"}, "note": "smart meter half-hourly intervals"},
    {"method": "POST", "target": "/grid/oadr/EiEvent", "profile": "none", "headers": [["User-Agent", "openadr-ven/2.0b"], ["Content-Type", "application/xml"]], "body": "<?xml version=\"1.0\" encoding=\"UTF-8\"?><oadr:oadrPayload xmlns:oadr=\"http://openadr.org/oadr-2.0b/2012/07\"><oadr:oadrSignedObject><oadr:oadrRequestEvent><pyld:eiRequestEvent xmlns:pyld=\"http://docs.oasis-open.org/ns/energyinterop/201110/payloads\"><pyld:requestID>req-7731</pyld:requestID><ei:venID xmlns:ei=\"http://docs.oasis-open.org/ns/energyinterop/201110\">VEN-HOME-0412</ei:venID></pyld:eiRequestEvent></oadr:oadrRequestEvent></oadr:oadrSignedObject></oadr:oadrPayload>", "note": "OpenADR demand-response poll"},
    {"target": "/api/consumption?account=551200&granularity=month&from=2025-12&to=2026-11&compare=last_year", "profile": "xhr", "note": "consumption chart"},
    {"method": "POST", "target": "/api/meter-readings/photo", "profile": "form_multipart", "multipart": {"boundary": "----WebKitFormBoundaryMtr0412", "parts": [{"name": "account", "data": "551200"}, {"name": "image", "filename": "IMG_20261207_081502.jpg", "content_type": "image/jpeg", "data_b64": "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAAA//EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AN//Z"}]}, "note": "meter photo"},
]

WU = [["User-Agent", "WeatherLink/2.4 ESP8266"], ["Accept", "*/*"]]
weather = [
    {"target": "/weatherstation/updateweatherstation.php?ID=IBAVARIA123&PASSWORD=k3yAb9&dateutc=2026-12-07+08%3A15%3A00&tempf=29.3&humidity=87&dewptf=25.9&windspeedmph=3.1&winddir=247&baromin=30.12&dailyrainin=0.00&action=updateraw", "profile": "none", "headers": WU, "note": "PWS upload GET"},
    {"target": "/weatherstation/updateweatherstation.php?ID=IBAVARIA123&PASSWORD=k3yAb9&dateutc=now&tempf=30.1&solarradiation=42.7&UV=0&softwaretype=EasyWeatherV1.6.6&action=updateraw&realtime=1&rtfreq=5", "profile": "none", "headers": WU, "note": "rapidfire upload"},
    {"method": "POST", "target": "/data/report/", "profile": "none", "headers": [["User-Agent", "GW1000B_V1.7.5"], ["Content-Type", "application/x-www-form-urlencoded"]], "body": "PASSKEY=A1B2C3D4E5F6&stationtype=GW1000B_V1.7.5&dateutc=2026-12-07+08:15:00&tempinf=69.8&humidityin=41&baromrelin=30.118&tempf=29.3&humidity=87&winddir=247&windspeedmph=3.13&rainratein=0.000&wh65batt=0&freq=868M&model=WS2900", "note": "Ecowitt custom upload (unencoded colons)"},
    {"method": "POST", "target": "/api/v1/observations", "profile": "api", "json": {"station": "CW1234", "obs": [{"t": "2026-12-07T08:15:00Z", "temp_c": -1.5, "rh": 87, "p_hpa": 1020.1, "wind": {"dir": 247, "ms": 1.4}, "rain_mm": 0.0}]}, "note": "json observations"},
    {"target": "/weatherstation/updateweatherstation.php?ID=KNYNEWYO77&PASSWORD=pw&dateutc=2026-12-07%2013%3A15%3A00&tempf=41.2&weather=-RA&clouds=OVC008&action=updateraw", "profile": "none", "headers": WU, "note": "METAR-style weather codes"},
    {"method": "POST", "target": "/cwop/aprs", "profile": "none", "headers": [["User-Agent", "cumulusmx/3.28"], ["Content-Type", "text/plain"]], "body": "user DW1234 pass -1 vers CumulusMX 3.28\nDW1234>APRS,TCPIP*:@071815z4807.38N/01131.24E_247/003g007t029r000p000P000h87b10201\n", "note": "APRS weather packet"},
]

iiif_manifest = {"@context": "http://iiif.io/api/presentation/3/context.json", "id": "https://collections.example.org/iiif/obj/1889-44/manifest", "type": "Manifest", "label": {"en": ["Tea bowl, Raku ware"], "ja": ["楽焼茶碗"]}, "metadata": [{"label": {"en": ["Date"]}, "value": {"en": ["Edo period, 18th century"]}}], "items": [{"id": "https://collections.example.org/iiif/obj/1889-44/canvas/1", "type": "Canvas", "height": 4000, "width": 3000}]}
museum = [
    {"target": "/iiif/3/obj-1889-44-f01.tif/full/max/0/default.jpg", "profile": "chrome_img", "note": "IIIF image full"},
    {"target": "/iiif/3/obj-1889-44-f01.tif/1024,2048,1024,1024/512,/0/default.webp", "profile": "chrome_img", "note": "IIIF tile region"},
    {"target": "/iiif/3/obj-1889-44-f01.tif/info.json", "profile": "xhr", "headers": [["Accept", "application/ld+json;profile=\"http://iiif.io/api/image/3/context.json\""]], "note": "info.json with profile accept"},
    {"method": "PUT", "target": "/api/manifests/1889-44", "profile": "xhr", "headers": [["Content-Type", "application/ld+json"]], "json": iiif_manifest, "note": "manifest save"},
    {"target": "/collection/search?q=Raku+%22tea+bowl%22&maker=Ch%C5%8Djir%C5%8D&date_from=1600&date_to=1800&has_image=1", "profile": "firefox", "note": "collection search with macrons"},
    {"method": "POST", "target": "/annotations", "profile": "xhr", "headers": [["Content-Type", "application/ld+json; profile=\"http://www.w3.org/ns/anno.jsonld\""]], "json": {"@context": "http://www.w3.org/ns/anno.jsonld", "type": "Annotation", "motivation": "commenting", "body": {"type": "TextualBody", "value": "Glaze crawling visible at the foot ring.", "language": "en"}, "target": "https://collections.example.org/iiif/obj/1889-44/canvas/1#xywh=1200,3100,400,300"}, "note": "web annotation"},
]

OAI_UA = [["User-Agent", "OAI-Harvester/3.1 (+https://aggregator.example.eu)"], ["Accept", "text/xml"]]
oai = [
    {"target": "/oai?verb=Identify", "profile": "none", "headers": OAI_UA, "note": "Identify"},
    {"target": "/oai?verb=ListRecords&metadataPrefix=oai_dc&from=2026-12-01T00:00:00Z&set=theses", "profile": "none", "headers": OAI_UA, "note": "ListRecords with from"},
    {"target": "/oai?verb=ListRecords&resumptionToken=oai_dc%2F2026-12-01T00%3A00%3A00Z%2F%2Ftheses%2F500", "profile": "none", "headers": OAI_UA, "note": "resumption token"},
    {"target": "/oai?verb=GetRecord&identifier=oai%3Arepo.example.edu%3A10.5281%2Fzenodo.77120&metadataPrefix=mods", "profile": "none", "headers": OAI_UA, "note": "GetRecord"},
    {"method": "POST", "target": "/oai", "profile": "none", "headers": OAI_UA, "form": [["verb", "ListIdentifiers"], ["metadataPrefix", "marc21"], ["set", "col_10_7731"]], "note": "POST form verb"},
    {"target": "/oai?verb=ListSets", "profile": "none", "headers": OAI_UA, "note": "ListSets"},
]

ojs = [
    {"method": "POST", "target": "/index.php/jhs/submission/saveStep/1", "profile": "form", "form": [["sectionId", "3"], ["locale", "es_ES"], ["checklist-0", "1"], ["checklist-1", "1"], ["commentsToEditor", "Estimado editor: adjuntamos el manuscrito revisado según las observaciones del revisor 2."], ["copyrightNoticeAgree", "1"]], "note": "OJS step 1"},
    {"method": "POST", "target": "/index.php/jhs/api/v1/submissions/7731/files", "profile": "form_multipart", "multipart": {"boundary": "----WebKitFormBoundaryOjs7731", "parts": [{"name": "fileStage", "data": "2"}, {"name": "genreId", "data": "1"}, {"name": "file", "filename": "manuscrito_revisado_v3.docx", "content_type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "data_b64": "UEsDBBQABgAIAAAAIQDfpNJsWgEAACAFAAATAAgCW0NvbnRlbnRfVHlwZXNdLnhtbCCiBAIooAAC"}]}, "note": "manuscript upload"},
    {"method": "PUT", "target": "/index.php/jhs/api/v1/submissions/7731/publications/7012", "profile": "xhr", "json": {"title": {"es_ES": "Redes de comercio en el Mediterráneo occidental (siglos XIII–XV)", "en_US": "Trade networks in the western Mediterranean (13th–15th centuries)"}, "abstract": {"en_US": "<p>This article examines notarial records from Barcelona and Genoa…</p>"}, "keywords": {"es_ES": ["comercio", "notariado", "Génova"]}}, "note": "publication metadata (abstract is OJS rich-text HTML)", "tags": ["code"]},
    {"method": "POST", "target": "/index.php/jhs/api/v1/submissions/7731/participants", "profile": "xhr", "json": {"givenName": {"en_US": "Nguyễn"}, "familyName": {"en_US": "Thị Hương"}, "email": "huong@uni.example.vn", "orcid": "https://orcid.org/0000-0002-1825-0097", "affiliation": {"en_US": "Vietnam National University"}, "userGroupId": 14}, "note": "co-author with Vietnamese name"},
    {"method": "POST", "target": "/index.php/jhs/reviewer/saveStep/3", "profile": "form", "form": [["reviewId", "2291"], ["comments", "The argument in section 3 relies on a single source (ACA, Reg. 1432, f. 77r); please discuss its reliability."], ["recommendation", "2"]], "note": "review comments with archival citation"},
    {"target": "/index.php/jhs/search/search?query=notarial+AND+Genoa&dateFromYear=2015&authors=Epstein", "profile": "chrome", "note": "journal search"},
]

bib = """@article{epstein1996genoa,
  author    = {Epstein, Steven A. and M{\\"u}ller, J{\\"o}rg},
  title     = {Genoa \\& the {Genoese}, 958--1528},
  journal   = {Journal of {Medieval} History},
  year      = {1996},
  volume    = {22},
  number    = {3},
  pages     = {201--223},
  doi       = {10.1016/0304-4181(96)00007-3},
  note      = {Cited as ``classic''; see also \\cite{abulafia1977}}
}
"""
ris = "TY  - JOUR\r\nAU  - Abulafia, David\r\nTI  - The Two Italies: economic relations between the Norman Kingdom of Sicily and the northern communes\r\nPY  - 1977\r\nSN  - 978-0-521-21211-2\r\nUR  - https://doi.org/10.1017/CBO9780511562280\r\nKW  - trade; Sicily; Genoa\r\nER  - \r\n"
citations = [
    {"method": "POST", "target": "/api/library/import", "profile": "form_multipart", "multipart": {"boundary": "----WebKitFormBoundaryBib01", "parts": [{"name": "collection", "data": "thesis-ch2"}, {"name": "file", "filename": "refs.bib", "content_type": "application/x-bibtex", "data": bib}]}, "note": "BibTeX upload with TeX escapes"},
    {"method": "POST", "target": "/api/library/import", "profile": "form_multipart", "multipart": {"boundary": "----WebKitFormBoundaryRis02", "parts": [{"name": "collection", "data": "thesis-ch2"}, {"name": "file", "filename": "export.ris", "content_type": "application/x-research-info-systems", "data": ris}]}, "note": "RIS upload"},
    {"method": "POST", "target": "/api/users/88120/items", "profile": "api", "headers": [["Zotero-API-Version", "3"], ["Zotero-Write-Token", "19a4f01ad623aa7214f82347e3711f56"]], "json": [{"itemType": "book", "title": "Средиземноморье и средиземноморский мир в эпоху Филиппа II", "creators": [{"creatorType": "author", "firstName": "Фернан", "lastName": "Бродель"}], "date": "2002", "language": "ru"}], "note": "Zotero-like write with Cyrillic"},
    {"target": "/api/users/88120/items?format=csljson&style=chicago-note-bibliography&q=Braudel&qmode=everything&since=4412", "profile": "api", "headers": [["Zotero-API-Version", "3"]], "note": "item query"},
    {"target": "/cite?doi=10.1016%2F0304-4181(96)00007-3&style=apa&locale=de-DE", "profile": "xhr", "headers": [["Accept", "text/x-bibliography"]], "note": "DOI with parentheses"},
    {"method": "POST", "target": "/api/word-plugin/cite", "profile": "api", "json": {"citationItems": [{"id": "epstein1996genoa", "locator": "205–207", "label": "page", "prefix": "see ", "suffix": "; cf. Abulafia"}], "properties": {"noteIndex": 12}}, "note": "CSL citation cluster"},
]

survey = [
    {"method": "POST", "target": "/s/SV_8kq2Lm/next", "profile": "form", "form": [["QID1", "4"], ["QID2_TEXT", "El proceso fue fácil, pero tardaron 3 semanas en responder."], ["QID3#1_1", "on"], ["QID3#1_4", "on"], ["QID4", "Muy satisfecho"], ["Page", "2"]], "note": "Spanish answers with # in field names"},
    {"method": "POST", "target": "/s/SV_8kq2Lm/next", "profile": "form", "form": [["QID1", "2"], ["QID2_TEXT", "التطبيق بطيء جداً عند تحميل الصور، والدعم لم يرد على رسالتي."], ["Page", "2"]], "note": "Arabic free text"},
    {"method": "POST", "target": "/api/responses", "profile": "xhr", "json": {"survey": "nps-q4", "answers": {"nps": 9, "why": "Sehr guter Kundenservice – Herr Öztürk hat mir super geholfen! 👍", "segment": "B2C"}, "meta": {"lang": "de", "tz": "Europe/Berlin", "duration_ms": 48211}}, "note": "NPS json with emoji"},
    {"method": "POST", "target": "/s/SV_8kq2Lm/next", "profile": "form", "form": [["QID7_TEXT", "価格は高いですが、品質は良いと思います。配送がもっと速いと嬉しいです。"], ["QID8", "3"], ["Page", "3"]], "note": "Japanese free text"},
    {"target": "/s/SV_8kq2Lm?Q_Language=HE&src=newsletter&uid=7731", "profile": "chrome_mobile", "note": "survey link in Hebrew"},
    {"method": "POST", "target": "/s/SV_8kq2Lm/next", "profile": "form", "form": [["QID9_TEXT", "Я бы хотел больше вариантов оплаты (например, СБП). Спасибо!"], ["QID10", "1;3;5"], ["Page", "4"]], "note": "Russian text, semicolon-separated ranks"},
]

dating = [
    {"method": "PUT", "target": "/api/v2/me/profile", "profile": "mobile_app", "json": {"name": "Léa", "age": 31, "bio": "Bookworm 📚, climbing on weekends, terrible at puns. Looking for someone to share croissants & bad movies with.", "prompts": [{"q": "My simple pleasures", "a": "Sunday market, a good café crème, no phone."}], "languages": ["fr", "en"]}, "note": "profile update"},
    {"method": "POST", "target": "/api/v2/swipes", "profile": "mobile_app", "json": {"target": "u_8a7c66", "direction": "right", "superlike": False, "s_number": 4412}, "note": "swipe"},
    {"target": "/api/v2/recs?lat=48.8566&lon=2.3522&distance_km=15&age_min=28&age_max=38&limit=20", "profile": "mobile_app", "note": "recommendations"},
    {"method": "POST", "target": "/api/v2/matches/m_77120/messages", "profile": "mobile_app", "json": {"text": "Haha ok so is it pain au chocolat or chocolatine? 🤔 This is important :)", "client_id": "c-88120-3"}, "note": "match message"},
    {"method": "POST", "target": "/api/v2/me/photos", "profile": "mobile_app", "headers": [["Content-Type", "multipart/form-data; boundary=okhttp-bound-7a1c"]], "multipart": {"boundary": "okhttp-bound-7a1c", "parts": [{"name": "position", "data": "2"}, {"name": "photo", "filename": "photo.jpg", "content_type": "image/jpeg", "data_b64": "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2Q=="}]}, "note": "photo upload"},
    {"method": "POST", "target": "/api/v2/reports", "profile": "mobile_app", "json": {"user": "u_19ab20", "reason": "fake_profile", "details": "Photos look like a celebrity, asked me to move to another app right away"}, "note": "report user"},
]

n = 0
for cat, es in [("telecom_selfcare", telecom), ("meter_readings", meter), ("weather_station", weather),
                ("museum_iiif", museum), ("oai_pmh", oai), ("journal_submissions", ojs),
                ("citation_manager", citations), ("survey_answers", survey), ("dating_app", dating)]:
    n += write("benign", cat, es)
print("benign batch 3", n)
