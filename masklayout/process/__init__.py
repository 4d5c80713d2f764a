"""The process flow and the solder model (DESIGN.md §7): validate the ``process:`` steps, play
them on every opening stack, and report the deposits, the reflows and the final balls.

``run(design)`` is what ``masklayout run`` does; ``balls(design, stacks)`` gives the ball of
candidate stacks (for the inverse sizer); ``simulate`` works on raw numpy rows.
"""

from masklayout.process.flow import Op, Plan, plan_flow
from masklayout.process.results import (
    Ball,
    Cap,
    PasteLayer,
    RunResult,
    StackResult,
    StepResult,
    WaferTotals,
)
from masklayout.process.runner import (
    Geometry,
    Simulation,
    simulate,
    simulate_stacks,
    stack_geometry,
)
from masklayout.process.summary import (
    ball_diameters,
    balls,
    bridging_diameters,
    run,
    widest_bodies,
)

__all__ = [
    "Ball",
    "Cap",
    "Geometry",
    "Op",
    "PasteLayer",
    "Plan",
    "RunResult",
    "Simulation",
    "StackResult",
    "StepResult",
    "WaferTotals",
    "ball_diameters",
    "balls",
    "bridging_diameters",
    "widest_bodies",
    "plan_flow",
    "run",
    "simulate",
    "simulate_stacks",
    "stack_geometry",
]
