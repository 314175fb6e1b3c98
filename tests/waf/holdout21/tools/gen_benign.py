"""Benign requests of Anadolu Grup (retail, bank, telecom, media; Turkey)."""
import base64
import sys
import os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import q, qp, xhr, app, write, TR, CK  # noqa: E402

K = {}

K["customer_portal"] = [
    {"method": "POST", "target": "/hesabim/giris", "profile": "form", "headers": TR,
     "form": [["_csrf", "hT4kPq9Wz2Lm"], ["tckn", "10000000146"], ["sifre", "Kış2024!Güneş#"], ["beni_hatirla", "on"]],
     "note": "login with TC kimlik no and Turkish password"},
    {"method": "POST", "target": "/api/v2/auth/otp/dogrula", "profile": "xhr", "headers": xhr(),
     "json": {"islemId": "OTP-20261207-88412", "kod": "482915", "kanal": "SMS"}, "note": "SMS OTP verification"},
    {"target": "/hesabim/profil?sekme=iletisim", "profile": "chrome", "headers": TR + [["Cookie", CK], ["Referer", "https://www.anadolu.com.tr/hesabim"]],
     "note": "profile page"},
    {"method": "PUT", "target": "/api/v2/musteri/profil", "profile": "xhr", "headers": xhr(),
     "json": {"ad": "Şükrü", "soyad": "Öztürk-Çağlayan", "eposta": "sukru.ozturk@ornek.com.tr", "cepTel": "+90 532 418 27 66",
              "dogumTarihi": "14.03.1979", "meslek": "Mali Müşavir (SMMM)", "iletisimDili": "tr"}, "note": "profile update JSON"},
    {"method": "POST", "target": "/hesabim/sifre-degistir", "profile": "form", "headers": TR,
     "form": [["_csrf", "hT4kPq9Wz2Lm"], ["eski", "Kış2024!Güneş#"], ["yeni", "Ağaç&Çiçek<2025>"], ["yeni_tekrar", "Ağaç&Çiçek<2025>"]],
     "note": "password change with & and < > in password"},
    {"target": "/hesabim/cikis?donus=%2Fhesabim%2Fgiris%3Fmesaj%3Dcikis_yapildi", "profile": "safari", "headers": TR + [["Cookie", CK]],
     "note": "logout with encoded return path"},
]

K["address_change"] = [
    {"method": "POST", "target": "/hesabim/adres/guncelle", "profile": "form", "headers": TR,
     "form": [["_csrf", "hT4kPq9Wz2Lm"], ["il", "İstanbul"], ["ilce", "Kadıköy"], ["mahalle", "Caferağa Mah."],
              ["adres", "Moda Cad. No: 112/4 D: 7"], ["posta_kodu", "34710"], ["tarif", "Köşedeki fırının üstü, 3. kat"]],
     "note": "address form with No:/D: format"},
    {"target": q("/api/v2/adres/ilceler", {"il": "Şanlıurfa"}), "profile": "xhr", "headers": xhr(), "note": "district lookup"},
    {"target": q("/api/v2/adres/mahalleler", {"il": "İzmir", "ilce": "Karşıyaka", "q": "Bostanlı"}), "profile": "xhr", "headers": xhr(),
     "note": "neighbourhood autocomplete"},
    {"method": "PATCH", "target": "/api/v2/musteri/adresler/3", "profile": "mobile_app", "headers": app(),
     "json": {"baslik": "İş", "adresSatiri": "Atatürk Bulvarı No:199/A Kat:5 Daire:12", "il": "Ankara", "ilce": "Çankaya",
              "postaKodu": "06680", "koordinat": {"lat": 39.9087, "lon": 32.8597}, "varsayilan": False}, "note": "app address patch"},
    {"method": "POST", "target": "/hesabim/fatura-adresi", "profile": "form", "headers": TR,
     "form": [["_csrf", "hT4kPq9Wz2Lm"], ["tip", "kurumsal"], ["unvan", "Yıldız & Oğulları Tekstil San. ve Tic. Ltd. Şti."],
              ["vergi_dairesi", "Bursa / Osmangazi"], ["vkn", "1234567890"], ["adres", "Organize San. Böl. 2. Cad. No:14, 16140 Nilüfer/Bursa"]],
     "note": "company billing address with & and /"},
    {"method": "POST", "target": "/api/v2/adres/dogrula", "profile": "xhr", "headers": xhr(),
     "json": {"metin": "Bağdat Cd. 'Suadiye Apt.' No:401 (Migros'un karşısı) Kadıköy/İST"}, "note": "address validation free text with quotes"},
]

def mp(boundary, parts):
    return {"boundary": boundary, "parts": parts}

PDF = base64.b64encode(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n").decode()
JPG = base64.b64encode(bytes([0xFF, 0xD8, 0xFF, 0xE0, 0, 16]) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(0, 200, 3)) + bytes([0xFF, 0xD9])).decode()
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00\x1f\xf3\xffa" + bytes(range(40))).decode()

K["contract_upload"] = [
    {"method": "POST", "target": "/hesabim/sozlesmeler/yukle", "profile": "form_multipart", "headers": TR,
     "multipart": mp("----WebKitFormBoundaryQ3nT8vLx2RkM", [
         {"name": "_csrf", "data": "hT4kPq9Wz2Lm"}, {"name": "belge_turu", "data": "abonelik_sozlesmesi"},
         {"name": "dosya", "filename": "Abonelik Sözleşmesi - imzalı.pdf", "content_type": "application/pdf", "data_b64": PDF}]),
     "note": "signed contract PDF with Turkish filename"},
    {"method": "POST", "target": "/hesabim/belgeler/kimlik", "profile": "form_multipart", "headers": TR,
     "multipart": mp("----WebKitFormBoundary7hYpL0aZ", [
         {"name": "yuz", "data": "on"}, {"name": "dosya", "filename": "kimlik_on_yüz.jpg", "content_type": "image/jpeg", "data_b64": JPG}]),
     "note": "ID card photo"},
    {"method": "POST", "target": "/api/v2/belgeler", "profile": "mobile_app", "headers": app(),
     "multipart": mp("AnadoluAppBoundary9f8e7d", [
         {"name": "meta", "content_type": "application/json", "data": '{"tur":"ikametgah","aciklama":"e-Devlet\'ten alınan yerleşim yeri belgesi","barkod":"NVI-2026-AB12CD34"}'},
         {"name": "dosya", "filename": "yerlesim_yeri.pdf", "content_type": "application/pdf", "data_b64": PDF}]),
     "note": "app upload of residence certificate with JSON meta"},
    {"target": "/hesabim/sozlesmeler/indir/ABN-2026-004417.pdf?imza=1&surum=3", "profile": "chrome", "headers": TR + [["Cookie", CK]],
     "note": "contract download"},
    {"method": "POST", "target": "/kurumsal/sozlesme/ek-protokol", "profile": "form_multipart", "headers": TR,
     "multipart": mp("----WebKitFormBoundaryM1x9", [
         {"name": "aciklama", "data": "Ek protokol (madde 4.2 & 7.1) revize edildi; ıslak imzalı nüsha kargoya verildi."},
         {"name": "dosya", "filename": "EK-PROTOKOL_v2 (son).pdf", "content_type": "application/pdf", "data_b64": PDF}]),
     "note": "corporate addendum upload"},
    {"method": "DELETE", "target": "/api/v2/belgeler/7741?neden=yanl%C4%B1%C5%9F+dosya", "profile": "xhr", "headers": xhr(),
     "note": "delete uploaded doc"},
]

K["support_chat"] = [
    {"method": "POST", "target": "/destek/sohbet/api/mesaj", "profile": "xhr", "headers": xhr(),
     "json": {"oturumId": "CH-99120", "metin": "Merhaba, faturamda 149,90 TL yerine 249,90 TL yazıyor?! Neden?"}, "note": "chat message"},
    {"method": "POST", "target": "/destek/sohbet/api/mesaj", "profile": "xhr", "headers": xhr(),
     "json": {"oturumId": "CH-99120", "metin": "Modemin ışığı kırmızı yanıyor; resetledim ama \"DSL\" lambası hâlâ yanıp sönüyor :("}, "note": "chat with quotes and emoticon"},
    {"method": "POST", "target": "/destek/sohbet/api/transkript", "profile": "xhr", "headers": xhr(),
     "json": {"oturumId": "CH-99087", "eposta": "ayse.kaya@ornek.com", "satirlar": [
         {"k": "musteri", "t": "10:02", "m": "İnternetim 2 gündür yok, arıza kaydı: ARZ-556102"},
         {"k": "temsilci", "t": "10:03", "m": "Ayşe Hanım merhaba, kontrol ediyorum; lütfen hattan ayrılmayın."},
         {"k": "musteri", "t": "10:05", "m": "Tamam. Bu arada 'taahhüt' bitince ne olacak? Cayma bedeli çıkar mı?"}]},
     "note": "chat transcript email request"},
    {"target": "/destek/sohbet/api/gecmis?oturumId=CH-99087&sayfa=2&boyut=50", "profile": "xhr", "headers": xhr(), "note": "chat history"},
    {"method": "POST", "target": "/destek/sohbet/api/degerlendir", "profile": "xhr", "headers": xhr(),
     "json": {"oturumId": "CH-99087", "puan": 4, "yorum": "Temsilci ilgiliydi ama 20 dk bekledim -- daha hızlı olabilir."}, "note": "rating with double dash"},
    {"method": "POST", "target": "/destek/sohbet/api/mesaj", "profile": "mobile_app", "headers": app(ios=True),
     "json": {"oturumId": "CH-99301", "metin": "Kartımdan 1.250,00 TL çekilmiş ama sipariş #TR-448812 iptal olmuştu; iade ne zaman?", "ek": None},
     "note": "app chat with amount and order number"},
]

K["complaint"] = [
    {"method": "POST", "target": "/iletisim/sikayet", "profile": "form", "headers": TR,
     "form": [["_csrf", "hT4kPq9Wz2Lm"], ["konu", "Fatura itirazı"], ["abone_no", "8800412377"],
              ["mesaj", "Ekim faturamda kullanmadığım \"Dijital Paket +\" ücreti (39,99 TL) var. Bu paketi hiç onaylamadım; SMS ile de onay vermedim. İadesini talep ediyorum."]],
     "note": "billing complaint"},
    {"method": "POST", "target": "/iletisim/sikayet", "profile": "firefox", "headers": TR + [["Cookie", CK], ["Content-Type", "application/x-www-form-urlencoded"], ["Origin", "https://www.anadolu.com.tr"]],
     "form": [["konu", "Mağaza deneyimi"], ["magaza", "Forum İstanbul AVM"],
              ["mesaj", "Kasadaki görevli 'sistem kapalı' dedi, 45 dakika bekledim. Yöneticiyle görüşmek istedim -> kimse gelmedi!!!"]],
     "note": "store complaint with quotes and arrow"},
    {"method": "POST", "target": "/api/v2/sikayet", "profile": "xhr", "headers": xhr(),
     "json": {"kanal": "web", "kategori": "kargo", "siparisNo": "TR-450019", "metin": "Kargo 'teslim edildi' görünüyor ama bana ulaşmadı. Kapıcıya da sordum; yok. Lütfen kamera kaydına bakın.", "kvkkOnay": True},
     "note": "delivery complaint JSON"},
    {"target": "/iletisim/sikayet/durum?basvuru=SKY-2026-118842", "profile": "chrome_mobile", "headers": TR, "note": "complaint status"},
    {"method": "POST", "target": "/iletisim/tuketici-hakem-heyeti", "profile": "form", "headers": TR,
     "form": [["ad_soyad", "Mehmet Ali Yılmaz"], ["tckn", "10000000078"], ["tutar", "3.499,00"],
              ["aciklama", "6502 sayılı Kanun md. 11 uyarınca ayıplı mal (telefon ekranı 3. günde çatladı) için bedel iadesi / değişim talebimdir."]],
     "note": "consumer arbitration form"},
    {"method": "POST", "target": "/iletisim/sikayet", "profile": "form", "headers": TR,
     "form": [["konu", "Other / Diğer"], ["mesaj", "I'm a tourist; my roaming SIM stopped working in Antalya after top-up of 500 TL. Order ref: RM-7781. Please reply in English."]],
     "note": "English complaint"},
]

K["product_qa"] = [
    {"target": q("/urun/samsung-galaxy-a55-128gb/sorular", {"sayfa": "2", "sirala": "en_yeni"}), "profile": "chrome", "headers": TR, "note": "Q&A list"},
    {"method": "POST", "target": "/api/v2/urun/884120/soru", "profile": "xhr", "headers": xhr(),
     "json": {"soru": "Bu buzdolabı 'No Frost' mu? Derinliği 65 cm'yi geçiyor mu?", "anonim": False}, "note": "question with quotes"},
    {"method": "POST", "target": "/api/v2/urun/771002/soru", "profile": "xhr", "headers": xhr(),
     "json": {"soru": "Çamaşır makinesi 9 kg / 1400 devir; A+++ sınıfı mı yoksa yeni etikette B mi?", "anonim": True}, "note": "question with slashes and plus"},
    {"method": "POST", "target": "/api/v2/urun/771002/cevap", "profile": "xhr", "headers": xhr(),
     "json": {"soruId": 55120, "cevap": "Yeni enerji etiketinde B sınıfı; eski ölçekte A+++ -%10'a denk geliyor."}, "note": "seller answer with percent"},
    {"method": "POST", "target": "/api/v2/urun/900441/yorum", "profile": "mobile_app", "headers": app(),
     "json": {"puan": 5, "baslik": "Fiyat/performans <3", "metin": "Kargo hızlıydı, kutu sağlamdı. Şarj 1,5 gün gidiyor.", "fotograflar": []},
     "note": "review with <3"},
    {"target": q("/arama", {"q": "bulaşık makinesi 60 cm \"sessiz\"", "fiyat": "5000-15000", "marka": "Arçelik,Beko"}), "profile": "firefox", "headers": TR,
     "note": "product search with quotes"},
]

K["store_locator"] = [
    {"target": q("/api/v2/magazalar", {"lat": "41.0431", "lon": "29.0099", "yaricap": "5km", "tur": "telekom,perakende"}), "profile": "xhr", "headers": xhr(), "note": "nearby stores"},
    {"target": q("/magazalar", {"il": "Gaziantep", "ilce": "Şahinbey"}), "profile": "chrome_mobile", "headers": TR, "note": "stores by district"},
    {"target": q("/api/v2/magazalar/ara", {"q": "Kızılay AVM", "acik": "simdi"}), "profile": "xhr", "headers": xhr(), "note": "store search"},
    {"target": "/magaza/ankara-cankaya-kizilay-344", "profile": "safari", "headers": TR, "note": "store page"},
    {"target": q("/api/v2/atm", {"bbox": "28.95,41.00,29.05,41.08", "nakit_yatirma": "1", "engelli_erisim": "1"}), "profile": "mobile_app", "headers": app(), "note": "ATM map bbox"},
    {"target": q("/api/v2/magazalar/344/calisma-saatleri", {"tarih": "29.10.2026"}), "profile": "xhr", "headers": xhr(), "note": "opening hours on holiday date"},
]

K["appointment"] = [
    {"target": q("/randevu/musait-saatler", {"magaza": "344", "tarih": "2026-12-09", "hizmet": "cihaz_onarim"}), "profile": "xhr", "headers": xhr(), "note": "available slots"},
    {"method": "POST", "target": "/api/v2/randevu", "profile": "xhr", "headers": xhr(),
     "json": {"magazaId": 344, "baslangic": "2026-12-09T14:30:00+03:00", "hizmet": "bireysel_kredi", "not": "Konut kredisi için ön görüşme; eşim de gelecek.", "tel": "0 (532) 418 27 66"},
     "note": "book bank appointment"},
    {"method": "POST", "target": "/randevu/olustur", "profile": "form", "headers": TR,
     "form": [["hizmet", "ekran_degisimi"], ["cihaz", "iPhone 13 (A2633)"], ["imei", "356789104523187"], ["tarih", "10.12.2026"], ["saat", "11:00"],
              ["ariza", "Ekran düştükten sonra çatladı; dokunmatik sağ alt köşede çalışmıyor."]], "note": "repair appointment"},
    {"method": "DELETE", "target": "/api/v2/randevu/RND-55810", "profile": "mobile_app", "headers": app(), "note": "cancel appointment"},
    {"method": "POST", "target": "/api/v2/randevu/RND-55811/ertele", "profile": "mobile_app", "headers": app(ios=True),
     "json": {"yeniBaslangic": "2026-12-11T09:15:00+03:00", "neden": "İş toplantısı çıktı :/"}, "note": "reschedule"},
    {"target": "/randevu/onay?kod=RND-55811&imza=9f2c6b0e1a&utm_source=sms", "profile": "chrome_mobile", "headers": TR, "note": "confirmation link from SMS"},
]

K["loyalty_app"] = [
    {"target": "/api/v3/sadakat/bakiye", "profile": "mobile_app", "headers": app(), "note": "points balance"},
    {"method": "POST", "target": "/api/v3/sadakat/kampanya/katil", "profile": "mobile_app", "headers": app(),
     "json": {"kampanyaKodu": "KASIM-X2-PUAN", "kanal": "app", "konum": {"lat": 40.99, "lon": 29.03}}, "note": "join campaign"},
    {"method": "POST", "target": "/api/v3/sadakat/puan/harca", "profile": "mobile_app", "headers": app(ios=True),
     "json": {"puan": 2500, "karsilik": "25,00 TL", "sepetId": "SP-77120", "otp": "119204"}, "note": "spend points"},
    {"target": "/api/v3/sadakat/hareketler?baslangic=01.11.2026&bitis=30.11.2026&tur=kazanim%2Charcama", "profile": "mobile_app", "headers": app(), "note": "transactions"},
    {"method": "POST", "target": "/api/v3/sadakat/kart/esle", "profile": "mobile_app", "headers": app(),
     "json": {"kartNo": "6375 **** **** 4421", "kartTipi": "troy", "takmaAd": "Annemin kartı"}, "note": "link card"},
    {"method": "POST", "target": "/api/v3/sadakat/fis-tara", "profile": "mobile_app", "headers": app(),
     "json": {"qr": "ANDL|M344|K07|F00812|2026-12-06 18:42|TOPLAM:1.248,35|KDV:208,06|ETTN:5c0f2a91-8b3e-4d7a-9e10-2f6b7c8d9a01"}, "note": "receipt QR scan with pipes"},
]

DEV = {"isletimSistemi": "Android", "surum": "13", "model": "SM-A536B", "uretici": "samsung", "dil": "tr-TR", "saatDilimi": "Europe/Istanbul", "root": False}
K["mobile_api"] = [
    {"method": "POST", "target": "/api/v3/cihaz/kayit", "profile": "mobile_app", "headers": app(),
     "json": {"cihaz": DEV, "pushToken": "fcm:dQw4w9WgXcQ:APA91bH-3kZxq_9r0Lp2mN4oV8sT1uW5yX7zA", "bildirimIzni": True}, "note": "device registration"},
    {"target": "/api/v3/anasayfa?bolge=TR-34&tema=koyu&ab=v2", "profile": "mobile_app", "headers": app(ios=True), "note": "home feed"},
    {"method": "POST", "target": "/api/v3/oturum/yenile", "profile": "mobile_app", "headers": app(),
     "json": {"refreshToken": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMDAwMDAwMDE0NiIsImV4cCI6MTc5Njk5MzYwMH0.c2lnbmF0dXJlLXBsYWNlaG9sZGVy", "cihazId": "a81f0c2e-77b1-4c1d-9a0e-5d2f3b6c8e11"}, "note": "token refresh"},
    {"method": "POST", "target": "/api/v3/hata-raporu", "profile": "mobile_app", "headers": app(),
     "json": {"cihaz": DEV, "ekran": "OdemeOzetFragment", "istisna": "java.lang.IllegalStateException: Fragment OdemeOzetFragment{4a1b} not attached to a context.",
              "iz": ["at androidx.fragment.app.Fragment.requireContext(Fragment.java:972)", "at tr.com.anadolu.odeme.OdemeOzetFragment.onResume(OdemeOzetFragment.kt:88)"]},
     "note": "crash report with Java stack trace"},
    {"target": "/api/v3/ayarlar/ozellik-bayraklari?platform=ios&surum=8.4.1", "profile": "mobile_app", "headers": app(ios=True), "note": "feature flags"},
    {"method": "POST", "target": "/api/v3/konum/izin", "profile": "mobile_app", "headers": app(),
     "json": {"izin": "sadece_kullanirken", "hassasiyet": "yaklasik", "zaman": "2026-12-07T20:14:55.120+03:00"}, "note": "location permission event"},
]

PART = [["User-Agent", "AnadoluB2B-Client/2.3 (Java/17.0.9)"], ["Authorization", "Bearer b2b.3f9a7c1e5d0b4a28"], ["X-Partner-Id", "BAYI-06-0112"]]
K["partner_api"] = [
    {"method": "POST", "target": "/b2b/v1/siparisler", "profile": "api", "headers": PART + [["Idempotency-Key", "6b1f9e3a-2c44-4d0e-8f11-0a9b7c6d5e4f"]],
     "json": {"bayiKodu": "BAYI-06-0112", "siparisNo": "B2B-2026-118", "kalemler": [{"stokKodu": "TLF-A55-128-LAC", "adet": 20, "birimFiyat": "14.999,00"},
              {"stokKodu": "AKS-KLF-A55-SEF", "adet": 40, "birimFiyat": "199,90"}], "teslimat": {"depo": "Ankara Sincan", "not": "Rampa 3 – 09:00-17:00"}},
     "note": "dealer order"},
    {"target": "/b2b/v1/stok?depo=IST-HADIMKOY&stokKodu=TLF-A55-128-LAC,TLF-A35-256-SIY", "profile": "api", "headers": PART, "note": "stock query"},
    {"method": "POST", "target": "/b2b/v1/hat-aktivasyon/toplu", "profile": "api", "headers": PART,
     "json": {"kurum": {"vkn": "9876543210", "unvan": "Ege Lojistik A.Ş."}, "hatlar": [{"iccid": "8990011234567890123", "tarife": "KURUMSAL-20GB"}, {"iccid": "8990011234567890124", "tarife": "KURUMSAL-20GB"}]},
     "note": "bulk corporate line activation"},
    {"method": "PUT", "target": "/b2b/v1/fiyat-listesi/2026-12", "profile": "api", "headers": PART,
     "json": {"paraBirimi": "TRY", "kdvDahil": True, "satirlar": [["TLF-A55-128-LAC", 14999.0], ["TV-55-QLED", 32499.9]]}, "note": "price list upload"},
    {"target": "/b2b/v1/mutabakat?donem=2026-11&format=json", "profile": "api", "headers": PART, "note": "reconciliation"},
    {"method": "POST", "target": "/b2b/v1/iade", "profile": "api", "headers": PART,
     "json": {"siparisNo": "B2B-2026-101", "seriNo": ["R58T90ABCDE"], "neden": "Kutu hasarlı geldi (\"ezik\"); tutanak ektedir.", "tutanakNo": "TTN-4471"}, "note": "return request"},
]

def ubl(no, vkn, alici, tutar, notlar):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
            'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
            'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">\n'
            '  <cbc:UBLVersionID>2.1</cbc:UBLVersionID>\n  <cbc:CustomizationID>TR1.2</cbc:CustomizationID>\n'
            '  <cbc:ProfileID>TICARIFATURA</cbc:ProfileID>\n  <cbc:ID>%s</cbc:ID>\n'
            '  <cbc:UUID>f47ac10b-58cc-4372-a567-0e02b2c3d479</cbc:UUID>\n  <cbc:IssueDate>2026-12-05</cbc:IssueDate>\n'
            '  <cbc:InvoiceTypeCode>SATIS</cbc:InvoiceTypeCode>\n  <cbc:Note>%s</cbc:Note>\n'
            '  <cbc:DocumentCurrencyCode>TRY</cbc:DocumentCurrencyCode>\n'
            '  <cac:AccountingSupplierParty><cac:Party><cac:PartyIdentification><cbc:ID schemeID="VKN">%s</cbc:ID></cac:PartyIdentification>'
            '<cac:PartyName><cbc:Name>%s</cbc:Name></cac:PartyName></cac:Party></cac:AccountingSupplierParty>\n'
            '  <cac:LegalMonetaryTotal><cbc:PayableAmount currencyID="TRY">%s</cbc:PayableAmount></cac:LegalMonetaryTotal>\n'
            '</Invoice>\n') % (no, notlar, vkn, alici, tutar)

SUP = [["Cookie", "tedarikci_oturum=s9d8f7g6h5j4k3l2; dil=tr"], ["Accept-Language", "tr-TR,tr;q=0.9"]]
K["supplier_einvoice"] = [
    {"method": "POST", "target": "/tedarikci/api/efatura", "profile": "api", "headers": PART[1:] + [["Content-Type", "application/xml; charset=UTF-8"]],
     "body": ubl("ANA2026000004412", "1234567890", "Yıldız &amp; Oğulları Tekstil Ltd. Şti.", "118000.00", "Yalnız YüzOnSekizBin TL Sıfır Kuruş"), "note": "UBL-TR e-Fatura XML"},
    {"method": "POST", "target": "/tedarikci/api/efatura", "profile": "api", "headers": PART[1:] + [["Content-Type", "application/xml"]],
     "body": ubl("EGE2026000000981", "9876543210", "Ege Lojistik A.Ş.", "4512.75", "İrsaliye No: IRS-2026-7712 / Sipariş: PO-55012 &lt;acil&gt;"), "note": "e-Fatura with escaped markup in note"},
    {"method": "POST", "target": "/tedarikci/fatura/yukle", "profile": "form_multipart", "headers": SUP,
     "multipart": mp("----WebKitFormBoundaryEf4tUr4", [{"name": "donem", "data": "2026-11"},
         {"name": "dosya", "filename": "ANA2026000004413.xml", "content_type": "text/xml", "data": ubl("ANA2026000004413", "1234567890", "Kuzey Ambalaj San. A.Ş.", "9870.40", "Vade: 60 gün")}]),
     "note": "e-Fatura file upload"},
    {"target": "/tedarikci/faturalar?durum=reddedildi&baslangic=01.11.2026&bitis=30.11.2026&sirala=-tarih", "profile": "chrome", "headers": SUP, "note": "invoice list"},
    {"method": "POST", "target": "/tedarikci/api/efatura/ANA2026000004412/yanit", "profile": "xhr", "headers": SUP + [["X-XSRF-TOKEN", "hT4kPq9Wz2Lm"]],
     "json": {"yanit": "RED", "gerekce": "Birim fiyat sözleşmedeki 12,40 TL yerine 14,20 TL yazılmış (madde 3.1)."}, "note": "reject invoice with reason"},
    {"method": "POST", "target": "/tedarikci/api/e-arsiv/sorgu", "profile": "api", "headers": PART[1:],
     "json": {"ettn": "f47ac10b-58cc-4372-a567-0e02b2c3d479", "vkn": "1234567890", "tarih": "05.12.2026"}, "note": "e-Arsiv query"},
]

K["logistics_webhook"] = [
    {"method": "POST", "target": "/webhook/kargo/yurtici", "profile": "api", "headers": [["User-Agent", "YK-Webhook/1.0"], ["X-Signature", "sha256=8f14e45fceea167a5a36dedd4bea2543"]],
     "json": {"takipNo": "YK1234567890", "durum": "DAGITIMDA", "sube": "Kadıköy/Moda", "zaman": "07.12.2026 09:41", "aciklama": "Kurye: Hasan Ç."}, "note": "courier status"},
    {"method": "POST", "target": "/webhook/kargo/aras", "profile": "api", "headers": [["User-Agent", "Aras-Notify"], ["X-Api-Key", "ak_live_5512"]],
     "json": {"barcode": "ARS-77812009", "event": "DELIVERED", "receiver": "Kapıcı - Ali Bey", "signatureImage": None}, "note": "delivered to doorman"},
    {"method": "POST", "target": "/webhook/kargo/ptt", "profile": "api", "headers": [["User-Agent", "PTT-KargoBildirim/3"], ["Content-Type", "application/x-www-form-urlencoded"]],
     "body": "barkod=RR123456789TR&durum=TESLIM_EDILEMEDI&neden=Adreste+bulunamad%C4%B1&zaman=2026-12-06T16%3A20%3A00%2B03%3A00", "note": "PTT form webhook"},
    {"method": "POST", "target": "/webhook/kargo/mng", "profile": "api", "headers": [["User-Agent", "MNG-Hook/2.1"]],
     "json": [{"takip": "MNG55120", "olay": "TRANSFER", "konum": "Gebze Aktarma"}, {"takip": "MNG55121", "olay": "SUBEDE", "konum": "Çorlu Şb."}], "note": "batch events"},
    {"target": "/kargo-takip?no=YK1234567890&utm_source=sms&utm_medium=bildirim", "profile": "chrome_mobile", "headers": TR, "note": "tracking page from SMS"},
    {"method": "POST", "target": "/webhook/kurye/getir", "profile": "api", "headers": [["User-Agent", "courier-events/4.2"], ["X-Timestamp", "1796655600"]],
     "json": {"orderId": "Q-88120", "status": "courier_arrived", "eta_min": 0, "note": "Zili çalıştım, açan olmadı; kapıya bıraktım mı?"}, "note": "quick-commerce courier event"},
]

K["landing_utm"] = [
    {"target": "/kampanya/kis-firsatlari?utm_source=google&utm_medium=cpc&utm_campaign=kis_2026_tv&utm_term=%2Bqled+tv+%2Bkampanya&gclid=Cj0KCQiA4L67BhDUARIsADWrl7G", "profile": "chrome", "headers": TR, "note": "Google Ads landing"},
    {"target": "/kampanya/efsane-kasim?utm_source=facebook&utm_medium=paid_social&utm_content=video_15sn&fbclid=IwAR2xK9_Lm0Qp", "profile": "chrome_mobile", "headers": TR, "note": "Facebook landing"},
    {"target": q("/tarifeler/genc", {"utm_source": "instagram", "utm_campaign": "üniversite_2026", "utm_content": "story|swipeup"}), "profile": "safari", "headers": TR, "note": "Instagram with Turkish utm and pipe"},
    {"target": "/kredi-karti/basvuru?utm_source=hepsiburada&utm_medium=affiliate&aff_id=1124&sub_id=%7Bclick_id%7D", "profile": "edge", "headers": TR, "note": "affiliate unexpanded macro"},
    {"target": "/?utm_source=newsletter&utm_medium=email&utm_campaign=2026-12-haftalik&mc_eid=a9f1e2b3c4", "profile": "firefox", "headers": TR, "note": "newsletter home link"},
    {"target": "/kampanya/yilbasi?utm_source=tiktok&utm_medium=cpm&ttclid=E.C.P.CvsBAA9xV&utm_term=y%C4%B1lba%C5%9F%C4%B1+hediye", "profile": "chrome_mobile", "headers": TR, "note": "TikTok landing"},
]

K["newsletter_prefs"] = [
    {"target": "/bulten/tercihler?e=bWVobWV0QG9ybmVrLmNvbQ%3D%3D&t=8f2a91", "profile": "chrome", "headers": TR, "note": "preference centre link"},
    {"method": "POST", "target": "/bulten/tercihler", "profile": "form", "headers": TR,
     "form": [["e", "bWVobWV0QG9ybmVrLmNvbQ=="], ["t", "8f2a91"], ["kanal", "eposta"], ["kanal", "sms"], ["konu", "kampanya"], ["konu", "finans"], ["siklik", "haftalik"]],
     "note": "preferences with repeated keys"},
    {"method": "POST", "target": "/bulten/abonelikten-cik", "profile": "form", "headers": TR,
     "form": [["e", "bWVobWV0QG9ybmVrLmNvbQ=="], ["neden", "diger"], ["aciklama", "Çok sık mail geliyor; haftada 1 yeter :)"]], "note": "unsubscribe"},
    {"method": "POST", "target": "/api/v2/iys/izin", "profile": "xhr", "headers": xhr(),
     "json": {"iysKanal": ["ARAMA", "MESAJ", "EPOSTA"], "onay": "RET", "kaynak": "HS_WEB", "tarih": "2026-12-07 20:30:11"}, "note": "IYS consent (Turkish messaging registry)"},
    {"method": "POST", "target": "/bulten/kayit", "profile": "xhr", "headers": xhr(),
     "json": {"eposta": "zeynep+bulten@ornek.com.tr", "ilgi": ["teknoloji", "ev & yaşam"], "kvkk": True}, "note": "signup with plus address"},
    {"target": "/bulten/onay?token=eyJlIjoiemV5bmVwQG9ybmVrLmNvbS50ciJ9.Q1a2", "profile": "safari", "headers": TR, "note": "double opt-in"},
]

K["careers"] = [
    {"target": q("/kariyer/ilanlar", {"q": "yazılım geliştirici", "sehir": "İstanbul (Avrupa)", "tip": "tam zamanlı", "uzaktan": "hibrit"}), "profile": "chrome", "headers": TR, "note": "job search"},
    {"method": "POST", "target": "/kariyer/basvuru/ILN-2026-331", "profile": "form_multipart", "headers": TR,
     "multipart": mp("----WebKitFormBoundaryK4r1y3r", [
         {"name": "ad_soyad", "data": "Elif Şahin"}, {"name": "eposta", "data": "elif.sahin@ornek.com"},
         {"name": "onyazi", "data": "Merhaba, 6 yıldır C/C++ ve Go ile ağ yazılımları geliştiriyorum. Son işimde ters vekil sunucu (reverse proxy) bakımını üstlendim."},
         {"name": "cv", "filename": "Elif_Şahin_CV_2026.pdf", "content_type": "application/pdf", "data_b64": PDF}]),
     "note": "application with CV"},
    {"method": "POST", "target": "/kariyer/api/degerlendirme/cevap", "profile": "xhr", "headers": xhr(), "tags": ["code"],
     "json": {"soru": 3, "cevap": "SELECT d.ad, COUNT(*) AS calisan FROM departman d JOIN personel p ON p.dep_id = d.id GROUP BY d.ad HAVING COUNT(*) > 10 ORDER BY calisan DESC;"},
     "note": "SQL answer in technical assessment (code)"},
    {"method": "POST", "target": "/kariyer/api/degerlendirme/cevap", "profile": "xhr", "headers": xhr(), "tags": ["code"],
     "json": {"soru": 4, "cevap": "find /var/log/app -name '*.log' -mtime +7 -exec gzip {} \\; && systemctl reload nginx"},
     "note": "shell answer in assessment (code)"},
    {"target": "/kariyer/ilan/ILN-2026-331-kidemli-veri-muhendisi?kaynak=linkedin", "profile": "edge", "headers": TR, "note": "job page"},
    {"method": "POST", "target": "/kariyer/api/aday/tercih", "profile": "xhr", "headers": xhr(),
     "json": {"beklenenMaas": "85.000 TL net", "baslama": "1 ay ihbar süresi", "engelDurumu": "belirtmek istemiyorum", "askerlik": "tamamlandı"}, "note": "candidate preferences"},
]

K["press_ir"] = [
    {"target": "/basin-odasi/bultenler?yil=2026&kategori=s%C3%BCrd%C3%BCr%C3%BClebilirlik", "profile": "chrome", "headers": TR, "note": "press releases"},
    {"target": "/basin-odasi/medya-kiti/Anadolu_Logo_Paketi_2026.zip", "profile": "firefox", "headers": TR, "note": "media kit download"},
    {"target": "/yatirimci-iliskileri/raporlar/2026-Q3-Faaliyet-Raporu.pdf", "profile": "chrome", "headers": TR + [["Referer", "https://www.anadolu.com.tr/yatirimci-iliskileri"]], "note": "IR PDF"},
    {"target": "/en/investor-relations/financials?period=9M2026&currency=TRY&ias29=1", "profile": "safari", "headers": [["Accept-Language", "en-GB,en;q=0.9"]], "note": "IR English with IAS 29"},
    {"method": "POST", "target": "/yatirimci-iliskileri/e-posta-listesi", "profile": "form", "headers": TR,
     "form": [["ad", "John O'Neil"], ["kurum", "Fidelity & Co. (London)"], ["eposta", "j.oneil@example.co.uk"], ["dil", "en"]], "note": "IR mailing list with apostrophe"},
    {"target": "/yatirimci-iliskileri/kap-bildirimleri?q=temett%C3%BC+da%C4%9F%C4%B1t%C4%B1m%C4%B1&tarih=2026", "profile": "chrome", "headers": TR, "note": "KAP disclosures search"},
]

INTRA = [["Cookie", "intranet_sso=eyJ1IjoiYWt5aWxtYXoifQ.x1; dil=tr"], ["Accept-Language", "tr-TR,tr;q=0.9"]]
K["intranet"] = [
    {"method": "POST", "target": "/intranet/haberler/2026-12-genel-mudur-mesaji/yorum", "profile": "xhr", "headers": INTRA,
     "json": {"yorum": "Emeği geçen herkese teşekkürler! 👏 Özellikle Ankara çağrı merkezi ekibine <3"}, "note": "news comment with emoji and <3"},
    {"method": "POST", "target": "/intranet/haberler/bt-bakim-duyurusu/yorum", "profile": "xhr", "headers": INTRA, "tags": ["code"],
     "json": {"yorum": "Bakımdan sonra VPN'e bağlanamayanlar için: `sudo systemctl restart openvpn-client@anadolu` komutu işe yarıyor; Windows'ta <b>Ağ bağdaştırıcısını</b> kapatıp açın."},
     "note": "IT tip with shell and HTML (code)"},
    {"target": q("/intranet/ara", {"q": "yıllık izin formu", "kapsam": "belgeler"}), "profile": "chrome", "headers": INTRA, "note": "internal search"},
    {"target": q("/intranet/ara", {"q": "\"masraf beyanı\" OR \"harcırah\" -2024", "kapsam": "tumu"}), "profile": "edge", "headers": INTRA, "note": "search operators OR and minus"},
    {"target": q("/intranet/rehber", {"q": "Gökçe Ünal", "birim": "Hukuk & Uyum"}), "profile": "firefox", "headers": INTRA, "note": "staff directory"},
    {"method": "POST", "target": "/intranet/anket/yemekhane", "profile": "form", "headers": INTRA,
     "form": [["puan", "2"], ["yorum", "Pilav soğuktu, tatlı yoktu; salı günleri menü hep aynı (kuru fasulye + pilav)."]], "note": "canteen survey"},
]

K["employee_self_service"] = [
    {"method": "POST", "target": "/ik/api/izin-talebi", "profile": "xhr", "headers": INTRA,
     "json": {"tur": "yillik", "baslangic": "22.12.2026", "bitis": "02.01.2027", "gun": 7, "vekil": "m.demir", "not": "Yılbaşı; acil durumda cep: 0532 000 00 00"}, "note": "leave request"},
    {"target": "/ik/bordro/2026-11.pdf?indir=1", "profile": "chrome", "headers": INTRA, "note": "payslip download"},
    {"method": "POST", "target": "/ik/masraf", "profile": "form_multipart", "headers": INTRA,
     "multipart": mp("----WebKitFormBoundaryM4sr4f", [{"name": "tutar", "data": "1.240,50"}, {"name": "aciklama", "data": "İzmir müşteri ziyareti – taksi + otopark"},
                                                      {"name": "fis", "filename": "fis_0412.jpg", "content_type": "image/jpeg", "data_b64": JPG}]), "note": "expense claim"},
    {"method": "PUT", "target": "/ik/api/banka-bilgisi", "profile": "xhr", "headers": INTRA,
     "json": {"iban": "TR33 0006 1005 1978 6457 8413 26", "banka": "Anadolu Bankası", "hesapSahibi": "Ahmet Kaan Yılmaz"}, "note": "salary IBAN update"},
    {"target": "/ik/api/mesai?ay=2026-11&format=csv", "profile": "xhr", "headers": INTRA, "note": "overtime export"},
    {"method": "POST", "target": "/ik/api/egitim/kayit", "profile": "xhr", "headers": INTRA,
     "json": {"egitimKodu": "KVKK-101", "oturum": "2026-12-15 14:00", "not": "Online katılacağım (Teams)."}, "note": "training enrolment"},
]

K["tv_catalogue"] = [
    {"target": q("/tv/api/ara", {"q": "Kurtlar Vadisi", "tur": "dizi"}), "profile": "xhr", "headers": xhr(), "note": "series search"},
    {"target": q("/tv/api/ara", {"q": "Ah Nerede / Yeşilçam", "yil": "1975-1985"}), "profile": "xhr", "headers": xhr(), "note": "search with slash"},
    {"target": q("/tv/api/ara", {"q": "Once Upon a Time in... Hollywood", "dil": "orijinal", "altyazi": "tr"}), "profile": "xhr", "headers": xhr(), "note": "English title with ellipsis"},
    {"target": "/tv/api/katalog?kategori=belgesel&sirala=populer&sayfa=3&cihaz=smarttv", "profile": "api", "headers": [["User-Agent", "Mozilla/5.0 (SMART-TV; Linux; Tizen 7.0) AppleWebKit/537.36 AnadoluTV/3.1"]], "note": "smart TV catalogue"},
    {"method": "POST", "target": "/tv/api/izleme-durumu", "profile": "mobile_app", "headers": app(),
     "json": {"icerikId": "DZ-4412-S03E07", "saniye": 1832, "toplam": 2640, "profil": "Çocuk"}, "note": "watch progress"},
    {"target": q("/tv/api/ara", {"q": "Şahsiyet 2. sezon", "profil": "yetiskin"}), "profile": "chrome_mobile", "headers": TR, "note": "search with ş and dot"},
]

K["prepaid_topup"] = [
    {"method": "POST", "target": "/api/v2/tl-yukle", "profile": "xhr", "headers": xhr(),
     "json": {"msisdn": "905324182766", "tutar": "100,00", "odeme": "kredi_karti", "kart": {"token": "tok_9a8b7c", "taksit": 1}}, "note": "top-up by card"},
    {"method": "POST", "target": "/api/v2/tl-yukle", "profile": "mobile_app", "headers": app(),
     "json": {"msisdn": "905551112233", "tutar": "250,00", "odeme": "papara", "hediye": True, "mesaj": "Doğum günün kutlu olsun kardeşim!"}, "note": "gift top-up via Papara"},
    {"target": "/tl-yukle?numara=0532+418+27+66&tutar=50", "profile": "chrome_mobile", "headers": TR, "note": "top-up page"},
    {"method": "POST", "target": "/tl-yukle/odeme/3d-donus", "profile": "form", "headers": TR + [["Origin", "https://sanalpos.anadolubank.com.tr"]],
     "form": [["mdStatus", "1"], ["oid", "TLY-771201"], ["AuthCode", "P12345"], ["Response", "Approved"], ["HASH", "k9Vh3+Q2s/Lm0pZx1Ab7Wq=="], ["ErrMsg", ""]],
     "note": "3-D Secure return post"},
    {"target": "/api/v2/paketler?tip=ek_paket&msisdn=905324182766", "profile": "mobile_app", "headers": app(ios=True), "note": "add-on packages"},
    {"method": "POST", "target": "/api/v2/paket-al", "profile": "mobile_app", "headers": app(),
     "json": {"paketKodu": "EK-10GB-30G", "fiyat": "149,90 TL", "onay": "EVET"}, "note": "buy add-on"},
]

K["sim_activation"] = [
    {"method": "POST", "target": "/hat/aktivasyon", "profile": "form", "headers": TR,
     "form": [["iccid", "8990011234567890125"], ["tckn", "10000000146"], ["seri_no", "A12B34567"], ["dogum_tarihi", "14.03.1979"], ["tarife", "Süper Genç 20GB"]],
     "note": "SIM activation with ID serial"},
    {"method": "POST", "target": "/api/v2/esim/profil", "profile": "mobile_app", "headers": app(ios=True),
     "json": {"eid": "89049032004008882600012345678901", "imei": "356789104523187", "aktivasyonKodu": "LPA:1$smdp.anadolu.com.tr$K2-3F9A1-7ZQ0P"}, "note": "eSIM LPA code with $"},
    {"method": "POST", "target": "/api/v2/kimlik/nfc-dogrula", "profile": "mobile_app", "headers": app(),
     "json": {"mrz": "I<TURA12B345672<<<<<<<<<<<<<<<\n7903140M3101019TUR<<<<<<<<<<<8\nOZTURK<<SUKRU<<<<<<<<<<<<<<<<<", "canliFoto": True}, "note": "NFC ID check with MRZ chevrons"},
    {"target": "/hat/aktivasyon/durum?iccid=8990011234567890125", "profile": "chrome_mobile", "headers": TR, "note": "activation status"},
    {"method": "POST", "target": "/api/v2/hat/yabanci-uyruk", "profile": "xhr", "headers": xhr(),
     "json": {"pasaportNo": "C01X00T47", "uyruk": "DEU", "ad": "Jürgen", "soyad": "Müller-Lüdenscheidt", "turkiyeAdresi": "Otel Akdeniz, Lara/Antalya"}, "note": "foreign national line"},
    {"method": "POST", "target": "/api/v2/hat/pin-puk", "profile": "mobile_app", "headers": app(), "json": {"msisdn": "905324182766", "talep": "PUK1"}, "note": "PUK request"},
]

K["number_porting"] = [
    {"method": "POST", "target": "/numara-tasima/basvuru", "profile": "form", "headers": TR,
     "form": [["numara", "0 (542) 771 20 19"], ["mevcut_operator", "Diğer Operatör A.Ş."], ["tckn", "10000000078"], ["hat_tipi", "faturalı"], ["tarife", "Platin 40GB"]],
     "note": "port-in application"},
    {"target": "/numara-tasima/durum?basvuru=NT-2026-88120&dogrulama=4412", "profile": "chrome_mobile", "headers": TR, "note": "porting status"},
    {"method": "POST", "target": "/api/v2/numara-tasima/kurumsal", "profile": "api", "headers": PART,
     "json": {"vkn": "9876543210", "numaralar": ["905427712019", "905427712020", "905427712021"], "yetkili": "Av. Serkan Bozkurt", "not": "Toplu taşıma – imza sirküleri ektedir"}, "note": "corporate bulk porting"},
    {"method": "POST", "target": "/numara-tasima/onay", "profile": "form", "headers": TR, "form": [["kod", "772910"], ["basvuru", "NT-2026-88120"]], "note": "SMS code"},
    {"method": "POST", "target": "/api/v2/numara-tasima/iptal", "profile": "xhr", "headers": xhr(),
     "json": {"basvuru": "NT-2026-88121", "neden": "Eski operatör 'karşı teklif' verdi; vazgeçtim."}, "note": "cancel porting"},
    {"target": "/numara-tasima?utm_source=radyo&kampanya=TASI-KAZAN", "profile": "safari", "headers": TR, "note": "porting landing"},
]

BANK = [["Cookie", "ib_oturum=Zk9w1Qx7; ib_csrf=Rt5Yh2"], ["X-CSRF-Token", "Rt5Yh2"], ["Accept-Language", "tr-TR,tr;q=0.9"]]
K["bank_transfer"] = [
    {"method": "POST", "target": "/internet-bankaciligi/api/havale-eft", "profile": "xhr", "headers": BANK,
     "json": {"kaynakHesap": "TR12 0006 4000 0011 2345 6789 01", "aliciIban": "TR33 0006 1005 1978 6457 8413 26", "aliciAd": "Ayşe Kaya", "tutar": "12.500,00", "aciklama": "Aralık ayı kira - Moda Cad. No:112 D:7"},
     "note": "transfer with rent purpose"},
    {"method": "POST", "target": "/internet-bankaciligi/api/fast", "profile": "xhr", "headers": BANK,
     "json": {"kolayAdres": {"tip": "TEL", "deger": "+905551112233"}, "tutar": "750,00", "aciklama": "Düğün hediyesi :) İyi ki varsınız!"}, "note": "FAST via easy address"},
    {"method": "POST", "target": "/internet-bankaciligi/api/havale-eft", "profile": "xhr", "headers": BANK,
     "json": {"aliciIban": "TR64 0001 0009 9912 3456 7890 01", "aliciAd": "Özkan İnşaat Taah. Ltd. Şti.", "tutar": "48.300,00", "aciklama": "Fatura no: OZK2026/118 & 119 (hakediş #3) - %20 KDV dahil", "odemeTuru": "TICARI"},
     "note": "commercial payment with & % #"},
    {"method": "POST", "target": "/internet-bankaciligi/api/swift", "profile": "xhr", "headers": BANK,
     "json": {"iban": "DE89 3704 0044 0532 0130 00", "bic": "COBADEFFXXX", "para": "EUR", "tutar": "1.200,00", "aciklama": "Tuition fee WS 2026/27 - Matr.-Nr. 4412901 - TU München", "masraf": "SHA"},
     "note": "SWIFT to Germany"},
    {"method": "POST", "target": "/internet-bankaciligi/api/havale-eft/onay", "profile": "xhr", "headers": BANK, "json": {"islemNo": "EFT-20261207-55120", "otp": "661029"}, "note": "transfer confirm"},
    {"method": "POST", "target": "/internet-bankaciligi/api/havale-eft", "profile": "mobile_app", "headers": app(),
     "json": {"aliciIban": "TR33 0006 1005 1978 6457 8413 26", "tutar": "300,00", "aciklama": "borç - 'geçen ayki' yemek parası; geri kalan 50 TL'yi sonra atarım"}, "note": "app transfer informal purpose"},
]

K["standing_order"] = [
    {"method": "POST", "target": "/internet-bankaciligi/api/duzenli-odeme", "profile": "xhr", "headers": BANK,
     "json": {"tur": "havale", "aliciIban": "TR33 0006 1005 1978 6457 8413 26", "tutar": "12.500,00", "periyot": "AYLIK", "gun": 1, "baslangic": "01.01.2027", "bitis": "01.12.2027", "aciklama": "Kira"},
     "note": "monthly rent standing order"},
    {"method": "POST", "target": "/internet-bankaciligi/api/otomatik-fatura", "profile": "xhr", "headers": BANK,
     "json": {"kurum": "İGDAŞ", "aboneNo": "1000223344", "ustLimit": "2.000,00"}, "note": "utility direct debit"},
    {"target": "/internet-bankaciligi/api/duzenli-odeme?durum=aktif&sirala=sonraki_tarih", "profile": "xhr", "headers": BANK, "note": "list"},
    {"method": "DELETE", "target": "/internet-bankaciligi/api/duzenli-odeme/DO-4412", "profile": "xhr", "headers": BANK, "note": "delete"},
    {"method": "PUT", "target": "/internet-bankaciligi/api/duzenli-odeme/DO-4413", "profile": "xhr", "headers": BANK,
     "json": {"tutar": "3.250,00", "aciklama": "Aidat (yönetici: Nurten Hn.) - 2027 zamlı"}, "note": "update amount"},
    {"method": "POST", "target": "/internet-bankaciligi/api/birikim-talimati", "profile": "mobile_app", "headers": app(),
     "json": {"hedef": "Çocuğun üniversite fonu", "tutar": "1.000,00", "periyot": "HAFTALIK", "gun": "CUMA", "hesap": "Altın Hesabı (gr)"}, "note": "savings instruction"},
]

K["card_dispute"] = [
    {"method": "POST", "target": "/internet-bankaciligi/api/kart/itiraz", "profile": "xhr", "headers": BANK,
     "json": {"kart": "**** 4421", "islemTarihi": "02.12.2026", "tutar": "2.847,19", "isyeri": "AMZN Mktp DE*2K4LM", "neden": "TANIMADIGIM_ISLEM",
              "aciklama": "Bu işlemi ben yapmadım. Kartım yanımda; 02.12 gecesi uyuyordum. Almanya'dan (EUR) çekim görünüyor."}, "note": "unrecognised transaction"},
    {"method": "POST", "target": "/internet-bankaciligi/api/kart/itiraz", "profile": "xhr", "headers": BANK,
     "json": {"kart": "**** 4421", "tutar": "899,00", "isyeri": "XYZ SPOR SALONU", "neden": "IPTAL_EDILEN_UYELIK",
              "aciklama": "Üyeliğimi 15.09'da iptal ettim (e-posta ekte: \"İptaliniz alınmıştır\"), yine de Ekim ve Kasım'da çekim yapıldı."}, "note": "cancelled subscription"},
    {"method": "POST", "target": "/internet-bankaciligi/kart/itiraz/belge", "profile": "form_multipart", "headers": BANK,
     "multipart": mp("----WebKitFormBoundaryD1sput3", [{"name": "itirazNo", "data": "ITR-2026-5512"},
         {"name": "dosya", "filename": "iptal_eposta_ekrani.png", "content_type": "image/png", "data_b64": PNG}]), "note": "evidence upload"},
    {"method": "POST", "target": "/internet-bankaciligi/api/kart/itiraz", "profile": "mobile_app", "headers": app(ios=True),
     "json": {"kart": "**** 0093", "tutar": "3 x 1.250,00", "neden": "MUKERRER", "aciklama": "Aynı POS'tan 3 kez çekilmiş; kasiyer \"işlem düşmedi\" deyip tekrar denedi."}, "note": "duplicate charge"},
    {"target": "/internet-bankaciligi/api/kart/itiraz/ITR-2026-5512?detay=1", "profile": "xhr", "headers": BANK, "note": "dispute status"},
    {"method": "POST", "target": "/internet-bankaciligi/api/kart/itiraz", "profile": "xhr", "headers": BANK,
     "json": {"kart": "**** 4421", "tutar": "12.999,00", "isyeri": "ONLINE ELEKTRONIK", "neden": "URUN_GELMEDI",
              "aciklama": "Sipariş 10 gündür kargoya verilmedi; satıcı telefonlara çıkmıyor. Şikayetvar'da da aynı sorunu yaşayanlar var -> dolandırıcılık olabilir."}, "note": "goods not received"},
]

K["insurance_claim"] = [
    {"method": "POST", "target": "/sigorta/hasar/ihbar", "profile": "form", "headers": TR,
     "form": [["police", "KSK-2026-0044120"], ["tur", "kasko"], ["tarih", "05.12.2026 08:15"], ["yer", "D-100 Karayolu, Kartal yönü, Cevizli köprüsü altı"],
              ["anlatim", "Trafik durunca önümdeki araç (34 ABC 123) aniden geri geldi ve ön tamponuma çarptı. Karşı taraf kusurunu kabul etti; kaza tespit tutanağı dolduruldu."]],
     "note": "motor claim narrative"},
    {"method": "POST", "target": "/api/v2/sigorta/hasar", "profile": "mobile_app", "headers": app(),
     "json": {"police": "KNT-2026-11820", "tur": "konut", "olay": "su_basmasi", "anlatim": "Üst kattaki komşunun çamaşır makinesi hortumu patlamış; mutfak tavanı ve laminat parke zarar gördü (~18 m²).", "tahmini": "35.000 TL"},
     "note": "home water damage"},
    {"method": "POST", "target": "/sigorta/hasar/fotograf", "profile": "form_multipart", "headers": TR + [["Cookie", CK]],
     "multipart": mp("----WebKitFormBoundaryH4s4r", [{"name": "hasar", "data": "HSR-77120"},
         {"name": "f1", "filename": "tampon.jpg", "content_type": "image/jpeg", "data_b64": JPG}, {"name": "f2", "filename": "tutanak.jpg", "content_type": "image/jpeg", "data_b64": JPG}]),
     "note": "claim photos"},
    {"method": "POST", "target": "/api/v2/sigorta/saglik/provizyon", "profile": "api", "headers": PART,
     "json": {"hastane": "Özel Şifa Hastanesi", "tani": "J18.9 Pnömoni, tanımlanmamış", "tckn": "10000000146", "tutar": "8.450,00"}, "note": "hospital pre-authorisation"},
    {"method": "POST", "target": "/api/v2/sigorta/hasar", "profile": "xhr", "headers": xhr(),
     "json": {"police": "SYH-2026-0091", "tur": "seyahat", "anlatim": "Lost luggage at IST -> FRA (LH1305). PIR ref: FRALH12345. Bag contained laptop & medication.", "dil": "en"}, "note": "travel claim in English"},
    {"target": "/sigorta/hasar/durum?dosya=HSR-77120&tckn=10000000146", "profile": "chrome", "headers": TR, "note": "claim status"},
]

GOV = [["User-Agent", "Anadolu-Raporlama/1.7 (OpenJDK 17)"], ["Authorization", "Basic YW5hZG9sdTpyYXBvcg=="]]
K["gov_reporting"] = [
    {"method": "POST", "target": "/resmi/masak/supheli-islem", "profile": "api", "headers": GOV,
     "json": {"bildirimNo": "STB-2026-0412", "tur": "nakit_yapilandirma", "tutar": "249.000,00", "gerekce": "Aynı gün 5 farklı şubeden 49.800 TL'lik nakit yatırma."}, "note": "AML report (internal relay)"},
    {"method": "POST", "target": "/resmi/btk/abone-bilgi", "profile": "api", "headers": GOV + [["Content-Type", "application/xml"]],
     "body": '<?xml version="1.0" encoding="UTF-8"?><AboneListesi donem="2026-11"><Abone msisdn="905324182766" tip="FATURALI" aktif="1"/><Abone msisdn="905551112233" tip="ONKODLU" aktif="0"/></AboneListesi>',
     "note": "regulator subscriber export XML"},
    {"method": "POST", "target": "/resmi/gib/e-defter/berat", "profile": "api", "headers": GOV,
     "json": {"vkn": "1111111111", "donem": "202611", "parca": 1, "hash": "sha256:3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b"}, "note": "e-ledger berat"},
    {"target": "/resmi/tcmb/kur?tarih=07.12.2026&doviz=USD,EUR,GBP", "profile": "api", "headers": GOV, "note": "FX rates"},
    {"method": "POST", "target": "/resmi/kvkk/veri-ihlali", "profile": "api", "headers": GOV,
     "json": {"olayTarihi": "2026-11-28", "etkilenen": 12, "kategori": ["kimlik", "iletisim"], "ozet": "Yanlış alıcıya gönderilen e-posta (CC yerine BCC kullanılmadı)."}, "note": "data-breach notification"},
    {"method": "POST", "target": "/resmi/sgk/ise-giris", "profile": "api", "headers": GOV,
     "json": {"tckn": "10000000078", "isyeriSicil": "2 4711 01 01 1234567 034 12 34 000", "giris": "02.01.2027", "meslekKodu": "2512.04"}, "note": "social security hire notice"},
]

K["sms_webhook"] = [
    {"method": "POST", "target": "/webhook/sms/dlr", "profile": "api", "headers": [["User-Agent", "SMSGW-DLR/2.0"], ["Content-Type", "application/x-www-form-urlencoded"]],
     "body": "msgid=884120551&msisdn=905324182766&status=DELIVRD&err=000&ts=20261207201455", "note": "delivery report"},
    {"method": "POST", "target": "/webhook/sms/gelen", "profile": "api", "headers": [["User-Agent", "SMSGW-MO/2.0"]],
     "json": {"from": "905551112233", "to": "4412", "text": "IPTAL KAMPANYA", "ts": "2026-12-07T20:15:02+03:00"}, "note": "inbound keyword"},
    {"method": "POST", "target": "/webhook/sms/gelen", "profile": "api", "headers": [["User-Agent", "SMSGW-MO/2.0"]],
     "json": {"from": "905427712019", "to": "4412", "text": "Faturam neden 2 kat geldi?? Lütfen arayın >:("}, "note": "inbound free text"},
    {"target": "/webhook/sms/dlr?msgid=884120552&status=UNDELIV&err=001&text=Numara+gecersiz", "profile": "api", "headers": [["User-Agent", "SMSGW-DLR/2.0"]], "note": "GET DLR"},
    {"method": "POST", "target": "/webhook/sms/gelen", "profile": "api", "headers": [["User-Agent", "SMSGW-MO/2.0"]],
     "json": {"from": "905324182766", "to": "4412", "text": "EVET", "udh": None, "coding": "GSM7"}, "note": "confirmation reply"},
    {"method": "POST", "target": "/webhook/whatsapp", "profile": "api", "headers": [["User-Agent", "facebookexternalua"], ["X-Hub-Signature-256", "sha256=1f2e3d4c5b6a"]],
     "json": {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"messages": [{"from": "905324182766", "type": "text", "text": {"body": "Mağaza saat kaçta açılıyor? Yarın 09:00'da gelebilir miyim?"}}]}}]}]},
     "note": "WhatsApp Business webhook"},
]

def nlu(text, **kw):
    d = {"oturum": "bot-7712", "kanal": "web", "dil": "tr", "metin": text}
    d.update(kw)
    return {"method": "POST", "target": "/asistan/api/nlu", "profile": "xhr", "headers": xhr(), "json": d}

K["chatbot_nlu"] = [
    dict(nlu("faturamı nasıl öderim?"), note="simple utterance"),
    dict(nlu("\"Süper Genç\" tarifesinden 'Platin'e geçersem cayma bedeli öder miyim???"), note="quotes and question marks"),
    dict(nlu("Kartım çalındı!!! hemen kapatın, son 4 hane 4421"), note="urgent"),
    dict(nlu("is there an english menu? / İngilizce konuşabilir miyiz?", dil="auto"), note="mixed language"),
    dict(nlu("internet yok; modem ışıkları: power=yeşil, dsl=turuncu, internet=sönük (hepsi bu)"), note="key=value in text"),
    dict(nlu("ne zaman iade edilecek <b>paramı</b> istiyorum", kanal="widget"), tags=["code"], note="user pasted HTML bold (code)"),
]

K["accessibility_feedback"] = [
    {"method": "POST", "target": "/erisilebilirlik/geri-bildirim", "profile": "form", "headers": TR,
     "form": [["sayfa", "https://www.anadolu.com.tr/odeme?adim=2"], ["yardimci_teknoloji", "NVDA 2024.4 + Firefox"],
              ["sorun", "\"Ödemeyi tamamla\" butonu ekran okuyucuda \"button\" olarak okunuyor; etiket yok (aria-label eksik)."]], "note": "screen reader issue"},
    {"method": "POST", "target": "/api/v2/erisilebilirlik", "profile": "xhr", "headers": xhr(),
     "json": {"sorun": "Kontrast düşük: gri (#9e9e9e) yazı beyaz zemin üzerinde, oran ~2,7:1.", "wcag": "1.4.3"}, "note": "contrast issue with hex colour"},
    {"method": "POST", "target": "/api/v2/erisilebilirlik", "profile": "mobile_app", "headers": app(ios=True),
     "json": {"sorun": "VoiceOver ile kampanya kaydırıcısı durdurulamıyor; otomatik geçiş 3 sn.", "cihaz": "iPhone 12, iOS 17"}, "note": "carousel issue"},
    {"method": "POST", "target": "/erisilebilirlik/geri-bildirim", "profile": "form", "headers": TR,
     "form": [["sorun", "İşaret dili (TİD) ile görüntülü destek hattı var mı? Mağazada işitme engelliler için indüksiyon döngüsü yok."]], "note": "sign language request"},
    {"target": "/erisilebilirlik?yazi=buyuk&kontrast=yuksek&animasyon=kapali", "profile": "chrome", "headers": TR, "note": "a11y settings page"},
    {"method": "POST", "target": "/api/v2/erisilebilirlik", "profile": "xhr", "headers": xhr(), "tags": ["code"],
     "json": {"sorun": "Form alanında <label for=\"tckn\"> yok; sadece placeholder=\"TC Kimlik No\" kullanılmış. Öneri: <label for=\"tckn\">T.C. Kimlik No</label>"},
     "note": "developer-minded user quotes HTML (code)"},
]

K["cookie_consent"] = [
    {"method": "POST", "target": "/cerez/api/onay", "profile": "xhr", "headers": xhr(),
     "json": {"zorunlu": True, "analitik": True, "pazarlama": False, "kisisellestirme": False, "surum": "2026-10", "zaman": 1796655600123}, "note": "consent choice"},
    {"target": "/cerez-politikasi?dil=tr#tercihler", "profile": "chrome", "headers": TR, "note": "cookie policy page"},
    {"method": "POST", "target": "/cmp/v2/consent", "profile": "xhr", "headers": xhr(),
     "json": {"tcString": "CQF2yEAQF2yEAAGABCENBSFgAP_gAEPgAAqIJ7NX_H__bW9r-f5_aft0eY1P9_r37uQzDhfNk-8F3L_W_LwX52E7NF36tq4KmR4ku1LBIUNlHMHUDUmwaokVryHsak2cpzNKJ7BEknMZO2dYGF9vmxtj-QKY7_5_d3bx2D-t_9v-39z3z81Xn3d53-_03LCdV5_9Dfn9fR_bc9KPt_58v8v8_____3_e__3_7997BE", "gdprApplies": False, "kvkk": True},
     "note": "IAB TCF string"},
    {"target": "/cerez/api/onay?durum=1", "profile": "safari", "headers": TR + [["Cookie", "cerez_onay=zorunlu%2Canalitik; OptanonConsent=isGpcEnabled=0&datestamp=Mon+Dec+07+2026+20%3A10%3A00+GMT%2B0300&version=202410.1.0&groups=C0001%3A1%2CC0002%3A1%2CC0004%3A0"]],
     "note": "OneTrust cookie value"},
    {"method": "POST", "target": "/cerez/api/onay", "profile": "mobile_app", "headers": app(), "json": {"att": "denied", "analitik": False, "pazarlama": False}, "note": "app consent"},
    {"method": "POST", "target": "/cerez/api/geri-al", "profile": "xhr", "headers": xhr(), "json": {"neden": "Tercihimi değiştirdim", "kategoriler": ["pazarlama"]}, "note": "withdraw consent"},
]

IMGH = TR + [["Referer", "https://www.anadolu.com.tr/"]]
K["cdn_images"] = [
    {"target": "/cdn/img/urun/884120/ana.jpg?w=640&h=640&fit=cover&fm=webp&q=80", "profile": "chrome_img", "headers": IMGH, "note": "resized product image"},
    {"target": "/cdn/img/kampanya/k%C4%B1%C5%9F-f%C4%B1rsatlar%C4%B1_1920x600.jpg?v=20261201", "profile": "chrome_img", "headers": IMGH, "note": "Turkish file name"},
    {"target": "/cdn/img/_next/image?url=%2Fcdn%2Fimg%2Fmagaza%2F344%2Fvitrin.png&w=1080&q=75", "profile": "safari_img", "headers": [["Referer", "https://www.anadolu.com.tr/magaza/ankara-cankaya-kizilay-344"]], "note": "Next.js image optimiser with local url"},
    {"target": "/cdn/img/tv/afis/DZ-4412/s03/poster@2x.avif", "profile": "firefox_img", "headers": TR, "note": "poster with @2x"},
    {"target": "/cdn/img/t_thumb,c_fill,g_face,w_120/profil/u_77120.jpg", "profile": "chrome_img", "headers": IMGH, "note": "Cloudinary-style transform path"},
    {"target": "/cdn/fonts/AnadoluSans-Bold.woff2?v=3.2", "profile": "chrome_font", "headers": IMGH, "note": "web font"},
]

K["analytics_beacon"] = [
    {"method": "POST", "target": "/g/collect?v=2&tid=G-ANDL2026&gtm=45je4cc0&_p=1733599999&cid=1839204711.1733412233&ul=tr-tr&sr=1920x1080&en=page_view&dl=https%3A%2F%2Fwww.anadolu.com.tr%2Fkampanya%2Fkis-firsatlari&dt=K%C4%B1%C5%9F%20F%C4%B1rsatlar%C4%B1%20%7C%20Anadolu", "profile": "chrome_js", "headers": TR, "note": "GA4 collect"},
    {"method": "POST", "target": "/analitik/olay", "profile": "xhr", "headers": xhr() + [["Content-Type", "text/plain;charset=UTF-8"]],
     "body": '{"olay":"sepete_ekle","urun":"TLF-A55-128-LAC","fiyat":14999,"para":"TRY","liste":"Arama: \\"samsung a55\\""}', "note": "sendBeacon text/plain JSON"},
    {"target": "/px.gif?e=scroll&d=75&p=%2Furun%2Fsamsung-galaxy-a55-128gb&r=https%3A%2F%2Fwww.google.com.tr%2F&t=1796655600", "profile": "chrome_img", "headers": IMGH, "note": "pixel"},
    {"method": "POST", "target": "/analitik/rum", "profile": "xhr", "headers": xhr(),
     "json": {"lcp": 2310.5, "cls": 0.04, "inp": 180, "ttfb": 412, "url": "/odeme?adim=2", "baglanti": "4g", "hata": "TypeError: Cannot read properties of undefined (reading 'taksit')"}, "note": "RUM with JS error message"},
    {"method": "POST", "target": "/api/v3/analitik/toplu", "profile": "mobile_app", "headers": app(),
     "json": {"olaylar": [{"ad": "ekran_goruntuleme", "ekran": "Anasayfa"}, {"ad": "buton_tiklama", "id": "btn_tl_yukle"}, {"ad": "arama", "q": "ek paket 10 gb"}]}, "note": "app batched events"},
    {"method": "POST", "target": "/analitik/csp-rapor", "profile": "chrome_js", "headers": TR + [["Content-Type", "application/csp-report"]],
     "body": '{"csp-report":{"document-uri":"https://www.anadolu.com.tr/odeme","violated-directive":"script-src-elem","blocked-uri":"https://cdn.unknown-widget.example/w.js","source-file":"https://www.anadolu.com.tr/odeme","line-number":1}}',
     "note": "CSP violation report"},
]

if __name__ == "__main__":
    total = 0
    for cat, es in K.items():
        total += write("benign", cat, es)
    print("benign kinds %d, entries %d" % (len(K), total))
