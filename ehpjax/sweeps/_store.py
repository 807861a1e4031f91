"""Results of finished chunks: in memory, or in a checkpoint folder that survives a kill.

A checkpoint folder holds one ``NAME.npy`` file per output (float64, the whole sweep,
written chunk by chunk with positioned writes, so memory does not grow with the sweep) and
``sweep.json``: the sweep's fingerprint, the output names and, per finished chunk, a sha256
checksum of its values. The json file is replaced atomically after each chunk's values are
on disk, so a kill at any moment loses at most the chunk being computed. The files are
fsync'ed at most every ``SYNC_SECONDS`` (a power loss may lose that much work: what did not
reach the disk fails its checksum on resume and is computed again).

On resume every chunk is verified: headers (dtype, shape), file lengths and checksums. A
damaged chunk (a truncated or rewritten file, an edited value, a chunk marked finished
without its data) is dropped with a warning naming it, and computed again.

The folder is the sweep's own: it must be new, empty, or a checkpoint this class wrote.
Only the files it creates are ever written or removed, and the folder itself only if it
created it.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings

import numpy as np

from ._atomic import fsync_dir, write_atomic
from ._spec import SweepError

_META = "sweep.json"
SYNC_SECONDS = 10.0
_DTYPE = np.dtype("<f8")


def _npy_header(size: int) -> bytes:
    """The .npy header of a little-endian float64 vector of ``size`` values (format 1.0)."""
    import io

    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": _DTYPE.str, "fortran_order": False, "shape": (size,)})
    return buffer.getvalue()


class ChunkStore:
    """Chunk results of one sweep (``folder=None``: in memory only; ``keep=False`` as well:
    only which chunks are done, for a process whose results another one writes)."""

    def __init__(self, folder, fingerprint: str, names: list[str], size: int, chunk: int, keep: bool = True):
        self.folder = None if folder is None else os.fspath(folder)
        self.names, self.size, self.chunk = list(names), size, chunk
        self.n_chunks = -(-size // chunk)
        self.checksums: dict[int, str] = {}
        self._files: dict[str, int] = {}
        self.keeps = keep or self.folder is not None
        if self.folder is None:
            self._arrays = {k: np.full(size if keep else 0, np.nan) for k in names}
            return
        self._info = {"fingerprint": fingerprint, "size": size, "chunk": chunk, "names": self.names}
        self._synced = time.monotonic()
        self._header = _npy_header(size)
        self._open()

    # -- folder handling -------------------------------------------------------------
    def _path(self, name: str) -> str:
        return os.path.join(self.folder, name)

    def _open(self):
        meta_path = self._path(_META)
        created = not os.path.lexists(self.folder)
        if not created and not os.path.isdir(self.folder):
            raise SweepError(f"checkpoint {self.folder!r} exists and is not a folder")
        if not created and not os.path.exists(meta_path) and os.listdir(self.folder):
            raise SweepError(f"checkpoint folder {self.folder!r} is not empty and was not written by ehpjax.sweep; "
                             "give a new or empty folder (nothing in it was touched)")
        saved = None
        if os.path.exists(meta_path):
            try:
                with open(meta_path) as fh:
                    saved = json.load(fh)
                created = bool(saved.get("created_folder", False))
            except (OSError, ValueError):
                warnings.warn(f"checkpoint {self.folder!r}: {_META} is unreadable; starting afresh", RuntimeWarning,
                              stacklevel=4)
                self._remove_own_files(self.names)
                saved = None
        if saved is not None and {k: saved.get(k) for k in self._info} != self._info:
            warnings.warn(f"checkpoint {self.folder!r} belongs to a different sweep (other values, outputs or "
                          "settings); its files are replaced", RuntimeWarning, stacklevel=4)
            self._remove_own_files(saved.get("names", []))
            saved = None
        os.makedirs(self.folder, exist_ok=True)
        self._created_folder = created
        damaged = set()
        for name in self.names:
            if not self._open_file(name):
                damaged.add(name)
        if saved is not None:
            self.checksums = {int(i): c for i, c in saved.get("chunks", {}).items()}
            self._verify(damaged)
        self._save_meta()
        if created:
            fsync_dir(os.path.dirname(os.path.abspath(self.folder)))

    def _open_file(self, name: str) -> bool:
        """Open (creating if needed) ``name.npy``; False if it had to be (re)created."""
        path = self._path(f"{name}.npy")
        expected = len(self._header) + self.size * _DTYPE.itemsize
        intact = False
        if os.path.isfile(path):
            with open(path, "rb") as fh:
                intact = fh.read(len(self._header)) == self._header
        if not intact:
            with open(path, "wb") as fh:  # a new file, or one whose header is not ours (dtype, shape)
                fh.write(self._header)
        fd = os.open(path, os.O_RDWR)
        if os.fstat(fd).st_size != expected:  # truncated (or grown): the lost values fail their checksums
            os.ftruncate(fd, expected)
        self._files[name] = fd
        return intact

    def _verify(self, damaged: set):
        bad = []
        for i in sorted(self.checksums):
            if not 0 <= i < self.n_chunks or self._checksum(i) != self.checksums[i]:
                bad.append(i)
        for i in bad:
            self.checksums.pop(i, None)
        if bad or damaged:
            what = f"file(s) {', '.join(sorted(f'{k}.npy' for k in damaged))} rewritten; " if damaged else ""
            listed = ", ".join(f"{i} (points {i * self.chunk}–{min((i + 1) * self.chunk, self.size) - 1})"
                               for i in bad[:10]) + (" …" if len(bad) > 10 else "")
            warnings.warn(f"checkpoint {self.folder!r} is damaged: {what}{len(bad)} chunk(s) fail their checksum and "
                          f"are computed again: {listed or 'none'}", RuntimeWarning, stacklevel=5)

    def _save_meta(self, durable: bool = True):
        document = {**self._info, "created_folder": self._created_folder,
                    "chunks": {str(i): c for i, c in sorted(self.checksums.items())}}
        write_atomic(self._path(_META), json.dumps(document).encode(), durable)

    def _remove_own_files(self, names):
        for name in [*(f"{k}.npy" for k in names), _META, f".{_META}.tmp"]:
            path = self._path(name)
            if os.path.isfile(path) and not os.path.islink(path):
                os.remove(path)

    # -- chunks ------------------------------------------------------------------------
    def _span(self, i: int) -> tuple[int, int]:
        return i * self.chunk, min((i + 1) * self.chunk, self.size)

    def _checksum(self, i: int) -> str:
        digest = hashlib.sha256()
        start, stop = self._span(i)
        for name in self.names:
            digest.update(self.read(name, start, stop).tobytes())
        return digest.hexdigest()

    def done(self, i: int) -> bool:
        return i in self.checksums

    def done_mask(self) -> np.ndarray:
        mask = np.zeros(self.n_chunks, dtype=bool)
        mask[list(self.checksums)] = True
        return mask

    def points_done(self) -> int:
        return sum(self._span(i)[1] - self._span(i)[0] for i in self.checksums)

    def write(self, i: int, values: dict):
        """Store chunk ``i`` (values: name → array of its points); on disk before it counts as done."""
        start, stop = self._span(i)
        digest = None if self.folder is None else hashlib.sha256()  # (a checkpoint's chunks are verified on resume)
        for name in self.names:
            v = np.ascontiguousarray(values[name], dtype=_DTYPE)
            if v.shape != (stop - start,):
                raise SweepError(f"output {name!r} has shape {v.shape[1:]} per point; sweeps need scalar outputs")
            if self.folder is None:
                if self.keeps:
                    self._arrays[name][start:stop] = v
            else:
                digest.update(v.tobytes())
                os.pwrite(self._files[name], v.tobytes(), len(self._header) + start * _DTYPE.itemsize)
        self.checksums[i] = "" if digest is None else digest.hexdigest()
        if self.folder is not None:
            durable = time.monotonic() - self._synced > SYNC_SECONDS
            if durable:
                for fd in self._files.values():
                    os.fdatasync(fd)
                self._synced = time.monotonic()
            self._save_meta(durable)  # only after the values are written

    def read(self, name: str, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Values of points [start, stop) of output ``name`` (a fresh array)."""
        stop = self.size if stop is None else stop
        if self.folder is None:
            return self._arrays[name][start:stop].copy()
        raw = os.pread(self._files[name], (stop - start) * _DTYPE.itemsize,
                       len(self._header) + start * _DTYPE.itemsize)
        out = np.frombuffer(raw, dtype=_DTYPE).copy()
        if out.size != stop - start:  # a file cut short under our feet
            out = np.concatenate([out, np.zeros(stop - start - out.size)])
        return out

    def close(self, remove: bool = False):
        """Close the files; with ``remove``, delete the checkpoint's own files, and its
        folder if this class created it and it is now empty."""
        for fd in self._files.values():
            if not remove:
                os.fdatasync(fd)
            os.close(fd)
        if self._files and not remove:
            self._save_meta(durable=True)
        self._files = {}
        if remove and self.folder is not None:
            self._remove_own_files(self.names)
            if self._created_folder and os.path.isdir(self.folder) and not os.listdir(self.folder):
                os.rmdir(self.folder)
