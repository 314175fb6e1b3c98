"""Benign entries, batch 4: collaboration, learning, games, media, maps, law."""
from common import write

video = [
    {"method": "POST", "target": "/v2/users/me/meetings", "profile": "api", "headers": [["Authorization", "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJtZWV0In0.sig"]], "json": {"topic": "Sprint review #48 — Équipe Lyon", "type": 2, "start_time": "2026-12-09T14:00:00Z", "duration": 45, "timezone": "Europe/Paris", "agenda": "1) Demo\n2) Retro\n3) Q1 roadmap", "settings": {"waiting_room": True, "join_before_host": False, "auto_recording": "cloud"}}, "note": "create meeting"},
    {"method": "PATCH", "target": "/v2/meetings/84129937711", "profile": "api", "json": {"start_time": "2026-12-09T15:00:00Z"}, "note": "reschedule"},
    {"method": "POST", "target": "/v2/meetings/84129937711/registrants", "profile": "api", "json": {"email": "kwame.mensah@example.com.gh", "first_name": "Kwame", "last_name": "Mensah", "custom_questions": [{"title": "Organisation", "value": "Accra Tech Hub"}]}, "note": "webinar registrant"},
    {"target": "/v2/report/meetings/84129937711/participants?page_size=300&next_page_token=", "profile": "api", "note": "participants report"},
    {"method": "POST", "target": "/webhooks/meetings", "profile": "none", "headers": [["User-Agent", "Meet-Webhook/1.0"], ["x-zm-signature", "v0=a0b8c1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8"], ["x-zm-request-timestamp", "1765099200"]], "json": {"event": "meeting.participant_joined", "event_ts": 1765099200123, "payload": {"object": {"id": "84129937711", "participant": {"user_name": "Анна Петрова", "join_time": "2026-12-09T15:01:12Z"}}}}, "note": "participant joined webhook"},
    {"target": "/j/84129937711?pwd=dFZ6a3Bxc0JkN2E5Q0p6Zz09", "profile": "chrome", "note": "join link"},
]

whiteboard = [
    {"method": "POST", "target": "/api/boards/9kq/ops", "profile": "xhr", "json": {"rev": 1882, "ops": [{"op": "add", "id": "shp_a1", "type": "sticky", "x": 420.5, "y": -118, "w": 200, "h": 200, "fill": "#ffd54f", "text": "Customer interviews → themes"}, {"op": "add", "id": "arr_7", "type": "arrow", "from": "shp_a1", "to": "shp_b3", "bend": 0.2}]}, "note": "whiteboard shape ops"},
    {"method": "POST", "target": "/api/boards/9kq/ops", "profile": "xhr", "json": {"rev": 1883, "ops": [{"op": "update", "id": "shp_b3", "props": {"text": "Pain point: \"export to PDF\" > 30s", "fontSize": 18}}]}, "note": "text update with quotes and >"},
    {"method": "POST", "target": "/api/docs/d_771/updates", "profile": "xhr", "headers": [["Content-Type", "application/octet-stream"]], "body": "\u0001\u0002\u00c8\u0095\u00a7\u0004\u0000\u0004\u0001\u0005title\u0004Hej", "note": "Yjs-style binary update (as UTF-8)"},
    {"method": "POST", "target": "/api/docs/d_771/ot", "profile": "xhr", "json": {"v": 311, "op": [{"p": ["body", 1402], "si": "Wir treffen uns um 10:00 Uhr im Raum „Alster“."}, {"p": ["body", 1380], "sd": "TBD"}]}, "note": "json0 OT string ops"},
    {"method": "POST", "target": "/api/boards/9kq/ops", "profile": "xhr", "json": {"rev": 1890, "ops": [{"op": "add", "id": "code_2", "type": "code", "lang": "javascript", "text": "const total = items.reduce((s, i) => s + i.price * i.qty, 0);\nconsole.log(`total: ${total}`);"}]}, "note": "code block shape", "tags": ["code"]},
    {"target": "/api/boards/9kq/export?format=svg&frame=frm_2&scale=2", "profile": "xhr", "headers": [["Accept", "image/svg+xml"]], "note": "export"},
]

kanban = [
    {"method": "POST", "target": "/api/boards/42/cards", "profile": "xhr", "json": {"list": "todo", "title": "Rechnungs-PDF: Umlaute kaputt (ä → Ã¤)", "labels": ["bug", "billing"], "due": "2026-12-12", "assignees": ["u_17"]}, "note": "card with mojibake in title"},
    {"method": "PUT", "target": "/api/cards/778/move", "profile": "xhr", "json": {"toList": "in_progress", "position": 65536.5}, "note": "move card"},
    {"method": "POST", "target": "/api/cards/778/comments", "profile": "xhr", "json": {"text": "Reproduced. The slow query is:\n```sql\nSELECT c.id, count(*) FROM cards c JOIN comments m ON m.card_id = c.id WHERE c.board_id = 42 GROUP BY c.id ORDER BY 2 DESC;\n```\nAdding an index on comments(card_id) should fix it."}, "note": "SQL snippet in dev comment", "tags": ["code"]},
    {"method": "POST", "target": "/api/cards/779/comments", "profile": "xhr", "json": {"text": "Deploy steps: `git pull && make build && sudo systemctl restart app` then check `journalctl -u app | tail -n 50`"}, "note": "shell commands in comment", "tags": ["code"]},
    {"target": "/api/boards/42/cards?filter=label:bug%20due:overdue%20-assignee:me&sort=-updated", "profile": "xhr", "note": "card filter syntax"},
    {"method": "POST", "target": "/api/cards/780/checklist", "profile": "xhr", "json": {"items": [{"text": "Write release notes (EN/ES)", "done": False}, {"text": "Ping @marta re: translations", "done": True}]}, "note": "checklist"},
]

lang = [
    {"method": "POST", "target": "/api/v1/lessons/ar-a1-07/answers", "profile": "mobile_app", "json": {"exercise": "translate", "prompt_id": "p_771", "answer": "أين محطة القطار؟", "expected_lang": "ar", "time_ms": 8120}, "note": "Arabic (RTL) answer"},
    {"method": "POST", "target": "/api/v1/lessons/he-a1-03/answers", "profile": "mobile_app", "json": {"exercise": "type_what_you_hear", "answer": "שלום, מה שלומך?", "audio_replays": 2}, "note": "Hebrew answer"},
    {"method": "POST", "target": "/api/v1/lessons/zh-a2-11/answers", "profile": "mobile_app", "json": {"exercise": "pinyin", "answer": "wǒ xiǎng hē yì bēi chá", "hanzi": "我想喝一杯茶"}, "note": "pinyin tones and hanzi"},
    {"target": "/api/v1/dictionary?word=%E0%A4%A8%E0%A4%AE%E0%A4%B8%E0%A5%8D%E0%A4%A4%E0%A5%87&from=hi&to=en", "profile": "mobile_app", "note": "Hindi dictionary lookup"},
    {"method": "POST", "target": "/api/v1/speech/score", "profile": "mobile_app", "headers": [["Content-Type", "multipart/form-data; boundary=----speech0412"]], "multipart": {"boundary": "----speech0412", "parts": [{"name": "phrase", "data": "Je voudrais un café, s'il vous plaît."}, {"name": "audio", "filename": "rec.m4a", "content_type": "audio/mp4", "data_b64": "AAAAHGZ0eXBNNEEgAAAAAE00QSBtcDQyaXNvbQAAAAhmcmVl"}]}, "note": "pronunciation scoring upload"},
    {"method": "POST", "target": "/api/v1/decks/d_88/cards", "profile": "xhr", "json": {"front": "Entschuldigung, wo ist die Toilette?", "back": "Excuse me, where is the toilet?", "notes": "Also: 'WC' — pronounced 'vay-tsay'", "tags": ["travel", "A1"]}, "note": "flashcard"},
]

pgn = """[Event "Club Championship"]
[Site "Reykjavík ISL"]
[Date "2026.12.06"]
[Round "5"]
[White "Jónsson, Ari"]
[Black "O'Neill, Siobhán"]
[Result "1/2-1/2"]
[ECO "C65"]

1. e4 e5 2. Nf3 Nc6 3. Bb5 Nf6 4. O-O Nxe4 5. d4 Nd6 6. Bxc6 dxc6 7. dxe5 Nf5
8. Qxd8+ Kxd8 {Berlin endgame} 9. Nc3 h6 10. h3 Ke8 11. b3 a5 (11... Be7 12. Bb2)
12. a4 Be6 13. Bb2 Bb4 14. Ne2 Rd8 15. Nf4 Bd5 16. Nxd5 cxd5 17. c3 Be7 1/2-1/2
"""
chess = [
    {"method": "POST", "target": "/api/import", "profile": "form", "form": [["pgn", pgn], ["analyse", "true"]], "note": "PGN import form"},
    {"target": "/analysis/standard/r1bqkb1r/pppp1ppp/2n2n2/1B2p3/4P3/5N2/PPPP1PPP/RNBQK2R_w_KQkq_-_4_4?color=white", "profile": "chrome", "note": "FEN in path"},
    {"target": "/api/cloud-eval?fen=rnbqkbnr%2Fpppppppp%2F8%2F8%2F4P3%2F8%2FPPPP1PPP%2FRNBQKBNR%20b%20KQkq%20e3%200%201&multiPv=3", "profile": "xhr", "note": "cloud eval FEN in query"},
    {"method": "POST", "target": "/api/board/game/Xk92LmQp/move/e7e5", "profile": "api", "headers": [["Authorization", "Bearer lip_9f8e7d6c5b4a"]], "body": "", "note": "board API move (empty body)"},
    {"method": "POST", "target": "/api/challenge/ari_j", "profile": "api", "form": [["rated", "true"], ["clock.limit", "300"], ["clock.increment", "3"], ["color", "random"], ["variant", "chess960"]], "note": "challenge with dotted form keys"},
    {"method": "POST", "target": "/api/board/game/Xk92LmQp/chat", "profile": "api", "form": [["room", "player"], ["text", "gg! 17...Be7 was a nice idea ;)"]], "note": "chat after game"},
]

srt = "1\n00:00:01,000 --> 00:00:03,400\n¿Dónde estabas anoche?\n\n2\n00:00:03,600 --> 00:00:06,100\n<i>En casa... te lo juro.</i>\n\n3\n00:00:06,300 --> 00:00:08,000\n- ¡Mentira!\n- Vale, vale.\n"
vtt = "WEBVTT\n\nNOTE translated by volunteer team\n\n00:00:01.000 --> 00:00:03.400 line:85% align:center\n<v Sarah>Where were you last night?</v>\n\n00:00:03.600 --> 00:00:06.100\n<i>At home... I swear.</i>\n"
lrc = "[ti:Hoa Sữa]\n[ar:Unknown]\n[length:03:41]\n[00:12.40]Hoa sữa thơm bay khắp phố\n[00:17.85]Người về có nhớ chăng\n[00:23.10]<00:23.10>Mùa <00:23.60>thu <00:24.05>Hà <00:24.50>Nội\n"
subs = [
    {"method": "POST", "target": "/subtitles/upload", "profile": "form_multipart", "multipart": {"boundary": "----WebKitFormBoundarySrt0001", "parts": [{"name": "imdb_id", "data": "tt0111161"}, {"name": "lang", "data": "es"}, {"name": "fps", "data": "23.976"}, {"name": "file", "filename": "Movie.2026.1080p.WEB.es.srt", "content_type": "application/x-subrip", "data": srt}]}, "note": "SRT with <i> styling tags (format-mandated)"},
    {"method": "POST", "target": "/subtitles/upload", "profile": "form_multipart", "multipart": {"boundary": "----WebKitFormBoundaryVtt0002", "parts": [{"name": "lang", "data": "en"}, {"name": "file", "filename": "ep02.en.vtt", "content_type": "text/vtt", "data": vtt}]}, "note": "VTT with voice spans and cue settings"},
    {"method": "POST", "target": "/karaoke/api/lyrics", "profile": "xhr", "json": {"track": "trk_8812", "format": "lrc", "lang": "vi", "content": lrc}, "note": "enhanced LRC with word timings"},
    {"target": "/subtitles/search?q=the+shawshank+redemption&lang=pt-BR,es&hearing_impaired=0", "profile": "chrome", "note": "search"},
    {"method": "POST", "target": "/subtitles/api/sync", "profile": "xhr", "json": {"subtitle": "sub_7731", "offset_ms": -1250, "stretch": 1.001}, "note": "timing fix"},
    {"target": "/subtitles/download/sub_7731.srt?encoding=windows-1250", "profile": "chrome", "headers": [["Accept", "application/x-subrip,*/*"]], "note": "download with encoding"},
]

osm_cs = '<osm><changeset><tag k="created_by" v="JOSM/1.5 (18907 en)"/><tag k="comment" v="Add bus stops along Rua Augusta; fix opening_hours"/><tag k="source" v="survey;Bing"/></changeset></osm>'
osm_diff = '''<osmChange version="0.6" generator="JOSM">
<create>
  <node id="-1" changeset="145220331" lat="38.7100553" lon="-9.1378841"><tag k="highway" v="bus_stop"/><tag k="name" v="Rua Augusta / Praça do Comércio"/><tag k="bench" v="yes"/></node>
</create>
<modify>
  <way id="4412771" version="7" changeset="145220331"><nd ref="27501"/><nd ref="27502"/><tag k="opening_hours" v="Mo-Fr 08:00-19:00; Sa 09:00-13:00; PH off"/><tag k="name" v="Café &quot;A Brasileira&quot;"/></way>
</modify>
<delete if-unused="true"><node id="9912003" version="2" changeset="145220331" lat="38.71" lon="-9.1379"/></delete>
</osmChange>
'''
JOSM = [["User-Agent", "JOSM/1.5 (18907 en) Linux Debian GNU/Linux 12 (bookworm) Java/17.0.9"], ["Accept", "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2"], ["Authorization", "Bearer osm_oauth2_tok_771"]]
osm = [
    {"method": "PUT", "target": "/api/0.6/changeset/create", "profile": "none", "headers": JOSM + [["Content-Type", "text/xml"]], "body": osm_cs, "note": "changeset create"},
    {"method": "POST", "target": "/api/0.6/changeset/145220331/upload", "profile": "none", "headers": JOSM + [["Content-Type", "text/xml"]], "body": osm_diff, "note": "osmChange upload"},
    {"target": "/api/0.6/map?bbox=-9.1420,38.7080,-9.1340,38.7130", "profile": "none", "headers": JOSM, "note": "map bbox download"},
    {"method": "PUT", "target": "/api/0.6/changeset/145220331/close", "profile": "none", "headers": JOSM, "body": "", "note": "close"},
    {"target": "/api/interpreter?data=%5Bout%3Ajson%5D%5Btimeout%3A25%5D%3Bnode%5B%22amenity%22%3D%22cafe%22%5D(38.70%2C-9.15%2C38.72%2C-9.13)%3Bout%20body%3B", "profile": "xhr", "note": "Overpass QL query"},
    {"method": "POST", "target": "/api/0.6/notes?lat=38.7101&lon=-9.1380&text=Este%20caf%C3%A9%20fechou%20em%20novembro%20(closed%20in%20November)", "profile": "chrome", "body": "", "note": "map note"},
]

LX = [["User-Agent", "ReviewPlatform/9.2"], ["Accept", "application/json"]]
ediscovery = [
    {"method": "POST", "target": "/api/matters/2026-CV-0412/search", "profile": "xhr", "json": {"query": "(merger OR acquisition) AND (\"Project Falcon\" OR falcon*) NOT privileged", "dateRange": {"from": "2025-01-01", "to": "2026-06-30"}, "custodians": ["jdoe", "msmith"], "dedupe": "global"}, "note": "boolean search"},
    {"method": "POST", "target": "/api/matters/2026-CV-0412/search", "profile": "xhr", "json": {"query": "price w/5 (fix* OR coordinat*) AND from:(*@competitor.example)", "fields": ["body", "subject", "attachments"]}, "note": "proximity operator search"},
    {"method": "POST", "target": "/api/matters/2026-CV-0412/tags", "profile": "xhr", "json": {"docs": ["DOC-0001882", "DOC-0001883"], "tag": "Hot", "coding": {"responsive": "Yes", "privilege": "Attorney-Client", "note": "Email from GC re: \"don't forward\" — log on privilege log"}}, "note": "coding panel"},
    {"target": "/api/matters/2026-CV-0412/documents/DOC-0001882/native?redactions=applied", "profile": "xhr", "headers": [["Accept", "application/octet-stream"]], "note": "native download"},
    {"method": "POST", "target": "/efiling/api/filings", "profile": "api", "headers": LX, "json": {"court": "NDCAL", "case": "3:26-cv-00412", "type": "motion", "title": "Defendant's Motion to Compel Production Under Fed. R. Civ. P. 34(b)(2)", "fee": "0.00", "serviceList": ["counsel@plaintiff-firm.example"]}, "note": "court e-filing"},
    {"method": "POST", "target": "/efiling/api/filings/F-88120/documents", "profile": "api_multipart", "multipart": {"boundary": "efile-bnd-33", "parts": [{"name": "docType", "data": "Exhibit A"}, {"name": "file", "filename": "Ex_A_Declaration_of_J_Doe.pdf", "content_type": "application/pdf", "data": "%PDF-1.7\n%\u00e2\u00e3\u00cf\u00d3\n1 0 obj<</Type/Catalog>>endobj\n%%EOF\n"}]}, "note": "exhibit upload"},
]

n = 0
for cat, es in [("video_conferencing", video), ("whiteboard_docs", whiteboard), ("kanban", kanban),
                ("language_learning", lang), ("chess_server", chess), ("subtitles_lyrics", subs),
                ("osm_editing", osm), ("ediscovery_efiling", ediscovery)]:
    n += write("benign", cat, es)
print("benign batch 4", n)
