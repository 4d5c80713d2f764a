"""A starter spec for `masklayout init`: a small, commented design that builds, runs and checks
clean with the tech it names, for a new user to edit."""

from __future__ import annotations

from masklayout.tech import load_tech

STARTER = """\
# A masklayout spec: a wafer of WLCSP dies, their bumps and RDL, the solder-mask openings of
# each bump and the process flow that fills them. Lengths in µm unless a unit is given
# ("200 mm", "80 um"); temperatures in °C. 'masklayout schema' prints every key.
masklayout: 1               # schema version
name: {name}                # the top cell's name
tech: {tech}                # built-in tech ('masklayout tech' lists them) or a tech file path

wafer:
  diameter: 200 mm
  orientation: notch        # notch | flat | none, at -y
  edge_exclusion: 3 mm
  die_step: [{step_x:g}, {step_y:g}]      # die pitch on the wafer, scribe included
  scribe: 80

die:                        # coordinates from the die centre, +y up, seen from the bumps
  pads:                     # the chip's bond pads
    - {{name: VDD, at: [{pad_x:g}, {pad_y:g}], size: [80, 80]}}
    - {{name: IO1, at: [{pad_x2:g}, {pad_y:g}], size: [80, 80]}}
  bumps:
    - array: {{pitch: {pitch:g}, count: [6, 5], center: [0, 0]}}   # JEDEC names, A1 top-left
      stack: std
  rdl:
    width: {width:g}               # trace width, at least the tech's RDL.W ({least:g} µm)
    routes:                 # bond pad -> bump, routed on the RDL ('bump: auto': the tool picks)
      - {{pad: VDD, bump: A1}}
      - {{pad: IO1, bump: A6}}
  # Power nets of several pads and bumps, widths per net, free bumps, keep-outs: a 'nets:'
  # table and a 'keepout:' list here, as in the README's 'Nets and routing'.

stacks:                     # one stack of openings per bump type
  std:
    ubm: {{shape: circle, diameter: {ubm:g}}}
    pi2: {{diameter: {pi2:g}}}
    openings:               # each opening larger than and containing the one below
      - {{mask: SM1, diameter: {sm1:g}}}
      - {{mask: SM2, diameter: {sm2:g}}}

masks:
  SM1: {{thickness: 50, film: photoresist, apply: spin_coat}}
  SM2: {{thickness: 110, film: dry_film, apply: laminate}}

process:                    # claim 1: two masks, two deposits, two reflows
  - {{step: form_mask, mask: SM1}}
  - {{step: deposit, into: SM1, solder: SAC305-paste-T6}}
  - {{step: reflow, peak: 245}}
  - {{step: form_mask, mask: SM2}}
  - {{step: deposit, into: SM2, solder: SAC305-paste-T6}}
  - {{step: reflow, peak: 245}}
  - {{step: strip, masks: [SM1, SM2]}}
"""


def starter_spec(name: str = "my_wlcsp", tech: str = "wlcsp-400") -> str:
    """The starter spec's text for ``tech``: a 6 x 5 array at the tech's bump pitch on a die
    with room for the UBM edge rule, two routed pads at a trace width the tech allows, and a c1
    flow."""
    rules = load_tech(tech).rules
    pitch = rules["BUMP.PITCH"].value if "BUMP.PITCH" in rules else 400.0
    assert isinstance(pitch, float)
    edge = rules["UBM.EDGE"].value if "UBM.EDGE" in rules else pitch / 2
    assert isinstance(edge, float)
    ubm = round(0.625 * pitch / 10) * 10  # 250 at 400, 310 at 500
    least = rules["RDL.W"].value if "RDL.W" in rules else 0.0
    assert isinstance(least, float)
    die_x, die_y = 5 * pitch + 2 * edge + 2 * pitch, 4 * pitch + 2 * edge + 2 * pitch
    return STARTER.format(
        name=name,
        tech=tech,
        step_x=die_x + 80,
        step_y=die_y + 80,
        pad_x=-die_x / 2 + 100,
        pad_x2=die_x / 2 - 100,
        pad_y=die_y / 2 - 100,
        pitch=pitch,
        width=max(20.0, least),
        least=least,
        ubm=ubm,
        pi2=ubm - 30,
        sm1=ubm + 20,
        sm2=ubm + 100,
    )
