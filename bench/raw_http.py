"""A minimal HTTP/1.1 keep-alive client on asyncio streams, for load that must cost the machine little.

The login storm compares the portal's sign-in rate with what bcrypt alone does on all cores, and the bench
client runs on the same cores: with httpx it cost about 13 ms of CPU per sign-in (request building, header
models, its connection pool), CPU the server's hashes did not get. This sends a prepared request and reads
the status line, the headers and a Content-Length or chunked body, nothing else. One request at a time per
connection; a connection the server closes is reopened on the next request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json as jsonlib


class RawConnection:
    def __init__(self, host: str, port: int, timeout: float = 60.0):
        self.host, self.port, self.timeout = host, port, timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        self._reader = self._writer = None

    def _head(self, method: str, path: str, length: int | None) -> bytes:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Accept: application/json"]
        if length is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {length}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")

    async def request(self, method: str, path: str, json: object | None = None) -> tuple[int, bytes]:
        return await asyncio.wait_for(self._request(method, path, json), self.timeout)

    async def _request(self, method: str, path: str, json: object | None) -> tuple[int, bytes]:
        body = jsonlib.dumps(json).encode() if json is not None else b""
        for attempt in (1, 2):  # a kept-alive connection the server has closed meanwhile: reopen once
            if self._writer is None:
                await self._open()
            try:
                self._writer.write(self._head(method, path, len(body) if json is not None else None) + body)
                await self._writer.drain()
                return await self._response()
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _response(self) -> tuple[int, bytes]:
        head = await self._reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            data = await self._reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self._reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
                chunk = await self._reader.readexactly(size + 2)
                if size == 0:
                    break
                parts.append(chunk[:-2])
            data = b"".join(parts)
        else:  # no framing: the body runs to the end of the connection
            data = await self._reader.read()
            await self.close()
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, data
