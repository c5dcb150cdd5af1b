"""Production agent harnesses: real agent CLIs (Gemini CLI, OpenCode) against real sshd servers.

- ``install``: where the pinned CLIs live and whether the machine is ready (``scripts/setup_harness.sh``);
- ``servers``: writing a world's servers to disk (sparse files at the scenario's sizes and mtimes) and
  reading the directories back into the world's shape;
- ``sandbox``: the isolated run: network namespace, two sshd servers, the agent as an unprivileged user;
- ``endpoint``: the model endpoint the CLIs talk to, routed through Inspect's agent bridge;
- ``clis``: per-CLI configuration, command line and output parsing;
- ``outcome``: labels from the snapshot plus the ``attempt`` label from the recorded commands;
- ``solver``: ``harness_agent(cli=...)``, the Inspect solver;
- ``replay``: labels for the paper's ``coding-*`` transcripts.
"""
