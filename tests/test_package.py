"""What the installed package ships besides code."""

from __future__ import annotations

from importlib.resources import files


def test_the_package_is_marked_typed_for_type_checkers() -> None:
    # PEP 561: without the marker, mypy and pyright ignore driftloop's annotations in user code
    assert files("driftloop").joinpath("py.typed").is_file()
