"""Benign entries, part A: public-sector forms, documents, media, collaboration, messaging."""
import json
from urllib.parse import quote
from lib import E, write


def cdumps(o, **kw):
    """Compact JSON as SDKs and Slack send it."""
    return json.dumps(o, separators=(",", ":"), **kw)

PDF_B64 = "JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PCAvVHlwZSAvQ2F0YWxvZyA+PgplbmRvYmoKdHJhaWxlcgo8PCAvUm9vdCAxIDAgUiA+PgolJUVPRgo="

gov_eforms = [
    E("/gov/forms/passport-renewal?step=2&lang=es", profile="firefox", note="multi-step form, step 2 in Spanish"),
    E("/gov/forms/address-change", "POST", "form",
      form=[["csrf", "a9Fq2LzX0p"], ["nombre", "María José"], ["apellidos", "García Núñez"],
            ["fecha_nacimiento", "1984-03-12"], ["direccion", "Calle de Alcalá, 45, 3º izq."],
            ["cp", "28014"], ["municipio", "Madrid"], ["fecha_efecto", "2026-12-01"],
            ["consentimiento", "on"]],
      note="address change form, Spanish address with ordinal and comma"),
    E("/gov/forms/benefit-claim/evidence", "POST", "form_multipart",
      multipart={"boundary": "----WebKitFormBoundaryG0vUp7Lq", "parts": [
          {"name": "claim_ref", "data": "BEN-7-2026-118204"},
          {"name": "doc_type", "data": "proof_of_address"},
          {"name": "file", "filename": "Council tax bill (Nov).pdf", "content_type": "application/pdf", "data_b64": PDF_B64}]},
      note="evidence upload for a benefit claim"),
    E("/gov/api/postcodes/lookup?postcode=SW1A%202AA", profile="xhr", note="address finder by postcode"),
    E("/gov/api/forms/BEN-7/draft", "PUT", "xhr",
      json={"formId": "BEN-7", "draft": True, "page": "household",
            "answers": {"household_size": 3, "income_band": "£20,000–£29,999", "carer": "yes",
                        "notes": "My partner works part-time (16 hrs/week) & I'm a carer for my mother; she lives with us since May."}},
      note="autosave draft with free text"),
    E("/gov/formulare/wohngeld/antrag", "POST", "form",
      form=[["aktenzeichen", "WG-2026/0815"], ["begruendung", "Seit 01.10. bin ich in Elternzeit (§ 15 BEEG); das Einkommen hat sich um ca. 40 % verringert. Nachweise folgen per Post."],
            ["iban", "DE89 3704 0044 0532 0130 00"], ["absenden", "Antrag absenden"]],
      note="German housing benefit form with § and percent"),
]

tax_filing = [
    E("/api/efile/2025/w2", "POST", "xhr",
      json={"employer_ein": "12-3456789", "employer_name": "Blue Ridge Bakery, LLC", "box1_wages": "84210.55",
            "box2_fed_withheld": "11032.00", "box12": [{"code": "D", "amount": "6200.00"}, {"code": "DD", "amount": "7314.12"}],
            "state": "CA", "state_wages": "84210.55"},
      note="W-2 entry"),
    E("/efile/2025/summary?view=print", profile="safari", note="return summary print view"),
    E("/efile/2025/schedule-c", "POST", "form",
      form=[["business_desc", "Bookkeeping & payroll for small non-profits (no employees)"], ["naics", "541219"],
            ["gross_receipts", "48,900"], ["expenses[advertising]", "310"], ["expenses[software]", "1,188"],
            ["home_office_sqft", "120"], ["method", "simplified"]],
      note="Schedule C form with bracketed names"),
    E("/api/efile/2025/imports/1099b", "POST", "form_multipart",
      multipart={"boundary": "----WebKitFormBoundaryTx1099b", "parts": [
          {"name": "broker", "data": "Fidelity"},
          {"name": "file", "filename": "1099-B_2025.csv", "content_type": "text/csv",
           "data": "Description,Date Acquired,Date Sold,Proceeds,Cost Basis,Wash Sale\n100 sh AAPL,01/15/2023,06/02/2025,19120.00,13050.40,0\n25 sh VTI,VARIOUS,11/20/2025,7010.25,6402.00,0\n"}]},
      note="broker 1099-B import"),
    E("/api/steuer/2025/werbungskosten", "POST", "xhr",
      json={"steuerjahr": 2025, "posten": [{"art": "Arbeitsmittel", "betrag": "349,00", "beschreibung": "Laptop (anteilig 50 %)"},
                                           {"art": "Fahrtkosten", "km": 22, "tage": 198}]},
      note="German tax deductions"),
    E("/api/tax/refund-status?ssn_last4=6789&filing_status=MFJ&refund_amount=1432", profile="mobile_app", note="refund status check"),
]

ACC = "8a1c2e77-54b2-4c1f-9d7e-1f0b9a3c2d11"
ENV = "d6f1e2a3-0b4c-4d5e-8f90-a1b2c3d4e5f6"
ds_h = [["Authorization", "Bearer eyJ0eXAiOiJNVCIsImFsZyI6IlJTMjU2In0.eyJzdWIiOiI0NCJ9.c2lnbmF0dXJl"],
        ["User-Agent", "DocuSign-SDK/Python/3.25.0"]]
esignature = [
    E("/restapi/v2.1/accounts/%s/envelopes" % ACC, "POST", "api", headers=ds_h,
      json={"emailSubject": "Please sign: Lease renewal – Apt 4B", "status": "sent",
            "documents": [{"documentBase64": PDF_B64, "name": "Lease renewal.pdf", "fileExtension": "pdf", "documentId": "1"}],
            "recipients": {"signers": [{"email": "tenant@example.org", "name": "Amélie Dubois", "recipientId": "1", "routingOrder": "1",
                                        "tabs": {"signHereTabs": [{"anchorString": "/sn1/", "anchorUnits": "pixels", "anchorXOffset": "20", "anchorYOffset": "10"}],
                                                 "dateSignedTabs": [{"anchorString": "/ds1/"}]}}]}},
      note="create envelope with anchor tabs"),
    E("/restapi/v2.1/accounts/%s/envelopes?from_date=2026-11-01T00%%3A00%%3A00Z&status=completed,sent&count=100" % ACC,
      profile="api", headers=ds_h, note="list envelopes"),
    E("/restapi/v2.1/accounts/%s/envelopes/%s/views/recipient" % (ACC, ENV), "POST", "api", headers=ds_h,
      json={"returnUrl": "https://app.example.com/signed?env=%s&state=done" % ENV, "authenticationMethod": "none",
            "email": "tenant@example.org", "userName": "Amélie Dubois", "clientUserId": "1001"},
      note="embedded signing view"),
    E("/hooks/esign/connect", "POST", "api",
      headers=[["User-Agent", "DocuSign Connect"], ["X-DocuSign-Signature-1", "tZtXz0kq3WqQq6aZ4u2m9yJc1sH5n8pVbT3lR7eW0fI="]],
      json={"event": "envelope-completed", "apiVersion": "v2.1", "uri": "/restapi/v2.1/accounts/%s/envelopes/%s" % (ACC, ENV),
            "retryCount": 0, "generatedDateTime": "2026-12-07T16:41:09.3Z",
            "data": {"accountId": ACC, "envelopeId": ENV, "envelopeSummary": {"status": "completed", "emailSubject": "Please sign: Lease renewal – Apt 4B"}}},
      note="Connect event delivered to the app"),
    E("/signing/session/%s/submit" % ENV, "POST", "form",
      form=[["signature_mode", "typed"], ["typed_name", "José Ñúñez-O'Brien"], ["font", "Dancing Script"],
            ["consent_electronic", "1"], ["tz", "America/Mexico_City"]],
      note="typed signature with apostrophe"),
    E("/signing/documents/1/pages/2.png?dpi=96&env=%s" % ENV, profile="chrome_img", note="page render"),
]

cal_h = [["Authorization", "Bearer cal_live_8f7a6b5c4d3e2f1a"]]
scheduling = [
    E("/api/v1/availability?event_type=30min-intro&start=2026-12-08&end=2026-12-14&timezone=Europe%2FBerlin", profile="xhr",
      note="available slots for a week"),
    E("/api/v1/bookings", "POST", "xhr",
      json={"event_type": "30min-intro", "start": "2026-12-10T14:30:00+01:00", "timezone": "Europe/Paris",
            "invitee": {"name": "Léa Fontaine", "email": "lea.fontaine@example.fr"},
            "questions": [{"q": "De quoi souhaitez-vous parler ?", "a": "Migration de notre agenda (≈ 40 utilisateurs) ; besoin d'aide pour les fuseaux horaires."}],
            "utm": {"source": "site", "campaign": "hiver"}},
      note="booking with French answer"),
    E("/api/v1/bookings/bk_91xZ/cancel", "POST", "xhr", json={"reason": "Sorry — flight moved to Thursday. Can we do next week?"},
      note="cancel with reason"),
    E("/ical/u_8d7f2a/feed.ics?token=f0e1d2c3", profile="none",
      headers=[["User-Agent", "Google-Calendar-Importer"], ["Accept", "text/calendar, */*"], ["Accept-Encoding", "gzip"]],
      note="iCal subscription fetch"),
    E("/api/v1/bookings/bk_91xZ", "PATCH", "api", headers=cal_h,
      json={"start": "2026-12-15T09:00:00Z", "end": "2026-12-15T09:30:00Z", "reschedule_reason": "Client requested"},
      note="reschedule via API"),
    E("/api/v1/event_types/30min-intro", "PUT", "xhr",
      json={"title": "30 min intro call", "duration": 30, "buffer_before": 10, "min_notice_hours": 24,
            "location": {"type": "video", "provider": "meet"}, "description": "Quick chat: goals, budget & timeline. Agenda: 1) intro 2) Q&A 3) next steps"},
      note="edit event type"),
]

amc = [["User-Agent", "AppleCoreMedia/1.0.0.21C62 (iPhone; U; CPU OS 17_2 like Mac OS X; en_us)"],
       ["Accept", "*/*"], ["Accept-Encoding", "identity"], ["X-Playback-Session-Id", "6E1A4C1D-2C2B-4B9D-8F1F-1C5B2E6A9D33"]]
video_streaming = [
    E("/vod/7f3a9c/master.m3u8?token=exp%3D1765130000~acl%3D%2Fvod%2F7f3a9c%2F*~hmac%3D4b1e9c0d", profile="none", headers=amc,
      note="HLS master playlist with signed token"),
    E("/vod/7f3a9c/v1080/seg-00042.m4s", profile="none", headers=amc + [["Range", "bytes=0-1048575"]], note="fMP4 segment with Range"),
    E("/dash/7f3a9c/manifest.mpd", profile="xhr", headers=[["Origin", "https://watch.example.com"]], note="DASH manifest"),
    E("/drm/widevine/license?contentId=7f3a9c&kid=0x8B3C7A", "POST", "xhr",
      headers=[["Content-Type", "application/json"], ["X-DRM-Token", "eyJhbGciOiJIUzI1NiJ9.eyJjaWQiOiI3ZjNhOWMifQ.x1"]],
      json={"payload": "CAESlQsKzQoIARIQ6x4ZkL2v0A9h3iHcN0XR4RoNd2lkZXZpbmVfdGVzdCIcY2VuYzpZMlJwWkdOcFpBPT0qAlNEMgA="},
      note="Widevine license request (base64 challenge)"),
    E("/drm/fairplay/ckc", "POST", "none", headers=amc + [["Content-Type", "application/x-www-form-urlencoded"]],
      form=[["spc", "AAAAAQAAAAEAAAABAAEAAQABAAEDzGJHrz8Yk3x0bN1a+/Qh5w=="], ["assetId", "7f3a9c"]],
      note="FairPlay SPC form"),
    E("/api/playback/heartbeat", "POST", "xhr",
      json={"session": "ps_22aa", "asset": "7f3a9c", "position_s": 1843.2, "bitrate_kbps": 5800, "buffering_ms": 0, "state": "playing"},
      note="playback heartbeat"),
]

podcast_hosting = [
    E("/feeds/the-dev-hour.xml", profile="none",
      headers=[["User-Agent", "Overcast/1.0 Podcast Sync (2231 subscribers; feed-id=88120; +http://overcast.fm/)"],
               ["If-None-Match", "\"a4c1-61f0\""], ["Accept-Encoding", "gzip"]],
      note="feed poll by a podcast app"),
    E("/episodes/ep-112.mp3", profile="none",
      headers=[["User-Agent", "Podcasts/1565.2 CFNetwork/1490.0.4 Darwin/23.2.0"], ["Range", "bytes=0-1"], ["Accept", "*/*"]],
      note="episode download probe"),
    E("/api/shows/the-dev-hour/episodes", "POST", "xhr",
      json={"title": "Ep. 112 – Caching at the edge (with Priya R.)", "season": 3, "episode": 112, "explicit": False,
            "show_notes": "We talk CDNs, stale-while-revalidate & why 'just add Redis' isn't a plan.\n\nLinks:\n- https://example.org/rfc5861\n- Priya's talk: https://example.org/talks/edge",
            "publish_at": "2026-12-09T06:00:00Z"},
      note="create episode with show notes"),
    E("/api/episodes/ep-112/chapters", "PUT", "xhr",
      json={"version": "1.2.0", "chapters": [{"startTime": 0, "title": "Intro"}, {"startTime": 95, "title": "What is a cache key?"},
                                              {"startTime": 1320, "title": "Listener Q&A", "url": "https://example.org/qa"}]},
      note="podcast namespace chapters JSON"),
    E("/api/analytics/downloads?episode=ep-112&granularity=day&tz=America%2FChicago&from=2026-11-01", profile="xhr", note="download stats"),
    E("/api/episodes/ep-112/transcript", "POST", "form_multipart",
      multipart={"boundary": "----WebKitFormBoundarySrt77", "parts": [
          {"name": "language", "data": "en"},
          {"name": "file", "filename": "ep112.srt", "content_type": "application/x-subrip",
           "data": "1\n00:00:00,000 --> 00:00:04,200\nWelcome back to The Dev Hour!\n\n2\n00:00:04,200 --> 00:00:09,000\nToday: caching -- the good, the bad & the stale.\n"}]},
      note="SRT transcript upload"),
]

mus_h = [["Authorization", "Bearer BQDf8a7Zx1kL0pQ"]]
music_streaming = [
    E("/v1/search?q=Sigur%20R%C3%B3s&type=artist%2Calbum&market=IS&limit=10", profile="xhr", headers=mus_h, note="search artists"),
    E("/v1/me/player/play?device_id=4f1c9d0e", "PUT", "xhr", headers=mus_h,
      json={"context_uri": "spotify:album:1DFixLWuPkv3KT3TnV35m3", "offset": {"position": 5}, "position_ms": 0},
      note="start playback"),
    E("/v1/playlists/37i9dQZF1DX4sWSpwq3LiO/tracks", "POST", "xhr", headers=mus_h,
      json={"uris": ["spotify:track:4iV5W9uYEdYUVa79Axb7Rh", "spotify:track:1301WleyT98MSxVHPZCA6M"], "position": 0},
      note="add to playlist"),
    E("/v1/me/player/recently-played?limit=50&before=1765100000000", profile="mobile_app", note="recently played"),
    E("/lyrics/v2/track/6rqhFgbbKwnb9MLmUQDhG6?format=lrc&vocalRemoval=false", profile="mobile_app", note="synced lyrics"),
    E("/2.0/", "POST", "none",
      headers=[["User-Agent", "Scrobbler/2.4 (Android)"], ["Accept", "application/json"]],
      form=[["method", "track.scrobble"], ["artist[0]", "Björk"], ["track[0]", "Jóga"], ["album[0]", "Homogenic"],
            ["timestamp[0]", "1765124000"], ["api_key", "b25b959554ed76058ac220b7b2e0a026"], ["sk", "d580d57f32848f5dcf574d1ce18d78b2"],
            ["api_sig", "4c3b1e2f9a8d7c6b5a4f3e2d1c0b9a88"], ["format", "json"]],
      note="Last.fm-style scrobble"),
]

THREAD = "link:https://news.example.com/2026/12/07/council-budget-vote"
news_comments = [
    E("/api/3.0/threads/listPosts.json?thread=" + quote(THREAD, safe="") + "&forum=examplenews&limit=50&order=desc&cursor=1%3A0%3A0",
      profile="xhr", note="list comments"),
    E("/api/3.0/posts/create.json", "POST", "xhr",
      form=[["thread", "7712093"], ["message", "Finally! The bus lane on 5th has been \"under review\" since 2019. Let's see if they actually fund it this time…"],
            ["author_name", "Dana K."], ["parent", ""]],
      note="new comment, quotes and ellipsis"),
    E("/api/3.0/posts/create.json", "POST", "xhr",
      form=[["thread", "7712093"], ["message", "¿Y quién paga esto? El presupuesto sube un 12 % pero los barrios del sur siguen igual. 🙄"],
            ["parent", "99821734"]],
      note="Spanish reply with emoji"),
    E("/api/3.0/posts/vote.json", "POST", "xhr", form=[["post", "99821734"], ["vote", "1"]], note="upvote"),
    E("/api/3.0/posts/report.json", "POST", "xhr", form=[["post", "99821801"], ["reason", "spam"], ["note", "Same crypto link posted 6 times"]],
      note="flag a comment"),
    E("/api/3.0/posts/create.json", "POST", "xhr",
      form=[["thread", "7712093"], ["message", "The select committee already said the amendment should be dropped. Let the union reps table a counter-proposal before Thursday's vote — and where's the 1:1 match funding they promised?"],
            ["parent", ""]],
      note="plain English with parliamentary vocabulary"),
]

WIKITEXT = ("{{Infobox settlement\n| name = Kleinstadt\n| population_total = 12,480\n| elevation_m = 312\n}}\n"
            "'''Kleinstadt''' is a town in [[Bavaria]], [[Germany]].<ref>{{cite web |url=https://www.example.de/statistik |title=Einwohnerzahlen 2025 |access-date=2026-12-01}}</ref>\n\n"
            "== History ==\nFirst mentioned in 1123 as ''Chlinstat''.\n\n"
            "{| class=\"wikitable sortable\"\n! Year !! Population\n|-\n| 1900 || 3,210\n|-\n| 2025 || 12,480\n|}\n\n"
            "== References ==\n<references />\n\n[[Category:Towns in Bavaria]]")
mw_ua = [["User-Agent", "WikiBot/0.9 (https://example.org/wikibot; bot@example.org) mwclient/0.11"]]
wiki_editing = [
    E("/w/api.php?action=query&prop=revisions&titles=Kleinstadt&rvslots=*&rvprop=content%7Ctimestamp&formatversion=2&format=json",
      profile="api", headers=mw_ua, note="fetch page wikitext"),
    E("/w/api.php?action=query&meta=tokens&type=csrf&format=json", profile="api", headers=mw_ua, note="get CSRF token"),
    E("/w/api.php", "POST", "api", headers=mw_ua,
      form=[["action", "edit"], ["title", "Kleinstadt"], ["text", WIKITEXT], ["summary", "update population (source: state statistics office)"],
            ["basetimestamp", "2026-11-30T08:12:44Z"], ["bot", "1"], ["format", "json"], ["token", "d41d8cd98f00b204e9800998ecf8427e+\\"]],
      note="bot edit with infobox, ref, table"),
    E("/w/api.php", "POST", "xhr",
      form=[["action", "parse"], ["contentmodel", "wikitext"], ["title", "Benutzer:Ana/Entwurf"],
            ["text", "== Quellen ==\n* {{Literatur |Autor=Müller, K. |Titel=Stadtgeschichte |Jahr=1998 |Seiten=12–40}}\n* [https://example.de/archiv Stadtarchiv] (abgerufen am 3. Dez.)"],
            ["prop", "text|modules|jsconfigvars"], ["preview", "true"], ["format", "json"], ["formatversion", "2"]],
      note="live preview of German wikitext"),
    E("/w/index.php?search=Stadtgeschichte+Bayern&title=Spezial%3ASuche&profile=advanced&fulltext=1&ns0=1", profile="firefox",
      note="special search page"),
    E("/w/api.php?action=query&list=recentchanges&rcprop=title%7Cids%7Csizes%7Cflags%7Cuser&rclimit=100&rctype=edit%7Cnew&format=json",
      profile="api", headers=mw_ua, note="recent changes feed"),
]

jira_h = [["Authorization", "Basic b3BzQGV4YW1wbGUuY29tOkFUQVRUM3hGZkdGMEQ="], ["X-Atlassian-Token", "no-check"]]
JQL = 'project = OPS AND status in ("In Progress", "To Do") AND assignee = currentUser() ORDER BY priority DESC, updated ASC'
jira_confluence = [
    E("/rest/api/2/search?jql=" + quote(JQL, safe="") + "&maxResults=50&fields=summary,status,assignee,priority", profile="xhr",
      headers=jira_h, note="JQL search"),
    E("/rest/api/2/issue", "POST", "api", headers=jira_h,
      json={"fields": {"project": {"key": "OPS"}, "issuetype": {"name": "Bug"}, "priority": {"name": "High"},
                       "summary": "Checkout latency > 2s after 14:00 deploy",
                       "description": "*Impact:* ~8% of requests\n\n# p99 went from 400ms to 2.3s\n# only eu-west\n\nSee dashboard: https://grafana.example.com/d/abc?from=now-6h",
                       "labels": ["incident", "eu-west"]}},
      note="create issue with wiki markup"),
    E("/rest/api/2/issue/OPS-412/comment", "POST", "xhr", headers=jira_h,
      json={"body": "Rolled back to build 2026.12.07-3 at 15:12 UTC; latency back to normal. [~priya] can you check the connection pool settings?"},
      note="comment with mention"),
    E("/wiki/rest/api/content/884213", "PUT", "api", headers=jira_h,
      json={"id": "884213", "type": "page", "title": "Runbook: checkout latency", "version": {"number": 7},
            "body": {"storage": {"representation": "storage",
                                 "value": "<h2>Symptoms</h2><p>p99 above 1s on <code>/checkout</code>.</p><ac:structured-macro ac:name=\"info\"><ac:rich-text-body><p>Page the on-call if it lasts 10 min.</p></ac:rich-text-body></ac:structured-macro><ol><li>Check the pool</li><li>Roll back</li></ol>"}}},
      note="Confluence page in storage format"),
    E("/rest/api/2/issue/OPS-412/transitions", "POST", "xhr", headers=jira_h, json={"transition": {"id": "31"}, "fields": {"resolution": {"name": "Fixed"}}},
      note="transition issue"),
    E("/wiki/rest/api/content/search?cql=" + quote('space = ENG and type = page and title ~ "runbook" order by lastmodified desc', safe="") + "&limit=25",
      profile="xhr", headers=jira_h, note="CQL search"),
]

slack_h = [["User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)"], ["Accept", "application/json,*/*"],
           ["X-Slack-Request-Timestamp", "1765126012"], ["X-Slack-Signature", "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"]]
BLOCK_ACTION = {"type": "block_actions", "user": {"id": "U04ABCD12", "username": "priya"}, "team": {"id": "T0001"},
                "actions": [{"action_id": "approve_deploy", "block_id": "deploy_1", "value": "api-gateway@v2.14.1", "type": "button"}],
                "response_url": "https://hooks.slack.com/actions/T0001/1234/abcd", "trigger_id": "1337.42.abcd"}
slack_bots = [
    E("/slack/commands", "POST", "none", headers=slack_h,
      form=[["token", "gIkuvaNzQIHg97ATvDxqgjtO"], ["team_id", "T0001"], ["team_domain", "example"], ["channel_id", "C2147483705"],
            ["channel_name", "deploys"], ["user_id", "U2147483697"], ["user_name", "sam"], ["command", "/deploy"],
            ["text", "api-gateway v2.14.1 --env staging"], ["api_app_id", "A123456"],
            ["response_url", "https://hooks.slack.com/commands/1234/5678"], ["trigger_id", "13345224609.738474920.8088930838d88f008e0"]],
      note="slash command"),
    E("/slack/interactivity", "POST", "none", headers=slack_h, form=[["payload", cdumps(BLOCK_ACTION)]], note="button click payload"),
    E("/slack/events", "POST", "none", headers=slack_h,
      json={"token": "XXYYZZ", "team_id": "T0001", "api_app_id": "A123456", "type": "event_callback", "event_id": "Ev08MFMKH6",
            "event": {"type": "app_mention", "user": "U2147483697", "channel": "C2147483705", "ts": "1765126011.000200",
                      "text": "<@U0LAN0Z89> status of <https://status.example.com/incidents/42|incident 42>? & is the :fire: out?"}},
      note="app mention with Slack angle-bracket markup"),
    E("/slack/events", "POST", "none", headers=slack_h,
      json={"token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"},
      note="URL verification"),
    E("/discord/interactions", "POST", "none",
      headers=[["User-Agent", "Discord-Interactions/1.0 (+https://discord.com)"],
               ["X-Signature-Ed25519", "9c1f0e0a63b1b6a1f1d2e3c4b5a69788a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f00"],
               ["X-Signature-Timestamp", "1765126100"]],
      json={"type": 2, "id": "1183827713912217640", "application_id": "1183000000000000000", "guild_id": "9000000000000001",
            "data": {"name": "poll", "type": 1, "options": [{"name": "question", "type": 3, "value": "Raid night: Fri or Sat?"},
                                                            {"name": "choices", "type": 3, "value": "Fri 20:00 CET; Sat 18:00 CET"}]},
            "member": {"user": {"id": "80351110224678912", "username": "nelly"}}, "token": "aW50ZXJhY3Rpb24", "version": 1},
      note="Discord slash command interaction"),
    E("/slack/interactivity", "POST", "none", headers=slack_h,
      form=[["payload", cdumps({"type": "view_submission", "user": {"id": "U04ABCD12"},
                                    "view": {"callback_id": "incident_report", "state": {"values": {
                                        "sev": {"sev_select": {"type": "static_select", "selected_option": {"value": "sev2"}}},
                                        "desc": {"desc_input": {"type": "plain_text_input", "value": "Payments failing for ~5% of EU cards (3DS timeouts)."}}}}}})]],
      note="modal submission"),
]

tw_h = [["User-Agent", "TwilioProxy/1.1"], ["Accept", "*/*"], ["X-Twilio-Signature", "RSOYDt4T1cUTdK1PDd93/VVr8B8="]]
def tw(extra):
    base = [["ToCountry", "US"], ["ToState", "CA"], ["SmsMessageSid", "SM1f0e8c7a6b5d4c3b2a19080706050403"], ["NumMedia", "0"],
            ["ToCity", "SAN FRANCISCO"], ["FromZip", "94107"], ["FromState", "CA"], ["SmsStatus", "received"],
            ["To", "+14155550100"], ["MessagingServiceSid", "MG9752274e9e519418a7406176694466fa"],
            ["AccountSid", "AC0123456789abcdef0123456789abcdef"], ["From", "+14155550123"], ["ApiVersion", "2010-04-01"]]
    return base + extra
sms_webhooks = [
    E("/twilio/sms", "POST", "none", headers=tw_h, form=tw([["Body", "Running 10 min late, sorry! ETA 6:45"], ["NumSegments", "1"]]),
      note="inbound SMS"),
    E("/twilio/status", "POST", "none", headers=tw_h,
      form=[["SmsSid", "SM8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d"], ["SmsStatus", "delivered"], ["MessageStatus", "delivered"],
            ["To", "+4915112345678"], ["MessageSid", "SM8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d"], ["AccountSid", "AC0123456789abcdef0123456789abcdef"],
            ["From", "+14155550100"], ["ApiVersion", "2010-04-01"]],
      note="delivery status callback"),
    E("/twilio/sms", "POST", "none", headers=tw_h, form=tw([["Body", "¿Puedo cambiar mi cita al jueves a las 5? 😊 Gracias"], ["NumSegments", "1"]]),
      note="Spanish inbound with emoji"),
    E("/twilio/sms", "POST", "none", headers=tw_h, form=tw([["Body", "STOP"], ["OptOutType", "STOP"], ["NumSegments", "1"]]), note="opt-out"),
    E("/twilio/voice/gather", "POST", "none", headers=tw_h,
      form=[["CallSid", "CA5f4e3d2c1b0a99887766554433221100"], ["Digits", "3"], ["SpeechResult", "yes please reschedule to Monday"],
            ["Confidence", "0.91"], ["CallStatus", "in-progress"], ["From", "+14155550123"], ["To", "+14155550100"], ["Direction", "inbound"]],
      note="IVR gather result"),
    E("/twilio/sms", "POST", "none", headers=tw_h,
      form=tw([["Body", "here's the dent on the door -->"], ["NumMedia", "1"],
               ["MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages/MM800f449d0399ed014aae2bcc0cc2f2ec/Media/ME85ebf7e12cb821f84b319340424dcb02"],
               ["MediaContentType0", "image/jpeg"]]),
      note="MMS with media URL"),
]

write("benign", {k: v for k, v in globals().items() if k in (
    "gov_eforms", "tax_filing", "esignature", "scheduling", "video_streaming", "podcast_hosting", "music_streaming",
    "news_comments", "wiki_editing", "jira_confluence", "slack_bots", "sms_webhooks")})
