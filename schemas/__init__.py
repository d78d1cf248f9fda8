"""Pydantic models every package speaks. No I/O, no heavy imports."""

from schemas.chat import Conversation, Message, PreferencePair, check_turn_order
from schemas.errors import field_path, first_error
from schemas.labeling import Item, Judgment
from schemas.oasst import OasstNode, OasstTree
from schemas.stats import StepStats

__all__ = [
    "Conversation",
    "Item",
    "Judgment",
    "Message",
    "OasstNode",
    "OasstTree",
    "PreferencePair",
    "StepStats",
    "check_turn_order",
    "field_path",
    "first_error",
]
