"""Magic links: an emailed link that signs in (a first factor through the mailbox).

Issuing and using links is `methods/link/flows.py`; this module is what the gate knows of
the method: its proof.
"""

from __future__ import annotations

from authgate.core.factors import EMAIL, Proof


class LinkMethod:
    name = "link"
    first_factor = True
    second_factor = False
    proof = Proof(method="link", amr="email_link", channel=EMAIL)


LINK = LinkMethod()
