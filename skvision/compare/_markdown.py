"""Text from the data (class and folder names, notes) written into ``report.md`` as itself.

Class names come from folder names, which may hold any character: a ``|`` in a
table cell splits the cell (every number after it moved one column right of its
header), and ``<i>`` or ``&amp;`` are read as HTML. :func:`markdown_text` escapes
them; :func:`markdown_table` builds a table of escaped cells.
"""

from __future__ import annotations

import re

__all__ = ["markdown_table", "markdown_text"]

# Characters Markdown (GitHub's flavour) reads as syntax anywhere in a line. Underscores are left as
# they are: within a word (golden_retriever) they emphasise nothing.
_ESCAPES = str.maketrans({"\\": "\\\\", "|": "\\|", "*": "\\*", "`": "\\`", "[": "\\[", "]": "\\]"})
# HTML only where it would be read as HTML: a tag's start ("<i", "</", "<!") or an entity ("&amp;"); a
# "p < 0.001" stays readable in the file.
_HTML = re.compile(r"<(?=[A-Za-z/!?])|&(?=#?\w+;)")


def markdown_text(text):
    """``text`` escaped so that Markdown shows it as written, on one line.

    Examples
    --------
    >>> markdown_text("x|y <i>it&amp;")
    'x\\\\|y &lt;i>it&amp;amp;'
    >>> markdown_text("golden_retriever, p < 0.001")
    'golden_retriever, p < 0.001'
    """
    escaped = " ".join(str(text).split("\n")).translate(_ESCAPES)
    return _HTML.sub(lambda match: "&lt;" if match.group() == "<" else "&amp;", escaped)


def markdown_table(header, rows, align):
    """A Markdown table of ``header`` and ``rows`` (sequences of cells), every cell escaped.

    ``align`` holds one of ``"---"`` (left) or ``"---:"`` (right) per column.

    Examples
    --------
    >>> print(markdown_table(["class", "n"], [["x|y", 60]], ["---", "---:"]))
    | class | n |
    |---|---:|
    | x\\|y | 60 |
    """
    lines = ["| " + " | ".join(markdown_text(cell) for cell in header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(markdown_text(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
