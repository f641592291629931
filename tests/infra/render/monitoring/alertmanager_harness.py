"""A real Alertmanager on loopback, with a recorder standing in for Telegram."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from tests.processes import free_port, serving
from tests.tools import tool


class TelegramRecorder:
    """Answers the Telegram Bot API's sendMessage and keeps every message text."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                recorder.messages.append(body)
                reply = {
                    "ok": True,
                    "result": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "group"}},
                }
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def received(self, text: str) -> bool:
        return any(text in message for message in self.messages)

    def close(self) -> None:
        self.server.shutdown()


def for_loopback(config: dict[str, Any], telegram_url: str, token_file: Path) -> dict[str, Any]:
    """The generated config with Telegram pointed at the recorder and waits shortened.

    Only delivery endpoints and timings change; routes, matchers, time
    intervals and inhibition are exactly as generated.
    """
    config = json.loads(json.dumps(config))

    def shorten(route: dict[str, Any]) -> None:
        for key in ("group_wait", "group_interval"):
            if key in route or route is config["route"]:
                route[key] = "1s"
        for child in route.get("routes", []):
            shorten(child)

    shorten(config["route"])
    for receiver in config["receivers"]:
        for telegram in receiver.get("telegram_configs", []):
            telegram["api_url"] = telegram_url
            telegram["bot_token_file"] = str(token_file)
    return config


class Alertmanager:
    def __init__(self, url: str) -> None:
        self.url = url

    def post(self, *alerts: dict[str, str]) -> None:
        now = datetime.now(UTC).isoformat()
        body = json.dumps(
            [{"labels": labels, "annotations": {}, "startsAt": now} for labels in alerts]
        ).encode()
        request = urllib.request.Request(
            f"{self.url}/api/v2/alerts",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200

    def alerts(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.url}/api/v2/alerts", timeout=5) as response:
            result: list[dict[str, Any]] = json.load(response)
            return result

    def state(self, alertname: str, **labels: str) -> str:
        for alert in self.alerts():
            found = alert["labels"]
            if found.get("alertname") == alertname and all(found.get(k) == v for k, v in labels.items()):
                return str(alert["status"]["state"])
        raise AssertionError(f"alert {alertname} {labels} not in Alertmanager")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def running_alertmanager(config: dict[str, Any], workdir: Path) -> Iterator[Alertmanager]:
    config_path = workdir / "alertmanager.yml"
    config_path.write_text(yaml.safe_dump(config))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        str(tool("alertmanager")),
        f"--config.file={config_path}",
        f"--storage.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        # A single instance: no gossip port.
        "--cluster.listen-address=",
    ]
    with serving(command, workdir / "alertmanager.log", lambda: _answers(f"{url}/-/ready"), timeout=15):
        yield Alertmanager(url)


def wait_until(condition: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return bool(condition())
