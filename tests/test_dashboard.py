"""index.html in a real browser: Playwright drives Debian's Chromium over the dashboard of a
report built from real small fits (scikit-learn on digits, three seeds, with robustness).

Skipped when the ``playwright`` package or a Chromium binary is missing (CI installs both:
.ci/run). Screenshots at 1280x800 and 390x844 go to ``test-artifacts/`` (git ignores it).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from synthetic_records import digits_records, simulated_records
from test_figures import NOW, with_robustness

from bench.cli import main
from bench.results.report.aggregate import aggregate
from bench.results.report.html_page import HTML_FILE, MAX_BYTES
from bench.results.report.leaderboard import write_leaderboard
from bench.results.store.files import write_record

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = os.environ.get("MNIST_BENCH_CHROMIUM", "/usr/bin/chromium")
BROWSER_FLAGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    rng = np.random.default_rng(0)
    records = [with_robustness(r, rng) for r in digits_records()]
    records += simulated_records(
        [("a", 0.99), ("b", 0.98)], seeds=(0, 1), datasets=("mnist",), n_test=500
    )
    folder = tmp_path_factory.mktemp("dashboard")
    for record in records:
        write_record(folder, record)
    write_leaderboard(folder, now=NOW)
    return folder, aggregate(records)


def test_the_page_is_one_self_contained_file(report):
    folder, _ = report
    text = (folder / HTML_FILE).read_text()
    assert len(text.encode()) < MAX_BYTES
    assert "<script src" not in text and "<link" not in text, "nothing loaded from elsewhere"
    assert text.count("vegaEmbed") >= 1 and "chart-specs" in text


def test_an_unchanged_report_rewrites_no_page(report, tmp_path):
    folder, _ = report
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    pages = [copy / name for name in ("LEADERBOARD.md", "RUNS.md", HTML_FILE)]
    pages.append(copy / "figures" / "manifest.json")
    for page in pages:
        os.utime(page, ns=(1, 1))
    write_leaderboard(copy)  # the stamp comes from the newest record, not the clock
    write_leaderboard(copy)
    assert [p.stat().st_mtime_ns for p in pages][:3] != [1, 1, 1], "the stamp changed once"
    for page in pages:
        os.utime(page, ns=(1, 1))
    write_leaderboard(copy)
    assert [p.stat().st_mtime_ns for p in pages] == [1, 1, 1, 1]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=BROWSER_FLAGS
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def page(browser, report):
    folder, _ = report
    tab = browser.new_page(viewport={"width": 1280, "height": 800})
    problems, requests = [], []
    tab.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else 0)
    tab.on("pageerror", lambda error: problems.append(str(error)))
    tab.on("request", lambda request: requests.append(request.url))
    tab.goto((folder / HTML_FILE).as_uri())
    tab.wait_for_function(
        "Array.from(document.querySelectorAll('.chart:not([data-lazy])'))"
        ".every(e => e.querySelector('svg'))",
        timeout=30_000,
    )
    tab.problems, tab.requests = problems, requests
    yield tab
    tab.close()


def test_the_page_loads_offline_with_no_console_errors(page):
    assert page.problems == []
    assert all(url.startswith(("file:", "data:", "about:")) for url in page.requests)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-1280x800.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "dashboard-390x844.png"))
    page.set_viewport_size({"width": 1280, "height": 800})
    assert (ARTIFACTS / "dashboard-390x844.png").stat().st_size > 10_000


def test_every_chart_draws_a_non_empty_svg(page):
    sizes = page.evaluate(
        "Array.from(document.querySelectorAll('.chart:not([data-lazy])')).map(e => "
        "[e.id, e.querySelectorAll('svg path, svg rect, svg line, svg text').length])"
    )
    ids = [name for name, _ in sizes]
    for kind in ("scatter", "matrix", "curves", "grid", "heatmap"):
        assert any(name.endswith(kind) for name in ids), kind
    assert all(marks > 20 for _, marks in sizes), sizes


def test_a_confusion_matrix_is_drawn_on_demand(page):
    assert page.evaluate("document.querySelector('.confusion svg')") is None
    page.click("#ds-digits details.confusion-picker summary")
    page.select_option("select[data-confusion=digits]", "mlp")
    chart = page.locator(".confusion[data-model='mlp'] svg")
    chart.wait_for(timeout=10_000)
    assert (
        page.locator(".confusion[data-model='mlp'] svg .mark-rect path").count() >= 100
    )  # + a legend swatch


def test_tables_sort_on_a_click(page):
    def accuracies():
        cells = page.locator("#results-table tbody tr td:nth-child(6)")
        return [float(cells.nth(i).get_attribute("data-sort")) for i in range(cells.count())]

    page.click("#results-table th:nth-child(6)")
    assert accuracies() == sorted(accuracies())
    page.click("#results-table th:nth-child(6)")
    assert accuracies() == sorted(accuracies(), reverse=True)


def test_a_filter_changes_the_number_of_rows(page, report):
    _, agg = report
    visible = "#results-table tbody tr:not([hidden])"
    assert page.locator(visible).count() == len(agg.summary) == 4
    page.select_option("select[data-filter=dataset]", "digits")
    assert page.locator(visible).count() == 2
    assert "2 of 4 rows" in page.inner_text("#row-count")
    page.select_option("select[data-filter=dataset]", "")
    assert page.locator(visible).count() == 4


def test_the_recommendation_card_matches_the_aggregate(page, report):
    _, agg = report
    rec = agg.recommendations.set_index("dataset").loc["digits"]
    card = page.locator("article.card[data-dataset=digits]")
    assert card.get_attribute("data-best") == rec["best"]
    assert card.get_attribute("data-tied").split("|") == list(rec["tied"])
    assert card.get_attribute("data-calibrated") == rec["best_calibrated"]
    text = card.inner_text()
    assert "Tied for best" in text and ", ".join(rec["tied"]) in text
    assert f"Best calibrated of them: {rec['best_calibrated']}" in text


def test_report_writes_the_dashboard_where_asked(report, tmp_path, capsys):
    folder, _ = report
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    target = tmp_path / "elsewhere" / "dash.html"
    assert main(["report", "--results-dir", str(copy), "--html", str(target)]) == 0
    assert f"dashboard at {target}" in capsys.readouterr().out
    assert "<h1>mnist-bench dashboard</h1>" in target.read_text()
