"""Load test: the lead's and the manager's pages served as in production, p50 / p95 under load.

    python bench/load_test.py [--database-url postgres://postgres@127.0.0.1:5432/ror_chain]
                              [--users 1,8] [--seconds 60] [--gunicorn-workers 4]

Runs `collectstatic` into a temporary STATIC_ROOT and starts `gunicorn config.wsgi --workers W`
on 127.0.0.1 (a free port) with the README's production settings: DEBUG off, a SECRET_KEY,
ALLOWED_HOSTS=127.0.0.1, WhiteNoise's hashed static files, a shared Redis cache (CACHE_URL) and a
broker (CELERY_BROKER_URL), so the slow analyses stay off the request path as deployed. Two
settings differ from an HTTPS deployment, for plain HTTP on the loopback: SECURE_COOKIES=false
(else the client could not send its session cookie back) and API_THROTTLE_RATE raised (else the
manager's 2,000 API requests an hour would answer 429 during the test). No Celery worker runs:
an analysis a page asks for stays queued (on Redis database 12, emptied at the end) and the
page shows it as being computed. The only writes to the chain are the two logins' (session,
last login, django-axes' log) and the manager's plan marked read once by /week/.

A bounded client (threads and `requests`, only to 127.0.0.1) signs in once as the lead and once
as the manager through the login form with its CSRF token (a refused login stops the test before
django-axes counts a second failure), then for each --users U runs U closed-loop users for
--seconds: each user requests every page of the mix in a shuffled order, again and again, with no
think time (after --warmup seconds with one user per gunicorn worker, not counted). Prints per
page count, errors, p50, p95 and max in milliseconds, the ratio of each p50 to the baseline of
the same phase, GET /health/ (a `SELECT 1`, a cache and a broker round trip), and the cores used
by gunicorn, by the PostgreSQL backends on that database (anyone else reading it counts too) and
by the whole machine (any process), with how many gunicorn workers waited for a core on average.
"""

import argparse
import contextlib
import math
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

import requests

ROOT = Path(__file__).resolve().parent.parent
REDIS = "redis://127.0.0.1:6379/12"
# (name, who, path); the static path is read from the login page (WhiteNoise's hashed name).
PAGES = [
    ("baseline: /health/", None, "/health/"),
    ("login page", None, "/accounts/login/"),
    ("static CSS (WhiteNoise)", None, None),
    ("region page r1 (lead)", "lead", "/regions/r1/"),
    ("store page C00001 (lead)", "lead", "/stores/C00001/"),
    ("manager's week", "manager", "/week/"),
    ("manager's goals", "manager", "/goals/"),
    ("API plans (manager)", "manager", "/api/v1/plans/"),
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/ror_chain", help="read only"
    )
    parser.add_argument("--users", default="1,8", help="concurrent users, one phase each")
    parser.add_argument("--seconds", type=float, default=60, help="per phase")
    parser.add_argument("--gunicorn-workers", type=int, default=4, help="as the README says")
    parser.add_argument("--lead", default="lead.r1")
    parser.add_argument("--manager", default="m00001")
    parser.add_argument("--password", default="chain-2026")
    parser.add_argument("--timeout", type=float, default=120, help="per request")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--warmup", type=float, default=15, help="seconds of load before the phases, not counted"
    )
    return parser.parse_args()


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(args, static_root: Path) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": args.database_url,
        "STATIC_ROOT": str(static_root),
        "CACHE_URL": REDIS,
        "CELERY_BROKER_URL": REDIS,
        # Plain HTTP on the loopback: the session cookie must come back without TLS.
        "SECURE_COOKIES": "false",
        "API_THROTTLE_RATE": "1000000/hour",
        "LOG_LEVEL": "WARNING",
    }


def start_gunicorn(args, env: dict, log: Path) -> tuple[subprocess.Popen, str]:
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "config.wsgi"]
    command += ["--workers", str(args.gunicorn_workers), "--bind", f"127.0.0.1:{port}"]
    with log.open("wb") as out:
        server = subprocess.Popen(  # noqa: S603 (our own command line)
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}/health/", timeout=5).status_code == 200:
                return server, url
        if server.poll() is not None or time.monotonic() > deadline:
            stop(server)
            raise RuntimeError(f"gunicorn did not come up:\n{log.read_text(errors='replace')}")
        time.sleep(0.2)


def stop(server: subprocess.Popen) -> None:
    """SIGTERM to gunicorn's process group (arbiter and workers), SIGKILL after 15 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
    server.wait(timeout=5)


def redis_db():
    import redis

    return redis.Redis.from_url(REDIS)


# --------------------------------------------------------------------------- CPU accounting


class CpuUse(NamedTuple):
    machine: float  # share of the machine's CPU time that was busy (any process)
    group: float  # CPU seconds used by the process groups measured (gunicorn, the workers)
    waited: float  # seconds their threads were runnable but waited for a CPU (run queue)
    database: float  # CPU seconds used by the PostgreSQL backends on the database


class CpuMeter:
    """CPU used from now on by these process groups (with the children they reaped) and the time
    their threads waited for a CPU, by the PostgreSQL backends serving `database` (sampled: one
    that exits between samples loses the last interval), and the machine's busy share."""

    def __init__(self, groups: set[int], database: str) -> None:
        self.groups, self.database = groups, f" {database} ".encode()
        self.begin = self._read()
        self.backends = dict(self.begin[-1])

    def _read(self) -> tuple[int, int, int, int, dict[int, int]]:
        """(group ticks, group run-queue ns, machine idle and total ticks, ticks per backend)."""
        ticks, waited, backends = 0, 0, {}
        for proc in Path("/proc").iterdir():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                used = sum(int(f) for f in fields[11:15])  # user, system, reaped children's
                if int(fields[2]) in self.groups:
                    ticks += used
                    for task in (proc / "task").iterdir():
                        waited += int((task / "schedstat").read_text().split()[1])
                    continue
                title = (proc / "cmdline").read_bytes()  # "postgres: 15/main: user db host ..."
                if title.startswith(b"postgres: ") and self.database in title:
                    backends[int(proc.name)] = used
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
        return ticks, waited, values[3] + values[4], sum(values), backends

    def sample(self) -> None:
        self.backends.update(self._read()[-1])

    def stop(self) -> CpuUse:
        ticks, waited, idle, total, backends = self._read()
        self.backends.update(backends)
        first = self.begin
        db = sum(t - first[-1].get(pid, 0) for pid, t in self.backends.items())
        tick = os.sysconf("SC_CLK_TCK")
        return CpuUse(
            machine=1 - (idle - first[2]) / max(1, total - first[3]),
            group=(ticks - first[0]) / tick,
            waited=(waited - first[1]) / 1e9,
            database=db / tick,
        )


# --------------------------------------------------------------------------- the client


def login(url: str, username: str, password: str) -> requests.Session:
    """Through the login form, with its CSRF token; raises at once on a refused login."""
    session = requests.Session()
    page = session.get(f"{url}/accounts/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if page.status_code != 200 or token is None:
        raise RuntimeError(f"login page: {page.status_code}, CSRF token found: {bool(token)}")
    answer = session.post(
        f"{url}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token[1]},
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code != 302 or "sessionid" not in session.cookies:
        raise RuntimeError(f"login as {username} refused ({answer.status_code}): stopping")
    return session


def static_path(url: str) -> str:
    page = requests.get(f"{url}/accounts/login/", timeout=30).text
    return re.search(r'rel="stylesheet" href="([^"]+)"', page)[1]


def user_loop(url, sessions, pages, deadline, timeout, rng, record) -> None:
    """One closed-loop user: every page of the mix, shuffled, until the deadline."""
    own = {}
    for who, master in sessions.items():
        own[who] = requests.Session()
        own[who].cookies.update(master.cookies)
    anonymous = requests.Session()
    while True:
        order = list(pages)
        rng.shuffle(order)
        for name, who, path in order:
            if time.monotonic() >= deadline:
                return
            client = own[who] if who else anonymous
            began = time.perf_counter()
            try:
                answer = client.get(f"{url}{path}", timeout=timeout, allow_redirects=False)
                answer.content  # noqa: B018 (the whole body, as a browser reads it)
                error = None if answer.status_code == 200 else str(answer.status_code)
            except requests.RequestException as failure:
                error = type(failure).__name__
            record(name, (time.perf_counter() - began) * 1000, error)


def run_phase(url, sessions, pages, users: int, seconds: float, args, meter=None):
    """(times by page, errors by page, elapsed s) of `users` closed-loop users for `seconds`."""
    times, errors = defaultdict(list), defaultdict(list)
    lock = threading.Lock()

    def record(name, ms, error):
        with lock:
            (errors[name] if error else times[name]).append(error or ms)

    began = time.monotonic()
    deadline = began + seconds
    threads = [
        threading.Thread(
            target=user_loop,
            args=(url, sessions, pages, deadline, args.timeout),
            kwargs={"rng": random.Random(args.seed * 1000 + i), "record": record},
        )
        for i in range(users)
    ]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        if meter:
            meter.sample()
        time.sleep(0.25)
    return times, errors, time.monotonic() - began


# --------------------------------------------------------------------------- report


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def report(users: int, times: dict, errors: dict, elapsed: float, pages, args, cpu) -> None:
    total = sum(len(v) for v in times.values()) + sum(len(v) for v in errors.values())
    print(
        f"{users} concurrent user{'s' * (users != 1)} for {args.seconds:g} s (closed loop, no "
        f"think time): {total:,} requests in {elapsed:.1f} s, {total / elapsed:.1f} requests/s"
    )
    print(
        f"  cores used: gunicorn {cpu.group / elapsed:.2f}, PostgreSQL backends on the database "
        f"{cpu.database / elapsed:.2f}, whole machine {cpu.machine * os.cpu_count():.2f} of "
        f"{os.cpu_count()}; gunicorn waiting for a CPU {cpu.waited / elapsed:.2f} (run queue); "
        f"load average at the end {os.getloadavg()[0]:.2f}"
    )
    print(
        f"  {'page':27} {'count':>6} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"
        f" {'p50 / baseline':>14}"
    )
    base = times.get(PAGES[0][0])
    base_p50 = percentile(base, 0.5) if base else None
    for name, _, _ in pages:
        ok, bad = times.get(name, []), errors.get(name, [])
        if not ok:
            print(f"  {name:27} {len(bad):>6} {len(bad):>6}  {', '.join(sorted(set(bad)))}")
            continue
        p50 = percentile(ok, 0.5)
        ratio = f"{p50 / base_p50:>13.1f}x" if base_p50 else ""
        why = f"  ({', '.join(sorted(set(bad)))})" if bad else ""
        print(
            f"  {name:27} {len(ok) + len(bad):>6} {len(bad):>6} {p50:>8.0f}"
            f" {percentile(ok, 0.95):>8.0f} {max(ok):>8.0f} {ratio}{why}"
        )


def chain_size(database_url: str) -> int:
    import psycopg

    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT count(*) FROM scoring_store").fetchone()[0]


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: gunicorn is stopped
    with redis_db() as cache:
        was_empty = cache.dbsize() == 0
    stores = chain_size(args.database_url)
    with tempfile.TemporaryDirectory(prefix="ror-load-") as tmp:
        env = server_env(args, Path(tmp) / "static")
        server, url = start_gunicorn(args, env, Path(tmp) / "gunicorn.log")
        try:
            static = static_path(url)
            pages = [(n, who, path or static) for n, who, path in PAGES]
            sessions = {
                "lead": login(url, args.lead, args.password),
                "manager": login(url, args.manager, args.password),
            }
            print(
                f"gunicorn config.wsgi --workers {args.gunicorn_workers} on {url}, DEBUG off; "
                f"{stores:,} stores; lead {args.lead}, manager {args.manager}; machine "
                f"{os.cpu_count()} cores, load average at start {os.getloadavg()[0]:.2f}"
            )
            print(f"static file: {static}")
            # Every gunicorn worker's first views (imports, connections, caches), not counted.
            run_phase(url, sessions, pages, args.gunicorn_workers, args.warmup, args)
            database = args.database_url.rsplit("/", 1)[-1].split("?")[0]
            for users in [int(u) for u in args.users.split(",")]:
                meter = CpuMeter({server.pid}, database)
                phase = run_phase(url, sessions, pages, users, args.seconds, args, meter)
                report(users, *phase, pages, args, meter.stop())
        finally:
            stop(server)
            if was_empty:  # the analyses queued and the cache filled by this run only
                with redis_db() as cache:
                    cache.flushdb()


if __name__ == "__main__":
    main()
