"""The library browser page, reports/<Y>/library.html (CONTRACT §6): search across 繁/简 and full/half
width, filters, indicator cards (standards, targets by year, change history) and a pick basket whose CSV
export `indicators template --pick` reads. One self-contained offline file, no request of any kind."""

from pipelines.report.library_page.events import all_events, changeset_events, release_events
from pipelines.report.library_page.page import PAGE_NAME, write_library_page

__all__ = ["PAGE_NAME", "all_events", "changeset_events", "release_events", "write_library_page"]
