"""Rewrites web/vendor/ from the npm registry: `python -m web.update`.

For each pinned package: its metadata from https://registry.npmjs.org/<name>/<version>,
its tarball checked against the published `dist.integrity` (sha512 SRI), and only the files
the page needs taken out of it. Every tarball is verified before anything is written; a
mismatch stops the update. web/vendor/manifest.json records package, version, tarball
integrity and each file's sha256 and size. Run by hand to change a version; never at run
time.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import sys
import tarfile
import urllib.request
from pathlib import Path
from typing import Any, NamedTuple

REGISTRY = "https://registry.npmjs.org"
VENDOR = Path(__file__).resolve().parent / "vendor"
MANIFEST = VENDOR / "manifest.json"


class Pin(NamedTuple):
    package: str
    version: str
    files: tuple[str, ...]  # paths inside the tarball's package/ folder


# GraphiQL 3's UMD build expects React and ReactDOM as globals and bundles graphql-ws
# (subscriptions over WebSocket through `createFetcher({subscriptionUrl})`).
PINS = (
    Pin("react", "18.3.1", ("umd/react.production.min.js", "LICENSE")),
    Pin("react-dom", "18.3.1", ("umd/react-dom.production.min.js", "LICENSE")),
    Pin("graphiql", "3.9.0", ("graphiql.min.js", "graphiql.min.css", "LICENSE")),
)


class IntegrityError(Exception):
    """A tarball is not what the registry published."""


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        body: bytes = response.read()
    return body


def verify(tarball: bytes, integrity: str) -> None:
    """Refuses `tarball` unless it matches the registry's sha512 SRI string."""
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512":
        raise IntegrityError(f"expected a sha512 integrity, got {integrity!r}")
    actual = base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    if actual != expected:
        raise IntegrityError(f"tarball sha512-{actual} does not match {integrity}")


def extract(tarball: bytes, wanted: tuple[str, ...]) -> dict[str, bytes]:
    """The `wanted` files of an npm tarball (everything sits under `package/`)."""
    found: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for name in wanted:
            try:
                member = archive.extractfile(f"package/{name}")
            except KeyError:
                member = None
            if member is None:
                raise IntegrityError(f"the tarball has no file package/{name}")
            found[name] = member.read()
    return found


def fetch(pin: Pin) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest entry of `pin` and its files (by vendored path), verified."""
    meta = json.loads(_get(f"{REGISTRY}/{pin.package}/{pin.version}"))
    dist = meta["dist"]
    tarball = _get(dist["tarball"])
    verify(tarball, dist["integrity"])
    folder = f"{pin.package}@{pin.version}"
    files = {
        f"{folder}/{Path(name).name}": data for name, data in extract(tarball, pin.files).items()
    }
    entry = {
        "package": pin.package,
        "version": pin.version,
        "tarball": dist["tarball"],
        "integrity": dist["integrity"],
        "files": [
            {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for path, data in files.items()
        ],
    }
    return entry, files


def write(entries: list[dict[str, Any]], files: dict[str, bytes]) -> None:
    for old in VENDOR.glob("*@*"):  # the folders of versions no longer pinned
        shutil.rmtree(old)
    for path, data in files.items():
        (VENDOR / path).parent.mkdir(parents=True, exist_ok=True)
        (VENDOR / path).write_bytes(data)
    MANIFEST.write_text(json.dumps({"packages": entries}, indent=2) + "\n")


def main() -> int:
    entries: list[dict[str, Any]] = []
    files: dict[str, bytes] = {}
    try:
        for pin in PINS:
            entry, found = fetch(pin)
            entries.append(entry)
            files |= found
    except IntegrityError as exc:
        sys.stderr.write(f"web.update: refused, nothing written: {exc}\n")
        return 1
    write(entries, files)
    total = sum(len(data) for data in files.values())
    sys.stdout.write(f"web/vendor: {len(files)} files, {total:,} bytes\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
