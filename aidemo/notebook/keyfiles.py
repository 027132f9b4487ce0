"""00_setup's key step: a key pair for a real account, written outside the project."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from aidemo.errors import ConfigError
from aidemo.notebook.walkthrough import SOURCE_CHECKOUT

if TYPE_CHECKING:
    from aidemo.backends.keys import KeyPair


def write_key_pair(keys: KeyPair, directory: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """Write ``rsa_key.p8`` (owner-only) and ``rsa_key.pub`` into ``directory`` (None: a new temporary one).

    Refuses a directory inside the kit's source checkout, when it runs from one: keys never
    belong in the repository. Point ``profile.json`` (itself outside version control) at the
    private key's text.
    """
    target = Path(directory or tempfile.mkdtemp(prefix="aidemo-keys-")).expanduser().resolve()
    if SOURCE_CHECKOUT and (target == SOURCE_CHECKOUT or SOURCE_CHECKOUT in target.parents):
        raise ConfigError(
            f"KEY_DIR {str(target)!r} is inside the project ({SOURCE_CHECKOUT}); "
            "choose a directory outside it so that keys are never committed"
        )
    target.mkdir(parents=True, exist_ok=True)
    private, public = target / "rsa_key.p8", target / "rsa_key.pub"
    private.touch(mode=0o600, exist_ok=True)
    private.chmod(0o600)
    private.write_text(keys.private_key_pem)
    public.write_text(keys.public_key_pem)
    return private, public
