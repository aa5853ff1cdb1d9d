"""Pure checks of identifiers that people type: credit codes and patent numbers."""

import re

# GB 32100-2015: 18 characters from this alphabet (no I, O, S, V, Z); the last is a check character.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# CN patent application/publication numbers,
# e.g. CN201810123456.7, ZL 2018 1 0123456.7, CN108123456A.
PATENT_RE = re.compile(r"^(?:CN|ZL)?\s?(?:\d{4}\s?[1-9]\s?\d{7}\.?[0-9X]|\d{9}[A-Z]\d?)$")


def credit_code_check_char(first17: str) -> str:
    """Return the check character for the first 17 characters of a credit code."""
    total = sum(
        CREDIT_CODE_ALPHABET.index(ch) * w
        for ch, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=False)
    )
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def credit_code_error(code: str) -> str | None:
    """Explain what is wrong with a unified social credit code, or None when it is valid."""
    code = code.strip().upper()
    if len(code) != 18:
        return "统一社会信用代码应为18位"
    bad = [ch for ch in code if ch not in CREDIT_CODE_ALPHABET]
    if bad:
        return f"统一社会信用代码含有无效字符：{bad[0]}"
    if credit_code_check_char(code[:17]) != code[17]:
        return "统一社会信用代码校验位不正确"
    return None


def normalize_patent(number: str) -> str:
    """Upper-case a patent number and drop inner spaces."""
    return re.sub(r"\s+", "", number.strip().upper())


def patent_error(number: str) -> str | None:
    """Explain what is wrong with a Chinese patent number, or None when it looks valid."""
    if not PATENT_RE.match(normalize_patent(number)):
        return f"专利号格式不正确：{number}（示例：CN201810123456.7 或 CN108123456A）"
    return None
