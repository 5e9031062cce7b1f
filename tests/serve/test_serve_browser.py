"""The page end to end in a real browser: Debian's chromium driven by Playwright (CI installs the
`chromium` package; no browser is downloaded). Screenshots go to the test's temporary folder."""
from __future__ import annotations

import json
import urllib.request

import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]


def post(base, path, body):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server[0] + "/")
    page.wait_for_selector(".card .bar")                 # the first update (empty text) is in
    yield page
    context.close()
    assert errors == [], errors                           # no script error, no CSP violation


def shown_bars(page):
    return {card.get_attribute("data-model"): [
        (bar.get_attribute("data-word"), float(bar.get_attribute("data-prob")))
        for bar in card.query_selector_all(".bar")] for card in page.query_selector_all(".card")}


def wait_for_update(page, before):
    # arrow functions: a bare expression would be eval'd in the page, which its CSP forbids
    page.wait_for_function(f"() => Number(document.body.dataset.updated || 0) > {before}")


def updates(page):
    return int(page.evaluate("() => document.body.dataset.updated || 0"))


def test_typing_shows_the_api_words_and_probabilities(page, live_server, tmp_path):
    base = live_server[0]
    before = updates(page)
    page.click("#text")
    page.keyboard.type("the cat", delay=20)
    page.wait_for_function(
        "() => document.querySelector('#tokens-line').textContent.startsWith('2 tokens')")
    expected = post(base, "/api/next", {"text": "the cat", "k": 10})
    shown = shown_bars(page)
    assert list(shown) == [m["name"] for m in expected["models"]] == ["kn3", "lstm", "add-half"]
    for entry in expected["models"]:
        assert shown[entry["name"]] == [(c["word"], c["prob"]) for c in entry["top"]]
        eos = page.text_content(f'.card[data-model="{entry["name"]}"] .eos-prob')
        assert eos == f"{100 * entry['eos_prob']:.1f}%" or eos.endswith("%")
    assert updates(page) > before
    # the n-gram card explains the top word's backoff path: 3-gram "the cat -> sat" answers
    path = page.text_content('.card[data-model="kn3"] .backoff')
    assert "backoff path of “sat”" in path and "answered by the 3-gram" in path
    # the coloured tokens: one per token and </s>, with each model's perplexity
    score = post(base, "/api/score", {"text": "the cat"})
    for entry in score["models"]:
        row = page.query_selector(f'.scored[data-model="{entry["name"]}"]')
        ranks = [int(t.get_attribute("data-rank")) for t in row.query_selector_all(".tok")]
        assert ranks == [t["rank"] for t in entry["tokens"]]
        assert f"{entry['perplexity']:.2f}" in row.text_content()
    page.screenshot(path=str(tmp_path / "typed.png"), full_page=True)


def test_hovering_a_token_shows_its_probability_rank_and_alternatives(page, tmp_path):
    before = updates(page)
    page.fill("#text", "the dog sat")
    wait_for_update(page, before)
    token = page.query_selector('.scored[data-model="kn3"] .tok:nth-child(3)')   # "sat"
    token.hover()
    tip = page.wait_for_selector("#tip:not([hidden])")
    text = tip.text_content()
    assert text.startswith("sat") and "rank" in text and "model expected:" in text
    assert f"rank {token.get_attribute('data-rank')}" in text
    page.screenshot(path=str(tmp_path / "hover.png"))


def test_keyboard_alone_adds_a_word_and_shows_token_details(page):
    before = updates(page)
    page.focus("#text")
    page.keyboard.type("a ")
    wait_for_update(page, before)
    first = page.get_attribute(".card .bar", "data-word")
    before = updates(page)
    page.keyboard.press("Tab")                            # to the first bar
    assert page.evaluate("() => document.activeElement.dataset.word") == first
    page.keyboard.press("Enter")
    wait_for_update(page, before)
    assert page.input_value("#text") == f"a {first} "
    page.focus('.scored .tok')                            # tokens are focusable: details show
    assert page.is_visible("#tip")
    page.keyboard.press("Escape")
    assert not page.is_visible("#tip")


def test_sampling_with_a_seed_draws_what_the_api_draws(page, live_server, tmp_path):
    base = live_server[0]
    before = updates(page)
    page.fill("#text", "the")
    wait_for_update(page, before)
    page.select_option("#sample-model", "lstm")
    page.fill("#seed", "7")
    page.fill("#top-k", "5")
    page.click("#to-end")
    page.wait_for_selector("#samples[data-done='1']")
    expected = post(base, "/api/sample", {"model": "lstm", "text": "the", "seed": 7, "top_k": 5,
                                          "temperature": 1, "show": 8})
    drawn = [li.text_content() for li in page.query_selector_all("#samples .drawn-word strong")]
    assert drawn == [w["word"] for w in expected["words"]]
    words = [w["word"] for w in expected["words"] if w["word"] != "</s>"]
    assert page.input_value("#text") == " ".join(["the", *words]) + " "
    assert len(page.query_selector_all("#samples .drawn")[0].query_selector_all(".mini li")) == \
        len(expected["words"][0]["distribution"])
    # a step draws one word with seed + 0, then seed + 1
    text = page.input_value("#text")
    page.click("#step")
    page.wait_for_selector("#samples[data-done='2']")
    step = post(base, "/api/sample", {"model": "lstm", "text": text, "seed": 7, "top_k": 5,
                                      "steps": 1, "show": 8})
    assert page.text_content("#samples .drawn-word strong") == step["words"][0]["word"]
    page.screenshot(path=str(tmp_path / "sampled.png"), full_page=True)


def test_a_phone_sized_screen_needs_no_sideways_scrolling(browser, live_server, tmp_path):
    context = browser.new_context(viewport={"width": 375, "height": 740}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(live_server[0] + "/")
    page.wait_for_selector(".card .bar")
    page.fill("#text", "the cat sat on the")
    page.wait_for_function(
        "() => document.querySelector('#tokens-line').textContent.startsWith('5 tokens')")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    boxes = [card.bounding_box() for card in page.query_selector_all(".card")]
    assert all(box["width"] <= 375 for box in boxes)
    assert boxes[0]["y"] < boxes[1]["y"]                   # cards stacked, not squeezed
    page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
    context.close()
