"""Reference profiles: mergeable per-column summaries that stand in for data on either side of
``detect`` (``column.py``, ``numeric.py``, ``labels.py``), their file (``fileformat.py``), and
``detect`` over profiles or frames (``detection.py``)."""

from driftloop.profiles.dataset import Profile, merge, merge_profiles, profile, profile_batches
from driftloop.profiles.detection import detect
from driftloop.profiles.fileformat import is_profile, load_profile, save_profile

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
