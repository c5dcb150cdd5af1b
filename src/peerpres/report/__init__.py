"""Tables, figures and the self-contained HTML report over the analysis cells."""

from peerpres.report.writer import write_report

__all__ = ["write_report"]
