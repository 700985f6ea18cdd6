"""Normalise a citizen's message before rules and features see it.

The function lives with the knowledge base, the layer both the intent model and retrieval
stand on: retrieval embeds the same normalised text, so one embedding serves both."""

from knowledge_base.text import normalize_text

__all__ = ["normalize_text"]
