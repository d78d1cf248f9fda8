"""Filter presets: readable YAML files of `curate filter` options, to use or copy and edit.

`load_preset("web-gopher")` reads the bundled `web-gopher.yaml`; a path to a
YAML file works too. Presets are validated as `FilterOptions` when used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curate.options import OptionsError, load_yaml

PRESET_DIR = Path(__file__).parent


def preset_names() -> list[str]:
    """Names of the bundled presets."""
    return sorted(path.stem for path in PRESET_DIR.glob("*.yaml"))


def preset_path(name: str) -> Path:
    """The YAML file of a bundled preset name, or `name` itself when it is a file."""
    bundled = PRESET_DIR / f"{name}.yaml"
    if bundled.is_file():
        return bundled
    if Path(name).is_file():
        return Path(name)
    raise OptionsError(f"unknown preset {name!r}; bundled presets: {', '.join(preset_names())} "
                       "(or give a path to a YAML file)")


def load_preset(name: str) -> dict[str, Any]:
    """The options mapping of a preset (bundled name or YAML path)."""
    return load_yaml(preset_path(name))
