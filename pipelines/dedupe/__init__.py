"""Dedupe: which indicators may be one measure worded twice, for a person to decide (merge_review.xlsx).

candidates.find_candidates  blocking (which pairs to score) → features → scoring (model: a logistic pair model
                            trained on labelled real pairs; pair_model trains it) → patterns and reasons
review                      the workbook written and read back;  decisions: a filled-in review → rules/
"""
