"""The o2c command explains a database that has not been migrated yet."""

import os
import subprocess
import sys
from pathlib import Path


def test_command_before_migrate_says_to_migrate(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "O2C_DATABASE_URL"}
    env["O2C_DATA_DIR"] = str(tmp_path)
    command = Path(sys.executable).parent / "o2c"

    finished = subprocess.run(
        [str(command), "bank", "account", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert finished.returncode == 1
    assert "Run `o2c migrate` first" in finished.stderr
    assert "Traceback" not in finished.stderr
