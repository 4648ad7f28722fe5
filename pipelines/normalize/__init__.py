"""Normalize: accepted rows → canonical names, units and explanations, and the key identity is matched on
(canonical: one value; keys: whole tables; suffixes: what a name measures, read from its ending)."""
