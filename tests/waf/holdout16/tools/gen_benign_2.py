"""Benign entries, batch 2: logistics and commerce back-office."""
from common import write

SCAN = [["User-Agent", "Zebra-TC52/11 WMSMobile/4.8.2 (okhttp/4.11.0)"], ["Accept", "application/json"], ["Authorization", "Bearer wms_9f8e7d6c5b4a"]]
warehouse = [
    {"method": "POST", "target": "/wms/api/scan", "profile": "none", "headers": SCAN, "json": {"device": "TC52-0417", "barcode": "]C1010400638133393121ABC123\u001d10LOT2611", "symbology": "GS1-128", "task": "PICK-771203", "location": "A-12-03-B"}, "note": "GS1-128 scan with group separator"},
    {"method": "POST", "target": "/wms/api/pick/confirm", "profile": "none", "headers": SCAN, "json": {"task": "PICK-771203", "lines": [{"sku": "4006381333931", "qty": 3, "from": "A-12-03-B", "to": "TOTE-0091"}], "shortPick": False}, "note": "pick confirm"},
    {"target": "/wms/api/locations/A-12-03-B/stock?include=lots", "profile": "none", "headers": SCAN, "note": "location stock"},
    {"method": "POST", "target": "/wms/api/putaway", "profile": "none", "headers": SCAN, "json": {"lpn": "LPN00012288", "suggested": "R-04-11-A", "actual": "R-04-11-C", "reason": "slot blocked / Platz belegt"}, "note": "putaway override"},
    {"method": "POST", "target": "/wms/api/cyclecount", "profile": "none", "headers": SCAN, "json": {"count": "CC-2026-1207-03", "location": "B-01-02-A", "sku": "5901234123457", "counted": 17, "expected": 18, "photo": None}, "note": "cycle count variance"},
    {"target": "/wms/dashboard/waves?date=2026-12-07&status=released&zone=Z1,Z2", "profile": "chrome", "note": "wave dashboard"},
]

shipping = [
    {"method": "POST", "target": "/v1/shipments", "profile": "api", "json": {"shipper": {"name": "Kleine Kaffeerösterei", "street": "Hauptstraße 5", "postal": "79098", "city": "Freiburg im Breisgau", "country": "DE"}, "recipient": {"name": "Łukasz Żółkiewski", "street": "ul. Świętokrzyska 12/4", "postal": "00-916", "city": "Warszawa", "country": "PL", "email": "lukasz@example.pl"}, "parcels": [{"weightKg": 1.2, "dims": [30, 20, 10]}], "service": "EUROPAKET", "labelFormat": "PDF_A6"}, "note": "create shipment with Polish diacritics"},
    {"method": "POST", "target": "/v1/labels", "profile": "api", "json": {"shipment": "shp_77120", "format": "ZPL", "dpi": 203}, "note": "ZPL label request"},
    {"target": "/v1/tracking/JJD0002249400012345?lang=pl", "profile": "chrome_mobile", "note": "tracking"},
    {"method": "POST", "target": "/v1/rates", "profile": "api", "json": {"from": {"postal": "10001", "country": "US"}, "to": {"postal": "M5V 3L9", "country": "CA"}, "parcels": [{"weight": {"value": 3.5, "unit": "lb"}, "length": 12, "width": 9, "height": 4, "unit": "in"}], "carriers": ["usps", "ups", "canadapost"]}, "note": "rate shopping"},
    {"method": "POST", "target": "/v1/pickups", "profile": "api", "json": {"date": "2026-12-08", "window": {"from": "13:00", "to": "17:00"}, "location": "Rampe 3 (Hintereingang)", "parcels": 14}, "note": "pickup booking"},
    {"method": "POST", "target": "/hooks/carrier/status", "profile": "none", "headers": [["User-Agent", "CarrierHub-Webhooks/2.0"], ["X-Signature", "t=1765099200,v1=3b1f0c9a8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170615243"]], "json": {"tracking": "1Z999AA10123456784", "status": "out_for_delivery", "location": "Hamburg, DE", "ts": "2026-12-07T07:42:00Z"}, "note": "carrier status webhook"},
]

customs = [
    {"method": "POST", "target": "/customs/api/declarations", "profile": "api", "json": {"type": "CN23", "exporter": {"eori": "DE123456789012345"}, "items": [{"description": "Roasted coffee beans / Kaffee geröstet", "hs": "090121", "origin": "ET", "qty": 2, "netKg": 1.0, "value": {"amount": "38.00", "currency": "EUR"}}], "incoterm": "DAP", "reasonForExport": "sale"}, "note": "CN23 declaration"},
    {"target": "/customs/api/tariff?hs=8471300000&origin=CN&destination=GB&date=2026-12-07", "profile": "api", "note": "tariff lookup"},
    {"method": "POST", "target": "/customs/ens/submit", "profile": "api", "headers": [["Content-Type", "application/xml"]], "body": "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ie:CC315C xmlns:ie=\"http://ics2.ec.europa.eu/ie\"><messageSender>GB987654321000</messageSender><HouseConsignment><goodsItemNumber>1</goodsItemNumber><descriptionOfGoods>Spare parts for agricultural machinery</descriptionOfGoods><commodityCode><harmonizedSystemSubHeadingCode>843390</harmonizedSystemSubHeadingCode></commodityCode><grossMass>412.5</grossMass></HouseConsignment></ie:CC315C>", "note": "ICS2-style ENS XML"},
    {"method": "POST", "target": "/customs/classify", "profile": "form", "form": [["description", "Women's 100% cotton knitted T-shirt, crew neck"], ["material", "cotton"], ["destination", "US"]], "note": "HS classification helper"},
    {"target": "/customs/api/declarations/MRN26DE1234567890A1/status", "profile": "api", "note": "MRN status"},
    {"method": "POST", "target": "/customs/api/documents", "profile": "api_multipart", "multipart": {"boundary": "b0undary7731", "parts": [{"name": "mrn", "data": "26DE1234567890A1"}, {"name": "file", "filename": "commercial_invoice_7731.pdf", "content_type": "application/pdf", "data": "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"}]}, "note": "commercial invoice upload"},
]

cxml_setup = '''<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.014/cXML.dtd">
<cXML payloadID="1765099200.4412@procure.buyer.example" timestamp="2026-12-07T09:20:00+01:00" xml:lang="en-US">
  <Header>
    <From><Credential domain="NetworkId"><Identity>AN01000012345</Identity></Credential></From>
    <To><Credential domain="DUNS"><Identity>123456789</Identity></Credential></To>
    <Sender><Credential domain="NetworkId"><Identity>AN01000012345</Identity><SharedSecret>welcome1</SharedSecret></Credential><UserAgent>Procure 2026</UserAgent></Sender>
  </Header>
  <Request><PunchOutSetupRequest operation="create">
    <BuyerCookie>a7c3f0e2-77aa</BuyerCookie>
    <Extrinsic name="UserEmail">m.rossi@buyer.example</Extrinsic>
    <BrowserFormPost><URL>https://procure.buyer.example/punchout/return</URL></BrowserFormPost>
  </PunchOutSetupRequest></Request>
</cXML>
'''
cxml_order = '''<?xml version="1.0" encoding="UTF-8"?>
<cXML payloadID="1765099999.1@procure.buyer.example" timestamp="2026-12-07T09:40:00+01:00">
  <Header><From><Credential domain="NetworkId"><Identity>AN01000012345</Identity></Credential></From><To><Credential domain="DUNS"><Identity>123456789</Identity></Credential></To><Sender><Credential domain="NetworkId"><Identity>AN01000012345</Identity><SharedSecret>welcome1</SharedSecret></Credential><UserAgent>Procure 2026</UserAgent></Sender></Header>
  <Request><OrderRequest><OrderRequestHeader orderID="PO-99120" orderDate="2026-12-07" type="new"><Total><Money currency="EUR">312.40</Money></Total><ShipTo><Address><Name xml:lang="it">Ufficio Acquisti – Sede di Torino</Name></Address></ShipTo></OrderRequestHeader>
  <ItemOut quantity="20" lineNumber="1"><ItemID><SupplierPartID>TON-HP-305A</SupplierPartID></ItemID><ItemDetail><UnitPrice><Money currency="EUR">15.62</Money></UnitPrice><Description xml:lang="it">Toner nero 305A</Description><UnitOfMeasure>EA</UnitOfMeasure></ItemDetail></ItemOut></OrderRequest></Request>
</cXML>
'''
punchout = [
    {"method": "POST", "target": "/punchout/cxml/setup", "profile": "none", "headers": [["User-Agent", "Procure-cXML/2026.1"], ["Content-Type", "text/xml; charset=UTF-8"], ["Accept", "text/xml"]], "body": cxml_setup, "note": "cXML PunchOutSetupRequest with DTD reference"},
    {"method": "POST", "target": "/punchout/cxml/order", "profile": "none", "headers": [["User-Agent", "Procure-cXML/2026.1"], ["Content-Type", "text/xml"]], "body": cxml_order, "note": "cXML OrderRequest"},
    {"target": "/punchout/start?sid=7a9c01e2f3&lang=it", "profile": "chrome", "note": "punchout session start"},
    {"method": "POST", "target": "/punchout/return", "profile": "form", "form": [["cxml-urlencoded", "<?xml version=\"1.0\"?><cXML payloadID=\"x1@supplier\" timestamp=\"2026-12-07T09:30:00Z\"><Message><PunchOutOrderMessage><BuyerCookie>a7c3f0e2-77aa</BuyerCookie><PunchOutOrderMessageHeader operationAllowed=\"edit\"><Total><Money currency=\"EUR\">312.40</Money></Total></PunchOutOrderMessageHeader></PunchOutOrderMessage></Message></cXML>"]], "note": "cart return via browser form post (cxml-urlencoded)"},
    {"method": "POST", "target": "/punchout/oci/return", "profile": "form", "form": [["NEW_ITEM-DESCRIPTION[1]", "Kugelschreiber blau, 50 Stk."], ["NEW_ITEM-QUANTITY[1]", "2"], ["NEW_ITEM-UNIT[1]", "PK"], ["NEW_ITEM-PRICE[1]", "12.90"], ["NEW_ITEM-CURRENCY[1]", "EUR"], ["NEW_ITEM-VENDORMAT[1]", "KS-50-BL"], ["NEW_ITEM-MATGROUP[1]", "44121701"]], "note": "SAP OCI return fields with brackets"},
    {"target": "/punchout/oci/login?USERNAME=buyer01&PASSWORD=xxxx&HOOK_URL=https%3A%2F%2Fsrm.buyer.example%2Fsap%2Fbc%2Fgui%2Foci&OCI_VERSION=4.0&returntarget=_top", "profile": "chrome", "note": "OCI login with HOOK_URL"},
]

feed_xml = '''<?xml version="1.0" encoding="UTF-8"?>
<AmazonEnvelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="amzn-envelope.xsd">
<Header><DocumentVersion>1.01</DocumentVersion><MerchantIdentifier>A1EXAMPLE</MerchantIdentifier></Header>
<MessageType>Inventory</MessageType>
<Message><MessageID>1</MessageID><OperationType>Update</OperationType><Inventory><SKU>MUG-CER-350-BLU</SKU><Quantity>48</Quantity><FulfillmentLatency>2</FulfillmentLatency></Inventory></Message>
</AmazonEnvelope>
'''
marketplace = [
    {"method": "POST", "target": "/feeds/2021-06-30/documents", "profile": "api", "json": {"contentType": "text/xml; charset=UTF-8"}, "note": "create feed document"},
    {"method": "PUT", "target": "/upload/feed-doc/amzn1.tortuga.4.eu.7f1c", "profile": "none", "headers": [["User-Agent", "sp-api-client/1.9 (Python)"], ["Content-Type", "text/xml; charset=UTF-8"]], "body": feed_xml, "note": "inventory feed upload"},
    {"method": "PATCH", "target": "/listings/2021-08-01/items/A1EXAMPLE/MUG-CER-350-BLU?marketplaceIds=A1PA6795UKMFR9", "profile": "api", "json": {"productType": "DRINKING_CUP", "patches": [{"op": "replace", "path": "/attributes/purchasable_offer", "value": [{"currency": "EUR", "our_price": [{"schedule": [{"value_with_tax": 14.99}]}]}]}]}, "note": "listing price patch"},
    {"method": "POST", "target": "/seller/listings/bulk", "profile": "api_multipart", "multipart": {"boundary": "----sellerbulk0091", "parts": [{"name": "file", "filename": "flatfile_mugs.txt", "content_type": "text/tab-separated-values", "data": "sku\tproduct-id\tproduct-id-type\tprice\tquantity\titem-name\nMUG-CER-350-BLU\t4006381333931\tEAN\t14.99\t48\tKeramiktasse 350 ml, blau – spülmaschinenfest\nMUG-CER-350-RED\t4006381333948\tEAN\t14.99\t12\tTaza de cerámica 350 ml, roja\n"}]}, "note": "tab-separated flat file"},
    {"target": "/orders/v0/orders?MarketplaceIds=A1PA6795UKMFR9&CreatedAfter=2026-12-06T00%3A00%3A00Z&OrderStatuses=Unshipped,PartiallyShipped", "profile": "api", "note": "orders poll"},
    {"method": "POST", "target": "/seller/messages/reply", "profile": "form", "form": [["order", "302-1234567-7654321"], ["body", "Hallo Frau Weiß, die Tasse ist unterwegs (DHL 00340434161094042557). Viele Grüße!"]], "note": "buyer message reply"},
]

pim = [
    {"method": "PATCH", "target": "/api/rest/v1/products/4006381333931", "profile": "api", "json": {"family": "mugs", "values": {"name": [{"locale": "de_DE", "scope": None, "data": "Kaffeebecher „Nordlicht“"}, {"locale": "ja_JP", "scope": None, "data": "マグカップ ノルトリヒト"}], "capacity": [{"locale": None, "scope": None, "data": {"amount": 350, "unit": "MILLILITER"}}], "description": [{"locale": "en_GB", "scope": "ecommerce", "data": "<p>Hand-glazed stoneware mug.</p><ul><li>350 ml</li><li>Dishwasher safe</li></ul>"}]}}, "note": "product patch; rich-text HTML description as PIM stores it", "tags": ["code"]},
    {"target": "/api/rest/v1/products?search=%7B%22categories%22%3A%5B%7B%22operator%22%3A%22IN%22%2C%22value%22%3A%5B%22kitchen_mugs%22%5D%7D%5D%2C%22completeness%22%3A%5B%7B%22operator%22%3A%22%3C%22%2C%22value%22%3A100%2C%22scope%22%3A%22ecommerce%22%7D%5D%7D&limit=100", "profile": "api", "note": "search filter json in query"},
    {"method": "POST", "target": "/api/rest/v1/media-files", "profile": "api_multipart", "multipart": {"boundary": "pimmedia33", "parts": [{"name": "product", "data": "{\"identifier\":\"4006381333931\",\"attribute\":\"main_image\",\"scope\":null,\"locale\":null}"}, {"name": "file", "filename": "mug-blue-front.png", "content_type": "image/png", "data_b64": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="}]}, "note": "media upload"},
    {"method": "POST", "target": "/api/rest/v1/attributes", "profile": "api", "json": {"code": "glaze_colour", "type": "pim_catalog_simpleselect", "group": "marketing", "labels": {"en_GB": "Glaze colour", "fr_FR": "Couleur de l'émail", "ar_SA": "لون الطلاء"}}, "note": "attribute with RTL label"},
    {"method": "PATCH", "target": "/api/rest/v1/products", "profile": "api", "headers": [["Content-Type", "application/vnd.akeneo.collection+json"]], "body": "{\"identifier\":\"4006381333948\",\"enabled\":true}\n{\"identifier\":\"4006381333955\",\"enabled\":false}\n", "note": "ndjson collection patch"},
    {"target": "/pim/grid/products?locale=fr_FR&channel=ecommerce&filters[family][value][]=mugs&page=3", "profile": "firefox", "note": "grid filters"},
]

loyalty = [
    {"method": "POST", "target": "/api/coupons/apply", "profile": "xhr", "json": {"cart": "c_99120", "code": "NOËL-2026"}, "note": "coupon code with diaeresis"},
    {"target": "/api/loyalty/members/LM-77120034/balance", "profile": "mobile_app", "note": "points balance"},
    {"method": "POST", "target": "/api/loyalty/earn", "profile": "api", "json": {"member": "LM-77120034", "store": "S-0412", "receipt": "0412-20261207-0088", "basket": [{"sku": "4006381333931", "qty": 2, "amount": 29.98}], "multiplier": "2x weekend"}, "note": "POS earn event"},
    {"method": "POST", "target": "/rewards/redeem", "profile": "form", "form": [["reward", "free-coffee"], ["points", "250"], ["store", "Rotterdam Centraal"]], "note": "redeem form"},
    {"target": "/api/offers?segment=gold&lang=nl&channel=app", "profile": "mobile_app", "note": "personal offers"},
    {"method": "POST", "target": "/admin/campaigns", "profile": "xhr", "json": {"name": "Buy 2 get 1 — Winter", "rule": {"if": {"category": "mugs", "minQty": 3}, "then": {"discount": "cheapest_free"}}, "validFrom": "2026-12-10", "validTo": "2027-01-06", "stackable": False}, "note": "campaign rule json"},
]

gift = [
    {"method": "POST", "target": "/giftcards/balance", "profile": "form", "form": [["card_number", "6006 4910 0012 3456 789"], ["pin", "4412"], ["g-recaptcha-response", "03AFcWeA7x9k2Lm-QpR_vT8sYz1"]], "note": "balance check with captcha token"},
    {"method": "POST", "target": "/api/giftcards", "profile": "xhr", "json": {"amount": 50, "currency": "GBP", "design": "snowflakes", "recipient": {"name": "Gran", "email": "gran@example.co.uk"}, "message": "Happy Christmas Gran! Treat yourself to something lovely ♥ x", "deliverOn": "2026-12-25T08:00:00Z"}, "note": "e-gift purchase with message"},
    {"method": "POST", "target": "/api/giftcards/redeem", "profile": "xhr", "json": {"code": "GC-7KQ2-MX9P-4TZA", "orderId": "o_88120"}, "note": "redeem at checkout"},
    {"method": "POST", "target": "/pos/v1/giftcards/activate", "profile": "api", "json": {"ean": "9781234567897", "serial": "6006491000123456789", "amount": "25.00", "terminal": "POS-0412-03"}, "note": "POS activation"},
    {"target": "/giftcards/print/GC-7KQ2-MX9P-4TZA?format=pdf", "profile": "chrome", "note": "print e-gift"},
    {"method": "POST", "target": "/api/giftcards", "profile": "xhr", "json": {"amount": 3000, "currency": "JPY", "recipient": {"name": "田中さん", "email": "tanaka@example.jp"}, "message": "いつもありがとうございます！"}, "note": "Japanese gift message"},
]

subs = [
    {"method": "POST", "target": "/api/v2/subscriptions", "profile": "api", "headers": [["Authorization", "Basic dGVzdF9rZXlfOTk6"]], "form": [["plan_id", "pro-monthly-eur"], ["customer[email]", "ines@example.pt"], ["customer[first_name]", "Inês"], ["billing_address[country]", "PT"], ["addons[id][0]", "extra-seat"], ["addons[quantity][0]", "3"], ["coupon_ids[0]", "LAUNCH20"]], "note": "Chargebee-style bracketed form params"},
    {"method": "POST", "target": "/api/v2/subscriptions/sub_16BjjHTU9c7f/change_term_end", "profile": "api", "form": [["term_ends_at", "1767139200"]], "note": "term end change"},
    {"method": "POST", "target": "/api/v2/usages", "profile": "api", "json": {"subscription": "sub_16BjjHTU9c7f", "item_price_id": "api-calls-eur", "quantity": "18230", "usage_date": 1765065600, "dedupe_id": "meter-2026-12-07-h09"}, "note": "metered usage"},
    {"target": "/api/v2/invoices?customer_id%5Bis%5D=cus_AzZ8&status%5Bin%5D=%5B%22payment_due%22%2C%22not_paid%22%5D&limit=10", "profile": "api", "note": "filter params like customer_id[is]"},
    {"method": "POST", "target": "/portal/cancel", "profile": "form", "form": [["reason", "too_expensive"], ["feedback", "Ótimo produto, mas o preço subiu demais para a nossa equipa de 3 pessoas."]], "note": "cancellation feedback"},
    {"method": "POST", "target": "/hooks/billing", "profile": "none", "headers": [["User-Agent", "ChargeHook/1.0"], ["Content-Type", "application/json"]], "json": {"id": "ev_16BjjHTUA1", "event_type": "subscription_renewed", "content": {"subscription": {"id": "sub_16BjjHTU9c7f", "status": "active", "current_term_end": 1767830400}}}, "note": "billing webhook"},
]

n = 0
for cat, es in [("warehouse_scanning", warehouse), ("shipping_labels", shipping), ("customs_declaration", customs),
                ("punchout", punchout), ("marketplace_seller", marketplace), ("pim", pim), ("loyalty_coupons", loyalty),
                ("gift_cards", gift), ("subscription_billing", subs)]:
    n += write("benign", cat, es)
print("benign batch 2", n)
