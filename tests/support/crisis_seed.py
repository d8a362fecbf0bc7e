"""A store with five weeks of hourly mentions of two brands in a daily and weekly rhythm, and spikes to plant in it.

Counts are drawn around an hourly profile (quiet nights, busy evenings, calmer weekends) with a day-to-day wobble,
so the weeks are alike but never equal, as real ones are. Texts are made up; a few carry an identifier that only
the masked text hides, and some repeat an earlier text (near-duplicates).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from store.model import Analysis, Label, RawMention, Urgency
from store.sqlalchemy import SqlAlchemyUnitOfWork
from store.tables import AnalysisRow, FingerprintRow, MentionBrandRow, MentionRow, MentionTopicRow

ZONE = ZoneInfo("Europe/Istanbul")
KUZEY, MAVI, DENIZ = "Kuzey Telekom", "Mavi Kargo", "Deniz GSM"  # Deniz GSM is the competitor
START = datetime(2026, 10, 5, tzinfo=ZONE)  # a Monday; the first baseline week
END = START + timedelta(weeks=5)  # the seeded mentions end here; checks look back from it
LEAD_IN = timedelta(days=1)  # mentions from a day before START, so the first week is heard whole
SOURCES = ("sikayetvar", "x", "eksisozluk")
#: Mentions an hour on a weekday, by hour of day, for a brand of scale 1.
HOURLY = (1.5, 1, 1, 1, 1, 1.5, 3, 5, 8, 11, 12, 12, 13, 12, 12, 12, 13, 15, 19, 21, 20, 17, 11, 5)
WEEKDAY = (1.0, 1.0, 1.0, 1.0, 1.05, 0.8, 0.75)
SCALE = {KUZEY: 1.0, MAVI: 0.45, DENIZ: 0.3}
TOPICS = {
    KUZEY: ("fatura", "fatura", "internet", "internet", "musteri_hizmetleri", "iade", ""),
    MAVI: ("kargo_gecikmesi", "kargo_gecikmesi", "iade", "musteri_hizmetleri", ""),
    DENIZ: ("fatura", "internet", ""),
}
SAYINGS = {
    "fatura": ("bu ay faturam çok yüksek geldi", "faturamda anlamadığım bir kalem var",
               "ödememe rağmen hattım kapandı", "faturayı nereden indirebilirim", "otomatik ödeme talimatı çalışmıyor"),
    "internet": ("akşamları internet çok yavaşlıyor", "modem sürekli kopuyor", "fiber altyapı ne zaman gelecek",
                 "hızım vaat edilenin yarısı", "evde sinyal yok"),
    "musteri_hizmetleri": ("çağrı merkezinde yarım saat bekledim", "temsilci çok ilgiliydi teşekkürler",
                           "şikayetime dönüş yapılmadı", "canlı destek bağlanmıyor"),
    "kargo_gecikmesi": ("kargom üç gündür aynı şubede bekliyor", "teslimat tarihi yine ertelendi",
                        "kurye evde yoktunuz demiş ama evdeydim", "paketim kayboldu galiba"),
    "iade": ("iade talebim onaylanmadı", "ücret iadesi hesabıma yatmadı", "iade kodu çalışmıyor"),
    "": ("genel olarak memnunum", "kampanya hakkında bilgi alabilir miyim", "yeni tarifeler güzel olmuş"),
}  # fmt: skip
ENDINGS = ("", " Lütfen yardım edin.", " Teşekkürler.", " Numaram 0532 111 22 33, arayın.")
#: The planted crisis: a copy-pasted complaint with an identifier in it, and other complaints about bills.
PLANTED = "{brand} faturama izinsiz ek paket ücreti yansıttı, TC {tckn} ile başvurdum yine çözülmedi"
PLANTED_OTHERS = ("fatura itirazım haftalardır yanıtsız", "fatura tutarı iki katına çıktı",
                  "izinsiz paket yüzünden fatura şişti", "fatura hatası düzeltilmiyor",
                  "bu ne biçim fatura", "fatura kesim tarihinde sorun var")  # fmt: skip
OPENERS = ("", "Arkadaşlar", "Yine aynı dert:", "Rezalet,", "Bilen var mı,", "Akşamdan beri")
CLOSERS = ("", " Çözüm bekliyorum.", " Paramı geri istiyorum.", " Bıktım artık.", " Hattı taşıyacağım.")


@dataclass(frozen=True)
class Planned:
    brand: str
    source: str
    moment: datetime
    text: str
    masked: str
    topic: str
    sentiment: str
    urgency: str = "normal"
    published: bool = True  # False: only the fetch time is known
    repeats: int | None = None  # index of the earlier planned mention it nearly repeats


def poisson(rnd: random.Random, mean: float) -> int:
    """A Poisson draw by counting arrivals of a unit-rate process (fine for the small means here)."""
    count, total = 0, rnd.expovariate(1.0)
    while total < mean:
        count += 1
        total += rnd.expovariate(1.0)
    return count


def mask(text: str) -> str:
    return text.replace("0532 111 22 33", "[TELEFON]")


def _sentiment(rnd: random.Random, topic: str) -> str:
    negative = 0.15 if topic == "" else 0.45
    return rnd.choices(("negative", "neutral", "positive"), (negative, 0.8 - negative, 0.2))[0]


def plan(seed: int = 8, start: datetime = START - LEAD_IN, end: datetime = END) -> list[Planned]:
    """Every background mention from ``start`` to ``end``, hour by hour, for the two brands and the competitor."""
    rnd = random.Random(seed)
    planned: list[Planned] = []
    hours = int((end - start).total_seconds() // 3600)
    for brand, scale in SCALE.items():
        wobble = 1.0
        for hour in range(hours):
            at = (start + timedelta(hours=hour)).astimezone(ZONE)
            if at.hour == 0 or hour == 0:
                wobble = rnd.uniform(0.85, 1.15)  # some days are busier than others
            for _ in range(poisson(rnd, HOURLY[at.hour] * WEEKDAY[at.weekday()] * scale * wobble)):
                moment = at + timedelta(seconds=rnd.randrange(3600))
                recent = [i for i in range(max(0, len(planned) - 30), len(planned)) if planned[i].brand == brand]
                if recent and rnd.random() < 0.05:  # someone posts the same words again
                    i = rnd.choice(recent)
                    planned.append(Planned(**{**planned[i].__dict__, "moment": moment, "repeats": i}))
                    continue
                topic = rnd.choice(TOPICS[brand])
                text = f"{brand} {rnd.choice(SAYINGS[topic])}.{rnd.choice(ENDINGS)}"
                planned.append(
                    Planned(brand, rnd.choice(SOURCES), moment, text, mask(text), topic, _sentiment(rnd, topic),
                            published=rnd.random() > 0.03)
                )  # fmt: skip
    return planned


def seed(engine: Engine, planned: Sequence[Planned], prefix: str = "bg") -> list[int]:
    """Store the plan in bulk (rows as the analysis stage writes them); returns the mention ids in plan order."""
    raws = [_raw(p, f"{prefix}-{i}") for i, p in enumerate(planned)]
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.mentions.add_many(raws)
        uow.commit()
    with Session(engine) as session:
        found = dict(session.execute(select(MentionRow.external_id, MentionRow.id)).all())
        ids = [found[r.external_id] for r in raws]
        analyses, brands, topics, prints = [], [], [], []
        for mention_id, p in zip(ids, planned, strict=True):
            data = _analysis(p).to_json()
            analyses.append({"mention_id": mention_id, "analyzer": "seed", "lang": "tr", "sentiment": p.sentiment,
                             "sentiment_score": 0.9, "intent": "complaint", "urgency": p.urgency, "data": data,
                             "created_at": p.moment})  # fmt: skip
            brands.append({"mention_id": mention_id, "brand": p.brand, "at": p.moment})
            if p.topic:
                topics.append({"mention_id": mention_id, "topic": p.topic})
            if p.repeats is not None:
                prints.append({"mention_id": mention_id, "data": {}, "duplicate_of": ids[p.repeats],
                               "similarity": 0.95, "created_at": p.moment})  # fmt: skip
        for table, rows in ((AnalysisRow, analyses), (MentionBrandRow, brands), (MentionTopicRow, topics),
                            (FingerprintRow, prints)):  # fmt: skip
            if rows:
                session.execute(insert(table), rows)
        session.commit()
    return ids


def plant(
    engine: Engine,
    end: datetime,
    *,
    brand: str = KUZEY,
    copies: int = 25,
    others: int = 15,
    minutes: int = 60,
    hostile: str = "",
    tag: str = "spike",
    seed: int = 40,
) -> list[int]:
    """A crisis in the ``minutes`` before ``end``: ``copies`` near-duplicates of one complaint (an identifier in
    it, masked in the analysis) and ``others`` other complaints about bills, mostly negative; stored through the
    real repositories. ``hostile`` is appended to the other complaints' texts."""
    rnd = random.Random(seed)
    planned: list[Planned] = []
    for i in range(copies + others):
        moment = end - timedelta(seconds=rnd.randrange(1, minutes * 60))
        if i < copies:
            text = PLANTED.format(brand=brand, tckn="10000000146") + ("!" * (i % 3))
            masked, repeats = text.replace("10000000146", "[TCKN]"), (rnd.randrange(i) if i else None)
        else:
            said = f"{rnd.choice(OPENERS)} {rnd.choice(PLANTED_OTHERS)}.{rnd.choice(CLOSERS)}"
            text = " ".join(f"{brand} {said}{hostile}".split())
            masked, repeats = text, None
        sentiment = "negative" if rnd.random() < 0.9 else "neutral"
        urgency = "high" if i >= copies and hostile else "normal"
        planned.append(Planned(brand, rnd.choice(SOURCES), moment, text, masked, "fatura", sentiment, urgency,
                               repeats=repeats))  # fmt: skip
    return store(engine, planned, tag)


def store(engine: Engine, planned: Sequence[Planned], tag: str) -> list[int]:
    """Store mentions through the real repositories (mention, analysis, fingerprint); returns their ids."""
    raws = [_raw(p, f"{tag}-{i}") for i, p in enumerate(planned)]
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.mentions.add_many(raws)
        assert uow.session is not None
        names = [r.external_id for r in raws]
        found = dict(
            uow.session.execute(
                select(MentionRow.external_id, MentionRow.id).where(MentionRow.external_id.in_(names))
            ).all()
        )
        ids = [found[name] for name in names]
        uow.analyses.add_many([(mention_id, _analysis(p)) for mention_id, p in zip(ids, planned, strict=True)])
        for mention_id, p in zip(ids, planned, strict=True):
            duplicate_of = ids[p.repeats] if p.repeats is not None else None
            uow.fingerprints.add(mention_id, {}, [], duplicate_of, 0.97 if duplicate_of else None)
        uow.commit()
    return ids


def _raw(p: Planned, external_id: str) -> RawMention:
    fetched = p.moment + timedelta(minutes=7)
    return RawMention(
        source=p.source, external_id=external_id, url=f"https://example.test/{p.source}/{external_id}", text=p.text,
        fetched_at=fetched if p.published else p.moment, brand=p.brand, author_handle=f"kisi_{external_id}",
        published_at=p.moment if p.published else None,
    )  # fmt: skip


def _analysis(p: Planned) -> Analysis:
    return Analysis(
        lang="tr", brands=(p.brand,), sentiment=Label(p.sentiment, 0.9), intent=Label("complaint", 0.8),
        topics=(Label(p.topic, 0.8),) if p.topic else (), urgency=Urgency(p.urgency), pii=(), masked_text=p.masked,
        analyzer="seed",
    )  # fmt: skip


def hours(start: datetime, count: int) -> list[datetime]:
    """``count`` check times an hour apart, the first an hour after ``start``."""
    return [start + timedelta(hours=h + 1) for h in range(count)]
