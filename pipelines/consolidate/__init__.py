"""Consolidate: accepted rows + the last release → the new release's tables (CONTRACT §5).

build.consolidate_year  merges (decisions, 共性 promotions) → identity (which indicator each row is a usage of:
                        key_index, continuity, identity rules) → new_indicators → usage (修改, 退出, retirement)
                        → per_indicator values → tables;  review_pairs: the list handed to dedupe's review
changes                 added / changed / retired against the last release (CHANGELOG, diff)
upstream                a county's library on top of its city's release
"""
