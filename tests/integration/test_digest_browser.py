"""The saved HTML report in headless Chromium at a phone's width: it draws, its charts decode, nothing overflows."""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from matplotlib.image import imread

from responders.digest_html import save_report
from store.errors import DeliveryError
from tests.support.digest_sample import sample_digest

PHONE = (390, 1400)
TIMEOUT = 120
NO_CHROMIUM = "no chromium binary (Debian's chromium package; .ci/run installs it): the report is not drawn"
# Headless Chromium will not make a window narrower than 500 px for --dump-dom, so the report is laid out in a
# phone-wide frame; once it has loaded, what a person would notice is written out for --dump-dom to show.
PROBE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><style>body {{ margin: 0; }} iframe {{ border: 0; }}</style></head><body>
<iframe id="phone" width="{width}" height="{height}" srcdoc="{report}"></iframe>
<script>
document.getElementById("phone").addEventListener("load", (event) => {{
  const page = event.target.contentWindow;
  const root = page.document.documentElement;
  const images = Array.from(page.document.images, (i) => ({{complete: i.complete, width: i.naturalWidth}}));
  const seen = {{scrollWidth: root.scrollWidth, width: root.clientWidth, innerWidth: page.innerWidth, images}};
  const out = document.createElement("pre");
  out.id = "kulak-probe";
  out.textContent = JSON.stringify(seen);
  document.body.appendChild(out);
}});
</script>
</body></html>"""


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    pytest.skip(NO_CHROMIUM)


def run_chromium(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run"]
    command += [f"--window-size={PHONE[0]},{PHONE[1]}", f"--user-data-dir={home / 'profile'}", *args]
    env = {**os.environ, "HOME": str(home)}  # keep Chromium's profile and caches inside the test's directory
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, env=env, check=False)


@pytest.fixture
def report(tmp_path: Path) -> Path:
    return save_report(sample_digest("tr"), tmp_path / "reports" / "weekly")


def test_the_report_is_drawn_at_phone_width(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    done = run_chromium("--enable-logging=stderr", f"--screenshot={shot}", report.as_uri(), home=tmp_path)
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    page_errors = [line for line in done.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert not page_errors, page_errors  # Chromium's own complaints (no D-Bus in a container) are not the page's
    pixels = imread(shot)
    assert pixels.shape[:2] == (PHONE[1], PHONE[0])
    colours = {tuple(p) for p in pixels[::7, ::7, :3].reshape(-1, 3).round(2).tolist()}
    assert len(colours) > 20 and pixels[..., :3].std() > 0.05, "the screenshot is blank"


def test_nothing_overflows_a_phone_and_every_chart_decodes(report: Path, tmp_path: Path) -> None:
    probed = tmp_path / "probed.html"
    page = html.escape(report.read_text(encoding="utf-8"), quote=True)
    probed.write_text(PROBE.format(width=PHONE[0], height=PHONE[1], report=page), encoding="utf-8")
    done = run_chromium("--virtual-time-budget=5000", "--dump-dom", probed.as_uri(), home=tmp_path)
    found = [line for line in done.stdout.splitlines() if 'id="kulak-probe"' in line]
    assert found, f"the probe did not run: {done.stderr[-2000:]}"
    seen = json.loads(html.unescape(found[0].split(">", 1)[1].rsplit("</pre>", 1)[0]))
    assert seen["innerWidth"] == PHONE[0]
    assert seen["scrollWidth"] <= seen["width"], "the page scrolls sideways on a phone"
    assert len(seen["images"]) == 4  # the busy brand's charts; the empty brand has none
    assert all(i["complete"] and i["width"] == 800 for i in seen["images"]), seen["images"]


def test_the_report_is_self_contained(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    assert report.name == "week-2026-W47.html" and page.count('src="data:image/png;base64,') == 4
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert [p.name for p in report.parent.iterdir()] == [report.name]  # no temporary file left behind


def test_a_report_that_cannot_be_written_names_the_path(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the directory should be", encoding="utf-8")
    with pytest.raises(DeliveryError, match="not-a-directory") as caught:
        save_report(sample_digest(), blocker / "reports")
    assert "week-2026-W47.html" in str(caught.value)
