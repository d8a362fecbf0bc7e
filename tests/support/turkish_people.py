"""Words for made-up Turkish customers and complaints: names, surnames, the 81 provinces, sentence templates."""

from __future__ import annotations

# Each list runs from the most common to the least, roughly as in Turkish registry statistics; the generator
# weights them by rank, so "Mehmet Yılmaz" repeats the way it does in any large Turkish customer base.
FEMALE_NAMES = (
    "Ayşe", "Fatma", "Emine", "Hatice", "Zeynep", "Elif", "Meryem", "Şerife", "Zehra", "Sultan", "Hanife", "Merve",
    "Havva", "Zeliha", "Esra", "Fadime", "Özlem", "Hacer", "Melek", "Yasemin", "Büşra", "Rukiye", "Hülya", "Cemile",
    "Dilek", "Leyla", "Kübra", "Sevgi", "Gülsüm", "Songül", "Tuğba", "Derya", "Aysel", "Filiz", "Gül", "Nurcan",
    "Ebru", "Esma", "Seda", "Gamze", "Sibel", "Aynur", "Pınar", "Ümran", "Yeter", "Nermin", "Gülay", "İlknur",
    "Tülay", "Sevim", "Arzu", "Canan", "Sema", "Nazlı", "Şeyma", "Betül", "İrem", "Ecrin", "Defne", "Asya", "Azra",
    "Eylül", "Nehir", "Duru", "Ela", "Buse", "Cansu", "Gizem", "Ceren", "Damla", "Aslı", "Beyza", "Nur", "Selin",
    "Özge", "Çiğdem", "Gökçe", "Şule",
)  # fmt: skip
MALE_NAMES = (
    "Mehmet", "Mustafa", "Ahmet", "Ali", "Hüseyin", "Hasan", "İbrahim", "İsmail", "Osman", "Yusuf", "Murat", "Ömer",
    "Ramazan", "Halil", "Süleyman", "Abdullah", "Mahmut", "Recep", "Salih", "Fatih", "Kadir", "Emre", "Hakan",
    "Adem", "Kemal", "Yaşar", "Bekir", "Musa", "Metin", "Serkan", "Orhan", "Burak", "Uğur", "Yunus", "Cem", "Erkan",
    "Volkan", "Gökhan", "Sinan", "Tolga", "Onur", "Barış", "Kerem", "Can", "Eren", "Emir", "Yiğit", "Berat", "Arda",
    "Kaan", "Efe", "Çağlar", "Cengiz", "Levent", "Serdar", "Erdem", "Ercan", "Tuncay", "Necati", "Şükrü", "İlhan",
    "Doğan", "Nihat", "Selim", "Taner", "Özgür", "Oğuz", "Caner", "Umut", "Batuhan", "Furkan", "Enes", "Tayfun",
    "Halit", "Rıza", "Cihan", "Alper",
)  # fmt: skip
SURNAMES = (
    "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım", "Öztürk", "Aydın", "Özdemir", "Arslan",
    "Doğan", "Kılıç", "Aslan", "Çetin", "Kara", "Koç", "Kurt", "Özkan", "Şimşek", "Polat", "Özcan", "Korkmaz",
    "Çakır", "Erdoğan", "Yavuz", "Can", "Acar", "Şen", "Aktaş", "Güler", "Yalçın", "Güneş", "Bozkurt", "Bulut",
    "Keskin", "Ünal", "Turan", "Gül", "Özer", "Işık", "Kaplan", "Avcı", "Sarı", "Tekin", "Taş", "Köse", "Yüksel",
    "Ateş", "Aksoy", "Yiğit", "Güzel", "Çiftçi", "Coşkun", "Kalkan", "Demirci", "Aydemir", "Bayram", "Tunç", "Akın",
    "Uçar", "Duman", "Karaca", "Sönmez", "Erdem", "Altun", "Akgül", "Uysal", "Başaran", "Kahraman", "Çınar",
    "Ekinci", "Kılınç", "Özgür", "Güven", "Karataş", "Türk", "Akbulut", "Oral", "Soylu", "Tan", "Toprak", "Uzun",
    "Ay", "Bilgin", "Durmaz", "Aksu", "Kocaman", "Atasoy", "Eren", "Gündoğdu", "Karakaya", "Arıkan", "Sezer",
    "Demirel", "Baysal", "Önal", "Aslantaş", "Çoban", "Yücel", "Bilgiç", "Erol", "Gök", "Gökçe", "Tuna", "Altıntaş",
    "Karakuş", "Ergün", "Sevim", "Akyüz", "Özbek", "Kurtuluş", "Tatlı", "Özel", "Dinç", "Savaş", "Er", "Önder",
    "Ayhan", "Kaymak", "Yazıcı", "Aktürk", "Cengiz", "Şeker", "Sağlam", "Yaman", "Dağ", "Altay", "Esen", "Dündar",
    "Temiz", "Günay", "Akkaya", "Çalışkan", "Kırmızı", "Akdoğan", "Karahan", "Günaydın", "Yurt", "Oğuz", "Taşkın",
    "Arı", "Akyol", "Ceylan", "Ekici", "Akça", "Yazgan", "Metin", "Orhan", "Kuru", "Ersoy", "Gürbüz", "Balcı",
    "Cömert", "Özyurt", "Tosun", "Akar", "Yaşar", "Demirtaş", "Karagöz", "Bozdağ", "Çolak", "Karaman", "Uğurlu",
    "Kartal", "Kayhan", "Aydoğan", "Bayrak", "Bektaş", "Bingöl", "Çakmak", "Çevik", "Demirkaya", "Dursun", "Elmas",
    "Erkan", "Gençer", "Gezer", "Gökmen", "Güç", "Işıklı", "İnce", "Kandemir", "Karabulut", "Kaynak", "Kocabaş",
    "Kuzu", "Mutlu", "Nalbant", "Okur", "Öner", "Özkaya", "Parlak", "Sarıkaya", "Sezgin", "Sümer", "Şentürk",
    "Tekeli", "Topal", "Tunca", "Türkmen", "Uçak", "Ulusoy", "Varol", "Yalın", "Yazar", "Yener", "Yeşil", "Zengin",
)  # fmt: skip

# (province, population in thousands, about 2023): customers live where people live.
PROVINCES = (
    ("Adana", 2270), ("Adıyaman", 610), ("Afyonkarahisar", 747), ("Ağrı", 511), ("Amasya", 338), ("Ankara", 5803),
    ("Antalya", 2696), ("Artvin", 169), ("Aydın", 1161), ("Balıkesir", 1273), ("Bilecik", 228), ("Bingöl", 282),
    ("Bitlis", 353), ("Bolu", 320), ("Burdur", 273), ("Bursa", 3214), ("Çanakkale", 559), ("Çankırı", 197),
    ("Çorum", 526), ("Denizli", 1059), ("Diyarbakır", 1818), ("Edirne", 414), ("Elazığ", 587), ("Erzincan", 239),
    ("Erzurum", 749), ("Eskişehir", 906), ("Gaziantep", 2164), ("Giresun", 450), ("Gümüşhane", 144),
    ("Hakkari", 275), ("Hatay", 1544), ("Isparta", 445), ("Mersin", 1916), ("İstanbul", 15655), ("İzmir", 4479),
    ("Kars", 274), ("Kastamonu", 378), ("Kayseri", 1441), ("Kırklareli", 369), ("Kırşehir", 244), ("Kocaeli", 2102),
    ("Konya", 2320), ("Kütahya", 580), ("Malatya", 742), ("Manisa", 1475), ("Kahramanmaraş", 1116), ("Mardin", 888),
    ("Muğla", 1048), ("Muş", 399), ("Nevşehir", 310), ("Niğde", 365), ("Ordu", 763), ("Rize", 345), ("Sakarya", 1098),
    ("Samsun", 1377), ("Siirt", 331), ("Sinop", 219), ("Sivas", 634), ("Tekirdağ", 1142), ("Tokat", 602),
    ("Trabzon", 822), ("Tunceli", 89), ("Şanlıurfa", 2213), ("Uşak", 375), ("Van", 1128), ("Yozgat", 418),
    ("Zonguldak", 588), ("Aksaray", 433), ("Bayburt", 86), ("Karaman", 260), ("Kırıkkale", 277), ("Batman", 634),
    ("Şırnak", 557), ("Bartın", 204), ("Ardahan", 92), ("Iğdır", 203), ("Yalova", 296), ("Karabük", 252),
    ("Kilis", 155), ("Osmaniye", 553), ("Düzce", 400),
)  # fmt: skip

# Mobile prefixes of the three Turkish operators (all 50x-56x, the range classifiers.pii recognises).
MOBILE_PREFIXES = (
    "501", "505", "506", "507", "530", "531", "532", "533", "534", "535", "536", "537", "538", "539", "541", "542",
    "543", "544", "545", "546", "547", "548", "549", "551", "552", "553", "554", "555", "561",
)  # fmt: skip

# (domain, weight): what Turkish consumers use; corporate customers get a made-up company domain instead.
EMAIL_DOMAINS = (
    ("gmail.com", 55), ("hotmail.com", 20), ("outlook.com", 6), ("yahoo.com", 5), ("icloud.com", 4),
    ("yandex.com", 3), ("mynet.com", 2), ("windowslive.com", 1), ("outlook.com.tr", 1), ("hotmail.com.tr", 1),
)  # fmt: skip
COMPANY_DOMAINS = (
    "anadolulojistik.com.tr", "egeyapi.com.tr", "karadenizgida.com", "marmaratekstil.com.tr", "toroslarenerji.com",
    "bogazicimimarlik.com.tr", "ufukyazilim.com", "yesilvadi.org.tr",
)  # fmt: skip

# Ekşi Sözlük nicknames are words with spaces and no real name; used for authors nobody can look up.
NICK_WORDS = (
    "gece", "yarısı", "yolcusu", "kırmızı", "balon", "sessiz", "deniz", "eski", "kitap", "kuzey", "rüzgarı", "mavi",
    "kedi", "yorgun", "memur", "çay", "demlik", "uzak", "istasyon", "son", "vapur", "kayıp", "anahtar", "bulut",
)  # fmt: skip

# Complaint sentences about the fictional brands; {days} and {amount} are numbers that are nobody's identifier.
BRANDS = {
    "Kuzey Telekom": (
        "İnternetim {days} gündür çalışmıyor, arıza kaydı açtım ama gelen giden yok.",
        "Faturama habersiz {amount} TL ek paket yansıtılmış.",
        "Abonelik iptal talebim aylardır sonuçlanmadı.",
        "Hattım sebepsiz yere kapatıldı, kimse açıklama yapmıyor.",
    ),
    "Mavi Kargo": (
        "Kargom {days} gündür transfer merkezinde bekliyor.",
        "Kurye adreste bulunamadı yazmış ama bütün gün evdeydim.",
        "Paketim ezik ve açılmış halde teslim edildi.",
    ),
    "Pazaryeri": (
        "Siparişim iptal edildi ama {amount} TL iadem hâlâ yatmadı.",
        "Yanlış ürün gönderildi, iade kodu da oluşturulamıyor.",
        "Satıcı {days} gündür mesajlarıma cevap vermiyor.",
    ),
}
OPENINGS = (
    "{brand} rezalet!",
    "Merhaba {brand},",
    "{brand} ile yaşadığım sorun:",
    "{brand} mağduruyum.",
    "Yeter artık {brand}.",
)
CLOSINGS = ("Lütfen dönüş yapın.", "Muhatap bulamıyorum.", "Çağrı merkezini (444 0 589) aradım, sonuç yok.", "")
CLAUSES = {
    "order": ("Sipariş no: {v}.", "{v} numaralı siparişim hakkında yazıyorum.", "Sipariş numaram {v}, bakar mısınız?"),
    "subscription": ("Abone numaram {v}.", "Abone no {v} olan hattım için yazıyorum."),
    "phone": ("Hattım {v}.", "{v} numaralı hattım hâlâ kapalı.", "Bana {v} numarasından ulaşabilirsiniz."),
    "email": ("Mail adresim {v}, oradan dönüş yapın.", "{v} adresine yazdım, cevap yok."),
    "city": ("{loc} oturuyorum.", "{abl} yazıyorum.", "{city} merkezdeki şube de yardımcı olmadı."),
    "other_phone": ("Eşimin hattı {v}, onun adına yazıyorum.", "Annemin numarası {v}, kendisi yazamıyor."),
    "other_order": ("Annemin {v} numaralı siparişi hâlâ gelmedi.", "Eşimin siparişi {v}, onun adına yazıyorum."),
}
PHONE_SPELLINGS = (
    "0{a} {b} {c} {d}", "0{a}{b}{c}{d}", "+90 {a} {b} {c} {d}", "{a} {b} {c}{d}", "0({a}) {b} {c} {d}",
    "0{a}-{b}-{c}-{d}",
)  # fmt: skip
