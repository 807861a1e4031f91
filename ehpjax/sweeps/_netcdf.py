"""A streaming NetCDF-3 writer (64-bit offset format): memory independent of the data size.

xarray's own writers hold every variable in memory before writing; a sweep's results can
be larger than memory, so this writer takes each variable as a function returning slices
of its flat values and writes them slab by slab. The files are plain NetCDF-3, read by
``xarray.open_dataset`` (scipy engine) and every NetCDF library.
"""

from __future__ import annotations

import struct
from typing import Callable

import numpy as np

_NC_CHAR, _NC_INT, _NC_DOUBLE = 2, 4, 6
_DIMENSION, _VARIABLE, _ATTRIBUTE = 0x0A, 0x0B, 0x0C
SLAB = 1 << 16  # values per write (0.5 MB)


def _int(n: int) -> bytes:
    return struct.pack(">i", n)


def _padded(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % 4)


def _name(text: str) -> bytes:
    raw = text.encode("utf-8")
    return _int(len(raw)) + _padded(raw)


def _attributes(attrs: dict) -> bytes:
    if not attrs:
        return _int(0) + _int(0)
    out = [_int(_ATTRIBUTE), _int(len(attrs))]
    for key, value in attrs.items():
        out.append(_name(key))
        if isinstance(value, str):
            raw = value.encode("utf-8")
            out += [_int(_NC_CHAR), _int(len(raw)), _padded(raw)]
        elif isinstance(value, (bool, int, np.integer)) and -2**31 <= int(value) < 2**31:
            out += [_int(_NC_INT), _int(1), struct.pack(">i", int(value))]
        else:
            out += [_int(_NC_DOUBLE), _int(1), struct.pack(">d", float(value))]
    return b"".join(out)


def write(path: str, dims: dict[str, int], variables: list[tuple[str, tuple, dict, Callable]], attrs: dict) -> None:
    """Write a NetCDF-3 file.

    dims: name → length; variables: (name, dimension names, attributes, read) with
    ``read(start, stop)`` returning float64 values [start, stop) of the variable in C order.
    """
    dim_ids = {name: i for i, name in enumerate(dims)}
    sizes = [int(np.prod([dims[d] for d in vdims])) for _, vdims, _, _ in variables]

    def header(begins: list[int]) -> bytes:
        out = [b"CDF\x02", _int(0)]  # 64-bit offsets; no record dimension
        out += [_int(_DIMENSION), _int(len(dims))] if dims else [_int(0), _int(0)]
        for name, length in dims.items():
            out += [_name(name), _int(length)]
        out.append(_attributes(attrs))
        out += [_int(_VARIABLE), _int(len(variables))] if variables else [_int(0), _int(0)]
        for (name, vdims, vattrs, _), size, begin in zip(variables, sizes, begins):
            out += [_name(name), _int(len(vdims)), *(_int(dim_ids[d]) for d in vdims), _attributes(vattrs),
                    _int(_NC_DOUBLE), _int(min(8 * size, 0xFFFFFFFF)), struct.pack(">q", begin)]
        return b"".join(out)

    offset = len(header([0] * len(variables)))
    begins = []
    for size in sizes:
        begins.append(offset)
        offset += 8 * size
    with open(path, "wb") as fh:
        fh.write(header(begins))
        for (_, _, _, read), size in zip(variables, sizes):
            for start in range(0, size, SLAB):
                stop = min(start + SLAB, size)
                fh.write(np.asarray(read(start, stop), dtype=">f8").tobytes())
        fh.flush()
