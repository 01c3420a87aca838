"""ALTCHA challenges, for the widget's `challengeurl` (docs/abuse-protection.md)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from authgate.captcha.altcha import AltchaVerifier
from authgate.errors import not_found
from authgate.http.abuse import guarded
from authgate.http.deps import RuntimeDep
from authgate.http.schemas.captcha import ChallengeOut

router = APIRouter(tags=["captcha"])


@router.get("/captcha/challenge", response_model=ChallengeOut, responses={404: {}}, dependencies=[guarded("captcha")])
async def altcha_challenge(rt: RuntimeDep, response: Response) -> ChallengeOut:
    """A fresh challenge, valid for 10 minutes and usable once; 404 unless AUTHGATE_CAPTCHA_PROVIDER is altcha."""
    if not isinstance(rt.captcha, AltchaVerifier):
        raise not_found("No ALTCHA challenges here: the configured CAPTCHA provider is not altcha.")
    response.headers["Cache-Control"] = "no-store"
    return ChallengeOut(**rt.captcha.challenge())
