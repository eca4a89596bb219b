"""Which VP is closest to a target: the kind of code one runs on Ark, tested in a lab."""

from rttsurvey.survey import Survey, closest, ping_from, survey

__all__ = ["Survey", "closest", "ping_from", "survey"]
