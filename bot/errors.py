"""Errors of the conversation core.

BotError
 ├── StorageUnavailable      the conversation database cannot be reached (HTTP 503)
 ├── ConversationNotFound
 └── InvalidMessage          empty, oversized or otherwise unusable input (HTTP 422)
"""


class BotError(Exception):
    pass


class StorageUnavailable(BotError):
    pass


class ConversationNotFound(BotError):
    pass


class InvalidMessage(BotError):
    pass
