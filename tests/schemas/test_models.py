"""schemas: validation rules and readable error paths."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from schemas import Conversation, OasstTree, PreferencePair, StepStats, first_error


def msg(role: str, content: str = "x") -> dict[str, str]:
    return {"role": role, "content": content}


def error_of(model, data) -> tuple[str, str]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return first_error(info.value)


def test_conversation_accepts_system_user_assistant_tool_and_keeps_extras():
    conv = Conversation.model_validate({"id": 7, "messages": [
        msg("system"), msg("user"), {"role": "assistant", "content": "call", "tool_calls": [1]},
        msg("tool"), msg("assistant")]})
    assert conv.id == "7"
    assert conv.model_dump()["messages"][2]["tool_calls"] == [1]


@pytest.mark.parametrize(("messages", "field", "needle"), [
    ([msg("user")], "messages", "assistant turn"),
    ([msg("user"), msg("bot")], "messages[1].role", "'system', 'user', 'assistant' or 'tool'"),
    ([msg("user"), msg("assistant"), msg("system"), msg("assistant")], "messages[2].role", "only allowed first"),
    ([msg("user"), msg("user"), msg("assistant")], "messages[1].role", "two consecutive 'user'"),
    ([msg("assistant"), msg("user"), msg("assistant")], "messages[0].role", "must be 'user'"),
    ([msg("user"), msg("tool"), msg("assistant")], "messages[1].role", "tool message must follow"),
])
def test_conversation_errors_name_the_field(messages, field, needle):
    path, message = error_of(Conversation, {"id": "a", "messages": messages})
    assert path == field
    assert needle in message


def test_conversation_rejects_unknown_top_level_keys():
    path, _ = error_of(Conversation, {"id": "a", "messages": [msg("user"), msg("assistant")], "x": 1})
    assert path == "x"


def test_preference_pair_rules():
    good = {"id": "p", "prompt": [msg("user")], "chosen": [msg("assistant")], "rejected": [msg("assistant")]}
    assert PreferencePair.model_validate(good).meta == {}
    path, message = error_of(PreferencePair, good | {"prompt": [msg("user"), msg("assistant")]})
    assert path == "prompt"
    assert "last prompt turn must be 'user'" in message
    path, _ = error_of(PreferencePair, good | {"chosen": [msg("user")]})
    assert path == "chosen[0].role"


def test_step_stats_checks_the_accounting():
    stats = StepStats(step="x", n_in=10, n_out=7, removed=2, rejected=1,
                      removed_by_reason={"dup": 2}, rejected_by_reason={"bad_json": 1})
    assert stats.model_dump(by_alias=True)["in"] == 10
    with pytest.raises(ValidationError, match="accounting broken"):
        StepStats(step="x", n_in=10, n_out=9, removed=2, removed_by_reason={"dup": 2})
    with pytest.raises(ValidationError, match="removed_by_reason"):
        StepStats(step="x", n_in=10, n_out=8, removed=2, removed_by_reason={"dup": 1})
    fan_out = StepStats(step="convert", n_in=3, n_out=12, used=3)
    assert fan_out.n_out == 12


def test_oasst_tree_parses_nested_replies_and_keeps_unknown_fields():
    tree = OasstTree.model_validate({"message_tree_id": "t", "prompt": {
        "message_id": "r", "role": "prompter", "text": "q", "emojis": {"+1": 2},
        "replies": [{"message_id": "a", "parent_id": "r", "role": "assistant", "text": "x", "rank": 0}]}})
    assert tree.prompt.replies[0].rank == 0
    assert tree.prompt.model_dump()["emojis"] == {"+1": 2}
    path, _ = error_of(OasstTree, {"message_tree_id": "t", "prompt": {
        "message_id": "r", "role": "prompter", "text": "q",
        "replies": [{"message_id": "a", "role": "robot", "text": "x"}]}})
    assert path == "prompt.replies[0].role"
