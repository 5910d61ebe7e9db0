"""The report in a real browser (issue 13): headless Chromium (Debian ``chromium`` and
``chromium-driver``, installed by ``.ci/run``) driven through selenium. The page's own script runs
under its CSP with no console error, the filters change what is shown, a chain citation lands on its
comment, the reply graph is drawn, the page fits a phone, and the index sorts. A screenshot of each
page is kept in ``tests/browser/artifacts/`` (gitignored; the paths are printed).

Skips, with its reason, when Chromium, its driver or selenium is missing."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import discourse
from discourse.core.thread import Comment, Thread
from discourse.report.html import anchor, render_index, render_report

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update "
    "--disable-sync --no-first-run --disable-dev-shm-usage --window-size=1280,900"
).split()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None or DRIVER is None:
        pytest.skip("headless Chromium is not installed (apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e .[dev])")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="discourse-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def load(driver: Any, path: Path) -> None:
    driver.set_window_size(1280, 900)
    driver.get(path.resolve().as_uri())
    driver.get_log("browser")  # start each page with an empty log


def console_problems(driver: Any) -> list[str]:
    """Errors and warnings the page logged (a CSP refusal is logged as an error)."""
    return [f"{e['level']}: {e['message']}" for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


def screenshot(driver: Any, name: str) -> Path:
    """The whole page as a PNG in ARTIFACTS (the window grown to the page height, capped)."""
    ARTIFACTS.mkdir(exist_ok=True)
    driver.execute_script("window.scrollTo(0, 0)")
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(1280, min(max(height, 900), 12000))
    path = ARTIFACTS / f"{name}.png"
    assert driver.save_screenshot(str(path)) and path.stat().st_size > 10_000
    driver.set_window_size(1280, 900)
    print(f"screenshot: {path}")
    return path


def shown(driver: Any) -> list[str]:
    return list(
        driver.execute_script(
            "return Array.from(document.querySelectorAll('#tree > li.comment'))"
            ".filter(li => li.offsetParent !== null).map(li => li.id)"
        )
    )


def set_control(driver: Any, name: str, value: str) -> None:
    driver.execute_script(
        "const el = document.getElementById('filters').elements[arguments[0]];"
        "if (el.type === 'checkbox') { el.checked = arguments[1] === 'on'; } else { el.value = arguments[1]; }"
        "el.dispatchEvent(new Event('input', {bubbles: true}));",
        name,
        value,
    )


def reset(driver: Any) -> None:
    driver.execute_script("document.getElementById('show-all').click()")


def check_report(driver: Any, page: Path, analysis: discourse.Analysis, name: str) -> None:
    """What every report must do in the browser."""
    load(driver, page)
    thread = analysis.thread
    everyone = [anchor(c.id) for c in thread.comments]
    assert driver.execute_script("return document.getElementById('filters').hidden") is False, "our script ran"
    assert sorted(shown(driver)) == sorted(set(everyone))
    count = driver.execute_script("return document.getElementById('shown-count').textContent")
    assert count.startswith(f"{len(set(everyone))} of ")

    # the reply graph: drawn, with a node per named author, each a link to a comment that exists
    nodes = driver.execute_script(
        "return Array.from(document.querySelectorAll('svg.graph a.node')).map(a => a.getAttribute('href'))"
    )
    authors = {c.author for c in thread.comments if c.author}
    assert len(nodes) == len(authors)
    assert driver.execute_script("return document.querySelector('svg.graph').getBoundingClientRect().height") > 200
    assert all(driver.execute_script("return !!document.getElementById(arguments[0])", h[1:]) for h in nodes)

    # filters: one author; a text search; a toxicity threshold; collapse all
    author = max(authors, key=lambda a: sum(c.author == a for c in thread.comments))
    set_control(driver, "author", author)
    theirs = {anchor(c.id) for c in thread.comments if c.author == author}
    assert set(shown(driver)) == theirs and len(theirs) < len(set(everyone))
    reset(driver)
    word = max(thread.comments, key=lambda c: len(c.text)).text.split()[0]
    set_control(driver, "q", word)
    hits = shown(driver)
    assert hits and len(hits) <= len(set(everyone))
    texts = driver.execute_script("return arguments[0].map(id => document.getElementById(id).textContent)", hits)
    assert all(word.lower() in t.lower() for t in texts)  # the verbatim text counts, even folded
    reset(driver)
    set_control(driver, "tox", "0.5")
    toxic = {anchor(c.id) for c in thread.comments if (t := analysis.get(c.id, "toxicity")) and t.score >= 0.5}
    assert set(shown(driver)) == toxic
    reset(driver)
    set_control(driver, "lowconf", "on")
    weak = {anchor(c.id) for c in thread.comments if c.parent_id is not None and c.parent_confidence < 0.5}
    assert set(shown(driver)) == weak
    reset(driver)
    set_control(driver, "label", "disagree")
    disagree = {
        anchor(c.id) for c in thread.comments if (st := analysis.get(c.id, "stance")) and st.label == "disagree"
    }
    assert set(shown(driver)) == disagree
    # printed: every comment, whatever the filters; no navigation or controls
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert sorted(shown(driver)) == sorted(set(everyone))
    hidden_in_print = "return ['nav', '#filters'].map(s => getComputedStyle(document.querySelector(s)).display)"
    assert driver.execute_script(hidden_in_print) == ["none", "none"]
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    reset(driver)
    if driver.execute_script("return document.querySelectorAll('button.toggle').length"):
        driver.execute_script("document.getElementById('collapse-all').click()")
        tops = {anchor(c.id) for c in thread.comments if c.parent_id is None}
        assert set(shown(driver)) <= tops | {anchor(c.id) for c in thread.comments if not c.parent_id}
        assert len(shown(driver)) < len(set(everyone))
        reset(driver)

    # a chain's citation link lands on its comment, even when a filter had hidden it
    chains = analysis.layer("chains", ())
    if chains:
        cited = chains[0].summary[-1].citations[-1]
        set_control(driver, "author", "nobody at all")
        link = driver.find_element("css selector", f'#chains .summary a.ref[href="#{anchor(cited)}"]')
        driver.execute_script("arguments[0].click()", link)
        target = driver.find_element("id", anchor(cited))
        assert driver.execute_script("return location.hash") == f"#{anchor(cited)}"
        assert target.is_displayed()
        top = driver.execute_script("return arguments[0].getBoundingClientRect().top", target)
        assert 0 <= top < 900 / 2
        assert driver.execute_script("return document.querySelector(':target') === arguments[0]", target)
    screenshot(driver, name)

    # a phone: nothing wider than the screen
    driver.set_window_size(390, 844)
    driver.execute_script("window.scrollTo(0, 0)")
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    phone = ARTIFACTS / f"{name}-phone.png"
    assert driver.save_screenshot(str(phone))
    print(f"screenshot: {phone}")
    driver.set_window_size(1280, 900)
    assert console_problems(driver) == []


SAID = [
    ("s1", None, "Ann", "**Opening**: the stadium is a [waste](https://example.org/plan).", {"permalink": "/r/x/s1/"}),
    ("s2", "s1", "Bob", "I disagree, you idiot, read it again.", {"score": 3}),
    ("s3", "s2", "Ann", "No, you are wrong and you know it.", {}),
    ("s4", "s3", "Bob", "I still disagree with you.", {"stickied": True, "distinguished": "moderator"}),
    ("s5", "s4", "Ann", "Fine, I will concede that point.", {}),
    ("s6", "s1", "Cy", "![x](https://example.org/x.png) <img src=x onerror=alert(1)> [j](javascript:alert(1))", {}),
    ("s7", "s6", None, "", {"deleted": True, "body_removed": True}),
    ("s8", "s6", "Dee", "Is there a date for the vote?", {}),
]


def test_synthetic_report_in_chromium(browser: Any, tiny_config: dict, tmp_path: Path) -> None:
    comments = tuple(Comment(i, t, author=a, parent_id=p, meta=m) for i, p, a, t, m in SAID)
    thread = Thread("t3s", "Vote on the stadium", comments, source_format="reddit_json")
    analysis = discourse.analyze(thread, tiny_config)
    page = tmp_path / "report.html"
    page.write_text(render_report(analysis), encoding="utf-8")
    check_report(browser, page, analysis, "synthetic-report")
    # nothing of the payloads ran or loaded: no image element, and no alert open
    assert browser.execute_script("return document.images.length") == 0
    assert browser.execute_script("return document.querySelectorAll('[onerror],[onload]').length") == 0


def test_index_sorts_and_badges_stay_on_one_line(browser: Any, tmp_path: Path) -> None:
    rows = [
        {"folder": f"t-{i}", "title": "Game Thread", "thread_id": f"id{i}", "source": f"in/{i}.json", "comments": n,
         "flagged": f, "max_toxicity": tox, "status": "ok", "created": f"2020-0{i + 1}-01T00:00:00Z"}
        for i, (n, f, tox) in enumerate([(10, 0, 0.2), (200, 3, 0.9), (40, 1, 0.55)])
    ]  # fmt: skip
    page = tmp_path / "index.html"
    page.write_text(render_index(rows), encoding="utf-8")
    load(browser, page)
    browser.set_window_size(900, 700)
    heights = browser.execute_script(
        "return Array.from(document.querySelectorAll('td .badge')).map(b => b.getClientRects().length)"
    )
    assert heights == [1, 1, 1]  # "0.55 medium" never breaks into "mediu / m"

    def order() -> list[str]:
        return list(
            browser.execute_script(
                "return Array.from(document.querySelectorAll('#threads tbody tr td:first-child a'))"
                ".map(a => a.getAttribute('href'))"
            )
        )

    assert order() == ["./t-1/report.html", "./t-2/report.html", "./t-0/report.html"]  # most flagged first
    browser.execute_script("document.querySelectorAll('#threads th')[2].querySelector('button').click()")  # comments
    assert order() == ["./t-1/report.html", "./t-2/report.html", "./t-0/report.html"]
    browser.execute_script("document.querySelectorAll('#threads th')[2].querySelector('button').click()")
    assert order() == ["./t-0/report.html", "./t-2/report.html", "./t-1/report.html"]
    browser.execute_script("document.querySelectorAll('#threads th')[1].querySelector('button').click()")  # date
    assert order() == ["./t-2/report.html", "./t-1/report.html", "./t-0/report.html"]
    screenshot(browser, "index")
    assert console_problems(browser) == []


@pytest.mark.slow
@pytest.mark.shared
def test_reference_thread_report_in_chromium(browser: Any, reference_thread: Path, tmp_path: Path) -> None:
    analysis = discourse.analyze(reference_thread)
    page = tmp_path / "report.html"
    page.write_text(render_report(analysis), encoding="utf-8")
    check_report(browser, page, analysis, "reference-report")
    # the picture shows the Xoli / John argument as a highlighted chain
    chain_edges = browser.execute_script(
        "return Array.from(document.querySelectorAll('svg.graph a.edge.chain title')).map(t => t.textContent)"
    )
    assert any("Xoli Xoli" in t and "John" in t for t in chain_edges)


@pytest.mark.slow
@pytest.mark.shared
def test_reddit_nfl_report_in_chromium(browser: Any, shared: Path, tmp_path: Path) -> None:
    analysis = discourse.analyze(shared / "formats" / "reddit-nfl-thread" / "comments.json")
    page = tmp_path / "report.html"
    page.write_text(render_report(analysis), encoding="utf-8")
    check_report(browser, page, analysis, "reddit-nfl-report")
    permalinks = browser.execute_script("return Array.from(document.querySelectorAll('a.permalink')).map(a => a.href)")
    assert permalinks and all(p.startswith("https://www.reddit.com/r/") for p in permalinks)
    assert browser.execute_script("return document.querySelectorAll('#tree .md strong, #tree .md em').length") > 0
