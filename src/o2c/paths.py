"""Locate the folders o2c reads and writes, from the environment."""

import os
import secrets
import time
from pathlib import Path

# The project's own shipped files (real sample data, demo inputs) sit beside `src/`.
PROJECT_DIR = Path(__file__).resolve().parents[2]
SHIPPED_DATA_DIR = PROJECT_DIR / "data"


def data_dir() -> Path:
    """Return the folder for the embedded database and the secret key, creating it.

    `O2C_DATA_DIR` overrides the default, which follows the XDG convention so that the
    database and the key live outside any checkout of the code.
    """
    configured = os.environ.get("O2C_DATA_DIR")
    if configured:
        folder = Path(configured)
    else:
        xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        folder = Path(xdg) / "o2c"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def secret_key() -> str:
    """Return `O2C_SECRET_KEY`, or a key generated once and kept in the data folder."""
    configured = os.environ.get("O2C_SECRET_KEY")
    if configured:
        return configured
    key_file = data_dir() / "secret_key"
    if not key_file.exists():
        # Create the file readable by its owner only, then write the key into it. When
        # two processes start at once, the one that loses the race reads the winner's key.
        try:
            descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(50))
    for _ in range(50):
        key = key_file.read_text().strip()
        if key:
            return key
        time.sleep(0.01)
    raise RuntimeError(f"{key_file} is empty; delete it so that a new key is generated.")
