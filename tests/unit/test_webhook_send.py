"""shared.webhook_send: the SSRF-safe webhook POST, against HTTP(S) servers on 127.0.0.1 only."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from standardwebhooks import Webhook

from shared.domain.webhooks import new_secret, next_delay, outcome, signed_headers
from shared.webhook_send import (
    Delivery,
    UnsafeUrl,
    address_allowed,
    check_url,
    deliver,
    resolve_public,
)

BODY = json.dumps({"type": "promise.kept", "clientId": "cl_1"}).encode()


# --- local servers


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[Recorded] = []
        self.reply = Reply()
        self.sni: list[str | None] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        server = cast(Receiver, self.server)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        server.requests.append(Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        reply = server.reply
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve(server: Receiver) -> Iterator[Receiver]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from _serve(Receiver())


@pytest.fixture
def other_receiver() -> Iterator[Receiver]:
    yield from _serve(Receiver())


@dataclass
class Pki:
    ca_file: Path
    cert_file: Path
    key_file: Path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A throw-away CA and a certificate it signed for hooks.example.test."""
    folder = tmp_path_factory.mktemp("pki")
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "webhook test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
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
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.example.test")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.example.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pki = Pki(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
    pki.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return pki


@pytest.fixture
def tls_receiver(pki: Pki) -> Iterator[Receiver]:
    server = Receiver()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki.cert_file, pki.key_file)

    def record_sni(_sock: ssl.SSLObject | ssl.SSLSocket, name: str | None, _ctx: ssl.SSLContext) -> None:
        server.sni.append(name)

    context.sni_callback = record_sni
    server.socket = context.wrap_socket(server.socket, server_side=True)
    yield from _serve(server)


def trusting(pki: Pki) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(pki.ca_file))


# --- resolvers


class StubResolver:
    """Answers every name with the given addresses, and counts the lookups."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int, family: int = 0, type: int = 0) -> list[tuple[Any, ...]]:
        self.calls.append((host, port))
        answers: list[tuple[Any, ...]] = []
        for address in self.addresses:
            if ipaddress.ip_address(address.split("%")[0]).version == 6:
                answers.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                answers.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return answers


@pytest.fixture
def no_system_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any lookup besides the stub's fails the test: the connection must use the stub's answer."""

    def refuse(*_args: object, **_kwargs: object) -> list[tuple[Any, ...]]:
        raise AssertionError("a second, system DNS lookup")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture
def no_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection attempt fails the test."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


# --- check_url


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.partner.example/webhooks",
        "https://hooks.partner.example:8443/webhooks?tenant=4&x=y",
        "HTTPS://Hooks.Partner.Example/",
        "https://xn--bcher-kva.example/hook",
        "https://8.8.8.8/hook",
        "https://[2606:4700:4700::1111]/hook",
    ],
)
def test_check_url_accepts_public_https(url: str) -> None:
    check_url(url, allow_loopback=False)


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.partner.example/webhooks",
        "ftp://hooks.partner.example/",
        "file:///etc/passwd",
        "hooks.partner.example/webhooks",
        "https://user:pw@hooks.partner.example/",
        "https://user@hooks.partner.example/",
        "https://hooks.partner.example:0/",
        "https://hooks.partner.example:99999/",
        "https://hooks.partner.example:http/",
        "https://hooks.partner.example/#fragment",
        "https:///webhooks",
        "https://hooks.partner.example /",
        "https://hooks.partner.example/\r\nX-Injected: 1",
        "https://hooks.partner.exa\tmple/",
        "https://bücher.example/",
        "https://hooks_partner.example/",
        "https://hooks.partner.example./",
        "https://-hooks.partner.example/",
        "https://intranet/",
        "https://localhost/",
        "https://metadata.localhost/",
        "https://127.0.0.1/",
        "https://10.0.0.1/",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/",
        "https://0.0.0.0/",
        "https://[::1]/",
        "https://[fd00:ec2::254]/",
        "https://[::ffff:10.0.0.1]/",
        "https://[fe80::1%25eth0]/",
        "https://[::1/",
        "https://2130706433/",
        "https://0x7f.0.0.1/",
        "https://127.1/",
        "https://" + "a" * 2048 + ".example/",
    ],
)
def test_check_url_refuses(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        check_url(url, allow_loopback=False)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost:8080/hook",
        "http://hooks.localhost:8080/hook",
        "http://[::1]:8080/hook",
        "https://127.0.0.1:8443/hook",
        "https://localhost/hook",
    ],
)
def test_the_local_stack_may_use_loopback(url: str) -> None:
    check_url(url, allow_loopback=True)
    with pytest.raises(UnsafeUrl):
        check_url(url, allow_loopback=False)


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.partner.example/hook",  # plain http only to a loopback host
        "http://10.0.0.1/hook",
        "https://192.168.1.10/hook",
        "https://[fd00:ec2::254]/",
    ],
)
def test_loopback_allowance_opens_nothing_else(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        check_url(url, allow_loopback=True)


# --- address_allowed


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "127.0.0.1",
        "127.255.0.9",
        "0.0.0.0",  # noqa: S104 (an address to refuse, not one to bind)
        "169.254.169.254",
        "169.254.170.2",  # the ECS/Lambda credentials endpoint
        "100.64.0.1",
        "100.127.255.254",
        "192.0.0.8",
        "198.18.0.1",
        "192.0.2.1",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "::127.0.0.1",
        "fd00:ec2::254",
        "fc00::1",
        "fe80::1",
        "fe80::1%2",
        "fec0::1",
        "ff02::1",
        "ff0e::1",
        "2001:db8::1",
        "::ffff:10.0.0.1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::1",
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "2001::1",  # Teredo
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not address_allowed(address)


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"],
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert address_allowed(address)


def test_loopback_is_allowed_only_when_asked() -> None:
    for address in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        assert address_allowed(address, allow_loopback=True)
        assert not address_allowed(address)
    for address in ("10.0.0.1", "169.254.169.254", "fd00::1", "::"):
        assert not address_allowed(address, allow_loopback=True)


# --- deliver: plain http on loopback


def test_delivered_with_loopback_allowed(receiver: Receiver) -> None:
    secret = new_secret()
    headers = signed_headers([secret], "msg_1", dt.datetime.now(dt.UTC), BODY)
    result = deliver(f"http://127.0.0.1:{receiver.port}/hooks?x=1", BODY, headers, allow_loopback=True)
    assert result.status == 200
    assert result.error is None
    assert result.excerpt == "ok"
    assert result.latency_ms >= 0
    assert outcome(result.status) == "delivered"
    [request] = receiver.requests
    assert request.path == "/hooks?x=1"
    assert request.body == BODY
    assert request.headers["host"] == f"127.0.0.1:{receiver.port}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == "msg_1"
    # The local receiver verifies the signature with the library.
    assert Webhook(secret).verify(request.body, request.headers) == json.loads(BODY)


def test_refused_without_loopback_allowed(receiver: Receiver) -> None:
    with pytest.raises(UnsafeUrl):
        deliver(f"http://127.0.0.1:{receiver.port}/", BODY, {})
    with pytest.raises(UnsafeUrl):
        deliver(f"https://127.0.0.1:{receiver.port}/", BODY, {})
    assert receiver.requests == []


def test_a_redirect_is_not_followed(receiver: Receiver, other_receiver: Receiver) -> None:
    receiver.reply = Reply(302, {"Location": f"http://127.0.0.1:{other_receiver.port}/stolen"})
    result = deliver(f"http://127.0.0.1:{receiver.port}/", BODY, {}, allow_loopback=True)
    assert result.status == 302
    assert outcome(result.status) == "retry"
    assert len(receiver.requests) == 1
    assert other_receiver.requests == []


def test_retry_after_is_read(receiver: Receiver) -> None:
    receiver.reply = Reply(429, {"Retry-After": "120"}, b"slow down")
    result = deliver(f"http://127.0.0.1:{receiver.port}/", BODY, {}, allow_loopback=True)
    assert result == Delivery(429, "120", result.latency_ms, None, "slow down")
    assert next_delay(1, result.status, result.retry_after, rand=lambda: 0.5) == 120


def test_gone(receiver: Receiver) -> None:
    receiver.reply = Reply(410)
    result = deliver(f"http://127.0.0.1:{receiver.port}/", BODY, {}, allow_loopback=True)
    assert result.status == 410
    assert outcome(result.status) == "gone"


def test_only_the_start_of_the_answer_is_read(receiver: Receiver) -> None:
    receiver.reply = Reply(500, body=b"x" * 100_000)
    result = deliver(f"http://127.0.0.1:{receiver.port}/", BODY, {}, allow_loopback=True)
    assert result.status == 500
    assert result.excerpt == "x" * 1024


def test_a_silent_server_times_out() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:  # never accepts, never answers
        port = listener.getsockname()[1]
        started = time.monotonic()
        result = deliver(f"http://127.0.0.1:{port}/", BODY, {}, timeout=0.3, allow_loopback=True)
        elapsed = time.monotonic() - started
    assert result.status is None
    assert result.error == "timeout"
    assert 0.25 <= elapsed < 2


def test_a_trickling_server_is_cut_off_at_the_total_timeout() -> None:
    """One byte every 50 ms never trips a per-read timeout: only the deadline stops it."""
    stop = threading.Event()

    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def trickle() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                try:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                    while not stop.wait(0.05):
                        conn.sendall(b"a")
                except OSError:
                    pass

        thread = threading.Thread(target=trickle, daemon=True)
        thread.start()
        started = time.monotonic()
        result = deliver(f"http://127.0.0.1:{port}/", BODY, {}, timeout=0.5, allow_loopback=True)
        elapsed = time.monotonic() - started
        stop.set()
        thread.join(5)
    assert result.status is None
    assert result.error == "timeout"
    assert 0.45 <= elapsed < 2


def test_a_refused_connection_is_no_answer() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    result = deliver(f"http://127.0.0.1:{port}/", BODY, {}, allow_loopback=True)
    assert result.status is None
    assert result.error is not None
    assert "ConnectionRefusedError" in result.error


def test_a_failed_lookup_is_no_answer() -> None:
    def failing(host: str, port: int, family: int = 0, type: int = 0) -> list[tuple[Any, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    result = deliver("https://hooks.partner.example/", BODY, {}, resolver=failing)
    assert result.status is None
    assert result.error is not None
    assert result.error.startswith("dns: ")


def test_headers_deliver_sets_itself_are_refused() -> None:
    for name in ("Host", "content-length", "Transfer-Encoding", "Connection"):
        with pytest.raises(ValueError, match="set by deliver"):
            deliver("http://127.0.0.1:9/", BODY, {name: "x"}, allow_loopback=True)
    with pytest.raises(ValueError, match="malformed"):
        deliver("http://127.0.0.1:9/", BODY, {"X-Evil": "a\r\nHost: other"}, allow_loopback=True)


# --- deliver: one lookup, and the connection goes where it said


def test_the_connection_goes_to_the_resolved_address(receiver: Receiver, no_system_dns: None) -> None:
    resolver = StubResolver("127.0.0.1")
    result = deliver(
        f"http://hooks.localhost:{receiver.port}/in", BODY, {}, allow_loopback=True, resolver=resolver
    )
    assert result.status == 200
    assert resolver.calls == [("hooks.localhost", receiver.port)]
    [request] = receiver.requests
    assert request.headers["host"] == f"hooks.localhost:{receiver.port}"


def test_the_next_resolved_address_is_tried_when_one_refuses(receiver: Receiver, no_system_dns: None) -> None:
    resolver = StubResolver("127.0.0.2", "127.0.0.1")  # the receiver listens on 127.0.0.1 only
    result = deliver(
        f"http://hooks.localhost:{receiver.port}/", BODY, {}, allow_loopback=True, resolver=resolver
    )
    assert result.status == 200
    assert len(resolver.calls) == 1


@pytest.mark.parametrize(
    "addresses",
    [
        ("10.0.0.1",),
        ("169.254.169.254",),
        ("::1",),
        ("127.0.0.1",),
        ("fd00::1",),
        ("fd00:ec2::254",),
        ("100.64.0.1",),
        ("::ffff:10.0.0.1",),
        ("::ffff:169.254.169.254",),
        ("0.0.0.0",),  # noqa: S104 (an address to refuse, not one to bind)
        ("8.8.8.8", "10.0.0.1"),  # one bad address is enough
    ],
)
def test_a_host_resolving_to_a_non_public_address_is_refused_before_any_connection(
    addresses: Sequence[str], no_connection: None
) -> None:
    resolver = StubResolver(*addresses)
    with pytest.raises(UnsafeUrl, match="non-public"):
        deliver("https://hooks.partner.example/hook", BODY, {}, resolver=resolver)
    assert resolver.calls == [("hooks.partner.example", 443)]


@pytest.mark.parametrize("addresses", [("10.0.0.1",), ("169.254.169.254",), ("fd00::1",), ("100.64.0.1",)])
def test_allowing_loopback_does_not_allow_private_addresses(
    addresses: Sequence[str], no_connection: None
) -> None:
    with pytest.raises(UnsafeUrl, match="non-public"):
        deliver(
            "https://hooks.partner.example/", BODY, {}, allow_loopback=True, resolver=StubResolver(*addresses)
        )


def test_plain_http_must_stay_on_loopback(no_connection: None) -> None:
    """A loopback name may resolve anywhere: plain http still goes to loopback only."""
    with pytest.raises(UnsafeUrl, match="plain http"):
        deliver(
            "http://hooks.localhost:8080/", BODY, {}, allow_loopback=True, resolver=StubResolver("8.8.8.8")
        )


# --- resolve_public: the configuration-time check


def test_resolve_public_answers_the_allowed_addresses() -> None:
    resolver = StubResolver("8.8.8.8", "2606:4700:4700::1111", "8.8.8.8")
    found = resolve_public("https://hooks.partner.example/", allow_loopback=False, resolver=resolver)
    assert [str(ip) for ip in found] == ["8.8.8.8", "2606:4700:4700::1111"]
    assert resolver.calls == [("hooks.partner.example", 443)]


def test_resolve_public_takes_a_literal_as_it_is() -> None:
    resolver = StubResolver("10.0.0.1")
    found = resolve_public("http://127.0.0.1:8080/", allow_loopback=True, resolver=resolver)
    assert [str(ip) for ip in found] == ["127.0.0.1"]
    assert resolver.calls == []


@pytest.mark.parametrize("addresses", [("10.0.0.1",), ("8.8.8.8", "169.254.169.254"), ("::1",)])
def test_resolve_public_refuses_private_answers(addresses: Sequence[str]) -> None:
    with pytest.raises(UnsafeUrl, match="non-public"):
        resolve_public(
            "https://hooks.partner.example/", allow_loopback=False, resolver=StubResolver(*addresses)
        )


def test_resolve_public_refuses_a_name_that_does_not_resolve() -> None:
    def failing(host: str, port: int, family: int = 0, type: int = 0) -> list[tuple[Any, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(UnsafeUrl, match="does not resolve"):
        resolve_public("https://hooks.partner.example/", allow_loopback=False, resolver=failing)
    with pytest.raises(UnsafeUrl, match="does not resolve"):
        resolve_public("https://hooks.partner.example/", allow_loopback=False, resolver=StubResolver())


def test_resolve_public_checks_the_url_first() -> None:
    with pytest.raises(UnsafeUrl, match="https"):
        resolve_public(
            "http://hooks.partner.example/", allow_loopback=False, resolver=StubResolver("8.8.8.8")
        )


# --- deliver: TLS


def test_https_checks_the_certificate_against_the_host_name(
    tls_receiver: Receiver, pki: Pki, no_system_dns: None
) -> None:
    resolver = StubResolver("127.0.0.1")
    result = deliver(
        f"https://hooks.example.test:{tls_receiver.port}/tls",
        BODY,
        {},
        allow_loopback=True,
        resolver=resolver,
        tls_context=trusting(pki),
    )
    assert result.status == 200, result.error
    assert tls_receiver.sni == ["hooks.example.test"]
    [request] = tls_receiver.requests
    assert request.headers["host"] == f"hooks.example.test:{tls_receiver.port}"
    assert request.path == "/tls"


def test_a_certificate_from_an_unknown_authority_is_refused(
    tls_receiver: Receiver, no_system_dns: None
) -> None:
    """The server's certificate chains to a CA made for the test, which the system does not trust."""
    result = deliver(
        f"https://hooks.example.test:{tls_receiver.port}/",
        BODY,
        {},
        allow_loopback=True,
        resolver=StubResolver("127.0.0.1"),
    )
    assert result.status is None
    assert result.error is not None
    assert result.error.startswith("tls: ")
    assert "certificate" in result.error
    assert tls_receiver.requests == []


def test_a_certificate_for_another_name_is_refused(
    tls_receiver: Receiver, pki: Pki, no_system_dns: None
) -> None:
    result = deliver(
        f"https://other.example.test:{tls_receiver.port}/",
        BODY,
        {},
        allow_loopback=True,
        resolver=StubResolver("127.0.0.1"),
        tls_context=trusting(pki),
    )
    assert result.status is None
    assert result.error is not None
    assert "tls: " in result.error
    assert "other.example.test" in result.error
    assert tls_receiver.requests == []


def test_a_context_that_does_not_verify_is_refused() -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with pytest.raises(ValueError, match="verify"):
        deliver("https://hooks.partner.example/", BODY, {}, tls_context=context)
