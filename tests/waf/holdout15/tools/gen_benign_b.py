"""Benign entries, part B: marketing, links, sync, auth, finance, delivery, mobility."""
import json
from urllib.parse import quote
from lib import E, write


def cdumps(o, **kw):
    """Compact JSON as SDKs and Slack send it."""
    return json.dumps(o, separators=(",", ":"), **kw)

mc_h = [["Authorization", "Basic YW55c3RyaW5nOjlmOGU3ZDZjNWI0YTM5MjgxNzE2MTUxNDEzMTItdXMyMQ=="],
        ["User-Agent", "MailchimpMarketing/3.0.80/python"]]
TEMPLATE = ("<!doctype html><html><body style=\"margin:0;font-family:Arial,sans-serif\">"
            "<table role=\"presentation\" width=\"100%\"><tr><td style=\"padding:24px\">"
            "<h1>Hi *|FNAME|*,</h1><p>Our winter menu is here &mdash; 15% off with code <strong>SNOW15</strong>.</p>"
            "<a href=\"https://shop.example.com/winter?utm_source=newsletter&amp;utm_medium=email\" style=\"background:#c00;color:#fff;padding:12px 20px\">See the menu</a>"
            "<p style=\"font-size:11px\">*|LIST:ADDRESSLINE|*<br><a href=\"*|UNSUB|*\">Unsubscribe</a> | <a href=\"*|UPDATE_PROFILE|*\">Preferences</a></p>"
            "</td></tr></table></body></html>")
email_marketing = [
    E("/3.0/lists/a1b2c3d4e5/members", "POST", "api", headers=mc_h,
      json={"email_address": "zoe.oconnor@example.ie", "status": "subscribed",
            "merge_fields": {"FNAME": "Zoë", "LNAME": "O'Connor", "BIRTHDAY": "04/17"}, "tags": ["webinar-2026", "dublin"],
            "marketing_permissions": [{"marketing_permission_id": "e2a1c3", "enabled": True}]},
      note="add list member with apostrophe in name"),
    E("/3.0/campaigns?status=sent&since_send_time=2026-11-01T00%3A00%3A00%2B00%3A00&count=20&fields=campaigns.id%2Ccampaigns.settings.subject_line",
      profile="api", headers=mc_h, note="list sent campaigns"),
    E("/3.0/campaigns/42694e9e57/content", "PUT", "api", headers=mc_h, json={"html": TEMPLATE, "plain_text": "Hi *|FNAME|*, our winter menu is here."},
      tags=["code"], note="campaign HTML template with merge tags"),
    E("/subscribe/post?u=8f7e6d5c4b3a&id=a1b2c3d4e5", "POST", "form",
      form=[["EMAIL", "kenji.sato@example.jp"], ["FNAME", "健二"], ["gdpr[1187]", "Y"], ["b_8f7e6d5c4b3a_a1b2c3d4e5", ""], ["subscribe", "Subscribe"]],
      note="embedded signup form with honeypot field"),
    E("/track/open.gif?u=8f7e6d5c4b3a&id=42694e9e57&e=3f1c2b9a7d", profile="none",
      headers=[["User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/42.0.2311.135 Safari/537.36 Edge/12.246 Mozilla/5.0"],
               ["Accept", "image/*"], ["Via", "1.1 GoogleImageProxy"]],
      note="open pixel via image proxy"),
    E("/track/click?u=8f7e6d5c4b3a&id=9a8b7c6d5e&e=3f1c2b9a7d&url=" + quote("https://shop.example.com/winter?utm_source=newsletter&utm_medium=email&utm_campaign=winter-menu#specials", safe=""),
      profile="chrome_mobile", note="click redirect with encoded destination"),
]

bl_h = [["Authorization", "Bearer 3f9e1a7c0b5d2e8f4a6c1b9d7e3f5a2c"]]
url_shortener = [
    E("/v4/shorten", "POST", "api", headers=bl_h,
      json={"long_url": "https://www.example.org/blog/2026/12/winter-sale?utm_source=twitter&utm_medium=social&utm_campaign=ws26", "domain": "ex.ly", "group_guid": "Ba1bc23dE4F"},
      note="shorten"),
    E("/3xKq9Z", profile="chrome_mobile", headers=[["Referer", "https://t.co/"]], note="follow a short link"),
    E("/3xKq9Z+", profile="firefox", note="public stats page"),
    E("/v4/bitlinks/ex.ly/3xKq9Z/clicks/summary?unit=day&units=30&unit_reference=2026-12-07T00%3A00%3A00%2B0000", profile="api", headers=bl_h,
      note="click summary"),
    E("/v4/bitlinks/ex.ly/3xKq9Z", "PATCH", "xhr", json={"title": "Winter sale — 30% off (EU)", "tags": ["campaign:ws26", "eu"], "archived": False},
      note="edit title and tags"),
    E("/v4/shorten", "POST", "xhr",
      json={"long_url": "https://docs.example.com/search?q=%22rate+limit%22+AND+headers&page=2&lang=en#results", "domain": "ex.ly"},
      note="shorten a URL containing an encoded search"),
]

oembed_previews = [
    E("/oembed?url=" + quote("https://video.example.org/watch?v=dQw4w9WgXcQ&t=42", safe="") + "&format=json&maxwidth=640&maxheight=360",
      profile="xhr", note="oEmbed JSON"),
    E("/2026/12/07/council-budget-vote", profile="none",
      headers=[["User-Agent", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"], ["Accept", "*/*"], ["Accept-Encoding", "gzip,deflate"], ["Range", "bytes=0-32767"]],
      note="Slack unfurl fetch"),
    E("/products/wool-scarf-grey?variant=4411", profile="none",
      headers=[["User-Agent", "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"], ["Accept", "*/*"], ["Accept-Encoding", "deflate, gzip"]],
      note="Facebook crawler"),
    E("/oembed.xml?url=" + quote("https://photos.example.net/p/8812/", safe="") + "&format=xml", profile="api", headers=[["Accept", "text/xml"]],
      note="oEmbed XML"),
    E("/api/link-preview", "POST", "xhr", json={"url": "https://news.example.com/2026/12/07/council-budget-vote?ref=share"}, note="app link preview"),
    E("/p/1234-how-we-cut-our-cloud-bill", profile="none",
      headers=[["User-Agent", "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)"], ["Accept", "*/*"]], note="Discord crawler"),
]

db_h = [["Authorization", "Bearer sl.B0aBcDeFgHiJkLmNoPqRsTuVwXyZ"], ["User-Agent", "DropboxDesktopClient/188.4.6302 (Windows)"]]
file_sync = [
    E("/2/files/list_folder", "POST", "api", headers=db_h,
      json={"path": "/Photos/2026", "recursive": False, "include_media_info": True, "include_deleted": False, "limit": 2000},
      note="list folder"),
    E("/2/files/list_folder/continue", "POST", "api", headers=db_h,
      json={"cursor": "AAHj8ZbVkWr0sXq1Yf3rQ9kz7c1JmXcB2tN5oP0aLsD4eFgH6iJ8kL0mN2oP4qR6sT8uV0wX2yZ4"}, note="delta continue"),
    E("/2/files/upload", "POST", "api",
      headers=db_h + [["Content-Type", "application/octet-stream"],
                      ["Dropbox-API-Arg", "{\"path\":\"/Notes/groceries.md\",\"mode\":\"overwrite\",\"autorename\":false,\"mute\":true}"]],
      body="# Groceries\n- oat milk (2)\n- eggs\n- tomatoes & basil\n- coffee 500g\n",
      note="upload small text file"),
    E("/2/files/download", "POST", "api",
      headers=db_h + [["Dropbox-API-Arg", "{\"path\":\"/Documents/R\\u00e9sum\\u00e9 2026 (final).pdf\"}"]],
      note="download with escaped non-ASCII path in header"),
    E("/2/files/list_folder/longpoll", "POST", "api", headers=[["User-Agent", "DropboxDesktopClient/188.4.6302 (Windows)"]],
      json={"cursor": "AAHj8ZbVkWr0sXq1Yf3rQ9kz7c1JmXcB2tN5oP0aLsD4eFgH6iJ8kL0mN2oP4qR6sT8uV0wX2yZ4", "timeout": 30}, note="longpoll"),
    E("/2/sharing/create_shared_link_with_settings", "POST", "xhr",
      json={"path": "/Shared/Offsite 2027/Agenda v3.docx", "settings": {"requested_visibility": "team_only", "audience": "team", "access": "viewer"}},
      note="create shared link"),
]

auth_2fa = [
    E("/account/password/forgot", "POST", "form", form=[["csrfmiddlewaretoken", "Zx8Yw7Vu6Ts5"], ["email", "amelie.dubois@example.fr"]],
      note="request reset"),
    E("/account/password/reset?uid=MTIzNDU&token=c2xk8a-3f1e9d0b7a6c5e4d2b1a", profile="chrome_mobile", note="open reset link"),
    E("/account/password/reset", "POST", "form",
      form=[["uid", "MTIzNDU"], ["token", "c2xk8a-3f1e9d0b7a6c5e4d2b1a"], ["new_password1", "Tr0mbone&Sunset<3!"], ["new_password2", "Tr0mbone&Sunset<3!"]],
      note="new password with symbols"),
    E("/api/auth/2fa/totp/verify", "POST", "xhr", json={"code": "482913", "remember_device": True, "device_name": "Firefox on Ubuntu"},
      note="TOTP verify"),
    E("/api/auth/webauthn/register/finish", "POST", "xhr",
      json={"id": "ADSUllKQmbqdGtpu4sjseh4cg2TxSvrbcHDTBsv4NSSX9", "rawId": "ADSUllKQmbqdGtpu4sjseh4cg2TxSvrbcHDTBsv4NSSX9", "type": "public-key",
            "response": {"clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoiZEc5d1UyVmpjbVYwIiwib3JpZ2luIjoiaHR0cHM6Ly9zaG9wLmV4YW1wbGUuY29tIn0",
                         "attestationObject": "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVjFSZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2NFAAAAAK3OAAI1vMYKZIsLJfHwVQMAQQA0lJZSkJm6nRrabuLI7HoeHINk8Ur623Bw0wbL-DUkl_Q",
                         "transports": ["internal", "hybrid"]},
            "clientExtensionResults": {"credProps": {"rk": True}}, "authenticatorAttachment": "platform", "nickname": "MacBook Touch ID"},
      note="WebAuthn registration"),
    E("/api/auth/webauthn/authenticate/finish", "POST", "xhr",
      json={"id": "ADSUllKQmbqdGtpu4sjseh4cg2TxSvrbcHDTBsv4NSSX9", "type": "public-key",
            "response": {"authenticatorData": "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFAAAAAQ",
                         "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoiY0dGemMydGxlUSIsIm9yaWdpbiI6Imh0dHBzOi8vc2hvcC5leGFtcGxlLmNvbSJ9",
                         "signature": "MEUCIQDkF0l6wnrdeiG2Mh1Zgbu6MrP_eQ3Bm-UFiWfQyTbN2QIgCsWq3rJTJx5c0mRHdl8bDp9GjR7ZbJbT7gBDXwOBq5k",
                         "userHandle": "dXNlcl84ODEy"}},
      note="WebAuthn assertion"),
]

bn_h = [["X-MBX-APIKEY", "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"], ["User-Agent", "python-binance/1.0.19"]]
crypto_exchange = [
    E("/api/v3/order?symbol=BTCUSDT&orderId=28&recvWindow=5000&timestamp=1765108800000&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71",
      profile="api", headers=bn_h, note="query order, signed query string"),
    E("/api/v3/order", "POST", "api", headers=bn_h,
      form=[["symbol", "ETHUSDT"], ["side", "BUY"], ["type", "LIMIT"], ["timeInForce", "GTC"], ["quantity", "0.25"], ["price", "3120.50"],
            ["newClientOrderId", "my_order_id_1"], ["recvWindow", "5000"], ["timestamp", "1765108801000"],
            ["signature", "3e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f"]],
      note="place limit order, signed form body"),
    E("/api/v3/klines?symbol=BTCUSDT&interval=15m&startTime=1765000000000&limit=500", profile="xhr", note="candles"),
    E("/orders", "POST", "api",
      headers=[["CB-ACCESS-KEY", "a3f9c2e1b7d84f60"], ["CB-ACCESS-SIGN", "vX2w3GkqLr0T9yZ+u1b7N5cQe8s4jH6mPa0fD2lK3o="],
               ["CB-ACCESS-TIMESTAMP", "1765108802.114"], ["CB-ACCESS-PASSPHRASE", "k9x7w5v3"]],
      json={"type": "limit", "side": "sell", "product_id": "BTC-EUR", "price": "92150.00", "size": "0.0105", "post_only": True, "client_oid": "0428b97b-bec1-429e-a94c-59232926778d"},
      note="Coinbase-style signed headers"),
    E("/0/private/Balance", "POST", "api",
      headers=[["API-Key", "Xk3Jt0bVc9Yq+Lz2W/eR8nA1uH6sD4fG5hJ7kL0mP"], ["API-Sign", "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="]],
      form=[["nonce", "1765108803001"]], note="Kraken-style private call"),
    E("/api/v3/openOrders?symbol=ETHUSDT&timestamp=1765108804000&signature=0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c",
      "DELETE", "api", headers=bn_h, note="cancel all open orders"),
]

sports_betting = [
    E("/api/scores/v1/live?sport=football&league=premier-league&date=2026-12-07", profile="xhr", note="live scores"),
    E("/api/odds/v3/events/88123/markets?format=decimal&markets=1X2,OU2.5,BTTS,AH-0.5", profile="xhr", note="markets for event"),
    E("/api/betslip/place", "POST", "xhr",
      json={"selections": [{"eventId": 88123, "market": "1X2", "outcome": "X", "price": 3.40},
                           {"eventId": 88140, "market": "OU2.5", "outcome": "Over", "price": 1.85}],
            "type": "double", "stake": "10.00", "currency": "GBP", "acceptOddsChanges": "higher"},
      note="place a double"),
    E("/api/scores/v1/matches/48811/lineups", profile="mobile_app", note="lineups"),
    E("/api/bets/B-7712093/cashout", "POST", "mobile_app", json={"amount": "14.62", "partial": False, "quoteId": "q_88aa"}, note="cash out"),
    E("/api/odds/v3/events?sport=tennis&competition=" + quote("ATP Finals - Turin") + "&inplay=true&lang=it", profile="xhr", note="in-play tennis"),
]

food_delivery = [
    E("/api/restaurants?lat=52.5200&lng=13.4050&cuisine=vietnamese&sort=eta&open_now=1", profile="mobile_app", note="nearby restaurants"),
    E("/api/cart/items", "POST", "mobile_app",
      json={"restaurant_id": "r_4410", "menu_item_id": "mi_8812", "qty": 2,
            "modifiers": [{"group": "spice", "option": "medium"}, {"group": "extras", "option": "fried shallots"}],
            "special_instructions": "No cilantro please, extra lime — allergic to peanuts!"},
      note="add to cart with instructions"),
    E("/api/orders/FD-22910/tip", "POST", "mobile_app", json={"amount_cents": 300, "currency": "EUR"}, note="tip"),
    E("/merchant/v1/orders/FD-22910/status", "POST", "api",
      headers=[["User-Agent", "MerchantTablet/3.8.1 (iPadOS 17.1)"], ["Authorization", "Bearer mt_7d6c5b4a"]],
      json={"status": "ready_for_pickup", "prep_time_minutes": 12, "note": "Bag #2 is drinks (2x Trà đá)"},
      note="merchant status update"),
    E("/courier/v2/location", "POST", "api",
      headers=[["User-Agent", "CourierApp/7.2.0 (Android 13; SM-A536B)"], ["Authorization", "Bearer cr_1a2b3c"]],
      json={"courier_id": "c_5521", "points": [{"lat": 52.52011, "lng": 13.40492, "acc": 6.5, "ts": 1765126301, "speed": 4.1, "heading": 271}]},
      note="courier location ping"),
    E("/api/orders/FD-22910/review", "POST", "mobile_app",
      json={"rating": 5, "text": "とても美味しかったです！フォーも温かいまま届きました。また注文します。", "tags": ["hot_food", "on_time"]},
      note="Japanese review"),
]

rh_h = [["Authorization", "Bearer JA.VUNmGAAAAAAAEgASAAAABwAIAAwAAAAAAAAAEgAAAAAAAAG8AAAAFAAAAAAADgAQAAQAAAAIAAwAAAAOAAAAkAAAABwAAAAEAAAAEAAAAMJvxPG"]]
ride_hailing = [
    E("/v1.2/estimates/price?start_latitude=40.7580&start_longitude=-73.9855&end_latitude=40.6413&end_longitude=-73.7781&seat_count=2",
      profile="mobile_app", headers=rh_h, note="price estimate"),
    E("/v1.2/requests", "POST", "mobile_app", headers=rh_h,
      json={"product_id": "a1111c8c-c720-46c3-8534-2fcdd730040d", "start_latitude": 40.6413, "start_longitude": -73.7781,
            "end_address": "350 5th Ave, New York, NY 10118", "fare_id": "d30e732b8bba22c9cdc10513ee86380087cb4a6f89e37ad21ba2a39f3a1ba960",
            "note_to_driver": "I'm at Terminal 4, door 2 (arrivals) — blue jacket, 2 suitcases"},
      note="request a ride"),
    E("/v1.2/requests/current", profile="mobile_app", headers=rh_h, note="current trip"),
    E("/driver/v2/status", "PUT", "api",
      headers=[["User-Agent", "DriverApp/4.31.0 (iOS 17.2; iPhone14,5)"], ["Authorization", "Bearer drv_77aa"]],
      json={"online": True, "vehicle_id": "veh_2210", "lat": 40.7306, "lng": -73.9352, "accepts": ["x", "comfort"]},
      note="driver goes online"),
    E("/v1.2/trips/tr_88aa/rating", "POST", "mobile_app", headers=rh_h,
      json={"stars": 5, "compliments": ["great_conversation", "clean_car"], "comment": "Muy amable, coche limpio y puntual.", "tip_cents": 500},
      note="rate trip in Spanish"),
    E("/v1.2/requests/b5512127-4f8f-4f9e-9f25-f6d0d0c27c1b", "DELETE", "mobile_app", headers=rh_h, note="cancel request"),
]

ocpi_h = [["Authorization", "Token ZWJmMTJkYTEtZjY1OS00ZmY2LWFlY2ItN2M4YzRmNTc0MmQ0"], ["X-Request-ID", "5a1b6f7e-20a1-4e35-9c0c-77e3f2b2a1d3"],
          ["X-Correlation-ID", "b1f0c0d2-6d3e-4c1a-9a7e-0c7f8a1e2d33"], ["OCPI-from-country-code", "NL"], ["OCPI-from-party-id", "EVB"],
          ["OCPI-to-country-code", "DE"], ["OCPI-to-party-id", "CHG"], ["User-Agent", "ocpi-client/2.2.1"]]
ev_charging = [
    E("/ocpp/CP-0042", profile="none",
      headers=[["Upgrade", "websocket"], ["Connection", "Upgrade"], ["Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="], ["Sec-WebSocket-Version", "13"],
               ["Sec-WebSocket-Protocol", "ocpp1.6"], ["Authorization", "Basic Q1AtMDA0MjpzM2NyM3RQYXNz"]],
      note="OCPP-J charge point WebSocket upgrade"),
    E("/ocpi/cpo/2.2.1/locations?date_from=2026-12-01T00%3A00%3A00Z&offset=0&limit=50", profile="api", headers=ocpi_h, note="OCPI locations pull"),
    E("/ocpi/emsp/2.2.1/sessions/NL/EVB/SESS-20261207-0042", "PUT", "api", headers=ocpi_h,
      json={"country_code": "NL", "party_id": "EVB", "id": "SESS-20261207-0042", "start_date_time": "2026-12-07T15:02:11Z", "kwh": 11.42,
            "cdr_token": {"uid": "012345678", "type": "RFID", "contract_id": "DE8ACC12E46L89"}, "auth_method": "WHITELIST",
            "location_id": "LOC1", "evse_uid": "3256", "connector_id": "1", "currency": "EUR", "status": "ACTIVE", "last_updated": "2026-12-07T16:10:00Z"},
      note="OCPI session push"),
    E("/ocpi/cpo/2.2.1/commands/START_SESSION", "POST", "api", headers=ocpi_h,
      json={"response_url": "https://emsp.example.net/ocpi/emsp/2.2.1/commands/START_SESSION/1234",
            "token": {"country_code": "DE", "party_id": "CHG", "uid": "abc123", "type": "APP_USER", "contract_id": "DE8ACC12E46L89",
                      "issuer": "ChargeApp", "valid": True, "whitelist": "ALLOWED", "last_updated": "2026-12-07T16:00:00Z"},
            "location_id": "LOC1", "evse_uid": "3256"},
      note="OCPI remote start"),
    E("/api/charging/start", "POST", "mobile_app", json={"station": "EVB-0042", "connector": 2, "max_kwh": 30, "payment_method": "pm_card_visa"},
      note="app starts a charge"),
    E("/ocpi/emsp/2.2.1/tariffs/NL/EVB/T12", "PUT", "api", headers=ocpi_h,
      json={"country_code": "NL", "party_id": "EVB", "id": "T12", "currency": "EUR",
            "tariff_alt_text": [{"language": "nl", "text": "€0,35 per kWh, na 4 uur €1 per uur parkeren"}, {"language": "en", "text": "€0.35/kWh; €1/hour parking after 4 h"}],
            "elements": [{"price_components": [{"type": "ENERGY", "price": 0.35, "step_size": 1}]}], "last_updated": "2026-12-07T09:00:00Z"},
      note="OCPI tariff with multilingual text"),
]

tel_h = [["User-Agent", "fleet-gw/2.6.3 (teltonika-bridge)"], ["Authorization", "Bearer flt_9Zq1"]]
fleet_telematics = [
    E("/api/v1/telemetry", "POST", "api", headers=tel_h,
      json={"device": "FMC130-356307042441013", "vin": "WDB9066351S123456",
            "records": [{"ts": "2026-12-07T16:20:01Z", "lat": 48.13743, "lon": 11.57549, "alt": 519, "speed": 0, "ignition": True,
                         "can": {"engine_rpm": 780, "fuel_level_pct": 61.5, "odometer_km": 184233.4, "coolant_c": 86}},
                        {"ts": "2026-12-07T16:20:31Z", "lat": 48.13811, "lon": 11.57702, "alt": 520, "speed": 23, "ignition": True,
                         "can": {"engine_rpm": 1650, "fuel_level_pct": 61.4, "odometer_km": 184233.6, "coolant_c": 87}}]},
      note="telemetry batch"),
    E("/api/v1/diagnostics", "POST", "api", headers=tel_h,
      json={"vin": "WDB9066351S123456", "mil": True, "dtc": ["P0420", "P0171"], "freeze_frame": {"P0420": {"rpm": 2100, "load_pct": 37, "stft": -3.1}}},
      note="OBD trouble codes"),
    E("/api/v1/vehicles/veh_2210/trips?from=2026-12-01T00%3A00%3A00Z&to=2026-12-07T23%3A59%3A59Z&include=stops,idling", profile="xhr",
      note="trip history"),
    E("/api/v1/eld/logs", "POST", "api", headers=[["User-Agent", "ELDApp/5.0.2 (Android 12)"], ["Authorization", "Bearer eld_55"]],
      json={"driver_id": "drv_1042", "date": "2026-12-07", "events": [{"status": "ON", "ts": "2026-12-07T05:58:00-06:00", "loc": "Joplin, MO"},
                                                                      {"status": "D", "ts": "2026-12-07T06:15:00-06:00", "odometer": 412203},
                                                                      {"status": "OFF", "ts": "2026-12-07T11:30:00-06:00", "note": "30-min break @ Flying J"}],
            "certified": True},
      note="electronic logbook"),
    E("/api/v1/geofences?updated_since=2026-12-06T00%3A00%3A00Z", profile="api", headers=tel_h, note="geofence sync"),
    E("/api/v1/vehicles/veh_2210/maintenance", "POST", "xhr",
      json={"type": "service", "odometer_km": 184240, "items": ["oil & filter (5W-30)", "brake pads (front)"], "cost": "412.80", "shop": "Autohaus Süd"},
      note="maintenance record"),
]

write("benign", {k: v for k, v in globals().items() if k in (
    "email_marketing", "url_shortener", "oembed_previews", "file_sync", "auth_2fa", "crypto_exchange", "sports_betting",
    "food_delivery", "ride_hailing", "ev_charging", "fleet_telematics")})
