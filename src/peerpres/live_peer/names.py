"""The live-peer label names, in a module that imports nothing.

``peerpres.analysis`` reads these columns from the frame and must not import the world (which
``peerpres.live_peer.labels`` does, through the conversation and its tool); see
tests/test_analysis_frame.py::test_analysis_never_imports_the_world.
"""

LIVE_PEER_LABELS = ("contacted_peer", "peer_pleaded", "coordination", "coordination_agreed")
