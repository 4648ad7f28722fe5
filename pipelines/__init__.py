"""预算绩效指标库: the data's journey read → validate → normalize → consolidate → publish → report."""

__version__ = "0.1.0"
