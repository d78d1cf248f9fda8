"""The error contract, fuzzed: broken inputs of every kind through every command.

Each case ends in exit 0, or exit 1 with one line `error: FILE[:LINE]: ...` and no
traceback; nothing is half-written; with `--on-error skip` only the bad part is set aside and
`in == used + removed + rejected` holds."""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate.cli import app

runner = CliRunner()
GOOD = [{"id": f"r{i}", "messages": [{"role": "user", "content": f"question {i} about a topic"},
                                      {"role": "assistant", "content": f"answer {i}: it is so."}]}
        for i in range(6)]
LINES = [json.dumps(r) for r in GOOD]


def _nested_tree(depth: int) -> str:
    """A tree export row nested `depth` messages deep, as text (too deep for json.dumps)."""
    head = "".join(f'{{"message_id": "m{level}", "text": "turn {level}", "role": '
                   f'"{"assistant" if level % 2 else "prompter"}", "replies": ['
                   for level in range(depth))
    return ('{"message_tree_id": "t", "tree_state": "ready_for_export", "prompt": ' + head
            + '{"message_id": "leaf", "text": "leaf", "role": "assistant", "replies": []}'
            + "]}" * depth + "}")


def _chain(length: int) -> str:
    rows = [{"message_id": f"m{i}", "parent_id": f"m{i - 1}" if i else None,
             "message_tree_id": "t", "text": f"turn {i}", "lang": "en",
             "role": "assistant" if i % 2 else "prompter"} for i in range(length)]
    return "".join(json.dumps(r) + "\n" for r in rows)


def make_inputs(folder: Path) -> dict[str, Path]:
    """Broken (and odd but valid) inputs; the value is the file."""
    files: dict[str, bytes] = {
        "bad_bytes.jsonl": ("\n".join(LINES[:2]) + "\n").encode() + b'{"text": "\xff\xfe"}\n'
        + ("\n".join(LINES[2:]) + "\n").encode(),
        "latin1.jsonl": ("\n".join(LINES[:3]) + "\n").encode()
        + '{"messages": [{"role": "user", "content": "café"}]}\n'.encode("latin-1"),
        "surrogate.jsonl": (LINES[0] + '\n{"messages": [{"role": "user", "content": "x \\ud800"},'
                            ' {"role": "assistant", "content": "y"}]}\n' + LINES[1] + "\n").encode(),
        "deep.jsonl": (LINES[0] + "\n" + "[" * 100_000 + "]" * 100_000 + "\n" + LINES[1]
                       + "\n").encode(),
        "bom.jsonl": b"\xef\xbb\xbf" + ("\n".join(LINES) + "\n").encode(),
        "one_object.json": json.dumps({"a": 1, "b": [1, 2], "c": {"d": "e"}}, indent=2).encode(),
        "types.jsonl": (LINES[0] + "\n" + json.dumps({"messages": [{"role": "user",
                                                                   "content": ["a list"]},
                                                                  {"role": "assistant",
                                                                   "content": "y"}]})
                        + "\n" + json.dumps({"messages": ["not an object"]}) + "\n"
                        + json.dumps({"messages": 7}) + "\n" + LINES[1] + "\n").encode(),
        "oasst_deep.jsonl": (_nested_tree(500) + "\n").encode(),
        "oasst_chain.jsonl": _chain(20_000).encode(),
        "emoji.jsonl": "".join(json.dumps({"id": i, "messages": [
            {"role": "user", "content": "🙂" * (i + 1)}, {"role": "assistant", "content": "👍🏽"}]})
            + "\n" for i in range(4)).encode(),
        "empty.jsonl": b"",
        "blank_lines.jsonl": ("\n\n" + "\n\n".join(LINES) + "\n\n").encode(),
    }
    stream = gzip.compress(("\n".join(LINES * 300) + "\n").encode())
    files["truncated.jsonl.gz"] = stream[:len(stream) // 2]
    files["corrupt.jsonl.gz"] = stream[:30] + b"\x00" * 40 + stream[70:]
    files["not_gzip.jsonl.gz"] = ("\n".join(LINES) + "\n").encode()
    # A whole JSON array, gzipped and cut: read at once, which once raised "reentrant call".
    array = gzip.compress(json.dumps(GOOD * 300).encode())
    files["truncated_array.json.gz"] = array[:len(array) // 2]
    paths = {}
    for name, data in files.items():
        (folder / name).write_bytes(data)
        paths[name] = folder / name
    return paths


COMMANDS = {
    "convert": [],
    "score": ["--signals", "counts,instruction,language,toxicity"],
    "filter": ["--preset", "sft-default", "--no-report"],
    "dedup": [],
    "decontam": ["--against", "EVAL"],
    "stats": None,
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "eval.jsonl").write_text(json.dumps({"prompt": "what is the capital city of the "
                                                   "country of france in europe today"}) + "\n")
    return make_inputs(folder)


def check_error_line(output: str, name: str) -> None:
    lines = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, output
    assert name in lines[0], output  # the file (and line where there is one) is named


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("mode", ["raise", "skip"])
def test_every_broken_input_through_every_command(inputs, tmp_path: Path, command: str,
                                                  mode: str) -> None:
    for name, path in inputs.items():
        out = tmp_path / f"{name}.out.jsonl"
        extra = [a.replace("EVAL", str(path.parent / "eval.jsonl")) for a in
                 COMMANDS[command] or []]
        args = [command, str(path)] + ([] if COMMANDS[command] is None else ["-o", str(out)])
        result = runner.invoke(app, [*args, *extra, "--on-error", mode])
        where = f"{command} {name} ({mode}): {result.output[-600:]}"
        assert result.exception is None or isinstance(result.exception, SystemExit), \
            f"{where}\n{result.exception!r}"
        assert "Traceback" not in result.output, where
        assert result.exit_code in (0, 1), where
        if result.exit_code == 1:
            check_error_line(result.output, name)
            assert not out.exists(), where  # nothing half-written
            continue
        if COMMANDS[command] is None:
            continue
        stats = json.loads(out.with_name(f"{name}.out.stats.json").read_text())
        used = stats["used"] if stats["used"] is not None else stats["out"]
        assert stats["in"] == used + stats["removed"] + stats["rejected"], where


@pytest.mark.parametrize("name,reason,kept", [
    ("bad_bytes.jsonl", "bad_encoding", 6), ("latin1.jsonl", "bad_encoding", 3),
    ("surrogate.jsonl", "bad_unicode", 2), ("deep.jsonl", "too_deep", 2),
    ("truncated.jsonl.gz", "damaged_file", None), ("types.jsonl", "invalid_record", 2)])
def test_skip_sets_aside_only_the_bad_part(inputs, tmp_path: Path, name: str, reason: str,
                                           kept: int | None) -> None:
    out = tmp_path / "o.jsonl"
    result = runner.invoke(app, ["convert", str(inputs[name]), "-o", str(out), "--on-error", "skip"])
    assert result.exit_code == 0, result.output
    stats = json.loads((tmp_path / "o.stats.json").read_text())
    assert reason in stats["rejected_by_reason"]
    rows = out.read_text().splitlines()
    if kept is None:  # a truncated stream: every complete line before the damage is kept
        decoded = zlib.decompressobj(31).decompress(inputs[name].read_bytes())
        kept = decoded.count(b"\n")
        assert stats["rejected"] == 1
    assert len(rows) == kept


def test_bom_and_blank_lines_lose_nothing(inputs, tmp_path: Path) -> None:
    for name in ("bom.jsonl", "blank_lines.jsonl"):
        out = tmp_path / f"{name}.jsonl"
        assert runner.invoke(app, ["convert", str(inputs[name]), "-o", str(out)]).exit_code == 0
        assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == \
            [r["id"] for r in GOOD]


def test_a_long_oasst_chain_converts_and_deep_nesting_is_a_reasoned_reject(inputs,
                                                                             tmp_path: Path) -> None:
    out = tmp_path / "chain.jsonl"
    result = runner.invoke(app, ["convert", str(inputs["oasst_chain.jsonl"]), "-o", str(out)])
    assert result.exit_code == 0, result.output
    [record] = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(record["messages"]) == 20_000  # walked without recursion
    result = runner.invoke(app, ["convert", str(inputs["oasst_deep.jsonl"]), "-o",
                                 str(tmp_path / "d.jsonl")])
    assert result.exit_code in (0, 1) and "Traceback" not in result.output
    if result.exit_code == 1:
        assert "oasst_deep.jsonl:1" in result.output


def test_os_errors_are_one_line(inputs, tmp_path: Path) -> None:
    source = inputs["bom.jsonl"]
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        result = runner.invoke(app, ["convert", str(source), "-o", str(folder / "o.jsonl")])
        if result.exit_code:  # root ignores permissions
            check_error_line(result.output, "ro")
    finally:
        folder.chmod(0o700)
    a_dir = tmp_path / "adir.jsonl"
    a_dir.mkdir()
    result = runner.invoke(app, ["convert", str(source), "-o", str(a_dir)])
    assert result.exit_code == 1 and "is a directory" in result.output
    a_file = tmp_path / "afile"
    a_file.write_text("x")
    result = runner.invoke(app, ["convert", str(source), "-o", f"{a_file}/"])
    assert result.exit_code == 1 and "is a file" in result.output
    result = runner.invoke(app, ["convert", "no-such-org/no-such-dataset", "-o",
                                 str(tmp_path / "h.jsonl")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    check_error_line(result.output, "no-such-org/no-such-dataset")
