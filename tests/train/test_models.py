"""Where a run trains (device and precision, chosen automatically) and where its model comes
from (a local directory or a hub id, checked before anything loads, failing in one line)."""

from __future__ import annotations

import pytest
import torch

from train.models import check_model_exists, pick_device


def test_the_device_and_precision_follow_the_machine():
    """Right on CPU-only machines and on GPU machines alike."""
    if torch.cuda.is_available():
        expected = ("cuda", "bf16" if torch.cuda.is_bf16_supported() else "fp16")
    elif torch.backends.mps.is_available():
        expected = ("mps", "fp32")
    else:
        expected = ("cpu", "fp32")
    device = pick_device()
    assert (device.name, device.precision) == expected
    assert device.trainer_args == {"use_cpu": expected[0] == "cpu",
                                   "bf16": expected[1] == "bf16", "fp16": expected[1] == "fp16"}
    assert pick_device("fp32").trainer_args["bf16"] is False


def test_cpu_trains_in_fp32_and_refuses_half_precision(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    device = pick_device()
    assert (device.name, device.precision) == ("cpu", "fp32")
    assert device.trainer_args == {"use_cpu": True, "bf16": False, "fp16": False}
    with pytest.raises(ValueError, match="bf16 needs a GPU"):
        pick_device("bf16")


@pytest.mark.parametrize(("bf16_supported", "precision"), [(True, "bf16"), (False, "fp16")])
def test_a_gpu_trains_in_bf16_when_it_can(monkeypatch, bf16_supported, precision):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16_supported)
    device = pick_device()
    assert (device.name, device.precision) == ("cuda", precision)
    assert device.trainer_args == {"use_cpu": False, "bf16": precision == "bf16",
                                   "fp16": precision == "fp16"}
    assert pick_device("fp32").trainer_args["bf16"] is False


@pytest.mark.parametrize(("model", "message"), [
    ("./runs/nothing", "model ./runs/nothing: no such directory"),
    ("bad name!", "model bad name!: no such directory"),  # not "Repo id must use ..."
    ("runs/sft", ("model runs/sft: no such directory, and no hub model of that name in the "
                  "local cache (HF_HUB_OFFLINE is set")),
    ("prefkit-tests/no-such-model", "no hub model of that name in the local cache"),
])
def test_a_missing_model_fails_in_one_line_naming_it(model, message):
    with pytest.raises(FileNotFoundError) as caught:
        check_model_exists(model)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_models_are_local_directories(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    assert check_model_exists(str(tmp_path / "model")) == str(tmp_path / "model")
    with pytest.raises(FileNotFoundError, match="a directory without config.json"):
        check_model_exists(str(tmp_path))
