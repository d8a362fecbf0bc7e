"""The words and number formats of digests in Turkish and English, shared by every renderer so they agree."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from responders.digest_model import Count, Period, Share

LANGUAGES = ("tr", "en")
DASH = "—"

#: Fixed words of the digest: key -> (Turkish, English).
LABELS: dict[str, tuple[str, str]] = {
    "day": ("Günlük özet", "Daily digest"),
    "week": ("Haftalık özet", "Weekly digest"),
    "month": ("Aylık özet", "Monthly digest"),
    "year": ("Yıllık özet", "Yearly digest"),
    "compared": ("Önceki dönemle karşılaştırma", "Compared with the period before"),
    "generated": ("Oluşturulma", "Generated"),
    "now": ("Bu dönem", "This period"),
    "before": ("Önceki dönem", "Previous period"),
    "no_data": ("Veri yok", "No data"),
    "mentions": ("Bahsetmeler", "Mentions"),
    "by_source": ("Kaynaklara göre hacim", "Volume by source"),
    "source": ("Kaynak", "Source"),
    "sentiment": ("Duygu dağılımı", "Sentiment mix"),
    "feeling": ("Duygu", "Sentiment"),
    "net_sentiment": ("Net duygu", "Net sentiment"),
    "topics": ("En çok konuşulan konular", "Top topics"),
    "rising": ("Yükselen konular", "Rising topics"),
    "topic": ("Konu", "Topic"),
    "intents": ("Niyetler", "Intents"),
    "intent": ("Niyet", "Intent"),
    "share_of_voice": ("Ses payı", "Share of voice"),
    "brand": ("Marka", "Brand"),
    "care": ("Müşteri hizmetleri performansı", "Care performance"),
    "measure": ("Ölçü", "Measure"),
    "first_response_median": ("İlk yanıt süresi (medyan)", "First response time (median)"),
    "first_response_p90": ("İlk yanıt süresi (p90)", "First response time (p90)"),
    "first_response_count": ("Yanıtlanan vakalar", "Cases responded to"),
    "resolution_median": ("Çözüm süresi (medyan)", "Resolution time (median)"),
    "resolution_p90": ("Çözüm süresi (p90)", "Resolution time (p90)"),
    "resolution_count": ("Süresi ölçülen çözümler", "Resolutions timed"),
    "cases_opened": ("Açılan vakalar", "Cases opened"),
    "cases_resolved": ("Çözülen vakalar", "Cases resolved"),
    "sla_breaches": ("SLA ihlalleri", "SLA breaches"),
    "sikayetvar_resolved": ("Şikayetvar çözüm oranı", "Şikayetvar resolution rate"),
    "complaints": ("şikâyet", "complaints"),
    "open_by_age": ("Açık vakalar (yaşa göre)", "Open cases by age"),
    "age": ("Yaş", "Age"),
    "at_end": ("Dönem sonunda", "At the period's end"),
    "at_end_before": ("Önceki dönemin sonunda", "At the previous period's end"),
    "urgent": ("En acil açık vakalar", "Most urgent open cases"),
    "case": ("Vaka", "Case"),
    "priority": ("Öncelik", "Priority"),
    "respond_by": ("Yanıt son tarihi", "Respond by"),
    "assignee": ("Sorumlu", "Assignee"),
    "summary": ("Özet", "Summary"),
    "unassigned": ("atanmamış", "unassigned"),
    "overdue": ("gecikmiş", "overdue"),
    "agents": ("Temsilcilere göre ele alınan vakalar", "Cases handled per agent"),
    "agent": ("Temsilci", "Agent"),
    "held": ("Bekletilen uyarılar", "Held-back alerts"),
    "held_at": ("Bekletildiği an", "Held at"),
    "charts": ("Grafikler", "Charts"),
    "charts_in_thread": ("Grafikler bu mesajın altında.", "The charts are in this message's thread."),
    "chart_timeline": ("Zaman içinde bahsetmeler", "Mentions over time"),
    "chart_sources": ("Kaynaklara göre hacim: bu dönem ve önceki", "Volume by source: this period and the one before"),
    "chart_sentiment": ("Duygu dağılımı: bu dönem ve önceki", "Sentiment mix: this period and the one before"),
    "chart_topics": ("En çok konuşulan konular", "Top topics"),
    "new": ("yeni", "new"),
    "points": ("puan", "pts"),
}

#: Values found in the figures (sentiments, intents, priorities, statuses, ages, topics): value -> (tr, en).
TERMS: dict[str, tuple[str, str]] = {
    "positive": ("Olumlu", "Positive"), "neutral": ("Nötr", "Neutral"), "negative": ("Olumsuz", "Negative"),
    "complaint": ("Şikâyet", "Complaint"), "question": ("Soru", "Question"), "suggestion": ("Öneri", "Suggestion"),
    "praise": ("Övgü", "Praise"), "sales": ("Satış", "Sales"), "other": ("Diğer", "Other"),
    "urgent": ("acil", "urgent"), "high": ("yüksek", "high"), "normal": ("normal", "normal"), "low": ("düşük", "low"),
    "new": ("yeni", "new"), "assigned": ("atandı", "assigned"), "waiting": ("müşteri bekleniyor", "waiting"),
    "resolved": ("çözüldü", "resolved"), "closed": ("kapandı", "closed"),
    "<1d": ("1 günden yeni", "under 1 day"), "1-3d": ("1–3 gün", "1–3 days"), "3-7d": ("3–7 gün", "3–7 days"),
    ">7d": ("7 günden eski", "over 7 days"),
    "billing": ("Fatura", "Billing"), "pricing": ("Fiyat", "Pricing"), "refund": ("İade", "Refund"),
    "customer_service": ("Müşteri hizmetleri", "Customer service"), "cancellation": ("İptal", "Cancellation"),
    "account_access": ("Hesap erişimi", "Account access"),
    "fraud_security": ("Dolandırıcılık ve güvenlik", "Fraud and security"),
    "mobile_app": ("Mobil uygulama", "Mobile app"), "product_defect": ("Ürün hatası", "Product defect"),
    "campaign": ("Kampanya", "Campaign"), "network": ("Şebeke", "Network"), "line": ("Hat", "Line"),
    "delivery": ("Teslimat", "Delivery"), "order": ("Sipariş", "Order"), "card": ("Kart", "Card"),
    "card_dispute": ("Kart itirazı", "Card dispute"), "loan": ("Kredi", "Loan"),
    "transfer": ("Havale / EFT", "Transfer"),
    "atm": ("ATM", "ATM"), "bank_account": ("Banka hesabı", "Bank account"),
}  # fmt: skip

MONTHS = {
    "tr": ("Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran", "Temmuz", "Ağustos", "Eylül", "Ekim", "Kasım",
           "Aralık"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}  # fmt: skip
NBSP = "\u00a0"  # between a number and its unit, so "+12 %" or "15 dk" never breaks across lines
#: (thousands separator, decimal mark, space before "%", duration units: day, hour, minute, second)
FORMATS = {
    "tr": (".", ",", NBSP, ("g", "sa", "dk", "sn")),
    "en": (",", ".", "", ("d", "h", "m", "s")),
}


class DigestText:
    """Labels, numbers, changes, durations and dates of one language, in the digest's time zone."""

    def __init__(self, language: str, timezone: str = "Europe/Istanbul") -> None:
        if language not in LANGUAGES:
            raise ValueError(f"unknown digest language {language!r}; expected one of {', '.join(LANGUAGES)}")
        self.language = language
        self.zone = ZoneInfo(timezone)
        self._at = LANGUAGES.index(language)
        thousands, decimal, self._gap, self._units = FORMATS[language]
        self._marks = str.maketrans(",.", thousands + decimal)

    def label(self, key: str) -> str:
        return LABELS[key][self._at]

    def term(self, value: str) -> str:
        """A figure's label in words: known ones translated, others (source names, new topics) made readable."""
        known = TERMS.get(value)
        return known[self._at] if known else value.replace("_", " ")

    def number(self, value: float, digits: int = 0) -> str:
        return f"{value:,.{digits}f}".translate(self._marks)

    def percent(self, fraction: float | None, *, signed: bool = False) -> str:
        """0.4512 -> "45 %" (tr) / "45%" (en); one decimal under ten per cent so small shares do not read 0."""
        if fraction is None:
            return DASH
        value = fraction * 100
        digits = 1 if abs(value) < 10 and round(value, 1) != round(value) else 0
        sign = "+" if signed and round(value, digits) > 0 else ""
        return f"{sign}{self.number(value, digits)}{self._gap}%"

    def change(self, count: Count) -> str:
        """How ``count`` moved: "+12 %", "yeni"/"new" when there was nothing before, "" when nothing either time."""
        if count.before == 0:
            return self.label("new") if count.now else ""
        value = round((count.change or 0.0) * 100)
        sign = "+" if value > 0 else "±" if value == 0 else "-"
        return f"{sign}{self.number(abs(value))}{self._gap}%"

    def count(self, count: Count) -> str:
        """ "1.234 (+12 %)" in Turkish, "1,234 (+12%)" in English."""
        moved = self.change(count)
        return f"{self.number(count.now)} ({moved})" if moved else self.number(count.now)

    def share(self, share: Share, *, signed: bool = False) -> str:
        """A share now with its move in percentage points: "45 % (+5 puan)"."""
        now = self.percent(share.now, signed=signed)
        if share.now is None or share.before is None:
            return now
        points = round((share.now - share.before) * 100)
        sign = "+" if points > 0 else "±" if points == 0 else "-"
        return f"{now} ({sign}{self.number(abs(points))} {self.label('points')})"

    def duration(self, seconds: float | None) -> str:
        """ "2 sa 15 dk" / "2h 15m"; the two largest units only; None -> "—"."""
        if seconds is None:
            return DASH
        day, hour, minute, second = self._units
        sep = NBSP if self.language == "tr" else ""
        if seconds < 60:
            return f"{round(seconds)}{sep}{second}"
        minutes = round(seconds / 60)
        days, rest = divmod(minutes, 24 * 60)
        hours, minutes = divmod(rest, 60)
        if days:
            parts = [(days, day), (hours, hour)]
        elif hours:
            parts = [(hours, hour), (minutes, minute)]
        else:
            parts = [(minutes, minute)]
        return " ".join(f"{n}{sep}{unit}" for n, unit in parts if n or unit == parts[0][1])

    def date(self, moment: datetime) -> str:
        local = moment.astimezone(self.zone)
        return f"{local.day} {MONTHS[self.language][local.month - 1]} {local.year}"

    def moment(self, moment: datetime | None) -> str:
        if moment is None:
            return DASH
        local = moment.astimezone(self.zone)
        return f"{self.date(local)} {local:%H:%M}"

    def span(self, period: Period) -> str:
        """The days a period covers: "23 Kasım 2026", "16–22 Kasım 2026", "Kasım 2026", "2026"."""
        first = period.start.astimezone(self.zone)
        last = (period.end.astimezone(self.zone) - timedelta(days=1)).date()
        months = MONTHS[self.language]
        if period.kind == "day":
            return self.date(first)
        if period.kind == "month":
            return f"{months[first.month - 1]} {first.year}"
        if period.kind == "year":
            return str(first.year)
        if period.kind != "week":
            raise ValueError(f"unknown period kind {period.kind!r}")
        if (first.year, first.month) == (last.year, last.month):
            return f"{first.day}–{last.day} {months[last.month - 1]} {last.year}"
        if first.year == last.year:
            return f"{first.day} {months[first.month - 1]} – {last.day} {months[last.month - 1]} {last.year}"
        return f"{self.date(first)} – {last.day} {months[last.month - 1]} {last.year}"

    def title(self, period: Period) -> str:
        """ "Günlük özet 23 Kasım 2026" / "Daily digest 23 November 2026"."""
        if period.kind not in ("day", "week", "month", "year"):
            raise ValueError(f"unknown period kind {period.kind!r}")
        return f"{self.label(period.kind)} {self.span(period)}"
