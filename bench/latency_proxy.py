#!/usr/bin/env python3
"""A loopback HTTP/1.1 reverse proxy that adds a fixed latency to every request.

Used by bench/kms_exec.sh to put a "far away" KMS endpoint in front of moto:

    python3 bench/latency_proxy.py --upstream http://127.0.0.1:5000 \
        --delay-ms 50 --port 0 --stats stats.json

What it does:
- listens on 127.0.0.1 (loopback only; `--port 0` picks a free port) and
  prints the port on stdout, alone on one line, once it is accepting;
- for each request read from a client: waits `--delay-ms` (default 50), then
  forwards the request unchanged (Host and signature headers included) to the
  upstream and relays the response back. Each request is delayed on its own,
  so concurrent requests on different connections overlap their delays, as
  they would against a distant server;
- keep-alive: a client connection carries any number of requests, answered
  in order, and stays open whatever the upstream does (Connection and
  Keep-Alive are hop-by-hop headers; moto's werkzeug server answers
  `Connection: close` every time, a real KMS endpoint keeps connections
  open). Each client connection gets its own upstream connection, opened
  when needed and reopened after the upstream closed it, so the client sees
  a keep-alive server even in front of moto;
- `--connect-delay-ms` (default 0) additionally delays each NEW client
  connection before its first request is read, to model the TCP (and TLS)
  handshake round trips that a real remote endpoint costs;
- bodies are delimited by Content-Length or `Transfer-Encoding: chunked`
  (requests and responses, relayed as-is, trailers included); a response
  with neither is read until the upstream closes, and the client connection
  is closed after it. `Expect: 100-continue` is answered by the proxy itself;
- counts requests, in total and by their `X-Amz-Target` header (e.g.
  `TrentService.Decrypt`), plus connections and the peak number of requests
  in flight, and writes them as JSON to `--stats FILE` (atomically, by
  rename) whenever they change and on SIGTERM/SIGINT;
- `--trace FILE` appends one JSON line per request (client connection id,
  when it was accepted, received, forwarded after the delay, and answered),
  to see where a client's wall time goes;
- `--replay TARGET` (diagnostic, off by default) answers a request with that
  `X-Amz-Target` and a body already seen from the upstream's earlier 200
  response instead of asking the upstream again (the delay still applies).
  Decrypt of the same blob and context always has the same answer, so this
  takes the upstream's own processing time (moto: a few ms per request, one
  at a time) out of a measurement without faking any answer;
- exits by itself after `--max-seconds` (default 600).

Standard library only (asyncio). Python 3.8+.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import signal
import socket
import sys
import time
from urllib.parse import urlsplit

MAX_HEAD = 64 * 1024  # bytes of request/response line + headers
COPY_CHUNK = 64 * 1024
UPSTREAM_TIMEOUT = 120.0  # seconds to wait for an upstream response


class BadMessage(Exception):
    """A request or response this proxy cannot parse."""


class Stats:
    """Counters, written to a JSON file whenever they change."""

    def __init__(self, path: str | None, delay_ms: float, connect_delay_ms: float, upstream: str):
        self.path = path
        self.started = time.time()
        self.data = {
            "upstream": upstream,
            "delay_ms": delay_ms,
            "connect_delay_ms": connect_delay_ms,
            "requests": 0,
            "responses": 0,
            "by_target": {},
            "by_status": {},
            "client_connections": 0,
            "upstream_connections": 0,
            "in_flight": 0,
            "max_in_flight": 0,
            "errors": 0,
            "replayed": 0,
        }
        self._pending = False

    def request(self, target: str | None) -> None:
        d = self.data
        d["requests"] += 1
        key = target or "(none)"
        d["by_target"][key] = d["by_target"].get(key, 0) + 1
        d["in_flight"] += 1
        d["max_in_flight"] = max(d["max_in_flight"], d["in_flight"])
        self.changed()

    def response(self, status: int | None) -> None:
        d = self.data
        d["in_flight"] -= 1
        if status is None:
            d["errors"] += 1
        else:
            d["responses"] += 1
            key = str(status)
            d["by_status"][key] = d["by_status"].get(key, 0) + 1
        self.changed()

    def bump(self, key: str) -> None:
        self.data[key] += 1
        self.changed()

    def changed(self) -> None:
        # Coalesce bursts: one write per event-loop pass. The write happens
        # before any delayed request is forwarded, so a reader that waits for
        # its client to finish always sees that client's requests counted.
        if self.path and not self._pending:
            self._pending = True
            asyncio.get_running_loop().call_soon(self.write)

    def write(self) -> None:
        self._pending = False
        if not self.path:
            return
        self.data["uptime_s"] = round(time.time() - self.started, 3)
        tmp = f"{self.path}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.data, f, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(tmp, self.path)


class Message:
    """A parsed start line plus headers, with the raw head kept for relaying."""

    def __init__(self, raw: bytes):
        self.raw = raw
        lines = raw.decode("latin-1").split("\r\n")
        self.start = lines[0]
        self.headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            if not line:
                continue
            if line[0] in " \t":
                raise BadMessage("obsolete header line folding")
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise BadMessage(f"malformed header line {line!r}")
            self.headers.append((name.lower(), value.strip()))

    def get(self, name: str) -> str | None:
        for k, v in self.headers:
            if k == name:
                return v
        return None

    def get_all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name]

    def tokens(self, name: str) -> list[str]:
        out: list[str] = []
        for v in self.get_all(name):
            out.extend(t.strip().lower() for t in v.split(",") if t.strip())
        return out

    def chunked(self) -> bool:
        te = self.tokens("transfer-encoding")
        return bool(te) and te[-1] == "chunked"

    def content_length(self) -> int | None:
        values = {v.strip() for v in self.get_all("content-length")}
        if not values:
            return None
        if len(values) != 1:
            raise BadMessage("conflicting Content-Length headers")
        value = values.pop()
        if not value.isdigit():
            raise BadMessage(f"bad Content-Length {value!r}")
        return int(value)

    def without(self, *names: str, add: bytes = b"") -> bytes:
        """The raw head with every header line called one of `names` removed,
        and the header line(s) `add` (CRLF-terminated) appended."""
        drop = {n.encode() for n in names}
        lines = self.raw.split(b"\r\n")
        keep = [lines[0]] + [
            ln for ln in lines[1:] if ln and ln.split(b":", 1)[0].strip().lower() not in drop
        ]
        return b"\r\n".join(keep) + b"\r\n" + add + b"\r\n"


async def read_head(reader: asyncio.StreamReader) -> bytes | None:
    """Reads a start line plus headers; None on a clean EOF before any byte."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        if not e.partial.strip():
            return None
        raise BadMessage("connection closed inside a message head") from e
    except asyncio.LimitOverrunError as e:
        raise BadMessage("message head too large") from e
    # Tolerate stray CRLFs between messages (RFC 9112 §2.2).
    return head.lstrip(b"\r\n")


async def copy_exact(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
    while n > 0:
        chunk = await reader.read(min(n, COPY_CHUNK))
        if not chunk:
            raise BadMessage("connection closed inside a body")
        writer.write(chunk)
        n -= len(chunk)
        await writer.drain()


async def copy_chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Relays a chunked body as-is, up to and including its trailer section."""
    while True:
        line = await reader.readuntil(b"\r\n")
        writer.write(line)
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError as e:
            raise BadMessage(f"bad chunk size {line!r}") from e
        if size == 0:
            while True:  # trailers, ended by an empty line
                trailer = await reader.readuntil(b"\r\n")
                writer.write(trailer)
                if trailer == b"\r\n":
                    await writer.drain()
                    return
        await copy_exact(reader, writer, size + 2)  # data + CRLF


async def copy_to_eof(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        chunk = await reader.read(COPY_CHUNK)
        if not chunk:
            return
        writer.write(chunk)
        await writer.drain()


async def copy_body(msg: Message, reader, writer, *, request: bool) -> None:
    if msg.chunked():
        await copy_chunked(reader, writer)
        return
    length = msg.content_length()
    if length is not None:
        await copy_exact(reader, writer, length)
    elif not request:
        await copy_to_eof(reader, writer)
    # A request with neither header has no body (RFC 9112 §6.3).


def response_has_body(method: str, status: int) -> bool:
    return not (method == "HEAD" or 100 <= status < 200 or status in (204, 304))


def wants_close(msg: Message, version: str) -> bool:
    conn = msg.tokens("connection")
    if "close" in conn:
        return True
    return version == "HTTP/1.0" and "keep-alive" not in conn


class Tee:
    """A client writer that also keeps a copy of what went through it."""

    def __init__(self, writer: asyncio.StreamWriter):
        self.writer = writer
        self.parts: list[bytes] = []

    def write(self, b: bytes) -> None:
        self.parts.append(b)
        self.writer.write(b)

    async def drain(self) -> None:
        await self.writer.drain()


class Proxy:
    def __init__(self, args: argparse.Namespace, upstream_host: str, upstream_port: int, stats: Stats):
        self.delay = args.delay_ms / 1000.0
        self.connect_delay = args.connect_delay_ms / 1000.0
        self.host = upstream_host
        self.port = upstream_port
        self.stats = stats
        self.replay_targets = set(args.replay)
        self.replay_cache: dict[tuple[str, bytes], bytes] = {}
        self.trace = open(args.trace, "a", encoding="utf-8", buffering=1) if args.trace else None
        self.tasks: set[asyncio.Task] = set()
        self.next_conn = 0

    def record(self, **fields) -> None:
        if self.trace:
            self.trace.write(json.dumps(fields, sort_keys=True) + "\n")

    async def handle(self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter) -> None:
        self.tasks.add(asyncio.current_task())
        self.stats.bump("client_connections")
        self.next_conn += 1
        conn_id, accepted, nth = self.next_conn, time.time(), 0
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            if self.connect_delay:
                await asyncio.sleep(self.connect_delay)
            while True:
                head = await read_head(creader)
                if head is None:
                    return
                received = time.time()
                req = Message(head)
                parts = req.start.split(" ")
                if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
                    raise BadMessage(f"unsupported request line {req.start!r}")
                method, version = parts[0], parts[2]
                target = req.get("x-amz-target")
                self.stats.request(target)
                nth += 1
                status, replayed, forwarded = None, False, None
                try:
                    if "100-continue" in req.tokens("expect"):
                        cwriter.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                        head = req.without("expect")
                    # Read the whole request body before the delay, so the
                    # delay is one full "round trip" per request.
                    body = await read_body(req, creader)
                    key = (target or "", body) if target in self.replay_targets else None
                    if self.delay:
                        await asyncio.sleep(self.delay)
                    forwarded = time.time()
                    if key is not None and key in self.replay_cache:
                        cwriter.write(self.replay_cache[key])
                        await cwriter.drain()
                        status, replayed, close = 200, True, False
                        self.stats.bump("replayed")
                    else:
                        out = Tee(cwriter) if key is not None else cwriter
                        upstream, status, close = await self.forward(
                            upstream, method, head, body, out
                        )
                        if key is not None and status == 200 and not close:
                            self.replay_cache[key] = b"".join(out.parts)
                finally:
                    self.stats.response(status)
                    self.record(
                        conn=conn_id,
                        accepted=accepted,
                        nth_on_conn=nth,
                        target=target,
                        received=received,
                        forwarded=forwarded,
                        done=time.time(),
                        status=status,
                        replayed=replayed,
                    )
                if close or wants_close(req, version):
                    return
        except (BadMessage, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as e:
            log(f"client connection dropped: {e}")
        except (ConnectionError, OSError, asyncio.TimeoutError) as e:
            log(f"client connection failed: {e!r}")
            try:
                body = f"latency_proxy: upstream failed: {e!r}\n".encode()
                cwriter.write(
                    b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await cwriter.drain()
            except (ConnectionError, OSError):
                pass
        finally:
            for w in (cwriter, upstream[1] if upstream else None):
                if w is not None:
                    w.close()
            self.tasks.discard(asyncio.current_task())

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        r, w = await asyncio.open_connection(self.host, self.port, limit=MAX_HEAD)
        sock = w.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.stats.bump("upstream_connections")
        return r, w

    async def forward(self, upstream, method: str, head: bytes, body: bytes, cwriter):
        """Sends one request upstream and relays its response to the client.

        Returns (upstream connection or None, status, close the client?)."""
        for attempt in (0, 1):
            reused = upstream is not None
            if upstream is None:
                upstream = await self.connect()
            ureader, uwriter = upstream
            try:
                uwriter.write(head + body)
                await uwriter.drain()
                rhead = await asyncio.wait_for(read_head(ureader), UPSTREAM_TIMEOUT)
            except (ConnectionError, OSError, BadMessage):
                rhead = None
            if rhead is None:
                # An idle keep-alive connection the upstream had closed:
                # nothing of the response was seen, so retry once afresh.
                uwriter.close()
                upstream = None
                if reused and attempt == 0:
                    continue
                raise ConnectionError("upstream closed the connection without a response")
            break
        while True:
            resp = Message(rhead)
            parts = resp.start.split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
                raise BadMessage(f"bad status line {resp.start!r}")
            status = int(parts[1])
            if status == 101:
                raise BadMessage("protocol upgrades are not supported")
            if 100 <= status < 200:  # interim responses, relayed as they are
                cwriter.write(rhead)
                rhead = await asyncio.wait_for(read_head(ureader), UPSTREAM_TIMEOUT)
                if rhead is None:
                    raise ConnectionError("upstream closed after an interim response")
                continue
            break
        delimited = resp.chunked() or resp.content_length() is not None
        # Without a length the client learns the end of the body only by EOF.
        client_close = response_has_body(method, status) and not delimited
        # Connection and Keep-Alive are hop-by-hop: the client's connection
        # stays open whatever the upstream does (moto's werkzeug answers
        # `Connection: close` every time), as a real keep-alive endpoint's would.
        cwriter.write(
            resp.without(
                "connection", "keep-alive", add=b"Connection: close\r\n" if client_close else b""
            )
        )
        if response_has_body(method, status):
            await asyncio.wait_for(copy_body(resp, ureader, cwriter, request=False), UPSTREAM_TIMEOUT)
        await cwriter.drain()
        upstream_close = wants_close(resp, parts[0]) or (
            response_has_body(method, status) and not delimited
        )
        if upstream_close:
            uwriter.close()
            upstream = None
        return upstream, status, client_close


async def read_body(req: Message, reader: asyncio.StreamReader) -> bytes:
    """The request body in its wire form (chunked stays chunked)."""

    class Sink:
        def __init__(self):
            self.parts: list[bytes] = []

        def write(self, b: bytes) -> None:
            self.parts.append(b)

        async def drain(self) -> None:
            pass

    sink = Sink()
    await copy_body(req, reader, sink, request=True)
    return b"".join(sink.parts)


def log(msg: str) -> None:
    print(f"latency_proxy: {msg}", file=sys.stderr, flush=True)


def loopback_only(host: str, what: str) -> str:
    """Resolves `host` and insists that every address is loopback."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        sys.exit(f"latency_proxy: cannot resolve {what} {host!r}: {e}")
    addrs = {info[4][0] for info in infos}
    if not addrs or not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addrs):
        sys.exit(f"latency_proxy: {what} {host!r} is not a loopback address ({', '.join(sorted(addrs))})")
    return sorted(addrs)[0]


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--upstream", required=True, help="http://127.0.0.1:PORT of the real server (loopback only)")
    p.add_argument("--listen", default="127.0.0.1", help="loopback address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one (default)")
    p.add_argument("--delay-ms", type=float, default=50.0, help="delay added to every request (default 50)")
    p.add_argument("--connect-delay-ms", type=float, default=0.0,
                   help="delay added once per new client connection (default 0)")
    p.add_argument("--stats", metavar="FILE", help="write request counts as JSON here")
    p.add_argument("--trace", metavar="FILE",
                   help="append one JSON line per request: connection, times (epoch seconds), status")
    p.add_argument("--replay", metavar="TARGET", action="append", default=[],
                   help="answer a request with this X-Amz-Target whose body was seen before from "
                        "the upstream's earlier 200 response, without asking the upstream again "
                        "(still delayed); repeatable. A diagnostic to take the upstream's own "
                        "processing time out of a measurement")
    p.add_argument("--max-seconds", type=float, default=600.0, help="exit after this long (default 600)")
    args = p.parse_args(argv)
    if args.delay_ms < 0 or args.connect_delay_ms < 0 or args.max_seconds <= 0:
        p.error("delays must be >= 0 and --max-seconds > 0")
    return args


async def main(argv: list[str]) -> int:
    args = parse_args(argv)
    url = urlsplit(args.upstream if "//" in args.upstream else "http://" + args.upstream)
    if url.scheme != "http" or not url.hostname or not url.port:
        sys.exit("latency_proxy: --upstream must be http://HOST:PORT (TLS is not supported)")
    upstream_host = loopback_only(url.hostname, "upstream")
    listen_host = loopback_only(args.listen, "--listen")

    stats = Stats(args.stats, args.delay_ms, args.connect_delay_ms, args.upstream)
    proxy = Proxy(args, upstream_host, url.port, stats)
    server = await asyncio.start_server(
        proxy.handle, listen_host, args.port, limit=MAX_HEAD, backlog=1024, reuse_address=True
    )
    for sock in server.sockets:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    port = server.sockets[0].getsockname()[1]

    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def stop(reason: str) -> None:
        if not done.done():
            done.set_result(reason)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop, signal.Signals(sig).name)
    loop.call_later(args.max_seconds, stop, f"--max-seconds {args.max_seconds:g} reached")

    stats.write()
    print(port, flush=True)
    log(f"listening on {listen_host}:{port}, forwarding to {args.upstream} with {args.delay_ms:g} ms per request")

    reason = await done
    server.close()
    for task in list(proxy.tasks):
        task.cancel()
    await asyncio.gather(*proxy.tasks, return_exceptions=True)
    stats.data["in_flight"] = 0
    stats.write()
    log(f"stopping ({reason}) after {stats.data['requests']} requests")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
