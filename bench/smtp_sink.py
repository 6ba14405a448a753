"""The local SMTP server the mail figure sends to, in a process of its own (bench/mail.py starts it).

aiosmtpd on 127.0.0.1 at a free port, which it prints on its first line. It
takes every message and keeps none; when its standard input closes it stops
and prints how many messages it took.
"""

from __future__ import annotations

import socket
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self) -> None:
        self.taken = 0

    async def handle_DATA(self, server, session, envelope):
        self.taken += 1
        return "250 OK"


def main() -> None:
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    print(controller.port, flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()
        print(sink.taken, flush=True)


if __name__ == "__main__":
    main()
