"""GETs whose bodies are streamed rather than parsed as JSON: a commit's archive, and files over the
contents API's 1 MB. They go through `requests` directly, not PyGithub, for three reasons:

- GitHub answers the archive request with a redirect to another host (codeload). The redirect is followed
  here, and the installation token goes to the API's own origin only (scheme, host AND port: PyGithub
  compares host names only);
- a 401 at either hop (a token that expired mid-review) is retried once with a new installation token;
- the body is handed over undecoded, chunk by chunk, to a reader that counts what it decompresses
  (app/service/tarball.py), and the connection is closed as soon as that reader stops.

Failures of the API hop raise GitHubCallError; of the archive host, ArchiveUnavailable.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, urljoin, urlsplit

import requests
import urllib3

from align.service.github_client import USER_AGENT, GitHubCallError, RepoClient

CHUNK = 65536
MAX_REDIRECTS = 3  # GitHub sends an archive to another host once
# An archive host that could not be reached (an egress firewall) is not tried again for this long: every
# review would otherwise wait for its connect timeout before reading files one by one.
ARCHIVE_HOST_PAUSE = 600.0
ARCHIVE_CONNECT_TIMEOUT = 5.0  # seconds; a reachable host answers a connect at once
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class ArchiveUnavailable(Exception):
    """The archive could not be fetched from the host GitHub redirected to (unreachable, refused, an error
    status, a broken-off stream). The API itself may be fine: read the files one by one."""


@contextmanager
def tarball(client: RepoClient, sha: str) -> Iterator[Iterator[bytes]]:
    """The archive of one commit as a stream of compressed chunks, closed on leaving the block."""
    gateway = client.gateway
    if gateway.clock() < gateway.archive_host_down_until:
        raise ArchiveUnavailable("the archive host was unreachable a moment ago; not asked again yet")
    path = f"/repos/{client.repository}/tarball/{sha}"
    with requests.Session() as session:
        response = _follow(client, session, path, "application/vnd.github+json")
        if response.status_code == 401:  # from the archive host: its redirect token; ask GitHub again
            response.close()
            gateway.forget_token(client.installation_id, client.repository)
            response = _follow(client, session, path, "application/vnd.github+json")
        with response:
            if response.status_code != 200:
                raise ArchiveUnavailable(f"the archive host answered {response.status_code}")
            yield _chunks(response)


def raw_contents(client: RepoClient, path: str, ref: str, max_bytes: int) -> bytes:
    """The first `max_bytes` of a file the contents API refuses as too large (1-100 MB: raw media type)."""
    url = f"/repos/{client.repository}/contents/{quote(path)}?ref={quote(ref, safe='')}"
    with requests.Session() as session, _follow(client, session, url, "application/vnd.github.raw") as response:
        if response.status_code != 200:
            raise GitHubCallError("GET", url, response.status_code, "raw file download failed")
        data = bytearray()
        for chunk in _chunks(response):  # stop reading once enough has arrived
            data += chunk
            if len(data) >= max_bytes:
                break
        return bytes(data[:max_bytes])


def _chunks(response: requests.Response) -> Iterator[bytes]:
    """The body as it arrives, undecoded; a connection that breaks off is the archive host's failure."""
    try:
        yield from response.raw.stream(CHUNK, decode_content=False)
    except (urllib3.exceptions.HTTPError, OSError) as error:
        raise ArchiveUnavailable(f"the download broke off ({type(error).__name__})") from None


def _follow(client: RepoClient, session: requests.Session, path: str, accept: str) -> requests.Response:
    """GET `path` on the API (retried like any read, a 401 once with a new token), then its redirects,
    without the token off the API's origin. Returns the last answer, its body unread."""
    gateway = client.gateway
    settings = gateway.settings
    attempt = 0
    refreshed = False
    while True:
        response = _api_get(client, session, path, accept)
        status = response.status_code if response is not None else None
        if status == 401 and not refreshed:
            gateway.forget_token(client.installation_id, client.repository)
            refreshed = True
        elif response is not None and response.status_code < 500:
            break
        elif attempt >= settings.retries:
            raise GitHubCallError("GET", path, status, "download failed")
        else:
            gateway.sleep(settings.retry_backoff * 2**attempt)
            attempt += 1
        if response is not None:
            response.close()
    if response.status_code not in _REDIRECTS:
        if response.status_code != 200:
            response.close()
            raise GitHubCallError("GET", path, response.status_code, "download failed")
        return response
    api = urlsplit(settings.api_url)
    timeout = (min(ARCHIVE_CONNECT_TIMEOUT, settings.request_timeout), settings.request_timeout)
    for _ in range(MAX_REDIRECTS):
        location = urljoin(response.url, response.headers.get("location", ""))
        response.close()
        target = urlsplit(location)
        headers = _headers(accept)
        if (target.scheme, target.netloc) == (api.scheme, api.netloc):  # GHES without subdomain isolation
            headers["Authorization"] = f"token {gateway.token(client.installation_id, client.repository)}"
        try:
            response = session.get(location, headers=headers, allow_redirects=False, stream=True,
                                   timeout=timeout, verify=gateway.verify)
        except requests.RequestException as error:
            if isinstance(error, requests.ConnectionError):  # refused, unresolvable, connect timeout
                gateway.archive_host_down_until = gateway.clock() + ARCHIVE_HOST_PAUSE
            raise ArchiveUnavailable(f"the archive host {target.hostname} is unreachable "
                                     f"({type(error).__name__})") from None
        if response.status_code not in _REDIRECTS:
            return response
    response.close()
    raise ArchiveUnavailable(f"more than {MAX_REDIRECTS} redirects")


def _api_get(client: RepoClient, session: requests.Session, path: str, accept: str) -> requests.Response | None:
    """One GET on the API with the installation token, within the installation's request budget; None when
    no answer came."""
    gateway = client.gateway
    settings = gateway.settings
    gateway.admit(client.installation_id, "GET", path)
    with gateway.lock(client.installation_id):
        headers = {**_headers(accept),
                   "Authorization": f"token {gateway.token(client.installation_id, client.repository)}"}
        try:
            response = session.get(settings.api_url + path, headers=headers, allow_redirects=False, stream=True,
                                   timeout=settings.request_timeout, verify=gateway.verify)
        except requests.RequestException:
            gateway.record("GET", path, None, client.installation_id, None)
            return None
        answered = {name.lower(): value for name, value in response.headers.items()}  # as PyGithub's
        gateway.record("GET", path, response.status_code, client.installation_id, answered)
        return response


def _headers(accept: str) -> dict[str, str]:
    # identity: the body is decompressed by the reader that counts it, never by urllib3 on its own
    return {"Accept": accept, "User-Agent": USER_AGENT, "Accept-Encoding": "identity",
            "X-GitHub-Api-Version": "2022-11-28"}
