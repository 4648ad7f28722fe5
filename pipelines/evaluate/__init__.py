"""Self-evaluation (绩效自评, SPEC §7, issue 14): after the year, each department reports what its indicators
achieved; this stage scores them by the MoF rules and grades the totals.

    bands.py      the scoring bands and fixed points (schemas/reference/self_eval_bands.csv)
    scoring.py    one indicator's points by each rule, and the 预算执行率 points, pure and explained
    weights.py    each usage's points from the filed 权重, or the MoF split when weights are missing
    score.py      scores over DataFrames: per usage, per project (out of 100), per department, grades
    codes.py      the self-evaluation findings (schemas/reference/self_eval_codes.csv, E5xx)
    workbook.py   the pre-filled self-evaluation workbook of one department and year
    reader.py     reading a filled workbook back, with located Chinese findings
    tables.py     the evaluation tables (per usage, per project, per department), deterministic
"""
