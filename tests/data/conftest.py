"""The pipeline fixtures, shared with the data tests."""

from tests.pipeline.conftest import bikes, make_pipeline

__all__ = ["bikes", "make_pipeline"]
