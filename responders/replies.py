"""Suggested replies an agent can edit and post: a Jinja2 template per topic, intent and language, never masked data."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from responders.alerts import CaseView
from store.errors import ConfigError, NotConfigured

if TYPE_CHECKING:
    from config.settings import Settings

log = logging.getLogger(__name__)

SHIPPED = Path(__file__).parent / "templates"
LANGUAGES = ("tr", "en")  # the first is where every other language falls back to
INTENTS = ("complaint", "question", "suggestion", "praise", "sales", "other")
MAX_CHARS = 1000
# An operator's file: tr/billing.j2, en/billing__question.j2, tr/_greeting.j2 (a piece others include).
TEMPLATE_NAME = re.compile(r"(?P<lang>[a-z]+)/(?P<stem>[\w-]+)\.j2")

NEXT_STEPS: dict[str, dict[str, str]] = {
    "tr": {
        "": "İlgili ekibimiz konuyu inceleyip size bilgi verecek.",
        "billing": "Faturanızı faturalandırma ekibimiz kontrol edecek; fazladan alınan bir tutar varsa ödemeyi"
        " yaptığınız yönteme iade edilecek.",
        "pricing": "Kullanımınıza uygun tarife ve paketleri karşılaştırıp seçenekleri size ileteceğiz.",
        "refund": "İade talebinizin hangi aşamada olduğunu kontrol edip tutarın ne zaman hesabınıza geçeceğini"
        " size bildireceğiz.",
        "customer_service": "Yaşadığınız deneyimi ekip yöneticimize ileteceğiz; talebinizi bundan sonra tek bir"
        " temsilcimiz takip edecek.",
        "cancellation": "İptal talebinizi ilgili ekibimize ileteceğiz; varsa taahhüt ve cayma koşullarını işlemden"
        " önce size açıkça bildireceğiz.",
        "account_access": "Hesabınıza yeniden erişebilmeniz için kimlik doğrulamasını güvenli bir kanaldan"
        " birlikte yapacağız.",
        "fraud_security": "Güvenlik ekibimiz işlemleri hemen inceleyecek ve gereken koruma önlemlerini alacak.",
        "mobile_app": "Teknik ekibimiz sorunu inceleyecek; uygulama sürümünüzü ve cihaz modelinizi iletirseniz"
        " çözüm hızlanır.",
        "product_defect": "Ürününüzü garanti koşullarına göre değerlendirip onarım ya da değişim için izlenecek"
        " adımları size bildireceğiz.",
        "campaign": "Kampanya koşullarını ve hesabınıza tanımlanması gereken hakları kontrol edip size bilgi"
        " vereceğiz.",
        "network": "Teknik ekibimiz bölgenizdeki şebeke ve altyapı durumunu kontrol edip arıza kaydınızı takip edecek.",
        "line": "Hattınızın ve paket tanımlarınızın durumunu kontrol edip gereken düzenlemeyi yapacağız.",
        "delivery": "Gönderinizin son durumunu kargo ekibimizle kontrol edip teslimat için net bir tarih paylaşacağız.",
        "order": "Siparişinizi satıcı ve depo ekibimizle kontrol edip eksik ya da hatalı ürün için yapılacak"
        " işlemi size bildireceğiz.",
        "card": "Kart ekibimiz kartınızın durumunu kontrol edip gereken işlemi başlatacak.",
        "card_dispute": "Harcama itirazınızı kart ekibimiz kayda alıp inceleyecek; süreç kart kuruluşunun"
        " kurallarına göre yürütülecek.",
        "loan": "Kredi ekibimiz başvurunuzu ya da kredinizin durumunu inceleyip seçeneklerinizi size açıklayacak.",
        "transfer": "İşleminizin hangi aşamada olduğunu transfer ekibimiz kontrol edip size bilgi verecek.",
        "atm": "ATM kayıtlarını kontrol edeceğiz; hesabınıza yansımayan bir tutar tespit edilirse düzeltme yapılacak.",
        "bank_account": "Hesap ekibimiz hesabınızın durumunu ve varsa kısıtlamanın nedenini kontrol edip size"
        " bilgi verecek.",
    },
    "en": {
        "": "The right team will look into this and let you know.",
        "billing": "Our billing team will check your bill, and any overcharge will be refunded to the payment"
        " method you used.",
        "pricing": "We will compare the plans and packages that fit your usage and share the options with you.",
        "refund": "We will check where your refund stands and tell you when the amount will reach your account.",
        "customer_service": "We will pass your experience on to the team's manager, and one representative will"
        " follow your request from now on.",
        "cancellation": "We will pass your cancellation request to the right team and explain any commitment or"
        " early-termination terms before anything is processed.",
        "account_access": "We will verify your identity with you through a secure channel so you can get back"
        " into your account.",
        "fraud_security": "Our security team will review the transactions right away and take the necessary"
        " protective steps.",
        "mobile_app": "Our technical team will look into the issue; your app version and device model will help"
        " us fix it faster.",
        "product_defect": "We will review your product under the warranty terms and tell you the steps for repair"
        " or replacement.",
        "campaign": "We will check the campaign terms and the benefits that should apply to your account.",
        "network": "Our technical team will check the network in your area and follow up on the fault.",
        "line": "We will check your line and package settings and make any correction needed.",
        "delivery": "We will check your shipment's latest status with our delivery team and give you a clear"
        " delivery date.",
        "order": "We will check your order with the seller and the warehouse and tell you how a missing or wrong"
        " item will be put right.",
        "card": "Our card team will check your card's status and start the steps needed.",
        "card_dispute": "Our card team will record and review your dispute under the card scheme's rules.",
        "loan": "Our loans team will review your application or loan and explain your options.",
        "transfer": "Our transfers team will check where your transaction stands and let you know.",
        "atm": "We will check the ATM's records; if an amount did not reach your account, it will be corrected.",
        "bank_account": "Our accounts team will check your account and the reason for any restriction.",
    },
}

# How the person reaches us privately from where they posted: identifiers are never asked for in public.
_DM = {"tr": "Lütfen bize özel mesaj gönderin.", "en": "Please send us a direct message."}
_SUPPORT = {
    "tr": "Bize destek kanallarımızdan ulaşabilirsiniz.",
    "en": "You can reach us through our support channels.",
}
CONTACTS: dict[str, dict[str, str]] = {
    "tr": {
        "": _SUPPORT["tr"],
        "rss": _SUPPORT["tr"],  # news and blogs: no private channel there
        "x": _DM["tr"],
        "mastodon": _DM["tr"],
        "bluesky": _DM["tr"],
        "reddit": "Lütfen bize Reddit üzerinden özel mesaj gönderin.",
        "sikayetvar": "Size Şikayetvar marka paneli üzerinden ya da telefonla ulaşacağız.",
        "eksisozluk": "Bize Ekşi Sözlük'ten mesaj gönderebilir ya da destek kanallarımızdan ulaşabilirsiniz.",
        "appstore": "Lütfen uygulama içindeki destek bölümünden bize yazın.",
        "googleplay": "Lütfen uygulama içindeki destek bölümünden bize yazın.",
        "trustpilot": "Lütfen web sitemizdeki iletişim formundan bize yazın ve bu değerlendirmeyi belirtin.",
    },
    "en": {
        "": _SUPPORT["en"],
        "rss": _SUPPORT["en"],
        "x": _DM["en"],
        "mastodon": _DM["en"],
        "bluesky": _DM["en"],
        "reddit": "Please send us a private message on Reddit.",
        "sikayetvar": "We will reach you through the Şikayetvar brand panel or by phone.",
        "eksisozluk": "You can message us on Ekşi Sözlük or reach us through our support channels.",
        "appstore": "Please write to us from the help section in the app.",
        "googleplay": "Please write to us from the help section in the app.",
        "trustpilot": "Please write to us through the contact form on our website and mention this review.",
    },
}


def language_of(lang: str) -> str:
    """``tr`` or ``en`` (``en-GB`` counts as ``en``); any other language gets the Turkish templates."""
    base = lang.replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else LANGUAGES[0]


def context_for(case: CaseView) -> dict[str, Any]:
    """What a template may use: labels of the case and the matched customer's name, never text or identifiers."""
    analysis, ticket = case.analysis, case.ticket
    # Only a linked customer is addressed by name: a suggested candidate may be someone else.
    name = " ".join(case.customer.name.split()) if case.customer is not None else ""
    labels = {
        "name": name,
        "brand": ticket.brand,
        "case_no": "" if ticket.id is None else str(ticket.id),
        "topic": analysis.topics[0].label if analysis.topics else "",
        "intent": analysis.intent.label,
        "source": case.mention.raw.source,
        "priority": ticket.priority,
        "urgent": ticket.priority == "urgent" or analysis.urgency.level == "critical",
    }
    return _complete(language_of(analysis.lang), labels)


def _complete(lang: str, labels: dict[str, Any]) -> dict[str, Any]:
    """``labels`` plus what follows from them: the first name and the sentences for the topic and the source."""
    return {
        **labels,
        "first_name": labels["name"].split(" ", 1)[0],
        "next_step": NEXT_STEPS[lang].get(labels["topic"], NEXT_STEPS[lang][""]),
        "contact": CONTACTS[lang].get(labels["source"], CONTACTS[lang][""]),
    }


def normalise(text: str) -> str:
    """Single spaces inside paragraphs, one blank line between them, nothing at either end."""
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paragraphs if p)


def clip(text: str, limit: int = MAX_CHARS) -> str:
    """``text`` within ``limit`` characters, cut after a whole sentence when one ends in the second half."""
    if len(text) <= limit:
        return text
    ends = [m.end() for m in re.finditer(r"[.!?](?=\s)", text[: limit + 1])]
    if ends and ends[-1] > limit // 2:
        return text[: ends[-1]]
    head = text[: limit - 1]
    return (head.rsplit(" ", 1)[0] if " " in head else head) + "…"


def _operator_names(own_dir: Path) -> list[str]:
    """The template names in the operator's directory; anything that is not ``{lang}/NAME.j2`` is a mistake."""
    names = []
    for path in sorted(own_dir.rglob("*")):
        relative = path.relative_to(own_dir)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        name = relative.as_posix()
        match = TEMPLATE_NAME.fullmatch(name)
        if match is None or match["lang"] not in LANGUAGES:
            expected = " or ".join(f"{lang}/NAME.j2" for lang in LANGUAGES)
            raise ConfigError(f"a reply template must be named {expected}", source=str(path))
        topic, split, intent = match["stem"].partition("__")
        if split and (not topic or intent not in INTENTS):
            raise ConfigError(f"TOPIC__INTENT.j2 needs an intent, one of {', '.join(INTENTS)}", source=str(path))
        names.append(name)
    return names


def _samples(name: str) -> Iterator[dict[str, Any]]:
    """Contexts like those ``name`` will meet: its own topic and intent, a matched and an unmatched customer."""
    match = TEMPLATE_NAME.fullmatch(name)
    assert match is not None  # checked by _operator_names
    topic, _, intent = match["stem"].partition("__")
    if not intent:
        piece = topic in INTENTS or topic == "default" or topic.startswith("_")
        intent, topic = (topic if topic in INTENTS else "complaint"), ("billing" if piece else topic)
    for person, urgent in (("Ayşe Yılmaz", False), ("", True)):
        labels = {"name": person, "brand": "Kuzey Telekom", "case_no": "42", "topic": topic, "intent": intent}
        labels |= {"source": "x", "priority": "urgent" if urgent else "normal", "urgent": urgent}
        yield _complete(match["lang"], labels)


class ReplyDrafter:
    """Picks the most specific reply template for a case and renders it; the operator's files come first."""

    def __init__(self, own_dir: Path | None = None) -> None:
        folders = [SHIPPED]  # searched in order: the operator's directory goes first
        own: list[str] = []
        if own_dir is not None:
            if not own_dir.is_dir():
                raise ConfigError("not a directory of reply templates", source=str(own_dir))
            own = _operator_names(own_dir)
            folders.insert(0, own_dir)
        # Operators' templates are not trusted code: the sandbox keeps them from reaching Python internals.
        self.env = ImmutableSandboxedEnvironment(
            loader=FileSystemLoader(folders),
            undefined=StrictUndefined,
            autoescape=False,  # plain text; the Slack renderer escapes it
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.own_dir = own_dir
        self.names = frozenset(self.env.list_templates(extensions=["j2"]))
        for name in own:
            self._check(name, folders[0] / name)
        if own:
            log.info("Reply templates: %d of your own from %s", len(own), own_dir)

    @classmethod
    def from_settings(cls, settings: Settings) -> ReplyDrafter:
        from config.loader import resolve_path

        if not settings.alerts.suggest_replies:
            raise NotConfigured("alerts.suggest_replies is false")
        folder = settings.replies.templates
        if not folder:
            return cls()
        own_dir = resolve_path(settings, folder)
        if not own_dir.is_dir():
            where = settings.path or "defaults"
            raise ConfigError(f"{own_dir} is not a directory", source=where, key="replies.templates")
        return cls(own_dir)

    def template_for(self, case: CaseView) -> str:
        """The name of the template ``draft`` uses for ``case`` ("" when none applies)."""
        return next(self._candidates(case), "")

    def draft(self, case: CaseView) -> str:
        """The suggested reply to ``case``: plain text of at most ``MAX_CHARS`` characters."""
        context = context_for(case)
        for name in self._candidates(case):
            try:
                text = self.env.get_template(name).render(context)
            except Exception as exc:  # an operator's template failed on a branch the start-up check did not take
                ids = {"case_id": case.ticket.id, "brand": case.ticket.brand}
                log.warning("Reply template %s failed (%s); the next one is used", name, type(exc).__name__, extra=ids)
                continue
            return clip(normalise(text))
        return ""

    def _candidates(self, case: CaseView) -> Iterator[str]:
        """Names that apply to ``case``, most specific first: topic__intent, topic, intent, default."""
        lang = language_of(case.analysis.lang)
        topic = case.analysis.topics[0].label if case.analysis.topics else ""
        intent = case.analysis.intent.label
        stems = [f"{topic}__{intent}", topic] if topic else []
        for stem in [*stems, intent, "default"]:
            name = f"{lang}/{stem}.j2"
            if stem and not stem.startswith("_") and name in self.names:
                yield name

    def _check(self, name: str, path: Path) -> None:
        """Render the operator's ``name`` once per sample context, so a broken file stops the start, naming it."""
        for sample in _samples(name):
            try:
                self.env.get_template(name).render(sample)
            except TemplateSyntaxError as exc:
                where = f"{exc.name}, " if exc.name and exc.name != name else ""
                raise ConfigError(f"{where}line {exc.lineno}: {exc.message}", source=str(path)) from exc
            except Exception as exc:  # untrusted code: whatever it raises means the template is unusable
                raise ConfigError(f"does not render: {exc}", source=str(path)) from exc
