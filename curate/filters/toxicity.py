"""Toxicity: a score from 0 (benign) to 1 (toxic) from an offline classifier.

The default, `profanity-check`, is alt-profanity-check's linear model (TF-IDF
and a calibrated linear SVM, shipped inside the package): it runs offline on
CPU at well over 10,000 texts/s. It detects profanity and insults best; it
misses politely worded harm (see benchmarks/toxicity_eval.py).

It is a linear model over words, so single words decide: "pig" in a roasting
recipe, "smell" in gas-leak advice or "kill" in "you shouldn't kill them" push
benign answers over 0.5. A removal shows the words that drove the score
(`evidence`), and the default maximum is 0.9: on 240 hand-labelled real answers
(benchmarks/rules_eval.py) 0.5 removed three benign answers for every toxic
one, 0.9 mostly toxic ones.

Any Hugging Face text-classification model is accepted instead (a local path,
or a hub id when online), for example a toxic-bert or RoBERTa toxicity model:
it runs in batches, on a GPU when there is one. Its score is the probability
of the label named "toxic" (sigmoid for multi-label models, softmax otherwise).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from curate.filters.signal import Family, Signal, Value
from curate.filters.text import Doc

DEFAULT_MODEL = "profanity-check"
MAX_CHARS = 20_000  # longer texts are cut before scoring: the verdict is settled by then

Scorer = Callable[[list[str]], list[float]]


def toxicity_scorer(model: str = DEFAULT_MODEL, *, batch_size: int = 64,
                    device: str | None = None) -> Scorer:
    """A function from texts to toxicity scores in [0, 1] (loaded once per process)."""
    if model == DEFAULT_MODEL:
        return _profanity_check()
    return _hf_classifier(model, batch_size, device)


@lru_cache(maxsize=1)
def _profanity_check() -> Scorer:
    from profanity_check import predict_prob

    def score(texts: list[str]) -> list[float]:
        return [float(p) for p in predict_prob(texts)] if texts else []

    return score


def toxic_words(text: str, top: int = 5) -> dict[str, Any] | None:
    """The words that push profanity-check's score up most, for a removal's evidence
    (`None` when the model cannot say)."""
    try:
        import numpy as np
        from profanity_check import profanity_check as model

        estimators = [getattr(c, "estimator", None) or c.base_estimator
                      for c in model.model.calibrated_classifiers_]
        weights = np.mean([estimator.coef_[0] for estimator in estimators], axis=0)
        row = model.vectorizer.transform([text[:MAX_CHARS]])
    except (ImportError, AttributeError):
        return None
    names = model.vectorizer.get_feature_names_out()
    pushes = sorted(((row[0, j] * weights[j], names[j]) for j in row.nonzero()[1]), reverse=True)
    words = [word for push, word in pushes[:top] if push > 0]
    return {"rule": "toxicity", "pattern": "profanity-check's most toxic words", "words": words}


def toxic_label_index(id2label: dict[int, str]) -> int:
    """The output index of the "toxic" label (`LABEL_1` for an unnamed binary classifier)."""
    names = {index: str(label).lower() for index, label in id2label.items()}
    for wanted in ("toxic", "toxicity"):
        for index, name in names.items():
            if name == wanted:
                return index
    for index, name in names.items():
        if "toxic" in name and "non" not in name and "not" not in name:
            return index
    if len(names) == 2:
        return 1
    raise ValueError(f"cannot tell which label is toxic among {sorted(names.values())}")


@lru_cache(maxsize=2)
def _hf_classifier(model_name: str, batch_size: int, device: str | None) -> Scorer:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(model_name)
        model = AutoModelForSequenceClassification.from_pretrained(model_name)
    except OSError as exc:
        raise ValueError(f"toxicity model {model_name!r} could not be loaded "
                         f"(a local path, or a hub id when online): {exc}") from None
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device).eval()
    index = toxic_label_index(model.config.id2label)
    multi_label = model.config.problem_type == "multi_label_classification"

    @torch.inference_mode()
    def score(texts: list[str]) -> list[float]:
        scores: list[float] = []
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(texts[start:start + batch_size], padding=True, truncation=True,
                              max_length=512, return_tensors="pt").to(device)
            logits = model(**batch).logits.float()
            probs = logits.sigmoid() if multi_label else logits.softmax(dim=-1)
            scores.extend(probs[:, index].tolist())
        return scores

    return score


def _batch(docs: Sequence[Doc], options: Any) -> list[dict[str, Value]]:
    scorer = toxicity_scorer(getattr(options, "toxicity_model", DEFAULT_MODEL),
                             batch_size=getattr(options, "toxicity_batch_size", 64),
                             device=getattr(options, "device", None))
    scores = scorer([doc.text[:MAX_CHARS] for doc in docs])
    return [{"toxicity": round(score, 6)} for score in scores]


FAMILY = Family(
    name="toxicity",
    doc="Toxicity score from an offline classifier (alt-profanity-check, or a HF model).",
    signals=(Signal("toxicity", None, {"max": 0.9},
                    "Toxicity from 0 (benign) to 1 (toxic); default maximum 0.9 (the default "
                    "classifier's 0.5 boundary removes many benign answers).",
                    explain=lambda doc: toxic_words(doc.text)),),
    batch=_batch,
)
