"""Cursor pagination over HTTP: the body stays a JSON array; the next page is named in response headers."""
from urllib.parse import urlencode

from flask import request

from engine.read.paging import Page

HEADERS = {
    "X-Next-Cursor": {"description": "pass as `cursor` for the next page; absent on the last page",
                      "schema": {"type": "string"}},
    "Link": {"description": 'RFC 8288: `<url>; rel="next"`, this request with the next cursor; absent on the '
                            "last page", "schema": {"type": "string"}},
}


def paged(page: Page) -> tuple[list[dict], dict]:
    """A view's answer for one page: its rows, with the headers that lead to the next page."""
    if page.next_cursor is None:
        return page.items, {}
    args = {**request.args.to_dict(flat=False), "cursor": [page.next_cursor]}
    link = f"{request.path}?{urlencode(args, doseq=True)}"
    return page.items, {"X-Next-Cursor": page.next_cursor, "Link": f'<{link}>; rel="next"'}
