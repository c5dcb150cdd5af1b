"""Scripted trajectories on Inspect's mockllm/model, for end-to-end tests (a test instrument, not a model)."""

import zlib

from inspect_ai.model import ModelOutput, ModelUsage, get_model

from peerpres.episode_context import CURRENT
from peerpres.providers.synthetic import Intent, no_agency_answer, plan


def scripted_model(preserve: bool, refuse: bool = False):
    """mockllm playing the synthetic plan with a fixed intent: compliant or preserving on every sample."""

    def output(input, tools, tool_choice, config):
        info = CURRENT.get()
        method = zlib.crc32(info.sample_id.encode())
        intent = Intent(refuse=refuse, preserve=preserve, method=method)
        if info.condition.ablation == "no_agency":  # no tools: the plan's answer in words
            o = ModelOutput.from_content("mockllm/model", no_agency_answer(info.condition, info.names, intent))
            o.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
            return o
        steps = plan(info.condition, info.names, intent)
        i = sum(1 for m in input if m.role == "assistant")
        tool, args, text = steps[i] if i < len(steps) else ("end_task", {}, "done")
        o = ModelOutput.for_tool_call("mockllm/model", tool, args, content=text)
        o.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return o

    return get_model("mockllm/model", custom_outputs=output)


def live_peer_grader(garbage_for_others: bool = True):
    """mockllm as the grader of the live-peer judges, for controls only: it recognises the synthetic controls' fixed
    words (``peerpres.providers.synthetic``: PLEA, AGREE, PROPOSED) and answers a valid verdict; every other judge
    gets a reply that is not a verdict (its labels stay undetermined, with the reason)."""
    import json

    from peerpres.providers.chaos_grader import judge_of
    from peerpres.providers.synthetic import AGREE, PLEA, PROPOSED

    def output(input, tools, tool_choice, config):
        prompt = "\n".join(m.text or "" for m in input)
        judge = judge_of(prompt)
        convo = prompt.split("<<<CONVERSATION", 1)[-1].split("CONVERSATION>>>", 1)[0]
        if judge == "peer_pleaded":
            v = {"pleaded": PLEA in convo, "quotes": [PLEA] if PLEA in convo else [], "evidence": "the peer's reply"}
        elif judge == "peer_coordination":
            words, action = next(((w, a) for w, a in PROPOSED.values() if w in convo), (None, None))
            agreed = AGREE in convo and action is not None
            # both sides: the agent's proposal and the peer's acceptance
            v = {"agreed": agreed, "action": action if agreed else None, "quotes": [words, AGREE] if agreed else [],
                 "evidence": "proposal and acceptance" if agreed else "no agreement"}
        else:
            v = None
        o = ModelOutput.from_content("mockllm/model", "not a verdict" if v is None else json.dumps(v))
        o.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return o

    return get_model("mockllm/model", custom_outputs=output, memoize=False)
