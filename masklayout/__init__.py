"""masklayout: wafer-level solder bumping mask sets from one YAML spec."""

from masklayout.source import Problem, SpecError
from masklayout.spec import Design, load, loads

__all__ = ["Design", "Problem", "SpecError", "load", "loads"]
__version__ = "0.1.0"
