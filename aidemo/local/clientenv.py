"""What an app the kit did not write needs in its environment to use the local service.

The SDK's Rust core (and any ``requests``-based client) must trust the service's CA:
``SSL_CERT_FILE`` / ``REQUESTS_CA_BUNDLE`` name the home's ``trust.pem`` (the system roots
plus that CA). The SDK's connection settings are in the home's ``profile.json``
(``profile_json=`` or a copy next to the app). Nothing else: file-mode uploads reach the
service because its pipe-info names it as the stage's S3 endpoint, whatever
``AWS_ENDPOINT_URL*`` says.
"""

from __future__ import annotations

import os
import shlex
import subprocess

from aidemo.local.home import ServiceHome


def client_env(home: ServiceHome) -> dict[str, str]:
    """The variables an outside app needs for the service of ``home``."""
    trust = str(home.trust_bundle)
    return {
        "SSL_CERT_FILE": trust,
        "REQUESTS_CA_BUNDLE": trust,
        "AIDEMO_HOME": str(home.root),
    }


def exports(home: ServiceHome, url: str) -> str:
    """Shell lines that set :func:`client_env`, with comments saying where the profile is."""
    lines = [f"# local Snowpipe Streaming service at {url}"]
    lines += [
        f"export {name}={shlex.quote(value)}"
        for name, value in client_env(home).items()
    ]
    lines.append(
        f"# SDK profile (account, user, url, private_key, role): {home.profile}"
    )
    lines.append(
        "#   pass it as profile_json=..., or copy it next to your app as profile.json"
    )
    return "\n".join(lines)


def run(home: ServiceHome, command: list[str]) -> int:
    """Run ``command`` with :func:`client_env` added to this process's environment; its exit code."""
    return subprocess.run(
        command, env={**os.environ, **client_env(home)}, check=False
    ).returncode
