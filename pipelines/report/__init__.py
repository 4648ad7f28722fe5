"""The year's report under reports/<Y>/ (CONTRACT §6): review.html, review.xlsx, CHANGELOG.md, merge_review.xlsx,
library.html; self_evaluation.html/.xlsx after a self-evaluation. Feedback workbooks are not part of it: they go
to the deployment's git-ignored outbox/<Y>/ (build.write_outbox).

    build.write_annual_report(out_dir, ReportInputs)      which files, in which order
      tables.review_tables → ReviewTable per section      model.py: ReportInputs, ReviewTable
        departments · change_tables · violations · coverage · trend · target_review · upstream (county)
      review_html (templates/review.html.j2 + review_charts → charts)   review_xlsx (one sheet per table)
      CHANGELOG.md (consolidate.changes)   merge_review.xlsx (dedupe.review)   library_page/ (the browser page)
    html_page: the one Jinja2 environment and Content-Security-Policy of every page
    feedback: one workbook per submitted file (the outbox)   self_evaluation: the self-evaluation's report

A new section: a `*_review(inputs) -> ReviewTable` beside the figures it shows, listed in
tables.review_tables (page and sheet order), placed in templates/review.html.j2; a chart in review_charts.
"""
