"""Percent-encoding of form text (UTF-8, with '+' for a space)."""

SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
HEX = "0123456789ABCDEF"


class DecodeError(ValueError):
    """Malformed percent-encoding or bytes that are not UTF-8 (in strict mode)."""


def quote(text: str) -> str:
    """`text` encoded for a form: safe bytes kept, ' ' as '+', the rest as %XX."""
    out = []
    for byte in text.encode("utf-8"):
        if byte in SAFE:
            out.append(chr(byte))
        elif byte == 0x20:
            out.append("+")
        else:
            out.append("%" + HEX[byte >> 4] + HEX[byte & 15])
    return "".join(out)


def unquote(text: str, *, strict: bool = False) -> str:
    """Form text decoded: '+' is a space, %XX a byte. A '%' not followed by two hex digits is
    kept as it is (or an error when `strict`)."""
    data = bytearray()
    i = 0
    raw = text.replace("+", " ").encode("utf-8")
    while i < len(raw):
        if raw[i] == 0x25:  # '%'
            pair = raw[i + 1:i + 3]
            try:
                if len(pair) != 2:
                    raise ValueError
                data.append(int(pair, 16))
                i += 3
                continue
            except ValueError:
                if strict:
                    raise DecodeError(f"bad escape at {i} in {text!r}") from None
        data.append(raw[i])
        i += 1
    try:
        return data.decode("utf-8", errors="strict" if strict else "replace")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"not UTF-8: {text!r}") from exc
