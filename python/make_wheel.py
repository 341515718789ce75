#!/usr/bin/env python3
"""Builds the drop-in's wheel with the standard library only (no network,
no build backend), so that one `pip install FILE.whl` installs it.

    python3 make_wheel.py --out DIR [--helper PATH]

--helper records the path of the carto-auth program in the wheel
(carto_auth/_install.py); the installed package then finds the helper of
the prefix it came from even inside a virtual environment.  The wheel is
reproducible: same sources, same bytes.
"""

import argparse
import base64
import hashlib
import os
import re
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = "carto_auth"
NAME = "carto-auth"
SUMMARY = (
    "Drop-in for the carto-auth Python package over the carto-auth "
    "credential helper (standard library only)"
)
EPOCH = (1980, 1, 1, 0, 0, 0)


def version():
    with open(os.path.join(HERE, PACKAGE, "_version.py"), encoding="utf-8") as f:
        found = re.search(r'^__version__ = "([^"]+)"$', f.read(), re.M)
    if not found:
        sys.exit("make_wheel: no __version__ in _version.py")
    return found.group(1)


def metadata(ver):
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {NAME}",
        f"Version: {ver}",
        f"Summary: {SUMMARY}",
        "License: see the carto-auth sources",
        "Requires-Python: >=3.8",
        "Provides-Extra: carto-dw",
        'Requires-Dist: google-auth ; extra == "carto-dw"',
        'Requires-Dist: google-cloud-bigquery>=2.34.4 ; extra == "carto-dw"',
        "",
        "The Python interface of the carto-auth package (CartoAuth,",
        "CredentialsError), with tokens obtained, stored and renewed by the",
        "carto-auth program.",
        "",
    ]
    return "\n".join(lines)


def wheel_file():
    return "\n".join([
        "Wheel-Version: 1.0",
        "Generator: carto-auth make_wheel.py",
        "Root-Is-Purelib: true",
        "Tag: py3-none-any",
        "",
    ])


def digest(data):
    raw = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def main():
    parser = argparse.ArgumentParser(description="build the carto_auth wheel")
    parser.add_argument("--out", required=True, help="directory of the wheel")
    parser.add_argument("--helper", help="path of the carto-auth program to record")
    args = parser.parse_args()

    ver = version()
    files = {}
    src = os.path.join(HERE, PACKAGE)
    for name in sorted(os.listdir(src)):
        if name.endswith(".py") and name != "_install.py":
            with open(os.path.join(src, name), "rb") as f:
                files[f"{PACKAGE}/{name}"] = f.read()
    if args.helper:
        if any(c in args.helper for c in "\r\n\0"):
            sys.exit("make_wheel: the helper path holds a line break")
        files[f"{PACKAGE}/_install.py"] = (
            '"""Written when carto-auth was installed: its helper program."""\n\n'
            f"HELPER = {args.helper!r}\n"
        ).encode("utf-8")
    info = f"{PACKAGE}-{ver}.dist-info"
    files[f"{info}/METADATA"] = metadata(ver).encode("utf-8")
    files[f"{info}/WHEEL"] = wheel_file().encode("utf-8")
    files[f"{info}/top_level.txt"] = f"{PACKAGE}\n".encode("utf-8")
    record = "".join(f"{path},{digest(data)},{len(data)}\n" for path, data in files.items())
    record += f"{info}/RECORD,,\n"
    files[f"{info}/RECORD"] = record.encode("utf-8")

    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"{PACKAGE}-{ver}-py3-none-any.whl")
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as whl:
        for name, data in files.items():
            entry = zipfile.ZipInfo(name, date_time=EPOCH)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            whl.writestr(entry, data)
    os.replace(tmp, path)
    print(path)


if __name__ == "__main__":
    main()
