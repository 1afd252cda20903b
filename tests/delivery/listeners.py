"""Tiny HTTP/1.1 listeners on loopback that record which address each request reached.

They run in the test's own event loop (asyncio servers), on 127.0.0.1 or ::1, optionally with
TLS (recording the SNI name each handshake asked for). A path can answer with a redirect.
"""

from __future__ import annotations

import asyncio
import datetime
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Hit:
    listener: str  # the address the connection was accepted on
    host: str  # the Host header
    path: str


@dataclass
class Listeners:
    hits: list[Hit] = field(default_factory=list)
    sni: list[str | None] = field(default_factory=list)
    redirects: dict[str, str] = field(default_factory=dict)
    _servers: list[asyncio.Server] = field(default_factory=list)

    async def listen(self, address: str, port: int = 0, tls: ssl.SSLContext | None = None) -> int:
        """Accept on ``address`` (``port`` 0: any free one); the port."""
        if tls is not None:
            tls.sni_callback = lambda _obj, name, _ctx: self.sni.append(name)

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._answer(address, reader, writer)

        server = await asyncio.start_server(handle, address, port, ssl=tls)
        self._servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    def paths(self, listener: str | None = None) -> list[str]:
        return [h.path for h in self.hits if listener is None or h.listener == listener]

    async def close(self) -> None:
        for server in self._servers:
            server.close()
            await server.wait_closed()

    async def _answer(
        self, address: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            path = head[0].split(" ")[1]
            headers = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in head[1:] if line)
            }
            await reader.readexactly(int(headers.get("content-length", "0")))
            self.hits.append(Hit(address, headers.get("host", ""), path))
            if path in self.redirects:
                status = f"302 Found\r\nLocation: {self.redirects[path]}"
            else:
                status = "200 OK"
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".encode()
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()


def self_signed(folder: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A certificate for the DNS name ``name`` only: (server context, client trusting it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_file, key_file = folder / f"{name}.crt", folder / f"{name}.key"
    cert_file.write_bytes(cert_pem)
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return server, client
