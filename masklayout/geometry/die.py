"""The die's structured layer: bond pads, PI1 openings, RDL capture pads (claim 13), and the
per-stack bump shapes (UBM, PI2, solder-mask openings). The traces between them come from the
router (masklayout.geometry.rdl)."""

from __future__ import annotations

import gdstk

from masklayout.geometry.shapes import shape
from masklayout.spec import Design, Pad, Stack

DEFAULT_PAD_ENCLOSES_PI1 = 7.5
DEFAULT_RDL_ENCLOSES_PI1 = 10.0
DEFAULT_RDL_ENCLOSES_UBM = 10.0
DEFAULT_RDL_SPACE = 10.0


def stack_shapes(
    stack: Stack, masks: dict[str, tuple[int, int]], ubm: tuple[int, int], pi2: tuple[int, int]
) -> list[gdstk.Polygon]:
    """The shapes of one bump of ``stack`` centred at the origin: UBM, PI2, solder-mask openings.
    ``masks`` maps each mask name to its (layer, datatype)."""
    polygons = [
        shape(stack.ubm.shape, stack.ubm.diameter, layer=ubm[0], datatype=ubm[1]),
        shape(stack.pi2.shape, stack.pi2.diameter, layer=pi2[0], datatype=pi2[1]),
    ]
    for k, opening in enumerate(stack.openings):
        layer, datatype = masks[opening.mask]
        polygons.append(
            shape(stack.opening_shape(k), opening.diameter, layer=layer, datatype=datatype)
        )
    return polygons


def ubm_capture(
    design: Design,
    stack: Stack,
    center: tuple[float, float] = (0.0, 0.0),
    layer: int = 0,
    datatype: int = 0,
) -> gdstk.Polygon:
    """The RDL capture pad under a UBM: the UBM's shape grown by the RDL.EN.UBM rule."""
    grow = design.tech.rule_value("RDL.EN.UBM", DEFAULT_RDL_ENCLOSES_UBM)
    return shape(
        stack.ubm.shape, stack.ubm.diameter + 2 * grow, center, layer=layer, datatype=datatype
    )


def pad_polygon(pad: Pad, layer: int = 0, datatype: int = 0) -> gdstk.Polygon:
    (x, y), (w, h) = pad.at, pad.size
    return gdstk.rectangle(
        (x - w / 2, y - h / 2), (x + w / 2, y + h / 2), layer=layer, datatype=datatype
    )


def pi1_opening(design: Design, pad: Pad, layer: int = 0, datatype: int = 0) -> gdstk.Polygon:
    """The PI1 opening over a routed pad: ``rdl.pi1`` square, or the pad less PAD.EN.PI1."""
    if design.spec.die.rdl.pi1 is not None:
        w = h = design.spec.die.rdl.pi1
    else:
        shrink = design.tech.rule_value("PAD.EN.PI1", DEFAULT_PAD_ENCLOSES_PI1)
        w, h = pad.size[0] - 2 * shrink, pad.size[1] - 2 * shrink
        if w <= 0 or h <= 0:
            i = design.spec.die.pads.index(pad)
            raise design.error(
                ["die", "pads", i, "size"],
                f"pad {pad.name} is too small for a PI1 opening enclosed by {shrink:g} (rule PAD.EN.PI1)",
            )
    (x, y) = pad.at
    return gdstk.rectangle(
        (x - w / 2, y - h / 2), (x + w / 2, y + h / 2), layer=layer, datatype=datatype
    )


def pad_capture(design: Design, pad: Pad, layer: int = 0, datatype: int = 0) -> gdstk.Polygon:
    """The RDL capture pad over a bond pad: the PI1 opening grown by RDL.EN.PI1."""
    grow = design.tech.rule_value("RDL.EN.PI1", DEFAULT_RDL_ENCLOSES_PI1)
    (x0, y0), (x1, y1) = pi1_opening(design, pad).bounding_box()
    return gdstk.rectangle(
        (x0 - grow, y0 - grow), (x1 + grow, y1 + grow), layer=layer, datatype=datatype
    )
