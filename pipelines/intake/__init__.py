"""Intake: a department's .xlsx → a Workbook of text rows with provenance (docs/ARCHITECTURE.md).

read.read_workbook        container (zip checked before any parser) → extent/bounds → sheets → headers
                          → department_info → data_rows → rows (cells, percent, targets) → workbook.Workbook
safe_parse.read_workbooks the same in worker processes with memory and time limits (F012)
parse_cache               skips unchanged files; keyed on each file's sha256 and everything that shapes a parse
inbox                     which files of a folder are submissions;  template: the blank workbook
"""
