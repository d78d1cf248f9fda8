"""Text handling shared by dedup, decontamination and the quality rules, for every script.

* `scripts`: the script of a character or text (ISO 15924), and which scripts write words
  without spaces;
* `normalise`: the Unicode normal form texts are matched in (NFKC, no invisible characters,
  case folded);
* `units`: texts to matching units (words, or characters in scripts without spaces);
* `languages`: language codes and how a requested code matches the data's.
"""

from curate.text.normalise import normalise, normalise_series, valid_unicode
from curate.text.scripts import dominant_script, is_unspaced, script_of
from curate.text.units import CHAR_NGRAM, MODES, Mode, unit_lists, units

__all__ = ["CHAR_NGRAM", "MODES", "Mode", "dominant_script", "is_unspaced", "normalise",
           "normalise_series", "script_of", "unit_lists", "units", "valid_unicode"]
