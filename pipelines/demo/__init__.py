"""The demo (`indicators demo`): a fictional city's three years of submissions, and workbook.py, the one writer
of synthetic submission workbooks shared by the demo, the benchmark corpus and the tests."""
