"""Build hook: the package index's long description is README.md with links that work there.

README.md links to files by relative path (the docs/*.svg pictures, the notebooks),
which work on a repository host but not on a package index page, where they resolve
against the index's own site and break. pyproject.toml declares ``readme`` dynamic
and this file supplies it: README.md with every relative link made absolute against
the repository URL in ``[project.urls]`` ("Source", "Repository" or "Homepage"), or,
while no such URL is declared, turned into plain text that names the file in the
source tree. Same-page anchors (``#...``) and anything inside code are left alone.
Everything else about the build is in pyproject.toml.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

if sys.version_info >= (3, 11):
    import tomllib
else:  # pyproject's build-system requires tomli on 3.10
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
URL_KEYS = ("source", "repository", "homepage")  # preferred first, matched case-insensitively

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+).*?(?<!`)\1(?!`)")
_INLINE = re.compile(r'(!?)\[([^\]]*)\]\(\s*<?([^)\s>]*)>?((?:\s+"[^"]*")?)\s*\)')
_REFERENCE = re.compile(r"^( {0,3}\[[^\]]+\]:\s*)<?([^\s>]+)>?(.*)$")
_HTML_ATTR = re.compile(r"""(\b(?:src|href)\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def is_relative(target: str) -> bool:
    """A link the package index would resolve against its own site (not http:, #, //)."""
    return bool(target) and not (
        target.startswith(("#", "//")) or _SCHEME.match(target) is not None
    )


def file_url(base: str, path: str, *, image: bool) -> str:
    """The absolute URL of repository file ``path`` under repository URL ``base``.

    On GitHub a picture needs the raw file (``/raw/HEAD/``) and a link the file's
    page (``/blob/HEAD/``); any other host is taken to serve the tree at ``base/``.
    """
    base = base.rstrip("/")
    path = path.removeprefix("./")
    parts = urlsplit(base)
    if parts.netloc.lower() in ("github.com", "www.github.com") and parts.path.count("/") == 2:
        return f"{base}/{'raw' if image else 'blob'}/HEAD/{path}"
    return f"{base}/{path}"


def repository_url(pyproject: dict) -> str | None:
    """The first of Source, Repository, Homepage in ``[project.urls]``, if any."""
    declared = pyproject.get("project", {}).get("urls", {})
    urls = {key.lower(): value for key, value in declared.items()}
    return next((urls[key] for key in URL_KEYS if urls.get(key)), None)


def _rewrite_inline(match: re.Match, base: str | None) -> str:
    bang, text, target, title = match.groups()
    if not is_relative(target):
        return match.group(0)
    image = bang == "!"
    if base is not None:
        return f"{bang}[{text}]({file_url(base, target, image=image)}{title})"
    where = f"`{target}` in chainrule's source repository"
    if image:
        return f"*(picture: {text or target}; {where})*"
    return f"{text} ({where})"


def _rewrite_text(text: str, base: str | None, line_no: int) -> str:
    """One stretch of a line outside code spans."""
    text = _INLINE.sub(lambda m: _rewrite_inline(m, base), text)

    def html(match: re.Match) -> str:
        prefix, quote, target = match.groups()
        if not is_relative(target):
            return match.group(0)
        if base is None:
            raise ValueError(
                f"README.md line {line_no}: the HTML link {target!r} is relative; it cannot "
                "work on the package index without a repository URL in [project.urls] "
                "(use a Markdown link, which becomes plain text, or add the URL)"
            )
        image = prefix.strip().lower().startswith("src")
        return f"{prefix}{quote}{file_url(base, target, image=image)}{quote}"

    return _HTML_ATTR.sub(html, text)


def long_description(readme: str, base: str | None) -> str:
    """README text whose links all work on a package index page (see the module docstring).

    Raises ValueError for a relative link that plain text cannot stand in for (a
    reference definition or an HTML attribute) when there is no repository URL.
    """
    out = []
    fence = None
    for line_no, line in enumerate(readme.splitlines(keepends=True), start=1):
        opening = _FENCE.match(line)
        if fence is not None:  # inside a fenced code block: copied as it is
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = None
            out.append(line)
            continue
        if opening:
            fence = opening.group(1)
            out.append(line)
            continue
        reference = _REFERENCE.match(line.rstrip("\n"))
        if reference and is_relative(reference.group(2)):
            if base is None:
                raise ValueError(
                    f"README.md line {line_no}: the reference link {reference.group(2)!r} is "
                    "relative; it cannot work on the package index without a repository URL "
                    "in [project.urls] (use an inline link, which becomes plain text, or add "
                    "the URL)"
                )
            head, target, tail = reference.groups()
            image = target.lower().endswith((".svg", ".png", ".jpg", ".jpeg", ".gif"))
            ending = "\n" if line.endswith("\n") else ""
            out.append(f"{head}{file_url(base, target, image=image)}{tail}{ending}")
            continue
        pieces, last = [], 0
        for span in _CODE_SPAN.finditer(line):  # code spans are copied as they are
            pieces.append(_rewrite_text(line[last : span.start()], base, line_no))
            pieces.append(span.group(0))
            last = span.end()
        pieces.append(_rewrite_text(line[last:], base, line_no))
        out.append("".join(pieces))
    return "".join(out)


if __name__ == "__main__":  # how setuptools runs this file
    from setuptools import setup

    with open(HERE / "pyproject.toml", "rb") as file:
        config = tomllib.load(file)
    setup(
        long_description=long_description(
            (HERE / "README.md").read_text(encoding="utf-8"), repository_url(config)
        ),
        long_description_content_type="text/markdown",
    )
