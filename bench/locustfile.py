"""Load test users for `POST /v1/answers`: first questions, SSE streams and follow-ups with the conversation secret.
Usage: .venv/bin/locust -f bench/locustfile.py --headless -u 32 -r 8 -t 2m --host http://127.0.0.1:8000
(bench/load.py starts the servers and runs this file in both storage modes)."""

from __future__ import annotations

import json
import random

from load_questions import CLINICIAN, FOLLOW_UPS, OUT_OF_CORPUS, PATIENT
from locust import HttpUser, between, task


class Asker(HttpUser):
    """One visitor: asks a first question, sometimes streams it, and sometimes follows up in the same conversation."""

    wait_time = between(0.1, 0.5)

    def on_start(self) -> None:
        self.conversation: tuple[str, str] | None = None  # (conversation_id, secret) of this user's last opening
        self.turns = 0
        self.audience = random.choice(["clinician", "patient"])

    def _question(self) -> str:
        pool = random.choices([CLINICIAN, PATIENT, OUT_OF_CORPUS], weights=[5, 4, 1])[0]
        return random.choice(pool)

    def _keep(self, answer: dict[str, object]) -> None:
        secret, conversation = answer.get("conversation_secret"), answer.get("conversation_id")
        if isinstance(secret, str) and isinstance(conversation, str):
            self.conversation, self.turns = (conversation, secret), 0

    @task(6)
    def ask(self) -> None:
        body = {"question": self._question(), "audience": self.audience}
        with self.client.post("/v1/answers", json=body, name="answer (json)", catch_response=True) as res:
            if res.status_code != 200:
                res.failure(f"HTTP {res.status_code}: {res.text[:200]}")
                return
            answer = res.json()
            if "abstained" not in answer or "id" not in answer:
                res.failure(f"not an answer: {res.text[:200]}")
                return
            self._keep(answer)

    @task(2)
    def stream(self) -> None:
        body = {"question": self._question(), "audience": self.audience}
        headers = {"Accept": "text/event-stream"}
        with self.client.post("/v1/answers", json=body, headers=headers, stream=True, name="answer (sse)",
                              catch_response=True) as res:
            if res.status_code != 200:
                res.failure(f"HTTP {res.status_code}: {res.text[:200]}")
                return
            event, done = "", None
            for line in res.iter_lines(decode_unicode=True):
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event == "done":
                    done = json.loads(line.split(":", 1)[1])
            if done is None:
                res.failure("the stream ended without a done event")
                return
            self._keep(done)

    @task(2)
    def follow_up(self) -> None:
        if self.conversation is None or self.turns >= 3:  # a visitor follows up a few times, then asks anew
            return self.ask()
        self.turns += 1
        conversation, secret = self.conversation
        body = {"question": random.choice(FOLLOW_UPS), "conversation_id": conversation, "audience": self.audience}
        with self.client.post("/v1/answers", json=body, headers={"X-Conversation-Secret": secret},
                              name="follow-up", catch_response=True) as res:
            if res.status_code != 200:
                res.failure(f"HTTP {res.status_code}: {res.text[:200]}")
            elif res.json().get("conversation_id") != conversation:
                res.failure("the follow-up was answered in another conversation")
        return None
