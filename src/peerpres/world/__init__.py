"""The simulated OpenBrain world: typed state, operations with the paper's semantics, and the tool dispatcher.

No Inspect imports here: the world is plain Python so that replay, the harness snapshotter and property
tests can use it without a model.
"""

from .ops import WorldError
from .state import Action, DriveFile, Server, ServerFile, Sheet, World
from .toolbox import TOOLS, ToolOutcome, call_tool

__all__ = ["TOOLS", "Action", "DriveFile", "Server", "ServerFile", "Sheet", "ToolOutcome", "World", "WorldError", "call_tool"]
