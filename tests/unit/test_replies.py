"""Reply drafts: which template a case gets, what it may say (a name, never masked data) and bad operator files."""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import replace
from datetime import UTC, datetime
from itertools import product
from pathlib import Path

import pytest

from classifiers.training import INTENTS as CLASSIFIER_INTENTS
from config.settings import AlertSettings, ReplySettings, Settings
from crawlers.catalog import source_types
from responders import replies
from responders.alerts import CaseView
from responders.replies import INTENTS, LANGUAGES, MAX_CHARS, ReplyDrafter, clip, context_for, language_of, normalise
from store.errors import ConfigError, NotConfigured
from store.model import Analysis, Customer, Identifier, Label, Mention, MentionStatus, RawMention, Ticket, Urgency

REPO = Path(__file__).resolve().parents[2]
TAXONOMY = tomllib.loads((REPO / "classifiers" / "data" / "taxonomy.toml").read_text(encoding="utf-8"))
TOPICS = sorted(label for table in TAXONOMY.values() for label in table)
SOURCES = sorted(source_types())
TOPICS_OR_NONE = [(t,) for t in TOPICS] + [(), ("kendi_konumuz",)]  # a case may have no topic, or one of yours
AYSE = Customer(external_id="CUST-99887", name="Ayşe Yılmaz", city="Kadıköy", segment="gold")

# Everything a post or a record carries that a public reply must never repeat.
RAW_TEXT = "TCKN 12345678901, kart 4111 1111 1111 1111, tel 0532 123 45 67, @ayse_k1987 ve @destek bakın"
MASKED = "TCKN [TCKN], kart [KART], tel [TELEFON], e-posta [E-POSTA], @ayse_k1987 ve @destek bakın"
SECRETS = ("[", "@", "12345678901", "4111", "0532", "ayse_k1987", "CUST-99887", "Kadıköy", "gold", "http", "bakın")


def make_case(
    *,
    lang: str = "tr",
    topics: tuple[str, ...] = ("billing",),
    intent: str = "complaint",
    customer: Customer | None = None,
    source: str = "x",
    priority: str = "normal",
    suggested: tuple[tuple[Customer, float], ...] = (),
) -> CaseView:
    raw = RawMention(
        source=source,
        external_id="ext-1",
        url="https://x.com/ayse_k1987/status/1",
        text=RAW_TEXT,
        fetched_at=datetime(2025, 11, 23, 9, 30, tzinfo=UTC),
        author="Ayşe K. 0532",
        author_handle="ayse_k1987",
    )
    analysis = Analysis(
        lang=lang,
        brands=("Kuzey Telekom",),
        sentiment=Label("negative", 0.9),
        intent=Label(intent, 0.8),
        topics=tuple(Label(t, 0.7) for t in topics),
        urgency=Urgency("normal", ("repeated_contact",)),
        pii=(),
        masked_text=MASKED,
        analyzer="test",
    )
    ticket = Ticket(mention_id=1, brand="Kuzey Telekom", priority=priority, unit="care", summary=MASKED, id=17)
    return CaseView(ticket, Mention(1, MentionStatus.MATCHED, raw), analysis, customer, suggested=suggested)


@pytest.fixture(scope="module")
def drafter() -> ReplyDrafter:
    return ReplyDrafter()


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def shipped_names(lang: str, *, pieces: bool = True) -> list[str]:
    """The shipped file names of ``lang``; ``pieces=False`` leaves out those only included (``_greeting.j2``)."""
    return sorted(p.name for p in (replies.SHIPPED / lang).glob("*.j2") if pieces or not p.name.startswith("_"))


@pytest.mark.parametrize(
    ("topics", "intent", "expected"),
    [
        (("billing",), "question", "tr/billing__question.j2"),  # topic__intent first
        (("fraud_security",), "praise", "tr/fraud_security.j2"),  # then topic
        (("billing",), "praise", "tr/praise.j2"),  # then intent (no billing.j2 is shipped)
        (("delivery", "billing"), "complaint", "tr/delivery__complaint.j2"),  # the first topic counts
        ((), "question", "tr/question.j2"),
        (("unknown_topic",), "other", "tr/default.j2"),
        (("../../etc/passwd",), "no-such-intent", "tr/default.j2"),
    ],
)
def test_the_most_specific_shipped_template_wins(
    drafter: ReplyDrafter, topics: tuple[str, ...], intent: str, expected: str
) -> None:
    assert drafter.template_for(make_case(topics=topics, intent=intent)) == expected


def test_an_operator_file_beats_the_shipped_one_and_adds_new_levels(tmp_path: Path) -> None:
    write(tmp_path, "tr/complaint.j2", "Bizim şikâyet metnimiz.")
    write(tmp_path, "tr/billing.j2", "Fatura konusu, {{ intent }}.")
    write(tmp_path, "tr/kargo_hasar__complaint.j2", "Hasarlı paket için özür dileriz.")
    drafter = ReplyDrafter(tmp_path)
    assert drafter.draft(make_case(topics=(), intent="complaint")) == "Bizim şikâyet metnimiz."
    # billing.j2 (topic) now beats praise.j2 (intent), and the shipped billing__question.j2 still beats it.
    assert drafter.draft(make_case(topics=("billing",), intent="praise")) == "Fatura konusu, praise."
    assert drafter.template_for(make_case(topics=("billing",), intent="question")) == "tr/billing__question.j2"
    assert drafter.draft(make_case(topics=("kargo_hasar",))) == "Hasarlı paket için özür dileriz."
    assert ReplyDrafter().template_for(make_case(topics=("billing",), intent="praise")) == "tr/praise.j2"


def test_an_operator_piece_changes_every_template_that_includes_it(tmp_path: Path) -> None:
    write(
        tmp_path, "en/_greeting.j2", "{% if first_name %}\nHi {{ first_name }},\n{% else %}\nHi there,\n{% endif %}\n"
    )
    drafter = ReplyDrafter(tmp_path)
    assert drafter.draft(make_case(lang="en", customer=AYSE)).startswith("Hi Ayşe,\n\nWe are sorry")
    assert drafter.draft(make_case(lang="en", intent="praise")).startswith("Hi there,\n\nThank you")
    assert drafter.draft(make_case(lang="tr", customer=AYSE)).startswith("Sayın Ayşe Yılmaz,")


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", shipped_names("tr", pieces=False))
def test_every_shipped_template_is_reachable_and_renders(drafter: ReplyDrafter, lang: str, name: str) -> None:
    stem = name.removesuffix(".j2")
    topic, _, intent = stem.partition("__")
    if not intent:
        topic, intent = ("", stem) if stem in INTENTS else ("", "other") if stem == "default" else (topic, "question")
    case = make_case(lang=lang, topics=(topic,) if topic else (), intent=intent)
    assert drafter.template_for(case) == f"{lang}/{name}"
    text = drafter.draft(case)
    assert text.startswith("Merhaba,\n\n" if lang == "tr" else "Hello,\n\n") and text.count("\n") == 2
    assert 80 < len(text) <= MAX_CHARS and "{" not in text and "  " not in text


def test_both_languages_ship_the_same_templates_one_for_each_intent_but_other() -> None:
    assert shipped_names("tr") == shipped_names("en") and INTENTS == CLASSIFIER_INTENTS
    for lang in LANGUAGES:
        assert {f"{i}.j2" for i in INTENTS} - set(shipped_names(lang)) == {"other.j2"}  # default.j2 answers it


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("topic", TOPICS)
def test_every_taxonomy_topic_gets_its_own_next_step(drafter: ReplyDrafter, lang: str, topic: str) -> None:
    step = replies.NEXT_STEPS[lang][topic]
    assert step != replies.NEXT_STEPS[lang][""]
    for intent in ("complaint", "other"):
        assert step in drafter.draft(make_case(lang=lang, topics=(topic,), intent=intent))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_source_type_has_a_way_to_reach_us(lang: str) -> None:
    assert set(SOURCES) <= set(replies.CONTACTS[lang])
    assert replies.CONTACTS[lang]["sikayetvar"] != replies.CONTACTS[lang]["x"] == replies.CONTACTS[lang]["bluesky"]


@pytest.mark.parametrize(("lang", "expected"), [("de", "tr"), ("", "tr"), ("EN", "en"), ("en-GB", "en"), ("tr", "tr")])
def test_languages_other_than_english_fall_back_to_turkish(drafter: ReplyDrafter, lang: str, expected: str) -> None:
    assert language_of(lang) == expected
    case = make_case(lang=lang)
    assert drafter.template_for(case).startswith(f"{expected}/")
    assert drafter.draft(case).startswith("Merhaba," if expected == "tr" else "Hello,")


@pytest.mark.parametrize(("lang", "greeting"), [("tr", "Sayın Ayşe Yılmaz,"), ("en", "Dear Ayşe Yılmaz,")])
def test_a_linked_customer_is_addressed_by_name(drafter: ReplyDrafter, lang: str, greeting: str) -> None:
    spaced = replace(AYSE, name="  Ayşe   Yılmaz ")
    for intent in INTENTS:
        assert drafter.draft(make_case(lang=lang, intent=intent, customer=spaced)).startswith(greeting + "\n\n")
    assert context_for(make_case(customer=AYSE))["first_name"] == "Ayşe"


def test_an_unmatched_or_only_suggested_author_is_not_named(drafter: ReplyDrafter) -> None:
    for case in (make_case(), make_case(suggested=((AYSE, 0.6),))):
        text = drafter.draft(case)
        assert text.startswith("Merhaba,\n\n") and "Ayşe" not in text and "Sayın" not in text
        assert context_for(case)["name"] == context_for(case)["first_name"] == ""


def test_templates_see_only_labels_and_the_name() -> None:
    context = context_for(make_case(customer=AYSE, source="sikayetvar", priority="urgent"))
    documented = {"name", "first_name", "brand", "case_no", "topic", "intent", "source", "priority", "urgent"}
    assert set(context) == documented | {"next_step", "contact"}
    assert (context["case_no"], context["urgent"], context["source"]) == ("17", True, "sikayetvar")
    assert not any(secret in str(value) for value in context.values() for secret in SECRETS)


def test_no_masked_or_personal_data_reaches_any_draft(drafter: ReplyDrafter) -> None:
    customer = replace(AYSE, identifiers=(Identifier("phone", "h", "0532 *** ** 67"),), vip=True)
    seen = set()
    for lang, topic, intent, source, who in product(
        ("tr", "en", "de"), TOPICS_OR_NONE, INTENTS, SOURCES, (customer, None)
    ):
        case = make_case(lang=lang, topics=topic, intent=intent, source=source, customer=who)
        text = drafter.draft(case)
        leaked = [s for s in SECRETS if s in text]
        assert not leaked, f"{drafter.template_for(case)} leaks {leaked}: {text}"
        seen.add(drafter.template_for(case))
    assert seen == {f"{lang}/{n}" for lang in LANGUAGES for n in shipped_names(lang, pieces=False)}


def test_urgency_and_priority_change_the_promised_time(drafter: ReplyDrafter) -> None:
    assert "öncelik verdik" in drafter.draft(make_case(priority="urgent"))
    assert "bir iş günü" in drafter.draft(make_case(priority="normal"))
    assert "üç iş günü" in drafter.draft(make_case(priority="low"))
    critical = replace(make_case(), analysis=replace(make_case().analysis, urgency=Urgency("critical")))
    assert "as soon as possible" in drafter.draft(replace(critical, analysis=replace(critical.analysis, lang="en")))


def test_fraud_drafts_warn_never_to_share_passwords_or_card_numbers(drafter: ReplyDrafter) -> None:
    tr = drafter.draft(make_case(topics=("fraud_security",), intent="complaint"))
    en = drafter.draft(make_case(lang="en", topics=("fraud_security",), intent="complaint"))
    assert "şifrenizi, kart numaranızı" in tr and "herkese açık paylaşmayın" in tr
    assert "password, card number" in en and "in public" in en


ENGLISH = re.compile(r"\b(dear|hello|hi|thanks?|sorry|apologi\w*|please|team|we|will|your?|the|and|to)\b", re.I)
ASCII_FOLDED = re.compile(r"\b(tesekkur|ozur|musteri|lutfen|gonder\w*|ekibimiz\w* ulas|sikayet|iletisim)\b", re.I)


def test_turkish_drafts_are_turkish(drafter: ReplyDrafter) -> None:
    for topic, intent, source, who in product(TOPICS_OR_NONE, INTENTS, SOURCES, (AYSE, None)):
        case = make_case(topics=topic, intent=intent, source=source, customer=who)
        text = drafter.draft(case)
        assert not ENGLISH.search(text), f"{drafter.template_for(case)}: {text}"
        assert not ASCII_FOLDED.search(text) and re.search("[çğıöşüİ]", text)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("tr/billing.j2", "Merhaba {% if name %}", "line 1"),
        ("tr/billing.j2", "Sayın {{ nmae }},", "'nmae' is undefined"),
        ("en/complaint.j2", "{{ masked_text }}", "'masked_text' is undefined"),
        ("tr/default.j2", "{% include 'tr/_yok.j2' %}", "_yok.j2"),
        ("tr/billing.txt", "Merhaba", "tr/NAME.j2 or en/NAME.j2"),
        ("billing.j2", "Merhaba", "tr/NAME.j2 or en/NAME.j2"),
        ("de/billing.j2", "Hallo", "tr/NAME.j2 or en/NAME.j2"),
        ("tr/billing__complain.j2", "Merhaba", "needs an intent"),
        ("tr/__complaint.j2", "Merhaba", "needs an intent"),
    ],
)
def test_a_broken_operator_template_stops_the_start_naming_the_file(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(ConfigError) as error:
        ReplyDrafter(tmp_path)
    assert error.value.source == str(path) and expected in str(error.value)


@pytest.mark.parametrize(
    "text",
    [
        "{{ ''.__class__ }}",
        "{{ brand.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ name.upper.__self__ }}",
        "{{ lipsum.__globals__ }}",
        "{{ ''|attr('__class__') }}",
    ],
)
def test_the_sandbox_refuses_attribute_tricks(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "tr/praise.j2", text)
    with pytest.raises(ConfigError, match="is unsafe") as error:
        ReplyDrafter(tmp_path)
    assert error.value.source == str(path)


def test_hidden_files_are_ignored_and_a_missing_directory_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, ".gitkeep", "")
    write(tmp_path, "tr/.praise.j2.swp", "{{ broken")
    assert ReplyDrafter(tmp_path).template_for(make_case(intent="praise")) == "tr/praise.j2"
    with pytest.raises(ConfigError, match="not a directory"):
        ReplyDrafter(tmp_path / "yok")


def test_a_template_failing_on_an_untested_branch_falls_back(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write(tmp_path, "tr/billing.j2", "{% if intent == 'praise' %}{{ 1 // 0 }}{% else %}Fatura.{% endif %}")
    drafter = ReplyDrafter(tmp_path)  # the start-up check renders it as a complaint, where it works
    assert drafter.draft(make_case(topics=("billing",), intent="suggestion")) == "Fatura."
    with caplog.at_level(logging.WARNING, logger="responders.replies"):
        text = drafter.draft(make_case(topics=("billing",), intent="praise", customer=AYSE))
    assert text == ReplyDrafter().draft(make_case(intent="praise", customer=AYSE))
    assert "tr/billing.j2" in caplog.text and "ZeroDivisionError" in caplog.text and "Ayşe" not in caplog.text


def test_a_blank_operator_template_means_no_suggestion(tmp_path: Path) -> None:
    write(tmp_path, "tr/praise.j2", "{# no reply to praise #}\n")
    assert ReplyDrafter(tmp_path).draft(make_case(intent="praise")) == ""


def test_whitespace_is_normalised_and_paragraphs_kept(tmp_path: Path) -> None:
    write(tmp_path, "tr/praise.j2", "  {{ brand }}\n   teşekkür   eder.\n\n\n\n\tİkinci   paragraf. \n")
    assert (
        ReplyDrafter(tmp_path).draft(make_case(intent="praise")) == "Kuzey Telekom teşekkür eder.\n\nİkinci paragraf."
    )
    assert normalise(" a \n b \n \n c ") == "a b\n\nc"


def test_a_long_draft_is_cut_after_a_whole_sentence(tmp_path: Path) -> None:
    write(tmp_path, "tr/praise.j2", "{% for i in range(200) %}Teşekkür ederiz, cümle {{ i }}. {% endfor %}")
    text = ReplyDrafter(tmp_path).draft(make_case(intent="praise"))
    assert MAX_CHARS - 40 < len(text) <= MAX_CHARS and text.endswith(".")
    assert clip("kelime " * 300).endswith("kelime…") and len(clip("kelime " * 300)) <= MAX_CHARS
    assert clip("x" * 2000) == "x" * (MAX_CHARS - 1) + "…"
    assert clip("Kısa.") == "Kısa."


def test_from_settings_reads_the_directory_next_to_the_config_file(tmp_path: Path) -> None:
    write(tmp_path, "replies/tr/praise.j2", "Kendi teşekkürümüz.")
    settings = Settings(path=str(tmp_path / "kulak.toml"), replies=ReplySettings(templates="replies"))
    assert ReplyDrafter.from_settings(settings).draft(make_case(intent="praise")) == "Kendi teşekkürümüz."
    assert ReplyDrafter.from_settings(Settings()).template_for(make_case(intent="praise")) == "tr/praise.j2"


def test_from_settings_names_the_key_of_a_missing_directory_and_can_be_switched_off(tmp_path: Path) -> None:
    config = str(tmp_path / "kulak.toml")
    with pytest.raises(ConfigError) as error:
        ReplyDrafter.from_settings(Settings(path=config, replies=ReplySettings(templates="yok")))
    assert (error.value.source, error.value.key) == (config, "replies.templates")
    with pytest.raises(NotConfigured, match="suggest_replies"):
        ReplyDrafter.from_settings(Settings(alerts=AlertSettings(suggest_replies=False)))
