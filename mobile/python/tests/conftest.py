"""Loads the generated package with the host build of the library beside it, and runs a real
`dojang up` for the tests (target/debug of the workspace, or DOJANG_TARGET)."""

import importlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import threading
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
TARGET = pathlib.Path(os.environ.get("DOJANG_TARGET", ROOT / "target" / "debug"))


@pytest.fixture(scope="session")
def sdk(tmp_path_factory):
    """The `dojang_mobile` package, imported from a copy with libdojang_mobile.so beside it."""
    library = TARGET / "libdojang_mobile.so"
    if not library.exists():
        pytest.fail(f"no {library}: run `cargo build -p dojang-mobile` first")
    site = tmp_path_factory.mktemp("site")
    package = site / "dojang_mobile"
    shutil.copytree(pathlib.Path(__file__).resolve().parents[1] / "dojang_mobile", package)
    shutil.copy(library, package / "libdojang_mobile.so")
    sys.path.insert(0, str(site))
    return importlib.import_module("dojang_mobile")


class Platform:
    """A real `dojang up` on a temporary directory and a free port."""

    def __init__(self, directory):
        self.dir = directory
        data = directory / "data"
        self.process = subprocess.Popen(
            [str(TARGET / "dojang"), "up", "--data-dir", str(data), "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        first = self.process.stdout.readline()
        self.base = first.split("listening on ", 1)[1].strip()
        threading.Thread(target=self.process.stdout.read, daemon=True).start()
        self.token = (data / "demo-token").read_text().strip()

    def get(self, path):
        with urllib.request.urlopen(self.base + path) as answer:
            return answer.read()

    def offer(self, type_id):
        request = urllib.request.Request(
            self.base + "/console/api/offers",
            data=json.dumps({"type": type_id}).encode(),
            headers={"authorization": "Bearer " + self.token, "content-type": "application/json"},
        )
        with urllib.request.urlopen(request) as answer:
            return json.load(answer)

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture(scope="session")
def platform(tmp_path_factory):
    running = Platform(tmp_path_factory.mktemp("platform"))
    yield running
    running.stop()
