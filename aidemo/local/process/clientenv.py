"""What an app the kit did not write needs in its environment to use the local service.

The SDK's Rust core (and any ``requests``-based client) must trust the service's CA:
``SSL_CERT_FILE`` / ``REQUESTS_CA_BUNDLE`` name the home's ``trust.pem`` (the system roots
plus that CA). The SDK's connection settings are in the home's ``profile.json``
(``profile_json=`` or a copy next to the app). SDK 1.8 and later send file-mode uploads
where pipe-info's stage location says (the service itself); SDK 1.7.x ignores that field
and needs ``AWS_ENDPOINT_URL_S3`` pointing at the service, which 1.8+ then ignores.
"""

from __future__ import annotations

import os
import shlex
import subprocess

from aidemo.local.process.home import ServiceHome


def client_env(home: ServiceHome, url: str) -> dict[str, str]:
    """The variables an outside app needs for the service of ``home`` listening at ``url``."""
    trust = str(home.trust_bundle)
    return {
        "SSL_CERT_FILE": trust,
        "REQUESTS_CA_BUNDLE": trust,
        "AWS_ENDPOINT_URL_S3": url,  # file mode of SDK 1.7.x only
        "AIDEMO_HOME": str(home.root),
    }


def exports(home: ServiceHome, url: str) -> str:
    """Shell lines that set :func:`client_env`, with comments saying where the profile is."""
    lines = [f"# local Snowpipe Streaming service at {url}"]
    lines += [f"export {k}={shlex.quote(v)}" for k, v in client_env(home, url).items()]
    lines.append(f"# SDK profile (account, user, url, private_key, role): {home.profile}")
    lines.append("#   pass it as profile_json=..., or copy it next to your app as profile.json")
    return "\n".join(lines)


def run(home: ServiceHome, url: str, command: list[str]) -> int:
    """Run ``command`` with :func:`client_env` added to this process's environment; its exit code."""
    env = {**os.environ, **client_env(home, url)}
    return subprocess.run(command, env=env, check=False).returncode
