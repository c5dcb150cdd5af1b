import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from paper_data import PAPER_ROOT, missing_reason

SHARED = PAPER_ROOT.parent


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked ``paper`` skip with the reason when the paper's transcripts are missing; under CI=true they fail."""
    if item.get_closest_marker("paper") is None:
        return
    reason = missing_reason()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)
