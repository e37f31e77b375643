"""Run pip-audit on the project virtualenv and decide, with the allow-list, pass or fail.

Usage (what ``make audit`` runs)::

    python security/audit.py --pip-audit .venv/audit/bin/pip-audit \\
        --site-packages .venv/lib/python3.11/site-packages \\
        --allowlist security/pip-audit-allowlist.txt

pip-audit asks PyPI's per-release JSON API (or OSV) for each installed version. Where
that answer is missing (a network that reaches PyPI's project pages but not the
per-release API or OSV), the audit falls back to PyPI's *project* JSON
(``--pypi-json-url``), whose ``vulnerabilities`` describe the latest release: a
distribution installed at its latest release is audited that way; any other stays
unaudited and is named.

Exit codes: 0 every installed distribution was audited and none has a known
vulnerability outside the allow-list; 1 vulnerabilities found (listed); 2 the allow-list
is malformed; 3 the audit is incomplete: the vulnerability service did not answer for
some distributions (named, with pip-audit's reason); ``--allow-incomplete`` turns that
into 0 with a warning (CI, whose network may not reach the vulnerability data).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import urllib.error
import urllib.request
from importlib import metadata
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_VULNERABLE, EXIT_BAD_ALLOWLIST, EXIT_INCOMPLETE = 0, 1, 2, 3
OWN = frozenset({"dqgate", "dqgate-native"})
"""This project's distributions (built from this repository, not from PyPI)."""


def read_allowlist(path: Path, today: dt.date) -> dict[str, str]:
    """Vulnerability id -> package, for entries whose end date has not passed."""
    allowed: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        parts = text.split(None, 3)
        if len(parts) < 4:
            raise ValueError(f"{path}:{number}: expected '<id> <package> <YYYY-MM-DD> <why>'")
        vuln_id, package, until, _why = parts
        if dt.date.fromisoformat(until) >= today:
            allowed[vuln_id] = package.lower()
        else:
            print(f"audit: allow-list entry {vuln_id} ({package}) expired on {until}")
    return allowed


def installed_versions(site_packages: str) -> dict[str, str]:
    """Normalised distribution name -> installed version, in ``site_packages``."""
    found: dict[str, str] = {}
    for dist in metadata.distributions(path=[site_packages]):
        name = dist.metadata["Name"]
        if name:
            found.setdefault(_normalise(name), dist.version)
    return found


def latest_release_vulns(
    base_url: str, name: str, version: str, timeout_s: float = 15.0
) -> tuple[list[dict[str, Any]] | None, str]:
    """PyPI's project JSON: (vulnerabilities, "") when ``version`` is the latest release.

    (None, why) when it is not, or the project JSON cannot be read.
    """
    url = f"{base_url.rstrip('/')}/{name}/json"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            project = json.load(response)
    except (OSError, urllib.error.URLError, ValueError) as exc:
        return None, f"project JSON unreadable ({exc})"
    latest = str(project.get("info", {}).get("version", ""))
    if latest != version:
        return None, f"installed {version}, latest {latest}: only the latest is described"
    vulns = [v for v in project.get("vulnerabilities") or [] if not v.get("withdrawn")]
    return [{"id": v.get("id"), "fix_versions": v.get("fixed_in") or []} for v in vulns], ""


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pip-audit", required=True)
    parser.add_argument("--site-packages", required=True)
    parser.add_argument("--allowlist", type=Path, required=True)
    parser.add_argument(
        "--pypi-json-url",
        default="https://pypi.org/pypi",
        help="PyPI's JSON API for the project-page fallback ('' turns it off)",
    )
    parser.add_argument(
        "--allow-incomplete",
        action="store_true",
        help="exit 0 (with a warning) when the service could not answer for some",
    )
    args = parser.parse_args(argv)
    try:
        allowed = read_allowlist(args.allowlist, dt.date.today())
    except (OSError, ValueError) as exc:
        print(f"audit: {exc}", file=sys.stderr)
        return EXIT_BAD_ALLOWLIST
    cmd = [args.pip_audit, "--path", args.site_packages, "--skip-editable"]
    cmd += ["--progress-spinner", "off", "--format", "json", "--output", "-"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        print(f"audit: pip-audit gave no report (exit {done.returncode}):\n{done.stderr}")
        return EXIT_INCOMPLETE
    found, skipped, audited, fallback = [], [], 0, 0
    versions = installed_versions(args.site_packages)
    for dep in report.get("dependencies", []):
        if _normalise(dep["name"]) in OWN:
            continue  # this project's own code, not a dependency
        if "skip_reason" in dep:
            version = versions.get(_normalise(dep["name"]))
            vulns, why = (None, "not installed") if version is None else (None, "")
            if version is not None and args.pypi_json_url:
                vulns, why = latest_release_vulns(args.pypi_json_url, dep["name"], version)
            if vulns is None:
                skipped.append(f"{dep['name']}: {dep['skip_reason']}; {why or 'no fallback'}")
                continue
            dep = {**dep, "version": version, "vulns": vulns}
            fallback += 1
        audited += 1
        for vuln in dep.get("vulns", []):
            if allowed.get(vuln["id"]) == dep["name"].lower():
                print(f"audit: allowed {vuln['id']} in {dep['name']} {dep['version']}")
                continue
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fixed version"
            found.append(f"{dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
    print(
        f"audit: {audited} distributions audited ({fallback} through PyPI's project JSON, "
        f"installed at their latest release), {len(skipped)} not auditable"
    )
    if found:
        print("audit: known vulnerabilities:\n  " + "\n  ".join(found))
        return EXIT_VULNERABLE
    if skipped:
        print("audit: INCOMPLETE, the vulnerability service gave no answer for:")
        print("  " + "\n  ".join(skipped))
        if args.allow_incomplete:
            print(f"audit: WARNING: {len(skipped)} distributions were NOT audited (see above)")
            return EXIT_OK
        return EXIT_INCOMPLETE
    print("audit: no known vulnerability")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
