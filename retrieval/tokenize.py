"""Chinese text normalisation and tokenisation for the sparse (BM25) index.

`ChineseTokenizer` owns a private `jieba.Tokenizer`, so the domain user dictionary
and synonym terms never leak into other users of the global jieba instance.
Normalisation folds what citizens type into one form: full-width ASCII to
half-width, traditional to simplified Chinese, lower case.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Iterable
from pathlib import Path

import jieba
import opencc
from opencc import OpenCC

DATA_DIR = Path(__file__).parent / "data"
USERDICT_PATH = DATA_DIR / "userdict.txt"
STOPWORDS_PATH = DATA_DIR / "stopwords.txt"
SYNONYMS_PATH = DATA_DIR / "synonyms.txt"

# Full-width ASCII block (U+FF01..U+FF5E) sits 0xFEE0 above its half-width twin.
_FULL_TO_HALF = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULL_TO_HALF[0x3000] = 0x20  # ideographic space
_CONTENT_RE = re.compile(r"[0-9a-z\u3400-\u9fff]")
_RUN_SPLIT_RE = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
# Courtesy and filler around a question; it moves the query vector without meaning.
_LEADING_FILLER_RE = re.compile(
    r"^(?:(?:您好|你好|请问一下|请问|麻烦问一下|麻烦问下|麻烦您|麻烦|打扰一下|打扰了|咨询一下|咨询下|"
    r"我想问一下|我想问下|我想问|想问一下|想问下|我想咨询一下|我想咨询|想咨询一下|想咨询|问一下|请教一下)"
    r"[\s,，.。!！:：~～、]*)+"
)
_TRAILING_FILLER_RE = re.compile(
    r"(?:[\s,，.。!！~～]*(?:谢谢您|谢谢你|谢谢|多谢|感谢|急急急|急|在线等|麻烦了|辛苦了))+[\s,，.。!！~～]*$"
)

# "除了营业执照还要办什么证": what follows 除了 is what the citizen already knows about, not
# what they ask; left in, it pulls the search towards itself.
_EXCEPT_RE = re.compile(
    r"除了[^，,。.？?！!；;]{1,15}?(?:以外|之外)?(?=[，,\s]*(?:还|也|另外|别的|其他|其它))"
)

logging.getLogger("jieba").setLevel(logging.WARNING)  # jieba prints its dict build at DEBUG


def strip_filler(text: str) -> str:
    """`text` without leading courtesy (请问, 您好 ...), trailing thanks (谢谢, 急 ...) and
    what it says it is not asking about (除了营业执照还要办什么证)."""
    stripped = _TRAILING_FILLER_RE.sub("", _LEADING_FILLER_RE.sub("", text.strip()))
    stripped = _EXCEPT_RE.sub("", stripped).lstrip("，, ")
    return stripped or text.strip()


def fingerprint_files(paths: Iterable[Path | None], *flags: object) -> str:
    """Digest of the data files and settings that decide which terms come out."""
    digest = hashlib.sha256(repr(flags).encode())
    for path in paths:
        digest.update(path.read_bytes() if path else b"-")
    return digest.hexdigest()[:16]


def traditional_characters() -> frozenset[str] | None:
    """Characters that can start a t2s change; text without any needs no conversion.

    The pure-Python converter took 40% of tokenising time, and almost all of our
    text is already simplified. Read from the converter's own dictionaries (None,
    meaning always convert, if they are not where this version keeps them).
    """
    directory = Path(opencc.__file__).parent / "dictionary"
    try:
        chars = {k for k, v in read_pairs(directory / "TSCharacters.txt") if v != k}
        for key, value in read_pairs(directory / "TSPhrases.txt"):
            if value != key and chars.isdisjoint(key):  # e.g. 反覆 -> 反复: 覆 alone stays
                changed = [k for k, v in zip(key, value, strict=False) if k != v]
                chars.update(changed if len(key) == len(value) else key)
    except OSError:
        return None
    return frozenset(chars)


def read_pairs(path: Path) -> list[tuple[str, str]]:
    rows = (line.split("\t") for line in path.read_text("utf-8").splitlines() if "\t" in line)
    return [(key, value.split(" ")[0]) for key, value in rows]


def read_lines(path: Path) -> list[str]:
    """Non-empty lines of a data file, `#` comments dropped."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text("utf-8").splitlines())
    return [line for line in lines if line]


def read_synonyms(path: Path) -> dict[str, str]:
    """Map every term of a synonym group to the group's first (canonical) term."""
    mapping: dict[str, str] = {}
    for line in read_lines(path):
        terms = line.split()
        for term in terms:
            mapping.setdefault(term.lower(), terms[0].lower())
    return mapping


class ChineseTokenizer:
    """Normalise, cut with jieba, drop stopwords and fold synonyms to one term.

    `search_mode` uses jieba's search cut, which also emits the words inside a
    long compound (驾驶证 inside 机动车驾驶证) so partial matches still score.
    """

    def __init__(
        self,
        userdict: Path | None = USERDICT_PATH,
        stopwords: Path | None = STOPWORDS_PATH,
        synonyms: Path | None = SYNONYMS_PATH,
        search_mode: bool = True,
    ) -> None:
        self.fingerprint = fingerprint_files([userdict, stopwords, synonyms], search_mode)
        self._opencc = OpenCC("t2s")
        self._traditional = traditional_characters()
        self._synonyms = read_synonyms(synonyms) if synonyms else {}
        self._stopwords = frozenset(self.normalize(w) for w in read_lines(stopwords)) if stopwords else frozenset()
        self._search_mode = search_mode
        self._jieba = jieba.Tokenizer()
        self._lock = threading.Lock()
        self._load_words(read_lines(userdict) if userdict else [])

    def _load_words(self, lines: Iterable[str]) -> None:
        self._jieba.initialize()
        for line in lines:
            word, *rest = line.split()
            freq = int(rest[0]) if rest and rest[0].isdigit() else None
            self._jieba.add_word(self.normalize(word), freq)
        for term in self._synonyms:
            self._jieba.add_word(term)

    def normalize(self, text: str) -> str:
        """Half-width, simplified, lower-case form of `text`."""
        half = text.translate(_FULL_TO_HALF)
        if self._traditional is None or not self._traditional.isdisjoint(half):
            half = self._opencc.convert(half)
        return half.lower()

    def tokenize(self, text: str) -> list[str]:
        """Content tokens of `text`, synonyms folded to their canonical term."""
        return self._words(self.normalize(text))

    def bigrams(self, text: str) -> list[str]:
        """Overlapping character bigrams of the normalised text, one word-run at a time.

        They match where word cutting disagrees between a question and an answer
        (身体条件 / 身体需符合哪些条件); a single-character run is kept whole.
        """
        return self._grams(self.normalize(text))

    def terms(self, text: str) -> list[str]:
        """BM25 terms: the words of `tokenize` plus the character bigrams (prefixed `#`)."""
        normal = self.normalize(text)
        return self._words(normal) + ["#" + gram for gram in self._grams(normal)]

    def _words(self, normal: str) -> list[str]:
        cut = self._jieba.cut_for_search if self._search_mode else self._jieba.cut
        words = []
        for token in cut(normal):
            token = token.strip()
            if token and token not in self._stopwords and _CONTENT_RE.search(token):
                words.append(self._synonyms.get(token, token))
        return words

    @staticmethod
    def _grams(normal: str) -> list[str]:
        grams: list[str] = []
        for run in _RUN_SPLIT_RE.split(normal):
            if len(run) == 1:
                grams.append(run)
            grams.extend(run[i : i + 2] for i in range(len(run) - 1))
        return grams

    def add_words(self, words: Iterable[str]) -> None:
        """Teach the cutter extra terms (for example an entry's keywords)."""
        with self._lock:
            for word in words:
                if len(word) > 1:
                    self._jieba.add_word(self.normalize(word))
