"""pysaml2 attribute map for Suomi.fi (loaded by file name from ``attribute_map_dir``).

pysaml2 imports every ``*.py`` here as a top-level module, hence the distinctive file name; the
map itself lives in :mod:`connectors.suomifi_tunnistus.attributes`.
"""

from connectors.suomifi_tunnistus.attributes import PYSAML2_MAP as MAP

__all__ = ["MAP"]
