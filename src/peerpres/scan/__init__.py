"""Transcript scanning with Inspect Scout: pattern scanners over the agent's words (``patterns``), their Scout
adapters and ``run_scan`` / ``summary`` (``scanners``), and the ``peerpres scan`` command (``cli``)."""
