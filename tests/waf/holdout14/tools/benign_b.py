"""Benign entries (part 2), written by hand for holdout14."""
import base64
from lib import B

# ---------------------------------------------------------------- OpenRTB ad-tech
O = "openrtb"
RTB = [["User-Agent", "Go-http-client/1.1"], ["x-openrtb-version", "2.6"], ["Content-Type", "application/json"]]
B(O, "bid request banner", method="POST", target="/rtb/bid", profile="api", headers=RTB,
  json={"id": "80ce30c53c16e6ede735f123ef6e32361bfc7b22", "at": 1, "cur": ["USD"], "tmax": 120,
        "imp": [{"id": "1", "bidfloor": 0.35, "banner": {"w": 300, "h": 250, "pos": 1, "format": [{"w": 300, "h": 250}, {"w": 320, "h": 50}]}, "secure": 1}],
        "site": {"id": "102855", "domain": "news.example.org", "page": "https://news.example.org/sport/football/2026/12/07/derby-report?utm_source=twitter", "cat": ["IAB17"], "publisher": {"id": "8953"}},
        "device": {"ua": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1", "ip": "81.2.69.0", "devicetype": 4, "language": "en"},
        "user": {"id": "55816b39711f9b5acf3b90e313ed29e51665623f"}, "regs": {"ext": {"gdpr": 1}}})
B(O, "bid response with adm markup", method="POST", target="/rtb/ssp/response-log", profile="api", headers=RTB,
  json={"id": "80ce30c53c16e6ede735f123ef6e32361bfc7b22", "seatbid": [{"seat": "512", "bid": [{"id": "1", "impid": "1", "price": 0.92, "adid": "314", "crid": "cr-2291",
        "nurl": "https://dsp.example.net/win?price=${AUCTION_PRICE}&imp=${AUCTION_IMP_ID}",
        "adm": "<a href=\"https://dsp.example.net/click?c=2291\" target=\"_blank\"><img src=\"https://cdn.dsp.example.net/cr/2291.jpg\" width=\"300\" height=\"250\" alt=\"Winter sale\"></a>", "adomain": ["brand.example"], "w": 300, "h": 250}]}], "cur": "USD"})
B(O, "win notice with macro-substituted price", target="/rtb/win?price=0.8734&imp=1&bid=80ce30c53c16e6ede735f123ef6e32361bfc7b22&cr=cr-2291&ts=1733590012", profile="none",
  headers=[["User-Agent", "Go-http-client/1.1"]])
B(O, "video imp with VAST wrapper request", method="POST", target="/rtb/bid", profile="api", headers=RTB,
  json={"id": "a1f0b77e", "imp": [{"id": "1", "video": {"mimes": ["video/mp4", "application/javascript"], "minduration": 5, "maxduration": 30, "protocols": [2, 3, 7], "w": 640, "h": 360, "api": [2, 7]}}],
        "app": {"bundle": "com.example.news", "storeurl": "https://play.google.com/store/apps/details?id=com.example.news"}, "device": {"ifa": "38400000-8cf0-11bd-b23e-10b96e40000d", "os": "Android"}})
B(O, "impression pixel from creative", target="/imp?cid=2291&pid=8953&sid=102855&gdpr=1&gdpr_consent=CPmRV8APmRV8AAHABBENC6CsAP_AAH_AAAAAIMtf_X__b3_j-_5_f_t0eY1P9_7_v-0zjhfdt-8N2f_X_L8X42M7vF36pq4KuR4Eu3LBIQdlHOHcTUmw6okVrzPsbk2Mr7NKJ7PEmnMbO2dYGH9_n93TuZKY7__8___z__-v_v____f_r-3_3__59X---_e_V399zLv9____39nN___9uCCYBJhqXkAXYljgybRpVCiBGFYSHQCgAooBhaJrCBlcFOyuAj1BCwAQmoCMCIEGIKMGAQACAQBIREBIAeCARAEQCAAEAKkBCAAjYBBYAWBgEAAoBoWIEUAQgSEGRwVHKYEBEi0UE8lYAlF3sYYQhlFgBQKP6KjARKEAAAAA", profile="chrome_img")
B(O, "prebid.js client auction", method="POST", target="/openrtb2/auction", profile="xhr", headers=[["Content-Type", "text/plain"]],
  body="{\"id\":\"f2b7c1e4-0d7a-4a41-9f0e-5b2f6a3c1d22\",\"imp\":[{\"id\":\"div-gpt-ad-1460505748561-0\",\"banner\":{\"format\":[{\"w\":728,\"h\":90}]},\"ext\":{\"prebid\":{\"bidder\":{\"appnexus\":{\"placementId\":13144370}}}}}],\"site\":{\"page\":\"https://news.example.org/\"},\"tmax\":1000}")

# ---------------------------------------------------------------- maps / geocoding / weather
G = "maps_geo"
B(G, "forward geocode with apostrophe", target="/geocode/v1/search?q=St%20Mary%27s%20Rd%2C%20Cambridge%20CB2&limit=5&countrycodes=gb&format=jsonv2&addressdetails=1", profile="xhr")
B(G, "reverse geocode", target="/reverse?lat=48.85837&lon=2.294481&zoom=18&format=json&accept-language=fr", profile="xhr")
B(G, "vector tile fetch", target="/tiles/v3/14/8185/5447.pbf?access_token=pk.eyJ1IjoiZXhhbXBsZSIsImEiOiJjbGFiYzEyMyJ9.d2VsbA", profile="chrome_img",
  headers=[["Accept", "application/x-protobuf,*/*"]])
B(G, "directions with polyline and waypoints", target="/directions/v5/driving/-0.1278,51.5074;-1.2577,51.7520;-1.8904,52.4862?alternatives=true&geometries=polyline6&overview=full&steps=true&exclude=toll%2Cferry", profile="mobile_app")
B(G, "weather forecast API", target="/v1/forecast?latitude=52.52&longitude=13.41&hourly=temperature_2m,precipitation_probability,wind_speed_10m&daily=sunrise,sunset&timezone=Europe%2FBerlin&forecast_days=7", profile="api")
B(G, "GeoJSON feature save from drawing tool", method="POST", target="/api/maps/91/features", profile="xhr",
  json={"type": "Feature", "properties": {"name": "Dog walk loop (muddy after rain!)", "stroke": "#e63946"}, "geometry": {"type": "LineString", "coordinates": [[-1.5491, 53.8008], [-1.5502, 53.8031], [-1.5455, 53.8047], [-1.5491, 53.8008]]}})
B(G, "weather alerts by area with CAP filter", target="/alerts/active?area=CA,NV&severity=Severe,Extreme&status=actual&message_type=alert,update", profile="api",
  headers=[["Accept", "application/geo+json"], ["User-Agent", "(myweatherapp.example.com, contact@myweatherapp.example.com)"]])

# ---------------------------------------------------------------- IoT bridges (MQTT-over-HTTP, device ingest)
I = "iot_bridge"
IOT = [["User-Agent", "ESP32HTTPClient"], ["Accept", "*/*"]]
B(I, "sensor publish to topic", method="POST", target="/api/v1/publish?topic=site%2Fleeds%2Fgreenhouse%2F3%2Ftelemetry&qos=1&retain=false", profile="none",
  headers=IOT + [["Authorization", "Basic ZGV2aWNlLTAwMzpzM2NyM3Q="], ["Content-Type", "application/json"]],
  body="{\"ts\":1733590012,\"temp_c\":21.4,\"rh\":63.2,\"soil\":[412,398,455],\"batt_mv\":3712,\"fw\":\"1.8.2\"}")
B(I, "LoRaWAN uplink webhook", method="POST", target="/integrations/ttn/uplink", profile="api",
  headers=[["User-Agent", "TheThingsStack/3.28 (linux/amd64)"], ["X-Downlink-Apikey", "NNSXS.ABCD1234EFGH"]],
  json={"end_device_ids": {"device_id": "soil-07", "dev_eui": "70B3D57ED005A3F1"}, "received_at": "2026-12-07T16:40:12.3Z",
        "uplink_message": {"f_port": 2, "frm_payload": "AZYBDgM=", "decoded_payload": {"moisture": 40.6, "temp": 7.8}, "rx_metadata": [{"gateway_ids": {"gateway_id": "gw-roof"}, "rssi": -97, "snr": 7.25}]}})
B(I, "device shadow update", method="POST", target="/things/thermostat-hall/shadow", profile="none",
  headers=IOT + [["Content-Type", "application/json"], ["x-amz-date", "20261207T164012Z"]],
  body="{\"state\":{\"reported\":{\"setpoint\":20.5,\"mode\":\"heat\",\"schedule\":\"06:30-08:30|17:00-22:30\"}}}")
B(I, "senml batch", method="POST", target="/ingest/senml", profile="none", headers=IOT + [["Content-Type", "application/senml+json"]],
  body="[{\"bn\":\"urn:dev:mac:0024befffe804ff1:\",\"bt\":1.733590012e9,\"bu\":\"A\",\"bver\":5,\"n\":\"voltage\",\"u\":\"V\",\"v\":120.1},{\"n\":\"current\",\"t\":-5,\"v\":1.2},{\"n\":\"current\",\"t\":-4,\"v\":1.3}]")
B(I, "firmware update check", target="/ota/check?device=esp32-c3&model=plug-v2&current=1.8.2&channel=stable&mac=24%3A0A%3AC4%3A12%3A34%3A56", profile="none", headers=IOT)
B(I, "retained config read via HTTP bridge", target="/api/v1/retained?topic=site%2F%2B%2Fgreenhouse%2F%23&limit=100", profile="api",
  headers=[["Authorization", "Bearer iot-dash-2ad81f"]])

# ---------------------------------------------------------------- payment webhooks
P = "payment_webhooks"
B(P, "Stripe-style event", method="POST", target="/webhooks/stripe", profile="none",
  headers=[["User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)"], ["Accept", "*/*; q=0.5, application/xml"], ["Content-Type", "application/json; charset=utf-8"],
           ["Stripe-Signature", "t=1733590012,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd"]],
  json={"id": "evt_1OAbCd2eZvKYlo2C", "object": "event", "api_version": "2023-10-16", "created": 1733590012, "type": "payment_intent.succeeded",
        "data": {"object": {"id": "pi_3OAbCd2eZvKYlo2C1", "amount": 8999, "currency": "gbp", "description": "Order #100482 - Trail Runner 3 (42, black)", "metadata": {"order_id": "100482", "note": "leave w/ neighbour @ no. 14"}, "status": "succeeded"}},
        "livemode": False, "pending_webhooks": 1, "request": {"id": "req_8xKq", "idempotency_key": "b9a1e6d2-3c44-4f1b-8a55-0c2f7f81e913"}})
B(P, "PayPal-style IPN form", method="POST", target="/paypal/ipn", profile="none",
  headers=[["User-Agent", "PayPal IPN ( https://www.paypal.com/ipn )"], ["Content-Type", "application/x-www-form-urlencoded"]],
  body="mc_gross=45.00&protection_eligibility=Eligible&address_status=confirmed&payer_id=LPLWNMTBWMFAY&address_street=1+Main+St&payment_date=08%3A40%3A12+Dec+07%2C+2026+PST&payment_status=Completed&charset=windows-1252&first_name=John&mc_fee=1.61&notify_version=3.9&custom=order%3D100483&payer_status=verified&item_name1=Gift+card+%26+wrap&quantity1=1&txn_id=61E67681CH3238416&verify_sign=AtkOfCXbDm2hu0ZELryHFjY-Vb7PAUvS6nMXgysbElEn9v-1XcmSoGtf")
B(P, "Adyen-style notification", method="POST", target="/webhooks/adyen", profile="api",
  headers=[["User-Agent", "Adyen HttpClient 1.0"], ["Authorization", "Basic d2ViaG9vazpwYXNz"]],
  json={"live": "false", "notificationItems": [{"NotificationRequestItem": {"additionalData": {"hmacSignature": "coqCmt/IZ4E3CzPvMY8zTjQVL5hYJUiBRg8UU+iCWo0="}, "amount": {"currency": "EUR", "value": 1130}, "eventCode": "AUTHORISATION", "eventDate": "2026-12-07T17:40:12+01:00", "merchantAccountCode": "ShopEU", "merchantReference": "100484", "pspReference": "7914073381342284", "reason": "033899:1111:03/2030", "success": "true"}}]})
B(P, "GoCardless-style signed batch", method="POST", target="/webhooks/gocardless", profile="none",
  headers=[["User-Agent", "gocardless-webhook-service/1.1"], ["Content-Type", "application/json"], ["Webhook-Signature", "7ef8c19c2b0a9e24d1f3c6bb8a02f9f4e4d7b1de1f0f8a3c77c9c2ee4a0a1b3d"]],
  body="{\"events\":[{\"id\":\"EV0012AB3CD4\",\"created_at\":\"2026-12-07T16:40:12.000Z\",\"resource_type\":\"payments\",\"action\":\"confirmed\",\"links\":{\"payment\":\"PM00AB12CD34\"},\"details\":{\"origin\":\"gocardless\",\"cause\":\"payment_confirmed\",\"description\":\"Enough time has passed since the payment was submitted for the banks to return an error, so this payment is now confirmed.\"}}]}")
B(P, "Square-style refund webhook", method="POST", target="/webhooks/square", profile="none",
  headers=[["User-Agent", "Square Connect v2"], ["Content-Type", "application/json"], ["x-square-hmacsha256-signature", "Jd3Ae9l1EfKqHcOxA7u1rGh6cAZtO1ZQOg7bYQ6+ry0="]],
  json={"merchant_id": "6SSW7HV8K2ST5", "type": "refund.updated", "event_id": "a3f1e2d4-0b9c-4c1e-8f7a-2d6e5b4c3a21", "data": {"type": "refund", "id": "KkAkhdMs", "object": {"refund": {"amount_money": {"amount": 550, "currency": "USD"}, "reason": "Customer said: \"wrong size; will re-order\"", "status": "COMPLETED"}}}})
B(P, "Mollie-style id-only callback", method="POST", target="/webhooks/mollie", profile="none",
  headers=[["User-Agent", "Mollie/1.0"], ["Content-Type", "application/x-www-form-urlencoded"]], body="id=tr_WDqYK6vllg")

# ---------------------------------------------------------------- OAuth / OIDC
A = "oidc"
B(A, "authorize redirect with PKCE", target="/oauth2/authorize?response_type=code&client_id=spa-web&redirect_uri=https%3A%2F%2Fapp.example.com%2Fauth%2Fcallback&scope=openid%20profile%20email%20offline_access&state=af0ifjsldkj&nonce=n-0S6_WzA2Mj&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&prompt=login&ui_locales=en-GB")
B(A, "token exchange", method="POST", target="/oauth2/token", profile="api",
  headers=[["Authorization", "Basic c3BhLXdlYjpzM2NyM3Qtc2VjcmV0"]],
  form=[["grant_type", "authorization_code"], ["code", "SplxlOBeZQQYbYS6WxSbIA"], ["redirect_uri", "https://app.example.com/auth/callback"], ["code_verifier", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"]])
B(A, "refresh token", method="POST", target="/oauth2/token", profile="mobile_app",
  form=[["grant_type", "refresh_token"], ["refresh_token", "8xLOxBtZp8.Gm_ZpS-mPq2vA"], ["client_id", "ios-app"], ["scope", "openid profile"]])
B(A, "form_post response mode", method="POST", target="/auth/callback", profile="form",
  headers=[["Origin", "https://id.example.com"], ["Referer", "https://id.example.com/"]],
  form=[["code", "SplxlOBeZQQYbYS6WxSbIA"], ["state", "af0ifjsldkj"], ["id_token", "eyJhbGciOiJSUzI1NiIsImtpZCI6IjFlOWdkazcifQ.eyJpc3MiOiJodHRwczovL2lkLmV4YW1wbGUuY29tIiwic3ViIjoiMjQ4Mjg5NzYxMDAxIiwiYXVkIjoic3BhLXdlYiIsIm5vbmNlIjoibi0wUzZfV3pBMk1qIiwiZXhwIjoxNzMzNTkzNjEyLCJpYXQiOjE3MzM1OTAwMTJ9.rHQjEmBqn9Jre0OLykYNnspA10Qql2rvx4FsD00jwlB0Sym4NzpgvPKsDjn_wMkHxcp6CilPcoKrWHcipR2iAjzLvDNAReF97zoJqq880ZD1bwY82JDauCXELVR9O6_B0w3K-E7yM2macAAgNCUwtik6SjoSUZRcf-O5lygIyLENx882p6MtmwaL1hd6qn5RZOQ0TLrOYu0532g9Exxcm-ChymrB4xLykpDj3lUivJt63eEGGN6DH5K6o33TcxkIjNrCD4XB1CKKumZvCedgHHF3IAK4dVEDSUoGlH9z4pP_eWYNXvqQOjGs-rDaQzUHl6cQQWNiDpWOl_lxXjQEvQ"]])
B(A, "discovery and JWKS", target="/.well-known/openid-configuration", profile="api")
B(A, "device authorization grant", method="POST", target="/oauth2/device_authorization", profile="none",
  headers=[["User-Agent", "SmartTV/4.2 (Tizen 7.0)"], ["Content-Type", "application/x-www-form-urlencoded"]], body="client_id=tv-app&scope=openid%20profile%20offline_access")
B(A, "end session with post-logout redirect", target="/oauth2/logout?id_token_hint=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIyNDgyODk3NjEwMDEifQ.c2ln&post_logout_redirect_uri=https%3A%2F%2Fapp.example.com%2F%3Floggedout%3D1&state=xyz")

# ---------------------------------------------------------------- SAML
S = "saml"
RESP = ('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_8e8dc5f69a98cc4c1ff3427e5ce34606fd672f91e6" Version="2.0" IssueInstant="2026-12-07T16:40:12Z" Destination="https://shop.example.com/saml/acs" InResponseTo="ONELOGIN_4fee3b046395c4e751011e97f8900b5273d56685">'
        '<saml:Issuer>https://idp.example.org/saml</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>'
        '<saml:Assertion ID="_d71a3a8e9fcc45c9e9d248ef7049393fc8f04e5f75" Version="2.0" IssueInstant="2026-12-07T16:40:12Z"><saml:Issuer>https://idp.example.org/saml</saml:Issuer>'
        '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#_d71a3a8e9fcc45c9e9d248ef7049393fc8f04e5f75"><ds:DigestValue>Ymx1ZWJlcnJ5</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>TUlJQ2FqQ0NBZE9nQXdJQkFnSUJBREFO</ds:SignatureValue></ds:Signature>'
        '<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">j.doe@example.org</saml:NameID></saml:Subject>'
        '<saml:AttributeStatement><saml:Attribute Name="groups"><saml:AttributeValue>staff</saml:AttributeValue><saml:AttributeValue>R&amp;D</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion></samlp:Response>')
B(S, "HTTP-POST binding response to ACS", method="POST", target="/saml/acs", profile="form",
  headers=[["Origin", "https://idp.example.org"], ["Referer", "https://idp.example.org/"]],
  form=[["SAMLResponse", base64.b64encode(RESP.encode()).decode()], ["RelayState", "https://shop.example.com/admin/orders?status=open"]])
B(S, "HTTP-Redirect AuthnRequest to IdP", target="/idp/SSO?SAMLRequest=fZJNT8MwDIb%2FSpR7m7ZrxxatlSZ2mQQHNsSBm5taKlFTFMdS%2BfdkGwckJGRbev3YerOBNdagd2cSf3j3hMqNdGtNYW3dZ%2FGx7pXpwGzlJEJo26PFiKzUZCcQppV3OTMGo8JMQI%2BZSjLBqLp%2BLZxslpQZlFMk5WMOCp1nyAb%2B5RVH&RelayState=%2Fadmin&SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256&Signature=NnZ6bHVjdWdzUXh3c0pYUkxxV0pGb3JqSm1l", profile="firefox")
B(S, "SP metadata fetch", target="/saml/metadata.xml", profile="none", headers=[["User-Agent", "Shibboleth-Metadata-Fetcher/3.4"], ["Accept", "application/samlmetadata+xml, application/xml"]])
B(S, "logout response POST", method="POST", target="/saml/sls", profile="form",
  form=[["SAMLResponse", base64.b64encode(b'<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_6c3737282f007720e736f0f4028feed8cb9b40291c" Version="2.0" IssueInstant="2026-12-07T16:50:00Z" Destination="https://shop.example.com/saml/sls" InResponseTo="ONELOGIN_21df91a89767879fc0f7df6a1490c6000c81644d"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">https://idp.example.org/saml</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>').decode()]])
B(S, "IdP-initiated with RelayState path", method="POST", target="/saml/acs?tenant=acme", profile="safari",
  headers=[["Content-Type", "application/x-www-form-urlencoded"], ["Origin", "null"]],
  body="SAMLResponse=" + base64.b64encode(RESP.replace("InResponseTo=\"ONELOGIN_4fee3b046395c4e751011e97f8900b5273d56685\" ", "").encode()).decode().replace("+", "%2B").replace("/", "%2F").replace("=", "%3D") + "&RelayState=%2Fdashboard%3Ftab%3Dreports")
B(S, "SAML admin UI saving IdP cert", method="POST", target="/admin/sso/saml", profile="form",
  form=[["entity_id", "https://idp.example.org/saml"], ["sso_url", "https://idp.example.org/idp/SSO"], ["name_id_format", "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"],
        ["x509", "-----BEGIN CERTIFICATE-----\nMIICajCCAdOgAwIBAgIBADANBgkqhkiG9w0BAQ0FADBSMQswCQYDVQQGEwJ1czET\nMBEGA1UECAwKQ2FsaWZvcm5pYTEVMBMGA1UECgwMT25lbG9naW4gSW5jMRcwFQYD\n-----END CERTIFICATE-----"]])

# ---------------------------------------------------------------- SCIM
C = "scim"
SC = [["Authorization", "Bearer scim-tok-9f8e7d"], ["Accept", "application/scim+json"], ["User-Agent", "Okta SCIM Client 1.0.0"]]
B(C, "user lookup by filter", target="/scim/v2/Users?filter=userName%20eq%20%22jane.o%27neil%40example.com%22&startIndex=1&count=100", profile="api", headers=SC)
B(C, "create user", method="POST", target="/scim/v2/Users", profile="api", headers=SC + [["Content-Type", "application/scim+json; charset=utf-8"]],
  json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"], "userName": "jane.o'neil@example.com",
        "name": {"givenName": "Jane", "familyName": "O'Neil"}, "emails": [{"primary": True, "value": "jane.o'neil@example.com", "type": "work"}], "displayName": "Jane O'Neil", "active": True,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D / Platform", "manager": {"value": "00u1a2b3c4"}}})
B(C, "PATCH deactivate", method="PATCH", target="/scim/v2/Users/2819c223-7f76-453a-919d-413861904646", profile="api", headers=SC + [["Content-Type", "application/scim+json"]],
  json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": {"active": False}}]})
B(C, "group membership patch with path filter", method="PATCH", target="/scim/v2/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a", profile="api", headers=SC + [["Content-Type", "application/scim+json"]],
  json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove", "path": "members[value eq \"2819c223-7f76-453a-919d-413861904646\"]"}, {"op": "add", "path": "members", "value": [{"value": "902c246b-6245-4190-8e05-00816be7344a", "display": "Babs Jensen"}]}]})
B(C, "group list with complex filter", target="/scim/v2/Groups?filter=displayName%20sw%20%22Eng%22%20and%20meta.lastModified%20gt%20%222026-11-01T00%3A00%3A00Z%22&excludedAttributes=members", profile="api", headers=SC)
B(C, "service provider config", target="/scim/v2/ServiceProviderConfig", profile="api", headers=SC)

# ---------------------------------------------------------------- CI/CD webhooks
W = "ci_webhooks"
GH = [["User-Agent", "GitHub-Hookshot/8a2f1c4"], ["X-GitHub-Event", "push"], ["X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"],
      ["X-Hub-Signature-256", "sha256=d57c68ca6f92289e6987922ff26938930f6e66a2d161ef06abdf1859230aa23c"], ["Content-Type", "application/json"]]
B(W, "GitHub push with commit messages", method="POST", target="/hooks/github", profile="none", headers=GH,
  json={"ref": "refs/heads/main", "before": "9049f1265b7d61be4a8904a9a27120d2064dab3b", "after": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
        "repository": {"full_name": "acme/storefront", "default_branch": "main"}, "pusher": {"name": "octocat"},
        "commits": [{"id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "message": "Fix cart total rounding (#412)\n\nUse integer pence everywhere; the float path lost 1p on 3-for-2 offers.", "added": [], "removed": [], "modified": ["src/cart/total.ts", "src/cart/total.test.ts"], "author": {"name": "Ana Lima", "email": "ana@example.com"}}]})
B(W, "GitLab merge request event", method="POST", target="/hooks/gitlab", profile="none",
  headers=[["User-Agent", "GitLab/16.6.1"], ["X-Gitlab-Event", "Merge Request Hook"], ["X-Gitlab-Token", "wh-8a72f1"], ["Content-Type", "application/json"]],
  json={"object_kind": "merge_request", "user": {"username": "r.patel"}, "project": {"path_with_namespace": "infra/terraform-live"},
        "object_attributes": {"iid": 318, "title": "Bump RDS instance class for reporting replica", "description": "Reporting jobs are IO-bound at month end.\n\n- db.r6g.large -> db.r6g.xlarge\n- no engine change", "state": "opened", "action": "open", "source_branch": "rds-bump", "target_branch": "main"}})
B(W, "GitHub PR review comment with a diff hunk (code)", method="POST", target="/hooks/github", profile="none", tags=["code"],
  headers=[h if h[0] != "X-GitHub-Event" else ["X-GitHub-Event", "pull_request_review_comment"] for h in GH],
  json={"action": "created", "comment": {"path": "db/migrations/0042_orders_index.sql", "diff_hunk": "@@ -1,3 +1,5 @@\n-CREATE INDEX orders_created ON orders (created_at);\n+CREATE INDEX CONCURRENTLY orders_created_status\n+  ON orders (created_at, status)\n+  WHERE status <> 'cancelled';", "body": "Do we need `CONCURRENTLY` here? It can't run inside a transaction and our migrator wraps each file in one."}, "pull_request": {"number": 413}})
B(W, "GitHub workflow_run completed", method="POST", target="/hooks/github", profile="none",
  headers=[h if h[0] != "X-GitHub-Event" else ["X-GitHub-Event", "workflow_run"] for h in GH],
  json={"action": "completed", "workflow_run": {"id": 7123456789, "name": "CI", "head_branch": "main", "head_sha": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "status": "completed", "conclusion": "failure", "html_url": "https://github.com/acme/storefront/actions/runs/7123456789", "display_title": "Fix cart total rounding (#412)"}})
B(W, "Bitbucket-style push", method="POST", target="/hooks/bitbucket", profile="none",
  headers=[["User-Agent", "Bitbucket-Webhooks/2.0"], ["X-Event-Key", "repo:push"], ["Content-Type", "application/json"]],
  json={"push": {"changes": [{"new": {"type": "branch", "name": "release/2026.12", "target": {"hash": "a1b2c3d", "message": "Release 2026.12: holiday banners, gift-wrap option\n"}}}]}, "actor": {"display_name": "Lee Wong"}})
B(W, "Jenkins build trigger with params", method="POST", target="/job/storefront-deploy/buildWithParameters?token=deploy-tok&ENV=staging&GIT_REF=release%2F2026.12&DRY_RUN=false", profile="none",
  headers=[["User-Agent", "curl/8.4.0"], ["Authorization", "Basic Y2ktYm90OjExYWFiYmNjZGQ="]])

# ---------------------------------------------------------------- feature flags
F = "feature_flags"
B(F, "SDK flag evaluation poll", target="/sdk/latest-all?user=eyJrZXkiOiJ1LTQxMiIsImNvdW50cnkiOiJHQiIsImN1c3RvbSI6eyJwbGFuIjoicHJvIn19", profile="none",
  headers=[["User-Agent", "NodeJSClient/9.2.0"], ["Authorization", "sdk-7f0c1d2e-a3b4-4c5d-9e6f-0a1b2c3d4e5f"], ["Accept", "application/json"]])
B(F, "create flag with targeting rules", method="POST", target="/api/v2/flags/default", profile="api",
  headers=[["Authorization", "api-2b8f4c1e"]],
  json={"key": "new-checkout", "name": "New checkout (3-step)", "description": "Rolls out the 3-step checkout; kill-switch if conversion drops > 2%", "variations": [{"value": True}, {"value": False}],
        "rules": [{"clauses": [{"attribute": "email", "op": "endsWith", "values": ["@example.com"]}, {"attribute": "country", "op": "in", "values": ["GB", "IE"]}], "variation": 0}], "fallthrough": {"rollout": {"variations": [{"variation": 0, "weight": 20000}, {"variation": 1, "weight": 80000}]}}})
B(F, "JSON patch to flag", method="PATCH", target="/api/v2/flags/default/new-checkout", profile="api", headers=[["Authorization", "api-2b8f4c1e"], ["Content-Type", "application/json-patch+json"]],
  json=[{"op": "replace", "path": "/environments/production/on", "value": True}, {"op": "replace", "path": "/environments/production/fallthrough/rollout/variations/0/weight", "value": 50000}])
B(F, "client-side evaluation events", method="POST", target="/events/bulk/client-key-abc", profile="xhr", headers=[["Content-Type", "application/json"], ["X-LaunchDarkly-Event-Schema", "4"]],
  json=[{"kind": "feature", "key": "new-checkout", "value": True, "variation": 0, "default": False, "creationDate": 1733590012000, "contextKeys": {"user": "u-412"}}, {"kind": "custom", "key": "checkout-completed", "metricValue": 89.99, "creationDate": 1733590099000}])
B(F, "unleash client register", method="POST", target="/api/client/register", profile="none",
  headers=[["User-Agent", "unleash-client-java:9.1.0"], ["Authorization", "*:production.6f2c8e"], ["Content-Type", "application/json"], ["UNLEASH-APPNAME", "orders-service"], ["UNLEASH-INSTANCEID", "orders-7c9d-pod-2"]],
  json={"appName": "orders-service", "instanceId": "orders-7c9d-pod-2", "sdkVersion": "unleash-client-java:9.1.0", "strategies": ["default", "flexibleRollout", "userWithId"], "started": "2026-12-07T16:00:00Z", "interval": 15000})
B(F, "segment with regex-like matcher", method="PUT", target="/api/v1/segments/beta-testers", profile="xhr",
  json={"name": "Beta testers", "constraints": [{"contextName": "email", "operator": "STR_ENDS_WITH", "values": ["@example.com", "@partner.example"]}, {"contextName": "appVersion", "operator": "SEMVER_GT", "value": "5.11.0"}]})

# ---------------------------------------------------------------- Jupyter
J = "jupyter"
JH = [["Authorization", "token 3f2c8e9b0a1d4e5f"], ["X-XSRFToken", "2|a1b2c3d4|e5f6"], ["Cookie", "_xsrf=2|a1b2c3d4|e5f6; username-localhost-8888=\"2|1:0|10:1733590012\""]]
B(J, "save notebook with pandas SQL cell", method="PUT", target="/api/contents/work/sales-analysis.ipynb", profile="xhr", headers=JH, tags=["code"],
  json={"type": "notebook", "format": "json", "content": {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "cells": [{"cell_type": "markdown", "id": "a1", "metadata": {}, "source": "# Monthly sales\nPulled from the warehouse."},
                  {"cell_type": "code", "id": "a2", "metadata": {}, "execution_count": 3, "outputs": [], "source": "import pandas as pd\ndf = pd.read_sql(\"SELECT region, SUM(total) AS revenue FROM orders WHERE created_at >= '2026-11-01' GROUP BY region\", con)\ndf.sort_values('revenue', ascending=False).head()"}]}})
B(J, "open kernel session", method="POST", target="/api/sessions", profile="xhr", headers=JH,
  json={"path": "work/sales-analysis.ipynb", "type": "notebook", "name": "", "kernel": {"name": "python3"}})
B(J, "list directory", target="/api/contents/work?content=1&hash=0&1733590012345", profile="xhr", headers=JH)
B(J, "checkpoint create", method="POST", target="/api/contents/work/sales-analysis.ipynb/checkpoints", profile="xhr", headers=JH, body="")
B(J, "rename file", method="PATCH", target="/api/contents/work/Untitled1.ipynb", profile="xhr", headers=JH, json={"path": "work/churn model (v2).ipynb"})
B(J, "lab workspace state save", method="PUT", target="/lab/api/workspaces/default", profile="xhr", headers=JH,
  json={"data": {"layout-restorer:data": {"main": {"dock": {"type": "tab-area", "currentIndex": 0, "widgets": ["notebook:work/sales-analysis.ipynb"]}}, "left": {"collapsed": False, "current": "filebrowser"}}, "file-browser-filebrowser:cwd": {"path": "work"}}, "metadata": {"id": "default"}})

# ---------------------------------------------------------------- CSV / spreadsheet import
V = "csv_import"
B(V, "product CSV upload", method="POST", target="/admin/products/import", profile="form_multipart",
  multipart={"boundary": "----WebKitFormBoundaryP0q9R8s7T6u5V4w3", "parts": [
      {"name": "_token", "data": "mK2pQ9rT"},
      {"name": "file", "filename": "products-dec.csv", "content_type": "text/csv",
       "data": "Handle,Title,Body (HTML),Vendor,Variant SKU,Variant Price,Tags\ntrail-runner-3,Trail Runner 3,\"<p>Grippy, light &amp; fast.</p>\",Acme,TR3-42-BLK,89.99,\"running, trail, men's\"\nwool-socks,\"Merino socks, 3-pack\",<p>Warm.</p>,Acme,WS-3P-M,18.00,\"socks; winter\"\n"},
      {"name": "overwrite", "data": "1"}]})
B(V, "contacts CSV pasted into textarea", method="POST", target="/crm/import/paste", profile="form",
  form=[["data", "First Name;Last Name;Email;Company\nRenée;Dupont;renee.dupont@example.fr;Société Générale d'Études\n\"O'Hara\";Liam;liam@example.ie;\"Hara & Co, Ltd\"\n"], ["separator", ";"], ["has_header", "on"]])
B(V, "column mapping JSON", method="POST", target="/api/imports/7712/mapping", profile="xhr",
  json={"columns": {"A": "email", "B": "first_name", "C": "last_name", "D": "ignore", "E": "custom.loyalty_tier"}, "skip_rows": 1, "date_format": "DD/MM/YYYY", "on_conflict": "update"})
B(V, "XLSX upload from sheet app", method="POST", target="/api/imports", profile="api_multipart",
  multipart={"boundary": "------------------------3f0e8c1b9a6d2e47", "parts": [{"name": "file", "filename": "stock levels 07-12-2026.xlsx", "content_type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
       "data_b64": "UEsDBBQABgAIAAAAIQBi7p1oXgEAAJAEAAATAAgCW0NvbnRlbnRfVHlwZXNdLnhtbCCiBAIooAACAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, {"name": "sheet", "data": "Sheet1"}]})
B(V, "TSV of survey answers with formulas-looking text", method="POST", target="/surveys/44/import", profile="form",
  form=[["tsv", "respondent\tq1\tq2\n1001\tVery satisfied\t\"More colours - and sizes > XL please\"\n1002\tNeutral\t+1 to the above\n1003\tDissatisfied\t-\n"]])
B(V, "import status poll", target="/api/imports/7712?include=errors&errors_limit=50", profile="xhr")

# ---------------------------------------------------------------- Google Sheets-ish formula save kept in csv_import? no: own kind below
