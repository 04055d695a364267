"""Report sections as registered units: one registration puts a section on its pages.

A :class:`Section` has an id, the frames it reads from the aggregate (by name), the figures
it shows (by figure id, see :data:`bench.results.report.figures.FIGURES`) and one renderer per page
it appears on. A page is the ordered list of sections that render on it (:func:`page`),
ordered by each section's ``order``. Nothing else needs to change to add a section: a new
module that calls :func:`report_section` and is imported by a loader of :data:`SECTIONS`
(the built-in ones live in :mod:`bench.results.report.section_list`).

A section that needs a frame the aggregate does not build declares a ``build`` function
(records, aggregate) -> DataFrame; the report calls it once and the frame is then read like
any other, ``ctx.frame(section_id)``.

Example
-------
>>> from bench.results.report.sections import SectionContext, report_section
>>> @report_section("hello", order=999, scope="report", frames=("summary",), register=False)
... def hello(ctx: SectionContext) -> list[str]:
...     return ["## Hello", "", f"{len(ctx.frame('summary'))} models", ""]
>>> hello.id, hello.pages
('hello', ('leaderboard',))
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from bench.core.errors import BenchError
from bench.core.registry import Registry, discover

LEADERBOARD = "leaderboard"
RUNS = "runs"
HTML = "html"
PAGES = (LEADERBOARD, RUNS, HTML)
"""LEADERBOARD.md, RUNS.md and index.html."""

Scope = Literal["dataset", "report"]
Renderer = Callable[["SectionContext"], Any]
"""A markdown renderer returns a list of lines; an HTML renderer returns an HTML fragment."""


@dataclass(frozen=True)
class Section:
    """One part of the report.

    ``scope`` "dataset" renders once per dataset (``ctx.dataset`` set), "report" once per
    page. ``renderers`` maps page names (:data:`PAGES`) to renderers. ``frames`` names the
    aggregate's frames the renderers read; ``figures`` the PNG figure ids the markdown shows.
    """

    id: str
    order: int
    scope: Scope
    renderers: Mapping[str, Renderer]
    frames: tuple[str, ...] = ()
    figures: tuple[str, ...] = ()
    build: Callable[[Sequence[Any], Any], Any] | None = None

    @property
    def pages(self) -> tuple[str, ...]:
        """The pages this section appears on."""
        return tuple(p for p in PAGES if p in self.renderers)


SECTIONS: Registry[Section] = Registry("report section", "See docs/report.md.")


BUILTIN_SECTIONS = "bench.results.report.section_list"
"""The module that registers the built-in sections (imported by name, like every registry's
entries, so this module and the sections it lists do not import each other)."""
ENTRY_POINT_GROUP = "mnist_bench.report_sections"


def _load_builtin() -> None:
    importlib.import_module(BUILTIN_SECTIONS)


SECTIONS.add_loader(_load_builtin)
SECTIONS.add_loader(discover(group=ENTRY_POINT_GROUP))


def add_section(section: Section) -> Section:
    """Register ``section``; its pages must be known ones."""
    unknown = set(section.renderers) - set(PAGES)
    if unknown:
        raise BenchError(
            f"report section {section.id!r} renders on unknown page(s) {sorted(unknown)}; "
            f"pages are {', '.join(PAGES)}"
        )
    return SECTIONS.add(section.id, section)


def report_section(
    section_id: str,
    *,
    order: int,
    scope: Scope = "dataset",
    frames: Sequence[str] = (),
    figures: Sequence[str] = (),
    page: str = LEADERBOARD,
    html: Renderer | None = None,
    build: Callable[[Sequence[Any], Any], Any] | None = None,
    register: bool = True,
) -> Callable[[Renderer], Section]:
    """Decorator: the decorated function renders the section on ``page``; ``html`` (optional)
    renders it on index.html. The decorated name becomes the :class:`Section`."""

    def decorator(render: Renderer) -> Section:
        renderers = {page: render}
        if html is not None:
            renderers[HTML] = html
        section = Section(section_id, order, scope, renderers, tuple(frames), tuple(figures), build)
        return add_section(section) if register else section

    return decorator


def page(name: str) -> list[Section]:
    """The sections of page ``name`` in their order (ties by id)."""
    if name not in PAGES:
        raise BenchError(f"unknown report page {name!r}; pages are {', '.join(PAGES)}")
    chosen = [SECTIONS.get(n) for n in SECTIONS.names() if name in SECTIONS.get(n).renderers]
    return sorted(chosen, key=lambda s: (s.order, s.id))


@dataclass
class SectionContext:
    """What a renderer sees: the aggregate, the dataset (for dataset sections), the paths of
    the figures drawn for it, the stale records and the time stamp."""

    agg: Any
    section: Section
    dataset: str | None = None
    figures: Mapping[str, str] = field(default_factory=dict)
    stale: Sequence[Any] = ()
    generated: str = ""
    charts: dict[str, Any] = field(default_factory=dict)
    """The dashboard's Vega-Lite specs by element id, shared by every section of the page."""

    def chart(self, name: str, spec: Mapping[str, Any], *, lazy: bool = False) -> str:
        """Register a Vega-Lite ``spec`` for the dashboard; returns the element that shows it
        (``lazy``: drawn only when the reader asks for it)."""
        key = f"{self.section.id}-{self.dataset or 'all'}-{name}"
        if key in self.charts:
            raise BenchError(f"chart {key!r} is registered twice on the dashboard")
        self.charts[key] = dict(spec)
        flag = ' data-lazy="1"' if lazy else ""
        return f'<div class="chart" id="{key}"{flag}></div>'

    def frame(self, name: str) -> Any:
        """A frame of the aggregate that this section declared in ``frames``."""
        if name not in self.section.frames:
            raise BenchError(
                f"report section {self.section.id!r} reads frame {name!r} without declaring "
                "it; add it to the section's frames"
            )
        return self.agg.frame(name)

    def image(self, figure_id: str) -> list[str]:
        """Markdown lines showing figure ``figure_id`` (none when it was not drawn here)."""
        if figure_id not in self.section.figures:
            raise BenchError(
                f"report section {self.section.id!r} shows figure {figure_id!r} without "
                "declaring it; add it to the section's figures"
            )
        path = self.figures.get(figure_id)
        if path is None:
            return []
        from bench.results.report.figures import FIGURES

        caption = FIGURES.get(figure_id).caption
        title = self.agg.datasets.at[self.dataset, "title"] if self.dataset else ""
        alt = f"{title}: {caption}" if title else caption
        return [f"![{alt}]({path})", ""]


def render_markdown(
    name: str,
    agg: Any,
    *,
    figures: Mapping[str, Mapping[str, str]] | None = None,
    stale: Sequence[Any] = (),
    generated: str = "",
) -> list[str]:
    """The lines of markdown page ``name``: its sections in order. A run of consecutive
    dataset sections is rendered dataset by dataset (all of MNIST's, then all of
    Fashion-MNIST's), so each dataset reads as one block."""
    lines: list[str] = []
    for scope, sections in blocks(page(name)):
        if scope == "report":
            for section in sections:
                ctx = SectionContext(agg, section, stale=stale, generated=generated)
                lines += section.renderers[name](ctx)
            continue
        for dataset in agg.order:
            shown = (figures or {}).get(dataset, {})
            for section in sections:
                ctx = SectionContext(agg, section, dataset, shown, stale, generated)
                lines += section.renderers[name](ctx)
    return lines


def blocks(sections: Sequence[Section]) -> list[tuple[str, list[Section]]]:
    """``sections`` cut into runs of the same scope, in order."""
    result: list[tuple[str, list[Section]]] = []
    for section in sections:
        if result and result[-1][0] == section.scope:
            result[-1][1].append(section)
        else:
            result.append((section.scope, [section]))
    return result


def build_section_frames(records: Sequence[Any], agg: Any) -> None:
    """Compute the frames that sections build themselves and add them to ``agg``."""
    for name in SECTIONS.names():
        section = SECTIONS.get(name)
        if section.build is not None:
            agg.extra[section.id] = section.build(records, agg)
