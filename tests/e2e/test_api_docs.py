"""The API documentation works offline: Swagger UI's assets come from the package, no CDN."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import httpx
import pytest

CDN_HOSTS = re.compile(
    r"https?://(?:[\w-]+\.)*(?:jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare\.com|"
    r"googleapis\.com|gstatic\.com|fastly\.net|cloudflare\.com|bootcdn\.net|staticfile\.org)",
    re.IGNORECASE,
)
URL = re.compile(r"""(?:src|href)=["'](https?://[^"']+)""")


@pytest.fixture
def container_backend() -> str:
    return "sqlite"


async def test_the_docs_page_loads_only_assets_served_by_kindbot(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/api/v1/docs")
    assert page.status_code == 200
    assert URL.findall(page.text) == []
    assert not CDN_HOSTS.search(page.text)
    assets = re.findall(r"""(?:src|href)=["'](/static/[^"']+)""", page.text)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets), page.text
    assert any(a.endswith("swagger-ui.css") for a in assets), page.text
    assert "'validatorUrl': null" in page.text or '"validatorUrl": null' in page.text
    for asset in assets:
        response = await client.get(asset)
        assert response.status_code == 200, asset
        assert response.content, asset


def test_no_cdn_url_anywhere_in_the_package() -> None:
    root = Path(str(resources.files("kindbot")))
    found = [
        f"{path.relative_to(root)}: {match.group(0)}"
        for path in root.rglob("*")
        if path.is_file() and path.suffix in {".py", ".html", ".js", ".css", ".j2", ".txt"}
        for match in CDN_HOSTS.finditer(path.read_text("utf-8", errors="replace"))
    ]
    assert found == []
