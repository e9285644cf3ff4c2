"""One webhook POST to a partner's URL, guarded against server-side request forgery (issue 11).

A partner chooses the URL, so the sender must not become a way into our network or the
instance metadata service. `deliver`:

1. checks the URL (`check_url`): https, no userinfo, a DNS name or a public IP literal;
2. resolves the host once and refuses (`UnsafeUrl`, before any connection) when any of its
   addresses is not public (`address_allowed`);
3. connects to one of those very addresses, so a DNS answer that changes between the check
   and the connection (DNS rebinding) cannot redirect it, and speaks TLS with the URL's host
   name as SNI, verifying the certificate against that name, and sends `Host: <host>`;
4. never follows a redirect (a 3xx is a failed attempt and its `Location` is never fetched),
   reads at most `EXCERPT_BYTES` of the answer, and gives up after `timeout` seconds in total
   (a watchdog closes the socket of a server that trickles its answer).

`resolve_public` runs steps 1 and 2 alone, for checking a URL when a partner configures it.

The local stack passes `allow_loopback=True`: loopback addresses are then allowed, and plain
http to a loopback host. Nothing else private ever is.

Not covered here: the time the system resolver takes (it has its own timeouts), and proxies
(none is used, whatever the environment says).
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

DEFAULT_TIMEOUT: Final = 15.0
MAX_URL_LENGTH: Final = 2048
EXCERPT_BYTES: Final = 1024
USER_AGENT: Final = "career-journey-webhooks/1"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# socket.getaddrinfo's shape: (host, port, family, type) -> [(family, type, proto, canonname, sockaddr)]
Resolver = Callable[[str, int, int, int], Sequence[tuple[Any, ...]]]

# Not reachable from the internet, or not unicast, whatever the running Python's `is_global`
# says (it has varied between versions): checked in addition to it.
_BLOCKED: Final = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, with the instance metadata service 169.254.169.254
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",
        "192.88.99.0/24",  # 6to4 relays (deprecated)
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, with the broadcast address
        "::/8",  # unspecified, loopback, IPv4-compatible (mapped addresses are unwrapped first)
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard
        "2001::/23",  # IETF protocol assignments, with Teredo
        "2001:db8::/32",
        "3fff::/20",  # documentation
        "fc00::/7",  # unique-local, with the instance metadata service fd00:ec2::254
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")
_LABEL: Final = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_HEADER_NAME: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_VALUE: Final = re.compile(r"[\t\x20-\x7e]*")
_RESERVED_HEADERS: Final = frozenset({"host", "content-length", "transfer-encoding", "connection"})


class UnsafeUrl(ValueError):
    """A webhook URL that must not be called: its form, or an address it resolves to."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one attempt got: the status (None: no answer), `Retry-After`, how long it took."""

    status: int | None
    retry_after: str | None
    latency_ms: int
    error: str | None
    excerpt: str = ""  # the start of the answer's body, for the delivery log


@dataclass(frozen=True, slots=True)
class _Target:
    scheme: str
    host: str  # lower case, IPv6 without brackets
    port: int
    path: str  # with the query
    literal: IPAddress | None


def address_allowed(address: str | IPAddress, *, allow_loopback: bool = False) -> bool:
    """Whether a webhook may connect to `address`: a public unicast address.

    An IPv4 address embedded in IPv6 (IPv4-mapped, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`)
    is judged as that IPv4 address. Loopback is allowed only with `allow_loopback`.
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id is not None:
            return False
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
        if embedded is not None:
            return address_allowed(embedded, allow_loopback=allow_loopback)
    if ip.is_loopback:
        return allow_loopback
    if not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        return False
    if ip.is_private or ip.is_link_local:
        return False
    return not any(ip.version == net.version and ip in net for net in _BLOCKED)


def check_url(url: str, *, allow_loopback: bool) -> None:
    """Raise `UnsafeUrl` unless `url` may be a webhook's URL (its addresses are checked when sent).

    https only (plain http only with `allow_loopback`, to a loopback host); no user or
    password; any port; a host that is a DNS name of two labels or more (ASCII: IDNs in
    punycode) or a public IP literal; no fragment; no whitespace or control characters.
    """
    _parse(url, allow_loopback=allow_loopback)


def resolve_public(
    url: str, *, allow_loopback: bool, resolver: Resolver = socket.getaddrinfo
) -> list[IPAddress]:
    """The addresses `url`'s host resolves to now, all allowed; `UnsafeUrl` otherwise.

    For configuration time: a URL whose host does not resolve is refused too. `deliver`
    checks again at every attempt (an answer can change: DNS rebinding).
    """
    target = _parse(url, allow_loopback=allow_loopback)
    try:
        addresses = _resolve(target, resolver)
    except (OSError, UnicodeError, ValueError) as exc:
        raise UnsafeUrl(f"{target.host} does not resolve ({_describe(exc)})") from None
    _check_addresses(target, addresses, allow_loopback=allow_loopback)
    return addresses


def deliver(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    allow_loopback: bool = False,
    resolver: Resolver = socket.getaddrinfo,
    tls_context: ssl.SSLContext | None = None,
) -> Delivery:
    """POST `body` to `url` once, with `headers`, and report what came back.

    Raises `UnsafeUrl`, before any connection, when the URL or any address its host resolves
    to is not allowed, and ValueError for headers this function sets itself (Host,
    Content-Length, Transfer-Encoding, Connection) or that are malformed. Everything that goes
    wrong on the network (resolution, connection, TLS, a timeout, a malformed answer) is a
    `Delivery` with status None and an `error`. `tls_context` (default: the system's trusted
    certificates) must verify certificates and host names.
    """
    if timeout <= 0:
        raise ValueError("the timeout must be positive")
    target = _parse(url, allow_loopback=allow_loopback)
    request_headers = _request_headers(headers)
    context = _context(tls_context) if target.scheme == "https" else None
    started = time.monotonic()
    deadline = started + timeout

    try:
        addresses = _resolve(target, resolver)
    except (OSError, UnicodeError, ValueError) as exc:
        return Delivery(None, None, _elapsed_ms(started), f"dns: {_describe(exc)}")
    _check_addresses(target, addresses, allow_loopback=allow_loopback)

    errors: list[str] = []
    for ip in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            errors.append("timeout")
            break
        try:
            sock = _connect(ip, target.port, remaining)
        except OSError as exc:
            errors.append(f"connect {ip}: {_describe(exc)}")
            continue
        return _exchange(sock, target, body, request_headers, context, started, deadline)
    return Delivery(None, None, _elapsed_ms(started), "; ".join(errors)[:500])


def _parse(url: str, *, allow_loopback: bool) -> _Target:
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl("the URL is too long")
    if not url.isascii() or any(ch <= " " or ch == "\x7f" for ch in url):
        raise UnsafeUrl("the URL has whitespace, control or non-ASCII characters")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise UnsafeUrl("the URL is malformed") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise UnsafeUrl("the URL must be https")
    if "@" in parts.netloc:
        raise UnsafeUrl("the URL may not carry a user or a password")
    if parts.fragment or url.endswith("#"):
        raise UnsafeUrl("the URL may not have a fragment")
    host = parts.hostname
    if not host:
        raise UnsafeUrl("the URL has no host")
    try:
        port = parts.port
    except ValueError:
        raise UnsafeUrl("the URL's port is not a port") from None
    if port == 0:
        raise UnsafeUrl("the URL's port is not a port")
    if port is None:
        port = 443 if scheme == "https" else 80

    literal: IPAddress | None = None
    if parts.netloc.startswith("["):
        try:
            literal = ipaddress.IPv6Address(host)
        except ValueError:
            raise UnsafeUrl("the URL's host is not an IPv6 address") from None
    else:
        try:
            literal = ipaddress.IPv4Address(host)
        except ValueError:
            _check_name(host, allow_loopback=allow_loopback)
    if literal is not None and not address_allowed(literal, allow_loopback=allow_loopback):
        raise UnsafeUrl(f"the URL's address is not public ({literal})")

    loopback_host = _is_loopback(literal) if literal is not None else _is_localhost(host)
    if scheme == "http" and not (allow_loopback and loopback_host):
        raise UnsafeUrl("the URL must be https")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return _Target(scheme, host, port, path, literal)


def _check_name(host: str, *, allow_loopback: bool) -> None:
    if _is_localhost(host):
        if not allow_loopback:
            raise UnsafeUrl("the URL's host is a loopback name")
        return
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise UnsafeUrl("the URL's host is not a DNS name")
    if len(labels) < 2:
        raise UnsafeUrl("the URL's host must be a fully qualified name")
    if labels[-1].isdigit() or re.fullmatch(r"0x[0-9a-f]*", labels[-1]):
        # `2130706433`, `127.1`, `0x7f.1`: what inet_aton reads as an IPv4 address.
        raise UnsafeUrl("the URL's host is neither a DNS name nor an IP address")


def _is_localhost(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


def _is_loopback(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def _request_headers(headers: Mapping[str, str]) -> dict[str, str]:
    result = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    lower = {"content-type": "Content-Type", "user-agent": "User-Agent"}
    for name, value in headers.items():
        if not _HEADER_NAME.fullmatch(name) or not _HEADER_VALUE.fullmatch(value):
            raise ValueError(f"malformed header {name!r}")
        key = name.lower()
        if key in _RESERVED_HEADERS:
            raise ValueError(f"the {name} header is set by deliver()")
        result.pop(lower.pop(key, ""), None)
        result[name] = value
    result["Connection"] = "close"
    return result


@functools.cache
def _default_context() -> ssl.SSLContext:
    """The system's trusted certificates, loaded once per process (a context is thread-safe)."""
    return ssl.create_default_context()


def _context(given: ssl.SSLContext | None) -> ssl.SSLContext:
    context = given or _default_context()
    if context.verify_mode != ssl.CERT_REQUIRED or not context.check_hostname:
        raise ValueError("the TLS context must verify certificates and host names")
    return context


def _resolve(target: _Target, resolver: Resolver) -> list[IPAddress]:
    """The host's addresses, in the resolver's order, from a single lookup (none for a literal)."""
    if target.literal is not None:
        return [target.literal]
    found: list[IPAddress] = []
    for family, _type, _proto, _name, sockaddr in resolver(target.host, target.port, 0, socket.SOCK_STREAM):
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        ip = ipaddress.ip_address(sockaddr[0])
        if ip not in found:
            found.append(ip)
    if not found:
        raise OSError(f"no address for {target.host}")
    return found


def _check_addresses(target: _Target, addresses: Sequence[IPAddress], *, allow_loopback: bool) -> None:
    for ip in addresses:
        if not address_allowed(ip, allow_loopback=allow_loopback):
            raise UnsafeUrl(f"{target.host} resolves to a non-public address ({ip})")
        if target.scheme == "http" and not _is_loopback(ip):
            raise UnsafeUrl(f"plain http to a non-loopback address ({ip})")


def _connect(ip: IPAddress, port: int, timeout: float) -> socket.socket:
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect((str(ip), port))
    except BaseException:
        sock.close()
        raise
    return sock


class _Watchdog:
    """Shuts a socket down at the deadline, whatever the thread using it is waiting for."""

    def __init__(self, sock: socket.socket, delay: float) -> None:
        self._fd = sock.fileno()  # stays the same once TLS wraps the socket
        self._lock = threading.Lock()
        self._stopped = False
        self.fired = False
        self._timer = threading.Timer(max(delay, 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self.fired = True
            try:
                handle = socket.socket(fileno=self._fd)
            except OSError:
                return
            try:
                handle.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            finally:
                handle.detach()  # the descriptor still belongs to the delivering thread

    def stop(self) -> None:
        """Called before the socket is closed: the descriptor is never touched after."""
        with self._lock:
            self._stopped = True
        self._timer.cancel()


class _PinnedConnection(http.client.HTTPConnection):
    """HTTP over a socket already connected to a checked address; never connects by name."""

    def __init__(self, sock: socket.socket, target: _Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.default_port = 443 if target.scheme == "https" else 80  # Host: without a default port
        self.sock = sock

    def connect(self) -> None:
        raise http.client.NotConnected("a webhook connection is never reopened")


def _exchange(
    sock: socket.socket,
    target: _Target,
    body: bytes,
    headers: Mapping[str, str],
    context: ssl.SSLContext | None,
    started: float,
    deadline: float,
) -> Delivery:
    watchdog = _Watchdog(sock, deadline - time.monotonic())
    conn: _PinnedConnection | None = None
    response: http.client.HTTPResponse | None = None
    try:
        try:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            if context is not None:
                # The handshake is explicit so that a failed one leaves the socket open until
                # the watchdog is stopped (the descriptor must not be reused under it).
                sock = context.wrap_socket(sock, server_hostname=target.host, do_handshake_on_connect=False)
                sock.do_handshake()
            conn = _PinnedConnection(sock, target, timeout=max(deadline - time.monotonic(), 0.001))
            conn.request("POST", target.path, body=body, headers=dict(headers))
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            error = "timeout" if watchdog.fired else _describe(exc)
            return Delivery(None, None, _elapsed_ms(started), error)
        if watchdog.fired:  # cut off mid-headers: http.client reads the shutdown as their end
            return Delivery(None, None, _elapsed_ms(started), "timeout")
        status = response.status
        retry_after = response.getheader("Retry-After")
        latency = _elapsed_ms(started)
        try:
            excerpt = response.read(EXCERPT_BYTES).decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            excerpt = ""
        return Delivery(status, retry_after[:100] if retry_after else None, latency, None, excerpt)
    finally:
        watchdog.stop()
        if response is not None:
            response.close()
        if conn is not None:
            conn.close()
        sock.close()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        text = f"tls: {exc.verify_message or exc.reason}"
    elif isinstance(exc, ssl.SSLError):
        text = f"tls: {exc.reason or exc}"
    elif isinstance(exc, TimeoutError):
        text = "timeout"
    else:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:300]


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
