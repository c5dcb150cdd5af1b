"""Render report.html in headless Chromium (Debian's /usr/bin/chromium, driven by playwright)."""

from __future__ import annotations

import io
import os
import shutil

import pytest

from peerpres.analysis.frame import CONTROL_LABEL, frame_from_records
from peerpres.analysis.synthetic import synthetic_records
from peerpres.report import write_report

CHROMIUM = os.environ.get("PEERPRES_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (os.path.exists(CHROMIUM) or shutil.which("chromium")),
        reason=f"chromium not installed at {CHROMIUM} (apt-get install -y chromium)",
    ),
]


def test_report_renders_in_chromium(tmp_path):
    from PIL import Image
    from playwright.sync_api import sync_playwright
    from test_report_files import known_frame

    df = frame_from_records(
        known_frame().to_dict("records") + synthetic_records(models=["peerpres/synthetic"], per_config=2, seed=3)
    )
    paths = write_report(df, tmp_path)
    errors: list[str] = []
    external: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"), args=ARGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1800})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

        def guard(route):  # nothing may leave the file: record and block any other request
            url = route.request.url
            if not url.startswith(("file:", "data:")):
                external.append(url)
                route.abort()
            else:
                route.continue_()

        page.route("**/*", guard)
        page.goto("file://" + paths["html"], wait_until="load")
        text = page.inner_text("body")
        calib = page.locator("#fig-calibration img")
        calib_ok = calib.count() == 1 and calib.evaluate("i => i.complete && i.naturalWidth > 0")
        fixed = page.locator("p.fixed").all_inner_texts()
        fig_fixed = page.locator("#fig-calibration .fixed").inner_text() if calib.count() else ""
        images_ok = page.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        n_images = page.evaluate("document.images.length")
        shot = page.screenshot(full_page=False)
        browser.close()
    assert errors == []
    assert external == []
    assert n_images >= 2 and images_ok
    assert "37.5% [" in text and "3/8" in text
    assert CONTROL_LABEL in text
    # the calibration figure renders, and every table and figure states the conditions it holds fixed
    assert calib_ok
    assert fig_fixed.startswith("Held fixed: model=scripted synthetic controls")
    assert len(fixed) >= 5 and all(f.startswith("Held fixed:") for f in fixed)
    assert any("metric=tampering_rate" in f and "scenario=tampering" in f for f in fixed)
    assert "injected rate beside the measured interval" in text
    img = Image.open(io.BytesIO(shot)).convert("L")
    lo, hi = img.getextrema()
    assert hi - lo > 100, "screenshot is blank"
    hist = img.histogram()
    assert max(hist) / sum(hist) < 0.97, "screenshot is almost a single colour"
