"""Our small async client for the WeChat API: the stable access token, customer-service
messages, the typing indicator, media download and the custom menu.

The access token is fetched in one place under one lock, so a burst of calls after it
expires makes one `stable_token` request, not one per call; a call that fails with an
invalid or expired token (40001, 42001, 40014) refreshes it and is retried once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import Any

import httpx

from bot.channels.errors import WechatApiError, WechatUnreachable

DEFAULT_API_BASE = "https://api.weixin.qq.com"
TOKEN_ERRORS = frozenset({40001, 42001, 40014})
# Refresh this long before WeChat's expiry, so a token never dies in flight.
TOKEN_MARGIN_S = 300
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


class _RedactTokens(logging.Filter):
    """httpx logs request URLs at INFO; the access token travels in the query string."""

    _TOKEN = re.compile(r"access_token=[^&\s\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self._TOKEN.sub("access_token=***", str(a)) if "access_token=" in str(a) else a
                for a in record.args
            )
        return True


_httpx_log = logging.getLogger("httpx")
if not any(isinstance(f, _RedactTokens) for f in _httpx_log.filters):
    _httpx_log.addFilter(_RedactTokens())


class WechatApiClient:
    def __init__(
        self,
        appid: str,
        secret: str,
        base_url: str = DEFAULT_API_BASE,
        timeout_s: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not appid or not secret:
            raise ValueError("appid and secret are required")
        self._appid, self._secret = appid, secret
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout_s, transport=transport)
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def access_token(self) -> str:
        token = self._valid_token()
        if token:
            return token
        async with self._lock:
            return self._valid_token() or await self._fetch_token()

    async def send_text(self, openid: str, content: str) -> None:
        payload = {"touser": openid, "msgtype": "text", "text": {"content": content}}
        await self.call("POST", "/cgi-bin/message/custom/send", payload)

    async def typing(self, openid: str, on: bool = True) -> None:
        command = "Typing" if on else "CancelTyping"
        payload = {"touser": openid, "command": command}
        await self.call("POST", "/cgi-bin/message/custom/typing", payload)

    async def create_menu(self, menu: dict[str, Any]) -> None:
        await self.call("POST", "/cgi-bin/menu/create", menu)

    async def get_media(self, media_id: str) -> bytes:
        """A temporary media file (a citizen's image or voice) by its MediaId."""
        for attempt in range(2):
            token = await self.access_token()
            query = {"media_id": media_id}
            response = await self._send("GET", "/cgi-bin/media/get", token, None, query)
            is_json = "json" in response.headers.get("content-type", "")
            if not is_json and response.content[:1] != b"{":
                return response.content
            data = self._json(response)
            if attempt == 0 and data.get("errcode") in TOKEN_ERRORS:
                await self._refresh_after(token)
                continue
            raise WechatApiError(int(data.get("errcode", -2)), str(data.get("errmsg", "")))
        raise AssertionError("unreachable")

    async def call(
        self, method: str, path: str, payload: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """One API call with the access token; WechatApiError on a non-zero errcode."""
        for attempt in range(2):
            token = await self.access_token()
            data = self._json(await self._send(method, path, token, payload, params))
            code = int(data.get("errcode", 0) or 0)
            if code in TOKEN_ERRORS and attempt == 0:
                await self._refresh_after(token)
                continue
            if code:
                raise WechatApiError(code, str(data.get("errmsg", "")))
            return data
        raise AssertionError("unreachable")

    def _valid_token(self) -> str | None:
        return self._token if self._token and time.monotonic() < self._expires_at else None

    async def _refresh_after(self, stale: str) -> None:
        async with self._lock:
            if self._token == stale:  # nobody refreshed it while we waited for the lock
                self._token = None
                await self._fetch_token()

    async def _fetch_token(self) -> str:
        body = {"grant_type": "client_credential", "appid": self._appid,
                "secret": self._secret, "force_refresh": False}
        data = self._json(await self._post_json("/cgi-bin/stable_token", body, {}))
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise WechatApiError(int(data.get("errcode", -2)), str(data.get("errmsg", "no token")))
        lifetime = int(data.get("expires_in", 7200))
        self._token = token
        self._expires_at = time.monotonic() + max(lifetime - TOKEN_MARGIN_S, lifetime // 2)
        return token

    async def _send(
        self, method: str, path: str, token: str, payload: dict[str, Any] | None,
        params: dict[str, str] | None,
    ) -> httpx.Response:
        query = {**(params or {}), "access_token": token}
        if method == "GET":
            return await self._request(self._http.build_request("GET", path, params=query))
        return await self._post_json(path, payload or {}, query)

    async def _post_json(
        self, path: str, payload: dict[str, Any], query: dict[str, str]
    ) -> httpx.Response:
        # WeChat shows \uXXXX escapes literally in some APIs: send real UTF-8.
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        request = self._http.build_request(
            "POST", path, params=query, content=body,
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        return await self._request(request)

    async def _request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self._http.send(request)
        except NOT_SENT as exc:
            raise WechatUnreachable(f"{type(exc).__name__}", maybe_sent=False) from exc
        except httpx.HTTPError as exc:
            raise WechatUnreachable(f"{type(exc).__name__}", maybe_sent=True) from exc
        if response.status_code >= 500:
            raise WechatUnreachable(f"HTTP {response.status_code}", maybe_sent=True)
        return response

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError as exc:
            raise WechatUnreachable("response is not JSON", maybe_sent=True) from exc
        if not isinstance(data, dict):
            raise WechatUnreachable("response is not a JSON object", maybe_sent=True)
        return data
