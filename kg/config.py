"""Project settings: defaults, then `kg.toml`, then `KG_*` environment variables, then explicit overrides."""

from __future__ import annotations

import difflib
import os
import sys
import tomllib
import urllib.parse
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from kg.errors import Failure

DEFAULT_BASE = "https://films.example.org/"


class ConfigError(Failure, ValueError):
    """A setting is missing or malformed."""

    def lines(self) -> list[str]:
        return [f"configuration error: {self}"]


@dataclass(frozen=True)
class Config:
    """Where things are and how they are published."""

    root: Path = field(default_factory=Path.cwd)
    base_iri: str = DEFAULT_BASE
    public_url: str = ""  # where the site is served when not at its base IRI; absolute links start with it
    data_dir: Path = Path("data")
    shapes_dir: Path = Path("shapes")
    release_root: Path = Path("var")
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    query_timeout: float = 30.0  # seconds; a request's `timeout` parameter may only lower it
    max_results: int = 100_000  # rows or triples per SPARQL response; a cut result says so in its headers
    query_workers: int = 2  # executor processes per server worker (concurrent queries before 429)
    query_memory_mb: int = 1024  # heap one query executor may use; a query past it is stopped (503)
    max_response_mb: int = 64  # bytes of one SPARQL response; a larger result is refused (503)
    body_timeout: float = 10.0  # seconds for a request body to arrive whole (408 past it)
    write_timeout: float = 30.0  # seconds for a client to take each piece of a streamed answer (dropped past it)
    stop_timeout: float = 10.0  # seconds a server worker may take to finish its requests once stopped (then killed)
    access_log: bool = False  # a line per request on the server's output (method, path, status, time taken)
    license: str = "https://creativecommons.org/licenses/by-sa/4.0/"
    title: str = "kg film knowledge graph"
    keep_releases: int = 3
    cache_mb: int = 32  # per server worker; 0 turns the response cache off
    vocabularies: tuple[str, ...] = ()  # namespaces besides schema.org and kg's own whose terms sources may use
    read_outside: tuple[Path, ...] = ()  # folders outside the project root that data files may be read from
    store: str = "embedded"  # where releases are served from: "embedded" (Oxigraph in var/) or an engine kind
    slots: tuple[str, ...] = ()  # a remote store's engine instances (base URLs): at least two, one idle for loading
    engine_timeout: float = 3600.0  # seconds a remote slot may take to load a release
    shards: int = 0  # a build's statements are cut into this many shards by subject (0: by the records' count)
    task_records: int = 5_000  # records one mapping task takes (the unit of work, and of a task's memory)
    build_workers: int = 0  # processes a build maps and merges shards with; 0: one a core

    def path(self, p: Path) -> Path:
        """Resolve a configured path against the project root."""
        return p if p.is_absolute() else self.root / p

    @property
    def public_base(self) -> str:
        """The address the site is served at (the base IRI unless `public_url` says otherwise), ending in '/'."""
        return self.public_url or self.base_iri

    @property
    def data_path(self) -> Path:
        return self.path(self.data_dir)

    @property
    def shapes_path(self) -> Path:
        return self.path(self.shapes_dir)

    @property
    def releases_path(self) -> Path:
        return self.path(self.release_root)

    @property
    def readable(self) -> tuple[Path, ...]:
        """The folders data files may be read from: the project root and the `read_outside` folders, resolved."""
        return tuple(p.resolve() for p in (self.root, *map(self.path, self.read_outside)))


_ENV = {f"KG_{f.name.upper()}": f.name for f in fields(Config) if f.name != "root"}


def _namespaces(value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise ConfigError(f"setting 'vocabularies': a list of namespace IRIs, not {value!r}")
    found = tuple(i.strip() for i in items if i.strip())
    for ns in found:
        if not ns.startswith(("http://", "https://", "urn:")) or not ns.endswith(("/", "#", ":")):
            raise ConfigError(f"setting 'vocabularies': {ns!r} is not a namespace IRI (ending in '/', '#' or ':')")
    return found


def _slots(value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise ConfigError(f"setting 'slots': a list of engine URLs, not {value!r}")
    found = tuple(i.strip().rstrip("/") for i in items if i.strip())
    for url in found:
        parts = urllib.parse.urlsplit(url)
        if parts.username is not None or parts.password is not None:
            raise ConfigError("setting 'slots': an engine URL must not carry credentials; set KG_ENGINE_USER and "
                              "KG_ENGINE_PASSWORD in the environment instead")
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ConfigError(f"setting 'slots': {url!r} is not an engine's base URL (http://host:port)")
        if parts.path.rstrip("/").endswith(("/query", "/sparql", "/update", "/store")):
            raise ConfigError(f"setting 'slots': {url!r} is an endpoint of the engine; give its base URL "
                              "(http://host:port), kg adds each endpoint's path")
    if len(set(found)) != len(found):
        raise ConfigError("setting 'slots': an engine URL is listed twice")
    return found


def _folders(value: Any) -> tuple[Path, ...]:
    items = value.split(os.pathsep) if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise ConfigError(f"setting 'read_outside': a list of folders, not {value!r}")
    return tuple(Path(i.strip()) for i in items if i.strip())


RANGES: dict[str, tuple[float, float]] = {  # the numeric settings' smallest and largest sensible values
    "port": (1, 65535), "workers": (1, 64), "query_timeout": (0.1, 86400), "max_results": (1, 10**9),
    "query_workers": (1, 64), "keep_releases": (1, 1000), "cache_mb": (0, 1 << 20),
    "query_memory_mb": (64, 1 << 20), "max_response_mb": (1, 1 << 20), "body_timeout": (0.1, 3600),
    "write_timeout": (0.1, 3600), "stop_timeout": (1, 3600), "engine_timeout": (1, 86400 * 7), "shards": (0, 4096),
    "task_records": (1, 10**9), "build_workers": (0, 256),
}


def _coerce(name: str, value: Any) -> Any:
    if name == "vocabularies":
        return _namespaces(value)
    if name == "read_outside":
        return _folders(value)
    if name == "slots":
        return _slots(value)
    default = getattr(Config, name, None)
    kind: type[Any] = type(default) if default is not None else str
    if name.endswith(("_dir", "_root")):
        return Path(value)
    if kind is bool:
        if isinstance(value, bool):
            return value
        if str(value).strip().lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return str(value).strip().lower() in ("1", "true", "yes", "on")
        raise ConfigError(f"setting {name!r}: {value!r} is not true or false")
    if kind in (int, float) and (isinstance(value, bool) or (kind is int and isinstance(value, float))):
        raise ConfigError(f"setting {name!r}: {value!r} is not a whole number" if kind is int else
                          f"setting {name!r}: {value!r} is not a number")
    try:
        found: Any = kind(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name!r}: cannot read {value!r} as {kind.__name__}") from exc
    if name in RANGES and not RANGES[name][0] <= found <= RANGES[name][1]:
        low, high = RANGES[name]
        raise ConfigError(f"setting {name!r}: {value!r} is out of range ({low:g} to {high:g})")
    return found


_OTHER_ENV = frozenset({"KG_ROOT", "KG_ZYGOTE", "KG_ENGINE_USER", "KG_ENGINE_PASSWORD"})  # read where they are used
_told: set[str] = set()


def _unknown_environment() -> None:
    """A `KG_*` variable that is no setting: refused when it is one misspelt (KG_PORTT), as an unknown key of
    kg.toml is; else said once (another program's, perhaps) and ignored."""
    known = sorted(set(_ENV) | _OTHER_ENV)
    for env in sorted(k for k in os.environ if k.startswith("KG_") and k not in _ENV and k not in _OTHER_ENV):
        close = difflib.get_close_matches(env, known, n=1, cutoff=0.85)
        if close:
            raise ConfigError(f"environment variable {env} is no setting of kg: did you mean {close[0]}?")
        if env not in _told:
            _told.add(env)
            print(f"kg: ignoring the environment variable {env}: no setting of kg is called so", file=sys.stderr)


def load_config(root: Path | None = None, **overrides: Any) -> Config:
    """Read settings for the project at `root` (default: the current directory)."""
    root = (root or Path(os.environ.get("KG_ROOT", Path.cwd()))).resolve()
    values: dict[str, Any] = {}
    toml_path = root / "kg.toml"
    if toml_path.exists():
        try:
            table = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{toml_path}: {exc}") from exc
        known = {f.name for f in fields(Config)} - {"root"}
        for key, value in table.get("kg", table).items():
            if key not in known:
                close = difflib.get_close_matches(str(key), sorted(known), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise ConfigError(f"{toml_path}: unknown setting {key!r} ({hint}known: {', '.join(sorted(known))})")
            try:
                values[key] = _coerce(key, value)
            except ConfigError as exc:
                raise ConfigError(f"{toml_path}: {exc}") from exc
    for env, name in _ENV.items():
        if env in os.environ:
            values[name] = _coerce(name, os.environ[env])
    _unknown_environment()
    values.update({k: _coerce(k, v) for k, v in overrides.items() if v is not None})
    config = replace(Config(root=root), **values)
    if not config.base_iri.startswith(("http://", "https://")) or not config.base_iri.endswith("/") \
            or not _is_iri(config.base_iri):
        raise ConfigError(f"base_iri must be an http(s) IRI ending in '/': {config.base_iri!r}")
    if config.public_url and (not config.public_url.startswith(("http://", "https://"))
                              or not config.public_url.endswith("/") or not _is_iri(config.public_url)):
        raise ConfigError(f"public_url must be an http(s) URL ending in '/': {config.public_url!r}")
    if config.public_url and (urllib.parse.urlsplit(config.public_url).path != "/" or "?" in config.public_url
                              or "#" in config.public_url):
        raise ConfigError(f"public_url must be the root of a site, with no path, query or fragment: "
                          f"{config.public_url!r}; the server writes its pages' links from / (/movie/..., /sparql), "
                          "so under a path they would lead away from the site: serve it at a host of its own "
                          "(https://kg.example.org/) and set public_url to that")
    if not _is_iri(config.license):
        raise ConfigError(f"setting 'license': {config.license!r} is not an absolute IRI (the licence's address, "
                          "such as https://creativecommons.org/licenses/by/4.0/)")
    _check_store(config)
    return config


def _is_iri(text: str) -> bool:
    """Whether the text is an absolute IRI (what the release's statements can name)."""
    import pyoxigraph as ox

    try:
        ox.NamedNode(text)
    except ValueError:
        return False
    return ":" in text


def _check_store(config: Config) -> None:
    """A remote store needs a known engine kind and at least two slots; an embedded one none."""
    from kg.engines import KINDS

    if config.store not in KINDS:
        raise ConfigError(f"setting 'store': {config.store!r} is not a store kg publishes into "
                          f"(one of: {', '.join(KINDS)})")
    if config.store == "embedded" and config.slots:
        raise ConfigError("setting 'slots': only a remote store has slots (store is 'embedded')")
    if config.store != "embedded" and len(config.slots) < 2:
        raise ConfigError(f"setting 'slots': the remote store ({config.store}) needs at least two slots (engine "
                          "URLs), one to serve the current release while the next one loads into another")
