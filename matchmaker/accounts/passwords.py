"""Password rules: long enough, not a common password, not an obvious pattern, not the login."""

import unicodedata

from matchmaker.core.exceptions import ServiceError

MIN_PASSWORD = 8
# The most common passwords of published leak studies (SplashData/NordPass top lists, the
# Chinese CSDN/Tianya leaks), lower-cased; patterns below catch their variations.
COMMON_PASSWORDS = frozenset(
    """
    123456 123456789 12345678 password qwerty123 qwerty 1q2w3e4r 111111 1234567890 000000
    abc123 password1 iloveyou 1qaz2wsx 123123 admin123 qwertyuiop 654321 123321 666666
    888888 112233 121212 5201314 woaini woaini1314 1314520 a123456 a12345678 aa123456
    abcd1234 qq123456 123qwe 1q2w3e 1q2w3e4r5t zxcvbnm asdfghjkl qazwsx qazwsxedc
    password123 passw0rd p@ssw0rd p@ssword admin admin888 administrator root123 root
    welcome welcome1 letmein monkey dragon sunshine princess football baseball superman
    batman trustno1 master shadow michael jennifer charlie starwars whatever freedom
    computer internet secret secret123 changeme default guest test1234 test123 testtest
    iloveyou1 loveyou lovely 7758521 7758258 147258369 159357 147258 159753 987654321
    987654 123654 1234qwer qwer1234 asdf1234 zxcv1234 1qazxsw2 zaq12wsx q1w2e3r4 q1w2e3r4t5
    a1b2c3d4 abc12345 abcdef abcdefg abcdefgh 11223344 12341234 123123123 123456a 123456aa
    woaini520 wang1234 li123456 zhang123 asd123456 qwe123456 aaa111 qweasdzxc qweasd123
    """.split()
)
# Rows of a keyboard and the alphabet: a run along one of them is a pattern, not a password.
SEQUENCES = (
    "0123456789012345678901234567890",
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiopasdfghjklzxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
)


def normalise(text: str) -> str:
    """The one form a login (or a password being compared with it) is matched in."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


def _is_sequence(text: str) -> bool:
    for row in SEQUENCES:
        if text in row or text in row[::-1]:
            return True
    return False


def _repeats_a_short_unit(text: str) -> bool:
    # "aaaaaaaa", "abababab", "abcabcabc", "12121212": a unit of up to 3 characters repeated.
    return any(
        len(text) % size == 0 and text == text[:size] * (len(text) // size) for size in (1, 2, 3)
    )


def password_problem(password: str, login: str = "") -> str | None:
    """Why a password is refused (Chinese), or None when it is acceptable."""
    if len(password) < MIN_PASSWORD:
        return f"密码至少需要{MIN_PASSWORD}个字符"
    if not password.strip():
        return "密码不能只由空格组成"
    text = normalise(password)
    core = text.strip("!@#$%^&*.,_-+=~ ")
    if text in COMMON_PASSWORDS or core in COMMON_PASSWORDS:
        return "该密码过于常见，容易被猜中，请换一个"
    if _repeats_a_short_unit(text) or _is_sequence(text):
        return "密码不能是重复字符或连续序列（如12345678、aaaaaaaa）"
    name = normalise(login)
    if len(name) >= 3 and (name in text or text in name or name[::-1] in text):
        return "密码不能包含登录名或由登录名变化而来"
    stripped = core.rstrip("0123456789").lstrip("0123456789")
    if stripped and (stripped in COMMON_PASSWORDS or (len(name) >= 3 and stripped == name)):
        return "该密码过于常见，容易被猜中，请换一个"
    return None


def check_password(password: str, login: str = "", field: str = "password") -> None:
    """Raise a field error when the password is refused."""
    problem = password_problem(password, login)
    if problem:
        raise ServiceError(problem, field=field)
