"""The studio in a real headless Chromium: sign in with the token, drop a recording, watch it be
classified, open its timeline, read the summary, export a TextGrid and read it back with praatio,
correct a segment and export again, open the model page (retraining disabled without Dagster) and
the feature explorer (a click on a PCA point plays its window).
Screenshots go to test-artifacts/ (CI uploads them)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from praatio import textgrid

from tests.annotate.conftest import LONG_RECORDING, running_annotate
from tests.annotate.test_browser import cell, wait_saved
from tests.browser import ARTIFACTS, TIMEOUT_MS

pytestmark = pytest.mark.integration

TOKEN = "studio-browser-test-token"
UPLOAD = "day one.wav"

DROP = """([name, data]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type: "audio/wav" }));
  document.getElementById("dropzone").dispatchEvent(
    new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
}"""


def download(page: Page, selector: str, target: Path) -> Path:
    with page.expect_download() as info:
        page.click(selector)
    info.value.save_as(target)
    return target


CURVE = [
    {"model": m, "fraction": f, "uar": u, "uar_low": u - 0.05, "uar_high": u + 0.05}
    for m, shift in (("xgboost (SMOTE)", 0.0), ("ComParE recipe", -0.05))
    for f, u in ((0.25, 0.55 + shift), (0.5, 0.62 + shift), (1.0, 0.7 + shift))
]


def tiers(path: Path) -> dict[str, list[tuple[float, float, str]]]:
    grid = textgrid.openTextgrid(str(path), includeEmptyIntervals=False)
    return {
        name: [(round(e.start, 3), round(e.end, 3), e.label) for e in grid.getTier(name).entries]
        for name in grid.tierNames
    }


def test_drop_timeline_summary_textgrid_correct_export(
    browser: Browser, review_folder: Path, small_model: Path, tmp_path: Path
) -> None:
    uploads = tmp_path / "uploads"
    artifacts = tmp_path / "artifacts"
    (artifacts / "reports").mkdir(parents=True)
    (artifacts / "reports" / "learning_curve.json").write_text(json.dumps(CURVE))
    env = {"VOCALBABY_STUDIO_TOKEN": TOKEN, "VOCALBABY_ARTIFACTS_URI": str(artifacts)}
    args = ("--model", str(small_model), "--uploads", str(uploads))
    with running_annotate(review_folder, tmp_path, *args, env=env, command_name="studio") as (
        server,
        _,
    ):
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        assert page.goto(server.url).status == 401  # no token, no page
        page.goto(f"{server.url}/?token={TOKEN}")
        page.wait_for_selector("body[data-ready=true]")
        page.fill("#annotator", "alice")
        page.press("#annotator", "Tab")

        page.fill("#upload-child", "kid-7")
        page.fill("#upload-age", "9")
        data = base64.b64encode((review_folder / LONG_RECORDING).read_bytes()).decode()
        page.evaluate(DROP, [UPLOAD, data])
        expect(page.locator("#upload-status")).to_have_text("1 / 1 classified")
        expect(page.locator("#upload-progress")).to_have_js_property("value", 1)
        expect(page.locator("#jobs li")).to_contain_text(f"{UPLOAD}: done in")
        uploaded = page.locator(f"#recording-list button[data-id='{UPLOAD}']")
        expect(uploaded.locator(".bands span").first).to_be_visible()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "studio-upload.png"), full_page=True)

        uploaded.click()
        expect(page.locator("[part~='region']")).to_have_count(4)
        suggested = [cell(page, i, 4) for i in range(4)]

        page.click("#show-summary")
        row = page.locator("#summary-table tbody tr", has_text="kid-7 (9 mo)")
        expect(row).to_have_count(1)
        expect(
            page.locator("#summary-plot svg circle, #summary-plot svg rect").first
        ).to_be_attached()
        expect(page.locator("#summary-trajectory circle")).to_have_count(1)  # kid-7 at 9 months
        page.screenshot(path=str(ARTIFACTS / "studio-summary.png"), full_page=True)
        summary_csv = download(page, "#summary-csv", tmp_path / "summary.csv").read_text()
        assert "kid-7" in summary_csv and summary_csv.startswith("child_id,age_months")

        before = tiers(download(page, "#export-textgrid", tmp_path / "before.TextGrid"))
        assert [label for _, _, label in before["model"]] == [s.split()[0] for s in suggested]
        assert "alice" not in before

        page.locator("#segments tbody tr").first.focus()
        page.keyboard.press("1")  # canonical
        wait_saved(page, 1)
        after = tiers(download(page, "#export-textgrid", tmp_path / "after.TextGrid"))
        assert after["alice"] == [(0.0, 0.4, "canonical")]
        assert after["model"] == before["model"]
        page.screenshot(path=str(ARTIFACTS / "studio-review.png"), full_page=True)

        page.click("#show-model")
        expect(page.locator("#model-details")).to_contain_text("Version annotate-test-model")
        expect(page.locator("#model-details")).to_contain_text("Not evaluated")
        expect(page.locator("#model-details")).to_contain_text("Learning curve")
        expect(
            page.locator("#model-details svg[aria-label='learning curve'] polyline")
        ).to_have_count(2)
        expect(page.locator("#retrain")).to_be_disabled()
        expect(page.locator("#retrain-status")).to_contain_text("No Dagster instance")
        page.screenshot(path=str(ARTIFACTS / "studio-model.png"), full_page=True)

        page.click("#show-explorer")
        expect(page.locator("#explorer-status")).to_contain_text("windows · PCA explains")
        expect(page.locator("#explorer-histogram polyline").first).to_be_attached()
        points = page.locator("#explorer-pca circle")
        expect(points).to_have_count(10)  # every labelled window: 1 + 1 + 4 + the upload's 4
        points.last.click()
        expect(page.locator("#explorer-playing")).to_contain_text("Playing")
        page.wait_for_function(
            "() => { const p = document.getElementById('clip-player');"
            " return p.dataset.end && p.currentTime > 0; }"
        )
        page.screenshot(path=str(ARTIFACTS / "studio-features.png"), full_page=True)

        everything = download(page, "#export-all-rttm", tmp_path / "all.rttm").read_text()
        assert "SPEAKER day_one.wav 1 0.000 0.400 <NA> <NA> canonical <NA> <NA>" in everything
        assert not errors
