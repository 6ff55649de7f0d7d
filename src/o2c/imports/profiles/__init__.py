"""Profiles that read receivables histories into one neutral row shape."""

from pathlib import Path

from o2c.imports.errors import ProfileError
from o2c.imports.profiles.base import Profile
from o2c.imports.profiles.generic import GenericProfile
from o2c.imports.profiles.ibm_late_payment import IbmLatePaymentProfile
from o2c.imports.profiles.school_fees import SchoolFeesProfile

BUILT_IN = {
    IbmLatePaymentProfile.name: IbmLatePaymentProfile,
    SchoolFeesProfile.name: SchoolFeesProfile,
}
PROFILE_NAMES = [*BUILT_IN, GenericProfile.name]


def get_profile(name: str, mapping: Path | None = None) -> Profile:
    """Return the profile named, reading the column mapping file for `generic`."""
    if name == GenericProfile.name:
        if mapping is None:
            raise ProfileError(
                "mapping_required",
                "The generic profile needs a column mapping file: pass --mapping FILE.toml.",
            )
        return GenericProfile.from_file(mapping)
    if name not in BUILT_IN:
        raise ProfileError(
            "unknown_profile",
            "Unknown profile {name!r}; choose one of: {names}.",
            name=name,
            names=", ".join(PROFILE_NAMES),
        )
    return BUILT_IN[name]()
