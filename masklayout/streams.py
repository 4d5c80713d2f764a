"""Streaming writers for flat mask data: one cell of polygons, written as it is generated.

Both writers take polygons in groups: one shape (its vertices, integer database units, the
first vertex at the origin) placed at many positions. Nothing is kept between calls but the
last shape and repetition written, so memory does not grow with the data.

- :class:`GdsStream` writes GDSII BOUNDARY elements, one per placement (GDSII has no
  repetition for a shape), vectorised per group. A shape must have at most
  :data:`GDS_MAX_VERTICES` vertices (the XY record's 65,535-byte limit).
- :class:`OasisStream` writes one OASIS POLYGON record per group, its placements as an
  arbitrary repetition (type 10), and reuses the modal point list and repetition when a group
  comes again at another offset (the same die elsewhere on the wafer); records go out in
  DEFLATE-compressed CBLOCKs. The END record carries a CRC32 of the file.

The bytes depend on the calls only (fixed timestamps, no tables of offsets).
"""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO

import numpy as np

GDS_MAX_VERTICES = 8190  # (65,535 - 4 header bytes) // 8 bytes a point, less the closing point
_GDS_DATE = (2000, 1, 1, 0, 0, 0)


# --------------------------------------------------------------------------- GDSII
def _gds_real(value: float) -> bytes:
    """An 8-byte GDSII real: sign, excess-64 base-16 exponent, 56-bit mantissa."""
    if value == 0:
        return bytes(8)
    sign, value = (0x80, -value) if value < 0 else (0, value)
    exponent = 0
    while value >= 1:
        value, exponent = value / 16, exponent + 1
    while value < 1 / 16:
        value, exponent = value * 16, exponent - 1
    mantissa = round(value * 2**56)
    if mantissa >= 2**56:
        mantissa, exponent = mantissa >> 4, exponent + 1
    return bytes([sign | (exponent + 64)]) + mantissa.to_bytes(7, "big")


def _gds_record(kind: int, data: bytes = b"") -> bytes:
    return struct.pack(">HH", 4 + len(data), kind) + data


def _gds_string(text: str) -> bytes:
    data = text.encode("ascii")
    return data + b"\0" * (len(data) % 2)


class GdsStream:
    """A GDSII library of one cell, written to ``out`` as polygons come."""

    def __init__(self, out: BinaryIO, library: str, cell: str, unit: float, precision: float):
        self.out = out
        dates = struct.pack(">12h", *_GDS_DATE, *_GDS_DATE)
        self.out.write(
            _gds_record(0x0002, struct.pack(">h", 600))
            + _gds_record(0x0102, dates)
            + _gds_record(0x0206, _gds_string(library))
            + _gds_record(0x0305, _gds_real(precision / unit) + _gds_real(precision))
            + _gds_record(0x0502, dates)
            + _gds_record(0x0606, _gds_string(cell))
        )

    def polygons(
        self,
        shape: np.ndarray,
        positions: np.ndarray,
        layer: int,
        datatype: int,
        offset: tuple[int, int] = (0, 0),
    ) -> None:
        """``shape`` (n × 2) placed at each of ``positions`` (m × 2) moved by ``offset``, as m
        BOUNDARY elements."""
        n = len(shape)
        if n > GDS_MAX_VERTICES:
            raise ValueError(f"a GDSII polygon has at most {GDS_MAX_VERTICES} vertices, not {n}")
        closed = np.concatenate((shape, shape[:1])) + np.asarray(offset, dtype=np.int64)
        xy = (closed[None, :, :] + positions[:, None, :]).astype(">i4").reshape(len(positions), -1)
        head = (
            _gds_record(0x0800)
            + _gds_record(0x0D02, struct.pack(">h", layer))
            + _gds_record(0x0E02, struct.pack(">h", datatype))
            + struct.pack(">HH", 4 + 8 * (n + 1), 0x1003)
        )
        rows = np.empty((len(positions), len(head) + 8 * (n + 1) + 4), dtype=np.uint8)
        rows[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
        rows[:, len(head) : -4] = xy.view(np.uint8)
        rows[:, -4:] = np.frombuffer(_gds_record(0x1100), dtype=np.uint8)
        self.out.write(rows.tobytes())

    def text(self, text: str, x: int, y: int, layer: int, texttype: int) -> None:
        """A TEXT element (a label for people, not drawn)."""
        self.out.write(
            _gds_record(0x0C00)
            + _gds_record(0x0D02, struct.pack(">h", layer))
            + _gds_record(0x1602, struct.pack(">h", texttype))
            + _gds_record(0x1003, struct.pack(">ii", x, y))
            + _gds_record(0x1906, _gds_string(text))
            + _gds_record(0x1100)
        )

    def close(self) -> None:
        self.out.write(_gds_record(0x0700) + _gds_record(0x0400))


# --------------------------------------------------------------------------- OASIS
def _varints(values: np.ndarray) -> bytes:
    """OASIS unsigned integers (7 bits a byte, low first, high bit: more follow), vectorised."""
    v = np.asarray(values, dtype=np.uint64)
    if v.size == 0:
        return b""
    lengths = np.ones(len(v), dtype=np.int64)
    rest = v >> np.uint64(7)
    while rest.any():
        lengths += rest > 0
        rest >>= np.uint64(7)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    out = np.empty(int(lengths.sum()), dtype=np.uint8)
    for k in range(int(lengths.max())):
        sel = lengths > k
        low = (v[sel] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = (lengths[sel] > k + 1).astype(np.uint64) << np.uint64(7)
        out[starts[sel] + k] = (low | more).astype(np.uint8)
    return out.tobytes()


def _uint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _sint(value: int) -> bytes:
    return _uint((abs(value) << 1) | (value < 0))


def _string(text: str) -> bytes:
    data = text.encode("ascii")
    return _uint(len(data)) + data


def _gdeltas(deltas: np.ndarray) -> bytes:
    """g-deltas of form 2 (any direction): ``|dx| << 2 | sign << 1 | 1``, then signed dy."""
    dx, dy = deltas[:, 0].astype(np.int64), deltas[:, 1].astype(np.int64)
    first = (np.abs(dx) << 2) | ((dx < 0).astype(np.int64) << 1) | 1
    second = (np.abs(dy) << 1) | (dy < 0).astype(np.int64)
    return _varints(np.column_stack((first, second)).ravel())


_MAGIC = b"%SEMI-OASIS\r\n"
_CBLOCK_BYTES = 1 << 20  # records gathered before compressing them into one CBLOCK
_END_BYTES = 256


class OasisStream:
    """An OASIS file of one cell, written to ``out`` as polygons come."""

    def __init__(self, out: BinaryIO, cell: str, grid_per_um: int, compression: int = 6):
        self.out = out
        self.crc = 0
        self.level = compression
        self.pending: list[bytes] = []
        self.size = 0
        self.shape = b""  # modal point list and repetition last written
        self.repetition = b""
        self.arrays: tuple[np.ndarray | None, np.ndarray | None] = (None, None)
        self.encoded = [b"", b""]  # the point list and repetition of ``arrays``
        start = b"\x01" + _string("1.0") + b"\x00" + _uint(grid_per_um) + b"\x00" + bytes(12)
        self._emit(_MAGIC + start)
        self._record(b"\x0e" + _string(cell))

    def _emit(self, data: bytes) -> None:
        self.crc = zlib.crc32(data, self.crc)
        self.out.write(data)

    def _record(self, data: bytes) -> None:
        self.pending.append(data)
        self.size += len(data)
        if self.size >= _CBLOCK_BYTES:
            self._flush()

    def _flush(self) -> None:
        if not self.pending:
            return
        raw = b"".join(self.pending)
        self.pending, self.size = [], 0
        if self.level == 0:
            self._emit(raw)
            return
        packer = zlib.compressobj(self.level, zlib.DEFLATED, -15)
        packed = packer.compress(raw) + packer.flush()
        self._emit(b"\x22\x00" + _uint(len(raw)) + _uint(len(packed)) + packed)

    def polygons(
        self,
        shape: np.ndarray,
        positions: np.ndarray,
        layer: int,
        datatype: int,
        offset: tuple[int, int] = (0, 0),
    ) -> None:
        """``shape`` (n × 2) placed at each of ``positions`` (m × 2) moved by ``offset``, as one
        record. The same arrays again (another die) reuse the modal point list and repetition."""
        if shape is not self.arrays[0]:
            deltas = np.diff(shape, axis=0)
            self.encoded[0] = b"\x04" + _uint(len(deltas)) + _gdeltas(deltas)
        if positions is not self.arrays[1]:
            steps = np.diff(positions, axis=0)
            self.encoded[1] = (
                b"\x0a" + _uint(len(positions) - 2) + _gdeltas(steps) if len(steps) else b""
            )
        self.arrays = (shape, positions)
        points, repetition = self.encoded
        info, body = 0x1B, _uint(layer) + _uint(datatype)  # X Y D L
        if points != self.shape:
            info |= 0x20
            body += points
            self.shape = points
        body += _sint(int(positions[0, 0] + shape[0, 0]) + offset[0])
        body += _sint(int(positions[0, 1] + shape[0, 1]) + offset[1])
        if repetition:
            info |= 0x04
            body += b"\x00" if repetition == self.repetition else repetition
            self.repetition = repetition
        self._record(bytes([21, info]) + body)

    def text(self, text: str, x: int, y: int, layer: int, texttype: int) -> None:
        """A TEXT record (a label for people, not drawn)."""
        body = _string(text) + _uint(layer) + _uint(texttype) + _sint(x) + _sint(y)
        self._record(bytes([19, 0x5B]) + body)  # C X Y T L

    def close(self) -> None:
        self._flush()
        head = b"\x02"
        padding = _END_BYTES - len(head) - 2 - 1 - 4  # the padding's length takes 2 bytes
        self._emit(head + _uint(padding) + bytes(padding) + b"\x01")
        self.out.write(struct.pack("<I", self.crc))
