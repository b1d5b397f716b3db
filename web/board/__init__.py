"""The public notice board (公示栏), no login.

- ``GET /board/``: the notices before the public today: investigation notices (考察预告)
  while their inspection runs, pre-appointment notices (任前公示) within their period.
- ``GET /board/notices/{case_id}``: one notice, only the published fields of each person,
  and during a pre-appointment notice the objection form.
- ``POST /board/notices/{case_id}/objections``: files an objection into the case (update
  ``record_objection``) on the public's behalf and shows its number.

What a notice shows comes from the case workflow's ``public_notice`` query alone
(``PublishedPerson``), so nothing of the inspection can reach a page by accident. Whether an
objection is accepted is the workflow's decision; the board explains its refusal in Chinese.
The board owns what stands between the public and Temporal: a short cache of the notices,
and for the one form anybody may post, limits on size, field lengths and rate, and CSRF.

``routes`` holds the handlers, ``notices`` the query of a case's notice, ``cache`` the
notices cache, ``form`` the objection form, ``pages`` the pages shared by the handlers and
``state`` what the board keeps per application.
"""

from __future__ import annotations

from web.board.routes import router

__all__ = ["router"]
