"""Validate: Workbooks → located findings and one outcome per row (CONTRACT §3).

runner.validate_workbooks  canonicalize (rows as the rules see them) → the registry's rules stage by stage
                           (rules/: each rule declared once with its codes) → hits → findings, row outcomes
catalogue                  docs/FINDINGS.md and the template's 填报说明, generated from the registry
markers                    template markers stripped from names (★, **, (≥**%), 指标1:)
"""
