"""Inputs: paths, globs, directories of shards, saved Hugging Face datasets, hub ids.

`plan_splits(specs)` turns what a user typed into an ordered list of `Split`s, the units
of parallel work. A split is a whole file, a byte range of a large plain `.jsonl` file
(cut at line starts, with the line number it starts at), a range of a parquet file's row
groups, or a row range of a saved Hugging Face dataset. The order is deterministic: specs
in the order given; a glob or a directory in natural (version) order of its paths; a
directory we wrote in its manifest's order.
"""

from __future__ import annotations

import glob as globbing
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from curate.io.codecs import compression_of

DATA_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".ndjson", ".ndjson.gz", ".json",
                 ".json.gz", ".json.zst", ".parquet")
MANIFEST = "_manifest.json"
SPLIT_BYTES = 64 << 20  # PREFKIT_SPLIT_BYTES overrides it (tests use small splits)
_HF_DISK_MARKERS = ("dataset_info.json", "state.json", "dataset_dict.json")
_GLOB_CHARS = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class Split:
    """One unit of input. `kind` is lines (JSON Lines, maybe compressed), json (a JSON array
    or a JSON Lines file named .json), parquet, hf_disk or hub."""

    path: str
    kind: str
    start: int = 0  # lines: byte offset; parquet: first row group; hf_disk: first row
    stop: int | None = None  # exclusive; None: to the end
    first_line: int = 1  # line (or row) number of the first record
    split: str = "train"  # the split of a saved or hub dataset

    @property
    def name(self) -> str:
        return self.path if self.kind != "hub" else f"hf://{self.path}[{self.split}]"


class InputError(ValueError):
    """An input spec that names nothing readable."""


def is_data_file(path: str | Path) -> bool:
    return str(path).lower().endswith(DATA_SUFFIXES)


def plan_splits(specs: list[str] | str, *, split: str = "train",
                split_bytes: int | None = None) -> list[Split]:
    """Every split of every input spec, in order."""
    specs = [specs] if isinstance(specs, str | os.PathLike) else list(specs)
    if not specs:
        raise InputError("no input given")
    split_bytes = split_bytes or int(os.environ.get("PREFKIT_SPLIT_BYTES", SPLIT_BYTES))
    out: list[Split] = []
    for spec in specs:
        for path, kind in _expand(str(spec)):
            out.extend(_splits_of(path, kind, split, split_bytes))
    return out


def input_files(specs: list[str] | str, *, folders: bool = False) -> list[Path]:
    """The files behind the specs (for hashing and collision checks), and with `folders` the
    directories given as inputs too; hub ids have none."""
    specs = [specs] if isinstance(specs, str | os.PathLike) else list(specs)
    files: list[Path] = [Path(spec) for spec in specs if folders and Path(spec).is_dir()]
    for spec in specs:
        for path, kind in _expand(str(spec)):
            if kind == "hf_disk":
                files.extend(sorted(p for p in Path(path).rglob("*") if p.is_file()))
            elif kind != "hub":
                files.append(Path(path))
    return files


def natural_key(path: str) -> list[object]:
    """`part-2` before `part-10`."""
    return [int(token) if token.isdigit() else token for token in re.split(r"(\d+)", path)]


def _expand(spec: str) -> list[tuple[str, str]]:
    path = Path(spec)
    if _GLOB_CHARS.search(spec) and not path.exists():
        matches = sorted((m for m in globbing.glob(spec, recursive=True) if Path(m).is_file()
                          and is_data_file(m)), key=natural_key)
        if not matches:
            raise InputError(f"{spec}: no data files match this pattern "
                             f"({', '.join(DATA_SUFFIXES)})")
        return [(m, _file_kind(m)) for m in matches]
    if path.is_dir():
        return _directory(path)
    if path.is_file():
        return [(spec, _file_kind(spec))]
    if looks_like_hub_id(spec):
        return [(spec, "hub")]
    raise FileNotFoundError(f"{spec}: no such file or directory")


def _directory(path: Path) -> list[tuple[str, str]]:
    if (path / MANIFEST).is_file():
        return [(str(path / shard), _file_kind(shard)) for shard in manifest_shards(path)]
    if any((path / marker).exists() for marker in _HF_DISK_MARKERS):
        return [(str(path), "hf_disk")]
    files = sorted((str(p) for p in path.iterdir() if p.is_file() and is_data_file(p)
                    and not p.name.startswith((".", "_"))), key=natural_key)
    if not files:
        raise InputError(f"{path}: a directory with no data files ({', '.join(DATA_SUFFIXES)}) "
                         "and not a saved Hugging Face dataset")
    return [(f, _file_kind(f)) for f in files]


def manifest_shards(directory: Path) -> list[str]:
    """The shard names a manifest lists, after checking each is there with its size."""
    manifest_path = directory / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        shards = manifest["shards"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError(f"{manifest_path}: not a valid manifest ({exc})") from None
    names = []
    for shard in shards:
        file = directory / shard["name"]
        if not file.is_file():
            raise InputError(f"{file}: listed in {manifest_path} but missing")
        if file.stat().st_size != shard["bytes"]:
            raise InputError(f"{file}: {file.stat().st_size:,} bytes, but {manifest_path} says "
                             f"{shard['bytes']:,} (changed or truncated after it was written)")
        names.append(shard["name"])
    return names


def _file_kind(path: str) -> str:
    name = path.lower()
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".json", ".json.gz", ".json.zst")):
        return "json"
    if is_data_file(name):
        return "lines"
    raise InputError(f"{path}: unknown input format; use {', '.join(DATA_SUFFIXES)}, a "
                     "directory of them, or a saved Hugging Face dataset")


def _splits_of(path: str, kind: str, split: str, split_bytes: int) -> list[Split]:
    if kind == "lines" and compression_of(path) is None:
        return _line_ranges(path, split_bytes)
    if kind == "parquet":
        return _row_group_ranges(path, split_bytes)
    if kind == "hf_disk":
        return _hf_ranges(path, split, split_bytes)
    return [Split(path, kind, split=split)]


MIN_SPLIT_BYTES = 1 << 20
SPLITS_PER_FILE = 16  # a file of any size gives work to several workers


def _line_ranges(path: str, split_bytes: int) -> list[Split]:
    """Byte ranges of at most `split_bytes` (and about a sixteenth of the file, at least
    1 MB: so that one file keeps several workers busy), each starting at a line start, with
    its line number (newlines are counted in one sequential pass; about 1 GB/s). The ranges
    depend on the file only, never on the number of workers."""
    size = os.path.getsize(path)
    split_bytes = min(split_bytes, max(MIN_SPLIT_BYTES, size // SPLITS_PER_FILE))
    if size <= split_bytes:
        return [Split(path, "lines")]
    out, start, line = [], 0, 1
    with open(path, "rb") as handle:
        while start < size:
            target = start + split_bytes
            if target >= size:
                out.append(Split(path, "lines", start, None, line))
                break
            handle.seek(target)
            handle.readline()
            stop = handle.tell()
            handle.seek(start)
            newlines, left = 0, stop - start
            while left:
                chunk = handle.read(min(left, 1 << 18))
                newlines += chunk.count(b"\n")
                left -= len(chunk)
            out.append(Split(path, "lines", start, stop, line))
            start, line = stop, line + newlines
    return out


def _row_group_ranges(path: str, split_bytes: int) -> list[Split]:
    import pyarrow.parquet as pq

    try:
        metadata = pq.ParquetFile(path).metadata
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise InputError(f"{path}: not a readable parquet file ({exc})") from None
    out, start, size, first, row = [], 0, 0, 1, 1
    for group in range(metadata.num_row_groups):
        size += metadata.row_group(group).total_byte_size
        row += metadata.row_group(group).num_rows
        if size >= split_bytes:
            out.append(Split(path, "parquet", start, group + 1, first))
            start, size, first = group + 1, 0, row
    if start < metadata.num_row_groups or not out:
        out.append(Split(path, "parquet", start, metadata.num_row_groups, first))
    return out


def _hf_ranges(path: str, split: str, split_bytes: int) -> list[Split]:
    import datasets

    dataset = datasets.load_from_disk(path)
    if isinstance(dataset, datasets.DatasetDict):
        if split not in dataset:
            raise InputError(f"{path}: no split {split!r}; available: {', '.join(dataset)}")
        dataset = dataset[split]
    rows, size = len(dataset), max(1, dataset.data.nbytes)
    step = max(1, int(rows * split_bytes / size))
    return [Split(path, "hf_disk", start, min(rows, start + step), start + 1, split)
            for start in range(0, max(rows, 1), step)]


def looks_like_hub_id(source: str) -> bool:
    parts = source.split("/")
    return len(parts) in (1, 2) and all(re.fullmatch(r"[A-Za-z0-9][\w.-]*", p) for p in parts) \
        and not source.startswith((".", "~")) and not is_data_file(source)
