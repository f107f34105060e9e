"""The annotation page in a real headless Chromium (Debian's), driven by Playwright.

Real-dev clips, the real `vocalbaby annotate` server and a real model: label with a keyboard
shortcut, drag a boundary, reload and find both persisted, export and read the export back.
A screenshot of the page is saved under test-artifacts/ (CI uploads it).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from typer.testing import CliRunner

from tests.annotate.conftest import BROKEN, LONG_RECORDING, AnnotateServer
from tests.browser import ARTIFACTS, TIMEOUT_MS
from vocalbaby import dataset
from vocalbaby_cli.app import app

pytestmark = pytest.mark.integration


def open_page(browser: Browser, server: AnnotateServer) -> Page:
    """The review page, loaded, with its script errors collected in ``page.errors``."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url)
    page.wait_for_selector("body[data-ready=true]")
    page.errors = errors  # type: ignore[attr-defined]
    return page


def open_recording(page: Page, name: str, segments: int) -> None:
    page.click(f"#recording-list button[data-id='{name}']")
    expect(page.locator("[part~='region']")).to_have_count(segments)


def cell(page: Page, row: int, column: int) -> str:
    return page.locator("#segments tbody tr").nth(row).locator("td").nth(column).inner_text()


def wait_saved(page: Page, revision: int) -> None:
    page.wait_for_selector(f"body[data-saved-revision='{revision}']")


def sign_in(page: Page, name: str) -> None:
    page.fill("#annotator", name)
    page.press("#annotator", "Tab")


def drag_end_boundary(page: Page, segment: int, dx: float) -> None:
    handle = page.locator(f"[part~='seg-{segment}'] [part~='region-handle-right']")
    box = handle.bounding_box()
    assert box, "the region has no right handle"
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx / 2, y, steps=5)
    page.mouse.move(x + dx, y, steps=5)
    page.mouse.up()


def test_label_move_reload_export(
    browser: Browser, annotate_server: AnnotateServer, tmp_path: Path
) -> None:
    page = open_page(browser, annotate_server)
    unreadable = page.locator("#recording-list li.unreadable")
    expect(unreadable).to_contain_text(BROKEN)
    expect(unreadable).to_contain_text("not a readable audio file")
    expect(page.locator("#progress")).to_have_text("0 / 3 reviewed")
    sign_in(page, "alice")
    open_recording(page, LONG_RECORDING, 4)
    suggested = cell(page, 0, 4)

    page.locator("#segments tbody tr").first.focus()
    page.keyboard.press("3")  # crying
    wait_saved(page, 1)
    assert cell(page, 0, 3) == "crying"
    assert cell(page, 0, 6).startswith("alice ")

    drag_end_boundary(page, segment=1, dx=-40)
    wait_saved(page, 2)
    moved_end = float(cell(page, 1, 2))
    assert 0.5 < moved_end < 0.79, moved_end
    assert float(cell(page, 2, 1)) == 0.8  # the next segment is not pushed

    page.keyboard.press("d")  # mark reviewed: confirms every labelled segment
    wait_saved(page, 3)
    expect(page.locator("#progress")).to_have_text("1 / 3 reviewed")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "annotate-page.png"), full_page=True)

    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    expect(page.locator("#annotator")).to_have_value("alice")  # remembered by the browser
    open_recording(page, LONG_RECORDING, 4)
    assert cell(page, 0, 3) == "crying" and cell(page, 0, 4) == suggested
    assert float(cell(page, 1, 2)) == moved_end
    assert "your revision 3" in page.inner_text("#recording-info")
    assert not page.errors  # type: ignore[attr-defined]

    out = tmp_path / "export"
    result = CliRunner().invoke(
        app, ["export-annotations", str(out), "--store", str(annotate_server.store)]
    )
    assert result.exit_code == 0, result.output
    assert "wrote 4 clip(s) from 1 recording(s)" in result.output
    exported = dataset.read(out).set_index("clip_id").sort_index()
    assert exported["label"].iloc[0] == "crying"
    assert exported["child_id"].unique().tolist() == [LONG_RECORDING]
    assert exported.index[1].endswith(f"_0000400_{round(moved_end * 1000):07d}")


def test_split_undo_merge_and_a_stale_tab(
    browser: Browser, annotate_server: AnnotateServer
) -> None:
    first = open_page(browser, annotate_server)
    sign_in(first, "bob")
    open_recording(first, LONG_RECORDING, 4)
    first.locator("#segments tbody tr").first.focus()
    first.keyboard.press("s")
    wait_saved(first, 1)
    expect(first.locator("#segments tbody tr")).to_have_count(5)
    assert cell(first, 0, 2) == "0.200" and cell(first, 1, 1) == "0.200"
    first.keyboard.press("u")
    wait_saved(first, 2)
    expect(first.locator("#segments tbody tr")).to_have_count(4)
    first.keyboard.press("Control+z")  # nothing left to undo
    expect(first.locator("#status")).to_have_text("Nothing to undo")
    first.keyboard.press("m")
    wait_saved(first, 3)
    expect(first.locator("#segments tbody tr")).to_have_count(3)
    assert cell(first, 0, 2) == "0.800"

    second = open_page(browser, annotate_server)  # the same annotator in another browser
    sign_in(second, "bob")
    open_recording(second, LONG_RECORDING, 3)
    second.locator("#segments tbody tr").first.focus()
    second.keyboard.press("5")
    wait_saved(second, 4)

    first.keyboard.press("2")  # this tab still edits revision 3
    alert = first.locator("#alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("was saved by bob")
    expect(alert).to_contain_text("revision 4")
    first.click("#alert button")  # Reload recording
    expect(first.locator("#alert")).to_be_hidden()
    assert cell(first, 0, 3) == "junk"  # the other tab's change, not silently overwritten
