"""Shared fixtures: a throw-away project (data/ + shapes/ + var/) and helpers to build it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from click.testing import CliRunner

from kg.cli import cli
from kg.config import Config, load_config
from kg.ids import Minter

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
BASE = "https://films.example.org/"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the real project data and shapes in a temporary directory."""
    shutil.copytree(REPO / "data", tmp_path / "data")
    shutil.copytree(REPO / "shapes", tmp_path / "shapes")
    return tmp_path


@pytest.fixture
def empty_project(tmp_path: Path) -> Path:
    """A project with the real shapes and an empty data/ directory."""
    (tmp_path / "data").mkdir()
    shutil.copytree(REPO / "shapes", tmp_path / "shapes")
    return tmp_path


@pytest.fixture
def bulk_project(empty_project: Path) -> Path:
    """A project of 4,000 films in a CSV file, built in 8 shards by two workers: a build long enough to stop."""
    data = empty_project / "data"
    rows = "".join(f"tt{n:07d},Film {n},{1950 + n % 60}\n" for n in range(1, 4001))
    data.joinpath("films.csv").write_text("id,title,year\n" + rows, encoding="utf-8")
    data.joinpath("films.mapping.yaml").write_text(
        "source: {key: films, name: Films, type: CreativeWork}\nfiles: films.csv\nrecord: movie\nkey: {id: id}\n"
        "fields: {name: title, production_year: year}\n", encoding="utf-8")
    (empty_project / "kg.toml").write_text("shards = 8\nbuild_workers = 2\ntask_records = 100\n", encoding="utf-8")
    return empty_project


@pytest.fixture
def config(project: Path) -> Config:
    return load_config(project)


@pytest.fixture
def minter() -> Minter:
    return Minter(BASE)


@pytest.fixture
def write() -> Callable[[Path, str, str], Path]:
    """Write a dedented YAML file into a project's data/ directory."""

    def _write(root: Path, name: str, text: str) -> Path:
        path = root / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def run_kg() -> Callable[..., tuple[int, str]]:
    """Run the kg CLI in-process; return (exit code, combined output)."""

    def _run(root: Path, *args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["--root", str(root), *args])
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output

    return _run


def log_calls(monkeypatch, owner: object, name: str, log: Path, line: Callable[..., str]) -> None:
    """Each call of `owner.name` appends `line(*args)` to `log` first (a file: the caller may be a worker)."""
    real = getattr(owner, name)

    def logged(*args, **kwargs):
        with log.open("a") as f:
            f.write(line(*args) + "\n")
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, logged)


def nquads(quads: list[ox.Quad]) -> set[str]:
    """Quads as a set of N-Quads lines: with no blank nodes, set equality is graph isomorphism."""
    return {str(q) for q in quads}


def parse_nquads(text: str) -> set[str]:
    """Expected quads written by hand as TriG, as N-Quads lines."""
    return {str(q) for q in ox.parse(text, format=ox.RdfFormat.TRIG)}


@pytest.fixture(scope="session")
def released(tmp_path_factory) -> Path:
    """A project with the real data, built once for the whole session (read-only for tests!)."""
    from kg.build.pipeline import build

    root = tmp_path_factory.mktemp("released")
    shutil.copytree(REPO / "data", root / "data")
    shutil.copytree(REPO / "shapes", root / "shapes")
    # (cut as a large graph is, though it is small: what is served is then made of several shards' pieces)
    (root / "kg.toml").write_text("shards = 8\n", encoding="utf-8")
    result = build(load_config(root))
    assert result.report.conforms and result.release_dir is not None
    return root


@pytest.fixture(scope="session")
def app(released: Path):
    from server import create_app

    app = create_app(load_config(released))
    app.config["TESTING"] = True
    return app


@pytest.fixture
def flask_client(app):
    client = app.test_client()
    client.root = "http://localhost"
    return client


class HttpResponse:
    """A requests response with the attributes of Werkzeug's test response that the tests use."""

    def __init__(self, r) -> None:
        self.status_code = r.status_code
        self.headers = r.headers
        self.data = r.raw.read(decode_content=False)
        self.mimetype = r.headers.get("Content-Type", "").split(";")[0].strip()

    def get_json(self):
        return self.json

    def get_data(self, as_text: bool = False):
        return self.data.decode("utf-8") if as_text else self.data

    @property
    def json(self):
        import json

        return json.loads(self.data)


class HttpClient:
    """The Flask test client's calling convention, over real HTTP to the live server."""

    def __init__(self, root: str) -> None:
        import requests

        self.root = root
        self.session = requests.Session()

    def open(self, path, method="GET", query_string=None, headers=None, data=None, content_type=None):
        headers = {"Accept-Encoding": "identity", **(headers or {})}
        if content_type:
            headers["Content-Type"] = content_type
        r = self.session.request(method, self.root + path, params=query_string, headers=headers, data=data,
                                 allow_redirects=False, stream=True, timeout=30)
        return HttpResponse(r)

    def get(self, path, **kw):
        return self.open(path, "GET", **kw)

    def post(self, path, **kw):
        return self.open(path, "POST", **kw)

    def head(self, path, **kw):
        return self.open(path, "HEAD", **kw)

    def options(self, path, **kw):
        return self.open(path, "OPTIONS", **kw)


@pytest.fixture(params=["flask", "http"])
def client(request, app):
    """Each server test runs twice: in-process (Flask test client) and against the real server over HTTP."""
    if request.param == "flask":
        client = app.test_client()
        client.root = "http://localhost"
        return client
    return HttpClient(request.getfixturevalue("live").url)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """`kg serve` running as a real process on 127.0.0.1."""

    def __init__(self, root: Path, port: int, env: dict[str, str] | None = None,
                 files: tuple[int, int] | None = None) -> None:
        """`files`: the server's limits of open files, soft and hard (as a machine may set them), else the test's."""
        import os
        import resource
        import subprocess
        import sys

        self.root, self.port = root, port
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.log = open(root / f"serve-{port}.log", "w")  # noqa: SIM115
        limit = None if files is None else lambda: resource.setrlimit(resource.RLIMIT_NOFILE, files)
        self.proc = subprocess.Popen([sys.executable, "-m", "kg", "--root", str(root), "serve", "--port", str(port)],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                     preexec_fn=limit)  # noqa: PLW1509 - only sets a limit
        try:
            self.wait()
        except BaseException:
            self.stop()  # never leave a half-started server behind
            raise

    def wait(self, timeout: float = 30.0) -> None:
        import time

        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kg serve exited: {(self.root / f'serve-{self.port}.log').read_text()}")
            try:
                requests.get(self.url + "/sparql", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise TimeoutError("kg serve did not start")

    def pids(self) -> list[int]:
        """The server's process and all its descendants (workers, query executors)."""
        found, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            try:
                for task in Path(f"/proc/{pid}/task").iterdir():
                    todo += [int(c) for c in (task / "children").read_text().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
        return found

    def cpu_seconds(self) -> float:
        """CPU time used so far by all the server's processes."""
        import os

        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
        return total / os.sysconf("SC_CLK_TCK")

    def memory_mib(self) -> float:
        """Proportional memory (PSS) of all the server's processes."""
        import re

        total = 0
        for pid in self.pids():
            try:
                found = re.search(r"^Pss:\s+(\d+)", Path(f"/proc/{pid}/smaps_rollup").read_text(), re.M)
                total += int(found.group(1)) if found else 0
            except (FileNotFoundError, ProcessLookupError):
                continue
        return total / 1024

    def stop(self) -> None:
        import os
        import signal

        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass  # the whole group has already gone
        except Exception:  # noqa: BLE001
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


@pytest.fixture(scope="session")
def live(released: Path):
    server = LiveServer(released, free_port())
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by chromedriver (both installed by .ci/run); loopback only."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,1600",
                # no name is ever looked up (Chromium's own services asked DNS for clients2.google.com): every
                # host but the loopback server resolves to nothing, so no packet leaves the machine
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                "--disable-features=OptimizationHints,MediaRouter,Translate,AutofillServerCommunication"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    yield driver
    driver.quit()


def entity_paths(kinds: tuple[str, ...] = ("movie", "person")) -> list[str]:
    """Paths of every entity of these kinds in data/ (for parametrising over the real data set)."""
    from kg.build.sources import read_records

    return sorted(f"{r.kind}/{r.key}" for r in read_records(REPO / "data") if r.kind in kinds)


def expand(document: dict) -> set[str]:
    """A JSON-LD document expanded offline with the shipped schema.org context, as N-Triples lines."""
    from pyld import jsonld

    from kg.jsonld import document_loader

    nquads = jsonld.to_rdf(document, {"format": "application/n-quads", "documentLoader": document_loader})
    return {str(ox.Triple(q.subject, q.predicate, q.object)) for q in ox.parse(nquads, format=ox.RdfFormat.N_QUADS)}


def rdflib_read(data: bytes, fmt, dataset: bool = False):
    """A document in a format of the table, read by rdflib; JSON-LD (and each JSON Lines line) with its schema.org
    context substituted by the shipped copy, so that rdflib's own JSON-LD parser reads it without the network."""
    import json

    import rdflib

    from kg.jsonld import offline

    graph = rdflib.Dataset() if dataset else rdflib.Graph()
    if not fmt.entities:
        graph.parse(data=data, format=fmt.rdflib)
        return graph
    lines = data.splitlines() if fmt.lines else [data]
    for line in lines:
        if line.strip():
            graph.parse(data=json.dumps(offline(json.loads(line))), format="json-ld")
    return graph


def with_labels(graph, release):
    """An entity's statements plus the type and name of every node they point to (what its JSON-LD carries)."""
    import rdflib

    out = rdflib.Graph()
    subjects = set()
    for t in graph:
        out.add(t)
        subjects.add(t[0])
    for o in {t[2] for t in graph if isinstance(t[2], rdflib.URIRef) and t[1] != rdflib.RDF.type} - subjects:
        for p in (rdflib.RDF.type, rdflib.URIRef("http://schema.org/name")):
            for v in release.objects(o, p):
                out.add((o, p, v))
    return out


def described(base_url: str, iri: str) -> set[str]:
    """What the SPARQL endpoint returns for the entity's description query, as N-Triples lines."""
    import requests

    from kg.jsonld import description_query

    r = requests.post(base_url + "/sparql", data={"query": description_query(iri)},
                      headers={"Accept": "application/n-triples"}, timeout=30)
    r.raise_for_status()
    return {str(t) for t in ox.parse(r.content, format=ox.RdfFormat.N_TRIPLES)}


HOSTILE = "</script><script>window.__pwned=1</script><!-- & \"double\" 'single' \u2028\u2029 <b>bold</b> -->"


@pytest.fixture(scope="session")
def hostile(tmp_path_factory):
    """A released project whose film has a title, name and synopsis built to break out of markup."""
    from kg.build.pipeline import build

    root = tmp_path_factory.mktemp("hostile")
    shutil.copytree(REPO / "shapes", root / "shapes")
    (root / "data").mkdir()
    quoted = HOSTILE.replace("\\", "\\\\").replace('"', '\\"').replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    (root / "data" / "hostile.yaml").write_text(f'''
sources:
  evil: {{name: "{quoted}"}}
people:
  mallory:
    name: "{quoted}"
movies:
  hostile:
    name: "{quoted}"
    claims:
      evil:
        name: "{quoted}"
        description: "{quoted} </SCRIPT > <!--"
        director: [mallory]
''', encoding="utf-8")
    result = build(load_config(root))
    assert result.release_dir is not None, [str(f) for f in result.report.findings]
    server = LiveServer(root, free_port())
    yield server
    server.stop()


@pytest.fixture(scope="session")
def crewed(tmp_path_factory):
    """A released project whose film has a long crew list by department and a billed cast (CSVs and mappings)."""
    from kg.build.pipeline import build

    root = tmp_path_factory.mktemp("crewed")
    shutil.copytree(REPO / "shapes", root / "shapes")
    (root / "data").mkdir()
    departments = ["Animation Department", "Art Department", "Production Management", "Visual Effects by"]
    rows = "".join(f"Night River,{d},Crew Member {d[0]}{n} Longname\n" for d in departments for n in range(30))
    (root / "data" / "crew.csv").write_text("movie,department,person\n" + rows, encoding="utf-8")
    (root / "data" / "crew.mapping.yaml").write_text(
        "source: {key: crew, name: The crew list, type: CreativeWork}\nfiles: crew.csv\nrecord: movie\n"
        "fields:\n  name: movie\n  production_year: {constant: 2001}\n"
        "  crew: {person: person, department: department}\n", encoding="utf-8")
    (root / "data" / "cast.csv").write_text("movie,actor,character,billing\nNight River,Ann Lee,Mara,1\n"
                                            "Night River,Bo Kim,Jun,2\n", encoding="utf-8")
    (root / "data" / "cast.mapping.yaml").write_text(
        "source: {key: cast, name: The cast list, type: CreativeWork}\nfiles: cast.csv\nrecord: movie\n"
        "fields:\n  name: movie\n  production_year: {constant: 2001}\n"
        "  cast: {actor: actor, character_name: character, billing: billing}\n", encoding="utf-8")
    result = build(load_config(root))
    assert result.release_dir is not None, [str(f) for f in result.report.findings]
    server = LiveServer(root, free_port())
    yield server
    server.stop()


@pytest.fixture(scope="session")
def strict(released):
    """The real data served with a 3 s deadline, 5 results per response and one query at a time per worker."""
    server = LiveServer(released, free_port(), {"KG_QUERY_TIMEOUT": "3", "KG_MAX_RESULTS": "5",
                                                "KG_QUERY_WORKERS": "1", "KG_CACHE_MB": "0"})
    yield server
    server.stop()


@pytest.fixture
def listener():
    """A TCP listener on 127.0.0.1 that counts the connections it receives (they must stay at zero)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.1)
    accepted: list[object] = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                accepted.append(conn)
                conn.close()
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    server.close()


# ---- remote engines the tests start: real processes on 127.0.0.1, each in a temporary directory ----

OXIGRAPH = shutil.which("oxigraph") or "oxigraph"  # the server of PyPI oxigraph, a test dependency (pyproject.toml)


class OxigraphServer:
    """`oxigraph serve` on a free loopback port, with its own store in a temporary directory; stopped by PID."""

    def __init__(self, where: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.where = where
        self.start()

    def start(self) -> None:
        self.log = open(self.where.with_suffix(".log"), "ab")  # noqa: SIM115
        self.proc = subprocess.Popen([str(OXIGRAPH), "serve", "--location", str(self.where), "--bind",
                                      f"127.0.0.1:{self.port}", "--timeout-s", "60"],
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/query", params={"query": "ASK {}"}, timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise TimeoutError(f"oxigraph serve did not start on {self.url}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.log.close()


VIRTUOSO = shutil.which("virtuoso-t") or "/usr/bin/virtuoso-t"  # Debian's virtuoso-opensource, installed by .ci/run

class Virtuoso:
    """A Virtuoso instance with its own configuration and database in a temporary directory, on loopback ports;
    stopped by PID (its package's service is never started)."""

    def __init__(self, where: Path) -> None:
        where.mkdir(parents=True)
        self.http = free_port()
        from kg.engines import virtuoso_config

        (where / "virtuoso.ini").write_text(virtuoso_config(str(where), free_port(), self.http, max_seconds=60))
        self.url = f"http://127.0.0.1:{self.http}"
        self.log = open(where / "out.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen([VIRTUOSO, "+foreground", "+configfile", str(where / "virtuoso.ini")],
                                     cwd=where, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/sparql", params={"query": "ASK {}"}, timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"virtuoso-t exited: {(where / 'virtuoso.log').read_text(errors='replace')}")
            time.sleep(0.2)
        raise TimeoutError(f"Virtuoso did not start on {self.url}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=20)
        self.log.close()
