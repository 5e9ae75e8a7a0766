"""Helpers of the report tests: JUnit files derived from a real audit, the nightly command, headless
Chromium (Debian's), and a PNG reader to tell a rendered page from a blank one."""
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def synth_junit(path, arch, failing=None, lags=None):
    """A JUnit file as the suite writes it, for every check and target the spec gives today: the
    properties requirement, severity, machine (and lag_minutes where `lags` has the target), a failure
    with its message for each (requirement, target) of `failing`."""
    from reports.elements import live_checks
    from specs import load_requirements
    catalogue, failing, lags = load_requirements(), failing or {}, lags or {}
    suite = ET.Element("testsuite", name="pytest")
    for module, name, marks in live_checks():
        if "targets" not in marks or "requirement" not in marks:
            continue
        req = catalogue[marks["requirement"].args[0]]
        over, reads = marks["targets"].args
        for target in over(arch):
            tc = ET.SubElement(suite, "testcase", classname=f"checks.{module}", name=f"{name}[{target}]", time="0.002")
            props = ET.SubElement(tc, "properties")
            values = [("requirement", req.id), ("severity", req.severity), ("machine", ",".join(reads(target, arch)))]
            if req.id == "ZFS-2" and str(target) in lags:
                values.append(("lag_minutes", str(lags[str(target)])))
            for key, value in values:
                ET.SubElement(props, "property", name=key, value=value)
            message = failing.get((req.id, str(target)))
            if message:
                ET.SubElement(tc, "failure", message="Failed: " + message).text = message
    root = ET.Element("testsuites", name="pytest tests")
    root.append(suite)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def lab_like_faults(arch):
    """What the lab's replica-stale and psk-world-readable faults turn red, from the spec: ZFS-2 on
    every replica received by the first replica's host (8 h late), NET-4 on the first link's server."""
    stale_host = arch.replicas()[0].target
    link = arch.links()[0]
    lags = {str(r): (480.8 if r.target == stale_host else 0.8) for r in arch.replicas()}
    failing = {("ZFS-2", str(r)): f"replica {r}:\n  - the newest snapshot received is 8.0 h old; expected within "
               f"{arch.spec.replication.max_lag_minutes} min: check syncoid on {r.target}"
               for r in arch.replicas() if r.target == stale_host}
    failing[("NET-4", link.server.name)] = (f"container {link.server.name}:\n  - PSK file {link.psk_path} is mode 644 "
                                            "owner root:root; expected root-owned: chmod 600")
    return failing, lags


def junit_failures(path):
    """{(requirement, test name)} of the failing or erroring cases of a JUnit file."""
    out = set()
    for tc in ET.parse(path).getroot().iter("testcase"):
        if tc.find("failure") is not None or tc.find("error") is not None:
            props = {p.get("name"): p.get("value") for p in tc.iter("property")}
            out.add((props.get("requirement"), tc.get("name")))
    return out


def derive(src, dst, fix=(), message=None):
    """A copy of a JUnit file where the failures of the requirements in `fix` passed, and (when
    `message` is given) every failure's text is replaced by it (evidence planted by a test)."""
    tree = ET.parse(src)
    for tc in tree.getroot().iter("testcase"):
        props = {p.get("name"): p.get("value") for p in tc.iter("property")}
        failure = tc.find("failure")
        if failure is None:
            continue
        if props.get("requirement") in fix:
            tc.remove(failure)
        elif message is not None:
            failure.set("message", message)
            failure.text = message
    tree.write(dst, encoding="utf-8", xml_declaration=True)
    return dst


def nightly(*args):
    return subprocess.run([sys.executable, "-m", "reports.nightly", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True)


def chromium():
    path = shutil.which("chromium")
    assert path, "Debian's chromium is not installed: run `bash bin/setup`"
    return path


def render_in_chromium(html, png, size="1400,2400"):
    """Open the page in headless Chromium: (screenshot written, DOM after rendering, Chromium's log)."""
    profile = Path(png).parent / "chromium-profile"  # its own profile: runs in parallel do not share a lock
    common = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
              "--no-first-run", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", f"--window-size={size}"]
    shot = subprocess.run([*common, f"--screenshot={png}", Path(html).resolve().as_uri()],
                          capture_output=True, text=True, timeout=120)
    dom = subprocess.run([*common, "--dump-dom", Path(html).resolve().as_uri()], capture_output=True, text=True, timeout=120)
    return dom.stdout, shot.stderr + dom.stderr


def console_errors(log):
    """Console messages, uncaught errors and failed loads in Chromium's log."""
    return [line for line in log.splitlines() if re.search(r":CONSOLE[:(]|Uncaught|Failed to load resource|ERR_FILE_NOT_FOUND", line)]


def png_pixels(path):
    """(width, height, {colour: count}) of an 8-bit RGB/RGBA PNG, rows unfiltered as the spec says."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour_type = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour_type in (2, 6), f"unexpected PNG format {depth}/{colour_type}"
            bpp = 4 if colour_type == 6 else 3
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride = zlib.decompress(idat), width * bpp
    prev, colours = bytearray(stride), {}
    for y in range(height):
        f, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = row[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                row[i] = (row[i] + a) & 255
            elif f == 2:
                row[i] = (row[i] + b) & 255
            elif f == 3:
                row[i] = (row[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        if y % 4 == 0:  # a sample of the rows is enough to count colours
            for x in range(0, stride, bpp * 2):
                key = bytes(row[x:x + 3])
                colours[key] = colours.get(key, 0) + 1
        prev = row
    return width, height, colours
