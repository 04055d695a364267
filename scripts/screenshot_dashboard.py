"""Screenshot the dashboard for the README: ``python scripts/screenshot_dashboard.py
results/index.html docs/img/dashboard.png`` (Chromium through Playwright, 1280x800).

Needs the ``playwright`` package (the test extra) and a Chromium binary (Debian:
``apt-get install chromium``; another path with ``MNIST_BENCH_CHROMIUM``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

FLAGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def main(page: Path, target: Path) -> None:
    """Open ``page``, wait for every eager chart to draw, save a 1280x800 PNG to ``target``."""
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("MNIST_BENCH_CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=FLAGS)
        tab = browser.new_page(viewport={"width": 1280, "height": 800})
        tab.goto(page.resolve().as_uri())
        tab.wait_for_function(
            "Array.from(document.querySelectorAll('.chart:not([data-lazy])'))"
            ".every(e => e.querySelector('svg'))",
            timeout=60_000,
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(target))
        browser.close()
    print(f"screenshot written to {target}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python scripts/screenshot_dashboard.py PAGE.html OUT.png")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
