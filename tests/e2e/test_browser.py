"""A person in a real browser (headless Debian chromium driven by Playwright).

Issue 2, item 1: logged out -> the test link -> pick a username (the IP by
default) -> logged in, on the page they wanted -> the sessions page -> log out.
"""

from __future__ import annotations

import pytest

from tests.support.browser import launched


@pytest.fixture(scope="module")
def browser():
    yield from launched()


def test_a_person_logs_in_with_the_test_provider_and_out_again(browser, deployment, tmp_path):
    service, client = deployment
    page = browser.new_page()
    page.goto(f"{client}/hidden")
    assert page.url.startswith(f"{service}/login/?next=")
    page.click("text=Log in with Test account")
    username = page.locator("input[name=username]")
    assert username.input_value() == "127.0.0.1", "the username defaults to the visitor's IP"
    username.fill("browser-user")
    page.click("button[type=submit]")
    page.wait_for_url(f"{client}/hidden")
    assert "browser-user" in page.content()

    page.goto(f"{service}/login/view/sessions")
    assert page.locator("h1").inner_text() == "Your sessions"
    assert page.locator("text=This device").count() == 1
    page.screenshot(path=str(tmp_path / "sessions.png"))

    page.click("header nav button:has-text('Log out')")
    assert "You are logged out." in page.inner_text("main")
    page.goto(f"{client}/hidden")
    assert page.url.startswith(f"{service}/login/?next="), "logged out everywhere"
    page.close()
