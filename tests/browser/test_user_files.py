"""An uploaded HTML file with a script does not run when its download URL is opened."""

from __future__ import annotations

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.factories import make_link, make_version

pytestmark = pytest.mark.django_db(transaction=True)

# Were they run, the scripts would ask the server for this path; the test watches for it. The
# inline one is refused by the site's policy too; htmx, from our own origin, is allowed by it, so
# only the file's own policy stops the second.
BEACON = "/script-ran/"
HOSTILE = (
    f"<html><body><script>fetch('{BEACON}')</script><p>hello</p>"
    f'<div hx-get="{BEACON}" hx-trigger="load"></div>'
    '<script src="/static/django_htmx/htmx-2.min.js"></script></body></html>'
).encode()


def test_an_uploaded_page_is_downloaded_not_run(
    page, sign_in, project, member, models_registry, tmp_path
):
    make_link(make_version(project, member, files={"page.html": HOSTILE}), models_registry, member)
    sign_in(member)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    with page.expect_download() as download:
        try:
            page.goto("/orgs/acme/registry/model/classifier/v0/files/page.html")
        except PlaywrightError as error:  # the navigation ends as the download starts
            assert "Download is starting" in error.message
    saved = tmp_path / "page.html"
    download.value.save_as(saved)
    assert saved.read_bytes() == HOSTILE
    page.wait_for_timeout(300)  # time for a script to have run, had it been allowed to
    assert not any(BEACON in url for url in asked)
    assert "hello" not in page.content()


def test_rendered_all_the_same_its_script_is_sandboxed(
    page, sign_in, project, member, models_registry
):
    """Were the attachment ignored and the file shown as HTML (an old browser, a proxy that
    rewrites types), the response's own policy still keeps its script from running."""
    make_link(make_version(project, member, files={"page.html": HOSTILE}), models_registry, member)
    sign_in(member)
    url = "/orgs/acme/registry/model/classifier/v0/files/page.html"

    def as_html(route):
        response = route.fetch()
        headers = {k: v for k, v in response.headers.items() if k != "content-disposition"}
        route.fulfill(response=response, headers={**headers, "content-type": "text/html"})

    page.route(f"**{url}", as_html)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(url)
    assert page.get_by_text("hello").is_visible()  # shown as a page
    page.wait_for_timeout(300)
    assert not any(BEACON in u for u in asked)
