"""Keyword matching on folded text, fast enough to run on every decision.

`fold_words(text)` returns exactly `app.text.fold(text).split()`, but on a C-level path:
NFD, drop every non-ASCII character by encoding to ASCII, then lower-case and turn punctuation
into spaces with one byte table. It is exact whenever each character of the text leaves exactly
one ASCII character after NFD: Unicode has no canonical decomposition with two ASCII characters,
and in those with one, every other character is a combining mark, which `fold` drops too (a
test checks both facts over all code points for the running Python). So the fast result is used
when the ASCII byte count equals the text length; any other text (emoji, CJK, ø, a stray
combining mark...) goes through `fold` itself.
"""

import unicodedata
from itertools import islice

from app.text import fold, plain_d

# Byte table: A-Z -> a-z, 0-9 and a-z kept, everything else -> space.
_BYTES = bytes(
    c + 32 if 65 <= c <= 90 else c if (48 <= c <= 57 or 97 <= c <= 122) else 32 for c in range(256)
)


def fold_words(text: str) -> list[str]:
    """`fold(text).split()`, fast."""
    if text.isascii():
        return text.encode().translate(_BYTES).decode().split()
    text_d = plain_d(text)
    ascii_only = unicodedata.normalize("NFD", text_d).encode("ascii", "ignore")
    if len(ascii_only) != len(text_d):
        return fold(text).split()
    return ascii_only.translate(_BYTES).decode().split()


def fold_fast(text: str) -> str:
    """Exactly `fold(text)`."""
    return " ".join(fold_words(text))


class PhraseIndex:
    """Which of many keyword phrases occur, as whole words, in a text.

    Phrases are folded word tuples. One-word phrases are found by set intersection with the
    text's words, two-word phrases by looking up the text's word pairs that start with a known
    first word, longer phrases by a substring check on the padded text once their first two
    words are seen. Each phrase carries an int (a rule mask); `find` ORs those of the phrases
    present.
    """

    def __init__(self, phrases: dict[str, int]) -> None:
        self.single: dict[str, int] = {}
        self.pairs: dict[str, tuple[int, tuple[tuple[str, int], ...]]] = {}
        longer: dict[str, list[tuple[str, int]]] = {}
        pair_masks: dict[str, int] = {}
        for phrase, mask in phrases.items():
            words = fold_words(phrase)
            if len(words) == 1:
                self.single[words[0]] = self.single.get(words[0], 0) | mask
                continue
            pair = f"{words[0]} {words[1]}"
            if len(words) == 2:
                pair_masks[pair] = pair_masks.get(pair, 0) | mask
            else:
                longer.setdefault(pair, []).append((f" {' '.join(words)} ", mask))
        for pair in pair_masks.keys() | longer.keys():
            self.pairs[pair] = (pair_masks.get(pair, 0), tuple(longer.get(pair, ())))
        self.single_words = frozenset(self.single)
        self.by_first: dict[str, dict[str, tuple[int, tuple[tuple[str, int], ...]]]] = {}
        for pair, entry in self.pairs.items():
            first, second = pair.split()
            self.by_first.setdefault(first, {})[second] = entry

    def find(self, text: str) -> int:
        words = fold_words(text)
        found = 0
        if self.single:
            for word in self.single_words.intersection(words):
                found |= self.single[word]
        if self.by_first:
            padded_text: str | None = None
            seconds_of = self.by_first.get
            for first, second in zip(words, islice(words, 1, None), strict=False):
                seconds = seconds_of(first)
                if seconds is None:
                    continue
                entry = seconds.get(second)
                if entry is None:
                    continue
                found |= entry[0]
                for phrase, mask in entry[1]:
                    if padded_text is None:
                        padded_text = f" {' '.join(words)} "
                    if phrase in padded_text:
                        found |= mask
        return found


def padded(text: str) -> str:
    """' folded text ': a keyword ' k ' is found in it as whole words with `in`."""
    return f" {fold_fast(text)} "
