"""Channels: how citizens reach the assistant from outside the HTTP API.

The WeChat Official Account (公众号) channel, one concern per module:

  wechat.py          the webhook (GET/POST /channels/wechat), WechatChannel, create_wechat_router
  wechat_config.py   WechatConfig, filled by server.py from BOT_WECHAT_*
  wechat_crypto.py   signatures and the safe-mode AES envelope (key rotation included)
  wechat_inbound.py  safe XML parsing of what WeChat posts
  wechat_reply.py    answering within WeChat's 5 s window: shared jobs, deadline, fallbacks
  wechat_answer.py   what each message or event gets (dialogue, menu, media, events)
  wechat_render.py   replies as WeChat text (2048 bytes, continuations, links, choices)
  wechat_menu.py     the menu YAML (wechat_menu.yaml) and `wechat menu push`
  wechat_api.py      our async WeChat API client (stable token, messages, media, menu)
  wechat_sender.py   WechatSender, the OutboundSender for staff replies
  outbox.py          the persisted outbox of customer-service messages
  inbox.py, follower.py, tables.py, store.py   persistence (migration 0003_wechat)
  rate_limit.py      per-citizen sliding window
  wechat_bench.py    the webhook benchmark for `make bench`

`server.py` mounts the channel only when it is configured. See docs/wechat.md.
"""
