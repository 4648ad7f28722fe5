"""The year's report under reports/<Y>/ (CONTRACT §6): review.html, review.xlsx, CHANGELOG.md, merge_review.xlsx,
feedback/<file>_反馈.xlsx.

    build.write_annual_report(out_dir, ReportInputs)      which files, in which order
      tables.review_tables → ReviewTable per section      model.py: ReportInputs, ReviewTable
        departments · change_tables · violations · coverage · trend · upstream (county)
      review_html (templates/review.html.j2 + review_charts → charts)   review_xlsx (one sheet per table)
      CHANGELOG.md (consolidate.changes)   merge_review.xlsx (dedupe.review)   feedback (one per workbook)

A new section: a `*_review(inputs) -> ReviewTable` beside the figures it shows, listed in
tables.review_tables (page and sheet order), placed in templates/review.html.j2; a chart in review_charts.
"""
