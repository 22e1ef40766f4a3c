"""Reading lessons: Markdown rendered to HTML that is safe to put in a page."""

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


@lru_cache(maxsize=1024)
def render_markdown(text: str) -> str:
    """CommonMark to HTML; raw HTML in the source is escaped, and the result is sanitized
    again (scripts, event handlers and javascript: links removed) as a second line."""
    return nh3.clean(_markdown.render(text), link_rel="noopener noreferrer nofollow")
