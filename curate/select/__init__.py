"""s1-style selection: quality, then difficulty, then diversity (`curate select`)."""

from curate.select.options import SelectOptions
from curate.select.pipeline import select_records
from curate.select.render import write_report

__all__ = ["SelectOptions", "select_records", "write_report"]
