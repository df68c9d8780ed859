"""A resident without a browser: plain HTTP with cookies (stdlib only), for tests that need many
requests at once against the live server, or exact control over what is sent."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass


@dataclass
class Page:
    status: int
    url: str
    html: str

    @property
    def csrf_token(self) -> str:
        match = re.search(r'name="csrf_token" value="([^"]+)"', self.html)
        assert match, f"no CSRF token on {self.url}"
        return match.group(1)


class HttpResident:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def _open(self, request: urllib.request.Request) -> Page:
        try:
            with self.opener.open(request, timeout=60) as response:
                return Page(response.status, response.url, response.read().decode())
        except urllib.error.HTTPError as error:
            return Page(error.code, error.url, error.read().decode())

    def get(self, path: str) -> Page:
        return self._open(urllib.request.Request(self.base_url + path))

    def post(self, path: str, data: dict | list, csrf_token: str) -> Page:
        pairs = list(data.items()) if isinstance(data, dict) else list(data)
        body = urllib.parse.urlencode([*pairs, ("csrf_token", csrf_token)]).encode()
        return self._open(urllib.request.Request(self.base_url + path, data=body, method="POST"))

    def copy_session(self) -> HttpResident:
        """Another connection with the same cookies: the same browser, another tab."""
        twin = HttpResident(self.base_url)
        for cookie in self.cookies:
            twin.cookies.set_cookie(cookie)
        return twin
