"""Run-length encoding of text without digits: 'aaab' is '3a1b'."""


def encode(text: str) -> str:
    """Each run of one character as its length followed by the character."""
    if not text:
        return ""
    parts = []
    current, count = text[0], 1
    for char in text[1:]:
        if char == current:
            count += 1
        else:
            parts.append(f"{count}{current}")
            current, count = char, 1
    parts.append(f"{count}{current}")
    return "".join(parts)


def decode(encoded: str) -> str:
    """The text `encode` made `encoded` from; a character with no count stands once."""
    out = []
    digits = ""
    for char in encoded:
        if char.isdigit():
            digits = char
        else:
            out.append(char * int(digits or "1"))
            digits = ""
    return "".join(out)
