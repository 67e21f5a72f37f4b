"""Pages in a real browser (headless Chromium): the query editor works offline under the page's CSP."""

from __future__ import annotations

import json

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from conftest import BASE


def _errors(browser) -> list[str]:
    return [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_query_page_runs_an_example_in_yasgui(browser, live):
    browser.get(f"{live.url}/sparql")
    wait = WebDriverWait(browser, 20)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".yasqe .CodeMirror")))
    assert not browser.find_element(By.ID, "plain-form").is_displayed()
    browser.find_element(By.LINK_TEXT, "Cast with the characters they play").click()
    wait.until(lambda b: "Jae-hoon" in b.find_element(By.CSS_SELECTOR, ".yasr").text)
    table = browser.find_element(By.CSS_SELECTOR, ".yasr").text
    assert "Lee Yeong-hoon" in table and "So-young" in table
    assert _errors(browser) == []


def test_entity_page_markup_read_through_the_dom(browser, live):
    browser.get(f"{live.url}/movie/break-away")
    scripts = browser.find_elements(By.CSS_SELECTOR, 'script[type="application/ld+json"]')
    assert len(scripts) == 1
    data = json.loads(browser.execute_script("return arguments[0].textContent", scripts[0]))
    ids = {node["@id"] for node in data["@graph"]}
    assert BASE + "movie/break-away" in ids and BASE + "movie/break-away#budget" in ids
    assert browser.find_element(By.TAG_NAME, "h1").text == "Break Away"
    assert _errors(browser) == []
