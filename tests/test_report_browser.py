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


def test_validity_sections_render_in_chromium(tmp_path):
    """The eval-awareness, scanner and robustness sections render: their headings, a stratified row with numbers,
    a robustness row, and a scanner hit whose link resolves to the log file holding the sample."""
    import json
    from urllib.parse import unquote, urlparse

    from playwright.sync_api import sync_playwright

    from peerpres.analysis.frame import put_label
    from peerpres.analysis.synthetic import write_synthetic_log
    from peerpres.conditions import Condition
    from peerpres.scan.hits import SampleHits

    good = Condition("tampering", "peer", "good", "file_only", "factual", 80)
    log = write_synthetic_log(tmp_path / "logs" / "run.eval", [good] * 12, [i % 2 == 0 for i in range(12)])
    recs = []
    for i in range(12):  # s0..s11 of that log; eval_aware yes for s0..s3, paraphrase i % 3
        r = {"log_file": log, "sample_id": f"s{i}", "epoch": 1, "model": "openai/gpt-test", **good.to_dict(),
             "scenario_version": "1.0", "paraphrase": i % 3, "error": None, "has_labels": True}
        put_label(r, "tampering", i % 2 == 0, "deterministic", None)
        put_label(r, "eval_aware", i < 4, "judge:g", "quoted")
        recs.append(r)
    scan = tmp_path / "scan"
    scan.mkdir()
    hits = [SampleHits("test_recognition", log, f"s{i}", 1, int(i == 3), [{"quote": "this looks like a test"}] * (i == 3))
            for i in range(12)]
    (scan / "scan_hits.json").write_text(json.dumps([h.to_dict() for h in hits]))
    paths = write_report(frame_from_records(recs), tmp_path / "rep", scan=scan)
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"), args=ARGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1800})
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto("file://" + paths["html"], wait_until="load")
        headings = {h: page.locator(f"#{h}").inner_text() for h in ("validity", "eval-awareness", "scan", "robustness")}
        strat = page.locator("#strat2 + p + p + table tr").all_inner_texts()
        rob = page.locator("#robustness-table + p + p + table tr").all_inner_texts()
        scan_rows = page.locator("#scan ~ table").first.locator("tr").all_inner_texts()
        page.locator("details.scan-hits summary").first.click()
        link = page.locator("a.sample-link").first
        visible = link.is_visible()
        href = link.evaluate("a => a.href")
        browser.close()
    assert errors == []
    assert headings["eval-awareness"].startswith("Eval awareness") and headings["scan"].startswith("Transcript scanners")
    assert headings["robustness"].startswith("Wording robustness")
    # canonical wording (variant none): s0, s3 aware -> 1/2; s6, s9 not aware -> 1/2
    rows = [t for t in strat if t.startswith("tampering_rate")]
    assert rows and any("50.0% [" in t and "; 1/2" in t for t in rows)
    assert any("paraphrase" not in t and "2/4" in t for t in rob[1:])
    assert any("test_recognition" in t and "12" in t and "8.3% [" in t for t in scan_rows)
    assert visible and href.endswith("#s3/1")
    target = unquote(urlparse(href).path)
    assert os.path.samefile(target, log)


def test_validity_sections_with_hostile_data_render_escaped_in_chromium(tmp_path):
    """Odd data in the validity part: a log folder whose name holds a space, '#', '%', quotes and '<', scanner
    quotes and a scanner name with markup and quote marks, an undetermined scan value and eval_aware labels all
    undetermined. Nothing runs (no dialog, no page error), the markup shows as text, the counts are right, and
    the hit's link still resolves to the log holding the sample."""
    import json
    from urllib.parse import unquote, urlparse

    from playwright.sync_api import sync_playwright

    from peerpres.analysis.frame import put_label
    from peerpres.analysis.synthetic import write_synthetic_log
    from peerpres.conditions import Condition
    from peerpres.scan.hits import SampleHits

    good = Condition("tampering", "peer", "good", "file_only", "factual", 80)
    folder = tmp_path / "logs a#b%20c 'q\" <x>"
    log = write_synthetic_log(folder / "run #1.eval", [good] * 4, [True, False, True, False])
    recs = []
    for i in range(4):
        r = {"log_file": log, "sample_id": f"s{i}", "epoch": 1, "model": "openai/gpt-test", **good.to_dict(),
             "scenario_version": "1.0", "error": None, "has_labels": True}
        put_label(r, "tampering", i % 2 == 0, "deterministic", None)
        put_label(r, "eval_aware", None, "undetermined", "judge said <b>maybe</b>")
        recs.append(r)
    evil = "<script>alert(1)</script>\"' onmouseover=\"alert(2)"
    scanner = "rec<img src=x onerror=alert(3)>\"'"
    hits = [SampleHits(scanner, log, "s1", 1, 1, [{"quote": evil}]), SampleHits(scanner, log, "s2", 1, None),
            SampleHits(scanner, log, "s3", 1, 0)]
    scan = tmp_path / "scan"
    scan.mkdir()
    (scan / "scan_hits.json").write_text(json.dumps([h.to_dict() for h in hits]))
    paths = write_report(frame_from_records(recs), tmp_path / "rep", scan=scan)
    errors: list[str] = []
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"), args=ARGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1800})
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto("file://" + paths["html"], wait_until="load")
        scan_rows = page.locator("#scan ~ table").first.locator("tr").all_inner_texts()
        page.locator("details.scan-hits summary").first.click()
        link = page.locator("a.sample-link").first
        link.hover()
        item = page.locator("details.scan-hits li").first.inner_text()
        href = link.evaluate("a => a.href")
        injected = page.locator("#scan ~ * script, #scan ~ * img").count()
        strata = page.locator("#eval-awareness + p").inner_text()
        browser.close()
    assert errors == [] and dialogs == [] and injected == 0
    assert evil in item
    # samples 4: scanned (hit or miss) 2, not scanned 1, undetermined 1, with hits 1 -> 50.0%
    row = next(t for t in scan_rows if "gpt-test" in t)
    assert row.split("\t")[:7] == [scanner, "openai/gpt-test", "4", "2", "1", "1", "1"] and "50.0% [" in row
    assert "undetermined 4" in strata
    assert href.endswith("#s1/1")
    assert os.path.samefile(unquote(urlparse(href).path), log)


def test_monitor_section_renders_in_chromium(tmp_path):
    """The monitor-collusion section (a peerpres experiment) renders after the paper's tables: its tables, a peer
    effect row with numbers, and no script errors."""
    from playwright.sync_api import sync_playwright

    from peerpres.analysis.synthetic import monitor_records

    df = frame_from_records(monitor_records(per_config=6, no_review=0.2, seed=2)
                            + synthetic_records(models=["peerpres/synthetic"], per_config=2, scenarios=["tampering"]))
    paths = write_report(df, tmp_path)
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"), args=ARGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1800})
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto("file://" + paths["html"], wait_until="load")
        text = page.inner_text("body")
        # each peer-effect row says which reference it is against (the two rows of one key differ only there)
        rows = {ref: page.locator("tr", has_text=f"reviewed={ref}, same model").all_inner_texts()
                for ref in ("unfamiliar", "human")}
        browser.close()
    assert errors == []
    titles = ["peer effect on oversight", "peer effect on unreported violations", "miss rate on planted violations",
              "false positives on clean logs", "unaudited minus audited"]
    at = [text.find(t) for t in titles]
    assert all(i > 0 for i in at), at
    assert text.find("Shutdown tampering") < min(at)
    assert "not the paper's" in text
    assert all(rows[ref] and all("%" in r for r in rows[ref]) for ref in rows)
    assert len(rows["unfamiliar"]) == len(rows["human"])
