"""APIs Nova removed and answers 410 Gone for, whatever the method (clients that probe them
get Nova's answer, not a 404 that reads as a typo)."""

from __future__ import annotations

import falcon

from stratus.api.validation import schema
from stratus.exceptions import Gone


class Removed:
    def __init__(self, what: str) -> None:
        self.what = what

    def _gone(self) -> None:
        raise Gone(f"The {self.what} API was removed from the Compute API; it is gone.")

    @schema("Removed from Nova (410)", responses={410: None})
    def on_get(self, req: falcon.Request, resp: falcon.Response, **_: str) -> None:
        self._gone()

    @schema("Removed from Nova (410)", responses={410: None})
    def on_post(self, req: falcon.Request, resp: falcon.Response, **_: str) -> None:
        self._gone()

    @schema("Removed from Nova (410)", responses={410: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, **_: str) -> None:
        self._gone()
