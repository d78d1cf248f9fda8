"""Where a run trains (device and precision, chosen automatically) and where its model comes
from (a local directory or a hub id, checked before anything loads)."""

from __future__ import annotations

import pytest
import torch

from train.models import check_model_exists, pick_device


def test_cpu_trains_in_fp32_and_refuses_half_precision():
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


def test_models_are_local_directories_or_hub_ids(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    assert check_model_exists(str(tmp_path / "model")) == str(tmp_path / "model")
    with pytest.raises(FileNotFoundError, match="a directory without config.json"):
        check_model_exists(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no such directory"):
        check_model_exists("./runs/nothing")
    # offline (tests set HF_HUB_OFFLINE=1), an uncached hub id fails with the reason
    with pytest.raises(FileNotFoundError, match=r"not a local directory, and not a Hugging Face "
                                                r"hub model .*\(HF_HUB_OFFLINE is set"):
        check_model_exists("prefkit-tests/no-such-model")
