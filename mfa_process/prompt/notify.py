"""Tell the person something (touch the key) where they can see it while no prompt is shown.

The terminal if there is one, else a desktop notification (zenity, kdialog); nowhere if neither
exists: a notice is a courtesy, never a reason to fail.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Mapping

from ..system.console import Console
from ..system.native_dialog import has_display


def notify(text: str, environ: Mapping[str, str]) -> None:
    try:
        with Console() as console:
            console.write(text + "\n")
            return
    except OSError:
        pass
    if has_display(environ):
        for argv in (["zenity", "--notification", f"--text={text}"], ["kdialog", "--passivepopup", text, "10"]):
            if shutil.which(argv[0]):
                subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                return
