"""Search queries built from a brand's config: its names, handles and hashtags, minus its exclusions."""

from __future__ import annotations

from store.model import Brand


def _quoted(term: str) -> str:
    term = term.replace('"', "").strip()
    return f'"{term}"' if " " in term or "-" in term else term


def terms(brand: Brand) -> list[str]:
    """What people write for the brand, each once: aliases (or the name), handles and hashtags as written."""
    seen: dict[str, str] = {}
    for term in (*(brand.aliases or (brand.name,)), *brand.handles, *brand.hashtags):
        term = term.strip()
        if term and term.casefold() not in seen:
            seen[term.casefold()] = term
    return list(seen.values())


def boolean_query(brand: Brand, *, extra: str = "", max_length: int = 512) -> str:
    """``(a OR "b c" OR @h OR #t) -"x y"`` plus ``extra`` (X, Reddit and Google News read this syntax).

    An ambiguous brand name only counts next to one of its context words, so those are required too.
    Terms are dropped from the end when the query would be longer than ``max_length``.
    """
    names = [_quoted(t) for t in terms(brand)]
    context = [_quoted(c) for c in brand.context] if brand.ambiguous else []
    excluded = " ".join(f"-{_quoted(x)}" for x in brand.exclude)
    while True:
        parts = [_group(names)]
        if context:
            parts.append(_group(context))
        if excluded:
            parts.append(excluded)
        if extra:
            parts.append(extra)
        query = " ".join(parts)
        if len(query) <= max_length or len(names) <= 1:
            return query
        names.pop()


def plain_query(brand: Brand) -> str:
    """The brand's first alias (or name), for search boxes without boolean syntax (Bluesky, Ekşi Sözlük)."""
    return (brand.aliases or (brand.name,))[0]


def hashtags(brand: Brand) -> list[str]:
    """The brand's hashtags without ``#`` (Mastodon's tag timelines), or its name squeezed into one."""
    tags = [t.lstrip("#") for t in brand.hashtags if t.lstrip("#")]
    return tags or ["".join(brand.name.split()).casefold()]


def _group(items: list[str]) -> str:
    return items[0] if len(items) == 1 else "(" + " OR ".join(items) + ")"
