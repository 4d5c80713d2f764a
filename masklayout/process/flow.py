"""Flow validation: check the order of the ``process:`` steps before anything is computed, and
turn them into a :class:`Plan` of operations on mask levels.

A mask's level is its opening's place in the stacks (SM1 first, SM2 on it, ...). The errors
(deposit into a mask that is not there, a mask formed twice or over one that is not there, a
reflow with nothing to melt, a flow ending with masks in place or unreflowed paste, Sn-Pb mixed
with Bi, a squeegee print through an upper mask, a reflow hotter than a film on the wafer
stands, a strip over unreflowed powder, ...) each name the step's file:line; they are raised
together as one SpecError.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from masklayout.geometry.shapes import shape_area, shape_perimeter
from masklayout.process.solder import has_bismuth, is_sn_pb
from masklayout.source import Loc, Problem, SpecError
from masklayout.spec import Deposit, Design, FormMask, Reflow, Stack, Strip
from masklayout.tech import DEFAULT_METHOD, Alloy, DepositMethodName

StepKind = Literal["form_mask", "deposit", "reflow", "strip"]
PRINT_RULE = "SM.PRINT"
PRINT_DEFAULT = 0.66  # IPC-7525 area ratio


@dataclass(frozen=True)
class Op:
    """One validated step. ``level`` is the mask level of a form_mask or deposit; ``masks`` the
    masks present after the step, bottom to top."""

    index: int
    kind: StepKind
    label: str
    masks: tuple[str, ...]
    level: int | None = None
    solder: str | None = None
    method: DepositMethodName | None = None
    fill: float = 1.0
    peak: float | None = None


@dataclass(frozen=True)
class Plan:
    """A valid flow: the masks it forms in level order, its operations, and its warnings."""

    masks: tuple[str, ...]
    ops: tuple[Op, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def solders(self) -> tuple[str, ...]:
        """The solders deposited, in first-use order."""
        return tuple(dict.fromkeys(op.solder for op in self.ops if op.solder is not None))


def plan_flow(design: Design, stacks: Mapping[str, Stack] | None = None) -> Plan:
    """Validate ``design``'s process flow against its stacks (or ``stacks`` in their place) and
    return the plan. Raises SpecError naming every bad step."""
    return _Checker(design, dict(stacks if stacks is not None else design.spec.stacks)).run()


class _Checker:
    """Walks the steps once, keeping which masks stand and what solder is on the wafer."""

    def __init__(self, design: Design, stacks: dict[str, Stack]):
        self.design, self.stacks = design, stacks
        self.tech = design.tech
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self.present: list[str] = []  # masks standing, bottom to top
        self.formed: dict[str, int] = {}
        self.stripped: dict[str, int] = {}
        self.levels: dict[str, int] = {}
        self.pending: list[tuple[int, int, str]] = []  # (step, level, solder) not yet reflowed
        self.deposited: list[tuple[int, str]] = []  # (step, solder)
        self.last_reflow: int | None = None
        self.ops: list[Op] = []

    # ---------------------------------------------------------------- helpers
    def error(self, i: int, key: str | Loc | None, message: str) -> None:
        self.errors.append(self.design.source.problem(_loc(i, key), message))

    def warn(self, i: int, message: str) -> None:
        self.warnings.append(self.design.source.problem(["process", i], message))

    def where(self, i: int) -> str:
        """``process[2] (line 31)``."""
        line = self.design.source.problem(["process", i], "").line
        return f"process[{i}]" + (f" (line {line})" if line is not None else "")

    def alloy(self, solder: str) -> Alloy:
        return self.tech.alloys[self.tech.solders[solder].alloy]

    def level(self, mask: str) -> int | None:
        """The mask's level: its opening's index in the first stack that has one."""
        for stack in self.stacks.values():
            for k, opening in enumerate(stack.openings):
                if opening.mask == mask:
                    return k
        return None

    # ---------------------------------------------------------------- steps
    def run(self) -> Plan:
        steps = self.design.spec.process
        if not steps:
            self.errors.append(
                self.design.source.problem(["process"], "the flow is empty: nothing to run")
            )
        for i, step in enumerate(steps):
            if isinstance(step, FormMask):
                self.form(i, step)
            elif isinstance(step, Deposit):
                self.deposit(i, step)
            elif isinstance(step, Reflow):
                self.reflow(i, step)
            elif isinstance(step, Strip):
                self.strip(i, step)
        if steps:
            self.finish(len(steps) - 1)
        if self.errors:
            raise SpecError(self.errors)
        masks = tuple(sorted(self.levels, key=self.levels.__getitem__))
        return Plan(masks, tuple(self.ops), tuple(str(w) for w in self.warnings))

    def form(self, i: int, step: FormMask) -> None:
        mask = step.mask
        if mask in self.formed:
            self.error(
                i, "mask", f"mask {mask} is formed twice (first at {self.where(self.formed[mask])})"
            )
        buried = [
            name for name, s in self.stacks.items() if all(o.mask != mask for o in s.openings)
        ]
        if buried:
            self.error(
                i,
                "mask",
                f"stack{'s' if len(buried) > 1 else ''} {', '.join(repr(b) for b in buried)} "
                f"{'have' if len(buried) > 1 else 'has'} no opening in {mask}: the mask would bury "
                "those bumps (give every stack an opening in every mask the flow forms)",
            )
        for name, stack in self.stacks.items():
            masks = [o.mask for o in stack.openings]
            if mask not in masks:
                continue
            for below in masks[: masks.index(mask)]:
                if below not in self.present:
                    gone = (
                        f"was stripped at {self.where(self.stripped[below])}"
                        if below in self.stripped
                        else f"is not there (form {below} first)"
                    )
                    self.error(
                        i, "mask", f"{mask} is formed over {below} (stack '{name}'), which {gone}"
                    )
                    break
            else:
                continue
            break
        if self.pending:
            j, _, solder = self.pending[-1]
            self.warn(
                i,
                f"{mask} is formed over unreflowed {solder} from {self.where(j)} (claim 16 "
                "pre-reflows the first deposit before forming the next mask)",
            )
        level = self.level(mask)
        if level is not None:
            self.levels.setdefault(mask, level)
        self.formed.setdefault(mask, i)
        if mask not in self.present:
            self.present.append(mask)
            self.present.sort(key=lambda m: self.levels.get(m, 0))
        self.ops.append(Op(i, "form_mask", f"form {mask}", tuple(self.present), level=level))

    def deposit(self, i: int, step: Deposit) -> None:
        mask, solder = step.into, step.solder
        level = self.levels.get(mask, self.level(mask))
        if mask not in self.present:
            if mask in self.stripped:
                why = f"it was stripped at {self.where(self.stripped[mask])}"
            else:
                why = f"it is not formed yet (form_mask {mask} first)"
            self.error(i, "into", f"deposit into {mask}, which is not there: {why}")
        full = [(j, lvl) for j, lvl, _ in self.pending if level is not None and lvl >= level]
        if full:
            j, lvl = full[-1]
            filled = next(m for m, v in self.levels.items() if v == lvl)
            self.error(
                i,
                "into",
                f"the {mask} cavity is already full: {self.where(j)} filled it up to the top of "
                f"{filled} and no reflow came between (reflow first, or deposit into a larger mask)",
            )
        alloy = self.alloy(solder)
        for j, other in self.deposited:
            other_alloy = self.alloy(other)
            if (has_bismuth(alloy) and is_sn_pb(other_alloy)) or (
                is_sn_pb(alloy) and has_bismuth(other_alloy)
            ):
                bi, snpb = (solder, other) if has_bismuth(alloy) else (other, solder)
                self.error(
                    i,
                    "solder",
                    f"{solder} meets {other} deposited at {self.where(j)}: Sn-Pb mixed with Bi "
                    f"({bi} with {snpb}) melts near 96 °C; keep Bi solders off Sn-Pb bumps",
                )
                break
        method = self.method(i, step)
        if level is not None and mask in self.present:
            if method == "print":
                self.check_print_through(i, step, mask, level)
            self.check_printable(i, mask, level)
        self.pending.append((i, level if level is not None else -1, solder))
        self.deposited.append((i, solder))
        fill = step.fill if step.fill is not None else self.tech.deposit_methods[method].fill
        label = f"deposit {solder} into {mask} by {method}" + (
            f" (fill {fill:g})" if fill < 1 else ""
        )
        self.ops.append(
            Op(
                i,
                "deposit",
                label,
                tuple(self.present),
                level=level,
                solder=solder,
                method=method,
                fill=fill,
            )
        )

    def method(self, i: int, step: Deposit) -> DepositMethodName:
        """The step's deposit method (default by the solder's form); a powder is not printed or
        dispensed, a paste not swept in as a powder."""
        form = self.tech.solders[step.solder].form
        if step.method is None:
            return DEFAULT_METHOD[form]
        if (step.method == "powder") != (form == "powder"):
            fits = "method: powder" if form == "powder" else "method: print or dispense"
            self.error(
                i,
                "method",
                f"{step.solder} is a {form}: it cannot be deposited by {step.method} ({fits})",
            )
        return step.method

    def check_print_through(self, i: int, step: Deposit, mask: str, level: int) -> None:
        """A squeegee rides on the top mask: it cannot print into a lower mask's opening."""
        above = [m for m in self.present if self.levels.get(m, -1) > level]
        if not above:
            return
        through = (
            f"{above[0]}'s opening" if len(above) == 1 else f"the openings of {', '.join(above)}"
        )
        self.error(
            i,
            "method" if step.method is not None else None,
            f"a squeegee cannot print into {mask} through {through}: dispense it "
            f"(method: dispense) or print before forming {above[0]}",
        )

    def check_printable(self, i: int, mask: str, level: int) -> None:
        """IPC-7525 area ratio A / (perimeter · t) of the opening filled: warn below the rule."""
        film = self.design.spec.masks[mask].film
        thickness = self.design.spec.masks[mask].thickness
        rule = self.tech.rules.get(PRINT_RULE)
        minimum = rule.for_film(film) if rule is not None else PRINT_DEFAULT
        for name, stack in self.stacks.items():
            if level >= len(stack.openings):
                continue
            shape, diameter = stack.opening_shape(level), stack.openings[level].diameter
            ratio = shape_area(shape, diameter) / (shape_perimeter(shape, diameter) * thickness)
            if ratio < minimum:
                self.warn(
                    i,
                    f"stack '{name}': {mask} opening {shape} {diameter:g} in {thickness:g} µm "
                    f"{film} has area ratio {ratio:.2f} < {minimum:g} ({PRINT_RULE}): it may not fill",
                )

    def reflow(self, i: int, step: Reflow) -> None:
        if not self.deposited:
            self.error(i, "peak", "reflow with nothing to melt: no solder is deposited before it")
        else:
            alloys = {s: self.alloy(s) for _, s in self.deposited}
            name, coolest = min(alloys.items(), key=lambda kv: kv[1].solidus)
            if step.peak < coolest.solidus:
                self.error(
                    i,
                    "peak",
                    f"reflow with nothing to melt: peak {step.peak:g} °C is below the solidus of "
                    f"every solder on the wafer (lowest: {name}, {coolest.solidus:g} °C)",
                )
            elif not self.pending and self.last_reflow is not None:
                self.warn(
                    i,
                    f"nothing deposited since the reflow at {self.where(self.last_reflow)}: this "
                    "reflow re-melts the balls",
                )
        self.check_films(i, step)
        self.pending.clear()
        self.last_reflow = i
        self.ops.append(
            Op(i, "reflow", f"reflow {step.peak:g} °C", tuple(self.present), peak=step.peak)
        )

    def check_films(self, i: int, step: Reflow) -> None:
        """Each mask on the wafer must stand the peak: its own max_temperature, or its film's."""
        for mask in self.present:
            spec_mask = self.design.spec.masks.get(mask)
            if spec_mask is None:
                continue
            limit = self.tech.film_limits[spec_mask.film]
            if spec_mask.max_temperature is not None:
                highest, source = spec_mask.max_temperature, f"masks.{mask}.max_temperature"
            else:
                highest, source = limit.max_temperature, limit.source or f"tech {self.tech.name}"
            if step.peak > highest:
                self.error(
                    i,
                    "peak",
                    f"reflow peak {step.peak:g} °C with {mask} ({spec_mask.film}) on the wafer: "
                    f"above the {highest:g} °C the film stands ({source}); strip {mask} before "
                    "this reflow, lower the peak, or use a film rated for it",
                )

    def check_strip_over_deposits(self, i: int, step: Strip) -> None:
        """A wet strip washes loose powder away (error) and attacks a paste's flux (warning)."""
        masks = ", ".join(step.masks)
        for j, _, solder in self.pending:
            if self.tech.solders[solder].form == "powder":
                self.error(
                    i,
                    None,
                    f"strip {masks} over unreflowed {solder} from {self.where(j)}: the stripper "
                    "washes the loose powder away (reflow before stripping)",
                )
            else:
                self.warn(
                    i,
                    f"strip {masks} over unreflowed {solder} from {self.where(j)}: the stripper "
                    "attacks the paste's flux and the unsupported deposit may slump or wash off "
                    "(reflow before stripping)",
                )

    def strip(self, i: int, step: Strip) -> None:
        self.check_strip_over_deposits(i, step)
        for k, mask in enumerate(step.masks):
            if mask not in self.present:
                why = (
                    f"already stripped at {self.where(self.stripped[mask])}"
                    if mask in self.stripped
                    else "never formed before this step"
                )
                self.error(i, ["masks", k], f"strip {mask}, which is not there: {why}")
        gone = set(step.masks)
        remaining = [m for m in self.present if m not in gone]
        for mask in step.masks:
            if mask not in self.present:
                continue
            above = [m for m in remaining if self.levels.get(m, 0) > self.levels.get(mask, 0)]
            if above:
                self.error(
                    i,
                    ["masks", step.masks.index(mask)],
                    f"strip {mask} leaves {', '.join(above)} standing on it: strip "
                    f"{', '.join(above)} in the same step or before",
                )
        for mask in step.masks:
            if mask in self.present:
                self.stripped[mask] = i
        self.present = remaining
        self.ops.append(Op(i, "strip", f"strip {', '.join(step.masks)}", tuple(self.present)))

    def finish(self, last: int) -> None:
        if self.present:
            self.error(
                last,
                None,
                f"the flow ends with {', '.join(self.present)} still in place: add a strip step",
            )
        for j, _, solder in self.pending:
            self.error(
                j,
                None,
                f"{solder} deposited here is never reflowed: the flow ends with unreflowed "
                "paste (add a reflow after it)",
            )
        if not self.deposited and self.design.spec.process:
            self.error(last, None, "the flow deposits no solder: nothing to make a ball of")
        formed = set(self.formed)
        for name, stack in self.stacks.items():
            unused = [o.mask for o in stack.openings if o.mask not in formed]
            if unused and self.design.spec.process:
                self.warnings.append(
                    self.design.source.problem(
                        ["stacks", name],
                        f"opening{'s' if len(unused) > 1 else ''} in {', '.join(unused)} never "
                        "used: the flow does not form that mask",
                    )
                )


def _loc(i: int, key: str | Loc | None) -> Loc:
    if key is None:
        return ["process", i]
    return ["process", i, *([key] if isinstance(key, str) else key)]
