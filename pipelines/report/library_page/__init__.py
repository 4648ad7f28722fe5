"""The library browser page, reports/<Y>/library.html (CONTRACT §6): search across 繁/简 and full/half
width, filters, indicator cards (standards, targets by year, change history) and a pick basket whose CSV
export `indicators template --pick` reads. One self-contained offline file, no request of any kind.

Why no vendored search or list library (assets/library.js is the package's own, ~490 lines):
- Search is a substring scan over texts folded at build time (fold.py), ranked name > other names and
  keywords > definition. Client-side indexes were measured at 30,000 indicators with Chinese
  unigram+bigram tokens (Node 20, this machine): MiniSearch 7.2.0 needs 4–27 s to build its index
  (its radix tree scans a node's children linearly, and CJK n-grams give nodes thousands of them) and
  2.8 s to load a prebuilt one (29 MB); FlexSearch 0.8.212 needs 7–10 s. The budget is 1 s for opening
  and searching; the scan answers in under 30 ms and needs no index at all.
- The list is virtualised by hand: rows have one fixed height, so the rows in view are an index range
  (renderRows, ~20 lines); the libraries that do this are built for frameworks (React, Vue).
"""

from pipelines.report.library_page.events import all_events, changeset_events, release_events
from pipelines.report.library_page.page import PAGE_NAME, write_library_page

__all__ = ["PAGE_NAME", "all_events", "changeset_events", "release_events", "write_library_page"]
