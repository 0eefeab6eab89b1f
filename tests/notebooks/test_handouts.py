"""The handouts (``make handouts``): self-contained HTML, students get no solutions.

One notebook with exercises is built into a student and a teacher handout. The HTML
is checked as text (no solution source in the student version, all of it in the
teacher's, no URL to load, math converted), and the student version is opened in
headless Chromium, which must request nothing but the file itself and data: URLs and
must render the math as MathML. The browser test is skipped, with the reason, where
Chromium, chromedriver or selenium is missing.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
SAMPLE = NOTEBOOK_DIR / "06_delta_rule.ipynb"  # exercises with hidden solutions, math, SVG and PNG

pytest.importorskip("nbconvert")
pytest.importorskip("latex2mathml")


def _handouts():
    spec = importlib.util.spec_from_file_location("handouts", NOTEBOOK_DIR / "handouts.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["handouts"] = module
    spec.loader.exec_module(module)
    return module


def _solution_lines() -> list[str]:
    """Distinctive lines of the solution cells' source (comments and code)."""
    nb = nbformat.read(SAMPLE, as_version=4)
    cells = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
    assert cells, "the sample notebook has no solution cells"
    return [line.strip() for c in cells for line in c.source.splitlines() if len(line.strip()) > 25]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("handouts")
    student, teacher = _handouts().build(SAMPLE, out)
    return student, teacher


def _html_text(line: str) -> str:
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_student_handout_has_no_solution_and_teacher_handout_has_all(built):
    student, teacher = (p.read_text(encoding="utf-8") for p in built)
    lines = _solution_lines()
    # the teacher's page shows each line (its tokens may be wrapped in highlighting spans)
    plain_teacher = re.sub(r"<[^>]+>", "", teacher)
    plain_student = re.sub(r"<[^>]+>", "", student)
    missing = [ln for ln in lines if _html_text(ln) not in plain_teacher
               and ln not in plain_teacher]
    assert not missing, f"teacher handout lacks solution lines: {missing[:3]}"
    leaked = [ln for ln in lines if _html_text(ln) in plain_student or ln in plain_student]
    assert not leaked, f"student handout shows solution lines: {leaked[:3]}"
    assert "#### Solution" not in student and ">Solution</h4>" not in student
    assert "teacher's version" in plain_student


def test_handout_loads_nothing_and_renders_math_at_build_time(built):
    for path in built:
        html = path.read_text(encoding="utf-8")
        urls = re.findall(r'(?:src|href)\s*=\s*["\']((?:https?:)?//[^"\']+)', html)
        assert not urls, f"{path.name} refers to {urls[:3]}"
        assert "mathjax" not in html.lower(), f"{path.name} still loads MathJax"
        assert html.count("<math") > 50, f"{path.name}: math was not converted to MathML"


def test_math_conversion_skips_code_and_unescapes_html():
    convert = _handouts().math_to_mathml
    code = "<code>$x$</code> and <pre>f'$y$'</pre>"
    assert convert(code) == code
    cell = convert("<td>$\\lvert x &lt; 1 \\rvert$</td>")
    assert cell.startswith("<td><math") and "$" not in cell
    assert "<mo>&#x0003C;</mo>" in cell                    # the page's &lt; is read as <
    assert 'class="math-display"' in convert("<p>$$a^2$$</p>")


# --- in a real browser ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(chromium_paths):
    chrome, driver_path = chromium_paths
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("browser test needs selenium (pip install selenium; in the dev extra)")
    options = webdriver.ChromeOptions()
    options.binary_location = chrome
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--disable-background-networking", "--window-size=1200,860"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def test_student_handout_in_chromium_shows_no_solution_and_requests_nothing(built, browser):
    student = built[0]
    browser.get(student.as_uri())
    text = browser.execute_script("return document.body.innerText")
    assert "backward" in text and "Exercise 1" in text          # the page rendered
    leaked = [ln for ln in _solution_lines() if ln in text]
    assert not leaked, f"the student page shows solution lines: {leaked[:3]}"
    math_boxes = browser.execute_script(
        "return Array.from(document.querySelectorAll('math')).filter("
        "m => m.getBoundingClientRect().width > 0).length"
    )
    assert math_boxes > 50, "MathML is not laid out"
    requested = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requested.append(message["params"]["request"]["url"])
    assert requested, "no request logged at all (the performance log is not working)"
    remote = [u for u in requested if not u.startswith(("file:", "data:", "about:", "blob:"))]
    assert not remote, f"the handout requested {remote[:3]}"
