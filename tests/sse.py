"""Reading server-sent events from a live server in tests."""

from __future__ import annotations

from typing import Any

import httpx


def sse_events(client: httpx.Client, path: str, body: dict[str, Any]) -> list[tuple[str, str]]:
    """(event, data) pairs of a streamed POST, in order; asserts a 200 event stream."""
    events: list[tuple[str, str]] = []
    with client.stream("POST", path, json=body, headers={"accept": "text/event-stream"}) as res:
        assert res.status_code == 200, res.read()
        assert res.headers["content-type"].startswith("text/event-stream")
        event = ""
        for line in res.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                events.append((event, line.split(":", 1)[1].strip()))
    return events
