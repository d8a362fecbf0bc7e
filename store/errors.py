"""One error tree for Kulak, so callers can catch by meaning instead of by library.

    KulakError
    ├── ConfigError          a setting is missing, mistyped or contradictory (file, key, expectation)
    ├── NotConfigured        a component switched itself off; the message says why
    ├── StoreError           the database refused or failed an operation
    │   ├── MigrationError   the schema could not be brought up to date
    │   └── LockHeld         another run holds the run lock (cron runs overlapping)
    ├── SourceError          a source could not be read (network, markup, status)
    │   ├── SourceBlocked    the source answered 403 / a block page (or robots.txt said no)
    │   ├── SourceRateLimited  the source answered 429; ``retry_after`` seconds if known
    │   └── SourceParseError the source answered but nobody could read it (not JSON, unknown markup, too big)
    ├── InputError           a record given to a stage (JSON line, CSV row) is malformed
    ├── AnalysisError        the NLP chain failed on one mention
    └── DeliveryError        an outbox delivery (Slack, helpdesk, e-mail) failed
        └── DeliveryRejected the far side answered and said no (bad channel, bad payload): retrying will not help
            └── CredentialsRejected  it refused Kulak's token: nothing goes on that channel until a person fixes it

Third-party errors are translated where they enter (``raise SourceError(...) from exc``); a failure on
one item marks that item FAILED and the job goes on.
"""

from __future__ import annotations

from collections.abc import Mapping


class KulakError(Exception):
    """Root of every error Kulak raises on purpose."""


class ConfigError(KulakError):
    """A setting is wrong; the message names the file, the key and what was expected."""

    def __init__(self, message: str, *, source: str = "", key: str = "") -> None:
        self.source = source
        self.key = key
        where = ": ".join(part for part in (source, key) if part)
        super().__init__(f"{where}: {message}" if where else message)


class NotConfigured(KulakError):
    """A component is off because its settings say so (or lack what it needs)."""


class StoreError(KulakError):
    """The database failed or refused an operation."""


class MigrationError(StoreError):
    """The schema could not be upgraded."""


class LockHeld(StoreError):
    """Another pipeline run holds the database's run lock; this one should not start."""


class SourceError(KulakError):
    """A source could not be read."""

    #: What the failed crawl had counted (requests sent, retries), when known: its run row keeps the requests.
    counts: Mapping[str, int] | None = None


class SourceBlocked(SourceError):
    """The source refused us (HTTP 403 or a block page)."""


class SourceParseError(SourceError):
    """The source answered, but the page could not be read: not JSON, markup no parser knows, too large."""


class SourceRateLimited(SourceError):
    """The source told us to slow down (HTTP 429)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class InputError(KulakError):
    """A record handed to Kulak is malformed; the message says which and why."""


class AnalysisError(KulakError):
    """The analysis of one mention failed."""


class DeliveryError(KulakError):
    """A delivery could not be made; it may succeed on retry (after ``retry_after`` seconds, when the far side
    said how long)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class DeliveryRejected(DeliveryError):
    """The far side refused the delivery for good (bad channel, bad credentials, bad payload)."""


class CredentialsRejected(DeliveryRejected):
    """The far side refused Kulak's credentials (a revoked or expired token): no delivery on that channel can go
    until a person installs working ones, so the outbox holds the channel's deliveries instead of failing them."""
