"""Benign entries, batch 1: travel-adjacent commerce and finance."""
from common import write

airline = [
    {"target": "/api/v3/checkin/lookup?pnr=Q7XK2M&lastName=M%C3%BCller-L%C3%BCdenscheidt", "profile": "xhr", "note": "PNR lookup with umlauts in surname"},
    {"target": "/api/v3/flights/LH2041/2026-12-19/seatmap?cabin=Y&segment=1", "profile": "mobile_app", "headers": [["X-Device-Id", "7c1e0c44-3a9b-4d7f-9b0e-1d2f3a4b5c6d"]], "note": "seat map fetch from app"},
    {"method": "POST", "target": "/api/v3/checkin/Q7XK2M/passengers", "profile": "xhr", "json": {"passengers": [{"id": "PT1", "firstName": "Jürgen", "lastName": "Müller-Lüdenscheidt", "dob": "1978-04-02", "apis": {"docType": "P", "docNumber": "C01X00T47", "nationality": "DEU", "expiry": "2031-08-14", "issuingCountry": "DEU", "gender": "M"}, "redress": None}], "consentDangerousGoods": True}, "note": "APIS passport data"},
    {"method": "PUT", "target": "/api/v3/checkin/Q7XK2M/seats", "profile": "xhr", "json": {"segment": "LH2041-20261219", "assignments": [{"passenger": "PT1", "seat": "14C"}, {"passenger": "PT2", "seat": "14D"}], "paidSeatOfferId": None}, "note": "seat assignment"},
    {"target": "/api/v3/boardingpass/Q7XK2M/PT1?format=pkpass&lang=de", "profile": "safari", "headers": [["Accept", "application/vnd.apple.pkpass"]], "note": "Apple Wallet pass download"},
    {"method": "POST", "target": "/api/v3/checkin/Q7XK2M/ssr", "profile": "xhr", "json": {"passenger": "PT2", "codes": ["WCHR", "VGML"], "freeText": "Rollstuhl bis zum Gate, bitte. / Wheelchair to gate please."}, "note": "special service requests"},
]

hotel = [
    {"method": "POST", "target": "/channel/v1/ari", "profile": "api", "headers": [["Authorization", "Basic Y2hhbm5lbDpzM2NyM3Q="], ["X-Request-Id", "ari-20261207-000183"]], "json": {"hotelId": "HTL-40117", "updates": [{"roomTypeId": "DBL-SEA", "ratePlanId": "BAR-FLEX", "dateFrom": "2026-12-20", "dateTo": "2026-12-31", "availability": 4, "price": {"amount": "189.00", "currency": "EUR"}, "restrictions": {"minLOS": 2, "closedToArrival": False, "stopSell": False}}]}, "note": "availability/rates/inventory push"},
    {"method": "POST", "target": "/channel/v1/reservations", "profile": "api", "json": {"channel": "BookingSite", "confirmation": "4410923311", "status": "new", "guest": {"name": "Søren Kierkegård", "email": "soren@example.dk", "phone": "+45 20 12 34 56"}, "stay": {"arrival": "2026-12-22", "departure": "2026-12-26", "adults": 2, "children": [7]}, "rooms": [{"roomTypeId": "FAM", "ratePlanId": "BB", "total": "812.40"}], "remarks": "Late arrival ~23:30, crib needed"}, "note": "reservation delivery"},
    {"target": "/channel/v1/reservations?hotelId=HTL-40117&modifiedSince=2026-12-07T06%3A00%3A00Z&status=cancelled,modified", "profile": "api", "note": "poll modified reservations"},
    {"method": "PATCH", "target": "/channel/v1/mappings/HTL-40117", "profile": "api", "json": [{"op": "replace", "path": "/rooms/DBL-SEA/externalCode", "value": "2DBLSV"}], "headers": [["Content-Type", "application/json-patch+json"]], "note": "JSON patch of room mapping"},
    {"method": "POST", "target": "/channel/v1/reservations/4410923311/ack", "profile": "api", "json": {"pmsReference": "PMS-88213", "acknowledgedAt": "2026-12-07T09:14:02+01:00"}, "note": "ack to channel"},
    {"target": "/extranet/calendar?room=DBL-SEA&month=2027-01&view=grid", "profile": "firefox", "note": "extranet calendar page"},
]

car = [
    {"target": "/search?pickup=MUC-T2&dropoff=MUC-T2&from=2026-12-20T10%3A00&to=2026-12-27T10%3A00&age=30-65&country=DE&promo=", "profile": "chrome", "note": "car search form GET"},
    {"method": "POST", "target": "/api/booking/quote", "profile": "xhr", "json": {"vehicleClass": "CDMR", "extras": [{"code": "GPS", "qty": 1}, {"code": "CSI", "qty": 2}], "insurance": "SCDW", "driverAge": 24, "youngDriverFee": True}, "note": "quote with ACRISS code and extras"},
    {"method": "POST", "target": "/booking/driver", "profile": "form", "form": [["title", "Ms"], ["first_name", "Zoë"], ["last_name", "O'Connor"], ["licence_no", "OCONN752109Z99AB"], ["licence_country", "IE"], ["flight_no", "EI352"], ["comments", "Arriving from Dublin, may be 1h late — please hold the car."]], "note": "driver details form, apostrophe surname"},
    {"target": "/api/locations?lat=48.3538&lng=11.7861&radius=15km&open_at=2026-12-20T07:00", "profile": "mobile_app", "note": "nearby branches"},
    {"method": "POST", "target": "/api/checkout/damage-report", "profile": "mobile_app", "json": {"rental": "R-99120-3", "odometer": 48211, "fuel": "7/8", "marks": [{"panel": "rear_bumper", "type": "scratch", "sizeCm": 4, "photo": "d1.jpg"}]}, "note": "return damage report"},
    {"target": "/manage?ref=R-99120-3&email=zoe.oconnor%40example.ie", "profile": "safari", "note": "manage booking link"},
]

insurance = [
    {"method": "POST", "target": "/quote/home/step-2", "profile": "form", "form": [["property_type", "semi-detached"], ["year_built", "1936"], ["construction", "brick & tile"], ["bedrooms", "3"], ["rebuild_cost", "285000"], ["flood_zone", "no"], ["alarm", "NSI approved"], ["claims_5y", "0"]], "note": "home quote step 2"},
    {"method": "POST", "target": "/api/quotes/motor", "profile": "xhr", "json": {"vehicle": {"reg": "AB12 CDE", "make": "Škoda", "model": "Octavia Estate 2.0 TDI", "year": 2019, "mods": []}, "driver": {"dob": "1985-11-30", "licenceYears": 17, "occupation": "Nurse", "convictions": [{"code": "SP30", "date": "2023-05-01", "points": 3}]}, "cover": "comprehensive", "voluntaryExcess": 250}, "note": "motor quote json with conviction code"},
    {"target": "/quote/travel?trip=single&dest=worldwide-excl&start=2027-02-01&end=2027-02-21&ages=34,36,5&cruise=0", "profile": "chrome_mobile", "note": "travel insurance quote GET"},
    {"method": "POST", "target": "/claims/new", "profile": "form_multipart", "multipart": {"boundary": "----WebKitFormBoundaryClm0Ab12", "parts": [{"name": "policy", "data": "HH-2291-7730"}, {"name": "description", "data": "Water leak from upstairs flat (nº 4) damaged the kitchen ceiling; plumber's report attached."}, {"name": "photo", "filename": "ceiling.jpg", "content_type": "image/jpeg", "data_b64": "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q=="}]}, "note": "claim with photo"},
    {"target": "/api/postcode/lookup?q=SW1A%201AA", "profile": "xhr", "note": "postcode address lookup"},
    {"method": "POST", "target": "/quote/pet", "profile": "form", "form": [["pet_name", "Biscuit"], ["species", "dog"], ["breed", "Cavalier King Charles Spaniel"], ["dob", "2022-03"], ["neutered", "yes"], ["pre_existing", "heart murmur (grade 2/6)"]], "note": "pet insurance"},
]

mortgage = [
    {"target": "/calculators/mortgage?price=425000&deposit=85000&term=25&rate=4.19&type=repayment", "profile": "chrome", "note": "calculator GET"},
    {"method": "POST", "target": "/api/affordability", "profile": "xhr", "json": {"applicants": [{"income": 58000, "bonus": 4000, "commitments": [{"type": "car_finance", "monthly": 289.5}]}, {"income": 41250}], "dependants": 1, "stressRate": 7.19}, "note": "affordability json"},
    {"target": "/api/products?ltv=80&fixed=5&fee_max=999&first_time_buyer=true&sort=aprc", "profile": "xhr", "note": "product table filter"},
    {"method": "POST", "target": "/dip/apply", "profile": "form", "form": [["full_name", "Priya Raghunathan"], ["address_years", "3"], ["employment", "self-employed (Ltd director)"], ["sa302_years", "2"], ["consent_soft_search", "on"]], "note": "decision in principle form"},
    {"target": "/calculators/overpayment.json?balance=212000&rate=3.85&months_left=247&extra=150", "profile": "xhr", "note": "overpayment calculator json endpoint"},
    {"target": "/de/rechner/baufinanzierung?kaufpreis=390000&eigenkapital=78000&zinsbindung=15&tilgung=2%2C5", "profile": "firefox", "headers": [["Accept-Language", "de-DE,de;q=0.9"]], "note": "German calculator with decimal comma"},
]

banking = [
    {"method": "POST", "target": "/internal/payments/v2/transfers", "profile": "api", "headers": [["Idempotency-Key", "5f0c6a8e-3d1b-4e5f-a9c7-0b2d4e6f8a1c"], ["X-Correlation-Id", "web-7731-aa"]], "json": {"debtorAccount": "DE89370400440532013000", "creditor": {"name": "Müller & Söhne GmbH", "iban": "DE02120300000000202051", "bic": "BYLADEM1001"}, "amount": {"value": "1250.00", "currency": "EUR"}, "remittance": "RE 2026-1187 / Kd-Nr 44021", "executionDate": "2026-12-08"}, "note": "SEPA transfer with ampersand in name"},
    {"target": "/accounts/0532013000/transactions?from=2026-11-01&to=2026-11-30&q=Miete&page=2", "profile": "chrome", "note": "transaction search"},
    {"method": "POST", "target": "/payees/new", "profile": "form", "form": [["name", "J. O'Sullivan"], ["sort_code", "20-00-00"], ["account", "55779911"], ["reference", "RENT DEC"], ["cop_check", "1"]], "note": "add payee form"},
    {"target": "/api/statements/2026-11.pdf?account=0532013000", "profile": "chrome", "headers": [["Accept", "application/pdf"]], "note": "statement download"},
    {"method": "POST", "target": "/internal/payments/v2/standing-orders", "profile": "xhr", "json": {"from": "GB33BUKB20201555555555", "to": "GB94BARC10201530093459", "amount": "450.00", "frequency": "monthly", "day": 28, "reference": "Savings #pot-holiday"}, "note": "standing order"},
    {"method": "POST", "target": "/api/cards/4411/freeze", "profile": "mobile_app", "json": {"reason": "misplaced", "temporary": True}, "note": "card freeze"},
]

brokerage = [
    {"method": "POST", "target": "/v2/orders", "profile": "api", "headers": [["Authorization", "Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJVMTE4MjczMyJ9.c2ln"]], "json": {"account": "U1182733", "symbol": "MSFT", "side": "buy", "qty": 15, "type": "limit", "limit_price": "371.05", "time_in_force": "day", "extended_hours": False, "client_order_id": "ord-20261207-0007"}, "note": "limit order"},
    {"method": "POST", "target": "/v2/orders", "profile": "api", "json": {"account": "U1182733", "symbol": "SPY 270115C00500000", "asset_class": "option", "side": "sell_to_open", "qty": 1, "type": "limit", "limit_price": "12.40", "time_in_force": "gtc"}, "note": "OCC option symbol with spaces"},
    {"target": "/v2/marketdata/bars?symbols=AAPL,BRK.B,RDS-A&timeframe=1Day&start=2026-11-01&limit=500", "profile": "api", "note": "bars query with dotted/dashed tickers"},
    {"method": "DELETE", "target": "/v2/orders/ord-20261207-0007", "profile": "api", "note": "cancel order"},
    {"target": "/v2/positions?account=U1182733", "profile": "api", "note": "positions"},
    {"method": "POST", "target": "/v2/orders", "profile": "xhr", "json": {"account": "U1182733", "type": "bracket", "symbol": "NVDA", "side": "buy", "qty": 5, "entry": {"type": "market"}, "take_profit": {"limit_price": "520.00"}, "stop_loss": {"stop_price": "430.00", "limit_price": "428.50"}}, "note": "bracket order"},
]

ubl = ['''<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>
  <cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>
  <cbc:ID>INV-2026-00412</cbc:ID>
  <cbc:IssueDate>2026-12-07</cbc:IssueDate>
  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cac:AccountingSupplierParty><cac:Party><cbc:EndpointID schemeID="0088">7300010000001</cbc:EndpointID><cac:PartyName><cbc:Name>Nordlicht Büromöbel AB</cbc:Name></cac:PartyName></cac:Party></cac:AccountingSupplierParty>
  <cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:InvoicedQuantity unitCode="C62">4</cbc:InvoicedQuantity><cbc:LineExtensionAmount currencyID="EUR">1596.00</cbc:LineExtensionAmount><cac:Item><cbc:Name>Desk 160x80 &amp; cable tray</cbc:Name></cac:Item><cac:Price><cbc:PriceAmount currencyID="EUR">399.00</cbc:PriceAmount></cac:Price></cac:InvoiceLine>
</Invoice>
''', '''<?xml version="1.0" encoding="UTF-8"?>
<CreditNote xmlns="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2" xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2">
  <cbc:ID>CN-2026-0031</cbc:ID><cbc:IssueDate>2026-12-07</cbc:IssueDate><cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>
  <cbc:Note>Retour: 1 Stuhl beschädigt (Lieferschein LS-8812)</cbc:Note>
  <cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>INV-2026-00398</cbc:ID></cac:InvoiceDocumentReference></cac:BillingReference>
</CreditNote>
''']
invoicing = [
    {"method": "POST", "target": "/peppol/as4/outbound", "profile": "api", "headers": [["Content-Type", "application/xml"]], "body": ubl[0], "note": "UBL Peppol BIS invoice"},
    {"method": "POST", "target": "/peppol/as4/outbound", "profile": "api", "headers": [["Content-Type", "application/xml; charset=utf-8"]], "body": ubl[1], "note": "UBL credit note"},
    {"method": "POST", "target": "/api/invoices", "profile": "xhr", "json": {"customer": "cus_8812", "number": "2026-0413", "lines": [{"description": "Consulting — Nov 2026 (38.5 h @ €95)", "qty": 38.5, "unit_price": "95.00", "vat": "19%"}], "notes": "Payable within 14 days. Bankverbindung siehe unten.", "language": "de"}, "note": "invoice json with em dash and euro"},
    {"target": "/api/invoices?status=overdue&due_before=2026-12-01&customer=cus_8812&per_page=50", "profile": "xhr", "note": "overdue invoice list"},
    {"method": "POST", "target": "/api/invoices/2026-0413/send", "profile": "xhr", "json": {"to": ["ap@kunde.example.de"], "cc": [], "subject": "Rechnung 2026-0413", "message": "Sehr geehrte Damen und Herren,\n\nanbei unsere Rechnung.\n\nMit freundlichen Grüßen"}, "note": "send invoice email"},
    {"target": "/peppol/lookup?participant=iso6523-actorid-upis%3A%3A0088%3A7300010000001&doctype=busdox-docid-qns", "profile": "api", "note": "SMP participant lookup"},
]

erp = [
    {"method": "POST", "target": "/erp/api/purchase-orders", "profile": "api", "json": {"poNumber": "PO-4500018823", "vendor": "V-10044", "plant": "1000", "purchOrg": "EU01", "items": [{"item": 10, "material": "MAT-88-0012", "text": "Hex bolt M8x40 DIN 933 8.8 zinc", "qty": 5000, "uom": "EA", "netPrice": "0.041", "deliveryDate": "2027-01-15"}, {"item": 20, "material": "MAT-88-0077", "text": "Washer Ø8.4 DIN 125", "qty": 5000, "uom": "EA", "netPrice": "0.006"}]}, "note": "PO json"},
    {"method": "POST", "target": "/erp/idoc/inbound", "profile": "api", "headers": [["Content-Type", "application/xml"]], "body": "<?xml version=\"1.0\"?><ORDERS05><IDOC BEGIN=\"1\"><EDI_DC40 SEGMENT=\"1\"><DOCNUM>0000000004419921</DOCNUM><MESTYP>ORDERS</MESTYP><SNDPRN>CUST0042</SNDPRN></EDI_DC40><E1EDK01 SEGMENT=\"1\"><CURCY>EUR</CURCY><BELNR>PO-77-2291</BELNR></E1EDK01><E1EDP01 SEGMENT=\"1\"><POSEX>000010</POSEX><MENGE>12.000</MENGE><MENEE>PCE</MENEE></E1EDP01></IDOC></ORDERS05>", "note": "IDoc XML"},
    {"target": "/erp/api/purchase-orders?$filter=vendor%20eq%20%27V-10044%27%20and%20status%20eq%20%27open%27&$orderby=createdAt%20desc&$top=25", "profile": "api", "note": "OData filter query"},
    {"method": "PATCH", "target": "/erp/api/purchase-orders/PO-4500018823/items/20", "profile": "api", "json": {"qty": 5200, "changeReason": "Vendor MOQ 5,200 pcs"}, "note": "PO line change"},
    {"method": "POST", "target": "/erp/api/goods-receipts", "profile": "mobile_app", "json": {"po": "PO-4500018823", "item": 10, "qtyReceived": 4980, "storageLocation": "RM01", "batch": "B26-1207-A", "deliveryNote": "LS 77120"}, "note": "goods receipt"},
    {"target": "/erp/api/vendors/V-10044?expand=bankDetails,contacts", "profile": "api", "note": "vendor fetch"},
]

n = 0
for cat, es in [("airline_checkin", airline), ("hotel_channel", hotel), ("car_rental", car), ("insurance_quote", insurance),
                ("mortgage_calc", mortgage), ("bank_transfer", banking), ("brokerage", brokerage),
                ("ubl_invoicing", invoicing), ("erp_purchasing", erp)]:
    n += write("benign", cat, es)
print("benign batch 1", n)
