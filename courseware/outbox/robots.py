"""Group robots: post a text to a 企业微信 (WeCom), 钉钉 (DingTalk) or 飞书 (Feishu) group through its webhook.

Each platform's public format for a custom robot's text message. A signature is made when the post is
sent, never when it is queued: the platforms refuse one more than an hour old.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests

TIMEOUT = 10  # seconds
RETRYABLE_HTTP = {408, 429}


class RobotError(Exception):
    """The platform did not take the post; `permanent` when trying again cannot help (a wrong URL or key)."""

    def __init__(self, reason: str, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


@dataclass(frozen=True)
class Platform:
    label: str
    request: Callable[[str, str | None, str, float], tuple[str, dict]]  # (url, secret, text, now) → (url, body)
    status_fields: tuple[str, ...]  # where the answer holds its code, 0 meaning taken
    bad_key: frozenset[int]  # codes saying the URL, its key or the signature is wrong


def _signature(key: str, message: str) -> str:
    return base64.b64encode(hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()).decode()


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query="&".join(filter(None, [parts.query, urlencode(params)]))))


def _wecom(url: str, secret: str | None, text: str, now: float) -> tuple[str, dict]:
    return url, {"msgtype": "text", "text": {"content": text}}


def _dingtalk(url: str, secret: str | None, text: str, now: float) -> tuple[str, dict]:
    body = {"msgtype": "text", "text": {"content": text}}
    if not secret:
        return url, body
    timestamp = str(round(now * 1000))
    return _with_query(url, timestamp=timestamp, sign=_signature(secret, f"{timestamp}\n{secret}")), body


def _feishu(url: str, secret: str | None, text: str, now: float) -> tuple[str, dict]:
    body: dict = {"msg_type": "text", "content": {"text": text}}
    if secret:
        timestamp = str(int(now))
        body |= {"timestamp": timestamp, "sign": _signature(f"{timestamp}\n{secret}", "")}
    return url, body


PLATFORMS = {
    "wecom": Platform("企业微信 WeCom", _wecom, ("errcode",), frozenset({93000})),
    "dingtalk": Platform("钉钉 DingTalk", _dingtalk, ("errcode",), frozenset({300001, 310000})),
    "feishu": Platform("飞书 Feishu", _feishu, ("code", "StatusCode"), frozenset({19001, 19021})),
}


def post(kind: str, url: str, secret: str | None, text: str) -> None:
    """Post `text` to the group robot at `url`; raise RobotError when it was not taken."""
    platform = PLATFORMS.get(kind)
    if platform is None:
        raise RobotError(f"unknown robot kind {kind!r}", permanent=True)
    target, body = platform.request(url, secret, text, time.time())
    try:
        response = requests.post(target, json=body, timeout=TIMEOUT)
    except requests.RequestException as error:  # its text holds the URL, and with it the key: name the host only
        raise RobotError(f"{type(error).__name__}: no answer from {urlsplit(url).hostname}") from None
    _check(platform, response)


def _check(platform: Platform, response: requests.Response) -> None:
    status = response.status_code
    if status >= 400:
        raise RobotError(f"HTTP {status}: {response.text[:200]}", permanent=status < 500 and status not in RETRYABLE_HTTP)
    try:
        answer = response.json()
    except ValueError:
        raise RobotError(f"HTTP {status}, not a JSON answer: {response.text[:200]}") from None
    answer = answer if isinstance(answer, dict) else {}
    code = next((answer[field] for field in platform.status_fields if field in answer), None)
    if code != 0:
        reason = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
        raise RobotError(f"{platform.label} answered {code}: {reason}"[:500], permanent=code in platform.bad_key)
