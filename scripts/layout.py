"""The production layout on one machine (docs/decisions/0052-production-layout.md).

    make layout             # = python scripts/layout.py up: starts it, prints the https address,
                            #   runs until Ctrl+C (or `make layout-down`), then stops everything
    make layout-down        # = python scripts/layout.py down: stops the layout `up` started

What runs, every port free and chosen at start, every file under one temporary directory:
- nginx from the distribution (scripts/ensure-nginx.sh installs it), a child in the foreground
  with its own prefix, configuration, pid and logs: TLS with a certificate made here (a throwaway
  CA, `ca.pem`, and a server certificate for 127.0.0.1 and localhost), round robin over the web
  instances, X-Request-ID, X-Forwarded-For and X-Forwarded-Proto; load shedding and the static
  「混み合っています」 pages of deploy/errors/ for 502/503/504 (decision 0053);
- 2 web instances: gunicorn with PORTAL_ENV=production and production's checks unchanged,
  PORTAL_TRUSTED_PROXIES=1 (nginx is the one proxy), PORTAL_INSTANCE_NAME=web1/web2;
- 2 workers (`flask portal worker`);
- PostgreSQL: a fresh database of its own on the machine's server (dropped at the end);
- Redis: its own `redis-server` on a free port, nothing saved (the machine's Redis is untouched);
- stand-ins for what a city provides: a clamd that answers INSTREAM (refuses the EICAR test
  file, passes anything else) and an SMTP sink that writes each message to mail/. The mock card
  and payment services run in the web instances as a declared demo (PORTAL_DEMO_DEPLOYMENT=1).

`Layout` is also what the layout test (tests/layout) starts and stops.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import socketserver
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_BASE_URL = os.environ.get("PORTAL_LAYOUT_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
GUNICORN = [BIN / "gunicorn", "--config", "python:portal.gunicorn_conf", "portal:create_app()"]
STATE_FILE = ROOT / "instance" / "layout.json"
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited ({process.returncode}) before listening")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} is not listening on {port} after {timeout:.0f} s")
        time.sleep(0.1)


# --- TLS: a throwaway CA and a server certificate for the loopback address -------------------


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """ca.pem (what clients trust), server.pem (chain) and server.key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "portal layout test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca_file, cert_file, key_file = (
        directory / "ca.pem",
        directory / "server.pem",
        directory / "server.key",
    )
    ca_file.write_bytes(ca.public_bytes(pem))
    cert_file.write_bytes(server.public_bytes(pem) + ca.public_bytes(pem))
    key_file.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_file.chmod(0o600)
    return ca_file, cert_file, key_file


# --- nginx -----------------------------------------------------------------------------------

NGINX_CONF = """\
# The layout's nginx (scripts/layout.py): TLS in front of the web instances.
daemon off;
master_process on;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    server_tokens off;
    # The portal refuses bodies above PORTAL_MAX_CONTENT_LENGTH (10 MiB) itself, in Japanese.
    client_max_body_size 12m;
{shedding}
    upstream portal {{
{upstreams}
    }}
    log_format portal '$remote_addr "$request_method $uri" $status $body_bytes_sent '
                      '$request_time $upstream_addr $upstream_status $request_id';
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name 127.0.0.1 localhost;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        access_log {dir}/access.log portal;
{busy}
{extra_locations}
        location / {{
            limit_conn portal_all {conn_total};
            limit_conn portal_address {conn_address};
            proxy_pass http://portal;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header Connection "";
            proxy_set_header X-Request-ID $request_id;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
{timeouts}
        }}
    }}
}}
"""

# Load shedding and the busy pages (decision 0053), the same in deploy/nginx.conf. limit_conn
# counts requests in flight: beyond `conn_total` for the whole portal (or `conn_address` for one
# client address) nginx answers at once with the static busy page instead of queueing more work
# behind instances that already have all they can do.
NGINX_SHEDDING = """\
    limit_conn_zone $server_name zone=portal_all:1m;
    limit_conn_zone $binary_remote_addr zone=portal_address:10m;
    limit_conn_status 503;
    limit_conn_log_level warn;
    # A 502/504 after a GET changed nothing; after a POST the instance may have carried it out.
    map $request_method $portal_busy_page {{
        default busy-unknown.html;
        GET busy.html;
        HEAD busy.html;
    }}"""

NGINX_BUSY = """\
        # nginx's own 503 (shedding) and an instance that failed to answer (502, 504): a static
        # Japanese page with Retry-After. The portal's own answers (its 503 and 409 busy pages)
        # pass through unchanged (no proxy_intercept_errors).
        error_page 503 /_proxy/busy.html;
        error_page 502 504 =503 /_proxy/$portal_busy_page;
        location ^~ /_proxy/ {{
            internal;
            alias {errors}/;
            add_header Retry-After 30 always;
            add_header Cache-Control "no-store" always;
            add_header Content-Language ja always;
            charset utf-8;
        }}"""

NGINX_TIMEOUTS = """\
            # Bounded: a dead instance refuses at once, a hung one gets 2 s to accept; the
            # portal answers within PORTAL_DB_POOL_TIMEOUT (10 s) plus its work, so 30 s
            # without an answer is a failure and the resident gets the busy page.
            proxy_connect_timeout 2s;
            proxy_send_timeout 30s;
            proxy_read_timeout 30s;
            # Requests safe to repeat go to the next instance when one fails, within 10 s. A
            # POST is never sent twice: nginx passes a non-idempotent request to the next
            # instance only when the first never received it (`non_idempotent` is not set).
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 2;
            proxy_next_upstream_timeout 10s;"""


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if found:
        return found
    subprocess.run(["bash", str(ROOT / "scripts" / "ensure-nginx.sh")], check=True)
    return shutil.which("nginx") or "/usr/sbin/nginx"


# --- PostgreSQL --------------------------------------------------------------------------------


def pg(action: str, name: str) -> None:
    import psycopg

    url = PG_BASE_URL.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if action == "create":
            conn.execute(f'CREATE DATABASE "{name}"')


# --- the layout --------------------------------------------------------------------------------


class Layout:
    """Start with start(), stop with stop() (idempotent; also drops the database)."""

    def __init__(
        self,
        workdir: Path,
        *,
        web: int = 2,
        workers: int = 2,
        worker_interval: float = 1.0,
        extra_env: dict[str, str] | None = None,
        conn_total: int = 64,
        conn_address: int = 32,
        extra_locations: str = "",
    ) -> None:
        self.dir = Path(workdir)
        self.web_count = web
        self.worker_count = workers
        self.worker_interval = worker_interval
        self.extra_env = extra_env or {}
        # nginx's load shedding (decision 0053): requests in flight, in all and per address.
        self.conn_total = conn_total
        self.conn_address = conn_address
        self.extra_locations = extra_locations  # more nginx `location` blocks (the benchmark)
        self.argv: dict[str, tuple[list, dict]] = {}
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.database = f"portal_layout_{os.getpid()}_{secrets.token_hex(3)}"
        self.database_created = False
        self.ports = {
            "https": free_port(),
            "redis": free_port(),
            "clamd": free_port(),
            "smtp": free_port(),
            **{f"web{i}": free_port() for i in range(1, web + 1)},
        }
        self.url = f"https://127.0.0.1:{self.ports['https']}"
        self.ca_file = self.dir / "tls" / "ca.pem"
        self.mail_dir = self.dir / "mail"
        self.database_url = f"{PG_BASE_URL}/{self.database}"
        self.env: dict[str, str] = {}
        self.ready_at: dt.datetime | None = None  # when /readyz first answered through nginx

    # The settings every portal process gets: production's, from the environment.
    def portal_env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "FLASK_"))}
        keep.pop("DATABASE_URL", None)
        keep.pop("SECRET_KEY", None)
        return {
            **keep,
            "PORTAL_ENV": "production",
            "FLASK_APP": "portal",
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": secrets.token_hex(32),
            "PORTAL_MY_NUMBER_KEY": secrets.token_hex(32),
            "PORTAL_JPKI_CLIENT_SECRET": secrets.token_hex(24),
            "PORTAL_PUBLIC_URL": self.url,
            "PORTAL_REDIS_URL": f"redis://127.0.0.1:{self.ports['redis']}/0",
            "PORTAL_MALWARE_SCANNER": f"clamd://127.0.0.1:{self.ports['clamd']}",
            "PORTAL_MAIL_SMTP_HOST": "127.0.0.1",
            "PORTAL_MAIL_SMTP_PORT": str(self.ports["smtp"]),
            "PORTAL_MAIL_SMTP_STARTTLS": "0",  # the local sink; no password is sent
            "PORTAL_MAIL_FROM": "noreply@isumi.example.jp",
            # A declared demonstration: the mock card, records and payment services.
            "PORTAL_DEMO_DEPLOYMENT": "1",
            "PORTAL_MOCK_JPKI_ENABLED": "1",
            "PORTAL_MOCK_RECORDS_ENABLED": "1",
            "PORTAL_MOCK_PAY_ENABLED": "1",
            "PORTAL_PAYMENT_PROVIDER": "mock",
            "PORTAL_PAYMENT_API_KEY": secrets.token_hex(16),
            "PORTAL_PAYMENT_WEBHOOK_SECRET": secrets.token_hex(24),
            "PORTAL_TRUSTED_PROXIES": "1",
            # The mock card service keeps its keys here: one directory for both instances (a
            # demo-only state; the real card service is J-LIS's).
            "PORTAL_INSTANCE_PATH": str(self.dir / "instance"),
            # The portal calls its own mock services (and the mock its webhooks) at the public
            # address, through nginx: they trust the layout's CA.
            "REQUESTS_CA_BUNDLE": str(self.dir / "tls" / "trusted.pem"),
            "PORTAL_WORKERS": "2",
            "PORTAL_THREADS": "4",
            **self.extra_env,
        }

    def _spawn(self, name: str, argv: list, env: dict | None = None) -> subprocess.Popen:
        log = self.dir / "logs" / f"{name}.log"
        self.logs[name] = log
        env = env if env is not None else self.env
        self.argv[name] = (argv, env)
        with log.open("ab") as out:
            process = subprocess.Popen(
                [str(a) for a in argv],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl+C reaches `up`, which stops them in order
            )
        self.processes[name] = process
        return process

    def start(self) -> Layout:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        for sub in ("tls", "logs", "mail", "instance", "nginx/tmp", "redis"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        nginx = nginx_binary()
        if not shutil.which("redis-server"):
            raise RuntimeError(
                "redis-server is missing: sudo apt-get install -y redis-server "
                "(the layout starts its own on a free port; the machine's service is not used)"
            )
        make_certificates(self.dir / "tls")
        # What the portal's own HTTP calls trust: the usual CAs and the layout's.
        import certifi

        (self.dir / "tls" / "trusted.pem").write_bytes(
            Path(certifi.where()).read_bytes() + self.ca_file.read_bytes()
        )
        pg("create", self.database)
        self.database_created = True
        self.env = self.portal_env()
        me = [sys.executable, str(Path(__file__).resolve())]
        stand_ins = {
            "redis": [
                "redis-server",
                "--port",
                self.ports["redis"],
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir / "redis",
            ],
            "clamd": [*me, "clamd", "--port", self.ports["clamd"]],
            "smtp": [*me, "smtp", "--port", self.ports["smtp"], "--dir", self.mail_dir],
        }
        for name, argv in stand_ins.items():
            self._spawn(name, argv, os.environ.copy())
        for name in stand_ins:
            wait_for_port(self.ports[name], self.processes[name], name)
        self.flask("db", "upgrade")
        # The mock card service's keys, made once before two instances could race for them.
        self._warm_mock_keys()
        for i in range(1, self.web_count + 1):
            env = {
                **self.env,
                "PORTAL_BIND": f"127.0.0.1:{self.ports[f'web{i}']}",
                "PORTAL_INSTANCE_NAME": f"web{i}",
            }
            self._spawn(
                f"web{i}",
                GUNICORN,
                env,
            )
        for i in range(1, self.worker_count + 1):
            self._spawn(
                f"worker{i}",
                [BIN / "flask", "portal", "worker", "--interval", f"{self.worker_interval:g}"],
            )
        for i in range(1, self.web_count + 1):
            wait_for_port(self.ports[f"web{i}"], self.processes[f"web{i}"], f"web{i}", 120)
        upstreams = "\n".join(
            f"        server 127.0.0.1:{self.ports[f'web{i}']} max_fails=1 fail_timeout=5s;"
            for i in range(1, self.web_count + 1)
        )
        conf = self.dir / "nginx" / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(
                dir=self.dir / "nginx",
                upstreams=upstreams,
                shedding=NGINX_SHEDDING.format(),
                busy=NGINX_BUSY.format(errors=ROOT / "deploy" / "errors"),
                timeouts=NGINX_TIMEOUTS,
                conn_total=self.conn_total,
                conn_address=self.conn_address,
                extra_locations=self.extra_locations,
                port=self.ports["https"],
                cert=self.dir / "tls" / "server.pem",
                key=self.dir / "tls" / "server.key",
            )
        )
        error_log = self.dir / "nginx" / "error.log"
        nginx_argv = [nginx, "-p", self.dir / "nginx", "-c", conf, "-e", error_log]
        check = subprocess.run(
            [str(a) for a in [*nginx_argv, "-t"]], capture_output=True, text=True, check=False
        )
        if check.returncode != 0:
            raise RuntimeError(f"nginx refused its configuration:\n{check.stderr}")
        self._spawn("nginx", nginx_argv, os.environ.copy())
        wait_for_port(self.ports["https"], self.processes["nginx"], "nginx")
        self.wait_ready()
        self.ready_at = dt.datetime.now(dt.UTC)

    def _warm_mock_keys(self) -> None:
        code = (
            "from portal import create_app\n"
            "from portal.mock_jpki.provider import signing_key\n"
            "app = create_app()\n"
            "with app.app_context():\n"
            "    signing_key()\n"
        )
        subprocess.run(
            [sys.executable, "-c", code], env=self.env, cwd=ROOT, check=True, capture_output=True
        )

    def wait_ready(self, timeout: float = 90) -> None:
        """Until /readyz answers 200 through nginx (database and Redis) and has seen every
        worker."""
        import ssl

        context = ssl.create_default_context(cafile=str(self.ca_file))
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(  # noqa: S310 - our own https address
                    f"{self.url}/readyz", timeout=5, context=context
                ) as response:
                    seen = json.loads(response.read()).get("workers_alive", 0)
                    if response.status == 200 and seen >= self.worker_count:
                        return
                    last = f"{seen} worker(s) seen"
            except OSError as error:
                last = str(error)
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited:\n{self.tail(name)}")
            time.sleep(0.3)
        raise RuntimeError(f"the layout is not ready after {timeout:.0f} s ({last})")

    def flask(self, *args: str) -> str:
        result = subprocess.run(
            [str(BIN / "flask"), *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.logs.get(name)
        if not path or not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill one process of the layout (its whole process group: gunicorn's workers too)."""
        process = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        process.wait(timeout=10)

    def restart(self, name: str, timeout: float = 60) -> None:
        """Start a stopped or killed process of the layout again, as it was started; a web
        instance or a stand-in is waited for until it listens."""
        process = self.processes[name]
        if process.poll() is None:
            raise RuntimeError(f"{name} is still running")
        argv, env = self.argv[name]
        started = self._spawn(name, argv, env)
        if name in self.ports:
            wait_for_port(self.ports[name], started, name, timeout)

    def stop(self) -> None:
        # Proxy first (no new requests), then web instances and workers, then what they use.
        order = ["nginx"] + [n for n in self.processes if n.startswith(("web", "worker"))]
        order += [n for n in self.processes if n not in order]
        for name in order:
            process = self.processes.get(name)
            if process is None or process.poll() is not None:
                continue
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for name in order:
            process = self.processes.get(name)
            if process is None:
                continue
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        if self.database_created:
            pg("drop", self.database)
            self.database_created = False


# --- stand-ins: clamd and an SMTP sink -----------------------------------------------------------


def _recv_exact(connection: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        part = connection.recv(count - len(data))
        if not part:
            raise ConnectionError("client hung up")
        data += part
    return data


class ClamdHandler(socketserver.BaseRequestHandler):
    """clamd's INSTREAM (z-prefixed): FOUND for the EICAR test file, OK for anything else."""

    def handle(self) -> None:
        self.request.settimeout(30)
        command = b""
        while not command.endswith((b"\0", b"\n")) and len(command) < 64:
            part = self.request.recv(1)
            if not part:
                return
            command += part
        if command.strip(b"\0\n").lstrip(b"zn") == b"PING":
            self.request.sendall(b"PONG\0")
            return
        data = bytearray()
        while True:
            (length,) = struct.unpack(">I", _recv_exact(self.request, 4))
            if length == 0:
                break
            data += _recv_exact(self.request, length)
        if EICAR in data:
            self.request.sendall(b"stream: Win.Test.EICAR_HDB-1 FOUND\0")
        else:
            self.request.sendall(b"stream: OK\0")


def smtp_sink(port: int, directory: Path) -> None:
    """aiosmtpd (a dev dependency) accepting every message into a file of `directory`."""
    from aiosmtpd.controller import Controller

    class Sink:
        async def handle_DATA(self, _server, _session, envelope) -> str:  # noqa: N802
            name = f"{time.time_ns()}-{secrets.token_hex(3)}.eml"
            envelope_line = f"X-Layout-Envelope: {envelope.mail_from} {envelope.rcpt_tos}\r\n"
            (directory / name).write_bytes(envelope_line.encode() + envelope.original_content)
            return "250 OK queued"

    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    stop: list[int] = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    try:
        while not stop:
            time.sleep(0.2)
    finally:
        controller.stop()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(handler: type[socketserver.BaseRequestHandler], port: int) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with _Server(("127.0.0.1", port), handler) as server:
        server.serve_forever()


# --- command line ---------------------------------------------------------------------------------


def up(args: argparse.Namespace) -> int:
    if STATE_FILE.exists():
        state = json.loads(STATE_FILE.read_text())
        try:
            os.kill(state["pid"], 0)
            print(f"A layout is running (pid {state['pid']}): make layout-down", file=sys.stderr)
            return 1
        except ProcessLookupError:
            STATE_FILE.unlink()
    workdir = Path(tempfile.mkdtemp(prefix="portal-layout-"))
    layout = Layout(workdir, worker_interval=args.interval)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    try:
        print(
            "Starting the production layout (nginx, 2 web instances, 2 workers, "
            "PostgreSQL, Redis)...",
            flush=True,
        )
        layout.start()
        STATE_FILE.parent.mkdir(parents=True, exist_ok=True)
        state = {"pid": os.getpid(), "url": layout.url, "dir": str(workdir)}
        STATE_FILE.write_text(json.dumps(state))
        instances = ", ".join(
            f"web{i} 127.0.0.1:{layout.ports[f'web{i}']}" for i in range(1, layout.web_count + 1)
        )
        ports = layout.ports
        print(
            f"""
  The portal, production mode behind nginx (TLS):  {layout.url}/
  Trust the layout's CA:  {layout.ca_file}
      curl --cacert {layout.ca_file} {layout.url}/readyz
  Web instances:  {instances}
  Database:       {layout.database_url}  (dropped when the layout stops)
  Redis:          127.0.0.1:{ports["redis"]}  (its own server, nothing saved)
  Stand-ins:      clamd 127.0.0.1:{ports["clamd"]}, SMTP sink 127.0.0.1:{ports["smtp"]}
                  (mail written to {layout.mail_dir})
  Logs:           {workdir / "logs"}  and {workdir / "nginx"}
  Log in with the mock card (demo): 大原 太郎, PIN 1234. Ctrl+C or `make layout-down` stops it.
""",
            flush=True,
        )
        while not stopping:
            for name, process in layout.processes.items():
                if process.poll() is not None:
                    print(f"{name} exited ({process.returncode}); stopping.\n{layout.tail(name)}")
                    stopping.append(1)
                    break
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        print("Stopping the layout...", flush=True)
        layout.stop()
        STATE_FILE.unlink(missing_ok=True)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        print("Stopped; database dropped.", flush=True)
    return 0


def down(_args: argparse.Namespace) -> int:
    if not STATE_FILE.exists():
        print("No layout is running.")
        return 0
    pid = json.loads(STATE_FILE.read_text())["pid"]
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        STATE_FILE.unlink(missing_ok=True)
        print("No layout is running.")
        return 0
    deadline = time.monotonic() + 60
    while STATE_FILE.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    print("Stopped." if not STATE_FILE.exists() else f"The layout (pid {pid}) is still stopping.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("up", help="start the layout; Ctrl+C stops it")
    start.add_argument("--interval", type=float, default=2.0, help="worker round (seconds)")
    start.add_argument("--keep", action="store_true", help="keep the logs' directory")
    commands.add_parser("down", help="stop the layout that `up` started")
    clamd = commands.add_parser("clamd", help="(internal) the clamd stand-in")
    clamd.add_argument("--port", type=int, required=True)
    smtp = commands.add_parser("smtp", help="(internal) the SMTP sink")
    smtp.add_argument("--port", type=int, required=True)
    smtp.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "up":
        return up(args)
    if args.command == "down":
        return down(args)
    if args.command == "clamd":
        serve(ClamdHandler, args.port)
    if args.command == "smtp":
        smtp_sink(args.port, args.dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
