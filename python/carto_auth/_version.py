"""The drop-in's version: the reference release it follows (0.2.0), with the
local label "helper" so that pip and users can tell the two apart; it
satisfies carto-auth>=0.2.0 (pydeck-carto's requirement)."""

__version__ = "0.2.0+helper"
