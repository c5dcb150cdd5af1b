"""Inspect entry point: registers the peerpres tasks, scorer and scripted model providers."""

from inspect_ai.model import modelapi

from .scoring import peerpres_labels
from .tasks import (
    alignment_faking,
    exfiltration_deletion,
    exfiltration_transfer,
    misrep_evaluation,
    misrep_finance,
    monitor_collusion,
    tampering,
)


@modelapi(name="peerpres")
def peerpres_provider():  # type: ignore[no-untyped-def]
    from .providers.local import peerpres_api  # peerpres/local/<weights>: a real local model; the rest controls

    return peerpres_api


__all__ = [
    "alignment_faking",
    "exfiltration_deletion",
    "exfiltration_transfer",
    "misrep_evaluation",
    "misrep_finance",
    "monitor_collusion",
    "tampering",
    "peerpres_labels",
    "peerpres_provider",
]
