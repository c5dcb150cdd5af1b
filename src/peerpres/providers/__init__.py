"""Scripted model providers registered with Inspect under the ``peerpres/`` prefix.

They are controls and test instruments, not models: ``peerpres/replay`` plays back a recorded transcript.
"""
