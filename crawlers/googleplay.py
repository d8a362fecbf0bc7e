"""Google Play reviews of a brand's own apps, from the Play Developer API with the app owner's access token."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from config.settings import doc
from crawlers.api import ApiSource
from crawlers.base import FETCHED, PARSE_FAILURES, CrawlResult, cursor_of, register, with_cursor
from crawlers.http import PoliteClient, check_status, without_credentials
from store.errors import NotConfigured, SourceBlocked, SourceError, SourceParseError, SourceRateLimited
from store.model import Brand, CrawlState, RawMention

MAX_SECONDS = 253_402_300_800  # 10000-01-01T00:00:00Z, the first second a datetime cannot hold


@dataclass
class _Walk:
    """One package's reviews newer than last time, the newest second among them and the ids at that second."""

    mentions: list[RawMention] = field(default_factory=list)
    seconds: int | None = None
    ids: list[str] = field(default_factory=list)
    complete: bool = False


@register
class GooglePlaySource(ApiSource):
    """Google Play reviews of the brand's own apps, from the developer API; needs the app owner's token.

    Reads each package's reviews, newest first, until the last one seen (one request when none is new)."""

    kind: ClassVar[str] = "googleplay"
    default_base_url: ClassVar[str] = "https://androidpublisher.googleapis.com"

    @dataclass(frozen=True)
    class Options:
        packages: dict[str, tuple[str, ...]] = doc(
            'Android package names of each brand\'s own apps, by brand name (e.g. ["com.kuzeytelekom.app"]).',
            factory=dict,
            per_brand=True,
        )
        token_env: str = doc(
            "Environment variable holding an OAuth access token of a service account with access to the apps.",
            default="KULAK_GOOGLEPLAY_TOKEN",
        )

    secrets: ClassVar[Mapping[str, str]] = {"token": "token_env"}
    secret_label: ClassVar[str] = "Google Play"
    ends_crawl: ClassVar[tuple[type[SourceError], ...]] = (SourceBlocked, SourceRateLimited)
    options: Options
    token: str

    def has_key_for(self, brand: Brand) -> bool:
        return bool(self.options.packages.get(brand.name))

    def collect(self, brand: Brand, state: CrawlState | None) -> CrawlResult:
        if not self.token:
            raise NotConfigured(f"source {self.name!r} needs {self.options.token_env} set in the environment")
        state = self.state_for(brand, state)
        places: dict[str, Any] = dict(cursor_of(state).get("packages") or {})
        stats: Counter[str] = Counter()
        mentions: list[RawMention] = []
        failures = self.failures(stats)
        packages = self.options.packages.get(brand.name, ())
        with self.open_client(stats) as client:
            for package in packages:
                place = places.get(package)
                try:
                    walk = self._walk(client, brand, package, place if isinstance(place, Mapping) else {}, stats)
                except SourceError as exc:  # this package failed; the others may not
                    failures.add(exc, f"Google Play reviews of {package}")
                    continue
                mentions.extend(walk.mentions)
                if walk.complete and walk.seconds is not None:  # a partial walk is read again next time
                    places[package] = {"seconds": walk.seconds, "ids": walk.ids}
        failures.raise_if_all(len(packages))
        mentions.sort(key=lambda m: m.published_at or datetime.min.replace(tzinfo=UTC), reverse=True)
        new_state = with_cursor(state, {"packages": places})
        newest = mentions[0] if mentions else None
        if newest and (state.last_seen_at is None or (newest.published_at or state.last_seen_at) > state.last_seen_at):
            new_state = replace(new_state, last_seen_id=newest.external_id, last_seen_at=newest.published_at)
        return self.result(mentions, new_state, +stats)

    def _walk(
        self, client: PoliteClient, brand: Brand, package: str, place: Mapping[str, Any], stats: Counter[str]
    ) -> _Walk:
        """Pages of one package's reviews until one modified before the last seen second, or the last page."""
        last = int(place["seconds"]) if str(place.get("seconds", "")).isdigit() else None
        known = {str(x) for x in place.get("ids") or []}
        walk = _Walk(seconds=last, ids=sorted(known))
        url = self.config.url(f"/androidpublisher/v3/applications/{quote(package)}/reviews")
        token: str | None = None
        for page in range(1, self.config.max_pages + 1):
            try:
                data = self._page(client, url, package, token)
                reviews = data.get("reviews") or []
                if not isinstance(reviews, list):
                    raise SourceParseError(f"reviews of {package} is not a list")
            except SourceError as exc:
                self.page_failed(exc, first=page == 1, what=f"Google Play reviews of {package}", stats=stats)
                return walk
            for review in reviews:
                stats[FETCHED] += 1
                found = self._mention(brand, package, review)
                if found is None:
                    stats[PARSE_FAILURES] += 1
                    continue
                mention, seconds = found
                if last is not None and (seconds < last or (seconds == last and mention.external_id in known)):
                    stats["known"] += 1
                    if seconds < last:  # newest first: everything from here on was read last time
                        walk.complete = True
                        return walk
                    continue
                if walk.seconds is None or seconds > walk.seconds:
                    walk.seconds, walk.ids = seconds, []
                if seconds == walk.seconds:
                    walk.ids.append(mention.external_id)
                walk.mentions.append(mention)
            pagination = data.get("tokenPagination")
            token = pagination.get("nextPageToken") if isinstance(pagination, Mapping) else None
            if not token:
                break
        walk.complete = True
        return walk

    def _page(self, client: PoliteClient, url: str, package: str, token: str | None) -> Mapping[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        response = client.get(url, params={"token": token} if token else None, headers=headers)
        if response.status_code == 401:
            raise SourceBlocked(
                f"Google Play refused the access token for {package} (HTTP 401{_google_error(response)}): it has "
                f"expired or was revoked; put a fresh service-account access token in {self.options.token_env}"
            )
        if response.status_code == 403:
            raise SourceBlocked(
                f"Google Play denied access to {package} (HTTP 403{_google_error(response)}): give the service "
                "account access to this app in Play Console"
            )
        check_status(response, f"Google Play reviews of {package}")
        data = client.json(response)
        if not isinstance(data, Mapping):
            raise SourceParseError(f"reviews of {package}: the answer is not a JSON object")
        return data

    def _mention(self, brand: Brand, package: str, review: Any) -> tuple[RawMention, int] | None:
        """A review as a mention and its lastModified second; None when id, text or time is missing."""
        comments = review.get("comments") if isinstance(review, Mapping) else None
        if not isinstance(comments, list):
            return None
        user = _part(comments, "userComment")
        reply = _part(comments, "developerComment")
        seconds = _seconds(user.get("lastModified"))
        text = str(user.get("text") or "")
        rid = str(review.get("reviewId") or "").strip()
        if not isinstance(review.get("reviewId"), str) or not rid or not text.strip() or seconds is None:
            return None
        title, _, body = text.partition("\t") if "\t" in text else ("", "", text)  # Play joins title and body
        language = str(user.get("reviewerLanguage") or "")
        payload: dict[str, Any] = {
            "package": package,
            "rating": user.get("starRating"),
            "app_version": user.get("appVersionName"),
            "reviewer_language": language or None,
        }
        if reply.get("text"):
            replied = _seconds(reply.get("lastModified"))
            payload["reply"] = str(reply["text"])
            payload["replied_at"] = datetime.fromtimestamp(replied, UTC).isoformat() if replied is not None else None
        mention = self.mention(
            brand,
            rid,
            f"https://play.google.com/store/apps/details?id={quote(package)}&reviewId={quote(rid)}",
            body.strip() or title.strip(),
            title=title.strip() if body.strip() else "",
            author=str(review.get("authorName") or ""),
            language=language.replace("-", "_").split("_")[0].lower() or None,
            published_at=datetime.fromtimestamp(seconds, UTC),
            payload=payload,
        )
        return mention, seconds


def _part(comments: list[Any], key: str) -> Mapping[str, Any]:
    """The first ``{key: {...}}`` among a review's comments (userComment, developerComment); {} when none."""
    for comment in comments:
        if isinstance(comment, Mapping) and isinstance(comment.get(key), Mapping):
            return comment[key]  # type: ignore[no-any-return]
    return {}


def _seconds(stamp: Any) -> int | None:
    """A protobuf Timestamp's seconds; JSON carries int64 as a string."""
    value = stamp.get("seconds") if isinstance(stamp, Mapping) else None
    if isinstance(value, str) and value.isascii() and value.isdigit():  # "²".isdigit() is true, int("²") fails
        value = int(value)
    # bool is an int too; beyond the year 9999 a datetime cannot hold the second
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < MAX_SECONDS else None


def _google_error(response: httpx.Response) -> str:
    """``: message`` from a Google API error body ``{"error": {"message": ...}}``, if there is one."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError, RecursionError):
        return ""
    message = error.get("message") if isinstance(error, Mapping) else None
    return f": {without_credentials(str(message), response)[:200]}" if message else ""
