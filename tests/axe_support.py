"""axe-core in the browser tests: inject the audit into a page and return what it found.

axe-core is an npm package (no build step, no CDN: the test machines have no internet).
`./run.sh test` (which `.ci/run` calls) installs it once under ~/.cache/atelier/npm (or
$XDG_CACHE_HOME/atelier/npm). The page's CSP refuses inline scripts, so `add_script_tag` is
blocked; the source goes in through `page.evaluate` (the DevTools protocol, which the CSP does
not govern). A missing file fails the test: an audit that silently does not run would pass
for the wrong reason.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from playwright.async_api import Page

#: Where `npm install --prefix ~/.cache/atelier/npm axe-core` puts the audit script.
AXE_JS = (
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    / "atelier/npm/node_modules/axe-core/axe.min.js"
)
#: The rules we hold the students' page to: WCAG 2.1 A and AA, plus axe's best practices.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


async def violations(page: Page) -> list[dict[str, Any]]:
    """Every axe violation on the page as it stands now (injected once per document)."""
    assert AXE_JS.is_file(), f"{AXE_JS} is missing: ./run.sh test installs axe-core with npm"
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE_JS.read_text() + "\n;undefined")
    found: list[dict[str, Any]] = await page.evaluate(
        """(tags) => axe.run(document, { runOnly: { type: 'tag', values: tags } })
            .then((result) => result.violations.map((v) => ({
              id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.map((n) => ({
                target: n.target.join(' '), summary: n.failureSummary,
              })),
            })))""",
        TAGS,
    )
    return found


def describe(found: list[dict[str, Any]]) -> str:
    """The violations as lines a failing assertion can show."""
    lines = []
    for violation in found:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines.extend(f"    {node['target']}: {node['summary']}" for node in violation["nodes"])
    return "\n".join(lines)


async def assert_accessible(page: Page, state: str) -> None:
    found = await violations(page)
    assert not found, f"axe in state {state!r}:\n{describe(found)}"


async def focus_ring_contrast(page: Page) -> float:
    """The contrast of the focused element's outline against what it sits on (the nearest
    ancestor with a background): WCAG 1.4.11 wants 3:1, and axe does not measure focus rings.
    0 when there is no outline at all."""
    ratio: float = await page.evaluate(
        """() => {
          const rgba = (css) => (css.match(/[\\d.]+/g) || []).map(Number);
          const lum = (c) => {
            const [r, g, b] = c.slice(0, 3).map((v) => v / 255)
              .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
            return 0.2126 * r + 0.7152 * g + 0.0722 * b;
          };
          const focused = document.activeElement;
          const style = getComputedStyle(focused);
          if (style.outlineStyle === "none" || parseFloat(style.outlineWidth) === 0) return 0;
          let behind = focused.parentElement;
          while (behind && (rgba(getComputedStyle(behind).backgroundColor)[3] ?? 1) === 0) {
            behind = behind.parentElement;
          }
          const ring = lum(rgba(style.outlineColor));
          const surface = getComputedStyle(behind ?? document.documentElement);
          const under = lum(rgba(surface.backgroundColor));
          const [hi, lo] = ring > under ? [ring, under] : [under, ring];
          return (hi + 0.05) / (lo + 0.05);
        }"""
    )
    return ratio
