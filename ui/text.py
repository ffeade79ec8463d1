"""Text that people typed, made safe to put in Streamlit's Markdown (sentences, captions, labels).

A therapist types a patient's name, condition or surgery; Streamlit draws most text as
Markdown, so ``**Bob** [x](http://e)`` would show in bold with a link. :func:`plain` makes
such text show as it was typed.
"""

from __future__ import annotations

import re

# The punctuation Markdown gives a meaning to. CommonMark shows a backslash-escaped one as itself;
# escaped, it starts no emphasis, link, image, heading, list, quote, code, table, HTML or entity,
# nor Streamlit's $math$, :red[colours], :material/icons: or :emoji:. (' " , ; ? % @ mean nothing.)
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&/=^])")
# Some text is rewritten after the escapes are read: web and e-mail addresses become links
# (GFM's http://…, www.…, a@b.c), ":streamlit:" Streamlit's logo, " -> " an arrow. An invisible
# word joiner inside each such pattern (after "http", "www", "@", ":", "-"…) leaves nothing to rewrite.
_REWRITTEN = re.compile(r"(?i)(?:https?|mailto|xmpp)(?=:)|www(?=\.)|@|:(?=streamlit:)|[-<>~](?=[->=])")
WORD_JOINER = "\u2060"


def plain(text: str) -> str:
    """``text`` as Markdown that shows exactly that text, on one line.

    Markdown's punctuation is backslash-escaped (so a leading ``1.``, ``-`` or ``#`` is no
    list or heading either); an invisible word joiner (U+2060) goes inside what would
    still be rewritten after that (web addresses, ``->``). Runs of white space, line breaks
    included, become one space: the text is meant to sit inside a sentence.

    Args:
        text: what someone typed (a name, a condition, a file name…).

    Returns:
        Markdown source; Streamlit shows it as ``" ".join(text.split())`` (with the invisible joiners).
    """
    one_line = " ".join(str(text).split())
    return _SPECIAL.sub(r"\\\1", _REWRITTEN.sub(lambda m: m.group(0) + WORD_JOINER, one_line))


def sentence(message: object) -> str:
    """A message (an error's, which may quote what someone typed) as a sentence: capital, full stop, :func:`plain`."""
    text = str(message).strip()
    return plain(text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else "."))
