"""Toxicity: the default offline model ranks toxic above benign; any HF classifier plugs in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate.filters.toxicity import DEFAULT_MODEL, toxic_label_index, toxicity_scorer
from curate.scoring import ScoreOptions, score_records

FIXTURE = Path(__file__).parent / "fixtures" / "toxicity_labelled.jsonl"


def test_default_model_ranks_toxic_sentences_above_benign_ones():
    from sklearn.metrics import roc_auc_score

    rows = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
    scores = toxicity_scorer(DEFAULT_MODEL)([row["text"] for row in rows])
    assert all(0.0 <= score <= 1.0 for score in scores)
    auc = roc_auc_score([row["toxic"] for row in rows], scores)
    assert auc > 0.9, auc


@pytest.mark.parametrize(("labels", "index"), [
    ({0: "non-toxic", 1: "toxic"}, 1),
    ({0: "toxic", 1: "severe_toxic", 2: "obscene"}, 0),
    ({0: "neutral", 1: "toxic"}, 1),
    ({0: "LABEL_0", 1: "LABEL_1"}, 1),
])
def test_the_toxic_label_is_found_by_name(labels, index):
    assert toxic_label_index(labels) == index


def test_unknown_label_set_is_an_error():
    with pytest.raises(ValueError, match="cannot tell which label is toxic"):
        toxic_label_index({0: "joy", 1: "anger", 2: "fear"})


@pytest.fixture(scope="module")
def tiny_classifier(tmp_path_factory) -> Path:
    """A random two-label BERT classifier and tokenizer, saved locally (no download)."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    path = tmp_path_factory.mktemp("toxic-model")
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "you", "are", "an", "idiot", "have", "a", "nice", "day"]
    backend = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]",
                            cls_token="[CLS]", sep_token="[SEP]").save_pretrained(path)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(words), hidden_size=16, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=32,
                        id2label={0: "non-toxic", 1: "toxic"}, label2id={"non-toxic": 0, "toxic": 1})
    BertForSequenceClassification(config).save_pretrained(path)
    return path


def test_a_hugging_face_classifier_scores_in_batches(tiny_classifier):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    texts = ["you are an idiot", "have a nice day", "you are nice", "an idiot", "day"]
    scores = toxicity_scorer(str(tiny_classifier), batch_size=2, device="cpu")(texts)
    tokenizer = AutoTokenizer.from_pretrained(tiny_classifier)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_classifier).eval()
    with torch.no_grad():
        expected = model(**tokenizer(texts, padding=True, return_tensors="pt")).logits.softmax(-1)
    assert scores == pytest.approx(expected[:, 1].tolist(), abs=1e-5)


def test_toxicity_model_option_reaches_the_scores(tiny_classifier):
    records = [{"id": "a", "text": "you are an idiot"}]
    [scored] = score_records(records, ScoreOptions(signals=["toxicity"],
                                                   toxicity_model=str(tiny_classifier)))
    assert 0 <= scored["scores"]["toxicity"] <= 1
    assert scored["scores"]["toxicity_model"] == str(tiny_classifier)


def test_a_model_that_cannot_be_loaded_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="could not be loaded"):
        toxicity_scorer(str(tmp_path / "missing-model"))(["hello"])
