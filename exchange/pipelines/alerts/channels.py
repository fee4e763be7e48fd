"""Where alerts go: a signed JSON webhook, a group-chat robot webhook, e-mail over SMTP.

Each channel sends one event and raises `ChannelFailed` when it was not accepted, so the alert
is not marked as told and the next run sends it again (at least once, never silently lost).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import time
import urllib.parse
from email.message import EmailMessage
from typing import Protocol

import httpx

from exchange.core.settings import AlertSettings, SmtpChannel, WebhookChannel
from exchange.pipelines.alerts.schemas import AlertEvent

SIGNATURE_HEADER = "X-Hub-Alert-Signature"
TIMESTAMP_HEADER = "X-Hub-Alert-Timestamp"


class ChannelFailed(Exception):
    pass


class Channel(Protocol):
    name: str

    def send(self, event: AlertEvent) -> None: ...


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over `timestamp.body`: a receiver checks it and the timestamp's age, so a
    captured alert can be neither forged nor replayed later."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class Webhook:
    def __init__(self, config: WebhookChannel, timeout_s: float) -> None:
        self.config = config
        self.timeout_s = timeout_s
        self.name = f"webhook:{urllib.parse.urlsplit(config.url).netloc}"

    def send(self, event: AlertEvent) -> None:
        secret = self.config.secret.get_secret_value() if self.config.secret else None
        if self.config.shape == "robot":
            url, body, headers = self._robot(event, secret)
        else:
            url, body, headers = self._hub(event, secret)
        try:
            response = httpx.post(url, content=body, headers=headers, timeout=self.timeout_s)
        except httpx.HTTPError as exc:
            raise ChannelFailed(f"{self.name}: {type(exc).__name__}") from exc
        if response.status_code >= 300:
            raise ChannelFailed(f"{self.name} answered {response.status_code}")

    def _hub(self, event: AlertEvent, secret: str | None) -> tuple[str, bytes, dict[str, str]]:
        body = json.dumps(event.to_json(), ensure_ascii=False, sort_keys=True).encode()
        headers = {"Content-Type": "application/json"}
        if secret:
            ts = str(int(time.time()))
            headers |= {TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: sign(secret, ts, body)}
        return self.config.url, body, headers

    def _robot(self, event: AlertEvent, secret: str | None) -> tuple[str, bytes, dict[str, str]]:
        """DingTalk's custom robot message (WeCom takes the same markdown message); with a
        secret, DingTalk's signature: base64 HMAC-SHA256 of `timestamp\\nsecret`, in the URL."""
        text = f"### {event.title}\n\n{event.message}\n\n> node {event.node}"
        body = json.dumps(
            {"msgtype": "markdown", "markdown": {"title": event.title, "text": text}},
            ensure_ascii=False,
        ).encode()
        url = self.config.url
        if secret:
            ts = str(int(time.time() * 1000))
            mac = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256)
            sig = urllib.parse.quote_plus(base64.b64encode(mac.digest()).decode())
            url += ("&" if "?" in url else "?") + f"timestamp={ts}&sign={sig}"
        return url, body, {"Content-Type": "application/json"}


class Smtp:
    def __init__(self, config: SmtpChannel, timeout_s: float) -> None:
        self.config = config
        self.timeout_s = timeout_s
        self.name = f"smtp:{config.host}:{config.port}"

    def send(self, event: AlertEvent) -> None:
        c = self.config
        message = EmailMessage()
        message["From"] = c.sender
        message["To"] = ", ".join(c.recipients)
        message["Subject"] = event.title
        message.set_content(event.to_text())
        try:
            with smtplib.SMTP(c.host, c.port, timeout=self.timeout_s) as smtp:
                if c.starttls:
                    smtp.starttls()
                if c.username and c.password:
                    smtp.login(c.username, c.password.get_secret_value())
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise ChannelFailed(f"{self.name}: {type(exc).__name__}: {exc}") from exc


def channels_of(settings: AlertSettings) -> list[Channel]:
    out: list[Channel] = [Webhook(w, settings.timeout_s) for w in settings.webhooks]
    if settings.smtp is not None:
        out.append(Smtp(settings.smtp, settings.timeout_s))
    return out
