"""The typed, frozen settings tree; every field carries the one line that documents it."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, get_args, get_origin, get_type_hints

from store.model import Brand


def doc(
    text: str, *, default: Any = None, secret_env: str | None = None, factory: Any = None, per_brand: bool = False
) -> Any:
    """A dataclass field with its documentation (and, for secrets, the one env variable that sets it).

    ``per_brand`` marks a table keyed by brand name (a source's slugs, app ids): unknown brands are errors.
    """
    meta = {"doc": text, "secret_env": secret_env, "per_brand": per_brand}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class BrandSettings:
    name: str = doc("Unique display name of the brand.", default="")
    aliases: tuple[str, ...] = doc("How people write the brand's name.", factory=tuple)
    handles: tuple[str, ...] = doc('The brand\'s own social handles, like "@getir".', factory=tuple)
    hashtags: tuple[str, ...] = doc('Hashtags that mean the brand, like "#getir".', factory=tuple)
    ambiguous: bool = doc(
        "The alias is also an ordinary word; it counts only with evidence: a context word, a handle or hashtag,"
        " an apostrophe ending (Getir'den) or a capital mid-sentence.",
        default=False,
    )
    context: tuple[str, ...] = doc("Words that make an ambiguous alias mean the brand.", factory=tuple)
    exclude: tuple[str, ...] = doc('Phrases that veto a mention ("getir götür").', factory=tuple)
    competitor: bool = doc("Tracked for share of voice; never ticketed or alerted.", default=False)
    query: str = doc(
        'Optional Boolean query a mention must also satisfy: AND, OR, NOT, parentheses, "quoted phrases".', default=""
    )

    def to_brand(self) -> Brand:
        return Brand(
            name=self.name,
            aliases=self.aliases or (self.name,),
            handles=self.handles,
            hashtags=self.hashtags,
            ambiguous=self.ambiguous,
            context=self.context,
            exclude=self.exclude,
            competitor=self.competitor,
            query=self.query,
        )


@dataclass(frozen=True)
class StoreSettings:
    sqlite_path: str = doc(
        "SQLite file used when KULAK_DATABASE_URL is not set (relative to the working directory).", default="kulak.db"
    )
    database_url: str | None = doc(
        "SQLAlchemy URL of the database, e.g. postgresql+psycopg://user@host/kulak.", secret_env="KULAK_DATABASE_URL"
    )


DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """Seconds in "90s", "10m", "2h" or "3d"; ValueError otherwise."""
    text = text.strip()
    unit = DURATION_UNITS.get(text[-1:].lower())
    if unit is None or not text[:-1].replace(".", "", 1).isdigit():
        raise ValueError(f'expected a duration like "90s", "10m", "2h" or "3d", got {text!r}')
    return float(text[:-1]) * unit


@dataclass(frozen=True)
class SourceSettings:
    """One ``[[sources]]`` table; keys not listed here are the type's own and land in ``options``."""

    name: str = doc("Unique name of this source (crawl state and health are kept under it).", default="")
    type: str = doc(
        "What it is: sikayetvar, eksisozluk, trustpilot, x, reddit, appstore, googleplay, rss, mastodon, bluesky.",
        default="",
    )
    brands: tuple[str, ...] = doc("Brand names it watches (from [[brands]]); empty means all.", factory=tuple)
    enabled: bool = doc("Set false to keep the table but not crawl it.", default=True)
    interval: str = doc('How often it is crawled, e.g. "10m", "1h" (at most once per pipeline run).', default="15m")
    base_url: str = doc("Site or API root; empty means the real one. Change for a mirror, proxy or test.", default="")
    delay: tuple[float, float] = doc("Seconds between two requests, drawn from [min, max].", default=(1.0, 2.0))
    concurrency: int = doc(
        "Requests in flight at once on HTML sites (Scrapy); API sources send one at a time.", default=1
    )
    max_pages: int = doc("Pages read per brand and crawl at most, newest first.", default=3)
    timeout: float = doc("Seconds before one request is given up.", default=30.0)
    max_failures: int = doc("Failed runs in a row before doctor and the ops alert report the source.", default=3)
    silence: str = doc('No new mention for this long is reported as silence, e.g. "2d".', default="2d")
    options: dict[str, Any] = field(default_factory=dict, metadata={"doc": "", "internal": True, "extra": True})

    @property
    def interval_seconds(self) -> float:
        return parse_duration(self.interval)

    @property
    def silence_seconds(self) -> float:
        return parse_duration(self.silence)


@dataclass(frozen=True)
class CrawlSettings:
    contact_url: str = doc(
        "Where a site owner can reach you; sent in every User-Agent.", default="https://github.com/kulak-dev/kulak"
    )
    user_agent: str = doc(
        "User-Agent sent to every site and API; {contact} is replaced by contact_url.",
        default="Kulak/0.2 (social-care listener; +{contact})",
    )
    retries: int = doc("Tries again after a timeout or a 5xx, waiting longer each time.", default=3)
    backoff: float = doc("Seconds before the first retry; doubled each time, with jitter.", default=2.0)
    max_wait: float = doc(
        "Longest wait (seconds) a 429 or rate-limit reset may ask for within a run; longer ends the run.",
        default=300.0,
    )
    max_page_bytes: int = doc("Pages larger than this many bytes are refused and counted.", default=10_000_000)
    robots: bool = doc("Obey robots.txt on HTML sites.", default=True)

    def agent(self) -> str:
        return self.user_agent.replace("{contact}", self.contact_url)


@dataclass(frozen=True)
class SlackSettings:
    channel: str = doc("Channel that receives care alerts (name like #care or id like C0123).", default="#care-alerts")
    base_url: str = doc(
        "Slack Web API root; change only for a Slack-compatible local server.", default="https://slack.com/api/"
    )
    token: str | None = doc(
        "Bot token (xoxb-...); Slack is off without it and alerts print instead.", secret_env="KULAK_SLACK_TOKEN"
    )
    ops_channel: str = doc("Channel for operators: sources that keep failing or fall silent.", default="#kulak-ops")


@dataclass(frozen=True)
class TicketSettings:
    default_unit: str = doc("Unit a ticket goes to when no topic rule names one.", default="care")
    units: dict[str, str] = doc('Topic -> unit routing, e.g. billing = "finance".', factory=dict)
    min_sentiment_score: float = doc("A negative mention opens a ticket only at or above this confidence.", default=0.0)


CUSTOMER_FIELDS = ("id", "name", "email", "phone", "city", "vip", "segment", "handles")


@dataclass(frozen=True)
class CustomersSettings:
    file: str | None = doc(
        "CSV, JSON or JSONL file of customer records imported on each run when it has changed (relative to the"
        " config file); `kulak customers import FILE` does the same by hand."
    )
    columns: dict[str, str] = doc(
        'Record field -> your column: id, name, email, phone, city, vip, segment, handles ("source:handle" pairs'
        ' separated by spaces); e.g. name = "ad_soyad". Unnamed fields use their own name as the column.',
        factory=dict,
    )
    handle_columns: dict[str, str] = doc(
        'Source -> column holding the customer\'s handle there, e.g. x = "x_kullanici".', factory=dict
    )
    number_columns: dict[str, str] = doc(
        'Number kind -> column, e.g. order = "siparis_no", subscription = "abone_no", policy = "police_no".',
        factory=dict,
    )
    number_patterns: dict[str, str] = doc(
        'Number kind -> regular expression that finds it in a mention, e.g. order = "KT-?\\d{8}".', factory=dict
    )
    identity_key: str | None = doc(
        "Secret key (16+ characters) for the keyed hashes customer identifiers are stored as.",
        secret_env="KULAK_IDENTITY_KEY",
    )
    auto_link: float = doc(
        "A match at or above this confidence, with no rival close to it, links the customer without asking.",
        default=0.8,
    )
    suggest: float = doc("Candidates from this confidence up are shown to agents to confirm.", default=0.5)


@dataclass(frozen=True)
class CaseSettings:
    window_hours: int = doc(
        "Mentions of the same customer or author within this many hours join their open case.", default=72
    )
    duplicate_days: int = doc("Near-duplicate texts are looked for among mentions of this many days.", default=14)


@dataclass(frozen=True)
class AnalysisSettings:
    analyzer: str = doc(
        'Which analyser tags mentions: "kulak" (trained spaCy pipeline) or "simple" (rules).', default="kulak"
    )
    taxonomies: tuple[str, ...] = doc(
        'Built-in topic sets to use: any of "common", "telecom", "ecommerce", "banking".',
        factory=lambda: ("common", "telecom", "ecommerce", "banking"),
    )
    topics: dict[str, tuple[str, ...]] = doc(
        'Your own topics or extra cues for built-in ones: label = ["cue", "stem*"] (folded, "*" ends a stem).',
        factory=dict,
    )
    models: str | None = doc(
        "Directory of models you trained with `kulak train` (sentiment/, intent/, topic/); shipped ones otherwise."
    )
    reach_followers: int = doc(
        "An author with at least this many followers raises urgency (reason high_reach).", default=10000
    )
    repeat_days: int = doc(
        "Earlier mentions by the same author within this many days count as repeated contact.", default=14
    )


@dataclass(frozen=True)
class ScheduleSettings:
    every_minutes: int = doc("`kulak serve` runs the whole pipeline this often.", default=15)


@dataclass(frozen=True)
class LogSettings:
    level: str = doc("Log level: DEBUG, INFO, WARNING or ERROR.", default="INFO")
    json: bool = doc("Write logs as JSON lines instead of plain text.", default=False)


@dataclass(frozen=True)
class Settings:
    brands: tuple[BrandSettings, ...] = doc("The brands to listen for ([[brands]] tables).", factory=tuple)
    store: StoreSettings = doc("Database.", factory=StoreSettings)
    sources: tuple[SourceSettings, ...] = doc("Where mentions come from ([[sources]] tables).", factory=tuple)
    crawl: CrawlSettings = doc("How politely every source is crawled.", factory=CrawlSettings)
    slack: SlackSettings = doc("Slack alerts.", factory=SlackSettings)
    tickets: TicketSettings = doc("Which mentions open tickets and where they go.", factory=TicketSettings)
    customers: CustomersSettings = doc("Customer records to match mentions against.", factory=CustomersSettings)
    cases: CaseSettings = doc("One case per problem: which mentions join an open case.", factory=CaseSettings)
    analysis: AnalysisSettings = doc("How mentions are analysed.", factory=AnalysisSettings)
    schedule: ScheduleSettings = doc("The built-in scheduler.", factory=ScheduleSettings)
    log: LogSettings = doc("Logging.", factory=LogSettings)
    path: str | None = field(default=None, metadata={"doc": "", "internal": True})
    # The environment the settings were read from: where components look up the secrets their options name.
    environ: Mapping[str, str] | None = field(default=None, metadata={"doc": "", "internal": True}, repr=False)

    def secret(self, name: str) -> str:
        """The environment variable ``name`` from the environment these settings came from ("" if unset)."""
        env = os.environ if self.environ is None else self.environ
        return env.get(name, "").strip()

    @property
    def database_url(self) -> str:
        return self.store.database_url or f"sqlite:///{self.store.sqlite_path}"

    def brand_models(self) -> tuple[Brand, ...]:
        return tuple(b.to_brand() for b in self.brands)


def setting_keys(cls: type[Any] = Settings, prefix: str = "") -> Iterator[tuple[str, dataclasses.Field[Any]]]:
    """Every leaf setting as (dotted key, field); ``brands[].name`` stands for a key of each brand table."""
    hints = get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.metadata.get("internal"):
            continue
        tp, key = hints[f.name], f"{prefix}{f.name}"
        if dataclasses.is_dataclass(tp):
            yield from setting_keys(tp, f"{key}.")  # type: ignore[arg-type]
        elif get_origin(tp) is tuple and dataclasses.is_dataclass(get_args(tp)[0]):
            yield from setting_keys(get_args(tp)[0], f"{key}[].")
        else:
            yield key, f
