"""What a process run reports: per stack, every step and the final ball; for the wafer, the
solder to order. Frozen dataclasses; lengths µm, volumes µm³ unless named otherwise."""

from __future__ import annotations

from dataclasses import dataclass, field

from masklayout.process.shapes import Profile


@dataclass(frozen=True)
class Cap:
    """The reflowed body on the wetted base: volume, height, the top cap's sphere radius, widest
    diameter; ``regime`` free, column, edge or spread (docs/model.md) and its ``shape``."""

    volume_um3: float
    height_um: float
    sphere_radius_um: float
    diameter_um: float
    base_diameter_um: float
    regime: str = "free"
    shape: Profile | None = None


@dataclass(frozen=True)
class PasteLayer:
    """Unreflowed solder standing in the cavity of ``mask`` (level ``level``)."""

    mask: str
    level: int
    solder: str
    paste_volume_um3: float


@dataclass(frozen=True)
class StepResult:
    """One stack after one step. ``paste``/``metal`` volumes are set for a deposit; ``cap`` is
    the reflowed body (pre-solder body or ball) after the step, solid, ``core`` its part that
    never melted, ``confined_by`` the mask it stands against. At a reflow ``peak`` is the body
    at the peak, its melt at the liquid density (4-6 % larger), against ``peak_confined_by``:
    the confinement check; it can touch a wall the cooled body stands clear of."""

    index: int
    step: str
    label: str
    masks: tuple[str, ...]
    paste: tuple[PasteLayer, ...] = ()
    solder: str | None = None
    paste_volume_um3: float | None = None
    metal_volume_um3: float | None = None
    cap: Cap | None = None
    core: Cap | None = None
    confined_by: str | None = None
    solid: tuple[str, ...] = ()  # what stayed solid at a reflow
    peak: Cap | None = None
    peak_confined_by: str | None = None


@dataclass(frozen=True)
class Ball:
    """The final ball, solid. ``composite``: a solid core (not molten at the last reflow) wetted
    by the molten rest (claim 4); ``core`` is then that core. ``unmelted_um3``: paste never
    melted. ``peak``: the ball at its last reflow's peak, molten (``peak_confined_by``)."""

    volume_um3: float
    height_um: float
    diameter_um: float
    base_diameter_um: float
    sphere_radius_um: float
    composition_wt: dict[str, float]
    liquidus_c: float
    composite: bool = False
    core: Cap | None = None
    core_composition_wt: dict[str, float] | None = None
    core_liquidus_c: float | None = None
    unmelted_um3: float = 0.0
    mass_g: dict[str, float] = field(default_factory=dict)  # per element, one ball
    regime: str = "free"  # the shape its last reflow gave it (docs/model.md)
    confined_by: str | None = None  # the mask whose wall shaped it at that reflow
    shape: Profile | None = None
    peak: Cap | None = None
    peak_confined_by: str | None = None


@dataclass(frozen=True)
class StackResult:
    """One opening stack through the flow, with its sites and the bridging check: the
    narrowest space to a neighbour, cooled or molten at a reflow's peak (``bridging_at``, the
    reflow's step index; None: the cooled balls), and the diameter of the body that left it."""

    name: str
    steps: tuple[StepResult, ...]
    ball: Ball
    sites_per_die: int = 0
    sites_on_wafer: int = 0
    pitch_um: float | None = None  # nearest neighbouring bump centre
    gap_um: float | None = None  # narrowest space between this stack's body and a neighbour's
    bridging: bool = False
    bridging_diameter_um: float | None = None
    bridging_at: int | None = None

    @property
    def unmelted(self) -> bool:
        return self.ball.unmelted_um3 > 0


@dataclass(frozen=True)
class WaferTotals:
    """Solder on the whole wafer: metal volume (mm³) and mass per element (g); paste or powder
    per solder as deposited (mm³ and g)."""

    dies: int
    sites: int
    metal_mm3: float
    element_g: dict[str, float]
    solder_mm3: dict[str, float]
    solder_g: dict[str, float]


@dataclass(frozen=True)
class RunResult:
    """A whole run: per stack results, the wafer totals, warnings and failures (bridging, an
    unmelted flow). ``ok`` when nothing failed."""

    name: str
    stacks: tuple[StackResult, ...]
    wafer: WaferTotals
    warnings: tuple[str, ...] = ()
    failures: tuple[str, ...] = ()
    bridging_gap_um: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures

    def stack(self, name: str) -> StackResult:
        return next(s for s in self.stacks if s.name == name)
