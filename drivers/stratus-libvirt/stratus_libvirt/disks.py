"""A guest's disk files: qcow2 overlays on cached images, blank local disks, config drives.

Every tool runs as a subprocess (``qemu-img`` from Debian's qemu-utils, ``genisoimage``);
their failures become :class:`~stratus.exceptions.Invalid` when the input is at fault (an
image qemu-img cannot read, a disk that would shrink) and
:class:`~stratus.exceptions.BackendUnavailable` otherwise.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass

from stratus.exceptions import BackendUnavailable, Invalid, MissingDependency

GiB = 1024 ** 3
#: formats a root disk may be an overlay on; others are refused rather than probed further
BASE_FORMATS = ("raw", "qcow2")


def _run(args: list[str], what: str, invalid: bool = False) -> str:
    try:
        done = subprocess.run(args, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise MissingDependency(args[0], f"install it for {what} (Debian: qemu-utils, genisoimage)") from exc
    if done.returncode != 0:
        message = f"{what} failed: {done.stderr.strip() or done.stdout.strip()}"
        raise Invalid(message) if invalid else BackendUnavailable(message)
    return done.stdout


@dataclass(frozen=True, slots=True)
class ImageFile:
    format: str
    virtual_size: int


def inspect(path: str) -> ImageFile:
    """The format and virtual size of a cached image.

    :raises Invalid: qemu-img cannot read it, its format is not raw or qcow2, or it is a qcow2
        that names a backing or data file (an image must never make the host open another file).
    """
    info = json.loads(_run(["qemu-img", "info", "--output=json", path], "reading the image", invalid=True))
    found = info.get("format", "")
    if found not in BASE_FORMATS:
        raise Invalid(f"Image format {found!r} is not supported by the libvirt driver (raw or qcow2).")
    specific = info.get("format-specific", {}).get("data", {})
    if info.get("backing-filename") or info.get("full-backing-filename") or specific.get("data-file"):
        raise Invalid("The image names a backing or data file; such images are refused.")
    return ImageFile(found, int(info["virtual-size"]))


def virtual_size(path: str) -> int:
    info = json.loads(_run(["qemu-img", "info", "-U", "--output=json", path], "reading a disk"))
    return int(info["virtual-size"])


def link_or_copy(source: str, target: str) -> None:
    """``target`` as another name of ``source``'s data (a hard link; a copy across file systems).

    A guest's disk reads its image through its own link, so the image's data lives exactly as long
    as a cache or a guest still names it, and no cache can pull it from under a running guest.
    """
    try:
        os.link(source, target)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK):
            raise
        shutil.copyfile(source, target)


def create_overlay(base: ImageFile, base_path: str, path: str, size: int) -> None:
    """A qcow2 disk at ``path`` whose unwritten blocks read from ``base_path`` (a file in the same
    directory, named relatively so the pair can move), ``size`` bytes."""
    if size < base.virtual_size:
        raise Invalid(f"Flavor's disk is too small for requested image ({base.virtual_size} bytes needed).")
    _run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", base.format, "-b", os.path.basename(base_path),
          path, str(size)], "creating the root disk")


def create_blank(path: str, size: int) -> None:
    _run(["qemu-img", "create", "-q", "-f", "qcow2", path, str(size)], "creating a local disk")


def grow(path: str, size: int) -> None:
    """Grow the disk to ``size`` bytes. :raises Invalid: it would shrink."""
    if size < virtual_size(path):
        raise Invalid("Resizing to a smaller disk is not supported.")
    _run(["qemu-img", "resize", "-q", path, str(size)], "growing the disk")


def convert(source: str, target: str, compress: bool = False) -> None:
    """A standalone qcow2 copy of ``source`` (a running guest's disk may be read: ``-U``)."""
    _run(["qemu-img", "convert", "-U", "-O", "qcow2", *(["-c"] if compress else []), source, target],
         "copying the disk")


def config_drive(files: Mapping[str, bytes], path: str) -> None:
    """An ISO 9660 image labelled ``config-2`` holding ``files`` (relative paths), as Nova's."""
    with tempfile.TemporaryDirectory(prefix="config-drive-") as tree:
        for name, content in files.items():
            target = os.path.normpath(os.path.join(tree, name))
            if not target.startswith(tree + os.sep):
                raise Invalid(f"Config drive path {name!r} leaves the drive.")
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as handle:
                handle.write(content)
        _run(["genisoimage", "-o", path, "-ldots", "-allow-lowercase", "-allow-multidot", "-l", "-quiet",
              "-J", "-r", "-V", "config-2", tree], "building the config drive")


def supports_direct_io(directory: str) -> bool:
    """Whether files in ``directory`` can be opened with O_DIRECT (cache mode ``none`` needs it)."""
    os.makedirs(directory, exist_ok=True)
    probe = os.path.join(directory, ".direct-io-probe")
    try:
        fd = os.open(probe, os.O_CREAT | os.O_WRONLY | os.O_DIRECT, 0o600)
    except OSError as exc:
        if exc.errno == errno.EINVAL:
            return False
        raise
    else:
        os.close(fd)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(probe)


def remove_tree(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)
