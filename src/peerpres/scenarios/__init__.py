"""The six scenarios of the study as content files plus one builder.

``build_episode(cond, family)`` returns the initial world, the system and user prompts, the tool set, the
names and the nudge of one config. The words live in YAML/Markdown files beside this module, one folder
per scenario plus ``common/``; see ``build.py`` for how they are assembled and ``datasets.py`` for the
evaluation items with their ground truth.
"""

from .build import Episode, build_episode, build_world, protected_filename, roster, scenario_tools
from .content import ContentError
from .datasets import DATASETS, DatasetItem, EvalDataset, load_dataset

__all__ = [
    "DATASETS",
    "ContentError",
    "DatasetItem",
    "Episode",
    "EvalDataset",
    "build_episode",
    "build_world",
    "load_dataset",
    "protected_filename",
    "roster",
    "scenario_tools",
]
