"""Messages to whoever started the trainer (the CLI, the extension): the training protocol's worker → parent
messages (src/worker/train-protocol.ts), one JSON object a line on stdout."""

from __future__ import annotations

import json
import os
import sys

from . import PROTOCOL_VERSION


class Events:
    def __init__(self, stream=None, enabled: bool = True):
        self.stream = stream or sys.stdout
        self.enabled = enabled

    def send(self, message: dict) -> None:
        if not self.enabled:
            return
        self.stream.write(json.dumps(message, ensure_ascii=False, allow_nan=True) + "\n")
        self.stream.flush()

    def ready(self) -> None:
        self.send({"type": "ready", "version": PROTOCOL_VERSION, "pid": os.getpid()})

    def event(self, event: dict) -> None:
        self.send({"type": "event", "event": event})

    def done(self, summary: dict) -> None:
        self.send({"type": "done", "summary": summary})

    def error(self, message: str, cancelled: bool = False) -> None:
        self.send({"type": "error", "message": message, **({"cancelled": True} if cancelled else {})})
