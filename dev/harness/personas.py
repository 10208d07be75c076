"""Who signs in to the local stack: demo users whose tokens the local OIDC issuer mints.

Each persona is a principal (`sub`) and the AWS accounts it may see. The accounts go into
whatever claim the deployed authorizers read (their `ACCOUNTS_CLAIM`); `*` means all accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ALL_ACCOUNTS = "*"


@dataclass(frozen=True)
class Persona:
    name: str
    label: str
    subject: str
    accounts: tuple[str, ...]
    description: str

    def claims(self, accounts_claims: tuple[str, ...]) -> dict[str, Any]:
        """The token claims of this persona, its accounts under each claim name given."""
        return {
            "sub": self.subject,
            "name": self.label,
            **{claim: list(self.accounts) for claim in accounts_claims},
        }

    def describe(self, scoped: bool) -> dict[str, Any]:
        """What a client shows of this persona; not `scoped`, it sees every account."""
        return {
            "name": self.name,
            "label": self.label,
            "principal": self.subject,
            "accounts": list(self.accounts) if scoped else [ALL_ACCOUNTS],
            "description": self.description,
        }


ANALYST = Persona(
    name="analyst",
    label="Security analyst",
    subject="analyst",
    accounts=(ALL_ACCOUNTS,),
    description="the security team: every account's incidents",
)
TENANT = Persona(
    name="tenant",
    label="Tenant 111122223333",
    subject="tenant-111122223333",
    accounts=("111122223333",),
    description="one account's owners: only the incidents of 111122223333",
)
PERSONAS = {persona.name: persona for persona in (ANALYST, TENANT)}
