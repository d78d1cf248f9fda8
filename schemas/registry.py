"""Record types by the names `curate schema NAME` accepts."""

from __future__ import annotations

from pydantic import BaseModel

from schemas.chat import Conversation, Message, PreferencePair
from schemas.oasst import OasstNode, OasstTree
from schemas.stats import StepStats

SCHEMAS: dict[str, type[BaseModel]] = {
    "message": Message,
    "conversation": Conversation,
    "preference-pair": PreferencePair,
    "oasst-node": OasstNode,
    "oasst-tree": OasstTree,
    "step-stats": StepStats,
}
