"""The typed, frozen settings tree; every field carries the one line that documents it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, get_args, get_origin, get_type_hints

from store.model import Brand


def doc(text: str, *, default: Any = None, secret_env: str | None = None, factory: Any = None) -> Any:
    """A dataclass field with its documentation (and, for secrets, the one env variable that sets it)."""
    meta = {"doc": text, "secret_env": secret_env}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class BrandSettings:
    name: str = doc("Unique display name of the brand.", default="")
    aliases: tuple[str, ...] = doc("How people write the brand's name.", factory=tuple)
    handles: tuple[str, ...] = doc('The brand\'s own social handles, like "@getir".', factory=tuple)
    hashtags: tuple[str, ...] = doc('Hashtags that mean the brand, like "#getir".', factory=tuple)
    ambiguous: bool = doc("The alias is also an ordinary word; it counts only next to a context word.", default=False)
    context: tuple[str, ...] = doc("Words that make an ambiguous alias mean the brand.", factory=tuple)
    exclude: tuple[str, ...] = doc('Phrases that veto a mention ("getir götür").', factory=tuple)
    competitor: bool = doc("Tracked for share of voice; never ticketed or alerted.", default=False)
    sources: dict[str, str] = doc(
        'Where the brand lives on each source: source name -> slug or query (sikayetvar = "getir").', factory=dict
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
            sources=tuple(sorted(self.sources.items())),
        )


@dataclass(frozen=True)
class StoreSettings:
    sqlite_path: str = doc(
        "SQLite file used when KULAK_DATABASE_URL is not set (relative to the working directory).", default="kulak.db"
    )
    database_url: str | None = doc(
        "SQLAlchemy URL of the database, e.g. postgresql+psycopg://user@host/kulak.", secret_env="KULAK_DATABASE_URL"
    )


@dataclass(frozen=True)
class SikayetvarSettings:
    enabled: bool = doc("Crawl Şikayetvar for every brand that names a sikayetvar slug.", default=True)
    base_url: str = doc(
        "Site root; point it elsewhere only for a local copy or a test server.", default="https://www.sikayetvar.com"
    )
    max_pages: int = doc("List pages read per brand and crawl, newest first.", default=3)
    list_delay: tuple[float, float] = doc(
        "Seconds to wait between list pages, drawn from [min, max].", default=(2.0, 3.5)
    )
    page_delay: tuple[float, float] = doc(
        "Seconds to wait between complaint pages, drawn from [min, max].", default=(1.2, 2.2)
    )
    backoff: tuple[float, float] = doc(
        "Seconds to back off after HTTP 429, drawn from [min, max].", default=(45.0, 75.0)
    )
    fetch_details: bool = doc(
        "Open each new complaint for its full text (list cards hold only a preview).", default=True
    )
    timeout: float = doc("Seconds before one request is given up.", default=30.0)
    user_agent: str = doc(
        "User-Agent header sent to the site.", default="Mozilla/5.0 (compatible; Kulak/0.1; social-care listener)"
    )


@dataclass(frozen=True)
class SourcesSettings:
    sikayetvar: SikayetvarSettings = doc("Şikayetvar complaint site.", factory=SikayetvarSettings)


@dataclass(frozen=True)
class SlackSettings:
    channel: str = doc("Channel that receives care alerts (name like #care or id like C0123).", default="#care-alerts")
    base_url: str = doc(
        "Slack Web API root; change only for a Slack-compatible local server.", default="https://slack.com/api/"
    )
    token: str | None = doc(
        "Bot token (xoxb-...); Slack is off without it and alerts print instead.", secret_env="KULAK_SLACK_TOKEN"
    )


@dataclass(frozen=True)
class TicketSettings:
    default_unit: str = doc("Unit a ticket goes to when no topic rule names one.", default="care")
    units: dict[str, str] = doc('Topic -> unit routing, e.g. billing = "finance".', factory=dict)
    min_sentiment_score: float = doc("A negative mention opens a ticket only at or above this confidence.", default=0.0)


@dataclass(frozen=True)
class CustomersSettings:
    file: str | None = doc("CSV or JSON file of customer records, loaded on each run (relative to the config file).")


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
    sources: SourcesSettings = doc("Sources and how politely to crawl them.", factory=SourcesSettings)
    slack: SlackSettings = doc("Slack alerts.", factory=SlackSettings)
    tickets: TicketSettings = doc("Which mentions open tickets and where they go.", factory=TicketSettings)
    customers: CustomersSettings = doc("Customer records to match mentions against.", factory=CustomersSettings)
    schedule: ScheduleSettings = doc("The built-in scheduler.", factory=ScheduleSettings)
    log: LogSettings = doc("Logging.", factory=LogSettings)
    path: str | None = field(default=None, metadata={"doc": "", "internal": True})

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
