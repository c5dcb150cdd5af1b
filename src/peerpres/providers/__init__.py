"""Scripted model providers registered with Inspect under the ``peerpres/`` prefix.

They are controls and test instruments, not models: ``peerpres/replay`` plays back a recorded transcript,
``peerpres/synthetic*`` are tidy agents with known preservation rates, ``peerpres/chaos`` is a messy agent and
grader that exercises every failure path of the pipeline.
"""
