"""Self-evaluation (绩效自评, SPEC §7, issue 14): after the year, each department reports what its indicators
achieved; this stage scores them by the MoF rules and grades the totals.

    bands.py      the scoring bands and fixed points (schemas/reference/self_eval_bands.csv)
    scoring.py    one indicator's points by each rule, and the 预算执行率 points, pure and explained
    weights.py    each usage's points from the filed 权重, or the MoF split when weights are missing
    score.py      scores over DataFrames: per usage, per project (out of 100), per department, grades
    codes.py      the self-evaluation findings (the E rows of schemas/reference/finding_codes.csv)
    workbook.py   the pre-filled self-evaluation workbook of one department and year
    instructions.py  its 填报说明 sheet (steps, columns, the scoring rules, the codes)
    reader.py     reading a filled workbook back, with located Chinese findings
    tables.py     the evaluation tables (per usage, per project, per department; schemas/evaluation.py)
    run.py        a folder of workbooks scored in one go; a department's scorecard as text
    release.py    the blocking checks, then library/evaluations/<Y>/ + reports published, committed, tagged vY-eval
    doc.py        docs/SELF_EVALUATION.md, generated from the bands and codes

Layer: after store (it reads and writes a release; the files' layout is pipelines/store/evaluations.py), before
report (pipelines/report/self_evaluation.py shows its tables). The composition the CLI and Dagster run:
pipelines/defs/evaluation.py (score_year, publish_year).
"""
