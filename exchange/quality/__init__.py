"""The quality gate: a resource's schema rules run over an Arrow batch before it is loaded."""

from exchange.quality.arrow_checks import ReferenceChecker, validate_table
from exchange.quality.report import Finding, QualityReport

__all__ = ["Finding", "QualityReport", "ReferenceChecker", "validate_table"]
