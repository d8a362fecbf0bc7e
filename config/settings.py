"""The typed, frozen settings tree; every field carries the one line that documents it."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, get_args, get_origin, get_type_hints

from store.errors import ConfigError
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
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # business_days, Monday first


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
    signing_secret: str | None = doc(
        "Signing secret of the Slack app: buttons and /kulak are refused without it.",
        secret_env="KULAK_SLACK_SIGNING_SECRET",
    )
    ops_channel: str = doc("Channel for operators: sources that keep failing or fall silent.", default="#kulak-ops")


@dataclass(frozen=True)
class TicketSettings:
    default_unit: str = doc("Unit a case goes to when its route names none.", default="care")
    min_sentiment_score: float = doc("A negative mention opens a case only at or above this confidence.", default=0.0)
    needs_reply: bool = doc(
        "Questions and sales leads that need an answer open cases too, not only complaints.", default=True
    )


@dataclass(frozen=True)
class RouteSettings:
    """One ``[[routes]]`` table: conditions (empty = any) and where a matching case goes. First match wins."""

    name: str = doc("Name of the route, shown on the case.", default="")
    brands: tuple[str, ...] = doc("Brand names it applies to.", factory=tuple)
    topics: tuple[str, ...] = doc("Topic labels; any one of the case's topics may match.", factory=tuple)
    intents: tuple[str, ...] = doc("Intents: complaint, question, suggestion, praise, sales, other.", factory=tuple)
    urgency: tuple[str, ...] = doc("Urgency levels: low, normal, high, critical.", factory=tuple)
    languages: tuple[str, ...] = doc('Languages: "tr", "en".', factory=tuple)
    sources: tuple[str, ...] = doc("Source names (from [[sources]]).", factory=tuple)
    vip: bool | None = doc("true: VIP customers only; false: everyone but VIPs; unset: anyone.")
    segments: tuple[str, ...] = doc("Segments of the matched customer.", factory=tuple)
    channel: str = doc('Slack channel for its alerts ("" = slack.channel).', default="")
    alert: bool = doc("false: open the case (and the helpdesk ticket) without a Slack alert.", default=True)
    helpdesk: str = doc('The [[helpdesks]] name its cases are opened in ("" = none).', default="")
    queue: str = doc("Group or queue at the helpdesk (Zendesk group id, Freshdesk group id).", default="")
    unit: str = doc('Unit the case is routed to ("" = tickets.default_unit).', default="")
    priority: str = doc('Priority low, normal, high or urgent ("" = from the urgency).', default="")
    sla: str = doc('First-response target, e.g. "2h" ("" = sla.first_response by priority).', default="")


@dataclass(frozen=True)
class HelpdeskSettings:
    """One ``[[helpdesks]]`` table; keys not listed here are the type's own and land in ``options``."""

    name: str = doc("Unique name routes use to send cases here.", default="")
    type: str = doc("What it is: zendesk, freshdesk, jira, webhook.", default="")
    enabled: bool = doc("Set false to keep the table but send nothing.", default=True)
    base_url: str = doc("Root of your helpdesk, e.g. https://acme.zendesk.com.", default="")
    timeout: float = doc("Seconds before one request is given up.", default=15.0)
    options: dict[str, Any] = field(default_factory=dict, metadata={"doc": "", "internal": True, "extra": True})


@dataclass(frozen=True)
class SlaSettings:
    timezone: str = doc(
        "Time zone of business hours, quiet hours and the dates people read.", default="Europe/Istanbul"
    )
    business_hours: tuple[str, str] = doc("Start and end of the working day.", default=("09:00", "18:00"))
    business_days: tuple[str, ...] = doc(
        "Working days: mon tue wed thu fri sat sun.", factory=lambda: ("mon", "tue", "wed", "thu", "fri")
    )
    holidays: tuple[str, ...] = doc('Days off, e.g. "2026-10-29".', factory=tuple)
    first_response: dict[str, str] = doc(
        "Priority -> first-response target in business time.",
        factory=lambda: {"urgent": "1h", "high": "4h", "normal": "8h", "low": "24h"},
    )
    around_the_clock: tuple[str, ...] = doc(
        "Priorities whose clock runs outside business hours too.", factory=lambda: ("urgent",)
    )
    reply_windows: dict[str, str] = doc(
        "Source type -> the brand's public reply window, counted from publication (shown and alerted on).",
        factory=lambda: {"sikayetvar": "48h"},
    )
    close_after: str = doc("A resolved case closes after this long.", default="3d")


@dataclass(frozen=True)
class AlertSettings:
    budget: int = doc(
        "Most alerts a channel gets in an hour; past it, alerts below high wait for the digest.", default=30
    )
    burst_window: str = doc(
        "New cases like an alert of this long ago (brand, topic, intent, channel) join it as a count.", default="30m"
    )
    quiet_hours: tuple[str, ...] = doc('Quiet hours, e.g. ["22:00", "08:00"]; empty means none.', factory=tuple)
    quiet_min_priority: str = doc("During quiet hours only this priority and above goes out.", default="high")
    suggest_replies: bool = doc("Show a suggested reply in each alert.", default=True)


@dataclass(frozen=True)
class ReplySettings:
    templates: str | None = doc(
        "Directory of your own reply templates (relative to the config file); a file there replaces the shipped"
        " one of the same name."
    )


@dataclass(frozen=True)
class WebSettings:
    host: str = doc("Address `kulak serve` listens on for Slack actions and /kulak.", default="127.0.0.1")
    port: int = doc("Port of that endpoint; 0 switches it off.", default=8787)


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
        "Mentions of the same customer or author within this many hours join their active case.", default=72
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
    stage_interval: str = doc(
        "How often each stage of `kulak serve` (analyse, match, route, deliver) looks for work; a stage that hands"
        " work on wakes the next one at once, so this only bounds how late stray work is picked up.",
        default="20s",
    )
    check_interval: str = doc(
        "How often `kulak serve` checks case clocks (SLA breaches, closing resolved cases), source health and the"
        " customer file.",
        default="1m",
    )
    jitter: float = doc(
        "Each source+brand crawl starts up to this fraction of its interval late (at most 5 minutes), so the crawls"
        " of one site do not all start at once.",
        default=0.1,
    )
    misfire_grace: str = doc(
        "A job that could not start on time (the machine slept, the service was down) still runs when it is at most"
        " this late; several missed runs of a job become one.",
        default="10m",
    )
    purge_at: str = doc("Time of day (HH:MM, in `sla.timezone`) of the daily retention purge.", default="03:30")
    worker: str = doc(
        "This process's name: its schedule is kept in the database table kulak_jobs_<worker>. Give each machine that"
        " runs `kulak serve` on one PostgreSQL its own (KULAK_SCHEDULE__WORKER).",
        default="main",
    )
    threads: int = doc("How many jobs one `kulak serve` process runs at once.", default=4)
    stop_timeout: str = doc(
        "On SIGTERM or SIGINT, how long jobs in flight get to finish before `kulak serve` exits anyway (what they"
        " had not committed is rolled back and done again by the next run).",
        default="30s",
    )


LANGUAGES = ("tr", "en")
_CLOCK = r"([01]\d|2[0-3]):([0-5]\d)"
#: How each digest's send time is written: "08:30", "mon 08:30", "1 08:30" (day of month), "01-02 08:30".
SEND_TIME_FORMS = {
    "day": re.compile(_CLOCK),
    "week": re.compile(rf"(mon|tue|wed|thu|fri|sat|sun) {_CLOCK}"),
    "month": re.compile(rf"([1-9]|1\d|2[0-8]) {_CLOCK}"),
    "year": re.compile(rf"(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]) {_CLOCK}"),
}
SEND_TIME_EXAMPLES = {"day": "08:30", "week": "mon 08:30", "month": "1 08:30", "year": "01-02 08:30"}
SEND_TIME_KEYS = {"day": "daily_at", "week": "weekly_at", "month": "monthly_at", "year": "yearly_at"}


def check_send_time(kind: str, spec: str) -> None:
    """ValueError naming the expected form when ``spec`` is not a send time of a ``kind`` digest ("" is off)."""
    if spec and not SEND_TIME_FORMS[kind].fullmatch(spec.strip().lower()):
        raise ValueError(f'expected a time like "{SEND_TIME_EXAMPLES[kind]}" or "" for off, got {spec[:30]!r}')


@dataclass(frozen=True)
class DigestSettings:
    language: str = doc('Language of digests and crisis alerts: "tr" or "en".', default="tr")
    brands: tuple[str, ...] = doc(
        "Brands that get a digest (from [[brands]]); empty means every non-competitor.", factory=tuple
    )
    channel: str = doc(
        'Managers\' Slack channel: digests and crisis alerts go there ("" = no Slack digest).', default="#care-managers"
    )
    email_to: tuple[str, ...] = doc("Addresses that get each digest by e-mail (needs [smtp] host).", factory=tuple)
    out_dir: str | None = doc(
        "Directory the HTML report of each digest is written to (relative to the config file); unset writes none."
    )
    daily_at: str = doc(
        'When the daily digest of the day before is made (HH:MM, sla.timezone; "" = off).', default="08:30"
    )
    weekly_at: str = doc(
        'When the weekly digest of last Monday-Sunday is made ("mon 08:30"; "" = off).', default="mon 08:45"
    )
    monthly_at: str = doc(
        'When the monthly digest of last month is made (day of month and time, "1 09:00"; "" = off).', default="1 09:00"
    )
    yearly_at: str = doc(
        'When the yearly digest of last year is made (month-day and time, "01-02 09:30"; "" = off).', default=""
    )
    top: int = doc("Rows in each top list (topics, rising topics, urgent cases, agents).", default=5)

    def send_times(self) -> dict[str, str]:
        """Period kind -> its send time ("" = off): day, week, month, year."""
        return {kind: getattr(self, key) for kind, key in SEND_TIME_KEYS.items()}


@dataclass(frozen=True)
class SmtpSettings:
    host: str = doc('SMTP server digests are e-mailed through ("" = no e-mail).', default="")
    port: int = doc("Its port: 587 for STARTTLS, 465 for TLS from the start, 25 for neither.", default=587)
    starttls: bool = doc(
        "Upgrade the connection with STARTTLS before logging in (refuses to send without it).", default=True
    )
    ssl: bool = doc("TLS from the first byte (port 465) instead of STARTTLS.", default=False)
    username: str = doc('Login name ("" = no login).', default="")
    password: str | None = doc("Password of that login.", secret_env="KULAK_SMTP_PASSWORD")
    sender: str = doc("From address of digest e-mails.", default="kulak@localhost")
    ca_file: str | None = doc(
        "CA certificates to trust for the server (relative to the config file); system ones otherwise."
    )
    timeout: float = doc("Seconds before the server is given up for this try.", default=30.0)


@dataclass(frozen=True)
class CrisisSettings:
    enabled: bool = doc("Look for spikes and alert the managers' channel.", default=True)
    channel: str = doc('Slack channel of crisis alerts ("" = digests.channel).', default="")
    interval: str = doc("How often `kulak serve` looks for spikes.", default="5m")
    window: str = doc("The stretch of time that is compared with the baseline, e.g. the last hour.", default="1h")
    baseline_weeks: int = doc(
        "The same window of the same weekday in this many earlier weeks makes the baseline.", default=4
    )
    min_mentions: int = doc("A window with fewer mentions (or negatives) than this is never a crisis.", default=10)
    significance: float = doc(
        "How unlikely the window must be under the baseline (Poisson for volume, binomial for the negative share).",
        default=0.001,
    )
    calm_for: str = doc("An incident closes once its figures stay within normal this long.", default="2h")
    examples: int = doc("Example mentions shown in a crisis alert.", default=3)


KEEP_FOREVER = "off"


@dataclass(frozen=True)
class RetentionSettings:
    """How long each kind of data is kept (KVKK storage limitation); "off" keeps it forever."""

    raw_payloads: str = doc(
        "A mention's raw source payload is emptied after this long (30 days: enough to re-read a post a parser"
        ' got wrong; the text and labels stay). "off" keeps it.',
        default="30d",
    )
    mention_texts: str = doc(
        "A mention's text, title, author, handle, URL, payload, masked text and near-duplicate fingerprints are"
        " emptied after this long; its status, labels and brands stay for reports (180 days: a season of repeat"
        " complaints and retraining data). Mentions of a case keep theirs until it has been closed this long.",
        default="180d",
    )
    closed_cases: str = doc(
        "Cases closed longer ago than this are deleted with their timeline and outbox rows (365 days: a customer's"
        " earlier problems stay in sight for a year, and a late question about how one was handled can be answered).",
        default="365d",
    )
    deliveries: str = doc(
        "Sent or failed outbox rows older than this are deleted unless their case is not closed, or closed more"
        " recently (90 days: an alert is only needed while it may be resent or updated).",
        default="90d",
    )

    def __post_init__(self) -> None:
        # Checked here, as the loader builds the section, so a typo fails at start naming the key.
        for kind in RETENTION_KINDS:
            self.keep(kind)

    def keep(self, kind: str) -> float | None:
        """Seconds ``kind`` is kept, or None to keep it forever; ConfigError naming the key if unreadable."""
        text = getattr(self, kind)
        if text.strip().lower() == KEEP_FOREVER:
            return None
        try:
            seconds = parse_duration(text)
        except ValueError:
            seconds = 0.0
        if seconds <= 0:
            expected = f'expected a duration like "180d" or "12h", or "{KEEP_FOREVER}" to keep forever; got {text!r}'
            raise ConfigError(expected, key=f"retention.{kind}")
        return seconds


RETENTION_KINDS = ("raw_payloads", "mention_texts", "closed_cases", "deliveries")


@dataclass(frozen=True)
class LogSettings:
    level: str = doc("Log level: DEBUG, INFO, WARNING or ERROR.", default="INFO")
    format: str = doc(
        'Log format: "text" (one readable line per event) or "json" (one JSON object per line).', default="text"
    )


@dataclass(frozen=True)
class Settings:
    brands: tuple[BrandSettings, ...] = doc("The brands to listen for ([[brands]] tables).", factory=tuple)
    store: StoreSettings = doc("Database.", factory=StoreSettings)
    sources: tuple[SourceSettings, ...] = doc("Where mentions come from ([[sources]] tables).", factory=tuple)
    crawl: CrawlSettings = doc("How politely every source is crawled.", factory=CrawlSettings)
    slack: SlackSettings = doc("Slack alerts.", factory=SlackSettings)
    tickets: TicketSettings = doc("Which mentions open cases.", factory=TicketSettings)
    routes: tuple[RouteSettings, ...] = doc("Where cases go ([[routes]] tables, first match wins).", factory=tuple)
    helpdesks: tuple[HelpdeskSettings, ...] = doc("Helpdesks cases are opened in ([[helpdesks]]).", factory=tuple)
    sla: SlaSettings = doc("Service levels: business hours and response targets.", factory=SlaSettings)
    alerts: AlertSettings = doc("How many alerts a channel gets, and when.", factory=AlertSettings)
    replies: ReplySettings = doc("Suggested replies.", factory=ReplySettings)
    web: WebSettings = doc("The HTTP endpoint of `kulak serve`.", factory=WebSettings)
    customers: CustomersSettings = doc("Customer records to match mentions against.", factory=CustomersSettings)
    cases: CaseSettings = doc("One case per problem: which mentions join an open case.", factory=CaseSettings)
    analysis: AnalysisSettings = doc("How mentions are analysed.", factory=AnalysisSettings)
    schedule: ScheduleSettings = doc("The built-in scheduler.", factory=ScheduleSettings)
    retention: RetentionSettings = doc("How long each kind of data is kept (KVKK).", factory=RetentionSettings)
    log: LogSettings = doc("Logging.", factory=LogSettings)
    digests: DigestSettings = doc("Reputation digests for managers.", factory=DigestSettings)
    smtp: SmtpSettings = doc("E-mail for digests.", factory=SmtpSettings)
    crisis: CrisisSettings = doc("Crisis alerts: spikes against a baseline.", factory=CrisisSettings)
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
