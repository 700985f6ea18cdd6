"""Channels: how citizens reach the assistant from outside the HTTP API.

`wechat` is the WeChat Official Account (公众号) webhook; `wechat_sender` carries staff
replies back through WeChat's customer-service message API. `server.py` mounts a channel
only when it is configured.
"""
