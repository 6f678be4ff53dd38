"""The dojang SDK for Python: the wallet and the offline verifier (generated bindings over
libdojang_mobile; see docs/mobile.md). The shared library must sit beside dojang_mobile.py."""

from .dojang_mobile import *  # noqa: F401,F403
