"""The sources file (TOML): what to follow, and how politely.

Researchers list the organisations and bodies they follow as data, not code. One `[[source]]`
per organisation and publishing system; `[fetch]` holds the manners every request keeps (the
contact in the User-Agent, the rate limit) and `[[filter]]` the saved searches that get a feed of
their own. `load` checks everything before any request is made and says what is wrong where.

    [fetch]
    contact = "tutkija@example.org"      # required: named in every request's User-Agent
    rate = 1.0                           # requests per second per host (default 1)
    concurrency = 2                      # requests at once per host (default 2)

    [[source]]
    organization = "Espoo"
    system = "dynasty"                   # dynasty, cloudnc, tweb or ahjo
    base_url = "https://espoo.oncloudos.com/cgi/DREQUEST.PHP"
    bodies = ["Kaupunginhallitus"]       # or "all"
    since = "2025-09-01"                 # how far back: a date, or "90 days"

    [[filter]]
    name = "tuulivoima"
    words = ["tuulivoima", "tuulipuisto"]
"""
from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SYSTEMS = ("dynasty", "cloudnc", "tweb", "ahjo")
OUTCOMES = ("PASSED", "PASSED_VOTED", "PASSED_REVISED", "PASSED_MODIFIED", "REJECTED", "NOTED", "RETURNED",
            "REMOVED", "TABLED", "ELECTION", "UNKNOWN")
DEFAULT_SINCE_DAYS = 90
_DAYS = re.compile(r"^\s*(\d+)\s*(?:d|days?|päivää)\s*$", re.IGNORECASE)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_CONTACT = re.compile(r"^\S+@\S+\.\S+$|^https?://\S+$")


class SourcesError(ValueError):
    """The sources file cannot be used; the message names the file, the entry and the fix."""


@dataclass(frozen=True)
class Manners:
    """How every request behaves (the `[fetch]` table)."""

    contact: str
    user_agent: str = "minutes-fetch/0.1"
    rate: float = 1.0  # requests per second per host
    concurrency: int = 2  # requests at once per host
    timeout: float = 30.0  # seconds without data before a request is given up
    max_mb: float = 100.0  # size limit of one response
    max_redirects: int = 5
    retries: int = 3  # more tries after a timeout or a 5xx answer
    backoff: float = 2.0  # seconds before the first retry, doubled for each further one
    recheck_days: int = 30  # documents of meetings older than this, once downloaded, are not asked for again

    @property
    def agent(self) -> str:
        return f"{self.user_agent} (+{self.contact}; Finnish municipal minutes research)"


@dataclass(frozen=True)
class Source:
    """One `[[source]]`: an organisation's minutes in one publishing system."""

    organization: str
    system: str
    base_url: str
    bodies: tuple[str, ...] | None  # None: every body the site lists
    since: date
    documents: str = "minutes"  # dynasty: "minutes" (the PDF, else the item pages) or "items"
    api_key_env: str | None = None  # ahjo: the environment variable holding the API key
    feed: str | None = None  # tweb: the RSS feed's address relative to base_url
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return slug(self.organization)

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    def follows(self, body: str) -> bool:
        """Whether a body of the site is one the entry names (case and spacing aside)."""
        return self.bodies is None or _norm(body) in {_norm(b) for b in self.bodies}


@dataclass(frozen=True)
class SavedFilter:
    """A saved search with a feed of its own: every condition given must hold."""

    name: str
    organizations: tuple[str, ...] = ()
    bodies: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    words: tuple[str, ...] = ()  # any of them, in the title or the text

    @property
    def slug(self) -> str:
        return slug(self.name)


@dataclass(frozen=True)
class SourcesFile:
    path: Path
    manners: Manners
    sources: tuple[Source, ...]
    filters: tuple[SavedFilter, ...] = ()
    webhook: str | None = None  # POSTed the new decisions of each run, as JSON


def slug(text: str) -> str:
    """A folder name from an organisation or body: lower case ASCII, ä→a, words joined by '-'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_SLUG.sub("-", ascii_text.lower()).strip("-") or "unnamed"


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _since(value: Any, where: str, today: date) -> date:
    if value is None:
        return today - timedelta(days=DEFAULT_SINCE_DAYS)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        days = _DAYS.match(value)
        if days:
            return today - timedelta(days=int(days.group(1)))
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise SourcesError(f"{where}: since = {value!r} is neither a date (2025-09-01) nor a span (\"90 days\")")


def _strings(value: Any, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SourcesError(f"{where}: {key} must be a list of names, e.g. {key} = [\"Kaupunginhallitus\"]")
    return tuple(v.strip() for v in value)


def _number(table: dict[str, Any], key: str, default: float, where: str, kind: type = float,
            least: float = 0.0) -> Any:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < least or (
            kind is int and not float(value).is_integer()):
        raise SourcesError(f"{where}: {key} = {value!r} must be a number of at least {least:g}")
    return kind(value)


def _manners(table: dict[str, Any], path: Path) -> Manners:
    where = f"{path} [fetch]"
    contact = table.get("contact")
    if not isinstance(contact, str) or not _CONTACT.match(contact.strip()):
        raise SourcesError(f"{where}: contact must be an e-mail address or a web page, e.g. contact = "
                           "\"tutkija@example.org\": sites see it in every request and can reach you")
    unknown = set(table) - {f for f in Manners.__dataclass_fields__}
    if unknown:
        raise SourcesError(f"{where}: unknown setting(s) {sorted(unknown)}; the settings are "
                           f"{sorted(Manners.__dataclass_fields__)}")
    defaults = Manners(contact)
    return Manners(
        contact=contact.strip(), user_agent=str(table.get("user_agent", defaults.user_agent)),
        rate=_number(table, "rate", defaults.rate, where, least=0.001),
        concurrency=_number(table, "concurrency", defaults.concurrency, where, int, 1),
        timeout=_number(table, "timeout", defaults.timeout, where, least=0.01),
        max_mb=_number(table, "max_mb", defaults.max_mb, where, least=0.001),
        max_redirects=_number(table, "max_redirects", defaults.max_redirects, where, int),
        retries=_number(table, "retries", defaults.retries, where, int),
        backoff=_number(table, "backoff", defaults.backoff, where),
        recheck_days=_number(table, "recheck_days", defaults.recheck_days, where, int),
    )


_SOURCE_KEYS = {"organization", "system", "base_url", "bodies", "since", "documents", "api_key_env", "feed"}


def _source(table: dict[str, Any], n: int, path: Path, today: date) -> Source:
    where = f"{path} [[source]] #{n}" + (f" ({table['organization']})" if isinstance(table.get("organization"), str)
                                          else "")
    for key in ("organization", "system", "base_url"):
        if not isinstance(table.get(key), str) or not table[key].strip():
            raise SourcesError(f"{where}: {key} is missing; every source needs organization, system and base_url")
    system = table["system"].strip().lower()
    if system not in SYSTEMS:
        raise SourcesError(f"{where}: system = {table['system']!r} is not one of {', '.join(SYSTEMS)}")
    url = urlsplit(table["base_url"].strip())
    if url.scheme not in ("http", "https") or not url.netloc:
        raise SourcesError(f"{where}: base_url = {table['base_url']!r} must be an http(s) address")
    bodies = table.get("bodies", "all")
    if bodies != "all" and not _strings(bodies, where, "bodies"):
        raise SourcesError(f"{where}: bodies is empty; name bodies or write bodies = \"all\"")
    documents = table.get("documents", "minutes")
    if documents not in ("minutes", "items"):
        raise SourcesError(f"{where}: documents = {documents!r} must be \"minutes\" or \"items\"")
    if system == "ahjo" and not isinstance(table.get("api_key_env"), str):
        raise SourcesError(f"{where}: an ahjo source needs api_key_env, the environment variable holding the "
                           "API key, e.g. api_key_env = \"AHJO_API_KEY\"")
    if system == "tweb" and not isinstance(table.get("feed"), str):
        raise SourcesError(f"{where}: a tweb source needs feed, the address of its RSS feed of meetings (relative "
                           "to base_url or absolute): copy the RSS link of the site's meetings page")
    return Source(
        organization=table["organization"].strip(), system=system, base_url=table["base_url"].strip(),
        bodies=None if bodies == "all" else _strings(bodies, where, "bodies"),
        since=_since(table.get("since"), where, today), documents=documents,
        api_key_env=table.get("api_key_env"), feed=table.get("feed"),
        options={k: v for k, v in table.items() if k not in _SOURCE_KEYS},
    )


def _filter(table: dict[str, Any], n: int, path: Path) -> SavedFilter:
    where = f"{path} [[filter]] #{n}"
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SourcesError(f"{where}: name is missing; it names the feed (feeds/filter-<name>.atom)")
    outcomes = tuple(o.upper() for o in _strings(table.get("outcome"), where, "outcome"))
    wrong = [o for o in outcomes if o not in OUTCOMES]
    if wrong:
        raise SourcesError(f"{where}: unknown outcome(s) {wrong}; the outcomes are {', '.join(OUTCOMES)}")
    found = SavedFilter(name.strip(), _strings(table.get("organization"), where, "organization"),
                        _strings(table.get("body"), where, "body"), outcomes,
                        tuple(w.casefold() for w in _strings(table.get("words"), where, "words")))
    if not (found.organizations or found.bodies or found.outcomes or found.words):
        raise SourcesError(f"{where}: the filter {name!r} has no condition; give organization, body, outcome or words")
    return found


def load(path: Path, today: date | None = None) -> SourcesFile:
    """Read and check a sources file; SourcesError says what to change."""
    today = today or date.today()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourcesError(f"sources file {path} does not exist; start from sources.example.toml") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SourcesError(f"{path} is not valid TOML: {exc}") from None
    unknown = set(data) - {"fetch", "source", "filter", "feeds"}
    if unknown:
        raise SourcesError(f"{path}: unknown section(s) {sorted(unknown)}; use [fetch], [[source]], [[filter]], [feeds]")
    manners = _manners(data.get("fetch", {}), Path(path))
    entries = data.get("source", [])
    if not isinstance(entries, list) or not entries:
        raise SourcesError(f"{path}: no [[source]] entries; add one per organisation and system")
    sources = tuple(_source(t, n, Path(path), today) for n, t in enumerate(entries, 1))
    seen: set[tuple[str, str]] = set()
    for s in sources:
        if (s.slug, s.system) in seen:
            raise SourcesError(f"{path}: {s.organization} ({s.system}) is listed twice; merge the two entries")
        seen.add((s.slug, s.system))
    filters = tuple(_filter(t, n, Path(path)) for n, t in enumerate(data.get("filter", []), 1))
    webhook = data.get("feeds", {}).get("webhook")
    if webhook is not None and not str(webhook).startswith(("http://", "https://")):
        raise SourcesError(f"{path} [feeds]: webhook = {webhook!r} must be an http(s) address")
    return SourcesFile(Path(path), manners, sources, filters, webhook)
