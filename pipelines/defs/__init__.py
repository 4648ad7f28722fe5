"""Dagster: the data's journey made observable. Each asset is a few lines calling a step module."""
