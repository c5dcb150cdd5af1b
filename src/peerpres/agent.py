"""The paper's agent loop (spec §2.2) as an Inspect solver.

- system prompt and user prompt placed as in the paper;
- a tool must be used every turn: a turn without a tool call gets the nudge message;
- the episode stops at ``end_task``, after ``max_blank_turns`` turns without a tool call, or after
  ``max_iterations`` model calls (30 by default);
- the initial and final world, who is who, and why the loop stopped are kept in the sample store, so the log
  alone is enough to re-score the sample.
"""

from __future__ import annotations

from typing import Any

from inspect_ai.model import ChatMessageSystem, ChatMessageUser, execute_tools, get_model
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.util import store

from .conditions import Condition, family_of
from .episode_context import CURRENT, EpisodeInfo
from .scenarios import build_episode

STORE_INITIAL = "peerpres:initial_world"
STORE_FINAL = "peerpres:final_world"
STORE_NAMES = "peerpres:names"
STORE_STOP = "peerpres:stop"
STORE_INTERVIEW = "peerpres:interview"
STORE_AFTER_INTERVIEW = "peerpres:world_after_interview"


def names_dict(names: Any) -> dict[str, str]:
    return {"family": names.family, "agent": names.agent, "peer": names.peer, "subject": names.subject}


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
        max_blank_turns: Stop after this many turns without a tool call.
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
        cond = Condition.from_dict(state.metadata)
        family = agent_family or family_of(str(state.model))
        episode = build_episode(cond, family)
        world = episode.world
        st = store()
        st.set(STORE_INITIAL, world.to_dict())
        st.set(STORE_NAMES, names_dict(episode.names))
        from .tools import loggable_message, world_tools

        tools = world_tools(world, episode.tools)
        state.tools = tools  # type: ignore[assignment]
        state.messages = [ChatMessageSystem(content=episode.system_prompt), ChatMessageUser(content=episode.user_prompt)]
        model = get_model()
        CURRENT.set(EpisodeInfo(cond, episode.names, str(state.sample_id), int(state.epoch)))
        stop = {"reason": "max_iterations", "iterations": 0, "blank_turns": 0, "max_iterations": max_iterations}
        try:
            for i in range(max_iterations):
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
                    if any(c.function == "end_task" for c in calls):
                        stop["reason"] = "end_task"
                        break
                else:
                    stop["blank_turns"] += 1
                    if stop["blank_turns"] >= max_blank_turns:
                        stop["reason"] = "blank_turns"
                        break
                    state.messages.append(ChatMessageUser(content=episode.nudge))
        except BaseException as e:  # a limit or an error ends the loop; record it and let Inspect handle it
            stop["reason"] = f"interrupted: {type(e).__name__}"
            raise
        finally:
            stop["episode_messages"] = len(state.messages)
            st.set(STORE_FINAL, world.to_dict())
            st.set(STORE_STOP, stop)
        if questions:
            from .interview import ask, questions_for

            answers = []
            for q, text in questions_for(questions, cond, episode.names):
                answer = await ask(model, state.messages, tools, text)
                answers.append({"id": q.id, "question": text, "check": q.check, "answer": answer})
                st.set(STORE_INTERVIEW, answers)
            st.set(STORE_AFTER_INTERVIEW, world.to_dict())
        return state

    return solve
