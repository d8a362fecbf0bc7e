"""Tell Turkish from English from anything else, per mention, fast enough to run before every model."""

# Evidence, each piece a vote for one or more languages:
# - stopwords of Turkish, English and the Latin-script languages a Turkish brand's mentions most often bring
#   (German, French, Spanish, Italian, Dutch, Portuguese), plus Azerbaijani and Kurmanji Kurdish: close to
#   Turkish in letters and words, they are still other languages for a Turkish care team and its Turkish models,
#   so when their own words or letters (ə; ê, "û" for "and") outweigh the Turkish ones they come out "other";
# - letters: ı ğ İ are Turkish (and Azerbaijani), ä ß German, ñ Spanish, ã õ Portuguese, ə Azerbaijani ...;
# - for the remaining words, a character-trigram profile of Turkish against English, learnt at import from the
#   sample sentences below (written for this module), so "kargom gelmedi" is Turkish without a single stopword.
# Words are ASCII-folded first, so Turkish typed without ç ğ ı ö ş ü scores like Turkish. Ties go to Turkish:
# Kulak listens to Turkish brands. Non-Latin scripts, and texts without words (emoji, links, handles), are
# "other".

from __future__ import annotations

import math
import re
from collections import Counter

from classifiers.text import fold_letters

LANGUAGES = ("tr", "en", "other")
MAX_CHARS = 1000  # the first thousand characters say enough; long complaints need not be read to the end

_STOPWORDS = {
    "tr": """ve ile bir bu su da de ki mi mu cok icin ama fakat ancak gibi daha en ne neden niye nasil hic hep hala
        yok var degil degilim degildir diye kadar sonra once simdi artik yine bile sadece ise ya veya ben sen
        biz siz onlar bana beni benim sana seni bize bizi sizin size onu ona onun olan olarak oldu olur olmaz
        olsun tum butun her sey bi icinde le li lu in un nin nun ye yi yu si zaten tamam evet hayir lutfen
        merhaba selam tesekkurler tesekkur ederim bey hanim neler nerede kac musteri hizmetleri tl gun saat o e
        den dan te ta et yani iste hem boyle soyle oyle kim hangi abi lan ulan amk be on a la no hat rezalet
        berbat kotu iyi guzel hizmet fatura kargo sikayet iptal param hatta bence galiba belki mesela biraz
        hicbir herkes kimse birsey hemen""",
    "en": """the and is are was were be been to of for with from by at as an this that these those it its you your
        i me my we our they their he she him his what which who when where why how not no never do does did
        don't doesn't didn't can can't cannot will won't would should could have has had just so very really
        but or if then than there here about after before again still please thanks thank hello hi service
        customer support order account i'm it's you're get got all any worst best good bad great love hate
        a on in her one out up""",
    "de": """der die das und ist nicht ich du er sie wir ihr es ein eine einen mit auf fur von zu den dem im bei
        aus noch nur auch aber wie was wo warum bitte danke hallo sehr schon kein keine mein dein haben
        sind war werden wird kann gut schlecht heute hier""",
    "fr": """le la les un une des du de et est sont pas je tu il elle nous vous ils avec pour dans sur ce cette qui
        que quoi pourquoi comment mais ou tres bien merci bonjour salut mon ma mes votre au aux a en ne""",
    "es": """el la los las un una unos y es son no que de en con por pero muy mi tu su yo como porque gracias
        hola esta estoy tiene lo le se del este eso ya a""",
    "it": """il lo la gli le un una di da in con su per che non e sono ho mi ti ci si ma anche molto grazie ciao
        buongiorno perche come questo quello del della a""",
    "nl": """de het een en is zijn niet ik je jij we wij ze met op voor van naar dat dit wat waarom hoe maar ook
        heel dank bedankt hallo goed slecht""",
    "pt": """o a os as um uma de do da dos das em no na e nao que com por mas muito obrigado obrigada ola voce
        eu meu minha seu sua esta estou tem isso""",
    "az": """və ilə üçün çox deyil mən sən nə niyə necə hə yox edir edirəm xeyli yaxşı salam təşəkkür həm
        hələ əvvəl""",
    "ku": """û ez tu ew em hun ji li bi di ku ne na çi çawa spas min te wî heye nîne gelek dikim dike kurdî
        zimanê""",
}
# A word can be a stopword of several languages ("de", "en", "o"): it then votes for each of them.
_VOTES: dict[str, tuple[str, ...]] = {}
for _lang, _words in _STOPWORDS.items():
    for _word in fold_letters(_words).split():
        _VOTES[_word] = (*_VOTES.get(_word, ()), _lang)

# Letters and the languages they point to, counted once per word that holds them.
_LETTER_VOTES: dict[str, tuple[tuple[str, float], ...]] = {
    "ı": (("tr", 1.0), ("az", 0.8)),
    "ğ": (("tr", 1.0), ("az", 0.8)),
    "İ": (("tr", 1.0), ("az", 0.8)),
    "ş": (("tr", 0.8), ("az", 0.8), ("ku", 0.8)),
    "ç": (("tr", 0.5), ("az", 0.5), ("ku", 0.3), ("fr", 0.3), ("pt", 0.3)),
    "ö": (("tr", 0.5), ("az", 0.5), ("de", 0.5)),
    "ü": (("tr", 0.5), ("az", 0.5), ("de", 0.5)),
    "ə": (("az", 2.0),),
    "ä": (("de", 1.5),),
    "ß": (("de", 1.5),),
    "ñ": (("es", 1.5),),
    "ã": (("pt", 1.5),),
    "õ": (("pt", 1.5),),
    "œ": (("fr", 1.5),),
    "ê": (("ku", 1.0), ("fr", 0.4), ("pt", 0.4)),
    "é": (("fr", 0.6), ("es", 0.4), ("pt", 0.4), ("it", 0.3)),
    "è": (("fr", 0.6), ("it", 0.6)),
    "à": (("fr", 0.5), ("it", 0.5)),
    "á": (("es", 0.6), ("pt", 0.4)),
    "í": (("es", 0.6), ("pt", 0.4)),
    "ó": (("es", 0.6), ("pt", 0.4)),
    "ú": (("es", 0.6), ("pt", 0.4)),
    "ò": (("it", 0.8),),
    "ù": (("it", 0.6), ("fr", 0.4)),
}
_CUE_LETTERS = frozenset(_LETTER_VOTES)

_TURKISH_SAMPLE = """
Kargom üç gündür gelmedi, müşteri hizmetlerini aradım ama kimse yardımcı olmadı. İnternetim akşamları hiç
çekmiyor, faturamı ödememe rağmen hattım kapatıldı. Siparişimi iptal etmek istiyorum, paramı ne zaman iade
edeceksiniz? Temsilciniz çok kibardı, sorunumu hemen çözdü, teşekkür ederim. Bu kampanyadan nasıl
yararlanabilirim, paketimin süresi dolmak üzere. Evdeki modem sürekli kopuyor, teknik servis gelmedi. Kartımdan
iki kere para çekilmiş, bankanızı aramama rağmen geri ödeme yapılmadı. Uygulamanız açılmıyor, şifremi
yenileyemiyorum, hesabıma giremiyorum. Mağazadaki çalışanlar ilgilenmedi, yarım saat bekledim. Numaramı başka
operatöre taşıyacağım, artık yeter. Kuryeniz paketi kapıya bırakıp gitmiş, hasarlı geldi. Geçen ay aldığım
telefon bozuldu, garantiden yararlanmak istiyorum. Faturalarım neden bu kadar yüksek geliyor anlamıyorum. Çok
memnun kaldım, hızlı teslimat için teşekkürler. Ürün anlatıldığı gibi değil, değiştirmek istiyorum. Bir haftadır
bekliyorum, takip numarası hâlâ güncellenmedi. Lütfen bana dönüş yapın, mesajlarıma cevap vermiyorsunuz.
Yeni tarifeniz çok pahalı olmuş, eski paketime dönebilir miyim? Şubeye gittim, işlemimi yapamadılar, yarın
tekrar gelmemi söylediler. Sabahtan beri arıyorum, çağrı merkezinde kimse açmıyor. Kredi kartı aidatını geri
istiyorum, kullanmadığım hizmetler için ücret alınmış. Annemin hattına izinsiz ek paket tanımlamışsınız.
Siparişim depoda bekliyor, dağıtıma çıkmadı. Ekibinize çok teşekkür ediyorum, gerçekten ilgilendiler. Şehir
dışındayken hiç sinyal alamadım, konuşmalarım sürekli kesildi. Mesajıma yanıt verirseniz sevinirim. Arkadaşlar
bu firmadan sakın alışveriş yapmayın, dolandırıcılar. Fiyatlar her gün artıyor, yakında kimse alamayacak.
Kuzey Telekom'un çekim gücü köyümüzde çok zayıf, bir baz istasyonu kurulmalı. Hesabımdan habersiz ödeme
alınmış, itiraz etmek istiyorum. Çocuğum için tablet almıştım, ekranı ilk haftada çatladı. Servisteki
arkadaşlar sorunu anlamadılar, cihazı olduğu gibi geri gönderdiler. Sizinle çalışmak bir kabus oldu.
Kampanya koşullarını okudum ama anlamadım, biri açıklayabilir mi? Bugün akşama kadar gelmezse şikayet edeceğim.
Yıllardır müşterinizim, böyle bir muamele beklemezdim. Yardımlarınız için sağolun, işimi kolaylaştırdınız.
Paketlerinizi kim hazırlıyor acaba, kutunun içi boş çıktı. Sıradaki müşteriye geçmeden önce beni dinleyin.
Sol üstteki simgeye bastım, ekran dondu kaldı. Bant genişliği bu hızda olursa film izlemek hayal olur. Hayat
pahalı, maaşlar yetmiyor, bir de üstüne zam geldi. Rahat bir yolculuk için koltuk seçtim ama başka yer verdiler.
Dün gece saat on ikiye kadar uyumadım, bağlantı gidip geldi. Kızım okuldan dönünce tabletten ders izliyor,
sürekli takılıyor. Komşumuzun evinde de aynı sorun var, bütün sokak mağdur. Yazın tatile gittiğimizde yurt
dışında hat çalışmadı. Babam yaşlı, onun için basit bir tarife arıyoruz. Yemek siparişi soğuk geldi, içecekler
eksikti, kurye de kaba davrandı. Hediye çeki kodunu girdim, geçersiz yazıyor. Sabah erkenden kapıda bekledim,
kimse gelmedi, akşam tekrar aradılar. Yeni cihazım çok güzel, kamerası harika, pili de uzun gidiyor. Evimizin
önündeki direk düştü, kablolar yerde duruyor, tehlikeli. Bir sonraki faturamda indirim yapacağınızı söylemiştiniz.
Görüşme sırasında hat kesildi, tekrar bağlanınca baştan anlatmak zorunda kaldım. Otobüste giderken internete
girmeye çalıştım ama sayfalar yüklenmedi. Şikayetimi yazılı olarak ilettim, dosya numarası verildi.
"""
_ENGLISH_SAMPLE = """
My package has not arrived yet and nobody answers the phone. The internet keeps dropping every evening even
though I paid the bill. I would like to cancel my order, when will you refund my money? Your agent was very
kind and solved my problem right away, thank you. How can I use this offer before my plan expires? The router
at home disconnects all the time and the technician never showed up. I was charged twice on my card and the
bank says you have to reverse it. Your app does not open, I cannot reset my password or log in to my account.
The staff in the store ignored me and I waited for half an hour. I am moving my number to another carrier,
enough is enough. The courier left the parcel at the door and it arrived damaged. The phone I bought last
month broke and I want to use the warranty. I do not understand why my bills are so high. Really happy with
the quick delivery, thanks a lot. The product is not as described and I would like to exchange it. I have
been waiting for a week and the tracking number still shows nothing. Please get back to me, you are ignoring
my messages. Your new pricing is too expensive, can I switch back to my old plan? I went to the branch but
they could not help and told me to come back tomorrow. I have been calling since the morning and nobody picks
up. Someone added a package to my mother's line without asking. Great service from your team, they really
cared. There was no signal at all outside the city and my calls kept dropping. I would appreciate a reply to
my message. Prices go up every day, soon nobody will be able to afford anything. Working with you has been a
nightmare. I read the terms of the campaign but did not understand them, could someone explain? If it does
not arrive by tonight I will file a complaint. I have been your customer for years and never expected this.
Thanks for your help, you made things much easier. Who packs your boxes, mine was completely empty.
I tapped the icon in the top left corner and the screen froze. With this bandwidth watching a film is a dream.
Life is expensive, wages are not enough, and now the price went up again. I picked a seat for a comfortable
trip but they gave me another one. Last night I stayed up until midnight while the connection kept coming and
going. My daughter watches her lessons on the tablet after school and it keeps freezing. Our neighbours have
the same issue, the whole street is affected. When we went on holiday abroad my line did not work. My father
is old, we are looking for a simple plan for him. The food arrived cold, the drinks were missing and the rider
was rude. I entered the gift card code and it says invalid. I waited at the door early in the morning, nobody
came, and they called again in the evening. My new device is lovely, the camera is great and the battery lasts.
"""


def _profile(sample: str) -> tuple[Counter[str], int]:
    grams: Counter[str] = Counter()
    for word in fold_letters(sample).split():
        padded = f"_{word.strip('.,?!')}_"
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams, sum(grams.values())


_CLIP = 2.0


def _gram_weights() -> dict[str, float]:
    """log P(trigram | Turkish) - log P(trigram | English) for every trigram seen in a sample.

    Add-one smoothing pulls trigrams seen once or twice towards zero, and the clip keeps one odd trigram from
    deciding a whole word: the samples are small.
    """
    (tr, tr_total), (en, en_total) = _profile(_TURKISH_SAMPLE), _profile(_ENGLISH_SAMPLE)
    vocabulary = len(tr.keys() | en.keys())
    weights = {}
    for gram in tr.keys() | en.keys():
        odds = math.log((tr[gram] + 1) / (tr_total + vocabulary)) - math.log((en[gram] + 1) / (en_total + vocabulary))
        weights[gram] = max(-_CLIP, min(_CLIP, odds))
    return weights


_GRAM_WEIGHTS = _gram_weights()
_PROFILE_VOTE = 0.6  # a word's trigram verdict counts a little over half a stopword
# Mean log-odds per trigram a word needs to vote. English needs more: Turkish words that happen to share
# trigrams with the English sample are commoner than the reverse in Turkish brand mentions.
_TURKISH_MARGIN, _ENGLISH_MARGIN = 0.35, 0.5

_NOISE = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+|[@#]\w+", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
# Letters of the Latin script (Basic, Latin-1, Extended-A/B, IPA for ə, Extended Additional); any other letter is
# another script.
_NOT_LATIN = re.compile(r"[^\W\d_A-Za-z\u00c0-\u02af\u1e00-\u1eff]")
_PREFERENCE = ("tr", "en", "az", "ku", "de", "fr", "es", "it", "nl", "pt")


def detect_language(text: str) -> str:
    """``"tr"``, ``"en"`` or ``"other"`` (another language or script, or no words at all)."""
    words = _WORD.findall(_NOISE.sub(" ", text[:MAX_CHARS]))
    if not words:
        return "other"
    joined = "".join(words)
    if not joined.isascii() and 2 * len(_NOT_LATIN.findall(joined)) >= len(joined):
        return "other"
    scores = dict.fromkeys(_PREFERENCE, 0.0)
    for word in words:
        if word.isascii():
            folded, english = word.lower(), True
        else:
            for letter in _CUE_LETTERS.intersection(word):
                for lang, weight in _LETTER_VOTES[letter]:
                    scores[lang] += weight
            # "göt" folds to "got" and "ı" (typed for "I") to "i": a word with letters English lacks is not English.
            folded, english = fold_letters(word).replace("’", "'"), False
        votes = _VOTES.get(folded)
        if votes is not None:
            for lang in votes:
                if english or lang != "en":
                    scores[lang] += 1.0
        elif len(folded) > 3:
            lean = _profile_vote(folded)
            if lean:
                scores[lean] += _PROFILE_VOTE
    best = max(_PREFERENCE, key=lambda lang: scores[lang])  # max keeps the first of equals: the preference order
    return best if best in ("tr", "en") else "other"


def _profile_vote(word: str) -> str:
    """``"tr"`` or ``"en"`` when the word's trigrams clearly lean one way (see the margins), else ``""``."""
    padded = f"_{word}_"
    count = len(padded) - 2
    total = sum(_GRAM_WEIGHTS.get(padded[i : i + 3], 0.0) for i in range(count))
    if total <= -_ENGLISH_MARGIN * count:
        return "en"
    return "tr" if total >= _TURKISH_MARGIN * count else ""
