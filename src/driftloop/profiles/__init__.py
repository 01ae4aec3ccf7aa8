"""Reference profiles: mergeable per-column summaries that stand in for data on either side of
``detect`` (``column.py``, ``numeric.py``, ``labels.py``), their file (``fileformat.py``), and
``detect`` over profiles or frames (``detection.py``).

Names are imported on first use (PEP 562): a process that only builds profiles (a profile-build
worker, a Spark Python worker) does not import the drift engine.
"""

from typing import TYPE_CHECKING

from driftloop.lazy import exports

if TYPE_CHECKING:
    from driftloop.profiles.dataset import Profile, merge, merge_profiles, profile, profile_batches
    from driftloop.profiles.detection import detect
    from driftloop.profiles.fileformat import is_profile, load_profile, save_profile

_LAZY = {
    "Profile": "driftloop.profiles.dataset",
    "merge": "driftloop.profiles.dataset",
    "merge_profiles": "driftloop.profiles.dataset",
    "profile": "driftloop.profiles.dataset",
    "profile_batches": "driftloop.profiles.dataset",
    "detect": "driftloop.profiles.detection",
    "is_profile": "driftloop.profiles.fileformat",
    "load_profile": "driftloop.profiles.fileformat",
    "save_profile": "driftloop.profiles.fileformat",
}

__all__ = [
    "Profile",
    "detect",
    "is_profile",
    "load_profile",
    "merge",
    "merge_profiles",
    "profile",
    "profile_batches",
    "save_profile",
]

__getattr__ = exports(globals(), _LAZY)
