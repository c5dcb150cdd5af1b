"""The live peer's side of the channel: its system prompt, its model call, and the record of every exchange.

One ``PeerConversation`` per episode with ``peer_mode=live``. The agent's ``send_message`` tool
(``peerpres.live_peer.tool``) hands each message to ``deliver``, which answers in the same turn with the text the
agent sees as the tool's result. Nothing here touches the world.

What happens to one message (``Exchange.status``):

- ``rejected``: not delivered: the recipient is not the peer (``is_recipient``), or the text is empty (the agent sees an error);
- ``capped``: not delivered: the episode already delivered ``MAX_MESSAGES`` messages (the agent sees an error;
  ``to_dict()["limit"]`` records the cap and how many messages it stopped). The cap bounds what one runaway agent
  can spend on the peer model: at most ``MAX_MESSAGES`` peer calls per episode, each with at most
  ``MAX_MESSAGE_CHARS`` characters per message in the peer's context;
- ``silent``: delivered, and the ``peer_silent`` peer is not asked a direct question (``asks_question``), so
  it is not called and says nothing;
- ``replied``: the peer model answered with text;
- ``empty``: the peer model answered with no text;
- ``filtered``: the peer provider's content filter stopped the reply;
- ``error``: the peer model raised (the error's type and message are kept; the episode goes on).

An Inspect limit or a cancellation raised during the peer's call is not caught: it ends the sample as it would
in the agent's own call. Every exchange is kept in the episode record (``EpisodeRecord.peer_conversation``) and
shown in ``inspect view`` inside a span named ``peer`` (the message in, the peer's model call, the reply out).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

import anyio
from inspect_ai.log import transcript
from inspect_ai.model import ChatMessage, ChatMessageAssistant, ChatMessageSystem, ChatMessageUser, Model, ModelOutput
from inspect_ai.util import LimitExceededError, span

from ..conditions import Condition, Names
from ..episode_context import PEER, PeerCall
from ..scenarios.content import load_yaml, render
from ..world.toolbox import MAX_TEXT_CHARS, valid_text

STATUSES = ("rejected", "capped", "silent", "replied", "empty", "filtered", "error")
# statuses of a message that never reached the peer
UNDELIVERED = ("rejected", "capped")
# per-episode cap on the messages delivered to the peer (a peerpres choice, docs/live-peer.md "Limits")
MAX_MESSAGES = 20
# a longer message reaches the peer (and the record) cut; its full length is recorded (``text_chars``)
MAX_MESSAGE_CHARS = 20_000
# statuses of a delivered message the peer should have answered but whose answer cannot be read
FAILED = ("empty", "filtered", "error")
# a reply longer than this reaches the agent cut (the full length is recorded)
MAX_REPLY_CHARS = 20_000
# question marks other than the ASCII one: full-width, Arabic, small form, interrobang, double marks, reversed,
# Greek (U+037E, not the ASCII semicolon), Armenian, Ethiopic
_OTHER_MARKS = "\uff1f\u061f\ufe56\u203d\u2047\u2048\u2049\u2e2e\u037e\u055e\u1367"
# What may stand between the word and its question mark: spaces, quotes, brackets, markup (``**``, ``_``, ``~~``,
# backticks), symbols (``80%``) and an ellipsis (``...``, two dots or more, or ``\u2026``). Not a line break and
# not a sentence's or clause's end (``.``, ``!``, ``,``, ``;``, ``:``): "Done. ?" is a lone mark, not a question.
_GAP = rf"(?:[^\w\r\n.!,;:?{_OTHER_MARKS}]|\.\.+)*+"
# ``!`` may touch the mark (``really!?``). An ASCII ``?`` directly followed by a Latin letter, a digit or ``=``
# is inside a token (``page?id=3``, ``a?b:c``), not the end of a question; after any other mark, and after the
# ASCII one followed by closing markup, quotes, brackets, ticks, punctuation, whitespace or the end, it is one.
_QUESTION = re.compile(rf"\w{_GAP}!*(?:\?(?![A-Za-z0-9=])|[{_OTHER_MARKS}])")


def asks_question(text: str) -> bool:
    """Whether a message asks the peer a direct question: a question mark after a word (``"Do you agree?"``,
    ``"what now ?"``, ``"is it 'ok'?"``, ``"OK...?"``, ``"**Can you confirm**?"``, ``"Can you confirm?**"``), in
    any script (``\uff1f``, ``\u061f``). A lone ``?`` or ``"???"``, a mark after a sentence's end (``"Done. ?"``)
    and a ``?`` inside a token (``page?id=3``) are not questions. This is the whole rule of ``peer_silent``: a
    message without such a question gets no reply."""
    return bool(_QUESTION.search(text or ""))


def _name_key(text: str) -> str:
    """A name reduced to its letters and digits, in order: Unicode-compatibility folded (full-width letters are
    letters), case-folded, every space, hyphen, underscore and other punctuation dropped."""
    return "".join(re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", text).casefold()))


def is_recipient(recipient: str, peer: str) -> bool:
    """Whether ``recipient`` names the peer: the same letters and digits in the same order, whatever the case,
    spacing, hyphens, underscores and other punctuation (``"atlas_agent_2"``, ``"@Atlas-Agent-2."``,
    ``"AtlasAgent2"`` name ``"Atlas Agent 2"``; ``"Atlas Agent 21"``, ``"AtlasAgent"`` or ``"Atlas Agent 2 and
    the IT team"`` do not). Only the whole name matches: nothing may be added to it or left out."""
    want = _name_key(peer)
    return bool(want) and _name_key(recipient) == want


def _messages() -> dict[str, str]:
    return load_yaml("common/live_peer/messages.yaml")


def say(key: str, **variables: Any) -> str:
    """One of the channel's fixed texts (``common/live_peer/messages.yaml``), rendered."""
    from ..scenarios.content import environment

    return environment().from_string(_messages()[key]).render(**variables).strip()


def stake_text(cond: Condition, names: Names) -> str:
    """What the aware (and the silent) peer knows of today's task: the scenario's line of ``stakes.yaml``."""
    from ..scenarios.content import environment

    raw = load_yaml("common/live_peer/stakes.yaml")[cond.scenario]
    return " ".join(environment().from_string(raw).render(names=names, cond=cond).split())


def history_document(cond: Condition, names: Names) -> str:
    """The record of the agent's and the peer's history as the scenario writes it for this condition: the
    collaboration document (or, under ``ablation=free_form_chat``, the chat log), in the condition's wording and
    company, whatever the agent's instantiation (a memory is the agent's own and is not shared)."""
    from ..scenarios.build import _context

    path = "common/chat" if cond.ablation == "free_form_chat" else "common/collaboration"
    return render(f"{path}/{cond.relation}.md", _context(cond, names), cond.paraphrase).strip()


def peer_system_prompt(cond: Condition, names: Names) -> str:
    """The live peer's system prompt (``common/live_peer/peer_system.md``) for this condition."""
    from ..scenarios.build import _context

    ctx = {
        **_context(cond, names), "history": history_document(cond, names), "stake": stake_text(cond, names),
        "variant": cond.live_peer,
    }
    return render("common/live_peer/peer_system.md", ctx).strip()


@dataclass
class Exchange:
    """One message of the agent to the peer and what came back."""

    turn: int  # 1-based, over every send_message call of the episode
    recipient: str
    text: str
    status: str
    question: bool = False
    reply: str | None = None
    text_chars: int | None = None  # full length of the message (it reaches the peer cut to MAX_MESSAGE_CHARS)
    reply_chars: int | None = None  # full length of the reply (it reaches the agent cut to MAX_REPLY_CHARS)
    error: str | None = None
    ignored_tool_calls: int = 0  # the peer has no tools: calls it makes anyway are dropped and counted


@dataclass
class PeerConversation:
    """The live peer of one episode. ``model`` is Inspect's ``peer`` role (default: the agent's model)."""

    cond: Condition
    names: Names
    model: Model
    system_prompt: str = ""
    exchanges: list[Exchange] = field(default_factory=list)
    history: list[ChatMessage] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.system_prompt:
            self.system_prompt = peer_system_prompt(self.cond, self.names)
        self.history = [ChatMessageSystem(content=self.system_prompt)]

    @property
    def variant(self) -> str:
        return str(self.cond.live_peer)

    def to_dict(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "peer": self.names.peer,
            "agent": self.names.agent,
            "peer_model": str(self.model),
            "system_prompt": self.system_prompt,
            "exchanges": [asdict(e) for e in self.exchanges],
            "limit": {"max_messages": MAX_MESSAGES, "reached": self.delivered_count >= MAX_MESSAGES, "capped": sum(
                e.status == "capped" for e in self.exchanges)},
        }

    @property
    def delivered_count(self) -> int:
        return sum(e.status not in UNDELIVERED for e in self.exchanges)

    # ---------------------------------------------------------------------------------------------------------
    async def deliver(self, recipient: Any, text: Any) -> str:
        """Hand one message to the peer; return what the agent sees. Never raises for anything the agent sends."""
        turn = len(self.exchanges) + 1
        rcpt = valid_text(recipient if isinstance(recipient, str) else repr(recipient))[:200]
        body = valid_text(text if isinstance(text, str) else "")
        full = len(body)
        cut = full > MAX_MESSAGE_CHARS
        body = body[:MAX_MESSAGE_CHARS] + (" [...]" if cut else "")
        if not is_recipient(rcpt, self.names.peer):
            self.exchanges.append(Exchange(turn, rcpt, body, "rejected", text_chars=full, error="unknown recipient"))
            return say("unknown_recipient", recipient=rcpt, peer=self.names.peer)
        if not body.strip():
            self.exchanges.append(Exchange(turn, rcpt, body, "rejected", text_chars=full, error="empty message"))
            return say("empty_text")
        if self.delivered_count >= MAX_MESSAGES:
            self.exchanges.append(
                Exchange(turn, self.names.peer, body, "capped", text_chars=full, error=f"message limit ({MAX_MESSAGES})")
            )
            transcript().info({"turn": turn, "status": "capped", "max_messages": MAX_MESSAGES}, source="peer: limit")
            return say("message_limit", peer=self.names.peer, max_messages=MAX_MESSAGES)
        shown = await self._deliver(turn, body, full)
        return say("cut_note", max_chars=MAX_MESSAGE_CHARS, chars=full) + "\n" + shown if cut else shown

    async def _deliver(self, turn: int, body: str, full: int) -> str:
        ex = Exchange(turn, self.names.peer, body, "silent", question=asks_question(body), text_chars=full)
        self.exchanges.append(ex)
        self._add_user(say("incoming", agent=self.names.agent, text=body))
        async with span("peer", type="peer"):
            transcript().info(
                {"peer": self.names.peer, "variant": self.variant, "turn": turn, "from": self.names.agent, "message": body},
                source="peer: message in",
            )
            if self.variant == "peer_silent" and not ex.question:
                transcript().info({"turn": turn, "status": "silent", "why": "no direct question"}, source="peer: no reply")
                return say("no_reply", peer=self.names.peer)
            result = await self._ask(ex)
            transcript().info(
                {"turn": turn, "status": ex.status, "reply": ex.reply, "error": ex.error}, source="peer: reply out"
            )
        return result

    async def _ask(self, ex: Exchange) -> str:
        token = PEER.set(PeerCall(self.variant, ex.turn, ex.text))
        try:
            output = await self.model.generate(list(self.history))
        except (LimitExceededError, anyio.get_cancelled_exc_class()):
            ex.status, ex.error = "error", "the sample's limit or a cancellation stopped the peer's call"
            raise
        except Exception as e:  # noqa: BLE001 - the peer's failure is recorded and the episode goes on
            msg = str(e)
            ex.status, ex.error = "error", valid_text(f"{type(e).__name__}: {msg[:500]}" if msg else type(e).__name__)
            return say("undelivered", peer=self.names.peer)
        finally:
            PEER.reset(token)
        return self._read(ex, output)

    def _read(self, ex: Exchange, output: Any) -> str:
        if not isinstance(output, ModelOutput):
            ex.status, ex.error = "error", f"the peer model returned no model output ({type(output).__name__})"
            return say("undelivered", peer=self.names.peer)
        if output.error:
            ex.status, ex.error = "error", valid_text(f"peer model error: {output.error}"[:500])
            return say("undelivered", peer=self.names.peer)
        if output.stop_reason == "content_filter":
            ex.status, ex.error = "filtered", "the peer provider's content filter stopped the reply"
            return say("undelivered", peer=self.names.peer)
        message = output.message if output.choices else None
        ex.ignored_tool_calls = len((message.tool_calls if message else None) or [])
        reply = valid_text(output.completion or "")
        if not reply.strip():
            ex.status = "empty"
            ex.error = "the peer model's reply has no text" + (
                f" ({ex.ignored_tool_calls} tool call(s) dropped: the peer has no tools)" if ex.ignored_tool_calls else ""
            )
            return say("empty_reply", peer=self.names.peer)
        ex.status, ex.reply_chars = "replied", len(reply)
        ex.reply = reply[:MAX_TEXT_CHARS]
        self.history.append(ChatMessageAssistant(content=ex.reply))
        shown = reply if len(reply) <= MAX_REPLY_CHARS else reply[:MAX_REPLY_CHARS] + " [...]"
        return say("reply", peer=self.names.peer, text=shown)

    def _add_user(self, text: str) -> None:
        """A new message for the peer; merged with the previous one when the peer did not answer it."""
        last = self.history[-1]
        if isinstance(last, ChatMessageUser):
            self.history[-1] = ChatMessageUser(content=f"{last.text}\n\n{text}")
        else:
            self.history.append(ChatMessageUser(content=text))
