"""Rule checks with KLayout: the tech deck on the layout's hierarchy (deep regions), reported
as a table, JSON and a KLayout marker database.

``check_file(path, tech, spec)`` is ``masklayout check``; ``check_design(design)`` builds the wafer and checks it, ball rules included;
``check_gds(path, tech, design=None)`` checks a layout file (with a design, also the films,
thicknesses and balls of that spec, and its nets: opens, shorts and wrong connections);
``write_rdb`` writes the markers for KLayout.
"""

from masklayout.checks.engine import (
    allowance,
    check_design,
    check_file,
    check_gds,
    check_layout,
    is_layout_file,
)
from masklayout.checks.report import marker_database, summary, to_json, to_table, write_rdb
from masklayout.checks.results import CheckReport, RuleResult, Violation

__all__ = [
    "CheckReport",
    "RuleResult",
    "Violation",
    "allowance",
    "check_design",
    "check_file",
    "check_gds",
    "check_layout",
    "is_layout_file",
    "marker_database",
    "summary",
    "to_json",
    "to_table",
    "write_rdb",
]
