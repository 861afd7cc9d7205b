"""Cross-cutting hooks (pluggy): specs in :mod:`stratus.hooks.specs`, manager in
:mod:`stratus.hooks.manager`. Plugins mark their implementations with :data:`hookimpl`.
"""

from __future__ import annotations

import pluggy

PROJECT = "stratus"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
