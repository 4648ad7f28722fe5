"""Shapes of every table (pandera DataFrameModels) and the reference vocabularies, loaded once."""
