"""Which links from posts a review page may use.

A post's link or media URL is whatever its author wrote. As a link (`href`) only http(s) URLs to
other hosts are kept: no `javascript:` or `data:`, nothing on the service's own host (a reviewer
clicking it would act in their own name: an image URL pointing at `/api/export/decisions` would
have made an audited export), nothing on loopback, private or link-local addresses. An image is
fetched by the reviewer's browser only from the media hosts the operator configured
(`PLUGWATCH_MEDIA_HOSTS`, comma-separated; `.example.net` also allows its subdomains); with none
configured nothing is fetched and the page offers only a link to open it.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

MEDIA_HOSTS_ENV = "PLUGWATCH_MEDIA_HOSTS"


def media_hosts_from(value: str | None) -> tuple[str, ...]:
    """Hosts from a comma- or space-separated setting, lower case, without scheme or path."""
    hosts = []
    for part in (value or "").replace(",", " ").split():
        host = part.strip().lower()
        if "://" in host:
            host = urlsplit(host).hostname or ""
        host = host.split("/", 1)[0]
        if host and host not in hosts:
            hosts.append(host)
    return tuple(hosts)


def media_hosts_from_env() -> tuple[str, ...]:
    return media_hosts_from(os.environ.get(MEDIA_HOSTS_ENV))


def _host_matches(host: str, pattern: str) -> bool:
    if pattern.startswith("."):
        return host.endswith(pattern) or host == pattern[1:]
    return host == pattern


def _internal(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_unspecified or ip.is_reserved


@dataclass(frozen=True)
class LinkPolicy:
    own_hosts: frozenset[str]  # the names the service is reached under (the request's Host)
    media_hosts: tuple[str, ...] = ()

    def _web_url(self, url: object) -> tuple[str, str] | None:
        """(url, host) for an http(s) URL to a host other than this service's."""
        if not isinstance(url, str) or any(c in url for c in "\r\n\t\x00"):
            return None
        try:
            parts = urlsplit(url.strip())
            host = (parts.hostname or "").lower()
        except ValueError:
            return None
        if parts.scheme.lower() not in ("http", "https") or not host or host in self.own_hosts:
            return None
        return url.strip(), host

    def link(self, url: object) -> str | None:
        """`url` if a page may put it in an href, else None."""
        found = self._web_url(url)
        if found is None or (_internal(found[1]) and not self._media_host(found[1])):
            return None
        return found[0]

    def media(self, url: object) -> str | None:
        """`url` if the reviewer's browser may fetch it as an image (a configured media host; the
        operator may name an internal one, e.g. a media cache)."""
        found = self._web_url(url)
        return found[0] if found is not None and self._media_host(found[1]) else None

    def _media_host(self, host: str) -> bool:
        return any(_host_matches(host, p) for p in self.media_hosts)

    def img_sources(self) -> str:
        """The hosts for the Content-Security-Policy's img-src."""
        out = []
        for pattern in self.media_hosts:
            host = "*" + pattern if pattern.startswith(".") else pattern
            out += [f"https://{host}:*", f"http://{host}:*"]  # any port
        return " ".join(out)


def own_hosts(request) -> frozenset[str]:
    names = {(request.url.hostname or "").lower()}
    names.add(request.headers.get("host", "").rsplit(":", 1)[0].strip("[]").lower())
    return frozenset(n for n in names if n)
