"""A tiny SMTP server in a thread of the test process, switchable at run time between
"silent" (accepts the connection and never says a word: the mail server that hung an intake
request for 75 s), "answer" (speaks just enough SMTP and keeps every message it got) and
"no-such-user" (answers, but refuses every recipient with a 550).
A refused connection needs no server: `closed_port()` is a port nobody listens on."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes


@dataclass
class State:
    mode: str = "silent"
    messages: list[Received] = field(default_factory=list)
    connections: int = 0
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(socketserver.StreamRequestHandler):
    timeout = 30
    server: _Server

    def handle(self) -> None:
        state = self.server.state
        with state.lock:
            state.connections += 1
        if state.mode == "silent":
            # Hold the connection without a greeting until the client gives up.
            self.request.settimeout(0.2)
            while not state.stopping.is_set():
                try:
                    if not self.request.recv(1024):
                        return
                except TimeoutError:
                    continue
                except OSError:
                    return
            return
        self._speak(state)

    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")
        self.wfile.flush()

    def _speak(self, state: State) -> None:
        self._reply("220 test ESMTP")
        sender, recipients = "", []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            command = raw.decode("ascii", "replace").strip()
            verb = command[:4].upper()
            if verb == "EHLO":
                self._reply("250-test")
                self._reply("250 8BITMIME")
            elif verb == "HELO":
                self._reply("250 test")
            elif verb == "MAIL":
                sender, recipients = command.partition(":")[2].strip(), []
                self._reply("250 OK")
            elif verb == "RCPT":
                if state.mode == "no-such-user":
                    self._reply("550 5.1.1 no such user")
                    continue
                recipients.append(command.partition(":")[2].strip().strip("<>"))
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 end with .")
                lines = []
                while True:
                    line = self.rfile.readline()
                    if not line or line in (b".\r\n", b".\n"):
                        break
                    lines.append(line[1:] if line.startswith(b"..") else line)
                with state.lock:
                    state.messages.append(Received(sender, recipients, b"".join(lines)))
                self._reply("250 queued")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:  # RSET, NOOP, anything else
                self._reply("250 OK")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    state: State


class SMTPServer:
    """`with SMTPServer() as smtp:` — `smtp.port`, `smtp.mode = "answer"`, `smtp.messages`."""

    def __init__(self, mode: str = "silent") -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = State(mode=mode)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def state(self) -> State:
        return self._server.state

    @property
    def mode(self) -> str:
        return self.state.mode

    @mode.setter
    def mode(self, value: str) -> None:
        self.state.mode = value

    @property
    def messages(self) -> list[Received]:
        with self.state.lock:
            return list(self.state.messages)

    def __enter__(self) -> SMTPServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.state.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        time.sleep(0.05)


def closed_port() -> int:
    """A local port with nothing listening: connecting is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
