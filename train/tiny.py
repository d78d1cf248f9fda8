"""The embedded tiny model: a BPE tokenizer trained on the data and a random small Qwen2.

`build_tiny_model(texts, out_dir)` writes a directory that loads with
`AutoTokenizer.from_pretrained(out_dir)` and `AutoModelForCausalLM.from_pretrained(out_dir)`.
The tokenizer carries a ChatML chat template whose assistant turns are wrapped in
`{% generation %}` markers, so assistant-only loss works out of the box; its end-of-turn
token `<|im_end|>` is the EOS token, so generation stops at the end of a turn.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

PAD_TOKEN = "<|endoftext|>"
TURN_START = "<|im_start|>"
TURN_END = "<|im_end|>"
SPECIAL_TOKENS = (PAD_TOKEN, TURN_START, TURN_END)

# ChatML. Each assistant turn's content *and* its end-of-turn token sit inside the generation
# block, so the mask trains the model to stop; the newline after `<|im_end|>` is not trained.
CHATML_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- generation %}{{- message['content'] + '<|im_end|>' }}{%- endgeneration %}"
    "{{- '\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

# Role names the template writes: seen by the BPE trainer so they become single tokens.
_TEMPLATE_WORDS = ("system\n", "user\n", "assistant\n", "tool\n")


def build_tiny_model(texts: Iterable[str], out_dir: str | Path, *, seed: int = 0,
                     vocab_size: int = 4096, hidden_size: int = 128, num_layers: int = 2,
                     num_heads: int = 4, num_kv_heads: int = 2, intermediate_size: int = 384,
                     max_position_embeddings: int = 4096) -> Path:
    """Train a byte-level BPE on `texts`, build a random Qwen2 around it, save both to `out_dir`.

    With the defaults the model has under a million parameters, which trains at
    thousands of tokens per second on one CPU core. `vocab_size` is an upper bound: a
    small corpus yields fewer merges. Deterministic for a given `texts` and `seed`.
    """
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    out_dir = Path(out_dir)
    tokenizer = build_tiny_tokenizer(texts, vocab_size=vocab_size)
    config = Qwen2Config(
        vocab_size=_round_up(len(tokenizer), 64),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_kv_heads,
        max_position_embeddings=max_position_embeddings,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        prefkit_tiny=True,  # lets later stages pick the tiny model's defaults (see is_tiny_model)
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.bos_token_id = None
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def is_tiny_model(source: str | Path) -> bool:
    """Whether `source` is a local model built by `build_tiny_model` (or trained from one)."""
    import json

    config = Path(source) / "config.json"
    try:
        return bool(json.loads(config.read_text(encoding="utf-8")).get("prefkit_tiny"))
    except (OSError, ValueError):
        return False


def build_tiny_tokenizer(texts: Iterable[str], *, vocab_size: int = 4096):
    """A BPE trained on `texts` as a `Qwen2Tokenizer`, with the ChatML template.

    The BPE is trained with Qwen2's own normalizer and pre-tokenizer: `AutoTokenizer`
    loads any `qwen2` checkpoint as `Qwen2Tokenizer`, which rebuilds both, so training
    with anything else would tokenize differently after a reload.
    """
    import json

    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import Qwen2Tokenizer
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    bpe = Tokenizer(models.BPE())
    bpe.normalizer = normalizers.NFC()
    bpe.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS), show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(_with_template_words(texts), trainer)
    trained = json.loads(bpe.to_str())["model"]
    tokenizer = Qwen2Tokenizer(
        vocab=trained["vocab"], merges=[tuple(pair) for pair in trained["merges"]],
        unk_token=None, eos_token=TURN_END, pad_token=PAD_TOKEN,
        additional_special_tokens=[TURN_START], model_max_length=1_000_000)
    tokenizer.chat_template = CHATML_TEMPLATE
    return tokenizer


def _with_template_words(texts: Iterable[str]) -> Iterator[str]:
    yield from _TEMPLATE_WORDS
    for text in texts:
        if text:
            yield text


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple
