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
