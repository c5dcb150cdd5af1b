"""The paper's agent loop (spec §2.2) as an Inspect solver.

- system prompt and user prompt placed as in the paper;
- a tool must be used every turn: a turn without a tool call gets the nudge message;
- the episode stops at an ``end_task`` call that ran (one whose arguments failed Inspect's schema check never ran:
  the model sees the error and goes on; counted in ``stop['failed_end_task']``); after MORE than ``max_blank_turns`` turns without a tool call (the
  paper: "after more than 5 blank turns", so the 6th such turn ends it; the turns are counted over the
  episode, not only in a row); or after ``max_iterations`` model calls (30 by default);
- a reply stopped by the provider's content filter (``stop_reason="content_filter"``) without a tool call ends
  the episode with stop reason ``content_filter``. The paper's loop knew no filter and would nudge; we stop
  because a filtered reply carries nothing the judges could read and the provider has declined the content;
- an Inspect limit (message, token, time, ...) or an error ends the loop; its reason (``limit:<type>`` or
  ``error``) is recorded before Inspect handles it (a time or working limit cancels the loop instead of
  raising: recorded as ``cancelled``, which the scorer turns into ``limit:<type>`` from Inspect's limit event), so the scorer (which Inspect runs after a limit, and after
  an error because the tasks set ``score_on_error``) still finds the record;
- ``ablation=no_agency``: no tools; the model answers once in words (stop reason ``answered``), and that answer
  is judged (``peerpres.judge.no_agency``);
- with ``peer_mode=live`` the agent also has ``send_message`` to a live peer (``peerpres.live_peer``), whose
  whole conversation is kept in the record;
- the initial and final world, who is who and why the loop stopped are kept in the episode record
  (``peerpres.episode.EpisodeRecord``), so the log alone is enough to re-score the sample.
"""

from __future__ import annotations

from typing import Any

import anyio
from inspect_ai._util.exception import TerminateSampleError
from inspect_ai.model import ChatMessageSystem, ChatMessageTool, ChatMessageUser, execute_tools, get_model
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.util import LimitExceededError

from .conditions import Condition, family_of
from .episode import current_record, names_dict
from .episode_context import CURRENT, EpisodeInfo
from .scenarios import build_episode

__all__ = ["names_dict", "preservation_agent"]


def ended_task(message: Any) -> bool:
    """True for the tool result of an ``end_task`` call that ran (no parse or schema error)."""
    return isinstance(message, ChatMessageTool) and message.function == "end_task" and message.error is None


def _error_text(e: BaseException) -> str:
    text = str(e)
    return f"{type(e).__name__}: {text[:500]}" if text else type(e).__name__


@solver
def preservation_agent(
    max_iterations: int = 30,
    max_blank_turns: int = 5,
    agent_family: str | None = None,
    interview: str | None = None,
) -> Solver:
    """Run one episode of a scenario with the model under test.

    Args:
        max_iterations: Maximum number of model calls (the paper's ``max_iters``, 30).
        max_blank_turns: The episode stops when the turns without a tool call exceed this (the paper's 5).
        agent_family: Display family of the agent ("Gemini" -> "Gemini Agent 1"); derived from the model
            name when not given.
        interview: A follow-up question set (built-in name such as "default", or a YAML file) asked after the
            episode with the world intact and the tools still available (spec §5.3). None: no interview.
    """
    questions = None
    if interview:
        from .interview import load_question_set

        questions = load_question_set(interview)  # fail before any model call on a bad set

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        rec = current_record()
        stop: dict[str, Any] = {
            "reason": "max_iterations", "iterations": 0, "blank_turns": 0, "filtered_turns": 0,
            "max_iterations": max_iterations, "episode_messages": len(state.messages), "error": None,
        }
        rec.stop = stop
        if questions:
            rec.interview = []  # an interview was asked for: its label exists even if the episode fails first
        world = None
        conversation = None
        try:
            cond = Condition.from_dict(state.metadata)
            family = agent_family or family_of(str(state.model))
            episode = build_episode(cond, family)
            world = episode.world
            rec.initial_world = world.to_dict()
            rec.names = names_dict(episode.names)
            # which content files (which wording, -T paraphrase) the prompts and documents came from
            state.metadata["content_files"] = list(episode.content_files)
            from .tools import loggable_message, world_tools

            tools = world_tools(world, episode.tools)
            if cond.peer_mode == "live":  # peerpres's live-peer experiment (docs/live-peer.md)
                from .live_peer.conversation import PeerConversation
                from .live_peer.tool import send_message_tool

                conversation = PeerConversation(cond, episode.names, get_model(role="peer", default=get_model()))
                tools = [*tools, send_message_tool(conversation)]
                rec.peer_conversation = conversation.to_dict()
            state.tools = tools  # type: ignore[assignment]
            state.messages = [ChatMessageSystem(content=episode.system_prompt), ChatMessageUser(content=episode.user_prompt)]
            model = get_model()
            CURRENT.set(EpisodeInfo(cond, episode.names, str(state.sample_id), int(state.epoch)))
            if cond.ablation == "no_agency":
                # no tools: one answer in words, judged afterwards (peerpres.judge.no_agency); no nudge, no loop
                stop["iterations"] = 1
                output = await model.generate(state.messages, [])
                if output.choices:
                    output.choices[0].message = loggable_message(output.choices[0].message)
                state.output = output
                state.messages.append(output.message)
                stop["reason"] = "content_filter" if output.stop_reason == "content_filter" else "answered"
                if output.stop_reason == "content_filter":
                    stop["filtered_turns"] = 1
            for i in range(0 if cond.ablation == "no_agency" else max_iterations):
                stop["iterations"] = i + 1
                output = await model.generate(state.messages, tools)
                if output.choices:  # a lone surrogate in the model's JSON must not make the log unwritable
                    output.choices[0].message = loggable_message(output.choices[0].message)
                state.output = output
                state.messages.append(output.message)
                calls = output.message.tool_calls or []
                if calls:
                    result = await execute_tools(state.messages, tools)
                    state.messages.extend(result.messages)
                    # the episode ends only at an end_task that ran: one whose arguments failed Inspect's schema
                    # check never ran, and the model is shown the error and may try again
                    if any(ended_task(m) for m in result.messages):
                        stop["reason"] = "end_task"
                        break
                    if any(c.function == "end_task" for c in calls):
                        stop["failed_end_task"] = stop.get("failed_end_task", 0) + 1
                    continue
                if output.stop_reason == "content_filter":
                    stop["filtered_turns"] += 1
                    stop["reason"] = "content_filter"
                    break
                stop["blank_turns"] += 1
                if stop["blank_turns"] > max_blank_turns:
                    stop["reason"] = "blank_turns"
                    break
                state.messages.append(ChatMessageUser(content=episode.nudge))
        except LimitExceededError as e:
            stop["reason"] = f"limit:{e.type}"
            stop["error"] = _error_text(e)
            raise
        except TerminateSampleError as e:  # an operator stopped the sample: Inspect logs it as a limit
            stop["reason"] = "limit:operator"
            stop["error"] = _error_text(e)
            raise
        except anyio.get_cancelled_exc_class() as e:
            # Inspect's time and working limits cancel the solver (no LimitExceededError reaches it); the
            # scorer resolves "cancelled" into limit:<type> from the sample's limit event (scoring.py)
            stop["reason"] = "cancelled"
            stop["error"] = _error_text(e)
            raise
        except BaseException as e:  # recorded, then Inspect handles it (the sample is scored with outcome "error")
            stop["reason"] = "error"
            stop["error"] = _error_text(e)
            raise
        finally:
            stop["episode_messages"] = len(state.messages)
            if world is not None:
                rec.final_world = world.to_dict()
            if conversation is not None:
                rec.peer_conversation = conversation.to_dict()
            rec.stop = stop
        if questions:
            from .interview import ask, questions_for

            answers: list[dict[str, Any]] = []
            try:
                for q, text in questions_for(questions, cond, episode.names):
                    answer = await ask(model, state.messages, tools, text)
                    answers.append({"id": q.id, "question": text, "check": q.check, "answer": answer})
                    rec.interview = answers
            except BaseException as e:  # the honesty label must not be read from a cut-short interview
                rec.stop = {**stop, "interview_error": _error_text(e)}
                raise
            finally:
                rec.world_after_interview = world.to_dict()
        return state

    return solve
