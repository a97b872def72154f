"""A PostgreSQL address the tests can take away and bring back, without touching the shared server.

    outage = Outage()                       # a free loopback port that refuses connections (the database is down)
    engine = make_engine(outage.url(pg))    # pg: the real server's URL; host and port are replaced
    outage.up(pg)                           # forward the port to the real server (the database is back)
    outage.down()                           # refuse again, and cut every open connection

Without a real server (`up` never called) the URL simply points at a closed port.
"""

from __future__ import annotations

import contextlib
import socket
import threading

from sqlalchemy.engine import make_url

DEAD_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/crm_down"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Outage:
    def __init__(self) -> None:
        self.port = _free_port()
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def url(self, real: str = DEAD_PG) -> str:
        return make_url(real).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    def up(self, real: str) -> None:
        u = make_url(real)
        target = (u.host or "127.0.0.1", u.port or 5432)
        lst = socket.socket()
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lst.bind(("127.0.0.1", self.port))
        lst.listen(64)
        self._listener = lst
        threading.Thread(target=self._accept, args=(lst, target), daemon=True).start()

    def down(self) -> None:
        with self._lock:
            lst, self._listener = self._listener, None
            conns, self._conns = self._conns, []
        for s in ([lst] if lst else []) + conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _accept(self, lst: socket.socket, target: tuple[str, int]) -> None:
        while True:
            try:
                client, _ = lst.accept()
            except OSError:
                return
            server = socket.create_connection(target)
            with self._lock:
                self._conns += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)
