"""s1-style selection: quality, then difficulty, then diversity (`curate select`)."""

from curate.select.options import SelectOptions
from curate.select.render import write_report

__all__ = ["SelectOptions", "select_inputs", "select_records", "write_report"]


def __getattr__(name: str):  # the driver imports the engine: load it on first use
    if name in ("select_inputs", "select_records"):
        from curate.select import run

        return getattr(run, name)
    raise AttributeError(name)
