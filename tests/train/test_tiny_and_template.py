"""The embedded tiny model, and how a training template is found for other models."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from train.template import TemplateError, resolve_template
from train.tiny import build_tiny_model, build_tiny_tokenizer, is_tiny_model

TEXTS = ["What is 2 plus 2? It is 4.", "Tell me about owls. Owls hunt at night."] * 20
CONVERSATION = [{"role": "user", "content": "Hi there"},
                {"role": "assistant", "content": "Hello! How can I help?"}]


def trained_text(tokenizer) -> str:
    rendered = tokenizer.apply_chat_template(CONVERSATION, tokenize=True, return_dict=True,
                                             return_assistant_tokens_mask=True)
    return tokenizer.decode([t for t, m in zip(rendered["input_ids"], rendered["assistant_masks"],
                                               strict=True) if m])


def test_tiny_model_loads_with_auto_classes_and_is_deterministic(tmp_path):
    first = build_tiny_model(TEXTS, tmp_path / "a", seed=3)
    build_tiny_model(TEXTS, tmp_path / "b", seed=3)
    build_tiny_model(TEXTS, tmp_path / "c", seed=4)

    tokenizer = AutoTokenizer.from_pretrained(first)
    model = AutoModelForCausalLM.from_pretrained(first)
    assert sum(p.numel() for p in model.parameters()) < 3_000_000
    assert is_tiny_model(first) and model.config.vocab_size >= len(tokenizer)
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token == "<|endoftext|>"
    assert trained_text(tokenizer) == "Hello! How can I help?<|im_end|>"
    # the saved tokenizer splits text exactly like the one that was trained
    fresh = build_tiny_tokenizer(TEXTS)
    for text in TEXTS[:2] + ["Unseen words, numbers 12345 and émojis 🦉"]:
        assert tokenizer(text)["input_ids"] == fresh(text)["input_ids"]
    weights = [AutoModelForCausalLM.from_pretrained(tmp_path / name).state_dict()
               for name in ("a", "b", "c")]
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    assert not all(torch.equal(weights[0][k], weights[2][k]) for k in weights[0])
    assert json.loads((first / "tokenizer.json").read_text()) == \
        json.loads((tmp_path / "b" / "tokenizer.json").read_text())


@pytest.fixture
def tokenizer():
    return build_tiny_tokenizer(TEXTS)


def test_a_template_with_markers_is_kept(tokenizer):
    origin = resolve_template(tokenizer, model_name="m")
    assert origin == "m's chat template"


def test_a_known_template_gets_trls_training_version(tokenizer):
    from trl.chat_template_utils import qwen2_5_chat_template

    tokenizer.chat_template = qwen2_5_chat_template
    origin = resolve_template(tokenizer, model_name="qwen")
    assert origin.startswith("TRL's training version")
    assert trained_text(tokenizer).strip() == "Hello! How can I help?<|im_end|>"


def test_a_chatml_template_without_markers_is_matched(tokenizer):
    tokenizer.chat_template = (
        "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + "
        "'<|im_end|>' + '\\n' }}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
    assert resolve_template(tokenizer, model_name="x").startswith("ChatML template (renders")
    assert trained_text(tokenizer) == "Hello! How can I help?<|im_end|>"


def test_a_base_model_without_chatml_tokens_gets_the_plain_template(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<eos>": 0, **{chr(c): i + 1 for i, c in enumerate(range(32, 127))}}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<eos>"))
    backend.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    base = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="<eos>", pad_token="<eos>")

    assert "plain" in resolve_template(base, model_name="base")
    assert trained_text(base).replace(" ", "") == "Hello!HowcanIhelp?<eos>"


def test_an_unknown_template_fails_with_the_fix(tokenizer):
    tokenizer.chat_template = ("{% for m in messages %}### {{ m['role'] }}: {{ m['content'] }}\n"
                               "{% endfor %}")
    with pytest.raises(TemplateError, match="pass --chat-template FILE.jinja"):
        resolve_template(tokenizer, model_name="odd")
