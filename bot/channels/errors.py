"""Errors of the channels.

ChannelError
 ├── WechatRequestError          an inbound webhook request we refuse (status chosen in the route)
 │    ├── BadSignature           signature / msg_signature / appid do not match (403)
 │    ├── StaleRequest           timestamp outside the freshness window (403)
 │    ├── UndecryptableMessage   AES payload with bad length, padding or text (400)
 │    ├── MalformedMessage       not XML, a DTD or entity, missing fields (400)
 │    └── PayloadTooLarge        body over the limit (413)
 ├── WechatApiError              the API answered with a non-zero errcode
 ├── WechatUnreachable           the API could not be reached; `maybe_sent` says whether
 │                               the request may have arrived (then we must not resend)
 └── MenuError                   the menu YAML is invalid
"""

from __future__ import annotations


class ChannelError(Exception):
    pass


class WechatRequestError(ChannelError):
    pass


class BadSignature(WechatRequestError):
    pass


class StaleRequest(WechatRequestError):
    pass


class UndecryptableMessage(WechatRequestError):
    pass


class MalformedMessage(WechatRequestError):
    pass


class PayloadTooLarge(WechatRequestError):
    pass


class WechatApiError(ChannelError):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WechatUnreachable(ChannelError):
    def __init__(self, message: str, maybe_sent: bool) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


class MenuError(ChannelError):
    pass
