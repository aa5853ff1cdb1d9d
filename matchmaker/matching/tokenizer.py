"""The one text pipeline: normalize, segment with a private jieba tokenizer, drop noise.

The module owns a single ``jieba.Tokenizer`` built lazily from jieba's default dictionary plus the
versioned domain dictionary in ``data/``; nothing else in the process should touch jieba's globals.
"""

from __future__ import annotations

import array
import hashlib
import logging
import marshal
import os
import re
import tempfile
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).with_name("data")
DICT_PATH = DATA_DIR / "domain_dict.txt"
STOPWORDS_PATH = DATA_DIR / "stopwords.txt"

_VERSION_RE = re.compile(r"^#\s*version:\s*(\S+)\s*$")
# A token is kept only if it holds a Han character, a Latin letter or a digit.
_CONTENT_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaffa-z0-9]")
_NUMBER_RE = re.compile(r"^[0-9]+(?:\.[0-9]+)?%?$")
_ALNUM_RE = re.compile(r"^[a-z0-9]+$")
# Connectors that glue Latin/number pieces into one term when no space separates them
# (GaN-on-Si, 0.5mm, COVID-19, 99.9%, C++).
_GLUE = {".", "-", "+", "/", "%", "#", "_"}
_UNITS = frozenset(
    "英寸 寸 纳米 微米 毫米 厘米 米 千米 公里 吨 千克 公斤 克 毫克 瓦 千瓦 兆瓦 吉瓦 伏 千伏 "
    "安 毫安 赫兹 千赫 兆赫 吉赫 比特 位 核 轴 层 度 倍 通道 线 寸屏 万吨 千瓦时 兆帕 吉帕 "
    "nm μm um mm cm m km kg g mg w kw mw gw v kv hz khz mhz ghz bit".split()
)

_lock = threading.Lock()
_tokenizer = None
# Tokenizers with staff-added terms, keyed by (terms, stop words); built once per vocabulary.
_variants: dict[tuple[tuple[str, ...], tuple[str, ...]], object] = {}
_t2s = None


class DictionaryError(ValueError):
    """A shipped dictionary or word-list file is malformed."""


def _read_lines(path: Path) -> tuple[str, list[tuple[int, str]]]:
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raise DictionaryError(f"{path}: starts with a UTF-8 BOM; save it as UTF-8 without BOM")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DictionaryError(f"{path}: not valid UTF-8 ({exc})") from None
    version = None
    lines = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        match = _VERSION_RE.match(line)
        if match and version is None:
            version = match.group(1)
        if line and not line.startswith("#"):
            lines.append((number, line))
    if version is None:
        raise DictionaryError(f"{path}: missing a '# version: ...' header line")
    return version, lines


def normalize(text: str) -> str:
    """Return NFKC-normalized, lower-cased, simplified-Chinese text."""
    text = unicodedata.normalize("NFKC", text).lower()
    if not _traditional_chars().isdisjoint(text):
        text = _converter().convert(text)
    return text


@lru_cache(maxsize=1)
def _traditional_chars() -> frozenset[str]:
    import opencc

    table = Path(opencc.__file__).with_name("dictionary") / "TSCharacters.txt"
    chars = set()
    for line in table.read_text(encoding="utf-8").splitlines():
        source, _, targets = line.partition("\t")
        if len(source) == 1 and targets.split(" ")[0] != source:
            chars.add(source)
    return frozenset(chars)


def _converter():
    global _t2s
    if _t2s is None:
        from opencc import OpenCC

        _t2s = OpenCC("t2s")
    return _t2s


@lru_cache(maxsize=1)
def load_dictionary() -> tuple[str, tuple[tuple[str, int | None], ...]]:
    """Read and validate the domain dictionary: (version, ((term, freq or None), ...))."""
    version, lines = _read_lines(DICT_PATH)
    entries = []
    for number, line in lines:
        parts = line.split()
        if len(parts) > 2 or (len(parts) == 2 and not parts[1].isdigit()):
            raise DictionaryError(
                f"{DICT_PATH}:{number}: expected 'term [frequency]', got {line!r}"
            )
        term = unicodedata.normalize("NFKC", parts[0]).lower()
        entries.append((term, int(parts[1]) if len(parts) == 2 else None))
    return version, tuple(entries)


@lru_cache(maxsize=1)
def load_stopwords() -> tuple[str, frozenset[str]]:
    """Read the stop-word list: (version, words)."""
    version, lines = _read_lines(STOPWORDS_PATH)
    words = frozenset(
        unicodedata.normalize("NFKC", w).lower() for _, line in lines for w in line.split()
    )
    return version, words


def dictionary_version() -> str:
    """Return the combined version of the domain dictionary, stop words and synonym groups."""
    from .synonyms import load_synonyms

    return f"{load_dictionary()[0]}.{load_stopwords()[0]}.{load_synonyms()[0]}"


def get_tokenizer():
    """Return the module's jieba tokenizer, building it on first use."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                _tokenizer = _build_tokenizer()
    return _tokenizer


def _build_tokenizer():
    import jieba

    logging.getLogger("jieba").setLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    path, key = _cache_path(jieba), _cache_key(jieba)
    state = _read_cache(path, key) if path is not None else None
    if state is not None:
        # The prefix dictionary with our terms already added, as initialize() + add_word build it.
        tokenizer.FREQ, tokenizer.total = state
        tokenizer.initialized = True
        return tokenizer
    tokenizer.initialize()
    for term, freq in load_dictionary()[1]:
        tokenizer.add_word(term, freq)
    # Synonyms are words too, so that 无损检测 reaches the synonym table whole.
    from .synonyms import synonym_terms

    for term in synonym_terms():
        if not tokenizer.FREQ.get(term):
            tokenizer.add_word(term)
    # Multi-character stop words become words too, so that 本项目 is dropped whole, not left as 本.
    for word in load_stopwords()[1]:
        if len(word) > 1 and word not in tokenizer.FREQ:
            tokenizer.add_word(word)
    if path is not None:
        _write_cache(path, key, tokenizer.FREQ, tokenizer.total)
    return tokenizer


def normalize_words(words) -> tuple[str, ...]:
    """Return words NFKC-normalized, lower-cased, deduplicated, sorted: a stable vocabulary key."""
    return tuple(sorted({unicodedata.normalize("NFKC", w).strip().lower() for w in words} - {""}))


def extra_version(extra_terms=(), extra_stopwords=(), synonyms=()) -> str:
    """Return a short digest of staff-added terms, stop words and synonyms ('' when none)."""
    terms, stops = normalize_words(extra_terms), normalize_words(extra_stopwords)
    groups = sorted(" ".join(unicodedata.normalize("NFKC", t).lower() for t in g) for g in synonyms)
    if not terms and not stops and not groups:
        return ""
    import hashlib

    payload = "\n".join(terms) + "\n--\n" + "\n".join(stops)
    if groups:  # only when present, so digests of vocabularies without synonyms stay the same
        payload += "\n--\n" + "\n".join(groups)
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()[:10]


def _variant_tokenizer(extra_terms: tuple[str, ...], extra_stopwords: tuple[str, ...]):
    """Return a copy of the base tokenizer that also knows the extra terms and stop words."""
    key = (extra_terms, extra_stopwords)
    tokenizer = _variants.get(key)
    if tokenizer is None:
        with _lock:
            tokenizer = _variants.get(key)
            if tokenizer is None:
                tokenizer = _copy_tokenizer(get_tokenizer())
                for word in (*extra_terms, *extra_stopwords):
                    if word not in tokenizer.FREQ or not tokenizer.FREQ[word]:
                        tokenizer.add_word(word)
                if len(_variants) >= 4:  # vocabularies change rarely; keep memory bounded
                    _variants.clear()
                _variants[key] = tokenizer
    return tokenizer


def _copy_tokenizer(base):
    import jieba

    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ = dict(base.FREQ)
    tokenizer.total = base.total
    tokenizer.user_word_tag_tab = dict(base.user_word_tag_tab)
    tokenizer.initialized = True
    return tokenizer


def cache_dir() -> Path | None:
    """Return where the initialized tokenizer state is cached (None disables the cache)."""
    configured = os.environ.get("MATCHMAKER_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "matchmaker"


def _cache_key(jieba) -> str:
    """Identify what the prefix dictionary is built from: our files, jieba and its dictionary."""
    digest = hashlib.sha256()
    digest.update(DICT_PATH.read_bytes())
    digest.update(STOPWORDS_PATH.read_bytes())
    digest.update((DATA_DIR / "synonyms.txt").read_bytes())
    main = Path(jieba.__file__).with_name(jieba.DEFAULT_DICT_NAME)
    stat = main.stat()
    digest.update(f"{jieba.__version__}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return f"{dictionary_version()}-{jieba.__version__}-{digest.hexdigest()[:20]}"


def _cache_path(jieba) -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    return folder / f"jieba-{_cache_key(jieba)}.bin"


def _read_cache(path: Path, key: str):
    """Return (FREQ, total) from a cache file written for this key, or None."""
    try:
        payload = marshal.loads(path.read_bytes())
        stored_key, words, freqs, total = payload
        if (
            stored_key != key
            or not isinstance(words, str)
            or not isinstance(total, int)
            or total <= 0
        ):
            return None
        counts = array.array("q")
        counts.frombytes(freqs)
        words = words.split("\n")
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if len(words) != len(counts):
        return None
    return dict(zip(words, counts.tolist(), strict=True)), total


def _write_cache(path: Path, key: str, freq: dict, total: int) -> None:
    """Write the cache atomically; a read-only or full disk only costs the next start its speed."""
    # One joined string and one int64 array load several times faster than a marshalled dict.
    payload = (key, "\n".join(freq), array.array("q", freq.values()).tobytes(), total)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".jieba-", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(marshal.dumps(payload))
        os.replace(temp, path)
    except OSError:
        logging.getLogger(__name__).warning("cannot write tokenizer cache %s", path)


def split_dictionary_terms() -> list[str]:
    """Return dictionary terms the tokenizer would still split (should be empty)."""
    tokenizer = get_tokenizer()
    return [
        term
        for term, _ in load_dictionary()[1]
        if _merge(tokenizer.lcut(term, HMM=False)) != [term]
    ]


def _merge(pieces: list[str]) -> list[str]:
    """Glue Latin/number fragments and number+unit pairs that jieba splits."""
    out: list[str] = []
    for piece in pieces:
        if out:
            prev = out[-1]
            if piece in _GLUE and prev and prev[-1].isalnum() and prev.isascii():
                out[-1] = prev + piece
                continue
            if (
                prev
                and prev[-1] in _GLUE
                and prev.isascii()
                and len(prev) > 1
                and _ALNUM_RE.match(piece)
            ):
                out[-1] = prev + piece
                continue
            if piece in _UNITS and _NUMBER_RE.match(prev):
                out[-1] = prev + piece
                continue
        out.append(piece)
    return out


def tokenize(text: str, hmm: bool = False, extra_terms=(), extra_stopwords=()) -> list[str]:
    """Tokenize text: normalize, segment, keep whole Latin/number terms, drop stop words."""
    if not text:
        return []
    text = normalize(text)
    stop = load_stopwords()[1]
    if extra_terms or extra_stopwords:
        extra_terms, extra_stopwords = (
            normalize_words(extra_terms),
            normalize_words(extra_stopwords),
        )
        tokenizer = _variant_tokenizer(extra_terms, extra_stopwords)
        stop = stop | frozenset(extra_stopwords)
    else:
        tokenizer = get_tokenizer()
    pieces = tokenizer.lcut(text, HMM=hmm)
    tokens = []
    for token in _merge(pieces):
        token = token.strip("._-/#")
        if not token or token in stop or not _CONTENT_RE.search(token) or _NUMBER_RE.match(token):
            continue
        tokens.append(token)
    return tokens
