"""The service's pages as people use them, in a real browser (headless Debian chromium).

Two people share an invite (create, open the link and the short code, preview,
join, use a client route guarded by ``group=``, remove, reload), a session is
ended from another browser, and every refusal page is seen. Every page is
checked at 390 px and 1280 px: axe-core finds no violation, nothing is wider than
the viewport, and a screenshot is kept in tests/e2e/screenshots/.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.support.browser import PageCheck, launched


@pytest.fixture(scope="module")
def browser():
    yield from launched("axe_playwright_python")


@pytest.fixture(scope="module")
def check(browser) -> PageCheck:
    return PageCheck()


@pytest.fixture(scope="module")
def urls(deployment):
    service, client = deployment
    return service, client


def person(browser, urls, name: str | None):
    """A new browser context logged in as ``name`` (the test provider's default: the IP)."""
    service, _ = urls
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    if name is not None:
        page.goto(f"{service}/login/test/")
        if name != "127.0.0.1":
            page.fill("input[name=username]", name)
        page.click("button[type=submit]")
        page.wait_for_url(f"{service}/login/view/sessions")
    return page


def eventually(page, url: str, expect, seconds: float = 6.0):
    """Load ``url`` until ``expect(response)`` holds (a client hears changes within ms to
    the poll interval); the last response."""
    deadline = time.monotonic() + seconds
    while True:
        response = page.goto(url)
        if expect(response) or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def create_invite(page, service: str, **choices) -> tuple[str, str]:
    """Fill the invite form (member, one person unless told), submit; the link and code."""
    page.goto(f"{service}/login/access/view/invite")
    page.fill("#group", choices.get("group", "test_group"))
    page.check(f"input[name=preset][value={choices.get('preset', 'member')}]")
    page.fill("#accepts", choices.get("accepts", "1"))
    page.click("text=Create invite")
    page.wait_for_url(re.compile(r".*/access/view/invite/created\?invite=.*"))
    return (page.get_attribute("#invite-url", "href"),
            page.inner_text("#short-code").strip())


def test_two_people_share_an_invite(browser, urls, check):
    service, client = urls
    owner = person(browser, urls, "127.0.0.1")  # owns test_group in the example client app
    check(owner, "sessions")
    bob = person(browser, urls, "bob")

    refused = bob.goto(f"{client}/access_profile")
    assert refused.status == 403
    assert bob.locator("h1").inner_text() == "You are not in test_group"
    assert "Signed in as bob" in bob.inner_text("main")
    check(bob, "client-forbidden")

    owner.goto(f"{service}/login/access/view/invite")
    check(owner, "invite")
    owner.fill("#accepts", "lots")
    owner.click("text=Create invite")
    assert owner.locator("#accepts-error").is_visible()
    assert owner.input_value("#accepts") == "lots", "what was typed is kept"
    assert owner.get_attribute("#accepts", "aria-invalid") == "true"
    check(owner, "invite-error")

    link, short = create_invite(owner, service, accepts="2")
    assert re.fullmatch(r"[2-9A-Z]{8}", short)
    assert owner.locator("button[data-copy]").is_visible(), "copy.js shows its button"
    check(owner, "invite-created")
    owner.reload()
    assert owner.locator("h1").inner_text() == "This invite was shown already"
    check(owner, "invite-shown-already")
    owner.goto(f"{service}/login/access/view/renege")
    assert owner.locator("ul.cards > li").count() == 1, "reloading made no second invite"

    bob.goto(link)
    assert bob.locator("h1").inner_text() == "Join test_group?"
    assert "127.0.0.1 invites you" in bob.inner_text("main")
    assert bob.locator("text=Not now").is_visible()
    check(bob, "accept")
    assert bob.url == link, "the page waits for the person to choose"
    bob.get_by_role("button", name="Join test_group").click()
    bob.wait_for_url(re.compile(r".*/access/view/groups\?joined=test_group"))
    assert "You joined test_group" in bob.inner_text("main")
    check(bob, "groups-joined")
    bob.goto(f"{service}/login/view/sessions")
    assert "You joined" not in bob.content(), "the message stays where it belongs"

    allowed = eventually(bob, f"{client}/access_profile", lambda r: r.status == 200)
    assert allowed.status == 200 and '"bob"' in bob.content()

    bob.goto(link)
    assert bob.locator("h1").inner_text() == "You are already in this group"
    check(bob, "error-already-member")
    owner.goto(f"{service}/login/access/view/renege")
    assert "used 1 of 2" in owner.inner_text("main"), "a second visit spends no place"

    carol = person(browser, urls, "carol")
    second_link, second_short = create_invite(owner, service)
    carol.goto(f"{service}/login/access/view/code")
    check(carol, "code")
    typo = "O" + second_short[1:]
    carol.fill("#code", typo)
    carol.click("text=Continue")
    assert "never contain 'O'" in carol.inner_text("#code-error")
    assert carol.input_value("#code") == typo
    check(carol, "code-error")
    carol.fill("#code", f"{second_short[:4].lower()}-{second_short[4:]}")
    carol.click("text=Continue")
    assert carol.locator("h1").inner_text() == "Join test_group?"
    check(carol, "code-preview")
    carol.get_by_role("button", name="Join test_group").click()
    carol.wait_for_url(re.compile(r".*/access/view/groups\?joined=test_group"))

    dave = person(browser, urls, "dave")
    dave.goto(second_link)
    assert dave.locator("h1").inner_text() == "This invite is used up"
    check(dave, "error-used-up")

    owner.goto(link)
    assert owner.locator("h1").inner_text() == "This is your own invite"
    check(owner, "error-self-invite")

    third_link, _ = create_invite(owner, service)
    owner.goto(f"{service}/login/access/view/renege")
    check(owner, "renege")
    owner.locator("ul.cards > li", has_text="used 0 of 1").get_by_role("button").click()
    assert "Invite revoked" in owner.inner_text("main")
    dave.goto(third_link)
    assert dave.locator("h1").inner_text() == "This invite was revoked"
    check(dave, "error-revoked")

    dave.goto(f"{service}/login/access/accept/{'x' * 32}")
    assert dave.locator("h1").inner_text() == "We could not find that"
    check(dave, "error-not-found")

    owner.goto(f"{service}/login/access/view/groups")
    check(owner, "groups")
    owner.goto(f"{service}/login/access/view/remove")
    check(owner, "remove")
    owner.click("text=Remove bob from test_group")
    assert "Member removed." in owner.inner_text("main")
    gone = eventually(bob, f"{client}/access_profile", lambda r: r.status == 403)
    assert gone.status == 403, "removed: the client app refuses bob again"
    bob.reload()
    assert bob.locator("h1").inner_text() == "You are not in test_group"


def test_a_session_ended_from_another_browser_is_logged_out_everywhere(browser, urls, check):
    service, client = urls
    laptop = person(browser, urls, "erin")
    phone = person(browser, urls, "erin")
    assert phone.goto(f"{client}/hidden").status == 200

    laptop.goto(f"{service}/login/view/sessions")
    assert laptop.locator("ul.cards > li").count() == 2
    assert laptop.locator("li.current .tag").inner_text() == "This device"
    assert re.search(r"Chrome \(headless\) on Linux", laptop.inner_text("main"))
    assert laptop.locator("time[datetime]").first.get_attribute("title").endswith("UTC")
    laptop.click("text=End all other sessions…")
    check(laptop, "confirm-end-others")
    laptop.goto(f"{service}/login/view/sessions")
    laptop.locator("li:not(.current) a.button").click()
    check(laptop, "confirm-end-session")
    laptop.click("button:has-text('End the session')")
    assert "Session ended" in laptop.inner_text("main")
    assert laptop.locator("ul.cards > li").count() == 1

    bounced = eventually(phone, f"{client}/hidden", lambda r: "/login/" in phone.url)
    assert bounced is not None and phone.url.startswith(f"{service}/login/?next=")
    assert "Log in to continue to 127.0.0.1" in phone.inner_text("main")
    check(phone, "login-reason")

    laptop.goto(f"{service}/login/view/accounts")
    assert "Test account" in laptop.inner_text("main")
    check(laptop, "accounts")
    laptop.click("header nav button:has-text('Log out')")
    assert "You are logged out." in laptop.inner_text("main")
    check(laptop, "logged-out")

    stranger = person(browser, urls, None)
    stranger.goto(f"{service}/login/no-such-page")
    check(stranger, "error-404")
    stranger.goto(f"{service}/login/test/")
    check(stranger, "test-login")
    stranger.context.clear_cookies()  # the form's CSRF token no longer matches any session
    stranger.click("button[type=submit]")
    assert stranger.locator("h1").inner_text() == "Something in the request is not right"
    check(stranger, "error-400-form-expired")
