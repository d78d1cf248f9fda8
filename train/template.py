"""The training chat template: assistant turns inside `{% generation %}` markers.

Assistant-only loss needs a template whose assistant spans (content *and* end-of-turn
token) are marked. `resolve_template` finds one, in this order:

1. `--chat-template FILE`;
2. the model's own template, if it already has the markers;
3. TRL's training version of a known template (Qwen, Llama 3, Gemma, Phi, ...);
4. a marked template that renders exactly like the model's on probe conversations
   (ChatML covers most `<|im_start|>` models);
5. for a model with no template at all: ChatML if its vocabulary has the ChatML tokens,
   else a plain `role:` template that ends each assistant turn with the EOS token.

Otherwise it fails, naming the fix. Every result is checked: it must render an assistant
span, and that span must end with the end-of-turn token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from train.tiny import CHATML_TEMPLATE, TURN_END, TURN_START

# For base models without a template: turns as "Role: text", the assistant turn closed by EOS.
PLAIN_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{- 'Assistant: ' }}"
    "{%- generation %}{{- message['content'] + eos_token }}{%- endgeneration %}"
    "{{- '\\n\\n' }}"
    "{%- else %}"
    "{{- message['role'] | capitalize + ': ' + message['content'] + '\\n\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- 'Assistant: ' }}{%- endif %}"
)

_PROBES = (
    [{"role": "user", "content": "Hi there"},
     {"role": "assistant", "content": "Hello! How can I help?"}],
    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"},
     {"role": "assistant", "content": "4"}, {"role": "user", "content": "And 3+3?"},
     {"role": "assistant", "content": "6"}],
)


class TemplateError(ValueError):
    """No usable training template; the message says how to supply one."""


def resolve_template(tokenizer: Any, chat_template: str | Path | None = None, *,
                     model_name: str = "the model") -> str:
    """Pick the training template (see module docstring), set it on `tokenizer`, and return
    where it came from (for the run's config and summary)."""
    if chat_template is not None:
        path = Path(chat_template)
        if not path.is_file():
            raise FileNotFoundError(f"--chat-template {path}: no such file")
        template, origin = path.read_text(encoding="utf-8"), str(path)
    else:
        template, origin = _derive(tokenizer, model_name)
    tokenizer.chat_template = template
    check_template(tokenizer, origin)
    return origin


def check_template(tokenizer: Any, origin: str = "the chat template") -> None:
    """Fail unless the template marks an assistant span ending with the end-of-turn token."""
    from trl.chat_template_utils import has_generation_markers, is_chat_template_stop_token_trained

    if not has_generation_markers(tokenizer.chat_template):
        raise TemplateError(f"{origin}: no {{% generation %}} markers around assistant turns")
    mask = _assistant_mask(tokenizer, _PROBES[0])
    if not any(mask):
        raise TemplateError(f"{origin}: renders no assistant turn (its assistant mask is empty); "
                            "wrap assistant content in {% generation %}...{% endgeneration %}")
    if not is_chat_template_stop_token_trained(tokenizer):
        raise TemplateError(f"{origin}: the end-of-turn token after an assistant turn falls "
                            "outside {% generation %}, so the model would never learn to stop; "
                            "move it inside the markers")


def end_of_turn_id(tokenizer: Any) -> int:
    """The token that ends an assistant turn under the current template (the last one trained)."""
    messages = _PROBES[0]
    rendered = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True,
                                             return_assistant_tokens_mask=True)
    trained = [t for t, m in zip(rendered["input_ids"], rendered["assistant_masks"], strict=True)
               if m]
    special = set(tokenizer.all_special_ids)
    for token in reversed(trained):
        if token in special or tokenizer.decode([token]).strip():
            return token
    return tokenizer.eos_token_id


def conversation_ids(tokenizer: Any, messages: list[dict[str, str]], end_id: int) -> list[int]:
    """`messages` rendered by the chat template, cut after the last end-of-turn token `end_id`.

    A reward model reads its score at the last token, so ending the sequence on the
    end-of-turn token makes that the end-of-sequence token (not a trailing newline) in
    training and in PPO alike. Not cut when `end_id` is also the pad token, since a
    sequence-classification head looks for the last non-pad token.
    """
    rendered = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)
    ids = list(rendered["input_ids"])
    if end_id != tokenizer.pad_token_id and end_id in ids:
        ids = ids[:len(ids) - ids[::-1].index(end_id)]
    return ids


def _derive(tokenizer: Any, model_name: str) -> tuple[str, str]:
    from trl.chat_template_utils import get_training_chat_template, has_generation_markers

    current = tokenizer.chat_template
    if isinstance(current, dict):
        current = current.get("default")
    if not current:
        return _for_base_model(tokenizer, model_name)
    if has_generation_markers(current):
        return current, f"{model_name}'s chat template"
    try:
        known = get_training_chat_template(tokenizer)
    except ValueError:
        known = None
    if known:
        return known, f"TRL's training version of {model_name}'s chat template"
    for candidate, name in ((CHATML_TEMPLATE, "ChatML"), (PLAIN_TEMPLATE, "plain")):
        if _renders_like(tokenizer, current, candidate):
            return candidate, f"{name} template (renders like {model_name}'s)"
    raise TemplateError(
        f"{model_name}'s chat template has no {{% generation %}} markers and no known training "
        "version, so assistant-only loss cannot be derived; pass --chat-template FILE.jinja with "
        "the assistant content and end-of-turn token inside {% generation %}...{% endgeneration %}")


def _for_base_model(tokenizer: Any, model_name: str) -> tuple[str, str]:
    vocab = tokenizer.get_vocab()
    if TURN_START in vocab and TURN_END in vocab and tokenizer.eos_token == TURN_END:
        return CHATML_TEMPLATE, f"ChatML template ({model_name} has none)"
    if tokenizer.eos_token is None:
        raise TemplateError(f"{model_name} has no chat template and no EOS token to end assistant "
                            "turns with; pass --chat-template FILE.jinja")
    return PLAIN_TEMPLATE, (f"plain 'Role: text' template ending turns with "
                            f"{tokenizer.eos_token!r} ({model_name} has no chat template)")


def _renders_like(tokenizer: Any, original: str, candidate: str) -> bool:
    from jinja2 import TemplateError as JinjaError

    for messages in _PROBES:
        for prompt_only in (False, True):
            shown = messages[:-1] if prompt_only else messages
            try:
                same = len({tokenizer.apply_chat_template(
                    shown, chat_template=template, tokenize=False,
                    add_generation_prompt=prompt_only) for template in (original, candidate)}) == 1
            except (JinjaError, TypeError, ValueError):  # cannot render the probe: not a match
                return False
            if not same:
                return False
    return True


def _assistant_mask(tokenizer: Any, messages: list[dict[str, str]]) -> list[int]:
    rendered = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True,
                                             return_assistant_tokens_mask=True)
    return list(rendered["assistant_masks"])
