"""index.html: the dashboard as one self-contained file (styles, scripts and data inlined).

The page is the ordered list of report sections registered for it (like the markdown pages);
its charts are Vega-Lite specs drawn by Vega-Embed. Why Vega-Lite: a chart is a small JSON
spec (the data travels once, inside it), one library script of about 0.9 MB draws them all,
offline, as SVG; Plotly's bundle alone is 4.8 MB per page. The script comes from the
``vl-convert-python`` package (:func:`vl_convert.javascript_bundle`), which builds it in a
few seconds; it is kept in the cache folder, one file per library version.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any

from bench.core.errors import BenchError
from bench.core.fsutil import atomic_write_text
from bench.results.report.sections import HTML, SectionContext, blocks, page

HTML_FILE = "index.html"
MAX_BYTES = 5_000_000
"""The dashboard must stay below this size (it is committed with the results)."""


def dashboard_html(agg: Any, *, generated: str, stale: Sequence[Any] = ()) -> str:
    """The whole index.html for ``agg``."""
    charts: dict[str, Any] = {}
    parts = []
    for scope, sections in blocks(page(HTML)):
        if scope == "report":
            for section in sections:
                ctx = SectionContext(agg, section, stale=stale, generated=generated, charts=charts)
                parts.append(section.renderers[HTML](ctx))
            continue
        for dataset in agg.order:
            title = escape(str(agg.datasets.at[dataset, "title"]))
            inner = []
            for section in sections:
                ctx = SectionContext(
                    agg, section, dataset, stale=stale, generated=generated, charts=charts
                )
                inner.append(section.renderers[HTML](ctx))
            parts.append(
                f'<section class="dataset" id="ds-{escape(dataset)}" '
                f'data-dataset="{escape(dataset)}"><h2>{title}</h2>{"".join(inner)}</section>'
            )
    specs = json.dumps(charts, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return PAGE.format(
        style=STYLE,
        library=vega_bundle().replace("</script", "<\\/script"),
        body="\n".join(parts),
        specs=specs.replace("</", "<\\/"),
        script=SCRIPT,
    )


def write_dashboard(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` unless the file already holds it; True when written."""
    size = len(text.encode("utf-8"))
    if size > MAX_BYTES:
        raise BenchError(
            f"the dashboard would be {size:,} bytes, over the {MAX_BYTES:,} limit; "
            "report fewer models or datasets"
        )
    return write_if_changed(path, text)


def write_if_changed(path: Path, text: str) -> bool:
    """Atomically write ``text`` unless ``path`` holds it already (so an unchanged report
    leaves the git tree clean); True when written."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    atomic_write_text(path, text)
    return True


@lru_cache(maxsize=1)
def vega_bundle() -> str:
    """Vega, Vega-Lite and Vega-Embed as one script: from this process's memory, else from
    the cache folder, else built (a few seconds) and cached."""
    try:
        import vl_convert
    except ImportError:
        raise BenchError(
            "the dashboard needs the vl-convert-python package; install the project again "
            "(pip install -e .) or pip install vl-convert-python"
        ) from None
    from bench.data.cache import cache_home

    version = getattr(vl_convert, "__version__", "unknown")
    cached = cache_home() / "vega" / f"vega-embed-{version}.js"
    try:
        return cached.read_text(encoding="utf-8")
    except OSError:
        pass
    # its stub marks the snippet required; without one the bundle puts vegaEmbed on window
    script = vl_convert.javascript_bundle()  # type: ignore[call-arg]
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(cached, script)
    except OSError:  # a read-only cache: build it again next time
        pass
    return script


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mnist-bench dashboard</title>
<style>{style}</style>
<script>{library}</script>
</head>
<body>
<main>
{body}
</main>
<script type="application/json" id="chart-specs">{specs}</script>
<script>{script}</script>
</body>
</html>
"""

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d1d1f;
background:#fafafa}
main{max-width:1200px;margin:0 auto;padding:12px 16px 48px}
h1{font-size:1.6em;margin:.4em 0}h2{margin:1.2em 0 .4em}h3{margin:1.2em 0 .3em;font-size:1.05em}
nav a{margin-right:.6em}
.cards{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:12px}
@media (max-width:700px){.cards{grid-template-columns:1fr}}
.card{background:#fff;border:1px solid #ddd;border-left:4px solid #2c7be5;border-radius:6px;
padding:4px 14px}
.card h2{font-size:1.1em;margin:.5em 0}.card ul{padding-left:1.1em;margin:.3em 0 .6em}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;background:#fff;font-size:13px;margin:.4em 0}
th,td{border:1px solid #e1e1e1;padding:3px 7px;text-align:left;white-space:nowrap}
th{background:#f0f2f5;cursor:pointer;user-select:none}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
td[data-sort]{text-align:right;font-variant-numeric:tabular-nums}
.filters{display:flex;flex-wrap:wrap;gap:10px;align-items:center;margin:.4em 0}
.count{color:#555}.note{color:#555;font-size:12.5px;max-width:80ch}
.chart{width:100%;min-height:40px;overflow-x:auto}
.dataset{border-top:2px solid #ddd;margin-top:1.5em}
details{margin:.6em 0}
"""

SCRIPT = r"""
(function () {
  const specs = JSON.parse(document.getElementById('chart-specs').textContent);
  const options = {renderer: 'svg', actions: false};
  function draw(el) {
    if (el.dataset.drawn) return;
    el.dataset.drawn = '1';
    vegaEmbed(el, specs[el.id], options).catch(function (e) { console.error(e); });
  }
  document.querySelectorAll('.chart').forEach(function (el) {
    if (!el.dataset.lazy) draw(el);
  });

  function key(td) {
    if (!td) return '';
    const n = td.getAttribute('data-sort');
    return n === null ? td.textContent.trim().toLowerCase() : parseFloat(n);
  }
  document.querySelectorAll('table.sortable').forEach(function (table) {
    table.querySelectorAll('thead th').forEach(function (th, col) {
      th.addEventListener('click', function () {
        const up = th.getAttribute('aria-sort') !== 'ascending';
        table.querySelectorAll('thead th').forEach(function (o) {
          o.removeAttribute('aria-sort');
        });
        th.setAttribute('aria-sort', up ? 'ascending' : 'descending');
        const body = table.tBodies[0];
        const rows = Array.from(body.rows);
        rows.sort(function (a, b) {
          const x = key(a.cells[col]), y = key(b.cells[col]);
          const c = (typeof x === 'number' && typeof y === 'number') ? x - y
            : String(x).localeCompare(String(y));
          return up ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });

  const filters = document.querySelectorAll('select[data-filter]');
  const results = document.getElementById('results-table');
  function filter() {
    if (!results) return;
    let shown = 0;
    const rows = results.tBodies[0].rows;
    Array.from(rows).forEach(function (row) {
      let ok = true;
      filters.forEach(function (s) {
        if (s.value && row.dataset[s.dataset.filter] !== s.value) ok = false;
      });
      row.hidden = !ok;
      if (ok) shown += 1;
    });
    document.getElementById('row-count').textContent = shown + ' of ' + rows.length + ' rows';
  }
  filters.forEach(function (s) { s.addEventListener('change', filter); });
  filter();

  document.querySelectorAll('select[data-confusion]').forEach(function (select) {
    const box = select.parentElement;
    function show() {
      box.querySelectorAll('.confusion').forEach(function (el) {
        const mine = el.dataset.model === select.value;
        el.hidden = !mine;
        if (mine) draw(el);
      });
    }
    select.addEventListener('change', show);
    box.addEventListener('toggle', show);
  });
})();
"""
